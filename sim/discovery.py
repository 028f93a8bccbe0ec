"""Scenario discovery: the boxes of parameter space where an outcome of a sweep happens.

What lives here: :func:`parse_outcome` (``"us_killed >= 5"`` into a column, an operator and
a threshold), :func:`discover` (PRIM on a finished sweep's runs) and :class:`Discovery`, with
its table, figures and words. What does not: running the sweep (``sim.sweep``), its
sensitivity indices (``sim.sensitivity``).

As EMA Workbench users know it (Bryant & Lempert 2010, "Thinking inside the box",
Technological Forecasting and Social Change 77(1); Friedman & Fisher 1999 for PRIM): every
run of the sweep is one experiment, its swept parameters the inputs and the outcome a yes or
no; PRIM peels the parameter space a few percent at a time, keeping the part where the
outcome is densest. Each step of that peeling trajectory is a box with

* coverage: the share of all the runs where the outcome happened that fall in the box;
* density: the share of the runs in the box where it happened;
* mass: the share of all runs in the box.

The PRIM itself is EMA Workbench's (``ema_workbench.analysis.prim``), a maintained
implementation, not ours: the optional extra ``pip install escalation-sim[discover]``.
The chosen box is the densest box of the trajectory whose coverage is at least
``min_coverage`` (ties: the larger coverage); the whole trajectory is written too, for
analysts who weigh coverage against density otherwise.
"""

from __future__ import annotations

import json
import operator
import os
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.errors import InputError

#: The comparison operators an outcome expression may use.
OPERATORS = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt,
             "==": operator.eq}

_EXPR = re.compile(r"^\s*([A-Za-z_][\w.]*)\s*(>=|<=|==|>|<)\s*([-+]?(?:\d+\.?\d*|\.\d+)"
                   r"(?:[eE][-+]?\d+)?)\s*$")

#: Defaults of the peeling: PRIM stops a box's peeling at this density (EMA Workbench's
#: ``threshold``), and the chosen box keeps at least this coverage.
DENSITY_THRESHOLD, MIN_COVERAGE = 0.8, 0.8


@dataclass(frozen=True)
class Outcome:
    """``column op threshold``, e.g. ``us_killed >= 5``."""

    column: str
    op: str
    threshold: float

    def __str__(self) -> str:
        return f"{self.column} {self.op} {_fmt(self.threshold)}"

    def of(self, values: pd.Series) -> np.ndarray:
        return OPERATORS[self.op](values.to_numpy(float), self.threshold)


def parse_outcome(expr: str, columns: list[str]) -> Outcome:
    """Parse ``"COLUMN OP NUMBER"`` with OP one of >=, >, <=, <, ==.

    Raises:
        InputError: not of that form, or a column not among ``columns`` (the message lists
            them).
    """
    known = ", ".join(columns)
    m = _EXPR.match(expr or "")
    if not m:
        raise InputError(None, "--outcome", f"{expr!r} is not 'COLUMN OP NUMBER' with OP one "
                                            f"of >=, >, <=, <, == (e.g. 'us_killed >= 5'); "
                                            f"columns: {known}")
    column, op, number = m.groups()
    if column not in columns:
        raise InputError(None, "--outcome", f"unknown column {column!r}; columns: {known}")
    return Outcome(column, op, float(number))


