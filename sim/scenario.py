"""Scenario files: read, merge (``extends``), override (``--set``), validate, resolve.

What lives here: :class:`Scenario` (a validated scenario with fully resolved
:class:`sim.params.ModelParams`), :func:`load_scenario`, :func:`scenario_from_dict` and
:func:`parse_set`. What does not: the parameters, their defaults and bounds
(``sim.params``), the deterrence rules and their parameters (``sim.rules``), the checks
themselves (``sim.schema``), running a scenario (``sim.run``), loading the documented record
(``calibration``: the caller passes it, ``load_scenario(path, record=documented())``, and the
scenario carries it to replay and figures) and the command line (``sim.commands``).

The file format (TOML; DESIGN.md, "Interfaces")::

    name = "history"                 # default: the file's stem
    description = "the question the scenario asks"
    start = 2019-10-01               # TOML date or "YYYY-MM-DD"; default 2019-10-01
    end = 2024-12-31                 # default 2024-12-31
    seed = 20191227                  # default 0
    extends = "history.toml"         # optional; path relative to this file
    shock_scale = 1.0                # optional
    war_half_life_days = 150.0       # optional
    war_onset_days = 0.0             # optional
    [iran]                           # IranParams fields
    [militias]                       # MilitiaCommon fields, and one sub-table per faction:
    [militias.kataib_hezbollah]      # FactionParams fields; faction in sim.events.FACTIONS
    [weapons.rocket]                 # WeaponParams fields; weapon in sim.params.WEAPON_KEYS
    [sites.al_asad]                  # SiteParams fields; site in sim.params.SITE_DEFAULTS
    [us]                             # rule = "<registered rule>", the rule's own parameters
                                     # inline, and USParams fields
    [[us.periods]]                   # start, rule, that rule's parameters: a rule from a date
    [iraq]                           # IraqParams fields
    [observation]                    # ObservationParams fields: which attacks the record lists
    [[shocks]]                       # date, kind (sim.params.SHOCK_KINDS), size; end (freeze
                                     # only), half_life_days (regional_war only)
    [replay]                         # force (actor kinds), remove (record event_ids),
    [[replay.add]]                   # add: events in the record's columns

Merging and overriding:

* ``extends``: the child overrides its parent key by key; tables merge deeply, arrays
  (``[[shocks]]``, ``[[us.periods]]``, ``replay.force`` ...) are replaced whole, so a child
  that changes one shock restates the others. ``name`` and ``description`` are not
  inherited: they describe the file itself. Chains may be any length; a cycle is an error.
* Rule parameters are inherited (through ``extends``, and kept under ``--set``) only while the
  rule stays the same. When a child, or ``--set us.rule=X``, names a different rule than the
  one in force, the inherited inline rule parameters are dropped, because they belonged to
  the other rule (``level`` means nothing to ``red_line``); so are inherited ``[[us.periods]]``,
  so that "the U.S. follows rule X" holds for the whole window. Before dropping, the
  inherited parameters are still checked against the rule they belonged to, so a typo in a
  parent file does not vanish unseen.
* ``--set KEY=VALUE`` (or ``overrides``) sets one key by its dotted path after ``extends``
  (``us.rule=red_line``, ``militias.kataib_hezbollah.base_attack_rate=0.05``,
  ``end=2021-12-31``); VALUE is read as a TOML value, and as a plain string when it is not
  one (so ``red_line`` needs no quotes). It sets keys, not array items: to change a shock,
  set the whole array (``shocks=[{date=2023-10-07, kind="regional_war", size=1}]``).

Validation. Every number's bounds, and whether it must be whole, come from the field
declarations of ``sim.params`` (``param(default, lo, hi, integer=...)``, and its constants
for shock sizes, ``shock_scale``, the seed and the date range) and from each rule's
``parameters``; none are written here. Unknown keys are errors at any
depth. Every failure is an :class:`sim.errors.InputError` naming the file that holds the bad
value (the parent file for an inherited one, ``--set KEY=VALUE`` for an override), the dotted
field (``shocks[2].kind``) and what is allowed; a misspelt key gets "did you mean ...?"
and a date that is no calendar day (``2023-13-01``) "not a date (YYYY-MM-DD)". Dates must
lie within 2019-01-01..2030-12-31, and a dated input that would never take effect in the
run's ``start``..``end`` (a rule period or shock after ``end``, an added event outside the
window) is an error, unless the window was cut by a later layer than the one that set the
input: ``--set end=2021-12-31`` still cuts ``history.toml`` short, and its 2023 shocks simply
do not happen in that run (:func:`_check_window`).

The checks are the declared models of ``sim.schema`` (pydantic, built from ``sim.params``
and the rule registry); this module reads, merges, overrides, then validates the merged data
there and names the file that set the bad value. ``escalation schema scenario`` prints the
same declarations as a JSON Schema for editors.
"""

