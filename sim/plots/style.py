"""Shared look of every timeline: colours, markers, the date axis and episode bands.

What lives here: one colour per actor kind and per weapon, one marker per weapon and per
non-violent action, the date-axis formatting for the 2019-10..2024-12 window, and
:func:`episode_bands`, which shades and labels the record's episodes on any axes. Record and
ensemble figures use these so the same thing always looks the same.

What does not live here: any figure itself (``sim.plots.record`` and the ensemble plots).
"""

from __future__ import annotations

from typing import Iterable, Sequence

import matplotlib.dates as mdates
import matplotlib.transforms as mtransforms
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.patches import Patch

#: The model's default window (DESIGN.md), the x-range of every timeline.
WINDOW = (pd.Timestamp("2019-10-01"), pd.Timestamp("2024-12-31"))

#: Deaths are drawn in this red and nothing else is: a reader should find them at a glance.
LETHAL = "#d62728"

# Okabe-Ito colours (colour-blind safe), with red kept for deaths.
ACTOR_COLOURS: dict[str, str] = {
    "militia": "#E69F00",
    "us": "#0072B2",
    "iraq": "#009E73",
    "iran": "#6A3D9A",
}
ACTOR_LABELS: dict[str, str] = {
    "militia": "militias", "us": "U.S.", "iraq": "Iraqi government", "iran": "Iran",
}

#: Weapon -> (colour, marker); marker shapes repeat the colour for grey-scale printing.
WEAPON_STYLES: dict[str, tuple[str, str]] = {
    "rocket": ("#E69F00", "o"),
    "mortar": ("#8C6D1F", "s"),
    "drone": ("#56B4E9", "^"),
    "ballistic_missile": ("#6A3D9A", "D"),
    "ied": ("#8C564B", "P"),
    "small_arms": ("#555555", "X"),
    "crowd": ("#CC79A7", "*"),
    "air_strike": ("#0072B2", "v"),
    "unknown": ("#999999", "o"),
    "": ("#999999", "o"),
}
WEAPON_LABELS: dict[str, str] = {
    "rocket": "rocket", "mortar": "mortar", "drone": "drone",
    "ballistic_missile": "ballistic missile", "ied": "IED", "small_arms": "small arms",
    "crowd": "crowd (storming)", "air_strike": "air strike", "unknown": "unknown weapon",
    "": "unknown weapon",
}

#: Markers of strikes and state attacks, drawn in their actor's colour.
FORCE_MARKERS: dict[str, str] = {"strike": "v", "leader_strike": "*", "state_attack": "D"}

#: Markers of the acts that are not uses of force, in their actor's colour, grouped for the
#: legend: action -> (marker, legend label); an empty label shares its marker's group label.
ACT_STYLES: dict[str, tuple[str, str]] = {
    "statement": ("o", "statement, condemnation"), "condemnation": ("o", ""),
    "directive": ("o", ""), "negotiation": ("p", "negotiation"),
    "agreement": ("P", "agreement"), "vote": ("s", "vote (on the U.S. presence)"),
    "raid": ("X", "raid on a militia"), "suspension": ("d", "truce, suspension, restraint"),
    "restraint": ("d", ""), "designation": ("h", "terrorist designation"),
    "exit": (">", "withdrawal"),
}

EPISODE_FILL = ("#e6e6e6", "#f3f3f3")

#: The escalation ladder's rungs as an axis reads them (DESIGN.md; sim.events.RUNG_LABELS).
#: Rungs 8 (strike on Iranian territory) and 9 (open war) are shown only when reached.
RUNG_TICKS: dict[int, str] = {
    0: "0 none",
    1: "1 verbal",
    2: "2 non-damaging attack or storming",
    3: "3 damaging or wounding attack",
    4: "4 lethal attack",
    5: "5 U.S. strike on facilities",
    6: "6 strike killing leaders",
    7: "7 state-on-state attack",
    8: "8 strike on Iranian territory",
    9: "9 open war",
}

#: How a documented tally's count is drawn, by its ``bound``: (marker, legend words).
TALLY_BOUNDS: dict[str, tuple[str, str]] = {
    "exact": ("o", "count as documented"),
    "about": ("D", "about (approximate count)"),
    "at_least": ("^", "at least (a lower bound)"),
}


def rung_axis(ax: Axes, highest: float = 7) -> None:
    """Rungs 0-7 with their names on the y axis (8 and 9 too when ``highest`` reaches them)."""
    top = int(max(7, min(9, highest)))
    ax.set_yticks(range(0, top + 1), [RUNG_TICKS[r] for r in range(0, top + 1)], fontsize=8)
    ax.set_ylim(-0.3, top + 0.3)


def format_date_axis(ax: Axes, start=WINDOW[0], end=WINDOW[1], labels: bool = True) -> None:
    """Years as major ticks, quarters as minor ticks, over the given window."""
    ax.set_xlim(pd.Timestamp(start), pd.Timestamp(end))
    ax.xaxis.set_major_locator(mdates.YearLocator())
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
    ax.xaxis.set_minor_locator(mdates.MonthLocator(bymonth=(4, 7, 10)))
    ax.tick_params(axis="x", which="minor", length=3)
    ax.tick_params(axis="x", labelbottom=labels)
    ax.grid(axis="x", which="major", color="#bbbbbb", linewidth=0.6)