@dataclass
class Discovery:
    """What :func:`discover` found (and wrote, when ``out`` is set)."""

    outcome: Outcome
    parameters: list[str]
    runs: int
    cases: int
    boxes: pd.DataFrame          # one row per peeling step: id, coverage, density, mass, limits
    chosen: int                  # id of the chosen box
    limits: dict[str, tuple[Any, Any]]   # restricted parameters of the chosen box
    ranges: dict[str, tuple[Any, Any]]   # the parameters' ranges over the sweep
    out: Path | None = None
    figures: list[Path] = field(default_factory=list)

    @property
    def box(self) -> pd.Series:
        return self.boxes.set_index("id").loc[self.chosen]

    def words(self) -> str:
        """The chosen box in plain words."""
        share = self.cases / self.runs if self.runs else float("nan")
        head = (f"{self.outcome} in {self.cases:,} of {self.runs:,} runs ({share:.0%}).")
        if not self.cases:
            return head + " It never happens in this sweep: there is no box to find."
        if self.cases == self.runs:
            return head + " It happens everywhere in this sweep: there is no box to find."
        b = self.box
        if not self.limits:
            return head + (" PRIM found no box that beats the whole space: it happens about "
                           "as often whatever the parameters.")
        cond = " and ".join(_condition(p, lo, hi, self.ranges[p])
                         for p, (lo, hi) in self.limits.items())
        return (head + f"\nChosen box (peeling step {self.chosen}): where {cond},\n"
                f"  it happens in {b.density:.0%} of the runs (density; {b.density / share:.1f} "
                f"times the sweep's {share:.0%}),\n"
                f"  the box holds {b.coverage:.0%} of the runs where it happens (coverage) "
                f"and {b.mass:.0%} of all runs (mass).")


def discover(runs: pd.DataFrame, parameters: list[str], outcome: Outcome, *,
             threshold: float = DENSITY_THRESHOLD, min_coverage: float = MIN_COVERAGE,
             peel_alpha: float = 0.05) -> Discovery:
    """PRIM on ``runs`` (one row per run: the ``parameters`` and the outcome's column).

    Args:
        threshold: the density at which PRIM stops peeling (EMA Workbench's ``threshold``).
        min_coverage: the chosen box is the densest one with at least this coverage.
        peel_alpha: the share of the box peeled off per step.
    """
    prim = _prim()
    x = runs[parameters].copy()
    for p in parameters:
        if not pd.api.types.is_numeric_dtype(x[p]):
            x[p] = x[p].astype("category")
    y = outcome.of(runs[outcome.column])
    ranges = {p: _range(x[p]) for p in parameters}
    cases = int(y.sum())
    base = {"id": 0, "coverage": 1.0 if cases else 0.0, "density": cases / max(len(y), 1),
            "mass": 1.0, "res_dim": 0}
    if cases in (0, len(y)):
        boxes = pd.DataFrame([{**base, **_limit_cols(ranges, ranges)}])
        return Discovery(outcome, parameters, len(y), cases, boxes, 0, {}, ranges)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        finder = prim.Prim(x, y, threshold=threshold, peel_alpha=peel_alpha)
        box = finder.find_box()
    traj = box.peeling_trajectory.reset_index(drop=True)
    rows = []
    for i, r in traj.iterrows():
        lims = _limits(box.box_lims[i], parameters)
        rows.append({"id": int(r["id"]), "coverage": float(r["coverage"]),
                     "density": float(r["density"]), "mass": float(r["mass"]),
                     "res_dim": int(r["res_dim"]), **_limit_cols(lims, ranges)})
    boxes = pd.DataFrame(rows)
    ok = boxes[boxes.coverage >= min_coverage - 1e-12]
    pick = (ok if len(ok) else boxes).sort_values(["density", "coverage", "id"],
                                                  ascending=[False, False, True]).iloc[0]
    chosen = int(pick["id"])
    lims = _limits(box.box_lims[chosen], parameters)
    restricted = {p: v for p, v in lims.items() if v != ranges[p]}
    return Discovery(outcome, parameters, len(y), cases, boxes, chosen, restricted, ranges)


