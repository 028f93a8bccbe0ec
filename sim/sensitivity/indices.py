"""The analyses of a sweep, by design: Sobol, Morris, rank correlations, grid effects.

What lives here: one function per design, each a table (pandas) from the point means
(:func:`sobol_indices`, :func:`morris_indices`, :func:`sample_indices`,
:func:`grid_effects`). What does not: words (``sim.sensitivity.report``) or pictures
(``sim.sensitivity.figures``).

Every analysis first averages the replicates of each design point (common random numbers make
those means smooth in the parameters; see ``sim.sweep``), then, by design:

* ``saltelli``: SALib ``sobol.analyze`` per metric: first-order S1 and total ST with
  bootstrap confidence intervals (and S2 when the design has second order);
* ``morris``: SALib ``morris.analyze``: mu*, mu, sigma and the CI of mu*, in metric units per
  sweep of the parameter across its whole range;
* ``lhs`` / ``sobol`` (space-filling samples without Saltelli's structure): Spearman rank
  correlations of each parameter with each metric, SALib ``rbd_fast`` first-order indices
  (given-data, with CIs), scatter plots with binned partial-dependence curves;
* ``grid``: main effects (the range of each parameter's marginal means, their paired
  difference with its interval, and the share of the between-point variance they explain,
  eta^2); heatmaps on a diverging scale centred on the median cell, cells within the noise
  hatched; response curves and interaction plots with 95% intervals (Wilson for shares, t
  for means: ``sim.sensitivity.intervals``); line plots for one-parameter grids.

Metrics that are days (``*_day``) are averaged over the runs where the event happened; a
design point where it never did leaves that metric out of Sobol/Morris indices.
"""

from __future__ import annotations

import json
import warnings
from typing import Any

import numpy as np
import pandas as pd

from sim.sensitivity.data import SweepData, _fmtv


NUM_RESAMPLES = 500


CONF_LEVEL = 0.95


def _metric_matrix(data: SweepData, stats: pd.DataFrame, notes: list[str]):
    """Point means per metric, in point order; metrics with missing or constant values are
    dropped with a note (Sobol and Morris need every point)."""
    out = {}
    for m in data.metrics:
        y = stats[f"{m}:mean"].to_numpy(float)
        if np.isnan(y).any():
            notes.append(f"`{m}`: left out of the indices: at {int(np.isnan(y).sum())} design "
                         "points it never happened in any replicate.")
        elif np.ptp(y) == 0:
            notes.append(f"`{m}`: the same at every design point ({y[0]:g}); no parameter "
                         "moves it within these bounds, so it has no indices.")
        else:
            out[m] = y
    return out


def sobol_indices(data: SweepData, stats: pd.DataFrame, seed: int, notes: list[str]):
    """SALib Sobol indices (S1, ST with CIs) per metric, from a Saltelli design."""
    from SALib.analyze import sobol

    problem = _problem(data)
    second = bool(data.manifest["sweep"].get("second_order"))
    rows, rows2 = [], []
    for m, y in _metric_matrix(data, stats, notes).items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            si = sobol.analyze(problem, y, calc_second_order=second,
                               num_resamples=NUM_RESAMPLES, conf_level=CONF_LEVEL, seed=seed)
        for i, name in enumerate(problem["names"]):
            rows.append(dict(metric=m, parameter=name, S1=si["S1"][i], S1_conf=si["S1_conf"][i],
                             ST=si["ST"][i], ST_conf=si["ST_conf"][i],
                             rho=_spearman(stats[name].to_numpy(float), y)))
        if second:
            for i, a in enumerate(problem["names"]):
                for j in range(i + 1, len(problem["names"])):
                    rows2.append(dict(metric=m, parameter_1=a, parameter_2=problem["names"][j],
                                      S2=si["S2"][i, j], S2_conf=si["S2_conf"][i, j]))
    cols = ["metric", "parameter", "S1", "S1_conf", "ST", "ST_conf", "rho"]
    return (pd.DataFrame(rows, columns=cols),
            pd.DataFrame(rows2, columns=["metric", "parameter_1", "parameter_2", "S2",
                                         "S2_conf"]) if second else None)


def _spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman's rho (the direction of an effect; NaN when either side is constant)."""
    from scipy.stats import spearmanr
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan")
    return float(spearmanr(x, y)[0])


