"""Parameter sweeps: spec, design, execution, chunked Parquet output, resume.

What lives here: reading and validating a sweep spec (``scenarios/sweeps/*.toml``,
:func:`load_spec`), its design (:func:`make_design`: a grid, or a sample from
``scipy.stats.qmc`` or SALib), splitting the runs into chunks (:func:`plan_chunks`), running
them (:func:`run_chunk`, one batch-engine call per chunk) on a local process pool or a Dask
cluster, writing each chunk atomically to Parquet, resuming, and combining the chunks into
one table (:func:`run_sweep`). What does not: the dynamics (``sim.dynamics``), the batch
engine (``sim.batch``), sensitivity analysis and figures (``sim.sensitivity``), the command
line (``sim.commands.sweep``).

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

Paths are those of ``sim.params`` (``describe(ModelParams())`` lists them with bounds; its
``factions.<f>.<param>`` are addressed as ``militias.<f>.<param>``, as in scenario files), the
rule parameters of the rule in force as ``us.<param>`` (``us.deaths`` for ``red_line``) or
``us.periods.<i>.<param>``, and ``shock_scale``. Categorical paths (``us.rule``, a site's
``country``/``until``) may be varied in grids only; each of their combinations is a group of
runs with its own scenario, and groups never share a batch. Bounds must lie within the
declared ones; everything is checked before anything is written, and every problem is an
:class:`~sim.errors.InputError` naming the spec file and the field.

Runs and randomness (common random numbers): run ``(point i, replicate j)`` has
``run_id = i * replicates + j`` and uses the random numbers of ``(seed, j)`` (``sim.rng``), the
same for every design point. Differences between points are therefore differences of the
parameters, not of the dice, which makes response surfaces smooth and Sobol indices of a
parameter that does nothing exactly zero. A run's numbers do not depend on which chunk,
worker or executor ran it; the chunk layout itself is fixed by the spec and the chunk size
(kept in ``spec.json``), so 1 or N workers, local or Dask, uninterrupted or resumed, give the
same ``runs.parquet``.

Output folder (default ``results/sweeps/<name>``)::

    spec.json        the resolved spec, its hash, the design's hash and the chunk size
    design.parquet   one row per design point (values, unit-cube coordinates, group)
    chunks/chunk-XXXXX.parquet   one per chunk, each written to a temporary file and renamed
    runs.parquet     the experiments table: run_id, point, replicate, seed, scenario, the
                     varied parameters, git_commit, then the metrics (EMA Workbench style:
                     experiments and outcomes on the same rows); ``*_day`` metrics are days
                     since the start, null when it never happened
    manifest.json    sim.run.manifest + spec, design, runs, chunking, executor, timings

Executors: ``workers=1`` runs chunks in this process; more use a
``concurrent.futures.ProcessPoolExecutor`` (forkserver; a script that calls :func:`run_sweep`
with several workers needs the usual ``if __name__ == "__main__":`` guard);
``scheduler=ADDRESS`` submits the same :func:`run_chunk` to a Dask cluster. Start one with::

    dask scheduler                          # prints tcp://HOST:8786
    dask worker tcp://HOST:8786 --nworkers 4 --nthreads 1     # on each machine
    escalation sweep SWEEP.toml --scheduler tcp://HOST:8786

Workers need this package installed (same version); they return their chunk's table to the
client, which writes it, so workers need no shared disk. Memory: at most ``2 x workers``
chunks are in flight; a worker holds one chunk; the client holds the design (points, not
runs) and one chunk at a time, and combines chunks with a streaming ``ParquetWriter``.
"""

from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import glob
import hashlib
import itertools
import json
import math
import multiprocessing
import numbers
import os
import re
import sys
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import numpy as np

from sim.errors import InputError

DESIGNS = ("grid", "lhs", "sobol", "saltelli", "morris")
ROLES = ("lever", "uncertainty")
SPEC_KEYS = ("name", "description", "scenario", "seed", "replicates", "design", "samples",
             "second_order", "levels", "metrics", "set", "parameters")
