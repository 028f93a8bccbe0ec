"""The timeline and coverage figures of the record (``escalation record --plot``).

What lives here: one drawing function per panel (:func:`draw_events`, :func:`draw_cumulative`,
:func:`draw_rungs`), :func:`draw_record` that puts the record's layer on given axes (so an
ensemble figure can draw its simulated bands and then the record on the same axes), and
:func:`plot_record` for the stand-alone figure; :func:`plot_coverage` for the coverage
figure (rows per month by actor and by source quality, tallies against the record's counts).
Every function takes an event table in the shared schema (or tables computed from one), so
the same panels can show simulated events.

What does not live here: colours, markers, date axes and episode bands (``sim.plots.style``),
loading the data (``calibration.record``).
"""

from __future__ import annotations

import textwrap
from typing import Sequence

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from sim.events import RUNG_LABELS, RUNG_MAX, RUNG_MIN
from sim.plots import style

ATTACKS = ("attack", "storming")
STRIKES = ("strike", "leader_strike")
_COUNTRY = {"iraq": "Iraq", "syria": "Syria", "jordan": "Jordan", "iran": "Iran",
            "": "place unknown"}


def _row(event) -> str:
    """The strip-chart row of one event."""
    kind, action = event.actor_kind, event.action
    if kind == "militia":
        if action in ATTACKS:
            country = event.country if isinstance(event.country, str) else ""
            return f"Militia attacks: {_COUNTRY.get(country, country)}"
        return "Militia statements, truces"
    if kind == "us":
        return "U.S. strikes" if action in STRIKES else "U.S. other acts"
    if kind == "iran":
        return "Iran: state attacks" if action == "state_attack" else "Iran: other acts"
    return "Iraqi government"


ROW_ORDER = ("Militia attacks: Iraq", "Militia attacks: Syria", "Militia attacks: Jordan",
             "Militia attacks: place unknown", "Iran: state attacks", "U.S. strikes",
             "Militia statements, truces", "Iran: other acts", "Iraqi government",
             "U.S. other acts")
_JITTER = np.array([0.0, 0.2, -0.2, 0.1, -0.1, 0.25, -0.25])


def _deaths(events: pd.DataFrame) -> pd.Series:
    """Deaths an event caused on the other side: U.S./coalition for attacks, else all."""
    us = events["us_killed"].fillna(0) + events["coalition_killed"].fillna(0)
    other = (events["militia_killed"].fillna(0) + events["iraqi_killed"].fillna(0)
             + events["civilian_killed"].fillna(0))
    attack = events["action"].isin(ATTACKS + ("state_attack",))
    return pd.Series(np.where(attack, us, us + other), index=events.index).astype(int)


def _act_label(action: str) -> str:
    """The legend label of an act's marker group (acts sharing a marker share a label)."""
    marker = style.ACT_STYLES[action][0]
    return next(lab for m, lab in style.ACT_STYLES.values() if m == marker and lab)


def _header(text: str) -> Line2D:
    """A legend line with no symbol, used as a section heading."""
    return Line2D([], [], ls="none", label=text)


