"""Scenario files: read, merge (``extends``), override (``--set``), validate, resolve.

What lives here: :class:`Scenario` (a validated scenario with fully resolved
:class:`sim.params.ModelParams`), :func:`load_scenario`, :func:`scenario_from_dict` and
:func:`parse_set`. What does not: the parameters, their defaults and bounds
(``sim.params``), the deterrence rules and their parameters (``sim.rules``), running a
scenario (``sim.run``) and the command line (``sim.commands``).

The file format (TOML; DESIGN.md, "Interfaces")::

    name = "history"                 # default: the file's stem
    description = "the question the scenario asks"
    start = 2019-10-01               # TOML date or "YYYY-MM-DD"; default 2019-10-01
    end = 2024-12-31                 # default 2024-12-31
    seed = 20191227                  # default 0
    extends = "history.toml"         # optional; path relative to this file
    shock_scale = 1.0                # optional
    [iran]                           # IranParams fields
    [militias]                       # MilitiaCommon fields, and one sub-table per faction:
    [militias.kataib_hezbollah]      # FactionParams fields; faction in sim.events.FACTIONS
    [weapons.rocket]                 # WeaponParams fields; weapon in sim.params.WEAPON_KEYS
    [sites.al_asad]                  # SiteParams fields; site in sim.params.SITE_DEFAULTS
    [us]                             # rule = "<registered rule>", the rule's own parameters
                                     # inline, and USParams fields
    [[us.periods]]                   # start, rule, that rule's parameters: a rule from a date
    [iraq]                           # IraqParams fields
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
field (``shocks[2].kind``) and what is allowed. Shock dates must lie within
2019-01-01..2030-12-31 but may fall outside the run's ``start``..``end``: a shock after
``end`` simply does not happen in that run, so ``--set end=2021-12-31`` can cut
``history.toml`` short.

The validator walks the TOML data with the dataclasses' metadata rather than through pydantic
models generated from it: the keys allowed in ``[us]`` depend on the value of its ``rule``,
and raising the one-line error with the dotted path directly is shorter than translating
pydantic's error locations back into it.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import numbers
import os
import re
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Callable, Mapping

import pandas as pd

from sim import events as ev
from sim.documented import Documented, as_documented
from sim.errors import InputError
from sim import params as P
from sim.params import (DEFAULT_SEED, FACTION_DEFAULTS, MAX_CASUALTIES, SEED_BOUNDS,
                        SHOCK_FIELDS, SHOCK_KINDS, SHOCK_REQUIRED, SHOCK_SCALE_BOUNDS,
                        SHOCK_SIZE_BOUNDS, SITE_DEFAULTS, WEAPON_DEFAULTS, WEAPON_KEYS,
                        FactionParams, IranParams, IraqParams, MilitiaCommon, ModelParams,
                        Replay, RulePeriod, Shock, SiteParams, USParams, WeaponParams)
from sim.rules import REGISTRY, make_rule

#: The bounds of sim.params, as dates.
DATE_MIN, DATE_MAX = date.fromisoformat(P.DATE_MIN), date.fromisoformat(P.DATE_MAX)
DEFAULT_START, DEFAULT_END = date.fromisoformat(P.DEFAULT_START), date.fromisoformat(P.DEFAULT_END)
DEFAULT_RULE: str = USParams.rule  # the dataclass default, "threshold"

TOP_KEYS: tuple[str, ...] = (
    "name", "description", "start", "end", "seed", "extends", "shock_scale",
    "iran", "militias", "weapons", "sites", "us", "iraq", "shocks", "replay")

_HALF_LIFE = {f.name: f for f in dataclasses.fields(Shock)}["half_life_days"].metadata
#: Shock keys by kind, with bounds of their numbers (all from sim.params).
SHOCK_KEYS: dict[str, dict[str, tuple[float, float] | None]] = {
    kind: {key: (SHOCK_SIZE_BOUNDS[kind] if key == "size" else
                 (_HALF_LIFE["lo"], _HALF_LIFE["hi"]) if key == "half_life_days" else None)
           for key in keys}
    for kind, keys in SHOCK_FIELDS.items()}

#: Actor kinds whose documented actions history replay can force (sim.replay.FORCEABLE).
REPLAY_FORCEABLE: tuple[str, ...] = ("us", "militia", "iran", "iraq")
#: Keys of an added event: the record's columns that make sense for a new event.
REPLAY_ADD_KEYS: tuple[str, ...] = (
    "date", "actor", "actor_kind", "action", "target", "weapon", "site", "country",
    "intercepted", *ev.CASUALTY_COLUMNS, "description")
REPLAY_TARGETS: tuple[str, ...] = ev.MILITIA_ACTORS + ("us", "iraq", "iran")
SITE_COUNTRIES: tuple[str, ...] = ("iraq", "syria", "jordan")


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
    shown = os.fspath(path)
    origins: dict[tuple[str, ...], str] = {}
    data = _load_chain(Path(shown), shown, origins, ())
    return _resolve(data, origins, shown, overrides, Path(shown).stem, shown,
                    as_documented(record))


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
        raise InputError(file, None, f"expected a table of scenario keys, got {_show(data)}")
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
        if at:
            raise InputError(shown, f"line {at.group(1)}",
                             f"{message[:at.start()]} (column {at.group(2)}); "
                             "not valid TOML") from None
        raise InputError(shown, None, f"{message}; not valid TOML") from None


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
                                           f"this one), got {_show(target)}")
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
    dropped = [k for k in us if k not in _US_FIELDS or k == "periods"]
    if any(k != "periods" for k in dropped):
        def check() -> None:
            rule = _rule_name(old_rule, "us.rule")
            for key in dropped:
                if key != "periods" and key not in REGISTRY[rule].parameters:
                    raise InputError(None, f"us.{key}", _unknown_us_key(rule))
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
                                 f"is {_show(node[part])}, not a table; cannot set {key}")
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
    params = _params(clean)
    if params.replay.force or params.replay.remove:
        params.replay.documented = events     # what build_schedule replays
    return Scenario(name=clean["name"], description=clean["description"],
                    start=pd.Timestamp(clean["start"]), end=pd.Timestamp(clean["end"]),
                    seed=clean["seed"], params=params, path=path, resolved=clean,
                    record=record)


def _params(clean: dict) -> ModelParams:
    """ModelParams from validated data: the file's values over the defaults of sim.params."""
    militias, weapons, sites = (clean.get(k, {}) for k in ("militias", "weapons", "sites"))
    us = clean["us"]
    rule_parameters = REGISTRY[us["rule"]].parameters
    return ModelParams(
        iran=IranParams(**clean.get("iran", {})),
        militias=MilitiaCommon(**{k: v for k, v in militias.items() if k not in ev.FACTIONS}),
        factions={f: FactionParams(**{**FACTION_DEFAULTS[f], **militias.get(f, {})})
                  for f in ev.FACTIONS},
        weapons={w: WeaponParams(**{**WEAPON_DEFAULTS[w], **weapons.get(w, {})})
                 for w in WEAPON_KEYS},
        sites={s: SiteParams(**{**SITE_DEFAULTS[s], **sites.get(s, {})}) for s in SITE_DEFAULTS},
        us=USParams(
            rule=us["rule"],
            rule_params={k: v for k, v in us.items() if k in rule_parameters},
            periods=[RulePeriod(start=p["start"], rule=p["rule"],
                                params={k: v for k, v in p.items() if k not in ("start", "rule")})
                     for p in us.get("periods", [])],
            **{k: v for k, v in us.items() if k in _fields(USParams) and k != "rule"}),
        iraq=IraqParams(**clean.get("iraq", {})),
        shocks=[Shock(**s) for s in clean.get("shocks", [])],
        shock_scale=clean.get("shock_scale", ModelParams.shock_scale),
        replay=Replay(**copy.deepcopy(clean.get("replay", {}))),
    )