from __future__ import annotations

import copy
import os
import re
import tomllib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Callable, Mapping

import pandas as pd

from sim import events as ev
from sim import params as P
from sim.documented import Documented, as_documented
from sim.errors import InputError
from sim.params import (SITE_DEFAULTS, WEAPON_DEFAULTS, WEAPON_KEYS,
                        IranParams, IraqParams, MilitiaCommon, ModelParams,
                        ObservationParams, faction_params,
                        Replay, RulePeriod, Shock, SiteParams, USParams, WeaponParams)
from sim.rules import REGISTRY
# Names kept importable from here (they moved to sim.schema and sim.params).
from sim.schema import (DEFAULT_RULE, REPLAY_ADD_KEYS, REPLAY_FORCEABLE,  # noqa: F401
                        REPLAY_TARGETS, SITE_COUNTRIES, TOP_KEYS, US_FIELDS, show,
                        unknown_rule_key, validate_scenario)
from sim.params import (DEFAULT_SEED, MAX_CASUALTIES, SEED_BOUNDS,  # noqa: F401
                        SHOCK_SCALE_BOUNDS)

#: The scenario library shipped with the package (``scenarios/`` in the repository links
#: here): what ``escalation run history`` and ``load_scenario("history")`` find by name.
LIBRARY = Path(__file__).resolve().parent / "scenarios"
#: Files of the library that hold parameters for others to extend, not a question to run.
PARAMETER_FILES = ("calibrated",)

#: The bounds of sim.params, as dates.
DATE_MIN, DATE_MAX = date.fromisoformat(P.DATE_MIN), date.fromisoformat(P.DATE_MAX)
DEFAULT_START = date.fromisoformat(P.DEFAULT_START)
DEFAULT_END = date.fromisoformat(P.DEFAULT_END)


@dataclass
class Scenario:
    """A validated scenario: its window, seed and fully resolved parameters.

    ``resolved`` is the merged scenario after ``extends`` and ``--set`` as plain data (dates
    as ISO strings, no ``extends``), for manifest.json: ``scenario_from_dict(s.resolved)``
    gives the same parameters back.
    """

    name: str
    description: str
    start: pd.Timestamp
    end: pd.Timestamp
    seed: int
    params: ModelParams
    path: str | None
    resolved: dict
    #: The documented record this scenario was given (``sim.documented.Documented``), for
    #: replay and for figures beside the record; None when the caller gave none.
    record: Documented | None = field(default=None, compare=False, repr=False)
    #: The ``--set`` items (``overrides``) applied after the files, as ``KEY=VALUE``: with
    #: them the run is no longer the file's scenario, and figures say so (:attr:`title`).
    changes: tuple[str, ...] = field(default=(), compare=False)

    @property
    def title(self) -> str:
        """What a figure calls this scenario: its name, and what changed it since its file.

        ``history with us.rule=red_line`` after ``--set``; ``history (parameters changed in
        code)`` when a notebook or the page changed ``params`` after loading. A modified
        scenario is not titled as the file it came from.
        """
        if self.changes:
            return f"{self.name} with {', '.join(self.changes)}"
        try:
            fresh = _params(self.resolved)
        except Exception:          # resolved edited by hand into something invalid
            return f"{self.name} (changed in code)"
        if fresh != self.params:
            return f"{self.name} (parameters changed in code)"
        return self.name

    @property
    def derived(self) -> dict[str, float]:
        """Values that no file or ``--set`` gave but that the model derived from those that
        did: a faction's compliance following its changed alignment
        (``sim.params.derives_compliance``). manifest.json lists them, so that every number a
        run used can be read there."""
        return {f"militias.{faction}.compliance": self.params.factions[faction].compliance
                for faction, given in self.resolved.get("militias", {}).items()
                if isinstance(given, dict) and faction in self.params.factions
                and P.derives_compliance(faction, given)}


