"""Step 1 of a sweep: read and validate its spec (``scenarios/sweeps/*.toml``).

What lives here: :func:`load_spec` and :func:`spec_from_dict` (the spec's keys checked by the
declared model ``sim.schema.sweep_model``; what each varied path means and its bounds checked
here against ``sim.params`` and the rule in force), :class:`SweepSpec`, :class:`Parameter`
and :class:`Group`. What does not: drawing the design (``sim.sweep.design``), running it
(``sim.sweep.execution``).

Spec format (TOML, pure data)::

    name = "red_line_size"            # default: the file's stem; names the result folder
    description = "the question the sweep asks"
    scenario = "../history.toml"      # base scenario, relative to this file (required)
    seed = 7                          # default: the base scenario's seed
    replicates = 20                   # runs per design point (default 10)
    design = "grid"                   # grid | lhs | sobol | saltelli | morris (required)
    samples = 64                      # sampled designs only: lhs points; sobol 2^m points;
                                      # saltelli N (N*(2D+2) points, N*(D+2) without second
                                      # order); morris N trajectories (N*(D+1) points)
    second_order = true               # saltelli only (default: true when D >= 2)
    levels = 4                        # morris only: grid levels (default 4)
    metrics = ["us_killed", "us_left_iraq"]   # subset of sim.dynamics.SUMMARY_COLUMNS
    [set]                             # fixed overrides of the base scenario, as --set
    "us.rule" = "red_line"
    [parameters."us.deaths"]          # a varied parameter, by dotted path
    values = [1, 2, 3, 5]             # grid: the values (strings for categorical paths)
    [parameters."us.size"]
    bounds = [1, 4]                   # sampled: uniform within bounds, or
    distribution = "truncnorm"        #   a scipy.stats distribution with its arguments
    a = -2                            #   (loc, scale and its shape names), its ppf applied
    b = 2                             #   to the unit-cube sample; with bounds it is
    loc = 2                           #   truncated to them
    integer = false                   # default: as sim.params declares the parameter
    role = "lever"                    # lever | uncertainty (default: lever for us.*)

Paths are those of ``sim.params`` (``describe(ModelParams())`` lists them with bounds, by the
names scenario files use: ``militias.<f>.<param>`` for a faction's), the
rule parameters of the rule in force as ``us.<param>`` (``us.deaths`` for ``red_line``) or
``us.periods.<i>.<param>``, and ``shock_scale``. Categorical paths (``us.rule``, a site's
``country``/``until``) may be varied in grids only; each of their combinations is a group of
runs with its own scenario, and groups never share a batch. Bounds must lie within the
declared ones; everything is checked before anything is written, and every problem is an
:class:`~sim.errors.InputError` naming the spec file and the field.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import math
import numbers
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from sim.errors import InputError
from sim.schema import (DEFAULT_LEVELS, DEFAULT_REPLICATES, DESIGNS, PARAM_KEYS,  # noqa: F401
                        ROLES, validate_sweep)


SPEC_KEYS = ("name", "description", "scenario", "seed", "replicates", "design", "samples",
             "second_order", "levels", "metrics", "set", "parameters")


MAX_POINTS = 10_000_000


_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


@dataclass(frozen=True)
class Parameter:
    """One varied parameter: where it lives, what it is, and its values or distribution.

    ``kind`` is ``real``, ``integer`` or ``categorical``; ``bounds`` are the sampled range (or
    the truncation of ``distribution``); ``declared`` are the bounds sim.params declares.
    """

    path: str
    kind: str
    role: str
    values: tuple | None = None
    bounds: tuple[float, float] | None = None
    distribution: str | None = None
    dist_args: tuple[tuple[str, float], ...] = ()
    declared: tuple[float | None, float | None] = (None, None)

    @property
    def categorical(self) -> bool:
        return self.kind == "categorical"

    def frozen(self):
        """The frozen scipy.stats distribution, or None."""
        if self.distribution is None:
            return None
        import scipy.stats
        return getattr(scipy.stats, self.distribution)(**dict(self.dist_args))

    def from_unit(self, u: np.ndarray) -> np.ndarray:
        """Map unit-cube coordinates to values: uniform within bounds, or the (truncated)
        distribution's ppf; integer parameters take each whole value with equal chance."""
        u = np.asarray(u, dtype=float)
        dist = self.frozen()
        if dist is not None:
            if self.bounds is not None:
                lo, hi = dist.cdf(self.bounds[0]), dist.cdf(self.bounds[1])
                x = dist.ppf(lo + u * (hi - lo))
                x = np.clip(x, *self.bounds)
            else:
                x = dist.ppf(u)
            return np.rint(x).astype(np.int64) if self.kind == "integer" else x
        lo, hi = self.bounds
        if self.kind == "integer":
            return np.minimum(np.floor(lo + u * (hi - lo + 1)), hi).astype(np.int64)
        return lo + u * (hi - lo)

    def describe(self) -> dict[str, Any]:
        d: dict[str, Any] = {"path": self.path, "kind": self.kind, "role": self.role}
        if self.values is not None:
            d["values"] = list(self.values)
        if self.bounds is not None:
            d["bounds"] = list(self.bounds)
        if self.distribution is not None:
            d["distribution"] = self.distribution
            d.update(dict(self.dist_args))
        d["declared_bounds"] = list(self.declared)
        return d