# --- Validation ------------------------------------------------------------------------------
# Each _clean_* function checks one part and returns it normalized (numbers typed as declared,
# dates as ISO strings); errors carry no file, _attributed adds it.

def _fields(cls: type) -> dict[str, dataclasses.Field]:
    """The declared parameters of a params dataclass (those made with ``param``)."""
    return {f.name: f for f in dataclasses.fields(cls) if "doc" in f.metadata}


_US_FIELDS: tuple[str, ...] = (*_fields(USParams), "periods")


def _clean_scenario(data: dict, default_name: str, record: pd.DataFrame | None) -> dict:
    _no_unknown(data, TOP_KEYS, "")
    out: dict[str, Any] = {
        "name": _string(data.get("name", default_name), "name", allow_empty=False),
        "description": _string(data.get("description", ""), "description"),
    }
    start = _in_range(_date(data.get("start", DEFAULT_START), "start"), "start")
    end = _in_range(_date(data.get("end", DEFAULT_END), "end"), "end")
    if end < start:
        raise InputError(None, "end", f"end {end} is before start {start}")
    out["start"], out["end"] = start.isoformat(), end.isoformat()
    out["seed"] = _number(data.get("seed", DEFAULT_SEED), "seed", *SEED_BOUNDS, integer=True)
    if "shock_scale" in data:
        out["shock_scale"] = _number(data["shock_scale"], "shock_scale", *SHOCK_SCALE_BOUNDS)
    for key, cls in (("iran", IranParams), ("iraq", IraqParams)):
        if key in data:
            out[key] = _clean_fields(_table(data[key], key), cls, key)
    if "militias" in data:
        out["militias"] = _clean_militias(_table(data["militias"], "militias"))
    if "weapons" in data:
        out["weapons"] = _clean_keyed(data["weapons"], "weapons", "weapon", WEAPON_KEYS,
                                      WeaponParams)
    if "sites" in data:
        out["sites"] = _clean_keyed(data["sites"], "sites", "site", tuple(SITE_DEFAULTS),
                                    SiteParams)
    out["us"] = _clean_us(_table(data.get("us", {}), "us"))
    if "shocks" in data:
        out["shocks"] = [_clean_shock(s, f"shocks[{i}]")
                         for i, s in enumerate(_array_of_tables(data["shocks"], "shocks"))]
    if "replay" in data:
        out["replay"] = _clean_replay(_table(data["replay"], "replay"), record)
    return out