PARAM_KEYS = ("values", "bounds", "distribution", "integer", "role")
DEFAULT_REPLICATES = 10
#: Runs per chunk: a batch-engine call costs about 1 s for the 2019-2024 window plus
#: 1.4-1.8 ms per run, cheapest per run near 2,500 (measured by `escalation bench`); smaller
#: sweeps are cut in at least 4 chunks of at least 500 runs so that several workers share them.
MAX_CHUNK_SIZE, MIN_CHUNK_SIZE, MIN_CHUNKS = 2500, 500, 4
DEFAULT_LEVELS = 4
MAX_POINTS = 10_000_000
#: Metrics that are a day index (-1 = never in the engine; null in the table) or a yes/no.
DAY_METRICS = ("highest_rung_day", "us_left_iraq_day")
BOOL_METRICS = ("us_left_iraq", "iran_direct_attack")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


# --- Spec --------------------------------------------------------------------------------------

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


def load_spec(path: str | os.PathLike) -> SweepSpec:
    """Read and validate a sweep spec TOML file (see the module docstring)."""
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
    return spec_from_dict(data, shown, p.parent, default_name=p.stem)


def spec_from_dict(data: dict, file: str = "<dict>", base_dir: str | os.PathLike = ".",
                   default_name: str = "sweep") -> SweepSpec:
    """Validate a spec given as data; ``scenario`` is looked up relative to ``base_dir``."""
    from sim.dynamics import SUMMARY_COLUMNS
    from sim.scenario import load_scenario

    def bad(fld: str | None, message: str) -> InputError:
        return InputError(file, fld, message)

    if not isinstance(data, dict):
        raise bad(None, "expected a table of sweep keys")
    for key in data:
        if key not in SPEC_KEYS:
            raise bad(key, f"unknown key; allowed: {', '.join(SPEC_KEYS)}")

    name = data.get("name", default_name)
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise bad("name", f"expected a name of letters, digits, '_', '-', '.', got {name!r}")
    description = data.get("description", "")
    if not isinstance(description, str):
        raise bad("description", "expected a string")

    design = data.get("design")
    if design not in DESIGNS:
        raise bad("design", f"{'missing' if design is None else repr(design)}; "
                            f"allowed: {', '.join(DESIGNS)}")

    if "scenario" not in data:
        raise bad("scenario", "missing; the base scenario file, relative to this spec "
                              "(e.g. \"../history.toml\")")
    scen = data["scenario"]
    if not isinstance(scen, str) or not scen.strip():
        raise bad("scenario", "expected a path to a scenario file, relative to this spec")
    scen_path = Path(base_dir) / scen
    scen_shown = os.path.normpath(os.path.join(os.fspath(base_dir), scen))
    if not scen_path.is_file():
        raise bad("scenario", f"no such scenario file {scen_shown}")

    fixed = _flatten(data.get("set", {}), file, "set")
    base = load_scenario(scen_shown)         # errors in the scenario name its file
    try:
        scenario = load_scenario(scen_shown, fixed or None)
    except InputError as err:
        raise _relabel(err, file, "set") from None

    seed = data.get("seed", scenario.seed)
    if not _whole(seed) or not 0 <= seed < 2 ** 63:
        raise bad("seed", f"expected a whole number in [0, 2^63), got {seed!r}")
    replicates = data.get("replicates", DEFAULT_REPLICATES)
    if not _whole(replicates) or not 1 <= replicates <= 1_000_000:
        raise bad("replicates", f"expected a whole number in [1, 1000000], got {replicates!r}")

    metrics = data.get("metrics", list(SUMMARY_COLUMNS))
    if not isinstance(metrics, list) or not metrics or not all(isinstance(m, str)
                                                               for m in metrics):
        raise bad("metrics", "expected a non-empty array of metric names; allowed: "
                             + ", ".join(SUMMARY_COLUMNS))
    for m in metrics:
        if m not in SUMMARY_COLUMNS:
            raise bad("metrics", f"unknown metric {m!r}; allowed: {', '.join(SUMMARY_COLUMNS)}")
    if len(set(metrics)) != len(metrics):
        raise bad("metrics", "a metric is listed twice")

    samples = data.get("samples")
    if design == "grid":
        if samples is not None:
            raise bad("samples", "only for sampled designs (lhs, sobol, saltelli, morris); "
                                 "a grid's size is the product of its values")
    else:
        if samples is None:
            raise bad("samples", f"missing; design {design!r} needs a number of samples")
        if not _whole(samples) or samples < 1:
            raise bad("samples", f"expected a positive whole number, got {samples!r}")
        if design in ("sobol", "saltelli") and samples & (samples - 1):
            raise bad("samples", f"{samples} is not a power of two; {design} designs need "
                                 "2^m (e.g. 64, 128, 256) to keep the Sobol sequence balanced")
        if design == "morris" and samples < 2:
            raise bad("samples", "morris needs at least 2 trajectories")

    raw_params = data.get("parameters")
    if not isinstance(raw_params, dict) or not raw_params:
        raise bad("parameters", "missing; at least one [parameters.\"dotted.path\"] table")
    raw_params = _param_tables(raw_params, file)

    if "second_order" in data and design != "saltelli":
        raise bad("second_order", "only for design = \"saltelli\"")
    if "levels" in data and design != "morris":
        raise bad("levels", "only for design = \"morris\"")
    second_order = data.get("second_order", len(raw_params) >= 2)
    if not isinstance(second_order, bool):
        raise bad("second_order", "expected true or false")
    if design == "saltelli" and second_order and len(raw_params) < 2:
        raise bad("second_order", "second-order indices need at least two parameters")
    levels = data.get("levels", DEFAULT_LEVELS)
    if not _whole(levels) or not 2 <= levels <= 100:
        raise bad("levels", f"expected a whole number in [2, 100], got {levels!r}")

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
    declared bounds, from sim.params, the rules in force and sim.scenario."""
    from sim.params import describe
    from sim.rules import REGISTRY
    from sim.scenario import SHOCK_SCALE_BOUNDS

    out: dict[str, tuple[str, Any, Any]] = {}
    for row in describe(params):
        path = row["path"]
        if path.startswith("factions."):      # ModelParams.factions, addressed as militias.<f>
            path = "militias." + path[len("factions."):]
        if isinstance(row["value"], str):
            out[path] = ("categorical", None, None)
        else:
            out[path] = ("integer" if row["integer"] else "real", row["lo"], row["hi"])
    out["us.us_share_of_killed"] = ("real", 0.0, 1.0)     # sim.arrays.US_SHARE_OF_KILLED
    for key, (_d, lo, hi, _doc) in REGISTRY[params.us.rule].parameters.items():
        out[f"us.{key}"] = ("real", lo, hi)
    for i, period in enumerate(params.us.periods):
        for key, (_d, lo, hi, _doc) in REGISTRY[period.rule].parameters.items():
            out[f"us.periods.{i}.{key}"] = ("real", lo, hi)
    out["shock_scale"] = ("real", *SHOCK_SCALE_BOUNDS)
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
                scenario = load_scenario(base.path, {**spec.set, **values})
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


# --- Design ------------------------------------------------------------------------------------

@dataclass
class Design:
    """The design points: per-point values of each varied parameter (spec order), the unit-cube
    sample of sampled designs, and the SALib problem on the unit cube."""

    kind: str
    names: list[str]
    columns: dict[str, np.ndarray]
    unit: np.ndarray | None
    groups: list[Group]

    @property
    def points(self) -> int:
        return self.groups[-1].point_hi

    @property
    def problem(self) -> dict[str, Any]:
        names = [n for n in self.names if self.columns[n].dtype != object]
        return {"num_vars": len(names), "names": names, "bounds": [[0.0, 1.0]] * len(names)}

    def hash(self) -> str:
        h = hashlib.sha256()
        for name in self.names:
            h.update(name.encode())
            h.update(np.asarray(self.columns[name]).astype(str).tobytes())
        return h.hexdigest()[:16]

    def table(self):
        """The design as a pyarrow table, one row per point."""
        import pyarrow as pa
        cols: dict[str, Any] = {"point": np.arange(self.points, dtype=np.int64)}
        group = np.zeros(self.points, np.int64)
        for k, g in enumerate(self.groups):
            group[g.point_lo:g.point_hi] = k
        cols["group"] = group
        cols.update({n: _arrow(self.columns[n]) for n in self.names})
        if self.unit is not None:
            for i, n in enumerate(self.problem["names"]):
                cols[f"unit:{n}"] = self.unit[:, i]
        return pa.table(cols)


def make_design(spec: SweepSpec) -> Design:
    """The spec's design points. Grids: the product of the values (categorical parameters
    outermost, so each group is a contiguous block of points). Sampled designs draw on the
    unit cube (LHS and Sobol from scipy.stats.qmc, Saltelli and Morris from SALib, all seeded
    with the spec's seed) and map each coordinate through :meth:`Parameter.from_unit`."""
    params = list(spec.parameters)
    cats = [p for p in params if p.categorical]
    nums = [p for p in params if not p.categorical]
    d = len(nums)
    unit = None
    if spec.design == "grid":
        combos = list(itertools.product(*[p.values for p in cats + nums]))
        columns = {}
        for i, p in enumerate(cats + nums):
            col = [c[i] for c in combos]
            columns[p.path] = (np.array(col, dtype=object) if p.categorical
                               else np.array(col, dtype=np.int64 if p.kind == "integer"
                                             else float))
    else:
        unit = _unit_sample(spec.design, d, spec.samples, spec.seed, spec.second_order,
                            spec.levels)
        columns = {p.path: p.from_unit(unit[:, i]) for i, p in enumerate(nums)}
    columns = {p.path: columns[p.path] for p in params}
    design = Design(spec.design, [p.path for p in params], columns, unit, spec.groups)
    if len(next(iter(columns.values()))) != design.points:
        raise AssertionError("design size does not match the groups")  # a bug, not input
    return design


def _unit_sample(kind: str, d: int, n: int, seed: int, second_order: bool,
                 levels: int) -> np.ndarray:
    from scipy.stats import qmc
    if kind == "lhs":
        return qmc.LatinHypercube(d, rng=np.random.default_rng(seed)).random(n)
    if kind == "sobol":
        return qmc.Sobol(d, scramble=True, rng=np.random.default_rng(seed)).random_base2(
            int(round(math.log2(n))))
    problem = {"num_vars": d, "names": [f"x{i}" for i in range(d)], "bounds": [[0.0, 1.0]] * d}
    if kind == "saltelli":
        from SALib.sample import sobol as sobol_sample
        return sobol_sample.sample(problem, n, calc_second_order=second_order, seed=seed)
    if kind == "morris":
        from SALib.sample import morris as morris_sample
        return morris_sample.sample(problem, n, num_levels=levels, seed=seed)
    raise AssertionError(kind)


# --- Chunks and the worker ---------------------------------------------------------------------

@dataclass(frozen=True)
class Chunk:
    """Runs ``run_lo .. run_hi - 1`` of one group: one batch-engine call, one file."""

    index: int
    group: int
    run_lo: int
    run_hi: int

    @property
    def runs(self) -> int:
        return self.run_hi - self.run_lo

    @property
    def filename(self) -> str:
        return f"chunk-{self.index:05d}.parquet"


def default_chunk_size(runs: int) -> int:
    """The chunk size when none is given: a function of the sweep's size only (never of the
    workers), so that a sweep resumed with other workers keeps its chunk layout."""
    return int(min(MAX_CHUNK_SIZE, max(MIN_CHUNK_SIZE, math.ceil(runs / MIN_CHUNKS))))


def plan_chunks(design: Design, replicates: int, chunk_size: int) -> list[Chunk]:
    """Split each group's runs into chunks of at most ``chunk_size`` runs, in run_id order."""
    chunks = []
    for k, g in enumerate(design.groups):
        lo, hi = g.point_lo * replicates, g.point_hi * replicates
        for a in range(lo, hi, chunk_size):
            chunks.append(Chunk(len(chunks), k, a, min(a + chunk_size, hi)))
    return chunks


@dataclass
class ChunkResult:
    index: int
    table: Any          # pyarrow.Table
    seconds: float
    maxrss_mb: float
    worker: str
    cpu_seconds: float = float("nan")


def run_chunk(task: dict[str, Any]) -> ChunkResult:
    """Simulate one chunk with the batch engine and return its rows as a pyarrow Table.

    ``task`` holds everything (no shared state), so this runs the same in this process, in a
    pool worker or on a Dask worker.
    """
    import pyarrow as pa

    from sim.batch import simulate

    t0, c0 = time.perf_counter(), time.process_time()
    lo, hi, reps, p0 = task["run_lo"], task["run_hi"], task["replicates"], task["point_lo"]
    runs = np.arange(lo, hi, dtype=np.int64)
    point, replicate = runs // reps, runs % reps
    overrides = {path: vals[point - p0] for path, vals in task["numeric"].items()}
    out = simulate(task["params"], task["start"], task["end"], task["seed"], replicate,
                   overrides=overrides, record_events=False, record_daily=False)
    n = len(runs)
    cols: dict[str, Any] = {"run_id": runs, "point": point, "replicate": replicate,
                            "seed": np.full(n, task["seed"], np.int64),
                            "scenario": pa.array([task["scenario"]] * n, pa.string())}
    for path in task["columns"]:
        if path in task["numeric"]:
            cols[path] = overrides[path]
        else:
            cols[path] = pa.array([task["categorical"][path]] * n, pa.string())
    cols["git_commit"] = pa.array([task["git_commit"]] * n, pa.string())
    for m in task["metrics"]:
        cols[m] = _metric_array(m, out.summary[m])
    table = pa.Table.from_pydict(cols, schema=task["schema"])
    return ChunkResult(task["index"], table, time.perf_counter() - t0, _maxrss_mb(),
                       f"{os.uname().nodename}:{os.getpid()}", time.process_time() - c0)


def _metric_array(name: str, v: np.ndarray):
    import pyarrow as pa
    v = np.asarray(v)
    if name in DAY_METRICS:
        return pa.array(v.astype(np.int64), mask=v < 0, type=pa.int64())
    if name in BOOL_METRICS:
        return pa.array(v.astype(bool), pa.bool_())
    return pa.array(v.astype(np.int64), pa.int64())


def run_schema(design: Design, metrics: Iterable[str]):
    """The experiments table's schema: run keys, varied parameters, commit, metrics."""
    import pyarrow as pa
    fields = [pa.field("run_id", pa.int64()), pa.field("point", pa.int64()),
              pa.field("replicate", pa.int64()), pa.field("seed", pa.int64()),
              pa.field("scenario", pa.string())]
    for name in design.names:
        col = design.columns[name]
        fields.append(pa.field(name, pa.string() if col.dtype == object else
                               pa.int64() if col.dtype.kind == "i" else pa.float64()))
    fields.append(pa.field("git_commit", pa.string()))
    for m in metrics:
        fields.append(pa.field(m, pa.bool_() if m in BOOL_METRICS else pa.int64()))
    return pa.schema(fields)


def _task(spec: SweepSpec, design: Design, chunk: Chunk, schema, commit: str | None) -> dict:
    g = design.groups[chunk.group]
    r = spec.replicates
    p0, p1 = chunk.run_lo // r, (chunk.run_hi - 1) // r + 1
    return {
        "index": chunk.index, "run_lo": chunk.run_lo, "run_hi": chunk.run_hi,
        "replicates": r, "point_lo": p0, "params": g.params,
        "start": spec.scenario.start, "end": spec.scenario.end, "seed": spec.seed,
        "numeric": {n: np.ascontiguousarray(design.columns[n][p0:p1]) for n in design.names
                    if design.columns[n].dtype != object},
        "categorical": dict(g.values), "columns": list(design.names),
        "metrics": list(spec.metrics), "scenario": spec.scenario.name,
        "git_commit": commit or "", "schema": schema,
    }


# --- Executors ---------------------------------------------------------------------------------

def _serial(fn, tasks: Iterator[dict]) -> Iterator[Any]:
    for task in tasks:
        yield fn(task)


def _pool(fn, tasks: Iterator[dict], workers: int) -> Iterator[Any]:
    """A process pool with at most 2 x workers chunks in flight, results as they finish."""
    # forkserver: workers start from a clean, single-threaded server process (fork from a
    # parent holding threads - tqdm's monitor, a Dask client - can deadlock); spawn elsewhere.
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["sim.sweep", "sim.batch", "sim.warm"])
    else:
        ctx = multiprocessing.get_context("spawn")
    with cf.ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        pending: set[cf.Future] = set()
        try:
            for task in itertools.islice(tasks, 2 * workers):
                pending.add(pool.submit(fn, task))
            while pending:
                done, pending = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
                for fut in done:
                    result = fut.result()
                    for task in itertools.islice(tasks, 1):
                        pending.add(pool.submit(fn, task))
                    yield result
        finally:
            for fut in pending:
                fut.cancel()


