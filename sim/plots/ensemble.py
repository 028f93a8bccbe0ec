"""Figures of simulated ensembles beside the documented record.

What lives here: :func:`timeline_figure` (a run's ``timeline.png``: cumulative attacks, the
documented tallies against the simulated counts over the same periods, strike rounds, deaths
and the escalation level, median with 50% and 90% bands, the record's own curves drawn by the
same measures) and :func:`compare_figure` (several scenarios).

How the record is drawn, and why:

* Its listed events (the rows of ``events.csv``) are counted exactly as the simulation's
  (:func:`sim.metrics.daily_measures`): an attack row is an attack; a strike round is a day
  with one or more U.S. strikes, however many rows (targets) that day has.
* A tally is a documented count over a period (``tallies.csv``: "at least 150 attacks between
  2023-10-17 and 2024-01-28"), not an event: it is drawn as what it is, a horizontal segment
  over its period at the count's level on its own per-period axis, with its ``bound`` (exact,
  about, at least) as the marker at its end and the simulated count over the very same period
  (median and 90% interval) beside it. Only tallies whose scope is the model's (U.S. sites
  in Iraq and Syria, with or without Jordan) are drawn.
* The figure is titled by the scenario it shows (:attr:`sim.scenario.Scenario.title`): a
  scenario changed by ``--set`` or in code says so.

The record is given, not loaded: by default the one the scenario was loaded with
(``load_scenario(path, record=documented())``), or the ``record`` argument.
"""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from sim.documented import Documented, as_documented
from sim.metrics import bands, daily_measures, escalation_level
from sim.plots.style import (LETHAL, TALLY_BOUNDS, episode_bands, episode_key,
                             format_date_axis, rung_axis)

PANELS = (
    ("attacks", "cumulative attacks", True),
    ("tallies", "attacks in a documented\ntally's period", False),
    ("strike_rounds", "cumulative U.S. strike rounds\n(days with one or more\nU.S. strikes)",
     True),
    ("deaths", "cumulative U.S. and\ncoalition deaths", True),
    ("level", "escalation level\n(highest rung of the\nlast 30 days)", False),
)
SIM_COLOUR = "#0072B2"
RECORD_COLOUR = "#222222"
#: Tally scopes that match the model's (every U.S. site it simulates is in Iraq or Syria, and
#: Tower 22 in Jordan): tallies of Iraq or Syria alone count a part of what the model counts.
MODEL_SCOPES = ("iraq_syria", "iraq_syria_jordan")


def _series(events, start, end, replicates):
    m = daily_measures(events, start, end, replicates)
    out = {k: np.cumsum(m[k], axis=0) for k in ("attacks", "strike_rounds", "deaths")}
    out["level"] = escalation_level(m["rung"])
    out["daily_attacks"] = m["attacks"]
    return out


def attack_tallies(tallies: pd.DataFrame | None, start, end) -> pd.DataFrame:
    """The documented attack tallies a timeline draws: the model's scope, inside the window."""
    if tallies is None or not len(tallies):
        return pd.DataFrame(columns=["start", "end", "count", "count_high", "bound"])
    t = tallies[(tallies["measure"] == "attacks") & tallies["scope"].isin(MODEL_SCOPES)
                & (pd.to_datetime(tallies["start"]) >= pd.Timestamp(start))
                & (pd.to_datetime(tallies["end"]) <= pd.Timestamp(end))]
    return t.sort_values(["start", "end"]).reset_index(drop=True)


def simulated_period_counts(daily_attacks: np.ndarray, start, periods: pd.DataFrame
                            ) -> np.ndarray:
    """Simulated attacks within each period's start..end (both days included): periods x
    replicates, from the daily counts (days x replicates) of a run starting on ``start``."""
    cum = np.vstack([np.zeros((1, daily_attacks.shape[1])), np.cumsum(daily_attacks, axis=0)])
    d0 = (pd.to_datetime(periods["start"]) - pd.Timestamp(start)).dt.days.to_numpy()
    d1 = (pd.to_datetime(periods["end"]) - pd.Timestamp(start)).dt.days.to_numpy() + 1
    return cum[d1] - cum[d0]