def _clean_fields(table: dict, cls: type, path: str) -> dict:
    """Check a table whose keys are the declared fields of ``cls``."""
    fields = _fields(cls)
    _no_unknown(table, tuple(fields), path)
    return {key: _field_value(value, fields[key], cls, f"{path}.{key}")
            for key, value in table.items()}


def _field_value(value: Any, f: dataclasses.Field, cls: type, path: str) -> Any:
    meta = f.metadata
    if isinstance(f.default, str):
        if cls is SiteParams and f.name == "country":
            return _choice(value, SITE_COUNTRIES, path)
        if cls is SiteParams and f.name == "until":
            text = _string(value, path)
            return text and _date(text, path).isoformat()
        if cls is USParams and f.name == "rule":
            return _rule_name(value, path)
        return _string(value, path)
    return _number(value, path, meta["lo"], meta["hi"], integer=meta["integer"])


def _clean_militias(table: dict) -> dict:
    common = _fields(MilitiaCommon)
    out: dict[str, Any] = {}
    for key, value in table.items():
        path = f"militias.{key}"
        if key in common:
            out[key] = _field_value(value, common[key], MilitiaCommon, path)
        elif key in ev.FACTIONS:
            out[key] = _clean_fields(_table(value, path), FactionParams, path)
        elif isinstance(value, dict):
            raise InputError(None, path, f"unknown faction {key!r}; known: "
                                         f"{', '.join(ev.FACTIONS)}")
        else:
            raise InputError(None, path, f"unknown key; allowed: {', '.join(common)}, or a "
                                         f"faction table: {', '.join(ev.FACTIONS)}")
    return out