def morris_indices(data: SweepData, stats: pd.DataFrame, seed: int, notes: list[str]):
    """SALib Morris elementary effects per metric (on the unit cube: per full range)."""
    from SALib.analyze import morris

    problem = _problem(data)
    x = data.design.sort_values("point")[[f"unit:{n}" for n in problem["names"]]].to_numpy()
    levels = int(data.manifest["sweep"].get("levels", 4))
    rows = []
    for m, y in _metric_matrix(data, stats, notes).items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            si = morris.analyze(problem, x, y, num_resamples=NUM_RESAMPLES,
                                conf_level=CONF_LEVEL, num_levels=levels, seed=seed)
        for i, name in enumerate(problem["names"]):
            rows.append(dict(metric=m, parameter=name, mu_star=si["mu_star"][i],
                             mu_star_conf=si["mu_star_conf"][i], mu=si["mu"][i],
                             sigma=si["sigma"][i]))
    return pd.DataFrame(rows, columns=["metric", "parameter", "mu_star", "mu_star_conf", "mu",
                                       "sigma"])


def sample_indices(data: SweepData, stats: pd.DataFrame, seed: int, notes: list[str]):
    """Spearman rank correlations and SALib rbd_fast first-order indices from an LHS or
    Sobol-sequence sample."""
    from scipy.stats import spearmanr
    from SALib.analyze import rbd_fast

    problem = _problem(data)
    x = stats[problem["names"]].to_numpy(float)
    rows = []
    for m, y in _metric_matrix(data, stats, notes).items():
        s1 = s1c = [np.nan] * len(problem["names"])
        if len(y) >= 20:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    si = rbd_fast.analyze(_bounded(problem, x), x, y,
                                          M=max(1, min(10, len(y) // 20)),
                                          num_resamples=NUM_RESAMPLES, conf_level=CONF_LEVEL,
                                          seed=seed)
                s1, s1c = si["S1"], si["S1_conf"]
            except (ValueError, ZeroDivisionError, IndexError) as err:
                notes.append(f"`{m}`: rbd_fast failed ({err}); rank correlations only.")
        for i, name in enumerate(problem["names"]):
            rho, p = spearmanr(x[:, i], y)
            rows.append(dict(metric=m, parameter=name, spearman_rho=rho, p_value=p,
                             S1_rbd_fast=s1[i], S1_rbd_fast_conf=s1c[i]))
    if len(stats) < 20:
        notes.append("fewer than 20 design points: no rbd_fast indices.")
    return pd.DataFrame(rows, columns=["metric", "parameter", "spearman_rho", "p_value",
                                       "S1_rbd_fast", "S1_rbd_fast_conf"])


def grid_effects(data: SweepData, stats: pd.DataFrame) -> pd.DataFrame:
    """Main effects per (metric, parameter): the marginal means over the parameter's values,
    their range, and eta^2, the share of the between-point variance of the mean they explain
    (1 - sum of eta^2 is what interactions explain in a full grid).

    ``diff`` and ``diff_se`` compare the highest- and lowest-scoring values replicate by
    replicate (replicate j shares its random numbers across points, so the pairs cancel most
    of the noise): the effect is distinguishable from noise when ``|diff| > 2 diff_se``.
    """
    rows = []
    values = data.design.set_index("point")[data.names]
    runs = data.runs.join(values, on="point")
    for m in data.metrics:
        y = stats[f"{m}:mean"]
        total = float(((y - y.mean()) ** 2).sum())
        for name in data.names:
            marg = stats.groupby(name, sort=False)[f"{m}:mean"].mean()
            n = stats.groupby(name, sort=False).size()
            between = float((n * (marg - y.mean()) ** 2).sum())
            lo_v, hi_v = marg.idxmin(), marg.idxmax()
            per_rep = runs.groupby([name, "replicate"])[m].mean().unstack(name)
            d = (per_rep[hi_v] - per_rep[lo_v]).dropna()
            se = float(d.std(ddof=1) / np.sqrt(len(d))) if len(d) > 1 else float("nan")
            pooled = runs.groupby(name)[m].agg(["sum", "count"])
            rows.append(dict(metric=m, parameter=name, eta2=between / total if total > 0
                             else np.nan, range=float(marg.max() - marg.min()),
                             min_k=float(pooled.loc[lo_v, "sum"]),
                             min_n=int(pooled.loc[lo_v, "count"]),
                             max_k=float(pooled.loc[hi_v, "sum"]),
                             max_n=int(pooled.loc[hi_v, "count"]),
                             min_mean=float(marg.min()), at_min=lo_v,
                             max_mean=float(marg.max()), at_max=hi_v,
                             diff=float(d.mean()) if len(d) else float("nan"), diff_se=se,
                             marginal_means=json.dumps({_fmtv(k): round(float(v), 4)
                                                        for k, v in marg.items()})))
    return pd.DataFrame(rows)


def _problem(data: SweepData) -> dict[str, Any]:
    p = data.manifest["design"]["problem"]
    return {"num_vars": p["num_vars"], "names": list(p["names"]), "bounds": p["bounds"]}


def _bounded(problem: dict, x: np.ndarray) -> dict:
    lo, hi = x.min(axis=0), x.max(axis=0)
    return {**problem, "bounds": [[float(a), float(b) if b > a else float(a) + 1]
                                  for a, b in zip(lo, hi)]}
