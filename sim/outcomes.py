"""Outcomes per day of U.S. presence: deterrence told apart from expulsion.

Fewer attacks on U.S. forces can mean that the militias were deterred, or that the U.S. left
and there was no one left to attack. A run's total hides which; the rate per day of U.S.
presence in each country does not. What lives here: :func:`presence_outcomes` (per replicate,
from the event table and the run's window: the U.S. exit date from each country, the days
of presence there, attacks there while present, and attacks per 100 presence-days),
:func:`window_outcomes` (attacks in a fixed window of dates, :data:`WINDOWS`: the 2024 lull's
``lull_attacks``) and :data:`OUTCOMES` (every per-replicate outcome of a run's summary, with the statistic that
summarises it: a median for skewed counts, a share for yes/no outcomes, a median date).

Everything here works on the shared event schema (DESIGN.md), so ``run``, ``compare``,
sweeps and notebooks compute these numbers the same way. What does not live here: the
ensemble comparison (``sim.comparison``), plots, the CLI.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

COUNTRIES = ("iraq", "syria")
ATTACK_ACTIONS = ("attack", "state_attack")

#: Per-replicate outcomes of a run's summary and how an ensemble of them is summarised:
#: ``median`` (counts, skewed: a few runs with hundreds more attacks pull a mean),
#: ``share`` (yes/no: the share of runs), ``date`` (the median date among runs where it
#: happened). The order is the order of compare's table.
OUTCOMES: dict[str, str] = {
    "attacks": "median", "lethal_attacks": "median", "us_killed": "median",
    "coalition_killed": "median", "us_wounded": "median", "militia_killed": "median",
    "iraqi_killed": "median", "strike_rounds": "median", "leader_strikes": "median",
    "condemnations": "median", "highest_rung": "median", "highest_rung_date": "date",
    "days_at_rung5plus": "median", "iran_direct_attack": "share",
    "us_left_iraq": "share", "us_left_iraq_date": "date",
    "us_left_syria": "share", "us_left_syria_date": "date",
    "presence_days_iraq": "median", "presence_days_syria": "median",
    "attacks_iraq": "median", "attacks_syria": "median",
    "attacks_per_100_presence_days_iraq": "median",
    "attacks_per_100_presence_days_syria": "median",
    "lull_attacks": "median",
}

#: Words for an outcome in sentences and figure titles.
LABELS: dict[str, str] = {
    "attacks": "attacks", "lethal_attacks": "lethal attacks", "us_killed": "U.S. killed",
    "coalition_killed": "coalition killed", "us_wounded": "U.S. wounded",
    "militia_killed": "militia members killed", "iraqi_killed": "Iraqis killed",
    "strike_rounds": "U.S. strike rounds", "leader_strikes": "strikes on leaders",
    "condemnations": "Iraqi condemnations", "highest_rung": "highest rung",
    "highest_rung_date": "date of the highest rung",
    "days_at_rung5plus": "days at rung 5 or more",
    "iran_direct_attack": "Iran attacks U.S. forces directly",
    "us_left_iraq": "U.S. leaves Iraq", "us_left_iraq_date": "U.S. exit from Iraq",
    "us_left_syria": "U.S. leaves Syria", "us_left_syria_date": "U.S. exit from Syria",
    "presence_days_iraq": "days of U.S. presence in Iraq",
    "presence_days_syria": "days of U.S. presence in Syria",
    "attacks_iraq": "attacks in Iraq while the U.S. is there",
    "attacks_syria": "attacks in Syria while the U.S. is there",
    "attacks_per_100_presence_days_iraq": "attacks per 100 presence-days in Iraq",
    "attacks_per_100_presence_days_syria": "attacks per 100 presence-days in Syria",
    "lull_attacks": "attacks in the 2024 lull (2024-02-05..2024-07-15)",
}

#: Outcomes counted in a fixed window of dates (first and last day, inclusive): attacks
#: (militias' and Iran's) in that window, per replicate. A run's summary has the column
#: only when its window holds the whole of these dates (a shorter run would count a part
#: and call it the whole). ``lull_attacks``: the months after the February 2024 U.S.
#: strikes and Kataib Hezbollah's suspension (the record's window of the same name,
#: ``calibration.patterns.LULL_2024``; docs/lull.md).
WINDOWS: dict[str, tuple[str, str]] = {
    "lull_attacks": ("2024-02-05", "2024-07-15"),
}


#: The presence outcomes a sweep can keep as metrics (numbers, one per run; the Syria exit
#: date is left to ``run``): they need the run's events, which a sweep then records.
SWEEP_METRICS: tuple[str, ...] = (
    "us_left_syria", "presence_days_iraq", "presence_days_syria", "attacks_iraq",
    "attacks_syria", "attacks_per_100_presence_days_iraq",
    "attacks_per_100_presence_days_syria")


def engine_presence(out) -> pd.DataFrame:
    """:func:`presence_outcomes` of a batch-engine output, one row per run in its order
    (runs of a sweep share replicate indices across design points, so rows are keyed by
    position, not by replicate)."""
    import dataclasses

    from sim.output import events_frame, summary_frame
    runs = dataclasses.replace(out, replicates=np.arange(len(out.replicates)))
    summary = summary_frame(runs)
    return presence_outcomes(events_frame(runs), out.timeline.start, out.timeline.end,
                             summary["replicate"].to_numpy(), summary["us_left_iraq_date"])


def presence_outcomes(events: pd.DataFrame, start, end, replicates,
                      iraq_exit: pd.Series | None = None) -> pd.DataFrame:
    """Per replicate: U.S. exits, days of presence and attacks per 100 presence-days.

    A country's presence runs from ``start`` to the day before the U.S. exit event there
    (the exit day itself is a day without U.S. forces), or to ``end`` inclusive. Attacks
    count the militias' and Iran's attacks in that country on days of presence.

    Args:
        events: the run's event table (columns ``replicate``, ``date``, ``actor_kind``,
            ``action``, ``country``).
        start, end: the run's window.
        replicates: the replicate indices, in the summary's order.
        iraq_exit: the summary's ``us_left_iraq_date`` (one per replicate, NaT if never):
            the U.S. exit outcome of record; the exit events give it when omitted.

    Returns:
        One row per replicate (index: replicate) with ``us_left_syria``,
        ``us_left_syria_date``, ``presence_days_<country>``, ``attacks_<country>`` and
        ``attacks_per_100_presence_days_<country>`` (NaN when the U.S. was never there).
    """
    start, end = pd.Timestamp(start), pd.Timestamp(end)
    reps = pd.Index(np.asarray(replicates), name="replicate")
    n, window = len(reps), (end - start).days + 1
    # Column by column in NumPy (a 10,000-replicate run has millions of events).
    pos = reps.get_indexer(events["replicate"].to_numpy())
    day = (pd.to_datetime(events["date"]).to_numpy().astype("datetime64[D]")
           - np.datetime64(start.date(), "D")).astype(np.int64)
    action = events["action"]
    attack = action.isin(ATTACK_ACTIONS).to_numpy() & (pos >= 0)
    exit_ = (action == "exit").to_numpy() & (events["actor_kind"] == "us").to_numpy() \
        & (pos >= 0)
    out = pd.DataFrame(index=reps)
    for c in COUNTRIES:
        here = (events["country"] == c).to_numpy()
        if c == "iraq" and iraq_exit is not None:
            when = pd.to_datetime(pd.Series(np.asarray(iraq_exit)))
            left_day = np.where(when.notna(), (when - start).dt.days.fillna(0), window)
        else:
            left_day = np.full(n, window, dtype=np.int64)
            m = exit_ & here
            np.minimum.at(left_day, pos[m], day[m])
        days = np.clip(left_day, 0, window).astype(np.int64)   # the exit day has no U.S.
        left = left_day < window
        if c == "syria":
            out["us_left_syria"] = left
            out["us_left_syria_date"] = pd.Series(
                start + pd.to_timedelta(np.where(left, left_day, 0), unit="D")).where(
                left).to_numpy()
        m = attack & here
        m[m] = day[m] < days[pos[m]]
        counts = np.bincount(pos[m], minlength=n)
        out[f"presence_days_{c}"] = days
        out[f"attacks_{c}"] = counts.astype(np.int64)
        with np.errstate(divide="ignore", invalid="ignore"):
            out[f"attacks_per_100_presence_days_{c}"] = np.where(
                days > 0, 100.0 * counts / np.maximum(days, 1), np.nan)
    return out


def covers(name: str, start, end) -> bool:
    """Whether a run over ``start..end`` holds the whole window of outcome ``name``
    (:data:`WINDOWS`)."""
    first, last = (pd.Timestamp(d) for d in WINDOWS[name])
    return pd.Timestamp(start) <= first and pd.Timestamp(end) >= last


def window_attacks(events: pd.DataFrame, first, last, replicates) -> np.ndarray:
    """Attacks (militias' ``attack`` and Iran's ``state_attack``) dated ``first..last``
    (both inclusive), one count per replicate in the order of ``replicates``.

    ``events`` is an event table in the shared schema; without a ``replicate`` column it is
    one run (the documented record) and ``replicates`` should be ``[0]``.
    """
    reps = pd.Index(np.asarray(replicates))
    if "replicate" in events:
        pos = reps.get_indexer(events["replicate"].to_numpy())
    else:
        pos = np.zeros(len(events), dtype=np.int64)
    day = pd.to_datetime(events["date"]).to_numpy().astype("datetime64[D]")
    lo = np.datetime64(pd.Timestamp(first).date(), "D")
    hi = np.datetime64(pd.Timestamp(last).date(), "D")
    m = (events["action"].isin(ATTACK_ACTIONS).to_numpy() & (pos >= 0)
         & (day >= lo) & (day <= hi))
    return np.bincount(pos[m], minlength=len(reps)).astype(np.int64)


def window_outcomes(events: pd.DataFrame, start, end, replicates) -> pd.DataFrame:
    """Per replicate (index: replicate), each outcome of :data:`WINDOWS` whose window the
    run's ``start..end`` holds whole; the others are left out, not filled with a part."""
    reps = pd.Index(np.asarray(replicates), name="replicate")
    out = pd.DataFrame(index=reps)
    for name, (first, last) in WINDOWS.items():
        if covers(name, start, end):
            out[name] = window_attacks(events, first, last, reps)
    return out


def with_presence(summary: pd.DataFrame, events: pd.DataFrame, start, end) -> pd.DataFrame:
    """``summary`` with the columns of :func:`presence_outcomes` and of
    :func:`window_outcomes` appended (the hook of ``sim.run.run``); the Iraq exit is the
    summary's own ``us_left_iraq_date``."""
    if events is None or summary.empty or "replicate" not in summary:
        return summary
    reps = summary["replicate"].to_numpy()
    extra = presence_outcomes(events, start, end, reps, summary.get("us_left_iraq_date"))
    windows = window_outcomes(events, start, end, reps)
    return pd.concat([summary.reset_index(drop=True), extra.reset_index(drop=True),
                      windows.reset_index(drop=True)], axis=1)
