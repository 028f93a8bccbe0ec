"""The words of an analysis: report.md, one section per design.

What lives here: the report's head and one ``_report_<design>`` per design, from the tables
of ``sim.sensitivity.indices``. What does not: computing them, drawing them.
"""

from __future__ import annotations


import numpy as np
import pandas as pd

from sim.sensitivity.data import SweepData, _fmtv, _label
from sim.sensitivity.indices import CONF_LEVEL


#: Thresholds the report uses to call a Sobol total index large or negligible.
ST_MATTERS, ST_NEGLIGIBLE = 0.05, 0.01


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
        if not top.ST - top.ST_conf > 0:
            lines.append(f"No parameter's total index stands out of its interval (largest: "
                         f"`{top.parameter}`, ST = {top.ST:.2f} +- {top.ST_conf:.2f}): within "
                         "these ranges, the parameters do not move this metric beyond the "
                         "noise of the estimate; a larger sample would sharpen it.")
        else:
            lines.append(f"Most influential: `{top.parameter}` (ST = {top.ST:.2f} "
                         f"+- {top.ST_conf:.2f}, S1 = {top.S1:.2f} +- {top.S1_conf:.2f}"
                         + (f"; more of it, {'more' if top.rho > 0 else 'less'} {m}: "
                            f"rho = {top.rho:+.2f}"
                            if np.isfinite(top.rho) and abs(top.rho) >= 0.1 else "") + "). "
                         + (f"Matter: {', '.join(f'`{p}`' for p in matters)}. "
                            if matters else "")
                         + (f"Negligible: {', '.join(f'`{p}`' for p in negl)}."
                            if negl else ""))
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
        head = (f"Most influential: `{top.parameter}` (mu* = {_num(top.mu_star)} "
                f"+- {_num(top.mu_star_conf)}, mu = {_num(top.mu)}, sigma = "
                f"{_num(top.sigma)})." if top.mu_star - top.mu_star_conf > 0 else
                f"No parameter's mu* stands out of its interval (largest: `{top.parameter}`, "
                f"mu* = {_num(top.mu_star)} +- {_num(top.mu_star_conf)}).")
        lines += [f"### {m}: {_label(m)}", "", head,
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
                  (f"Strongest: `{top.parameter}` (rho = {top.spearman_rho:+.2f}, "
                   f"p = {top.p_value:.2g})." if top.p_value < 0.05 else
                   f"No rank correlation stands out of the noise (strongest: "
                   f"`{top.parameter}`, rho = {top.spearman_rho:+.2f}, p = "
                   f"{top.p_value:.2g})."), "",
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
             "For each parameter: the metric at its lowest- and highest-scoring value "
             "(pooled over the other parameters and the replicates; a share as 'k of n' with "
             "its 95% Wilson interval), their difference with its 95% interval (paired "
             "replicate by replicate: common random numbers), and eta^2, the share of the "
             "variance between design points its main effect explains. An effect whose "
             "interval holds 0 is noise: it gets no 'largest effect' sentence and no eta^2.",
             ""]
    for m, g in t.groupby("metric", sort=False):
        g = g.sort_values("eta2", ascending=False)
        means = stats[f"{m}:mean"]
        lines += [f"### {m}: {_label(m)}", ""]
        if not np.isfinite(g.eta2).any():
            lines += [f"{_num(means.iloc[0])} at every design point: no parameter moves it "
                      "within this grid.", ""]
            continue
        real = g[[_real(r) for _, r in g.iterrows()]]
        sd = float(np.sqrt((stats[f"{m}:sd"] ** 2).mean()))
        if len(real):
            top = real.iloc[0]
            lines.append(f"Largest effect: `{top.parameter}`: from {_at(m, top, 'min')} to "
                         f"{_at(m, top, 'max')}, difference {_diff(top)}; eta^2 = "
                         f"{top.eta2:.2f}. Spread of one point's replicates: sd {_num(sd)}.")
            others = [f"`{r.parameter}`" for _, r in real.iloc[1:].iterrows()]
            if others:
                lines.append("Also beyond the noise: " + ", ".join(others) + ".")
            if len(g) > 1 and 1 - g.eta2.sum() > 0.1:
                lines.append(f"Interactions (or noise) explain {1 - g.eta2.sum():.0%} of the "
                             "variance between points: see the interaction plots.")
        else:
            lines.append("No main effect stands out of the replicate noise (every difference's "
                         f"interval holds 0; replicates' sd {_num(sd)}); more replicates "
                         "would sharpen them.")
        lines += ["", "| parameter | lowest (at) | highest (at) | difference (95% interval) "
                      "| eta^2 |", "|---|---|---|---|---|"]
        for _, r in g.iterrows():
            if _tie(r):
                lines.append(f"| `{r.parameter}` | same at every value: {_at(m, r, 'min', False)}"
                             " | same | 0 | n/a (noise) |")
                continue
            is_real = _real(r)
            lines.append(f"| `{r.parameter}` | {_at(m, r, 'min')} | {_at(m, r, 'max')} | "
                         f"{_diff(r)}{'' if is_real else ' (noise)'} | "
                         f"{f'{r.eta2:.2f}' if is_real else 'n/a (noise)'} |")
        lines.append("")
    return "\n".join(lines) + "\n"


def _tie(row) -> bool:
    return bool(abs(row["max_mean"] - row["min_mean"]) < 1e-12)


def _at(m: str, row, end: str, where: bool = True) -> str:
    """The metric at the lowest- or highest-scoring value of a parameter: a share as
    'k of n (lo-hi%)', a mean as a number; '(at value)' after it."""
    from sim.sensitivity.data import BINARY
    from sim.sensitivity.intervals import fmt_share, wilson

    if m in BINARY and np.isfinite(row.get(f"{end}_n", np.nan)):
        k, n = row[f"{end}_k"], row[f"{end}_n"]
        lo, hi = wilson(k, n)
        text = fmt_share(k, n, float(lo), float(hi))
    else:
        text = _num(row[f"{end}_mean"])
    return text + (f" (at {_fmtv(row[f'at_{end}'])})" if where else "")


def _diff(row) -> str:
    """The paired difference and its interval, +- 2 standard errors (about 95%): the same
    test as :func:`_real`."""
    from sim.sensitivity.data import BINARY

    d, se = float(row["diff"]), float(row["diff_se"])
    if row["metric"] in BINARY:             # shares: percentage points
        pts = (lambda x: f"{100 * x:+.0f}" if abs(100 * x) >= 1 or x == 0 else
               f"{100 * x:+.1f}")
        return (f"{pts(d)} points" if not np.isfinite(se) else
                f"{pts(d)} points ({pts(d - 2 * se)} to {pts(d + 2 * se)})")
    if not np.isfinite(se):
        return _num(d)
    return f"{_num(d)} ({_num(d - 2 * se)} to {_num(d + 2 * se)})"


def _real(row) -> bool:
    d, se = row["diff"], row["diff_se"]
    return bool(np.isfinite(d) and abs(d) > 0 and (not np.isfinite(se) or abs(d) > 2 * se))


def _num(x: float) -> str:
    """A number for the report: 3 significant digits, tiny float noise shown as 0."""
    x = float(x)
    if not np.isfinite(x):
        return "n/a"
    return "0" if abs(x) < 1e-9 else f"{x:.3g}"