# --- Public API ------------------------------------------------------------------------------

def load_scenario(path: str | os.PathLike,
                  overrides: list[str] | Mapping[str, Any] | None = None, *,
                  record: Documented | pd.DataFrame | None = None) -> Scenario:
    """Read a scenario file, follow ``extends``, apply ``overrides`` and validate.

    Args:
        path: a scenario TOML file.
        overrides: ``["us.rule=red_line", ...]`` as given to ``--set``, or a mapping of
            dotted paths to values.
        record: the documented record (``calibration.documented()``, or its events table).
            History replay needs it (``replay.force``, ``replay.remove``, checked against
            it); figures draw it beside the ensemble. Without it, ``replay.remove`` is not
            checked here and a run that replays fails with an error that says so.

    Raises:
        InputError: naming the file (or ``--set KEY=VALUE``), the field and what is allowed.
    """
    shown = os.fspath(scenario_path(path))
    origins: dict[tuple[str, ...], str] = {}
    data = _load_chain(Path(shown), shown, origins, ())
    return _resolve(data, origins, shown, overrides, Path(shown).stem, shown,
                    as_documented(record))


def scenario_path(name_or_path: str | os.PathLike, kind: str = "scenario") -> Path:
    """A scenario (or, with ``kind="sweep"``, a sweep spec) given by path or by name.

    A path that exists is used as it is. Otherwise a bare name (``history``, or
    ``history.toml``) is looked up in the library shipped with the package, so that an
    installed package runs ``escalation run history`` from any folder. Anything else is
    returned unchanged, and reading it then says "no such file".
    """
    path = Path(name_or_path)
    if path.exists() or len(path.parts) != 1:
        return path
    folder = LIBRARY / "sweeps" if kind == "sweep" else LIBRARY
    candidate = folder / (path.name if path.suffix == ".toml" else f"{path.name}.toml")
    return candidate if candidate.is_file() else path


def library(kind: str = "scenario") -> list[tuple[str, Path, str]]:
    """(name, file, description) of each scenario (``kind="sweep"``: each sweep spec) in the
    shipped library, in name order; parameter files (``calibrated``) are left out."""
    folder = LIBRARY / "sweeps" if kind == "sweep" else LIBRARY
    out = []
    for file in sorted(folder.glob("*.toml")):
        if kind == "scenario" and file.stem in PARAMETER_FILES:
            continue
        data = tomllib.loads(file.read_text(encoding="utf-8"))
        out.append((file.stem, file, " ".join(str(data.get("description", "")).split())))
    return out


def scenario_from_dict(data: Mapping[str, Any], file: str = "<dict>",
                       base_dir: str | os.PathLike | None = None,
                       overrides: list[str] | Mapping[str, Any] | None = None, *,
                       record: Documented | pd.DataFrame | None = None) -> Scenario:
    """Validate a scenario given as data (as a TOML file would hold it).

    Args:
        data: the scenario's keys and tables.
        file: what errors name as the file.
        base_dir: where a relative ``extends`` is looked up (default: the current directory).
        overrides, record: as for :func:`load_scenario`.
    """
    if not isinstance(data, Mapping):
        raise InputError(file, None, f"expected a table of scenario keys, got {show(data)}")
    origins: dict[tuple[str, ...], str] = {}
    own = copy.deepcopy(dict(data))
    _mark(origins, (), own, file)
    base = Path(base_dir) if base_dir is not None else Path(".")
    merged = _with_parent(own, file, base, os.fspath(base), origins, ())
    name = Path(file).stem if file != "<dict>" else "scenario"
    return _resolve(merged, origins, file, overrides, name, None, as_documented(record))