def _connect(address: str):
    """A Dask client for ``address`` (before anything is written: a wrong address is bad
    input, exit 2)."""
    from distributed import Client
    try:
        return Client(address, set_as_default=False, timeout="20s")
    except (OSError, TimeoutError, ValueError) as err:
        raise InputError(None, "--scheduler", f"cannot reach a Dask scheduler at {address!r}: "
                                              f"{err}; start one with `dask scheduler`") from None


def _dask(fn, tasks: Iterator[dict], client) -> Iterator[Any]:
    """The same chunk function on a Dask cluster, at most 2 x its threads in flight; closes
    ``client`` at the end."""
    from distributed import as_completed

    try:
        if not client.nthreads():
            client.wait_for_workers(1, timeout="60s")
        slots = max(2, 2 * sum(client.nthreads().values()))
        first = [client.submit(fn, t, pure=False) for t in itertools.islice(tasks, slots)]
        queue = as_completed(first, loop=client.loop)
        for fut in queue:
            result = fut.result()
            fut.release()
            for task in itertools.islice(tasks, 1):
                queue.add(client.submit(fn, task, pure=False))
            yield result
    finally:
        client.close()


# --- Running a sweep ---------------------------------------------------------------------------

@dataclass
class SweepResult:
    out: Path
    runs: int
    chunks_run: int
    chunks_reused: int
    manifest: dict[str, Any]

    @property
    def table_path(self) -> Path:
        return self.out / "runs.parquet"