@dataclass
class SweepSpec:
    """A validated sweep spec with its base scenario loaded (``scenario``: [set] applied)."""

    name: str
    description: str
    file: str
    scenario_file: str
    scenario: Any
    seed: int
    replicates: int
    design: str
    samples: int | None
    metrics: tuple[str, ...]
    set: dict[str, Any]
    parameters: tuple[Parameter, ...]
    second_order: bool = False
    levels: int = DEFAULT_LEVELS
    groups: list["Group"] = field(default_factory=list)

    def resolved(self) -> dict[str, Any]:
        """The spec as plain data with defaults filled and the base scenario resolved; what
        ``spec.json`` hashes (no absolute paths, so a moved folder still resumes)."""
        return {
            "name": self.name, "description": self.description,
            "scenario": {"file": self.scenario_file, "resolved": self.scenario.resolved},
            "seed": self.seed, "replicates": self.replicates, "design": self.design,
            "samples": self.samples, "second_order": self.second_order, "levels": self.levels,
            "metrics": list(self.metrics), "set": _plain(self.set),
            "parameters": [p.describe() for p in self.parameters],
        }

    def hash(self) -> str:
        return _digest(json.dumps(self.resolved(), sort_keys=True, default=str).encode())


@dataclass
class Group:
    """Runs sharing one scenario: one combination of the categorical parameters."""

    values: dict[str, Any]
    params: Any            # sim.params.ModelParams
    point_lo: int = 0
    point_hi: int = 0


def load_spec(path: str | os.PathLike, *, record: Any = None) -> SweepSpec:
    """Read and validate a sweep spec TOML file (see the module docstring).

    ``record`` (the documented record, ``calibration.documented()``) is given to the base
    scenario; only a scenario that replays history needs it."""
    shown = os.fspath(path)
    p = Path(shown)
    try:
        text = p.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise InputError(shown, None, "no such sweep spec file") from None
    except IsADirectoryError:
        raise InputError(shown, None, "is a directory, not a sweep spec (TOML file)") from None
    except UnicodeDecodeError:
        raise InputError(shown, None, "not UTF-8 text; a sweep spec is a TOML file") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise InputError(shown, None, f"{err}; not valid TOML") from None
    return spec_from_dict(data, shown, p.parent, default_name=p.stem, record=record)