def draw_events(ax: Axes, events: pd.DataFrame, annotate: bool = True,
                legend: bool = True) -> list[str]:
    """Panel (a): one row of markers per kind of act; deaths in red, labelled.

    Attacks are coloured and shaped by weapon; strikes and Iran's attacks by action; other
    acts by kind of act, in their actor's colour. Same-day events are spread vertically in
    their row so that a barrage reads as a cluster, not as one dot.

    Returns:
        The row labels, top to bottom.
    """
    events = events.reset_index(drop=True)
    rows = [_row(e) for e in events.itertuples()]
    present = [r for r in ROW_ORDER if r in rows]
    ypos = {r: len(present) - 1 - i for i, r in enumerate(present)}
    y = np.array([ypos[r] for r in rows], dtype=float)
    order = pd.Series(rows).groupby([pd.Series(rows), events["date"]]).cumcount().to_numpy()
    y = y + _JITTER[order % len(_JITTER)]
    x = mdates.date2num(events["date"])
    deaths = _deaths(events).to_numpy()
    weapons = events["weapon"].fillna("").astype(str).to_numpy()
    used: dict[str, dict[str, Line2D]] = {"weapon": {}, "force": {}, "act": {}}
    for i, e in enumerate(events.itertuples()):
        lethal = deaths[i] > 0
        actor = style.ACTOR_COLOURS.get(e.actor_kind, "#777777")
        if e.action in ATTACKS:
            colour, marker = style.WEAPON_STYLES.get(weapons[i], style.WEAPON_STYLES[""])
            group, key, key_colour = "weapon", style.WEAPON_LABELS.get(weapons[i]), colour
        elif e.action in STRIKES + ("state_attack",):
            colour, marker = actor, style.FORCE_MARKERS[e.action]
            group, key_colour = "force", actor
            key = {"strike": "U.S. strike", "leader_strike": "U.S. strike on leaders",
                   "state_attack": "Iran: state attack"}[e.action]
        else:
            known = e.action in style.ACT_STYLES
            colour, marker = actor, style.ACT_STYLES[e.action][0] if known else "o"
            group, key, key_colour = "act", _act_label(e.action) if known else e.action, "#666666"
        size = 9 if lethal else (8 if marker == "*" else 5.5)
        ax.plot(x[i], y[i], marker=marker, ms=size, ls="none",
                mfc=style.LETHAL if lethal else colour, mec="black" if lethal else colour,
                mew=0.8 if lethal else 0.4, alpha=1 if lethal else 0.85,
                zorder=4 if lethal else 3)
        used[group].setdefault(key, Line2D([], [], marker=marker, ls="none", mfc=key_colour,
                                           mec=key_colour, ms=8 if marker == "*" else 6,
                                           label=key))
    if annotate:
        _label_deaths(ax, x, y, deaths)
    ax.set_yticks(list(ypos.values()), list(ypos.keys()), fontsize=8)
    ax.set_ylim(-0.6, len(present) - 0.15)   # room for the top row's death labels
    for r in range(len(present) - 1):
        ax.axhline(r + 0.5, color="#cccccc", lw=0.5, zorder=1)
    ax.tick_params(axis="y", length=0)
    if legend:
        weapon_order = list(style.WEAPON_LABELS.values())
        handles = [_header("Attacks, by weapon:"),
                   *sorted(used["weapon"].values(), key=lambda h: weapon_order.index(
                       h.get_label())),
                   _header("Strikes and state attacks:"), *used["force"].values(),
                   Line2D([], [], marker="o", ls="none", mfc=style.LETHAL, mec="black", ms=8,
                          label="lethal: number killed above\n(U.S./coalition, for attacks)"),
                   _header("Other acts (actor's colour):"), *used["act"].values()]
        style.legend_outside(ax, handles, handletextpad=0.4)
    return present


def _label_deaths(ax: Axes, x: np.ndarray, y: np.ndarray, deaths: np.ndarray) -> None:
    """Write each lethal day's deaths above its row, one label per row and day.

    Same-day strikes share one label (their sum), so a round of strikes reads as one number.
    Labels crowded together are spread sideways (:func:`sim.plots.style.dodge`) with a thin
    leader line to their day, so neighbours never read as one number.
    """
    idx = np.flatnonzero(deaths > 0)
    if not len(idx):
        return
    lethal = pd.DataFrame({"x": x[idx], "row": np.round(y[idx]), "deaths": deaths[idx]})
    days = lethal.groupby(["row", "x"], as_index=False)["deaths"].sum()
    per_pt = style.days_per_point(ax)
    top = _JITTER.max()
    for row, group in days.groupby("row"):
        labels = [str(d) for d in group["deaths"]]
        xs = group["x"].to_numpy()
        placed = style.dodge(xs, [(len(t) * 0.6 * 7 + 5) * per_pt for t in labels])
        for gx, px, text in zip(xs, placed, labels):
            moved = abs(px - gx) / per_pt > 1
            ax.annotate(text, xy=(gx, row + top), xytext=((px - gx) / per_pt, 11),
                        textcoords="offset points", ha="center", va="bottom", fontsize=7,
                        color=style.LETHAL, fontweight="bold", zorder=5,
                        arrowprops=dict(arrowstyle="-", color=style.LETHAL, lw=0.5,
                                        shrinkA=1, shrinkB=2) if moved else None)


#: Tally scope -> marker in panel (b).
SCOPE_MARKERS = {"iraq": ("o", "Iraq"), "syria": ("s", "Syria"),
                 "iraq_syria": ("D", "Iraq + Syria"),
                 "iraq_syria_jordan": ("^", "Iraq + Syria + Jordan")}