def default_out(spec: SweepSpec) -> Path:
    return Path("results") / "sweeps" / spec.name


def run_sweep(spec: SweepSpec | str | os.PathLike, out: str | os.PathLike | None = None, *,
              workers: int | None = None, scheduler: str | None = None, resume: bool = False,
              chunk_size: int | None = None, progress: bool = True,
              chunk_fn: Callable[[dict], ChunkResult] = run_chunk,
              command: str | None = None) -> SweepResult:
    """Run a sweep into ``out`` (default ``results/sweeps/<name>``); see the module docstring.

    Args:
        workers: local processes (default ``os.cpu_count()``; 1 runs in this process).
        scheduler: a Dask scheduler address; the chunks run on its workers instead.
        resume: finish a sweep in ``out``: run only the chunks whose files are missing.
        chunk_size: runs per chunk (default :func:`default_chunk_size`; on resume, the
            stored one).
        chunk_fn: the function run per chunk (tests inject failures here).

    Raises:
        InputError: bad spec, ``out`` already holding results without ``resume``, or a
            ``resume`` into a folder holding another sweep. Nothing is written then.
    """
    t_start = time.perf_counter()
    if not isinstance(spec, SweepSpec):
        spec = load_spec(spec)
    if workers is not None and workers < 1:
        raise InputError(None, "--workers", f"must be at least 1, got {workers}")
    if chunk_size is not None and chunk_size < 1:
        raise InputError(None, "--chunk-size", f"must be at least 1, got {chunk_size}")
    out = Path(out) if out is not None else default_out(spec)
    design = make_design(spec)
    t_design = time.perf_counter()
    state = {"spec_hash": spec.hash(), "design_hash": design.hash(),
             "chunk_size": chunk_size or default_chunk_size(design.points * spec.replicates),
             "runs": design.points * spec.replicates, "points": design.points,
             "spec": spec.resolved()}

    has_content = out.exists() and (not out.is_dir() or any(out.iterdir()))
    if has_content and not resume:
        raise InputError(str(out), "--out", "already holds results; add --resume to finish "
                                            "that sweep, or choose another --out")
    if has_content:
        state = _check_resume(out, state, chunk_size)
    client = _connect(scheduler) if scheduler else None
    if not has_content:
        (out / "chunks").mkdir(parents=True, exist_ok=True)
        _write_atomic(out / "design.parquet", lambda f: _write_parquet(design.table(), f))
        _write_json(out / "spec.json", state)
    size = int(state["chunk_size"])
    chunks = plan_chunks(design, spec.replicates, size)
    for stale in glob.glob(str(out / "chunks" / ".*.tmp*")):
        os.remove(stale)
    todo = [c for c in chunks if not _chunk_done(out / "chunks" / c.filename, c.runs)]
    total = design.points * spec.replicates
    done_runs = total - sum(c.runs for c in todo)

    from sim.run import git_commit
    commit = git_commit()
    schema = run_schema(design, spec.metrics)
    tasks = (_task(spec, design, c, schema, commit) for c in todo)
    if scheduler:
        executor, n_workers = "dask", None
        results = _dask(chunk_fn, tasks, client)
    else:
        n_workers = max(1, min(workers or os.cpu_count() or 1, max(len(todo), 1)))
        executor = "serial" if n_workers == 1 else "processes"
        results = _serial(chunk_fn, tasks) if n_workers == 1 else _pool(chunk_fn, tasks,
                                                                          n_workers)
    from tqdm.auto import tqdm
    bar = tqdm(total=total, initial=done_runs, unit="run", desc=spec.name,
               disable=not progress, dynamic_ncols=True, smoothing=0.1)
    sim_seconds, cpu_seconds, peak_rss, workers_seen = 0.0, 0.0, 0.0, set()
    worker_cpu: dict[str, float] = {}
    t_run = time.perf_counter()
    try:
        for res in results:
            chunk = chunks[res.index]
            if res.table.num_rows != chunk.runs:
                raise RuntimeError(f"chunk {res.index} returned {res.table.num_rows} rows, "
                                   f"expected {chunk.runs}")
            _write_atomic(out / "chunks" / chunk.filename,
                          lambda f, t=res.table: _write_parquet(t, f))
            sim_seconds += res.seconds
            cpu_seconds += res.cpu_seconds
            worker_cpu[res.worker] = worker_cpu.get(res.worker, 0.0) + res.cpu_seconds
            peak_rss = max(peak_rss, res.maxrss_mb)
            workers_seen.add(res.worker)
            bar.update(chunk.runs)
    except BaseException:
        bar.close()
        kept = sum(1 for c in chunks if (out / "chunks" / c.filename).is_file())
        print(f"sweep {spec.name}: stopped; {kept} of {len(chunks)} chunks are kept in "
              f"{out}/chunks; `escalation sweep {spec.file} --out {out} --resume` runs the "
              "rest", file=sys.stderr)
        raise
    finally:
        if client is not None:
            client.close()
    bar.close()
    t_combined0 = time.perf_counter()
    _combine(out, chunks, schema)
    t_end = time.perf_counter()

    from sim.run import manifest
    wall = t_combined0 - t_run
    ran = sum(c.runs for c in todo)
    info = manifest(
        spec.scenario, command=command, sweep=spec.resolved(), spec_hash=state["spec_hash"],
        spec_file=spec.file,
        design={"kind": design.kind, "points": design.points, "parameters":
                [p.describe() for p in spec.parameters], "problem": design.problem,
                "groups": [{"values": g.values, "points": [g.point_lo, g.point_hi]}
                           for g in design.groups], "hash": state["design_hash"]},
        seed=spec.seed, replicates=spec.replicates, runs=total, metrics=list(spec.metrics),
        common_random_numbers="replicate j of every design point uses the random numbers of "
                              "(seed, j); run_id = point * replicates + replicate",
        chunk_size=size, chunks=len(chunks), chunks_run=len(todo),
        chunks_reused=len(chunks) - len(todo), resumed=bool(has_content),
        executor=executor, workers=n_workers, scheduler=scheduler,
        worker_processes=len(workers_seen), worker_peak_rss_mb=round(peak_rss, 1),
        timings={"design_s": round(t_design - t_start, 3), "run_wall_s": round(wall, 3),
                 "chunk_compute_s": round(sim_seconds, 3),
                 "chunk_cpu_s": round(cpu_seconds, 3),
                 "worker_cpu_s": {w: round(c, 3) for w, c in sorted(worker_cpu.items())},
                 "combine_s": round(t_end - t_combined0, 3),
                 "total_s": round(t_end - t_start, 3),
                 "runs_per_s": round(ran / wall, 1) if wall > 0 and ran else None},
        files=["runs.parquet", "design.parquet", "spec.json", "chunks/"])
    _write_json(out / "manifest.json", info)
    return SweepResult(out, total, len(todo), len(chunks) - len(todo), info)


