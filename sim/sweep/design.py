"""Step 2 of a sweep: its design points (a grid, or a sample of the unit cube).

What lives here: :class:`Design` and :func:`make_design` (grids as products of values; LHS
and Sobol from ``scipy.stats.qmc``, Saltelli and Morris from SALib, seeded with the spec's
seed). What does not: the spec (``sim.sweep.spec``), cutting the runs into chunks
(``sim.sweep.chunks``).
"""

from __future__ import annotations

import hashlib
import itertools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.sweep.spec import Group, SweepSpec


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


def _arrow(col: np.ndarray):
    import pyarrow as pa
    return pa.array(list(col), pa.string()) if col.dtype == object else col