def spec_from_dict(data: dict, file: str = "<dict>", base_dir: str | os.PathLike = ".",
                   default_name: str = "sweep", *, record: Any = None) -> SweepSpec:
    """Validate a spec given as data; ``scenario`` is looked up relative to ``base_dir``."""
    from sim.scenario import load_scenario as load

    def load_scenario(path, overrides=None):
        return load(path, overrides, record=record)

    def bad(fld: str | None, message: str) -> InputError:
        return InputError(file, fld, message)

    if not isinstance(data, dict):
        raise bad(None, "expected a table of sweep keys")
    try:
        keys = validate_sweep(data)        # the declared shape: sim.schema.sweep_model
    except InputError as err:
        raise bad(err.field, err.message) from None
    name = keys["name"] or default_name
    if not _NAME.fullmatch(name):
        raise bad("name", f"expected a name of letters, digits, '_', '-', '.', got {name!r}")
    description, design, scen = keys["description"], keys["design"], keys["scenario"]
    scen_path = Path(base_dir) / scen
    scen_shown = os.path.normpath(os.path.join(os.fspath(base_dir), scen))
    if not scen_path.is_file():
        raise bad("scenario", f"no such scenario file {scen_shown}")

    fixed = _flatten(keys["set"], file, "set")
    base = load_scenario(scen_shown)         # errors in the scenario name its file
    try:
        scenario = load_scenario(scen_shown, fixed or None)
    except InputError as err:
        raise _relabel(err, file, "set") from None

    seed = scenario.seed if keys["seed"] is None else keys["seed"]
    replicates, metrics, samples = keys["replicates"], keys["metrics"], keys["samples"]

    raw_params = _param_tables(keys["parameters"], file)
    second_order = keys["second_order"]
    if second_order is None:
        second_order = len(raw_params) >= 2
    if design == "saltelli" and second_order and len(raw_params) < 2:
        raise bad("second_order", "second-order indices need at least two parameters")
    levels = keys["levels"]

    declared = _declared(scenario.params)
    for path in raw_params:
        if path in fixed:
            raise bad(f"parameters.{path}", "is also fixed in [set]; vary it or fix it")
    # Categorical parameters first: which numeric paths exist (a rule's parameters) can
    # depend on their values; each group is checked exactly in _groups.
    cats = {path: _parameter(path, table, design, declared, file)
            for path, table in raw_params.items()
            if declared.get(path, ("",))[0] == "categorical"}
    if cats:
        declared = dict(declared)
        for combo in itertools.product(*[p.values for p in cats.values()]):
            values = dict(zip(cats, combo))
            try:
                group = load_scenario(scen_shown, {**fixed, **values})
            except InputError as err:
                bad_path = next((k for k in values if k == err.field), next(iter(values)))
                raise _relabel(err, file, f"parameters.{bad_path}.values", inner=False) \
                    from None
            for key, value in _declared(group.params).items():
                declared.setdefault(key, value)
    params = [cats[path] if path in cats else _parameter(path, table, design, declared, file)
              for path, table in raw_params.items()]

    spec = SweepSpec(name=name, description=description, file=file, scenario_file=scen,
                     scenario=scenario, seed=int(seed), replicates=int(replicates),
                     design=design, samples=None if samples is None else int(samples),
                     metrics=tuple(metrics), set=fixed, parameters=tuple(params),
                     second_order=bool(second_order and design == "saltelli"),
                     levels=int(levels))
    spec.groups = _groups(spec, base)
    return spec


