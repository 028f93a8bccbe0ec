"""Figures of a comparison: the paired differences, and the scenarios' timelines overlaid.

What lives here: :func:`differences_figure` (``differences.png``: per outcome, every
replicate's difference from the reference as a dot, with the median (or mean) difference
and its 90% bootstrap interval; the axis spans the differences, not the outcomes, so a tight
difference is visible; outcomes that are constant, or the same in every paired run, are
named in words instead of drawn) and :func:`timelines_figure` (``timelines.png``: cumulative
attacks, strike rounds and deaths, the U.S. presence in Iraq and Syria, and the paired difference of
cumulative attacks from the reference, medians with 50% bands per scenario: where histories
part).

What does not live here: the statistics (``sim.comparison``), running scenarios.
"""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.comparison import constant_metrics
from sim.metrics import bands, daily_measures
from sim.outcomes import LABELS, OUTCOMES
from sim.plots.style import format_date_axis

#: Okabe-Ito, reference first (black).
COLOURS = ("#222222", "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9",
           "#F0E442")


def _colour(i: int) -> str:
    return COLOURS[i % len(COLOURS)]


def differences_figure(summaries: dict[str, pd.DataFrame], table: pd.DataFrame) -> Figure:
    """Per outcome of ``table`` (:func:`sim.comparison.comparison_table`): the per-replicate
    differences of each scenario from the first, with the statistic and its interval."""
    names = list(summaries)
    ref = names[0]
    others = names[1:]
    constant = constant_metrics(table)
    numeric = [m for m in dict.fromkeys(table["metric"])
               if OUTCOMES.get(m) != "date" and m not in constant]
    changed = table[table["scenario"] != ref].groupby("metric")["changed_runs"].sum()
    same = [m for m in numeric if changed.get(m, 0) == 0]
    shown = [m for m in numeric if m not in same]
    cols = min(3, max(1, len(shown)))
    rows = max(1, -(-len(shown) // cols))
    fig = Figure(figsize=(4.6 * cols, 0.9 + (0.55 + 0.38 * len(others)) * rows + 0.9),
                 layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    jitter = np.random.default_rng(0)   # plotting only: where dots sit within their row
    for ax, metric in zip(axes, shown):
        kind = OUTCOMES.get(metric, "median")
        r = summaries[ref][metric].to_numpy(float)
        lo_all, hi_all = [], []
        for j, name in enumerate(others):
            y = len(others) - 1 - j
            d = summaries[name][metric].to_numpy(float) - r
            d = d[np.isfinite(d)]
            row = table[(table["scenario"] == name) & (table["metric"] == metric)].iloc[0]
            if len(d):
                lo_all.append(np.quantile(d, 0.02))
                hi_all.append(np.quantile(d, 0.98))
                ax.scatter(d, y + jitter.uniform(-0.28, 0.28, len(d)), s=6, alpha=0.35,
                           color=_colour(j + 1), lw=0)
            if pd.notna(row["diff"]):
                ax.errorbar([row["diff"]], [y], xerr=[[row["diff"] - row["diff_lo"]],
                                                      [row["diff_hi"] - row["diff"]]],
                            fmt="D", color="black", ms=5, capsize=4, lw=2.2, zorder=3)
                lo_all += [row["diff_lo"]]
                hi_all += [row["diff_hi"]]
            if kind != "share" and pd.notna(row.get("diff_mean")):
                ax.errorbar([row["diff_mean"]], [y - 0.3],
                            xerr=[[row["diff_mean"] - row["diff_mean_lo"]],
                                  [row["diff_mean_hi"] - row["diff_mean"]]],
                            fmt="o", mfc="white", color="#555555", ms=4, capsize=2, lw=1.2,
                            zorder=3)
        ax.axvline(0, color="#888888", lw=1, ls="--")
        lo, hi = min(lo_all + [0]), max(hi_all + [0])
        pad = 0.08 * (hi - lo) if hi > lo else 0.5
        ax.set_xlim(lo - pad, hi + pad)
        ax.set_yticks(range(len(others)), [textwrap.shorten(n, 22) for n in others[::-1]],
                      fontsize=8)
        ax.set_ylim(-0.7, len(others) - 0.4)
        stat = "mean (share)" if kind == "share" else "median"
        ax.set_title(f"{LABELS.get(metric, metric)}\n{stat} of paired differences, 90% interval",
                     fontsize=9)
        ax.grid(axis="x", color="#e0e0e0", lw=0.6)
        ax.tick_params(axis="x", labelsize=8)
    for ax in axes[len(shown):]:
        ax.set_axis_off()
    notes = []
    if constant:
        vals = table[table["metric"].isin(constant)].groupby("metric", sort=False)["min"].first()
        notes.append("the same in every run of every scenario: " + "; ".join(
            f"{LABELS.get(m, m)}: " + ((("in every run" if v else "in no run")
                                        if OUTCOMES.get(m) == "share" else f"{v:g}"))
            for m, v in vals.items()))
    if same:
        notes.append("no difference in any paired run: " + ", ".join(LABELS.get(m, m)
                                                                     for m in same))
    n = len(summaries[ref])
    fig.suptitle(f"Differences from {ref}, replicate by replicate ({n} paired runs: replicate "
                 "i of every scenario shares its random numbers)\ndots: one run's difference; "
                 "diamond and bar: median difference (for a share: mean) and its 90% bootstrap "
                 "interval; open circle below: mean difference; dashed: no difference",
                 fontsize=10)
    if notes:
        fig.supxlabel("\n".join(textwrap.fill(s, 160) for s in notes), fontsize=8)
    return fig


def _presence(summary: pd.DataFrame, dates: pd.DatetimeIndex,
              column: str = "us_left_iraq_date") -> np.ndarray:
    left = pd.to_datetime(summary[column]).to_numpy()
    here = np.ones((len(dates), len(summary)))
    for k, when in enumerate(left):
        if not pd.isna(when):
            here[dates >= when, k] = 0
    return here.mean(axis=1)


def timelines_figure(results: dict[str, object]) -> Figure:
    """The scenarios' ensembles over time, overlaid (``results``: name -> RunResult, the
    first the reference): medians with 50% bands, and the paired difference of cumulative
    attacks from the reference, which shows the day histories part."""
    names = list(results)
    first = results[names[0]]
    start, end = first.scenario.start, first.scenario.end
    dates = pd.date_range(start, end, freq="D")
    series = {}
    for name, res in results.items():
        m = daily_measures(res.events, start, end, np.arange(res.replicates))
        series[name] = {k: np.cumsum(m[k], axis=0) for k in ("attacks", "strike_rounds",
                                                              "deaths")}
    panels = (("attacks", "cumulative attacks"),
              ("strike_rounds", "cumulative U.S. strike rounds\n(days with strikes)"),
              ("deaths", "cumulative U.S. and\ncoalition deaths"))
    fig = Figure(figsize=(12, 13), layout="constrained")
    axes = fig.subplots(5, 1, sharex=True)
    for ax, (key, label) in zip(axes, panels):
        for i, name in enumerate(names):
            b = bands(series[name][key], (0.25, 0.5, 0.75))
            ax.fill_between(dates, b[0.25], b[0.75], color=_colour(i), alpha=0.18, lw=0)
            ax.plot(dates, b[0.5], color=_colour(i), lw=1.5, label=name)
        ax.set_ylabel(label)
    ax = axes[3]
    for i, name in enumerate(names):
        for column, ls, where in (("us_left_iraq_date", "-", "Iraq"),
                                  ("us_left_syria_date", "--", "Syria")):
            if column in results[name].summary:
                ax.plot(dates, 100 * _presence(results[name].summary, dates, column),
                        color=_colour(i), lw=1.5, ls=ls,
                        label=f"in {where}" if i == 0 else None)
    ax.legend(loc="lower left", fontsize=8)
    ax.set_ylabel("runs with U.S. forces\nstill there (%)")
    ax.set_ylim(-3, 103)
    ax = axes[4]
    ref = series[names[0]]["attacks"]
    for i, name in enumerate(names[1:], start=1):
        d = series[name]["attacks"] - ref
        b = bands(d, (0.25, 0.5, 0.75))
        ax.fill_between(dates, b[0.25], b[0.75], color=_colour(i), alpha=0.25, lw=0)
        ax.plot(dates, b[0.5], color=_colour(i), lw=1.5)
        apart = np.flatnonzero((d != 0).any(axis=1))
        if len(apart):
            ax.axvline(dates[apart[0]], color=_colour(i), lw=0.8, ls=":")
            ax.annotate(f"first run apart: {dates[apart[0]].date()}", (dates[apart[0]], 0),
                        xytext=(4, 6 + 12 * (i - 1)), textcoords="offset points",
                        fontsize=8, color=_colour(i))
    ax.axhline(0, color="#888888", lw=1, ls="--")
    ax.set_ylabel(f"cumulative attacks minus\n{textwrap.shorten(names[0], 24)}'s, same run")
    for ax in axes:
        ax.grid(axis="y", color="#e0e0e0", lw=0.6)
        format_date_axis(ax, start, end, labels=ax is axes[-1])
    axes[0].legend(loc="upper left", fontsize=9)
    n = first.replicates
    fig.suptitle(f"{' vs '.join(names)}: {n} paired runs each\nlines: median over runs; "
                 "bands: middle 50% of runs; bottom: the per-run difference from "
                 f"{names[0]} (replicate i against replicate i)", fontsize=11)
    return fig