def _clean_keyed(value: Any, path: str, what: str, known: tuple[str, ...], cls: type) -> dict:
    """A table of sub-tables keyed by a known name (weapons, sites)."""
    out = {}
    for key, sub in _table(value, path).items():
        if key not in known:
            raise InputError(None, f"{path}.{key}", f"unknown {what} {key!r}; known: "
                                                    f"{', '.join(known)}")
        out[key] = _clean_fields(_table(sub, f"{path}.{key}"), cls, f"{path}.{key}")
    return out


def _unknown_us_key(rule: str) -> str:
    params = ", ".join(REGISTRY[rule].parameters) or "none"
    return (f"unknown key; allowed: {', '.join(_US_FIELDS)}, and the parameters of "
            f"rule {rule!r}: {params}")


def _clean_us(table: dict) -> dict:
    fields = _fields(USParams)
    rule = _rule_name(table.get("rule", DEFAULT_RULE), "us.rule")
    out: dict[str, Any] = {"rule": rule}
    for key, value in table.items():
        path = f"us.{key}"
        if key == "rule":
            continue
        if key == "periods":
            out[key] = _clean_periods(value)
        elif key in fields:
            out[key] = _field_value(value, fields[key], USParams, path)
        else:
            out[key] = _rule_param(rule, key, value, path, _unknown_us_key(rule))
    return out


def _rule_param(rule: str, key: str, value: Any, path: str, unknown: str) -> float:
    spec = REGISTRY[rule].parameters.get(key)
    if spec is None:
        owners = [name for name, cls in sorted(REGISTRY.items()) if key in cls.parameters]
        hint = f" ({key!r} is a parameter of {', '.join(owners)})" if owners else ""
        raise InputError(None, path, unknown + hint)
    _default, lo, hi, _doc = spec
    return _number(value, path, lo, hi)


def _clean_periods(value: Any) -> list[dict]:
    out, seen = [], {}
    for i, period in enumerate(_array_of_tables(value, "us.periods")):
        path = f"us.periods[{i}]"
        for key in ("start", "rule"):
            if key not in period:
                raise InputError(None, f"{path}.{key}", "required: each period has a start "
                                                        "date and a rule")
        start = _in_range(_date(period["start"], f"{path}.start"), f"{path}.start").isoformat()
        if start in seen:
            raise InputError(None, f"{path}.start", f"{start} repeats us.periods[{seen[start]}]"
                                                    "; one rule per start date")
        seen[start] = i
        rule = _rule_name(period["rule"], f"{path}.rule")
        params = REGISTRY[rule].parameters
        unknown = (f"unknown key; allowed: start, rule, and the parameters of rule {rule!r}: "
                   f"{', '.join(params) or 'none'}")
        clean = {"start": start, "rule": rule}
        for key, v in period.items():
            if key not in ("start", "rule"):
                clean[key] = _rule_param(rule, key, v, f"{path}.{key}", unknown)
        out.append(clean)
    return out


def _clean_shock(shock: dict, path: str) -> dict:
    kind = shock.get("kind")
    if kind is None:
        raise InputError(None, f"{path}.kind", f"required; one of {', '.join(SHOCK_KINDS)}")
    kind = _choice(kind, tuple(SHOCK_KINDS), f"{path}.kind", what="shock kind")
    allowed = SHOCK_KEYS[kind]
    for key in shock:
        if key not in allowed:
            raise InputError(None, f"{path}.{key}", f"unknown key for a {kind!r} shock; "
                                                    f"allowed: {', '.join(allowed)}")
    for key in SHOCK_REQUIRED:
        if key not in shock:
            raise InputError(None, f"{path}.{key}", f"required; a shock has "
                                                    f"{', '.join(SHOCK_REQUIRED)}")
    day = _in_range(_date(shock["date"], f"{path}.date"), f"{path}.date")
    out: dict[str, Any] = {"date": day.isoformat(), "kind": kind,
                           "size": _number(shock["size"], f"{path}.size", *allowed["size"])}
    if "end" in shock:
        end = _in_range(_date(shock["end"], f"{path}.end"), f"{path}.end")
        if end < day:
            raise InputError(None, f"{path}.end", f"end {end} is before the shock's date {day}")
        out["end"] = end.isoformat()
    if "half_life_days" in shock:
        out["half_life_days"] = _number(shock["half_life_days"], f"{path}.half_life_days",
                                        *allowed["half_life_days"])
    return out


