"""The batch engine: many replicates of one scenario advanced in lockstep with NumPy.

It calls exactly the phase functions of ``sim.dynamics`` that the Mesa engine's agents call,
on arrays whose first axis is the replicate. Sweeps and calibration run here; replicates may
carry different parameters (``overrides``: dotted path -> one value per replicate).

What does not live here: dynamics (``sim.dynamics``), turning codes into tables
(``sim.output``), chunking and progress (``sim.run``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim import dynamics as dyn
from sim.arrays import ParamArrays, Timeline
from sim.params import ModelParams
from sim.replay import Schedule, build_schedule
from sim.rng import replicate_keys


@dataclass
class EngineOutput:
    """Raw output of an engine: event codes, daily series (days x n), summary accumulators,
    and (:func:`simulate` only) the state after the last day, for what no series records
    (e.g. Iran's directive on a forecast's origin, without a days x n table)."""

    replicates: np.ndarray
    timeline: Timeline
    sites: list[str]
    events: dict[str, np.ndarray] | None
    daily: dict[str, np.ndarray] | None
    summary: dict[str, np.ndarray]
    state: "dyn.State | None" = None


def simulate(params: ModelParams, start, end, seed: int, replicates, *,
             overrides: dict[str, np.ndarray] | None = None, record_events: bool = True,
             record_daily: bool | str = True, schedule: Schedule | None = None) -> EngineOutput:
    """Run ``replicates`` (indices) of a scenario from ``start`` to ``end`` together.

    ``record_daily``: True, the daily series of every replicate (days x n); False, none;
    ``"sum"``, each daily column summed over the replicates (days x 1).
    """
    reps = np.asarray(list(replicates), dtype=np.int64)
    timeline = Timeline(start, end)
    p = ParamArrays(params, len(reps), timeline, overrides)
    if schedule is None:
        schedule = build_schedule(params.replay, timeline, p.sites)
    s = dyn.State.initial(p, replicate_keys(seed, reps))
    # Room for ~500 events a replicate (the history window has about that many).
    log = dyn.EventLog(max(4096, 512 * len(reps))) if record_events else None
    rec = dyn.Recorder(s, timeline.days, record_daily)
    # Days with documented events (history replay) run phase by phase; the others in runs of
    # compiled days that stop only where the deterrence rule must be asked.
    special = sorted(set(schedule.by_day) | set(schedule.exits))
    if schedule.forced:   # forced days run phase by phase (up to replay.until)
        last = timeline.days if schedule.forced_days is None else schedule.forced_days
        special = sorted(set(special) | set(range(last)))
    t = 0
    for stop in special + [timeline.days]:
        if t < stop:
            t = run_days(s, p, t, stop, log, rec)
        if stop < timeline.days:
            step_day(s, p, stop, log, schedule)
            rec.end_of_day(s, stop)
            t = stop + 1
    return EngineOutput(reps, timeline, p.sites, log.columns() if log else None, rec.daily,
                        rec.summary(), s)


def run_days(s: dyn.State, p: ParamArrays, t: int, stop: int, log, rec) -> int:
    """Days ``t`` .. ``stop - 1`` without documented events, compiled (``dyn.run_days``); the
    deterrence rule in force is asked here, in Python, on the days it is needed."""
    n = s.n
    strike, leaders, ask = (np.zeros(n, bool) for _ in range(3))
    size = np.zeros(n)
    rows, count = (log.rows, log.count) if log is not None else (dyn._NO_ROWS, dyn._NO_COUNT)
    P = dyn.param_record(p)
    # What the rule sees: contiguous tables the compiled days fill each day (dyn.record_seen,
    # the days since the last leader strike included), and the rule's uniform numbers.
    obs, seen_i, seen_f, u_rule = dyn.seen_tables(n)
    resume = False
    while True:
        t, rows, asked = dyn.run_days(s.rec, P, t, stop, resume, strike, size, leaders,
                                      p.inputs, p.restraint_override, dyn._ALL_FACTIONS,
                                      rec.table, rec.add, ask, rows, count, seen_i, seen_f,
                                      u_rule)
        if not asked:
            break
        obs.day = t
        resp = p.rule_on(t).respond(obs, u_rule)
        np.logical_and(ask, resp.strike, out=strike)
        size[:] = resp.size
        leaders[:] = resp.leaders
        resume = True
    if log is not None:
        log.rows = rows
    return t


def step_day(s: dyn.State, p: ParamArrays, t: int, log, schedule: Schedule) -> None:
    """One day for every replicate, in DESIGN.md's order (the Mesa model's step mirrors it)."""
    for country in schedule.exits.get(t, ()):
        dyn.force_exit(s, t, log, country)
    dyn.iran_phase(s, p, t, log, schedule.get(t, "iran"))
    militia_events = schedule.get(t, "militia")
    dyn.militia_phase(s, p, t, log, forced=schedule.is_forced(t, "militia"))
    if militia_events:
        dyn.documented_attacks(s, p, t, log, militia_events)
    dyn.us_phase(s, p, t, log, schedule.get(t, "us"))
    dyn.iraq_phase(s, p, t, log, schedule.get(t, "iraq"))


def warm_up() -> None:
    """Load the compiled days from numba's on-disk cache with a three-day run (about 0.4 s
    once per process; ``sim.warm`` does it in the sweep's forkserver, before workers fork)."""
    import pandas as pd

    simulate(ModelParams(), pd.Timestamp("2020-01-01"), pd.Timestamp("2020-01-03"), 0,
             range(2), record_events=True, record_daily=True)