def stagger(xs: Sequence[float], widths: Sequence[float], levels: int) -> list[int]:
    """Give each label (centre ``x``, width, in one unit) the lowest level where it fits.

    Greedy, left to right: a label goes to the first level whose last label ends before it
    starts; when none is free it takes the level that frees up soonest. Enough for tens of
    labels on a timeline, and deterministic.
    """
    ends = [float("-inf")] * levels
    out = []
    for x, w in zip(xs, widths):
        free = [i for i in range(levels) if ends[i] <= x - w / 2]
        level = free[0] if free else min(range(levels), key=ends.__getitem__)
        ends[level] = x + w / 2
        out.append(level)
    return out


def dodge(xs: Sequence[float], widths: Sequence[float]) -> list[float]:
    """Move labels (centres ``xs`` in order, widths in the same unit) apart along one line.

    Touching labels form a group that is spread edge to edge and centred on the mean of
    its members' positions; groups that then touch merge. The result keeps the labels'
    order and never overlaps, with each label as close to its point as its group allows.
    """
    groups: list[list[int]] = []
    pos = [float(x) for x in xs]

    def place(group: list[int]) -> None:
        span = [sum(widths[group[0]:k]) for k in range(group[0], group[-1] + 1)]
        offsets = [span[k] + widths[i] / 2 for k, i in enumerate(group)]
        shift = sum(xs[i] - o for i, o in zip(group, offsets)) / len(group)
        for i, o in zip(group, offsets):
            pos[i] = o + shift

    for i in range(len(pos)):
        groups.append([i])
        place(groups[-1])
        while len(groups) > 1:
            a, b = groups[-2], groups[-1]
            if pos[a[-1]] + widths[a[-1]] / 2 <= pos[b[0]] - widths[b[0]] / 2:
                break
            groups[-2:] = [a + b]
            place(groups[-1])
    return pos


def days_per_point(ax: Axes) -> float:
    """How many days of the x-axis one typographic point covers (for label widths)."""
    lo, hi = ax.get_xlim()
    width_in = ax.get_position().width * ax.figure.get_figwidth()
    return (hi - lo) / (width_in * 72)


def _sorted_episodes(episodes: pd.DataFrame) -> pd.DataFrame:
    return episodes.sort_values(["start", "end"], kind="stable").reset_index(drop=True)


def episode_bands(ax: Axes, episodes: pd.DataFrame | None, label: bool = True,
                  fontsize: float = 8, levels: int = 3, min_days: float = 5) -> list:
    """Shade each episode (``start``..``end`` inclusive) and, if ``label``, number it above.

    Call it on every panel of a timeline (with ``label`` only on the top one) so the episodes
    line up through the figure, and :func:`episode_key` once for the numbers' meaning: the
    record's episodes are many and some last days, so full names above a five-year axis
    would collide. Numbers sit above the axes, staggered over ``levels`` rows; bands shorter
    than ``min_days`` are widened to it so a one-week crisis stays visible. Call after the
    x-limits are set.

    Returns:
        The number Text artists (empty when ``label`` is false).
    """
    texts: list = []
    if episodes is None or len(episodes) == 0:
        return texts
    eps = _sorted_episodes(episodes)
    starts = mdates.date2num(pd.to_datetime(eps["start"]))
    ends = mdates.date2num(pd.to_datetime(eps["end"])) + 1
    mids = (starts + ends) / 2
    for i, (s, e, m) in enumerate(zip(starts, ends, mids)):
        half = max(e - s, min_days) / 2
        ax.axvspan(m - half, m + half, color=EPISODE_FILL[i % 2], zorder=0, lw=0)
        ax.axvline(m - half, color="#c8c8c8", lw=0.5, zorder=0.5)
    if not label:
        return texts
    per_pt = days_per_point(ax)
    numbers = [str(i + 1) for i in range(len(eps))]
    rows = stagger(mids, [(len(n) * 0.62 * fontsize + 4) * per_pt for n in numbers], levels)
    trans = mtransforms.blended_transform_factory(ax.transData, ax.transAxes)
    for m, number, row in zip(mids, numbers, rows):
        texts.append(ax.annotate(
            number, xy=(m, 1), xycoords=trans, xytext=(0, 2 + row * (fontsize + 2)),
            textcoords="offset points", ha="center", va="bottom", fontsize=fontsize,
            fontweight="bold", color="#444444", annotation_clip=False))
    return texts


def episode_key(fig, episodes: pd.DataFrame | None, ncol: int = 3, fontsize: float = 8,
                title: str = "Episodes (shaded, numbered above panel a)"):
    """The meaning of :func:`episode_bands`' numbers, as a legend under the figure.

    Needs a figure with ``layout="constrained"`` so the key gets its own space.
    """
    if episodes is None or len(episodes) == 0:
        return None
    eps = _sorted_episodes(episodes)
    labels = [f"{i + 1}  {e.label} ({pd.Timestamp(e.start):%b %Y} - {pd.Timestamp(e.end):%b %Y})"
              for i, e in enumerate(eps.itertuples())]
    handles = [Patch(color=EPISODE_FILL[i % 2], ec="#c8c8c8") for i in range(len(eps))]
    return fig.legend(handles, labels, loc="outside lower center", ncol=ncol, fontsize=fontsize,
                      frameon=False, title=title,
                      title_fontsize=fontsize + 1, handlelength=1.2, columnspacing=1.5)


def legend_outside(ax: Axes, handles: Iterable, title: str | None = None, **kwargs) -> None:
    """A legend to the right of the axes, so it never hides data."""
    ax.legend(handles=list(handles), title=title, loc="upper left", bbox_to_anchor=(1.01, 1),
              borderaxespad=0, frameon=False, fontsize=8, title_fontsize=8, **kwargs)