def _clean_replay(table: dict, record: pd.DataFrame | None) -> dict:
    _no_unknown(table, ("force", "remove", "add"), "replay")
    out: dict[str, Any] = {}
    if "force" in table:
        out["force"] = [_choice(k, REPLAY_FORCEABLE, f"replay.force[{i}]", what="actor kind")
                        for i, k in enumerate(_array(table["force"], "replay.force"))]
    if "remove" in table:
        out["remove"] = [_string(e, f"replay.remove[{i}]", allow_empty=False)
                         for i, e in enumerate(_array(table["remove"], "replay.remove"))]
        _check_removed(out["remove"], out.get("force", []), record)
    if "add" in table:
        out["add"] = [_clean_added(e, f"replay.add[{i}]")
                      for i, e in enumerate(_array_of_tables(table["add"], "replay.add"))]
    return out


def _check_removed(ids: list[str], force: list[str], record: pd.DataFrame | None) -> None:
    """Removed events must be documented, and of an actor kind the replay forces (the
    record's events happen only for forced kinds, so removing another changes nothing)."""
    if record is None:     # no record given: nothing to check against (the run will say so)
        return
    kinds = dict(zip(record["event_id"].astype(str), record["actor_kind"].astype(str)))
    for i, event_id in enumerate(ids):
        if event_id not in kinds:
            close = [k for k in kinds if event_id[:10] and k.startswith(event_id[:10])]
            hint = f"; on that date: {', '.join(close)}" if close else ""
            raise InputError(None, f"replay.remove[{i}]",
                             f"no documented event {event_id!r} in the record{hint}")
        if kinds[event_id] not in force:
            raise InputError(None, f"replay.remove[{i}]",
                             f"{event_id!r} is a {kinds[event_id]} event, but replay.force "
                             f"does not force {kinds[event_id]!r}; removing it changes nothing")


def _clean_added(event: dict, path: str) -> dict:
    for key in event:
        if key not in REPLAY_ADD_KEYS:
            raise InputError(None, f"{path}.{key}", f"unknown key; an added event has "
                                                    f"{', '.join(REPLAY_ADD_KEYS)}")
    for key in ("date", "actor_kind", "action"):
        if key not in event:
            raise InputError(None, f"{path}.{key}", "required; an added event needs at least "
                                                    "date, actor_kind and action")
    out: dict[str, Any] = {}
    out["date"] = _in_range(_date(event["date"], f"{path}.date"), f"{path}.date").isoformat()
    kind = _choice(event["actor_kind"], ev.ACTOR_KINDS, f"{path}.actor_kind", what="actor kind")
    if kind == "militia":
        if "actor" not in event:
            raise InputError(None, f"{path}.actor", "required for a militia event; one of "
                                                    f"{', '.join(ev.MILITIA_ACTORS)}")
        actor = _choice(event["actor"], ev.MILITIA_ACTORS, f"{path}.actor", what="militia")
    else:
        actor = _choice(event.get("actor", kind), (kind,), f"{path}.actor", what="actor")
    out["actor"], out["actor_kind"] = actor, kind
    out["action"] = _choice(event["action"], ev.ACTIONS[kind], f"{path}.action",
                            what=f"action of a {kind} actor")
    choices = {"target": ("",) + REPLAY_TARGETS, "weapon": ev.WEAPONS,
               "site": ("",) + tuple(SITE_DEFAULTS), "country": ev.COUNTRIES}
    for key, allowed in choices.items():
        if key in event:
            out[key] = _choice(event[key], allowed, f"{path}.{key}", what=key)
    if "intercepted" in event:
        if not isinstance(event["intercepted"], bool):
            raise InputError(None, f"{path}.intercepted",
                             f"expected true or false, got {_show(event['intercepted'])}")
        out["intercepted"] = event["intercepted"]
    for key in ev.CASUALTY_COLUMNS:
        if key in event:
            out[key] = _number(event[key], f"{path}.{key}", 0, MAX_CASUALTIES, integer=True)
    if "description" in event:
        out["description"] = _string(event["description"], f"{path}.description")
    return out