#: Tally measures comparable with a cumulative count of rows: measure -> (actions, actor kind).
TALLY_MEASURES = {"attacks": (ATTACKS + ("state_attack",), "militia"),
                  "strikes": (STRIKES, "us")}


def comparable_tallies(tallies: pd.DataFrame) -> pd.DataFrame:
    """Tallies of attacks or strikes, without the split of a period also tallied as a whole.

    Sources often give a total and its Iraq/Syria split for the same period; drawing the
    split too would put three points where one says it.
    """
    t = tallies[tallies["measure"].isin(list(TALLY_MEASURES))]
    scopes = t.groupby(["start", "end", "measure"])["scope"].agg(set)

    def is_split(row) -> bool:
        countries = set(row.scope.split("_"))
        return any(countries < set(other.split("_"))
                   for other in scopes[(row.start, row.end, row.measure)])
    return t[[not is_split(r) for r in t.itertuples()]]


def draw_cumulative(ax: Axes, events: pd.DataFrame, tallies: pd.DataFrame | None = None,
                    legend: bool = True, label_prefix: str = "documented") -> None:
    """Panel (b): cumulative documented attacks and strikes, against the published tallies.

    A tally counts events over a period, so it is drawn where the documented line would
    have to reach to agree with it: at the period's end, at the documented count before
    the period plus the tallied count (a whisker up to ``count_high``; a dotted line from
    the period's start). Where the points sit far above the line, the rows miss most of
    the events, as in October 2023 - February 2024.
    """
    handles = []
    for measure, (actions, kind) in TALLY_MEASURES.items():
        days = events.loc[events["action"].isin(actions), "date"].sort_values()
        xs = pd.concat([pd.Series([style.WINDOW[0]]), days, pd.Series([style.WINDOW[1]])])
        ys = np.r_[0, np.arange(1, len(days) + 1), len(days)]
        name = "attacks" if measure == "attacks" else "U.S. strikes"
        (line,) = ax.step(xs, ys, where="post", color=style.ACTOR_COLOURS[kind], lw=1.8,
                          label=f"{label_prefix} {name} (cumulative rows)", zorder=3)
        ax.annotate(f"{len(days)} {name}", xy=(style.WINDOW[1], len(days)), xytext=(-4, 3),
                    textcoords="offset points", ha="right", va="bottom", fontsize=8,
                    color=style.ACTOR_COLOURS[kind])
        handles.append(line)
    if tallies is not None and len(tallies):
        shown = comparable_tallies(tallies)
        for t in shown.itertuples():
            actions, kind = TALLY_MEASURES[t.measure]
            colour = style.ACTOR_COLOURS[kind]
            base = int((events["action"].isin(actions) & (events["date"] < t.start)).sum())
            top = base + t.count
            ax.plot([t.start, t.end], [base, top], ls=":", lw=0.8, color=colour, zorder=2)
            if pd.notna(t.count_high) and t.count_high > t.count:
                ax.vlines(t.end, top, base + t.count_high, color=colour, lw=1.2, zorder=2)
            ax.plot(t.end, top, marker=SCOPE_MARKERS[t.scope][0], ms=5.5, ls="none",
                    mfc="white", mec=colour, mew=1.3, zorder=4)
        if len(shown):
            handles.append(Line2D([], [], ls=":", lw=0.8, color="#555555", marker="o",
                                  mfc="white", mec="#555555", mew=1.3,
                                  label="published tally: documented count at its start +\n"
                                        "tallied count, at its end (whisker: high estimate)"))
            for scope in [s for s in SCOPE_MARKERS if s in set(shown["scope"])]:
                marker, text = SCOPE_MARKERS[scope]
                handles.append(Line2D([], [], ls="none", marker=marker, mfc="white",
                                      mec="#555555", mew=1.3, label=f"tally scope: {text}"))
    ax.set_ylabel("cumulative count since Oct 2019")
    ax.set_ylim(bottom=0)
    if legend:
        style.legend_outside(ax, handles)


