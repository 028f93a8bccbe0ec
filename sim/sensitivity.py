"""Sensitivity analysis of a finished sweep: indices, response surfaces, a short report.

What lives here: :func:`analyze` (reads ``SWEEP_DIR/runs.parquet``, ``design.parquet`` and
``manifest.json``; writes ``SWEEP_DIR/analysis/``: CSV tables, PNG figures and
``report.md``), and the per-design steps it calls. What does not: running sweeps
(``sim.sweep``), the command line (``sim.commands.analyze``).

Every analysis first averages the replicates of each design point (common random numbers make
those means smooth in the parameters; see ``sim.sweep``), then, by design:

* ``saltelli``: SALib ``sobol.analyze`` per metric: first-order S1 and total ST with
  bootstrap confidence intervals (and S2 when the design has second order);
* ``morris``: SALib ``morris.analyze``: mu*, mu, sigma and the CI of mu*, in metric units per
  sweep of the parameter across its whole range;
* ``lhs`` / ``sobol`` (space-filling samples without Saltelli's structure): Spearman rank
  correlations of each parameter with each metric, SALib ``rbd_fast`` first-order indices
  (given-data, with CIs), scatter plots with binned partial-dependence curves;
* ``grid``: main effects (the range of each parameter's marginal means and the share of the
  between-point variance they explain, eta^2), heatmaps of the mean over replicates for
  two-parameter grids (cells note the spread over replicates), line plots with 90% bands of
  the replicates for one-parameter grids.

Metrics that are days (``*_day``) are averaged over the runs where the event happened; a
design point where it never did leaves that metric out of Sobol/Morris indices.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.errors import InputError

#: Axis labels (with units) of the metrics of sim.dynamics.SUMMARY_COLUMNS.
METRIC_LABELS = {
    "attacks": "militia attacks on U.S. forces (count)",
    "lethal_attacks": "lethal attacks (count)",
    "us_killed": "U.S. personnel killed (count)",
    "coalition_killed": "coalition personnel killed (count)",
    "us_wounded": "U.S. personnel wounded (count)",
    "militia_killed": "militia fighters killed (count)",
    "iraqi_killed": "Iraqis killed by U.S. strikes (count)",
    "strike_rounds": "U.S. strike rounds (count)",
    "leader_strikes": "U.S. leader strikes (count)",
    "condemnations": "Iraqi condemnations (count)",
    "highest_rung": "highest escalation rung reached (0-9)",
    "highest_rung_day": "day the highest rung was first reached (days from start)",
    "days_at_rung5plus": "days at escalation level 5+ (days)",
    "us_left_iraq": "chance the U.S. leaves Iraq (share of runs)",
    "us_left_iraq_day": "day the U.S. left Iraq (days from start, runs where it left)",
    "iran_direct_attack": "chance Iran attacks U.S. forces itself (share of runs)",
}
BINARY = ("us_left_iraq", "iran_direct_attack")
#: Thresholds the report uses to call a Sobol total index large or negligible.
ST_MATTERS, ST_NEGLIGIBLE = 0.05, 0.01
NUM_RESAMPLES = 500
CONF_LEVEL = 0.95


@dataclass
class Analysis:
    """What :func:`analyze` found and wrote."""

    out: Path
    report: str
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    figures: list[Path] = field(default_factory=list)


def analyze(sweep_dir: str | os.PathLike, out: str | os.PathLike | None = None, *,
            seed: int = 0, figures: bool = True) -> Analysis:
    """Analyse the sweep in ``sweep_dir``; write CSVs, PNGs and report.md to ``out``
    (default ``sweep_dir/analysis``), replacing it whole (written aside, then moved).

    Raises:
        InputError: ``sweep_dir`` is not a finished sweep (no runs.parquet or manifest.json).
    """
    sweep_dir = Path(sweep_dir)
    data = load_sweep(sweep_dir)
    out = Path(out) if out is not None else sweep_dir / "analysis"
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        result = _analyze(data, tmp, seed, figures)
        if out.exists():
            shutil.rmtree(out)
        tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    result.out = out
    result.figures = [out / f.name for f in result.figures]
    return result


@dataclass
class SweepData:
    dir: Path
    manifest: dict[str, Any]
    runs: pd.DataFrame
    design: pd.DataFrame
    kind: str
    names: list[str]
    params: list[dict[str, Any]]
    metrics: list[str]
    replicates: int


def load_sweep(sweep_dir: Path) -> SweepData:
    """The sweep's manifest, design and runs (the point, replicate and metric columns)."""
    import pyarrow.parquet as pq

    man_path, runs_path = sweep_dir / "manifest.json", sweep_dir / "runs.parquet"
    if not sweep_dir.is_dir():
        raise InputError(str(sweep_dir), None, "no such sweep folder")
    for p in (man_path, runs_path):
        if not p.is_file():
            raise InputError(str(sweep_dir), p.name, "missing: not a finished sweep (run "
                                                     "`escalation sweep SPEC.toml` first, or "
                                                     "--resume it)")
    try:
        manifest = json.loads(man_path.read_text())
        design_info = manifest["design"]
        metrics = list(manifest["metrics"])
    except (ValueError, KeyError) as err:
        raise InputError(str(man_path), None, f"not a sweep manifest ({err})") from None
    names = [p["path"] for p in design_info["parameters"]]
    runs = pq.read_table(runs_path, columns=["point", "replicate", *metrics]).to_pandas()
    design = pq.read_table(sweep_dir / "design.parquet").to_pandas()
    for m in metrics:
        runs[m] = runs[m].astype(float)
    return SweepData(sweep_dir, manifest, runs, design, design_info["kind"], names,
                     design_info["parameters"], metrics, int(manifest["replicates"]))


