"""The figure of the 2024 lull: attacks per week, January to August 2024, history against
each what-if (``sim.lull``; docs/lull.md).

What lives here: :func:`lull_figure`, one panel per what-if, each with history's weekly
attacks and the what-if's (median over the runs, and the band of 90% of runs), the record's
documented attacks per week, the dates of January-February 2024 and the lull's window shaded.
What does not: running the scenarios and the paired table (``sim.lull``).
"""

from __future__ import annotations

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.lull import FIRST, FIGURE_WINDOW, LAST, weekly_attacks
from sim.plots.compare import COLOURS

#: The dates of the question, drawn on every panel.
DATES = (("2024-01-28", "Tower 22"), ("2024-01-30", "KH suspension"),
         ("2024-02-02", "85 targets"), ("2024-02-07", "KH commander"))


def lull_figure(results: dict, record=None, level: float = 0.90) -> Figure:
    """Attacks per week (Jan-Aug 2024): the first of ``results`` (history) on every panel,
    one panel per other scenario.

    Args:
        results: scenario name -> :class:`sim.run.RunResult` (events kept), the reference
            first (:func:`sim.lull.run_lull`).
        record: the documented record (``calibration.documented()`` or its events table):
            its attacks per week are drawn as outlined bars; None draws none.
        level: the band: this share of runs lies inside it (5%-95% by default).
    """
    names = list(results)
    ref, others = names[0], names[1:] or names[:1]
    lo_q, hi_q = (1 - level) / 2, 1 - (1 - level) / 2
    series = {}
    for name, res in results.items():
        weeks, counts = weekly_attacks(res.events, range(res.replicates))
        series[name] = (weeks, counts)
    documented = None
    if record is not None:
        events = getattr(record, "events", record)
        weeks, counts = weekly_attacks(events, [0])
        documented = (weeks, counts[:, 0])

    fig = Figure(figsize=(11, 2.6 * len(others) + 1.0), layout="constrained")
    axes = np.atleast_1d(fig.subplots(len(others), 1, sharex=True, sharey=True, squeeze=False)
                         ).ravel()
    top = 1.0
    for i, (ax, name) in enumerate(zip(axes, others)):
        ax.axvspan(pd.Timestamp(FIRST), pd.Timestamp(LAST) + pd.Timedelta(days=1),
                   color="#f2f2f2", lw=0, zorder=0)
        if documented is not None:
            w, c = documented
            ax.bar(w + pd.Timedelta(days=3.5), c, width=6, facecolor="none",
                   edgecolor="#444444", lw=1, zorder=4, label="record: documented attacks")
            top = max(top, c.max())
        for j, n in enumerate((ref, name) if name != ref else (ref,)):
            w, c = series[n]
            mid = w + pd.Timedelta(days=3.5)
            colour = COLOURS[0] if n == ref else COLOURS[1 + (i % (len(COLOURS) - 1))]
            lo, med, hi = np.quantile(c, [lo_q, 0.5, hi_q], axis=1)
            ax.fill_between(mid, lo, hi, color=colour, alpha=0.18, lw=0, zorder=2)
            ax.plot(mid, med, color=colour, lw=2, zorder=3,
                    label=f"{n}: median, {level:.0%} of runs")
            top = max(top, hi.max())
        for day, label in DATES:
            ax.axvline(pd.Timestamp(day), color="#d62728", lw=0.8, ls="--", zorder=1)
            if i == 0:
                ax.annotate(label, (pd.Timestamp(day), 1.0), xycoords=("data", "axes fraction"),
                            xytext=(2, -2), textcoords="offset points", fontsize=7,
                            color="#d62728", rotation=90, va="top", ha="left")
        ax.set_ylabel("attacks per week")
        ax.legend(frameon=False, fontsize=8, loc="upper right")
        ax.grid(color="#eeeeee", zorder=0)
        ax.set_title(f"{name} against {ref}", fontsize=10, loc="left")
    axes[0].set_ylim(0, top * 1.08)
    axes[0].annotate(f"the lull {FIRST}..{LAST}", (pd.Timestamp(FIRST), 0.9),
                     xycoords=("data", "axes fraction"), xytext=(40, 0),
                     textcoords="offset points", fontsize=8, color="#666666")
    axes[-1].set_xlim(pd.Timestamp(FIGURE_WINDOW[0]), pd.Timestamp(FIGURE_WINDOW[1]))
    axes[-1].xaxis.set_major_locator(mdates.MonthLocator())
    axes[-1].xaxis.set_major_formatter(mdates.DateFormatter("%b %Y"))
    n = results[ref].replicates
    fig.suptitle(f"Attacks on U.S. forces per week, January-August 2024: {n} paired runs "
                 "per scenario (shaded: the lull)", fontsize=11)
    return fig