def _check_resume(out: Path, state: dict, chunk_size: int | None) -> dict:
    spec_file = out / "spec.json"
    if not spec_file.is_file():
        raise InputError(str(out), "--resume", "is not a sweep folder (no spec.json); choose "
                                               "another --out")
    try:
        stored = json.loads(spec_file.read_text())
    except (OSError, ValueError) as err:
        raise InputError(str(spec_file), None, f"unreadable ({err}); choose another --out") \
            from None
    if stored.get("spec_hash") != state["spec_hash"]:
        raise InputError(str(spec_file), "spec_hash",
                         f"holds a different sweep (spec hash {stored.get('spec_hash')} != "
                         f"{state['spec_hash']}: the spec or its base scenario changed); "
                         "choose another --out")
    if stored.get("design_hash") != state["design_hash"]:
        raise InputError(str(spec_file), "design_hash",
                         "the design drawn from this spec differs from the stored one (other "
                         "SciPy/SALib versions?); choose another --out")
    if chunk_size is not None and chunk_size != stored.get("chunk_size"):
        raise InputError(None, "--chunk-size", f"{chunk_size} differs from the "
                                               f"{stored.get('chunk_size')} this sweep was "
                                               "started with; omit it to resume")
    return stored


def _chunk_done(path: Path, rows: int) -> bool:
    if not path.is_file():
        return False
    import pyarrow.parquet as pq
    try:
        return pq.ParquetFile(path).metadata.num_rows == rows
    except Exception:   # a damaged file is redone
        return False