def draw_rungs(ax: Axes, events: pd.DataFrame, legend: bool = True) -> None:
    """Panel (c): each event as a stem up to its rung of the escalation ladder."""
    for kind, group in events.groupby(events["actor_kind"].astype(str), sort=False):
        colour = style.ACTOR_COLOURS.get(kind, "#777777")
        x = mdates.date2num(group["date"])
        ax.vlines(x, RUNG_MIN, group["rung"], color=colour, lw=0.8, alpha=0.6)
        ax.plot(x, group["rung"], "o", ms=3.5, color=colour,
                label=style.ACTOR_LABELS.get(kind, kind))
    ticks = list(range(RUNG_MIN, RUNG_MAX + 1))
    ax.set_yticks(ticks, [f"{r} " + "\n".join(textwrap.wrap(RUNG_LABELS[r], 26)) for r in ticks],
                  fontsize=7)
    ax.set_ylim(RUNG_MIN - 0.4, RUNG_MAX + 0.4)
    ax.set_ylabel("escalation rung")
    ax.grid(axis="y", color="#e5e5e5", lw=0.5)
    if legend:
        handles, labels = ax.get_legend_handles_labels()
        order = [labels.index(style.ACTOR_LABELS[k]) for k in style.ACTOR_LABELS
                 if style.ACTOR_LABELS[k] in labels]
        style.legend_outside(ax, [handles[i] for i in order], title="actor")


def draw_record(axes: Sequence[Axes], events: pd.DataFrame, tallies: pd.DataFrame | None,
                episodes: pd.DataFrame | None) -> None:
    """The record's layer on three shared-x axes: events, cumulative counts, rungs."""
    ax_events, ax_cum, ax_rung = axes
    for ax in axes:
        style.format_date_axis(ax, labels=ax is ax_rung)
    draw_events(ax_events, events)
    draw_cumulative(ax_cum, events, tallies)
    draw_rungs(ax_rung, events)
    for ax in axes:
        style.episode_bands(ax, episodes, label=ax is ax_events)
        style.format_date_axis(ax, labels=ax is ax_rung)   # bands must not widen the limits


def plot_record(events: pd.DataFrame, tallies: pd.DataFrame | None = None,
                episodes: pd.DataFrame | None = None) -> Figure:
    """The stand-alone timeline of the documented record, 2019-10 to 2024-12.

    Returns:
        A matplotlib Figure; save it with ``fig.savefig(path, dpi=150)``.
    """
    n_rows = len({_row(e) for e in events.itertuples()}) or 1
    # A bare Figure, not pyplot: no GUI backend, no global figure registry to leak in loops.
    fig = Figure(figsize=(15, 4.2 + 0.62 * n_rows + 7.2), layout="constrained")
    axes = fig.subplots(3, 1, sharex=True, gridspec_kw={
        "height_ratios": [max(n_rows * 0.62, 1.5), 3.0, 4.2]})
    draw_record(axes, events, tallies, episodes)
    first, last = style.WINDOW
    fig.suptitle("The documented record: militia attacks, U.S. strikes and escalation in Iraq "
                 f"and Syria, {first:%b %Y} - {last:%b %Y}", fontsize=13, fontweight="bold")
    axes[0].set_title("(a) Documented events, by kind (episodes shaded and numbered: key below)",
                      loc="left", fontsize=10, pad=34)
    axes[1].set_title(
        "(b) Cumulative attacks and U.S. strikes: documented rows (lines) against published "
        "tallies (points). Most of the ~170 attacks of Oct 2023 - Feb 2024 are known only "
        "from the tallies", loc="left", fontsize=10)
    axes[2].set_title("(c) Escalation rung of each event", loc="left", fontsize=10)
    axes[2].set_xlabel("date")
    style.episode_key(fig, episodes)
    return fig


# --- Coverage (``escalation record --plot``: FILE.coverage.png) ---------------------------

#: Colours of the source qualities, best first (dark to light, "other" grey).
QUALITY_COLOURS = {"official": "#08306b", "major_outlet": "#4292c6", "tracker": "#E69F00",
                   "other": "#bdbdbd"}
QUALITY_LABELS = {"official": "official release", "major_outlet": "major outlet",
                  "tracker": "research tracker", "other": "other"}
#: Tally measures and how their record value is counted (panel c's labels).
MEASURE_LABELS = {"attacks": "attacks", "drone_attacks": "drone attacks",
                  "fatalities_us_coalition": "U.S./coalition deaths",
                  "us_injured": "U.S. wounded", "strikes": "strike days"}