def point_stats(data: SweepData) -> pd.DataFrame:
    """Per design point and metric: mean, sd, 5% and 95% over replicates, and the share of
    runs where a day metric happened; joined to the point's parameter values."""
    g = data.runs.groupby("point", sort=True)[data.metrics]
    parts = {"mean": g.mean(), "sd": g.std(ddof=1), "q05": g.quantile(0.05),
             "q95": g.quantile(0.95), "n": g.count()}
    frame = pd.concat({k: v for k, v in parts.items()}, axis=1)
    frame.columns = [f"{m}:{stat}" for stat, m in frame.columns]
    design = data.design.set_index("point")[data.names]
    return design.join(frame, how="inner").reset_index()


# --- The analysis by design ---------------------------------------------------------------------

def _analyze(data: SweepData, out: Path, seed: int, figures: bool) -> Analysis:
    import matplotlib
    matplotlib.use("Agg")

    stats = point_stats(data)
    stats.to_csv(out / "point_means.csv", index=False)
    tables: dict[str, pd.DataFrame] = {"point_means": stats}
    figs: list[Path] = []
    notes: list[str] = []
    if data.kind == "saltelli":
        sobol, s2 = sobol_indices(data, stats, seed, notes)
        tables["sobol_indices"] = sobol
        sobol.to_csv(out / "sobol_indices.csv", index=False)
        if s2 is not None and len(s2):
            tables["sobol_s2"] = s2
            s2.to_csv(out / "sobol_s2.csv", index=False)
        body = _report_sobol(data, sobol, s2)
        if figures and len(sobol):
            figs.append(_fig_indices(data, sobol, out / "sobol_indices.png"))
    elif data.kind == "morris":
        morris = morris_indices(data, stats, seed, notes)
        tables["morris_indices"] = morris
        morris.to_csv(out / "morris_indices.csv", index=False)
        body = _report_morris(data, morris)
        if figures and len(morris):
            figs.append(_fig_morris(data, morris, out / "morris.png"))
    elif data.kind in ("lhs", "sobol"):
        corr = sample_indices(data, stats, seed, notes)
        tables["rank_correlations"] = corr
        corr.to_csv(out / "rank_correlations.csv", index=False)
        body = _report_sample(data, corr)
        if figures:
            for m in data.metrics:
                figs.append(_fig_scatter(data, stats, m, out / f"scatter_{m}.png"))
    elif data.kind == "grid":
        effects = grid_effects(data, stats)
        tables["grid_effects"] = effects
        effects.to_csv(out / "grid_effects.csv", index=False)
        body = _report_grid(data, stats, effects)
        if figures:
            figs += _fig_grid(data, stats, out)
    else:
        raise InputError(str(data.dir / "manifest.json"), "design.kind",
                         f"unknown design {data.kind!r}")
    report = _report_head(data) + body + ("\n## Notes\n\n" + "\n".join(f"- {n}" for n in notes)
                                          + "\n" if notes else "")
    if figs:
        report += "\n## Figures\n\n" + "\n".join(f"- `{f.name}`" for f in figs) + "\n"
    (out / "report.md").write_text(report)
    return Analysis(out, report, tables, figs)


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
            rows.append(dict(metric=m, parameter=name, eta2=between / total if total > 0
                             else np.nan, range=float(marg.max() - marg.min()),
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


# --- Report ------------------------------------------------------------------------------------

def _report_head(data: SweepData) -> str:
    man = data.manifest
    sweep = man["sweep"]
    lines = [f"# Sweep `{sweep['name']}`", ""]
    if sweep.get("description"):
        lines += [sweep["description"].strip(), ""]
    params = []
    for p in data.params:
        rng = (f"values [{', '.join(_fmtv(v) for v in p['values'])}]" if "values" in p else
               f"{p.get('distribution', 'uniform')} on "
               + (f"[{', '.join(_fmtv(v) for v in p['bounds'])}]" if "bounds" in p
                  else "its support"))
        params.append(f"`{p['path']}` ({p['role']}, {rng})")
    lines += [
        f"- design: **{data.kind}**, {man['design']['points']} points x {data.replicates} "
        f"replicates = {man['runs']} runs (seed {man['seed']}); base scenario "
        f"`{man['scenario']['name']}` ({sweep['scenario']['resolved']['start']} .. "
        f"{sweep['scenario']['resolved']['end']})"
        + (f" with {', '.join(f'{k} = {v}' for k, v in sweep['set'].items())}"
           if sweep.get("set") else ""),
        "- varied: " + "; ".join(params),
        "- every design point uses the same random numbers for replicate j (common random "
        "numbers), and indices are computed on the mean over replicates per point.",
        f"- git commit {man.get('git_commit')}", ""]
    return "\n".join(lines) + "\n"


def _label(m: str) -> str:
    return METRIC_LABELS.get(m, m)


def _report_sobol(data: SweepData, t: pd.DataFrame, s2: pd.DataFrame | None) -> str:
    lines = ["## Sobol indices (SALib, Saltelli design)", "",
             f"S1: share of the variance of the point means due to the parameter alone; ST: "
             f"including its interactions. +- is the half-width of the {CONF_LEVEL:.0%} "
             f"bootstrap interval. A parameter matters when ST >= {ST_MATTERS}. rho "
             "(Spearman, over the design points) gives the direction: + means more of the "
             "parameter, more of the metric.", ""]
    for m, g in t.groupby("metric", sort=False):
        g = g.sort_values("ST", ascending=False)
        top = g.iloc[0]
        matters = g[g.ST >= ST_MATTERS].parameter.tolist()
        negl = g[g.ST + g.ST_conf < ST_MATTERS].parameter.tolist()
        lines.append(f"### {m}: {_label(m)}")
        lines.append("")
        lines.append(f"Most influential: `{top.parameter}` (ST = {top.ST:.2f} "
                     f"+- {top.ST_conf:.2f}, S1 = {top.S1:.2f} +- {top.S1_conf:.2f}"
                     + (f"; more of it, {'more' if top.rho > 0 else 'less'} {m}: "
                        f"rho = {top.rho:+.2f}"
                        if np.isfinite(top.rho) and abs(top.rho) >= 0.1 else "") + "). "
                     + (f"Matter: {', '.join(f'`{p}`' for p in matters)}. " if matters else "")
                     + (f"Negligible: {', '.join(f'`{p}`' for p in negl)}." if negl else ""))
        s1 = float(g.S1.clip(lower=0).sum())
        lines.append("")
        lines.append(f"Sum of S1 = {s1:.2f}: " + (
            "the parameters act mostly one at a time." if s1 >= 0.8 else
            f"about {1 - s1:.0%} of the variance comes from interactions (an effect "
            "depends on the others' values)."))
        lines += ["", "| parameter | S1 | ST | rho |", "|---|---|---|---|"]
        for r in g.itertuples():
            lines.append(f"| `{r.parameter}` | {r.S1:.3f} +- {r.S1_conf:.3f} | "
                         f"{r.ST:.3f} +- {r.ST_conf:.3f} | "
                         f"{'n/a' if not np.isfinite(r.rho) else f'{r.rho:+.2f}'} |")
        if s2 is not None and len(s2):
            g2 = s2[s2.metric == m].sort_values("S2", ascending=False)
            if len(g2) and g2.iloc[0].S2 - g2.iloc[0].S2_conf > ST_MATTERS:
                r = g2.iloc[0]
                lines += ["", f"Strongest interaction: `{r.parameter_1}` x `{r.parameter_2}` "
                              f"(S2 = {r.S2:.2f} +- {r.S2_conf:.2f})."]
        lines.append("")
    return "\n".join(lines) + "\n"


def _report_morris(data: SweepData, t: pd.DataFrame) -> str:
    lines = ["## Morris elementary effects (SALib)", "",
             "mu*: mean absolute change of the metric when the parameter moves across its "
             "whole range (metric units); sigma: spread of those changes (non-linearity or "
             f"interactions); +- is the {CONF_LEVEL:.0%} interval of mu*.", ""]
    for m, g in t.groupby("metric", sort=False):
        g = g.sort_values("mu_star", ascending=False)
        top = g.iloc[0]
        lines += [f"### {m}: {_label(m)}", "",
                  f"Most influential: `{top.parameter}` (mu* = {_num(top.mu_star)} "
                  f"+- {_num(top.mu_star_conf)}, mu = {_num(top.mu)}, sigma = "
                  f"{_num(top.sigma)}).",
                  "", "| parameter | mu* | mu | sigma | sigma/mu* |", "|---|---|---|---|---|"]
        for r in g.itertuples():
            ratio = r.sigma / r.mu_star if r.mu_star > 0 else float("nan")
            lines.append(f"| `{r.parameter}` | {_num(r.mu_star)} +- {_num(r.mu_star_conf)} | "
                         f"{_num(r.mu)} | {_num(r.sigma)} | {ratio:.2f} |")
        lines.append("")
    return "\n".join(lines) + "\n"


def _report_sample(data: SweepData, t: pd.DataFrame) -> str:
    lines = ["## Rank correlations and first-order indices", "",
             "Spearman's rho between each parameter and the point means (monotone "
             "association, -1..1); S1 (rbd_fast, SALib): share of variance explained by the "
             "parameter alone, from the same sample.", ""]
    for m, g in t.groupby("metric", sort=False):
        g = g.reindex(g.spearman_rho.abs().sort_values(ascending=False).index)
        top = g.iloc[0]
        lines += [f"### {m}: {_label(m)}", "",
                  f"Strongest: `{top.parameter}` (rho = {top.spearman_rho:+.2f}, "
                  f"p = {top.p_value:.2g}).", "",
                  "| parameter | Spearman rho | p | S1 (rbd_fast) |", "|---|---|---|---|"]
        for r in g.itertuples():
            s1 = ("n/a" if not np.isfinite(r.S1_rbd_fast) else
                  f"{r.S1_rbd_fast:.3f} +- {r.S1_rbd_fast_conf:.3f}")
            lines.append(f"| `{r.parameter}` | {r.spearman_rho:+.3f} | {r.p_value:.2g} | "
                         f"{s1} |")
        lines.append("")
    return "\n".join(lines) + "\n"


def _report_grid(data: SweepData, stats: pd.DataFrame, t: pd.DataFrame) -> str:
    lines = ["## Main effects over the grid", "",
             "For each parameter: the mean of the metric at its lowest- and highest-scoring "
             "value (averaged over the other parameters and the replicates), their difference "
             "+- 2 standard errors (paired replicate by replicate: common random numbers), and "
             "eta^2, the share of the variance between design points its main effect "
             "explains.", ""]
    for m, g in t.groupby("metric", sort=False):
        g = g.sort_values("eta2", ascending=False)
        means = stats[f"{m}:mean"]
        lines += [f"### {m}: {_label(m)}", ""]
        if not np.isfinite(g.eta2).any():
            lines += [f"{_num(means.iloc[0])} at every design point: no parameter moves it "
                      "within this grid.", ""]
            continue
        top = g.iloc[0]
        sd = float(np.sqrt((stats[f"{m}:sd"] ** 2).mean()))
        lines.append(f"Most influential: `{top.parameter}`: from {_num(top.min_mean)} (at "
                     f"{_fmtv(top.at_min)}) to {_num(top.max_mean)} (at {_fmtv(top.at_max)}), "
                     f"difference {_num(top['diff'])} +- {_num(2 * top.diff_se)}"
                     f"{'' if _real(top) else ', within replicate noise'}; eta^2 = "
                     f"{top.eta2:.2f}. Spread of one point's replicates: sd {_num(sd)}.")
        if not any(_real(r) for _, r in g.iterrows()):
            lines.append("No main effect stands out of the replicate noise; more replicates "
                         "would sharpen them.")
        elif len(g) > 1 and 1 - g.eta2.sum() > 0.1:
            lines.append(f"Interactions explain {1 - g.eta2.sum():.0%} of the variance between "
                         "points (the effect of one parameter depends on the other).")
        lines += ["", "| parameter | lowest mean (at) | highest mean (at) | difference +- 2 se "
                      "| eta^2 |", "|---|---|---|---|---|"]
        for r in g.itertuples():
            real = "" if _real(r._asdict()) else " (noise)"
            lines.append(f"| `{r.parameter}` | {_num(r.min_mean)} ({_fmtv(r.at_min)}) | "
                         f"{_num(r.max_mean)} ({_fmtv(r.at_max)}) | {_num(r.diff)} +- "
                         f"{_num(2 * r.diff_se)}{real} | {r.eta2:.2f} |")
        lines.append("")
    return "\n".join(lines) + "\n"


def _real(row) -> bool:
    d, se = row["diff"], row["diff_se"]
    return bool(np.isfinite(d) and abs(d) > 0 and (not np.isfinite(se) or abs(d) > 2 * se))


def _num(x: float) -> str:
    """A number for the report: 3 significant digits, tiny float noise shown as 0."""
    x = float(x)
    if not np.isfinite(x):
        return "n/a"
    return "0" if abs(x) < 1e-9 else f"{x:.3g}"


# --- Figures -----------------------------------------------------------------------------------

def _param_label(data: SweepData, name: str) -> str:
    doc = _param_doc(data, name)
    return f"{name}\n({doc})" if doc else name


def _param_doc(data: SweepData, name: str) -> str:
    from sim.params import ModelParams, describe
    from sim.rules import REGISTRY
    for row in describe(ModelParams()):
        if row["path"] == name:
            return _short(row["doc"])
    key = name.rsplit(".", 1)[-1]
    rule = data.manifest["sweep"]["scenario"]["resolved"].get("us", {}).get("rule")
    for r in ([rule] if rule in REGISTRY else []) + sorted(REGISTRY):
        if key in REGISTRY[r].parameters and name.startswith("us."):
            return _short(REGISTRY[r].parameters[key][3])
    return ""


def _short(text: str, width: int = 48) -> str:
    return text if len(text) <= width else text[:width - 1].rsplit(" ", 1)[0] + "..."


def _title(data: SweepData, text: str) -> str:
    return f"{data.manifest['sweep']['name']}: {text}"


def _fig_grid(data: SweepData, stats: pd.DataFrame, out: Path) -> list[Path]:
    import matplotlib.pyplot as plt

    names = data.names
    figs = []
    if len(names) == 1:
        name = names[0]
        ncol = min(3, len(data.metrics))
        nrow = math.ceil(len(data.metrics) / ncol)
        fig, axes = plt.subplots(nrow, ncol, figsize=(5.2 * ncol, 3.9 * nrow), squeeze=False)
        numeric = pd.api.types.is_numeric_dtype(stats[name])
        s = stats.sort_values(name) if numeric else stats
        x = s[name].to_numpy(float) if numeric else np.arange(len(s))
        for ax, m in zip(axes.flat, data.metrics):
            mean = s[f"{m}:mean"].to_numpy(float)
            if m in BINARY:
                half = 1.645 * np.sqrt(mean * (1 - mean) / np.maximum(s[f"{m}:n"], 1))
                lo, hi = np.clip(mean - half, 0, 1), np.clip(mean + half, 0, 1)
                band = "90% CI of the share"
                ax.set_ylim(0, max(0.05, float(np.max(hi)) * 1.1))
            else:
                lo, hi = s[f"{m}:q05"], s[f"{m}:q95"]
                band = "5-95% of replicates"
            ax.fill_between(x, lo, hi, alpha=0.25, color="#0072B2", label=band)
            ax.plot(x, mean, "o-", color="#0072B2", label=f"mean of {data.replicates} "
                                                           "replicates")
            if not numeric:
                ax.set_xticks(x, s[name])
            ax.set_xlabel(_param_label(data, name), fontsize=9)
            ax.set_ylabel(_label(m), fontsize=9)
            ax.set_title(m, fontsize=10)
            ax.grid(alpha=0.3)
            ax.legend(fontsize=7)
        for ax in list(axes.flat)[len(data.metrics):]:
            ax.axis("off")
        fig.suptitle(_title(data, "response to " + name), fontsize=11)
        fig.tight_layout()
        path = out / "lines.png"
        fig.savefig(path, dpi=120)
        plt.close(fig)
        return [path]
    pairs = [(names[i], names[j]) for i in range(len(names)) for j in range(i + 1, len(names))]
    for a, b in pairs[:3]:
        for m in data.metrics:
            suffix = "" if len(pairs) == 1 else f"_{_slug(a)}_x_{_slug(b)}"
            path = out / f"heatmap_{m}{suffix}.png"
            _fig_heatmap(data, stats, m, a, b, path, marginal=len(names) > 2)
            figs.append(path)
    return figs


def _slug(name: str) -> str:
    return name.replace(".", "-")


def _fig_heatmap(data: SweepData, stats: pd.DataFrame, m: str, a: str, b: str, path: Path,
                 marginal: bool) -> None:
    """Mean of ``m`` over (a, b) with the replicate spread written in each cell."""
    import matplotlib.pyplot as plt

    g = stats.groupby([b, a], sort=False)
    mean = g[f"{m}:mean"].mean().unstack(a)
    ys = _ordered(stats[b])
    xs = _ordered(stats[a])
    mean = mean.reindex(index=ys, columns=xs)
    if m in BINARY:
        n = g[f"{m}:n"].sum().unstack(a).reindex(index=ys, columns=xs)
        spread = 1.96 * np.sqrt(mean * (1 - mean) / n.clip(lower=1))
        note = "cell: share of runs +- 95% CI"
    else:
        lo = g[f"{m}:q05"].mean().unstack(a).reindex(index=ys, columns=xs)
        hi = g[f"{m}:q95"].mean().unstack(a).reindex(index=ys, columns=xs)
        note = "cell: mean [5%-95% of replicates]"
    fig, ax = plt.subplots(figsize=(max(5.5, 1.15 * len(xs) + 3), max(4.2, 0.75 * len(ys) + 2.4)))
    im = ax.imshow(mean.to_numpy(float), origin="lower", aspect="auto", cmap="viridis")
    cbar = fig.colorbar(im, ax=ax)
    cbar.set_label(("mean " if m not in BINARY else "") + _label(m), fontsize=9)
    ax.set_xticks(range(len(xs)), [_fmtv(v) for v in xs])
    ax.set_yticks(range(len(ys)), [_fmtv(v) for v in ys])
    ax.set_xlabel(_param_label(data, a), fontsize=9)
    ax.set_ylabel(_param_label(data, b), fontsize=9)
    vals = mean.to_numpy(float)
    mid = np.nanmin(vals) + 0.5 * (np.nanmax(vals) - np.nanmin(vals))
    small = len(xs) * len(ys) > 42
    for i in range(len(ys)):
        for j in range(len(xs)):
            v = vals[i, j]
            if not np.isfinite(v):
                continue
            if m in BINARY:
                text = f"{v:.2f}" + ("" if small else f"\n+-{spread.iloc[i, j]:.2f}")
            else:
                text = f"{v:.3g}" + ("" if small else
                                     f"\n[{lo.iloc[i, j]:.3g}-{hi.iloc[i, j]:.3g}]")
            ax.text(j, i, text, ha="center", va="center", fontsize=7 if small else 8,
                    color="black" if v > mid else "white")
    over = f" (averaged over {', '.join(n for n in data.names if n not in (a, b))})" \
        if marginal else ""
    ax.set_title(_title(data, f"{m}, mean of {data.replicates} replicates{over}\n{note}"),
                 fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _ordered(col: pd.Series) -> list:
    vals = list(dict.fromkeys(col.tolist()))
    return sorted(vals) if pd.api.types.is_numeric_dtype(col) else vals


def _fmtv(v) -> str:
    if isinstance(v, str):
        return v
    return f"{float(v):g}"


def _fig_indices(data: SweepData, t: pd.DataFrame, path: Path) -> Path:
    import matplotlib.pyplot as plt

    metrics = list(dict.fromkeys(t.metric))
    ncol = min(3, len(metrics))
    nrow = math.ceil(len(metrics) / ncol)
    names = list(dict.fromkeys(t.parameter))
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.6 * ncol + 1.5, 0.45 * len(names) * nrow
                                                  + 2.2 * nrow), squeeze=False)
    y = np.arange(len(names))
    for ax, m in zip(axes.flat, metrics):
        g = t[t.metric == m].set_index("parameter").reindex(names)
        ax.barh(y - 0.2, g.S1, 0.4, xerr=g.S1_conf, label="S1 (first order)", color="#56B4E9",
                capsize=2)
        ax.barh(y + 0.2, g.ST, 0.4, xerr=g.ST_conf, label="ST (total)", color="#D55E00",
                capsize=2)
        ax.set_yticks(y, names if ax in axes[:, 0] else [""] * len(names), fontsize=8)
        ax.set_xlim(min(-0.05, float(np.nanmin(g.S1 - g.S1_conf)) - 0.02),
                    max(1.05, float(np.nanmax(g.ST + g.ST_conf)) + 0.02))
        ax.axvline(0, color="grey", lw=0.8)
        ax.set_xlabel("Sobol index (share of variance)", fontsize=9)
        ax.set_title(_short(f"{m}: {_label(m)}", 60), fontsize=9)
        ax.grid(axis="x", alpha=0.3)
    axes.flat[0].legend(fontsize=7, loc="lower right")
    for ax in list(axes.flat)[len(metrics):]:
        ax.axis("off")
    fig.suptitle(_title(data, f"Sobol indices with {CONF_LEVEL:.0%} bootstrap intervals"),
                 fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def _fig_morris(data: SweepData, t: pd.DataFrame, path: Path) -> Path:
    import matplotlib.pyplot as plt

    metrics = list(dict.fromkeys(t.metric))
    ncol = min(3, len(metrics))
    nrow = math.ceil(len(metrics) / ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(5 * ncol, 4.2 * nrow), squeeze=False)
    for ax, m in zip(axes.flat, metrics):
        g = t[t.metric == m]
        ax.errorbar(g.mu_star, g.sigma, xerr=g.mu_star_conf, fmt="o", color="#0072B2",
                    capsize=2)
        for r in g.itertuples():
            ax.annotate(r.parameter, (r.mu_star, r.sigma), fontsize=7, xytext=(3, 3),
                        textcoords="offset points")
        hi = float(max((g.mu_star + g.mu_star_conf).max(), g.sigma.max(), 1e-9)) * 1.15
        ax.plot([0, hi], [0, hi], ls="--", color="grey", lw=0.8, label="sigma = mu*")
        ax.set_xlim(0, hi)
        ax.set_ylim(0, hi)
        ax.set_xlabel(f"mu* (change in {m} per full range)", fontsize=9)
        ax.set_ylabel("sigma (non-linearity / interactions)", fontsize=9)
        ax.set_title(_short(f"{m}: {_label(m)}", 60), fontsize=9)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    for ax in list(axes.flat)[len(metrics):]:
        ax.axis("off")
    fig.suptitle(_title(data, "Morris screening (mean of replicates per point)"), fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def _fig_scatter(data: SweepData, stats: pd.DataFrame, m: str, path: Path) -> Path:
    """Point means against each parameter, with binned means (partial dependence) and 90%
    bands of those point means per bin."""
    import matplotlib.pyplot as plt
    from scipy.stats import spearmanr

    names = data.names
    ncol = min(3, len(names))
    nrow = math.ceil(len(names) / ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.8 * ncol, 3.8 * nrow), squeeze=False,
                             sharey=True)
    y = stats[f"{m}:mean"].to_numpy(float)
    for ax, name in zip(axes.flat, names):
        x = stats[name].to_numpy(float)
        ax.scatter(x, y, s=8, alpha=0.45, color="#0072B2", label="design point (mean)")
        nb = int(np.clip(len(x) // 15, 3, 12))
        edges = np.quantile(x, np.linspace(0, 1, nb + 1))
        idx = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, nb - 1)
        cx, cm, clo, chi = [], [], [], []
        for k in range(nb):
            sel = (idx == k) & np.isfinite(y)
            if sel.sum() >= 2:
                cx.append(x[sel].mean())
                cm.append(y[sel].mean())
                clo.append(np.quantile(y[sel], 0.05))
                chi.append(np.quantile(y[sel], 0.95))
        ax.fill_between(cx, clo, chi, color="#D55E00", alpha=0.15, label="90% of points in bin")
        ax.plot(cx, cm, "-", color="#D55E00", lw=2, label="binned mean (partial dependence)")
        ok = np.isfinite(y)
        rho = spearmanr(x[ok], y[ok])[0] if ok.sum() > 2 else float("nan")
        ax.set_title(f"Spearman rho = {rho:+.2f}", fontsize=9)
        ax.set_xlabel(_param_label(data, name), fontsize=9)
        ax.grid(alpha=0.3)
    for ax in axes[:, 0]:
        ax.set_ylabel(_label(m), fontsize=9)
    axes.flat[0].legend(fontsize=7, loc="best", framealpha=0.6)
    for ax in list(axes.flat)[len(names):]:
        ax.axis("off")
    fig.suptitle(_title(data, f"{m} (mean of {data.replicates} replicates per point)"),
                 fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