# --- Value checks ----------------------------------------------------------------------------

def _show(value: Any) -> str:
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, dict):
        return "a table"
    return str(value)


def _fmt(x: float | None) -> str:
    if x is None:
        return "..."
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e15 else repr(float(x))


def _no_unknown(table: dict, allowed: tuple[str, ...], path: str) -> None:
    for key in table:
        if key not in allowed:
            raise InputError(None, f"{path}.{key}" if path else key,
                             f"unknown key; allowed: {', '.join(allowed)}")


def _table(value: Any, path: str) -> dict:
    if not isinstance(value, dict):
        raise InputError(None, path, f"expected a table ([{path}]), got {_show(value)}")
    return value


def _array(value: Any, path: str) -> list:
    if not isinstance(value, list):
        raise InputError(None, path, f"expected an array ([...]), got {_show(value)}")
    return value


def _array_of_tables(value: Any, path: str) -> list[dict]:
    items = _array(value, path) if not isinstance(value, dict) else None
    if items is None or not all(isinstance(v, dict) for v in items):
        raise InputError(None, path, f"expected an array of tables ([[{path}]]), "
                                     f"got {_show(value)}")
    return items


def _string(value: Any, path: str, allow_empty: bool = True) -> str:
    if not isinstance(value, str):
        raise InputError(None, path, f"expected a string, got {_show(value)}")
    if not allow_empty and not value.strip():
        raise InputError(None, path, "must not be empty")
    return value


def _choice(value: Any, allowed: tuple[str, ...], path: str, what: str = "value") -> str:
    shown = ", ".join(repr(a) if not a else a for a in allowed)
    if not isinstance(value, str) or value not in allowed:
        raise InputError(None, path, f"unknown {what} {_show(value)}; known: {shown}")
    return value


def _rule_name(value: Any, path: str) -> str:
    if not isinstance(value, str):
        raise InputError(None, path, f"expected a rule name (string), got {_show(value)}; "
                                     f"known rules: {', '.join(sorted(REGISTRY))}")
    make_rule(value, where=path)   # raises "unknown rule ...; known rules: ..."
    return value


def _number(value: Any, path: str, lo: float | None, hi: float | None,
            integer: bool = False) -> int | float:
    """A number within [lo, hi]; a whole one (returned as int) if ``integer``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InputError(None, path, f"expected {'a whole number' if integer else 'a number'}"
                                     f", got {_show(value)}")
    if integer:
        if not isinstance(value, numbers.Integral):
            if not math.isfinite(value) or not float(value).is_integer():
                raise InputError(None, path, f"expected a whole number, got {_show(value)}")
        number: int | float = int(value)
    else:
        number = float(value)
    if math.isnan(number) or (lo is not None and number < lo) or (hi is not None and number > hi):
        raise InputError(None, path, f"{_show(value)} is outside [{_fmt(lo)}, {_fmt(hi)}]")
    return number


def _date(value: Any, path: str) -> date:
    if isinstance(value, datetime):
        if value.time() != datetime.min.time() or value.tzinfo is not None:
            raise InputError(None, path, f"expected a date (YYYY-MM-DD) without a time, "
                                         f"got {value.isoformat()}")
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise InputError(None, path, f"expected a date (YYYY-MM-DD), got {_show(value)}")


def _in_range(day: date, path: str) -> date:
    if not DATE_MIN <= day <= DATE_MAX:
        raise InputError(None, path, f"{day} is outside {DATE_MIN}..{DATE_MAX}")
    return day