def _parameter(path: str, table: dict, design: str, declared: dict, file: str) -> Parameter:
    fld = f"parameters.{path}"

    def bad(message: str, sub: str | None = None) -> InputError:
        return InputError(file, f"{fld}.{sub}" if sub else fld, message)

    if path not in declared:
        raise bad(f"unknown parameter path; see `sim.params.describe(ModelParams())` for the "
                  f"paths (factions as militias.<faction>.<param>), "
                  f"rule parameters are us.<param> of the rule in force ({_rule_hint(declared)})")
    kind0, lo, hi = declared[path]
    dist_name = table.get("distribution")
    allowed = list(PARAM_KEYS)
    shapes: list[str] = []
    if dist_name is not None:
        import scipy.stats
        dist = getattr(scipy.stats, dist_name, None) if isinstance(dist_name, str) else None
        if not isinstance(dist, scipy.stats.rv_continuous):
            raise bad(f"unknown distribution {dist_name!r}; a continuous scipy.stats "
                      "distribution such as uniform, norm, truncnorm, triang, beta, lognorm",
                      "distribution")
        shapes = [s.strip() for s in (dist.shapes or "").split(",") if s.strip()]
        allowed += ["loc", "scale", *shapes]
    for key in table:
        if key not in allowed:
            raise bad(f"unknown key; allowed: {', '.join(allowed)}", key)

    role = table.get("role", "lever" if path.startswith("us.") else "uncertainty")
    if role not in ROLES:
        raise bad(f"expected one of {', '.join(ROLES)}, got {role!r}", "role")

    integer = table.get("integer", kind0 == "integer")
    if not isinstance(integer, bool):
        raise bad("expected true or false", "integer")
    if kind0 == "integer" and not integer:
        raise bad("sim.params declares this parameter whole; integer = false is not allowed",
                  "integer")
    kind = "categorical" if kind0 == "categorical" else ("integer" if integer else "real")

    if design == "grid":
        for key in ("bounds", "distribution"):
            if key in table:
                raise bad("grids take values, not bounds or distributions", key)
        values = table.get("values")
        if not isinstance(values, list) or not values:
            raise bad("missing; a grid needs values = [...] for each parameter", "values")
        if len({repr(v) for v in values}) != len(values):
            raise bad("a value is listed twice", "values")
        if kind == "categorical":
            if not all(isinstance(v, str) for v in values):
                raise bad("expected strings (a categorical parameter)", "values")
            vals = tuple(values)
        else:
            vals = tuple(_check_number(v, lo, hi, kind == "integer",
                                       lambda m: bad(m, "values")) for v in values)
        return Parameter(path, kind, role, values=vals, declared=(lo, hi))

    if kind == "categorical":
        raise bad(f"categorical parameters can be varied in grids only, not in {design} "
                  "designs")
    if "values" in table:
        raise bad(f"{design} designs take bounds or a distribution, not values (grid only)",
                  "values")
    bounds = None
    if "bounds" in table:
        b = table["bounds"]
        if not (isinstance(b, list) and len(b) == 2):
            raise bad("expected [low, high]", "bounds")
        b = tuple(_check_number(v, lo, hi, kind == "integer", lambda m: bad(m, "bounds"))
                  for v in b)
        if not b[0] < b[1]:
            raise bad(f"low {b[0]} must be below high {b[1]}", "bounds")
        bounds = b
    if dist_name is None:
        if bounds is None:
            raise bad(f"missing; {design} designs need bounds = [low, high] or a "
                      "distribution", "bounds")
        return Parameter(path, kind, role, bounds=bounds, declared=(lo, hi))

    args = {}
    for key in ["loc", "scale", *shapes]:
        if key in table:
            v = table[key]
            if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v):
                raise bad(f"expected a number, got {v!r}", key)
            args[key] = float(v)
    missing = [s for s in shapes if s not in args]
    if missing:
        raise bad(f"distribution {dist_name!r} needs its shape parameter(s) "
                  f"{', '.join(missing)}", missing[0])
    param = Parameter(path, kind, role, bounds=bounds, distribution=dist_name,
                      dist_args=tuple(sorted(args.items())), declared=(lo, hi))
    try:
        frozen = param.frozen()
        s_lo, s_hi = (float(x) for x in frozen.support())
    except Exception as err:  # scipy raises various errors for invalid arguments
        raise bad(f"invalid arguments for {dist_name!r}: {err}", "distribution") from None
    if not (np.isfinite(s_lo) or np.isfinite(s_hi)) and np.isnan(s_lo):
        raise bad(f"invalid arguments for {dist_name!r}", "distribution")
    if bounds is not None:
        mass = float(frozen.cdf(bounds[1]) - frozen.cdf(bounds[0]))
        if not mass > 1e-9:
            raise bad(f"distribution {dist_name!r} has no mass within bounds {list(bounds)}",
                      "bounds")
    else:
        if (lo is not None and s_lo < lo) or (hi is not None and s_hi > hi):
            raise bad(f"{dist_name} with these arguments ranges over [{s_lo}, {s_hi}], beyond "
                      f"the declared bounds [{_fmt(lo)}, {_fmt(hi)}]; add bounds = [low, high] "
                      "to truncate it", "distribution")
    return param


def _check_number(v: Any, lo, hi, integer: bool, bad: Callable[[str], InputError]):
    if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v):
        raise bad(f"expected {'whole ' if integer else ''}numbers, got {v!r}")
    if integer and not float(v).is_integer():
        raise bad(f"expected whole numbers (an integer parameter), got {v!r}")
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        raise bad(f"{v!r} is outside the declared bounds [{_fmt(lo)}, {_fmt(hi)}]")
    return int(v) if integer else float(v)


def _declared(params) -> dict[str, tuple[str, float | None, float | None]]:
    """Every path a sweep may vary for these parameters: kind (real/integer/categorical) and
    declared bounds, from sim.params and the rules in force."""
    from sim.params import OVERRIDE_ONLY, describe
    from sim.rules import REGISTRY

    out: dict[str, tuple[str, Any, Any]] = {}
    for row in describe(params):
        path = row["path"]
        if isinstance(row["value"], str):
            out[path] = ("categorical", None, None)
        else:
            out[path] = ("integer" if row["integer"] else "real", row["lo"], row["hi"])
    for path, (lo, hi, _doc) in OVERRIDE_ONLY.items():
        out[path] = ("real", lo, hi)
    for key, (_d, lo, hi, _doc) in REGISTRY[params.us.rule].parameters.items():
        out[f"us.{key}"] = ("real", lo, hi)
    for i, period in enumerate(params.us.periods):
        for key, (_d, lo, hi, _doc) in REGISTRY[period.rule].parameters.items():
            out[f"us.periods.{i}.{key}"] = ("real", lo, hi)
    return out


def _rule_hint(declared: dict) -> str:
    keys = [k for k in declared if k.startswith("us.") and k.count(".") == 1
            and k.split(".")[1] not in _us_fields()]
    return "here: " + (", ".join(keys) if keys else "none")


