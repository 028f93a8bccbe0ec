"""Figures of simulated ensembles beside the documented record.

What lives here: :func:`timeline_figure` (a run's ``timeline.png``: cumulative attacks,
strike rounds, deaths and the escalation level, median with 50% and 90% bands, the record's
own curves drawn by the same measures) and :func:`compare_figure` (several scenarios).

The record is given, not loaded: by default the one the scenario was loaded with
(``load_scenario(path, record=documented())``), or the ``record`` argument.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.documented import Documented, as_documented
from sim.metrics import bands, daily_measures, escalation_level
from sim.plots.style import LETHAL, episode_bands, episode_key, format_date_axis

PANELS = (
    ("attacks", "cumulative attacks", True),
    ("strike_rounds", "cumulative U.S. strike rounds", True),
    ("deaths", "cumulative U.S. and coalition deaths", True),
    ("level", "escalation level\n(highest rung, last 30 days)", False),
)
SIM_COLOUR = "#0072B2"
RECORD_COLOUR = "#222222"


def _series(events, start, end, replicates):
    m = daily_measures(events, start, end, replicates)
    out = {k: np.cumsum(m[k], axis=0) for k in ("attacks", "strike_rounds", "deaths")}
    out["level"] = escalation_level(m["rung"])
    return out


def timeline_figure(result, record: Documented | pd.DataFrame | bool | None = True) -> Figure:
    """The ensemble's median and bands against the documented record, four panels.

    Args:
        result: a :class:`sim.run.RunResult`.
        record: the documented record to draw (a :class:`sim.documented.Documented`, or its
            events alone); True (default) for the one the scenario was loaded with, if any;
            False or None to draw the ensemble alone.
    """
    sc = result.scenario
    start, end = sc.start, sc.end
    dates = pd.date_range(start, end, freq="D")
    sims = _series(result.events, start, end, np.arange(result.replicates))
    if record is True:
        record = getattr(sc, "record", None)
    documented = as_documented(None if record is False else record)
    rec = tallies = episodes = None
    if documented is not None:
        rec = _series(documented.events, start, end, None)
        tallies, episodes = documented.tallies, documented.episodes
        if episodes is not None:
            episodes = episodes[(episodes["end"] >= start) & (episodes["start"] <= end)]
    fig = Figure(figsize=(12, 13), layout="constrained")  # bare: no pyplot, no backend switch
    axes = fig.subplots(4, 1, sharex=True, gridspec_kw={"height_ratios": [1.3, 1, 1, 0.9]})
    for ax, (key, label, cumulative) in zip(axes, PANELS):
        b = bands(sims[key])
        ax.fill_between(dates, b[0.05], b[0.95], color=SIM_COLOUR, alpha=0.15, lw=0,
                        label="simulated 90% band")
        ax.fill_between(dates, b[0.25], b[0.75], color=SIM_COLOUR, alpha=0.3, lw=0,
                        label="simulated 50% band")
        ax.plot(dates, b[0.5], color=SIM_COLOUR, lw=1.6, label="simulated median")
        if rec is not None:
            ax.step(dates, rec[key][:, 0], where="post", color=RECORD_COLOUR, lw=1.4,
                    label="documented record (events listed)")
        ax.set_ylabel(label)
        ax.grid(axis="y", color="#e0e0e0", lw=0.6)
        format_date_axis(ax, start, end, labels=ax is axes[-1])
        if episodes is not None:
            episode_bands(ax, episodes, label=ax is axes[0])
    if tallies is not None:
        # Tallies whose scope matches the model's (all U.S. sites in Iraq, Syria, Jordan).
        t = tallies[(tallies["measure"] == "attacks") & (tallies["end"] <= end)
                    & (tallies["start"] >= start)
                    & tallies["scope"].isin(("iraq_syria", "iraq_syria_jordan"))]
        if len(t):
            base = np.interp(pd.to_datetime(t["start"]).values.astype("datetime64[D]").astype(float),
                             dates.values.astype("datetime64[D]").astype(float),
                             np.median(sims["attacks"], axis=1))
            axes[0].errorbar(pd.to_datetime(t["end"]), base + t["count"].to_numpy(float),
                             fmt="s", color=LETHAL, ms=5, capsize=2,
                             label="documented tally: attacks in its period, stacked on the simulated median "
                                   "at the period's start")
    if rec is not None:
        deaths = load_record_deaths(documented.events, start, end)
        for when, n in deaths:
            axes[2].annotate(f"{n}", (when, rec["deaths"][(when - start).days, 0]),
                             xytext=(0, 6), textcoords="offset points", ha="center",
                             fontsize=7, color=LETHAL)
    axes[3].set_yticks(range(0, 10))
    axes[3].set_ylim(-0.3, 9.3)
    axes[0].legend(loc="upper left", fontsize=8, ncols=2, framealpha=0.9)
    if episodes is not None:
        episode_key(fig, episodes)
    fig.suptitle(f"{sc.name}: {result.replicates} simulated replicates ({result.engine} "
                 f"engine, seed {result.seed}) beside the documented record\n"
                 "The record lists major attacks only; the ~170 attacks of Oct 2023 - Feb 2024 "
                 "are known from tallies (red squares).\nRungs: 2 harmless attack, 3 wounding, "
                 "4 lethal attack, 5 U.S. strike, 6 leader strike, 7 state-on-state.",
                 fontsize=11)
    return fig


def load_record_deaths(record: pd.DataFrame, start, end) -> list[tuple[pd.Timestamp, int]]:
    """Dates and death tolls of the documented lethal attacks (``record``: the documented
    events), for annotation."""
    r = record
    d = r["us_killed"].fillna(0) + r["coalition_killed"].fillna(0)
    r = r[(d > 0) & (r["date"] >= start) & (r["date"] <= end)]
    return [(pd.Timestamp(x), int(n)) for x, n in zip(r["date"], d[d > 0].loc[r.index])]


def compare_figure(results: dict[str, object], metrics=("attacks", "us_killed",
                                                          "strike_rounds",
                                                          "days_at_rung5plus")) -> Figure:
    """Distributions of per-replicate outcomes by scenario (box plots), first = reference."""
    names = list(results)[::-1]  # the reference on top
    fig = Figure(figsize=(3.4 * len(metrics), 2.2 + 0.4 * len(names)), layout="constrained")
    axes = fig.subplots(1, len(metrics))
    for ax, metric in zip(np.atleast_1d(axes), metrics):
        data = [results[n].summary[metric].to_numpy(float) for n in names]
        ax.boxplot(data, orientation="horizontal", tick_labels=names, showfliers=False, widths=0.6,
                   medianprops={"color": SIM_COLOUR, "lw": 2})
        ax.axvline(np.median(data[-1]), color="#999999", ls="--", lw=1)
        ax.set_title(METRIC_LABELS.get(metric, metric.replace("_", " ")), fontsize=10)
        ax.grid(axis="x", color="#e0e0e0")
        if ax is not np.atleast_1d(axes)[0]:
            ax.set_yticklabels([])
    fig.suptitle("Outcomes per replicate over the whole window (boxes: quartiles; whiskers: "
                 f"1.5 IQR; dashed: median of {names[-1]}, the reference)", fontsize=11)
    return fig


METRIC_LABELS = {
    "attacks": "militia attacks (count)",
    "us_killed": "U.S. personnel killed",
    "strike_rounds": "U.S. strike rounds",
    "days_at_rung5plus": "days at rung 5 or more",
}