def _stacked_months(ax: Axes, table: pd.DataFrame, colours: dict[str, str],
                    labels: dict[str, str], title: str) -> None:
    """Monthly stacked bars of ``table``'s columns in ``colours`` order."""
    months = pd.PeriodIndex(table.index, freq="M")
    x = mdates.date2num(months.to_timestamp() + pd.Timedelta(days=15))
    bottom = np.zeros(len(table))
    for col, colour in colours.items():
        if col not in table:
            continue
        values = table[col].to_numpy(dtype=float)
        ax.bar(x, values, width=26, bottom=bottom, color=colour, label=labels.get(col, col),
               edgecolor="white", linewidth=0.3)
        bottom += values
    empty = x[bottom == 0]
    ax.plot(empty, np.zeros(len(empty)), "|", color="#d62728", ms=6, mew=1.2,
            label="month without a row")
    ax.set_ylabel("rows per month")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(title, loc="left", fontsize=10)
    style.legend_outside(ax, ax.get_legend_handles_labels()[0])


def draw_tally_coverage(ax: Axes, tallies: pd.DataFrame) -> None:
    """Panel (c): each tally's published count (hollow) against the record's count of the
    same thing (filled), on a log scale, with the share written at the right."""
    t = tallies[tallies["record"].notna()].reset_index(drop=True)
    y = np.arange(len(t))[::-1]
    count = t["count"].to_numpy(dtype=float)
    record = t["record"].to_numpy(dtype=float)
    lo = 0.7   # where a zero is drawn on the log axis
    ax.hlines(y, np.maximum(np.minimum(count, record), lo), np.maximum(count, record),
              color="#999999", lw=1, zorder=1)
    ax.plot(np.maximum(count, lo), y, "o", mfc="white", mec="#333333", mew=1.2, ms=6,
            label="published tally (count)", zorder=3)
    ax.plot(np.maximum(record, lo), y, "o", color="#d62728", ms=5,
            label="record rows counted the same way", zorder=4)
    ax.set_xscale("log")
    ax.set_xlim(0.5, max(count.max(), record.max(), 1) * 12)   # room for the shares
    labels = [f"{r.start:%Y-%m-%d}..{r.end:%Y-%m-%d}  "
              f"{MEASURE_LABELS.get(r.measure, r.measure)} ({r.scope.replace('_', '+')})"
              for r in t.itertuples()]
    ax.set_yticks(y, labels, fontsize=7)
    ax.set_ylim(-0.7, len(t) - 0.3)
    for yi, share in zip(y, t["share"]):
        if pd.notna(share):
            ax.annotate(f"{share:.0%}", xy=(1, yi), xycoords=("axes fraction", "data"),
                        xytext=(-4, 0), textcoords="offset points", ha="right", va="center",
                        fontsize=7,
                        color="#d62728" if share < 0.5 else "#333333")
    ax.grid(axis="x", color="#e5e5e5", lw=0.5)
    ax.set_xlabel("count (log scale; a zero is drawn at the left edge)")
    ax.set_title("(c) Published tallies against the record's rows (share at right: record / "
                 "tally; red below 50%)", loc="left", fontsize=10)
    style.legend_outside(ax, ax.get_legend_handles_labels()[0])


def plot_coverage(by_month: pd.DataFrame, tallies: pd.DataFrame, title: str = "the record"
                  ) -> Figure:
    """Where the record is thin: rows per month by actor kind and by source quality, and
    each published tally against the record's count of the same thing.

    Args:
        by_month: :func:`sim.commands.record.coverage_by_month`.
        tallies: :func:`sim.commands.record.tally_coverage`.
    """
    n = int(tallies["record"].notna().sum())
    fig = Figure(figsize=(15, 7.5 + 0.2 * n), layout="constrained")
    axes = fig.subplots(3, 1, gridspec_kw={"height_ratios": [2.2, 2.2, max(0.2 * n, 1.5)]})
    from sim.events import ACTOR_KINDS
    _stacked_months(axes[0], by_month, {k: style.ACTOR_COLOURS[k] for k in ACTOR_KINDS},
                    style.ACTOR_LABELS, "(a) Rows per month, by actor")
    _stacked_months(axes[1], by_month, QUALITY_COLOURS, QUALITY_LABELS,
                    "(b) Rows per month, by the quality of their best source")
    for ax in axes[:2]:
        style.format_date_axis(ax)
        ax.set_ylim(bottom=0)
    draw_tally_coverage(axes[2], tallies)
    fig.suptitle(f"Coverage of {title}: what the rows hold, month by month, and how much of "
                 "each published count they list", fontsize=13, fontweight="bold")
    return fig