def parse_set(items: list[str]) -> dict[str, object]:
    """Parse ``--set`` items ``"a.b.c=VALUE"`` into ``{"a.b.c": value}``.

    VALUE is read as a TOML value (``0.5`` a float, ``2`` an int, ``true`` a bool,
    ``2021-12-31`` a date, ``["us"]`` a list) and kept as a plain string when it is not valid
    TOML (``red_line``). A later item for the same key wins.

    Raises:
        InputError: file ``--set ITEM`` when an item has no ``=`` or its key is not a dotted
            path of names.
    """
    return {key: value for key, value, _text in _parse_set_items(items)}


# --- Reading and merging ---------------------------------------------------------------------

def _read_toml(path: Path, shown: str) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError(shown, None, "no such file") from None
    except IsADirectoryError:
        raise InputError(shown, None, "is a directory, not a scenario file") from None
    except OSError as err:
        raise InputError(shown, None, f"cannot read: {err.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(shown, None, "not UTF-8 text; a scenario is a TOML file") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        message = str(err)
        at = re.search(r"\s*\(at line (\d+), column (\d+)\)$", message)
        bad_date = at and _bad_date(text, int(at.group(1)))
        if bad_date:
            raise InputError(shown, bad_date[0], f"{bad_date[1]} is not a date "
                                                 "(YYYY-MM-DD)") from None
        if at:
            raise InputError(shown, f"line {at.group(1)}",
                             f"{message[:at.start()]} (column {at.group(2)}); "
                             "not valid TOML") from None
        raise InputError(shown, None, f"{message}; not valid TOML") from None


_DATE_LINE = re.compile(r"\s*([A-Za-z0-9_.\"'-]+)\s*=\s*(\d{4}-\d{1,2}-\d{1,2})(?![\d:T])")
_HEADER = re.compile(r"\s*(\[\[?)\s*([A-Za-z0-9_.\"'-]+)\s*\]\]?")


def _bad_date(text: str, line: int) -> tuple[str, str] | None:
    """(dotted field, value) when the TOML parser stopped at ``key = YYYY-MM-DD`` on ``line``
    and the value is no calendar date (``2023-13-01``): the parser's own message ("Expected
    newline ...") does not say so. The field is found from the table headers above it
    (``shocks[1].date``)."""
    lines = text.splitlines()
    if not 1 <= line <= len(lines):
        return None
    m = _DATE_LINE.match(lines[line - 1])
    if not m:
        return None
    try:
        date.fromisoformat(m.group(2))
        return None
    except ValueError:
        pass
    key, table, index = m.group(1).strip("\"'"), "", None
    for previous in reversed(lines[:line - 1]):
        h = _HEADER.match(previous)
        if h:
            table = h.group(2)
            if h.group(1) == "[[":
                index = sum(1 for t in lines[:line - 1] if (g := _HEADER.match(t))
                            and g.group(1) == "[[" and g.group(2) == table) - 1
            break
    prefix = f"{table}[{index}]" if index is not None else table
    return (f"{prefix}.{key}" if prefix else key), m.group(2)


def _load_chain(path: Path, shown: str, origins: dict, stack: tuple[Path, ...]) -> dict:
    """Read ``path`` and the files it extends, merged; ``origins`` records who set what."""
    own = _read_toml(path, shown)
    _mark(origins, (), own, shown)
    return _with_parent(own, shown, path.parent, os.path.dirname(shown), origins,
                        stack + (path.resolve(),))


def _with_parent(own: dict, shown: str, base: Path, shown_base: str, origins: dict,
                 stack: tuple[Path, ...]) -> dict:
    """Merge ``own`` over the scenario it extends (if any)."""
    if "extends" not in own:
        return own
    target = own.pop("extends")
    if not isinstance(target, str) or not target.strip():
        raise InputError(shown, "extends", f"expected a path to a scenario file (relative to "
                                           f"this one), got {show(target)}")
    parent_path = base / target
    parent_shown = os.path.normpath(os.path.join(shown_base, target))
    if parent_path.resolve() in stack:
        chain = " -> ".join([*(p.name for p in stack), parent_path.name])
        raise InputError(shown, "extends", f"extends cycle: {chain}; a scenario cannot "
                                           "extend itself")
    if not parent_path.is_file():
        raise InputError(shown, "extends", f"no such file {parent_shown}")
    parent_origins: dict[tuple[str, ...], str] = {}
    parent = _load_chain(parent_path, parent_shown, parent_origins, stack)
    for key in ("name", "description"):   # they describe the parent file, not this one
        parent.pop(key, None)
        parent_origins.pop((key,), None)
    mine = dict(origins)
    origins.clear()
    origins.update(parent_origins)
    if isinstance(parent.get("us"), dict) and isinstance(own.get("us"), dict) \
            and "rule" in own["us"]:
        parent["us"] = _switch_rule(parent["us"], own["us"]["rule"], origins, shown)
    merged = _merge(parent, own, origins, mine)
    return merged


def _merge(base: dict, top: dict, origins: dict, top_origins: dict,
           prefix: tuple[str, ...] = ()) -> dict:
    """Deep merge of tables; anything else in ``top`` (arrays included) replaces whole."""
    out = dict(base)
    for key, value in top.items():
        path = prefix + (key,)
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value, origins, top_origins, path)
            origins[path] = top_origins.get(path, origins.get(path))
        else:
            _forget(origins, path)
            out[key] = value
            origins.update({p: f for p, f in top_origins.items() if p[:len(path)] == path})
    return out