def discover_sweep(sweep_dir: str | os.PathLike, outcome: str, out: str | os.PathLike | None
                   = None, *, figures: bool = True, **kw) -> Discovery:
    """:func:`discover` on the sweep in ``sweep_dir``; writes ``boxes.csv``, ``chosen_box.csv``,
    ``discovery.json`` and the figures to ``out`` (default ``sweep_dir/discovery``), replaced
    whole. ``outcome`` is checked before anything is written.

    Raises:
        InputError: not a finished sweep, a bad ``outcome`` expression or column.
    """
    import pyarrow.parquet as pq

    from sim.sensitivity.data import sweep_files
    sweep_dir = Path(sweep_dir)
    man_path, runs_path = sweep_files(sweep_dir)
    try:
        manifest = json.loads(man_path.read_text())
        parameters = [p["path"] for p in manifest["design"]["parameters"]]
        metrics = list(manifest["metrics"])
    except (ValueError, KeyError) as err:
        raise InputError(str(man_path), None, f"not a sweep manifest ({err})") from None
    target = parse_outcome(outcome, metrics)
    _prim()                                  # a missing extra is said before any work
    runs = pq.read_table(runs_path, columns=[*parameters, target.column]).to_pandas()
    found = discover(runs, parameters, target, **kw)
    out = Path(out) if out is not None else sweep_dir / "discovery"
    from sim.run import atomic_folder
    with atomic_folder(out) as tmp:
        _write(found, tmp, manifest, figures)
    found.out = out
    found.figures = [out / f.name for f in found.figures]
    return found


def _prim():
    """EMA Workbench's PRIM module, or a one-line error naming the extra to install."""
    try:
        with warnings.catch_warnings():
            # it warns on import that optional parallel back ends are missing
            warnings.simplefilter("ignore")
            from ema_workbench.analysis import prim
    except ImportError:
        raise InputError(None, "discover", "needs EMA Workbench's PRIM: pip install "
                                           "'escalation-sim[discover]' (or ema_workbench)") \
            from None
    import logging
    logging.getLogger("EMA").setLevel(logging.WARNING)
    return prim


def _range(col: pd.Series) -> tuple[Any, Any]:
    if isinstance(col.dtype, pd.CategoricalDtype) or not pd.api.types.is_numeric_dtype(col):
        return (frozenset(col.astype(str).unique()), None)
    return (float(col.min()), float(col.max()))


def _limits(lims: pd.DataFrame, parameters: list[str]) -> dict[str, tuple[Any, Any]]:
    """A PRIM box's limits per parameter (numbers: (lo, hi); categories: (set, None))."""
    out = {}
    for p in parameters:
        lo, hi = lims[p].iloc[0], lims[p].iloc[1]
        if isinstance(lo, (set, frozenset)):
            out[p] = (frozenset(str(v) for v in lo), None)
        else:
            out[p] = (float(lo), float(hi))
    return out


def _limit_cols(lims: dict, ranges: dict) -> dict[str, Any]:
    cols = {}
    for p, (lo, hi) in lims.items():
        if hi is None:
            cols[f"{p}:values"] = "|".join(sorted(lo))
        else:
            cols[f"{p}:min"], cols[f"{p}:max"] = lo, hi
    return cols


def _condition(p: str, lo, hi, full) -> str:
    if hi is None:
        return f"{p} is {' or '.join(sorted(lo))}"
    low, high = lo > full[0], hi < full[1]
    if low and high:
        return f"{_fmt(lo)} <= {p} <= {_fmt(hi)}"
    return f"{p} >= {_fmt(lo)}" if low else f"{p} <= {_fmt(hi)}"


def _fmt(v: float) -> str:
    v = float(v)
    return f"{v:.3g}" if v != int(v) or abs(v) >= 1e6 else f"{int(v)}"