def _us_fields() -> set[str]:
    from sim.params import USParams
    return {f.name for f in dataclasses.fields(USParams)}


def _groups(spec: SweepSpec, base) -> list[Group]:
    """One group per combination of categorical values (grid order: categorical outermost);
    each group's scenario is checked, and its numeric paths validated against it."""
    from sim.arrays import ParamArrays, Timeline
    from sim.scenario import load_scenario

    cats = [p for p in spec.parameters if p.categorical]
    nums = [p for p in spec.parameters if not p.categorical]
    combos = list(itertools.product(*[p.values for p in cats])) if cats else [()]
    per_group = _points_per_group(spec)
    groups = []
    for k, combo in enumerate(combos):
        values = {p.path: v for p, v in zip(cats, combo)}
        if values:
            try:
                scenario = load_scenario(base.path, {**spec.set, **values},
                                         record=base.record)
            except InputError as err:
                culprit = next((c for c in values if c == err.field), next(iter(values)))
                raise _relabel(err, spec.file, f"parameters.{culprit}.values", inner=False) \
                    from None
            declared = _declared(scenario.params)
            for p in nums:
                if p.path not in declared:
                    where = ", ".join(f"{a} = {b!r}" for a, b in values.items())
                    raise InputError(spec.file, f"parameters.{p.path}",
                                     f"no such parameter when {where}")
                kind, lo, hi = declared[p.path]
                for v in (p.values or p.bounds or ()):
                    _check_number(v, lo, hi, False, lambda m: InputError(
                        spec.file, f"parameters.{p.path}", f"{m} (with {values})"))
            params = scenario.params
        else:
            params = spec.scenario.params
        probe = {p.path: np.asarray(p.values[:1] if p.values else p.from_unit([0.5]), float)
                 for p in nums}
        try:
            ParamArrays(params, 1, Timeline(spec.scenario.start, spec.scenario.end), probe)
        except InputError as err:
            raise InputError(spec.file, f"parameters.{err.field}", err.message) from None
        groups.append(Group(values, params, k * per_group, (k + 1) * per_group))
    return groups


def _points_per_group(spec: SweepSpec) -> int:
    nums = [p for p in spec.parameters if not p.categorical]
    if spec.design == "grid":
        n = math.prod(len(p.values) for p in nums)
    else:
        d, n = len(nums), spec.samples
        n = {"lhs": n, "sobol": n, "saltelli": n * (2 * d + 2 if spec.second_order else d + 2),
             "morris": n * (d + 1)}[spec.design]
    if n * math.prod(len(p.values) for p in spec.parameters if p.categorical) > MAX_POINTS:
        raise InputError(spec.file, "parameters", f"more than {MAX_POINTS} design points")
    return n


def _flatten(table: Any, file: str, where: str) -> dict[str, Any]:
    """``[set]`` as {dotted key: value}, whether written ``"us.rule" = ..`` or ``us.rule = ..``."""
    if not isinstance(table, dict):
        raise InputError(file, where, "expected a table of dotted keys and values")
    out: dict[str, Any] = {}
    for key, value in table.items():
        if isinstance(value, dict):
            for sub, v in _flatten(value, file, f"{where}.{key}").items():
                out[f"{key}.{sub}"] = v
        else:
            out[key] = value
    return out


def _param_tables(raw: dict, file: str, prefix: str = "") -> dict[str, dict]:
    """``[parameters]`` as {dotted path: table}; ``[parameters.us.size]`` nests, so a table
    without any parameter key is read as a level of the path."""
    out: dict[str, dict] = {}
    for key, value in raw.items():
        path = f"{prefix}{key}"
        if not isinstance(value, dict):
            raise InputError(file, f"parameters.{path}",
                             "expected a table ([parameters.\"dotted.path\"]) with values, "
                             "bounds or a distribution")
        if any(k in value for k in PARAM_KEYS) or not value or not all(
                isinstance(v, dict) for v in value.values()):
            out[path] = value
        else:
            out.update(_param_tables(value, file, path + "."))
    return out


def _relabel(err: InputError, file: str, fld: str, inner: bool = True) -> InputError:
    """An error the scenario loader raised for an override, named as the spec's field
    (``set.us.rule``; with ``inner=False`` just ``fld``)."""
    where = f"{fld}.{err.field}" if inner and err.field else fld
    return InputError(file, where, err.message)


def _whole(v: Any) -> bool:
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def _fmt(x) -> str:
    return "..." if x is None else (str(int(x)) if float(x).is_integer() else repr(x))


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]