def _mark(origins: dict, prefix: tuple[str, ...], value: Any, file: str) -> None:
    """Record ``file`` as the origin of ``prefix`` and of every table key under it."""
    if prefix:
        origins[prefix] = file
    if isinstance(value, dict):
        for key, sub in value.items():
            _mark(origins, prefix + (key,), sub, file)


def _forget(origins: dict, path: tuple[str, ...]) -> None:
    for p in [p for p in origins if p[:len(path)] == path]:
        del origins[p]


def _origin(origins: dict, field: str | None, default: str) -> str:
    """The file that set ``field`` (the longest recorded prefix of its table path)."""
    if not field:
        return default
    parts = tuple(field.split("[", 1)[0].split("."))
    for n in range(len(parts), 0, -1):
        if parts[:n] in origins:
            return origins[parts[:n]]
    return default


def _attributed(fn: Callable[[], Any], origins: dict, default: str) -> Any:
    """Run a validation step, naming the file that holds the bad value in its error."""
    try:
        return fn()
    except InputError as err:
        if err.file is not None:
            raise
        raise InputError(_origin(origins, err.field, default), err.field,
                         err.message) from None


def _switch_rule(us: dict, new_rule: Any, origins: dict, default: str) -> dict:
    """``us`` with the rule parameters (and periods) of its rule dropped if the rule changes.

    The dropped keys are first checked against the rule they belonged to.
    """
    old_rule = us.get("rule", DEFAULT_RULE)
    if new_rule == old_rule:
        return us
    dropped = [k for k in us if k not in US_FIELDS or k == "periods"]
    if any(k != "periods" for k in dropped):
        def check() -> None:
            rule = _rule_checked(old_rule)
            for key in dropped:
                if key != "periods" and key not in REGISTRY[rule].parameters:
                    raise InputError(None, f"us.{key}", unknown_rule_key(
                        key, ", ".join(US_FIELDS), rule))
        _attributed(check, origins, default)
    for key in dropped:
        _forget(origins, ("us", key))
    return {k: v for k, v in us.items() if k not in dropped}


# --- --set -----------------------------------------------------------------------------------

_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")


def _parse_set_items(items: list[str]) -> list[tuple[str, Any, str]]:
    out = []
    for item in items:
        text = f"--set {item}"
        if "=" not in item:
            raise InputError(text, item.strip() or None,
                             "expected KEY=VALUE with a dotted KEY, e.g. us.rule=red_line")
        key, raw = (s.strip() for s in item.split("=", 1))
        if not _KEY.fullmatch(key):
            raise InputError(text, key or None, "KEY must be a dotted path of names, e.g. "
                                                "militias.kataib_hezbollah.base_attack_rate; "
                                                "arrays are set whole (shocks=[...])")
        out.append((key, _toml_value(raw), text))
    return out