def _write(found: Discovery, out: Path, manifest: dict, figures: bool) -> None:
    found.boxes.to_csv(out / "boxes.csv", index=False)
    rows = [{"parameter": p, "min": lo if hi is not None else None,
             "max": hi, "values": "|".join(sorted(lo)) if hi is None else None,
             "sweep_min": found.ranges[p][0] if hi is not None else None,
             "sweep_max": found.ranges[p][1]}
            for p, (lo, hi) in found.limits.items()]
    pd.DataFrame(rows, columns=["parameter", "min", "max", "values", "sweep_min",
                                "sweep_max"]).to_csv(out / "chosen_box.csv", index=False)
    b = found.box
    info = {"outcome": str(found.outcome), "runs": found.runs, "cases": found.cases,
            "sweep": manifest.get("sweep", {}).get("name"), "chosen_box": found.chosen,
            "coverage": float(b.coverage), "density": float(b.density), "mass": float(b.mass),
            "limits": {p: ({"min": lo, "max": hi} if hi is not None else
                           {"values": sorted(lo)}) for p, (lo, hi) in found.limits.items()},
            "method": "PRIM (ema_workbench.analysis.prim); chosen: densest box with coverage "
                      f">= {MIN_COVERAGE}", "summary": found.words()}
    (out / "discovery.json").write_text(json.dumps(info, indent=2) + "\n")
    if figures and found.cases not in (0, found.runs):
        import matplotlib
        matplotlib.use("Agg")
        found.figures = [_fig_trajectory(found, out / "peeling_trajectory.png"),
                         _fig_box(found, out / "chosen_box.png")]


def _fig_trajectory(found: Discovery, path: Path) -> Path:
    import matplotlib.pyplot as plt

    t = found.boxes
    fig, ax = plt.subplots(figsize=(6.4, 4.8))
    sc = ax.scatter(t.coverage, t.density, c=t.res_dim, cmap="viridis", s=22, zorder=3)
    ax.plot(t.coverage, t.density, color="grey", lw=0.8, zorder=2)
    b = found.box
    ax.scatter([b.coverage], [b.density], s=180, facecolors="none", edgecolors="#D55E00",
               lw=2, zorder=4, label=f"chosen box (step {found.chosen})")
    ax.axhline(found.cases / found.runs, color="grey", ls=":", lw=1,
               label="density of the whole sweep")
    fig.colorbar(sc, ax=ax).set_label("parameters restricted")
    ax.set_xlabel("coverage (share of the outcome's runs inside the box)")
    ax.set_ylabel("density (share of the box's runs with the outcome)")
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower left")
    ax.set_title(f"PRIM peeling trajectory: {found.outcome}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def _fig_box(found: Discovery, path: Path) -> Path:
    """The chosen box's limits on each parameter's sweep range (0 = its lowest, 1 = its
    highest value): a bar per parameter, restricted ones coloured and labelled."""
    import matplotlib.pyplot as plt

    params = found.parameters
    fig, ax = plt.subplots(figsize=(7, 0.55 * len(params) + 1.8))
    for i, p in enumerate(params):
        full = found.ranges[p]
        ax.barh(i, 1, left=0, color="#eeeeee", edgecolor="#bbbbbb")
        if full[1] is None:
            lim = found.limits.get(p)
            text = "any" if lim is None else " or ".join(sorted(lim[0]))
            ax.text(0.5, i, text, ha="center", va="center", fontsize=8)
            continue
        lo, hi = found.limits.get(p, full)
        span = (full[1] - full[0]) or 1.0
        a, b = (lo - full[0]) / span, (hi - full[0]) / span
        restricted = p in found.limits
        ax.barh(i, b - a, left=a, color="#D55E00" if restricted else "#9ecae1", alpha=0.8)
        ax.text(-0.02, i, _fmt(full[0]), ha="right", va="center", fontsize=7, color="grey")
        ax.text(1.02, i, _fmt(full[1]), ha="left", va="center", fontsize=7, color="grey")
        if restricted:
            ax.text((a + b) / 2, i, f"{_fmt(lo)} .. {_fmt(hi)}", ha="center", va="center",
                    fontsize=8, color="white", fontweight="bold")
    ax.set_yticks(range(len(params)), params, fontsize=8)
    ax.set_xlim(-0.15, 1.15)
    ax.set_xticks([0, 1], ["lowest swept", "highest swept"])
    b = found.box
    ax.set_title(f"Chosen box for {found.outcome}: coverage {b.coverage:.0%}, density "
                 f"{b.density:.0%}, mass {b.mass:.0%}", fontsize=10)
    ax.invert_yaxis()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