def _draw_tallies(ax, tallies: pd.DataFrame, sims: dict, start) -> None:
    if not len(tallies):
        ax.text(0.5, 0.5, "no documented tally of attacks in this window", ha="center",
                va="center", transform=ax.transAxes, color="#666666", fontsize=9)
        return
    sim = simulated_period_counts(sims["daily_attacks"], start, tallies)
    lo, med, hi = np.quantile(sim, [0.05, 0.5, 0.95], axis=1)
    t0, t1 = pd.to_datetime(tallies["start"]), pd.to_datetime(tallies["end"])
    counts = tallies["count"].to_numpy(float)
    ax.hlines(counts, t0, t1 + pd.Timedelta(days=1), color=RECORD_COLOUR, lw=1.2, alpha=0.8)
    for bound, (marker, _words) in TALLY_BOUNDS.items():
        mine = (tallies["bound"] == bound).to_numpy()
        if mine.any():
            ax.plot(t1[mine], counts[mine], marker, color=RECORD_COLOUR, ms=5, ls="none",
                    mfc="white" if bound == "about" else RECORD_COLOUR)
    high = tallies["count_high"].notna().to_numpy()
    if high.any():
        ax.vlines(t1[high], counts[high], tallies["count_high"][high].to_numpy(float),
                  color=RECORD_COLOUR, lw=2)
    ax.errorbar(t1 + pd.Timedelta(days=4), med, yerr=[med - lo, hi - med], fmt="_",
                color=SIM_COLOUR, ms=7, lw=1, capsize=0, alpha=0.8)
    handles = [Line2D([], [], color=RECORD_COLOUR, lw=1.2, label="documented tally: a count "
                      "over its period (segment), at its end:")]
    handles += [Line2D([], [], color=RECORD_COLOUR, marker=m, ls="none", ms=5,
                       mfc="white" if b == "about" else RECORD_COLOUR, label=words)
                for b, (m, words) in TALLY_BOUNDS.items() if (tallies["bound"] == b).any()]
    handles.append(Line2D([], [], color=SIM_COLOUR, marker="_", ms=7, lw=1,
                          label="simulated attacks in the same period: median, 90% interval"))
    ax.legend(handles=handles, loc="upper left", fontsize=8, framealpha=0.9)
    ax.set_ylim(bottom=0)


def timeline_figure(result, record: Documented | pd.DataFrame | bool | None = True) -> Figure:
    """The ensemble's median and bands against the documented record, five panels.

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
    rec = episodes = None
    tallies = attack_tallies(None, start, end)
    if documented is not None:
        rec = _series(documented.events, start, end, None)
        tallies = attack_tallies(documented.tallies, start, end)
        episodes = documented.episodes
        if episodes is not None:
            episodes = episodes[(episodes["end"] >= start) & (episodes["start"] <= end)]
    panels = [p for p in PANELS if p[0] != "tallies" or documented is not None]
    ratios = {"attacks": 1.2, "tallies": 1.1, "strike_rounds": 0.9, "deaths": 0.9,
              "level": 1.1}
    fig = Figure(figsize=(12, 3 * len(panels)), layout="constrained")  # no pyplot
    axes = fig.subplots(len(panels), 1, sharex=True,
                        gridspec_kw={"height_ratios": [ratios[p[0]] for p in panels]})
    for ax, (key, label, _cumulative) in zip(axes, panels):
        ax.set_ylabel(label, fontsize=9)
        ax.grid(axis="y", color="#e0e0e0", lw=0.6)
        format_date_axis(ax, start, end, labels=ax is axes[-1])
        if episodes is not None:
            episode_bands(ax, episodes, label=ax is axes[0])
        if key == "tallies":
            _draw_tallies(ax, tallies, sims, start)
            continue
        b = bands(sims[key])
        ax.fill_between(dates, b[0.05], b[0.95], color=SIM_COLOUR, alpha=0.15, lw=0,
                        label="simulated 90% band")
        ax.fill_between(dates, b[0.25], b[0.75], color=SIM_COLOUR, alpha=0.3, lw=0,
                        label="simulated 50% band")
        ax.plot(dates, b[0.5], color=SIM_COLOUR, lw=1.6, label="simulated median")
        if rec is not None:
            ax.step(dates, rec[key][:, 0], where="post", color=RECORD_COLOUR, lw=1.4,
                    label="documented record (its listed events)")
        if key == "level":
            reached = max(np.max(sims[key]), np.max(rec[key]) if rec is not None else 0)
            rung_axis(ax, reached)
    by_key = dict(zip((p[0] for p in panels), axes))
    if rec is not None:
        for when, n in load_record_deaths(documented.events, start, end):
            by_key["deaths"].annotate(f"{n}", (when, rec["deaths"][(when - start).days, 0]),
                                      xytext=(0, 6), textcoords="offset points", ha="center",
                                      fontsize=7, color=LETHAL)
    by_key["attacks"].legend(loc="upper left", fontsize=8, ncols=2, framealpha=0.9)
    if episodes is not None:
        episode_key(fig, episodes, ncol=2,
                    title="Episodes of the record (shaded, numbered above the top panel)")
    lines = [f"{sc.title}: {result.replicates} simulated replicates ({result.engine} engine, "
             f"seed {result.seed})" + (" beside the documented record" if rec is not None
                                       else "")]
    if rec is not None:
        listed = int(rec["attacks"][-1, 0])
        lines += textwrap.wrap(f"The record lists {listed} attacks (militias' and Iran's) one "
                               "by one in this window; the documented tallies (second panel) "
                               "count attacks it does not list, period by period.", width=110)
    fig.suptitle("\n".join(lines), fontsize=11)
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