def _toml_value(raw: str) -> Any:
    """``raw`` read as a TOML value, or the string itself when it is not one."""
    try:
        parsed = tomllib.loads(f"v = {raw}")
    except tomllib.TOMLDecodeError:
        return raw
    return parsed["v"] if list(parsed) == ["v"] else raw


def _overrides(overrides: list[str] | Mapping[str, Any] | None) -> list[tuple[str, Any, str]]:
    if overrides is None:
        return []
    if isinstance(overrides, Mapping):
        out = []
        for key, value in overrides.items():
            text = f"--set {key}={value}"
            if not isinstance(key, str) or not _KEY.fullmatch(key):
                raise InputError(text, str(key), "KEY must be a dotted path of names")
            out.append((key, copy.deepcopy(value), text))
        return out
    if isinstance(overrides, str):
        overrides = [overrides]
    return _parse_set_items(list(overrides))


def _apply_overrides(data: dict, sets: list[tuple[str, Any, str]], origins: dict) -> None:
    """Set each dotted key in ``data``; ``us.rule`` first, so that setting a new rule and its
    parameters together keeps those parameters."""
    for key, value, text in sorted(sets, key=lambda s: s[0] != "us.rule"):
        parts = key.split(".")
        if parts[0] == "extends":
            raise InputError(text, "extends", "cannot be set with --set; write a scenario "
                                              "file that extends the other one")
        if key == "us.rule" and isinstance(data.get("us"), dict):
            data["us"] = _switch_rule(data["us"], value, origins, text)
        node = data
        for i, part in enumerate(parts[:-1]):
            path = tuple(parts[:i + 1])
            if part not in node:
                node[part] = {}
                origins[path] = text
            elif not isinstance(node[part], dict):
                raise InputError(text, ".".join(path),
                                 f"is {show(node[part])}, not a table; cannot set {key}")
            node = node[part]
        _forget(origins, tuple(parts))
        node[parts[-1]] = value
        _mark(origins, tuple(parts), value, text)


# --- Resolution ------------------------------------------------------------------------------

def _resolve(data: dict, origins: dict, file: str, overrides: Any, default_name: str,
             path: str | None, record: Documented | None) -> Scenario:
    sets = _overrides(overrides)
    _apply_overrides(data, sets, origins)
    events = None if record is None else record.events
    clean = _attributed(lambda: _clean_scenario(data, default_name, events), origins, file)
    _check_window(clean, origins, file)
    params = _params(clean)
    if params.replay.force or params.replay.remove:
        params.replay.documented = events     # what build_schedule replays
    return Scenario(name=clean["name"], description=clean["description"],
                    start=pd.Timestamp(clean["start"]), end=pd.Timestamp(clean["end"]),
                    seed=clean["seed"], params=params, path=path, resolved=clean,
                    record=record,
                    changes=tuple(text.removeprefix("--set ") for _k, _v, text in sets))