def _combine(out: Path, chunks: list[Chunk], schema) -> None:
    """Stream the chunk files, in run_id order, into runs.parquet (one chunk in memory)."""
    import pyarrow.parquet as pq

    def write(f) -> None:
        with pq.ParquetWriter(f, schema, compression="zstd") as writer:
            for c in chunks:
                writer.write_table(pq.read_table(out / "chunks" / c.filename, schema=schema))
    _write_atomic(out / "runs.parquet", write)


def _write_parquet(table, f) -> None:
    import pyarrow.parquet as pq
    pq.write_table(table, f, compression="zstd")


def _write_atomic(path: Path, write: Callable[[Any], None]) -> None:
    """Write via a temporary file in the same folder, fsync, then os.replace."""
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.remove(tmp)
        except FileNotFoundError:
            pass
        raise


def _write_json(path: Path, data: dict) -> None:
    text = json.dumps(data, indent=2, default=str) + "\n"
    _write_atomic(path, lambda f: f.write(text.encode()))


# --- Small helpers -----------------------------------------------------------------------------

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


def _arrow(col: np.ndarray):
    import pyarrow as pa
    return pa.array(list(col), pa.string()) if col.dtype == object else col


def _maxrss_mb() -> float:
    try:
        import resource
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    except (ImportError, OSError):
        return float("nan")