def _check_window(clean: dict, origins: dict, file: str) -> None:
    """A dated input that would never take effect in the run's window is an error: a rule
    period starting after ``end``, a shock dated after ``end`` (or a freeze over before
    ``start``), an added event outside ``start..end``. Otherwise it would run silently as
    the baseline.

    The exception is a window cut later than the input was written: an input inherited
    from a parent file whose window a child file (or ``--set end=...``) shortened, so that
    ``--set end=2021-12-31`` still cuts ``history.toml`` short and its 2023 shocks simply do
    not happen. The error is raised when the input was set by the same layer as the window
    bound or a later one (parent file < the loaded file < ``--set``).
    """
    start, end = date.fromisoformat(clean["start"]), date.fromisoformat(clean["end"])

    def rank(source: str) -> int:
        return 2 if source.startswith("--set") else 1 if source == file else 0

    def check(field: str, table: tuple[str, ...], day: str | None, bound: str,
              what: str) -> None:
        if day is None:
            return
        d = date.fromisoformat(day)
        outside = d > end if bound == "end" else d < start
        if not outside:
            return
        source = _origin(origins, ".".join(table), file)
        setter = origins.get((bound,))     # None: the default window, set by nobody
        if setter is not None and rank(source) < rank(setter):
            return
        raise InputError(source, field, f"{d} is outside the scenario's window "
                                        f"{start}..{end}; {what}")

    for i, period in enumerate(clean["us"].get("periods") or []):
        check(f"us.periods[{i}].start", ("us", "periods"), period["start"], "end",
              "a rule period starting after the end is never in force")
    for i, shock in enumerate(clean.get("shocks") or []):
        check(f"shocks[{i}].date", ("shocks",), shock["date"], "end",
              "a shock after the end never happens")
        check(f"shocks[{i}].end", ("shocks",), shock.get("end"), "start",
              "a freeze over before the start never happens")
    for i, event in enumerate((clean.get("replay") or {}).get("add") or []):
        for bound in ("start", "end"):
            check(f"replay.add[{i}].date", ("replay", "add"), event["date"], bound,
                  "an added event outside the window never happens")
    check("replay.until", ("replay", "until"), (clean.get("replay") or {}).get("until"),
          "start", "a replay that ends before the start forces nothing")


def _params(clean: dict) -> ModelParams:
    """ModelParams from validated data: the file's values over the defaults of sim.params."""
    militias, weapons, sites = (clean.get(k, {}) for k in ("militias", "weapons", "sites"))
    us = clean["us"]
    rule_parameters = REGISTRY[us["rule"]].parameters
    return ModelParams(
        iran=IranParams(**clean.get("iran", {})),
        militias=MilitiaCommon(**{k: v for k, v in militias.items() if k not in ev.FACTIONS}),
        factions={f: faction_params(f, militias.get(f, {})) for f in ev.FACTIONS},
        weapons={w: WeaponParams(**{**WEAPON_DEFAULTS[w], **weapons.get(w, {})})
                 for w in WEAPON_KEYS},
        sites={s: SiteParams(**{**SITE_DEFAULTS[s], **sites.get(s, {})}) for s in SITE_DEFAULTS},
        us=USParams(
            rule=us["rule"],
            rule_params={k: v for k, v in us.items() if k in rule_parameters},
            periods=[RulePeriod(start=p["start"], rule=p["rule"],
                                params={k: v for k, v in p.items() if k not in ("start", "rule")})
                     for p in us.get("periods", [])],
            **{k: v for k, v in us.items() if k in US_FIELDS and k not in ("rule", "periods")}),
        iraq=IraqParams(**clean.get("iraq", {})),
        observation=ObservationParams(**clean.get("observation", {})),
        shocks=[Shock(**s) for s in clean.get("shocks", [])],
        shock_scale=clean.get("shock_scale", ModelParams.shock_scale),
        war_half_life_days=clean.get("war_half_life_days", ModelParams.war_half_life_days),
        war_onset_days=clean.get("war_onset_days", ModelParams.war_onset_days),
        replay=Replay(**copy.deepcopy(clean.get("replay", {}))),
    )


# --- Validation ------------------------------------------------------------------------------
# The checks themselves are the declared models of sim.schema; errors carry no file,
# _attributed adds the one that set the field.

def _clean_scenario(data: dict, default_name: str, record: pd.DataFrame | None) -> dict:
    """The merged data validated and normalised (numbers typed as declared, dates as ISO
    strings), with the window, seed and rule filled in when the files leave them out."""
    filled = {"name": default_name, "description": "", "start": DEFAULT_START,
              "end": DEFAULT_END, "seed": DEFAULT_SEED, "us": {}, **data}
    return validate_scenario(filled, record)


def _rule_checked(rule: Any) -> str:
    """``rule`` if it names a registered rule; else the error validation would give."""
    if not isinstance(rule, str) or rule not in REGISTRY:
        validate_scenario({"us": {"rule": rule}})
    return rule
