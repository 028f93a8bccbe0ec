"""Turning points: how the record went on after its major acts, and how the model goes on
from the state the record left at each.

A free run does not put its lethal attacks and strike rounds on the record's days, so no
target can ask how the actors answer one particular act. A conditioned run can: it replays
the record for every actor up to the act (``[replay] until``, the record as it stood that
day) and lets the model decide after it. Its attacks over the following window are the
model's answer to "given everything up to this day, what next?".

What lives here: the turning points (:data:`TURNING_POINTS`: the day of a documented U.S.
strike round, leader strike or Iranian state attack, with the :data:`WINDOW_DAYS` days after
it; and the 2024 lull, in the window issue 10 uses), and :func:`response_table` (the record's
documented attacks in each window beside the conditioned ensemble's median and 90% band).
What does not live here: the replay (``sim.replay``), the observation model
(``calibration.observation``: a simulated attack counts where the record would list it).

By default these are checks. ``escalation calibrate --turning-points`` also fits them, as
``calibration.targets.turning_point_targets`` (an experiment; the README reports it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from calibration import targets as tg
from calibration.simulator import conditioned, simulate_events

#: Days after a turning point over which attacks are counted: a convention, the same for
#: every point (long enough for a retaliation wave, short enough to end before the next act).
WINDOW_DAYS = 60


@dataclass(frozen=True)
class TurningPoint:
    name: str
    origin: str        # the last day replayed from the record
    start: str         # the window whose documented attacks are counted
    end: str
    description: str


def _after(name: str, day: str, description: str) -> TurningPoint:
    d = pd.Timestamp(day)
    return TurningPoint(name, day, (d + pd.Timedelta(days=1)).strftime("%Y-%m-%d"),
                        (d + pd.Timedelta(days=WINDOW_DAYS)).strftime("%Y-%m-%d"), description)


#: The record's major acts (calibration/data/events.csv), in order.
TURNING_POINTS: tuple[TurningPoint, ...] = (
    _after("iran_missiles_2020", "2020-01-08",
           "Iran's missiles on Ain al-Asad and Erbil, five days after the strike on Soleimani"),
    _after("taji_strikes_2020", "2020-03-13",
           "U.S. strikes on Kataib Hezbollah after the Camp Taji deaths"),
    _after("syria_strikes_2021", "2021-02-25",
           "U.S. strikes in Syria after the Erbil rocket attack"),
    _after("june_strikes_2021", "2021-06-27",
           "U.S. strikes in Iraq and Syria against the drone campaign"),
    _after("december_strikes_2023", "2023-12-26",
           "U.S. strikes on Kataib Hezbollah after the Erbil drone attack"),
    TurningPoint("lull_2024", "2024-01-31", "2024-02-05", "2024-07-15",
                 "Tower 22, Qaani in Baghdad, Kataib Hezbollah's suspension: the lull as "
                 "issue 10 measures it"),
)


def as_target(tp: TurningPoint) -> tg.Target:
    """The turning point as a calibration target: the documented attacks in its window, from
    runs that replay the record up to its origin (``Target.given``), the record's own rows
    for the record. The one definition the table, the probe and ``--turning-points`` use."""
    return tg.Target(f"turning:{tp.name}", "count", tp.start, tp.end, "attacks", fit=True,
                     informs="iran.risk_*, iran.restrain_multiplier, militias.fear_weight",
                     description=f"documented attacks {tp.start}..{tp.end}, runs replaying the "
                                 f"record up to {tp.origin} ({tp.description})",
                     clip=False, given=tp.origin)


def replaying(params, record: pd.DataFrame, origin):
    """``params`` whose runs replay ``record`` as it stood on ``origin`` (its rows up to that
    day only) for every actor, then decide (``calibration.simulator.conditioned``)."""
    before = record[pd.to_datetime(record["date"]) <= pd.Timestamp(origin)]
    return conditioned(params, origin, before.reset_index(drop=True))


def conditioned_attacks(params, record: pd.DataFrame, tp: TurningPoint, seed: int,
                        replicates: np.ndarray, overrides: dict[str, np.ndarray] | None = None,
                        start="2019-10-01") -> tuple[np.ndarray, float]:
    """(each run's value, the record's value) of :func:`as_target` for runs that replay the
    record as it stood on ``tp.origin`` (``calibration.simulator.conditioned``)."""
    start, target = pd.Timestamp(start), as_target(tp)
    reps = np.asarray(replicates, dtype=np.int64)
    events = simulate_events(replaying(params, record, tp.origin), start, pd.Timestamp(tp.end),
                             seed, reps, overrides)
    simulated = target.compute(tg.daily_series(events, start, tp.end, reps))
    return simulated, float(target.compute(tg.daily_series(record, start, tp.end))[0])


#: How far back a faction's documented suspension still stands on an origin: a convention
#: (the record has no row that ends a suspension; a month covers the 2024 one, announced
#: the day before its origin, and no other origin has one within it).
STANCE_DAYS = 30


def suspensions(record: pd.DataFrame, first, last) -> pd.DataFrame:
    """The record's rows from ``first`` to ``last`` in which one of the model's factions
    suspends its attacks on U.S. forces: the documented stand-downs."""
    from sim.events import FACTIONS
    days = pd.to_datetime(record["date"])
    return record[(record["action"] == "suspension") & record["actor"].isin(FACTIONS)
                  & (days >= pd.Timestamp(first)) & (days <= pd.Timestamp(last))]


def _stand_down_rows(record: pd.DataFrame, origin) -> pd.DataFrame:
    origin = pd.Timestamp(origin)
    return suspensions(record, origin - pd.Timedelta(days=STANCE_DAYS - 1), origin)


def documented_stand_downs(record: pd.DataFrame, origin) -> list[str]:
    """The factions whose suspension of attacks on U.S. forces the record documents in the
    :data:`STANCE_DAYS` days up to ``origin``: decisions a forecaster on that day knew of
    (Kataib Hezbollah's of 2024-01-30 for the lull). Only the model's factions count; a
    row after ``origin`` never does."""
    return sorted(set(_stand_down_rows(record, origin)["actor"]))


def stand_down_days(record: pd.DataFrame, origin) -> list[str]:
    """The days of those suspensions (:func:`documented_stand_downs`): the decisions a
    forecast filtered at ``origin`` conditions on itself (``calibration.decisions``)."""
    return sorted(set(pd.to_datetime(_stand_down_rows(record, origin)["date"])
                      .dt.strftime("%Y-%m-%d")))


def state_at_origin(params, record: pd.DataFrame, origin, seed: int, replicates: np.ndarray,
                    overrides: dict[str, np.ndarray] | None = None, start="2019-10-01"):
    """The engine's state at the end of ``origin`` for the runs that replay the record up to
    it (:func:`conditioned_attacks`' runs): what the model's actors have decided by then.
    No daily table is kept."""
    from sim.batch import simulate
    from calibration.observation import split_overrides
    origin = pd.Timestamp(origin)
    engine, _ = split_overrides(overrides)
    return simulate(replaying(params, record, origin), pd.Timestamp(start), origin, seed,
                    np.asarray(replicates, dtype=np.int64), overrides=engine,
                    record_events=False, record_daily=False).state


def restraining(state) -> np.ndarray:
    """Per run: whether the model's own Iran is ordering its proxies to stand down."""
    return np.asarray(state.directive) == 0


def agreeing(state, factions: list[str]) -> np.ndarray:
    """Per run: whether every faction in ``factions`` is standing down (suspended by its own
    fear, or obeying Iran's order); all True when ``factions`` is empty."""
    from sim.events import FACTIONS
    ok = np.ones(len(np.asarray(state.directive)), dtype=bool)
    for name in factions:
        f = FACTIONS.index(name)
        ok &= (np.asarray(state.suspended)[:, f] | np.asarray(state.obeying)[:, f]).astype(bool)
    return ok


def restraining_at_origin(params, record: pd.DataFrame, origin, seed: int,
                          replicates: np.ndarray,
                          overrides: dict[str, np.ndarray] | None = None,
                          start="2019-10-01") -> np.ndarray:
    """For each run that replays the record up to ``origin`` (as :func:`conditioned_attacks`,
    the same runs), whether the model's own Iran is ordering its proxies to stand down
    ('restrain') at the end of ``origin``.

    The replay forces what Iran did, not what it decided: a documented order (Qaani in
    Baghdad on 2024-01-29) does not set the model's directive, which Iran works out from its
    own state. Runs whose Iran restrains at the origin are the ones that agree with such an
    order; ``scripts/turning_point_probe.py`` reports them beside the whole ensemble.
    """
    return restraining(state_at_origin(params, record, origin, seed, replicates, overrides,
                                       start))


def agreeing_at_origin(params, record: pd.DataFrame, origin, seed: int,
                       replicates: np.ndarray,
                       overrides: dict[str, np.ndarray] | None = None,
                       start="2019-10-01") -> np.ndarray:
    """For each run that replays the record up to ``origin``, whether its factions stand
    where the record says they stood on that day (:func:`documented_stand_downs`).

    The replay forces acts, not decisions: Kataib Hezbollah's suspension of 2024-01-30 does
    not make the model's Kataib Hezbollah stand down. Keeping the runs that agree with the
    documented decisions is a particle filter's step (the record observes part of the
    actors' state, and runs that contradict it are dropped); what was known on the origin
    only, so the forecast stays a forecast. With nothing documented every run agrees, and
    nothing is simulated.
    """
    stances = documented_stand_downs(record, origin)
    if not stances:
        return np.ones(len(replicates), dtype=bool)
    return agreeing(state_at_origin(params, record, origin, seed, replicates, overrides, start),
                    stances)


def response_table(params, record: pd.DataFrame, seed: int, replicates: np.ndarray,
                   overrides: dict[str, np.ndarray] | None = None, until=None,
                   points: tuple[TurningPoint, ...] = TURNING_POINTS,
                   start="2019-10-01", filter_draws=None) -> pd.DataFrame:
    """Documented attacks in each turning point's window: the record's count beside the
    median and 90% band of runs that replay the record up to the point; and the share of
    those runs whose own Iran is ordering its proxies to stand down at the point
    (``iran_restrains``, :func:`restraining_at_origin`) with their median
    (``median_if_restraining``; NaN when there is none); and the runs that agree with the
    decisions documented by the origin (``stand_downs``, :func:`agreeing_at_origin`): their
    share (``agree``), median and 90% band (``*_if_agree``), the forecast filtered on what
    was known that day. Where nothing is documented every run agrees.

    ``params``: the scenario's parameters (its rule); ``overrides``: one value per replicate
    (posterior draws); ``until``: a calibration's last day, to mark windows after it as out
    of sample; ``start``: the scenario's first day; ``filter_draws``: where a decision is
    documented, ``filter_draws(origin)`` gives the draws the filtered reading starts from
    (default ``overrides``): a posterior weighed by the record's decisions
    (``calibration.decisions``) draws without the ones the filter conditions on, so that
    the filter does not count a decision twice.
    """
    rows = []
    for tp in points:
        x, y = conditioned_attacks(params, record, tp, seed, replicates, overrides, start)
        lo, med, hi = np.quantile(x, [0.05, 0.5, 0.95])
        state = state_at_origin(params, record, tp.origin, seed, replicates, overrides, start)
        restrains = restraining(state)
        stances = documented_stand_downs(record, tp.origin)
        fx, fstate = x, state
        fdraws = filter_draws(tp.origin) if stances and filter_draws is not None else None
        if fdraws is not None:
            fx, _ = conditioned_attacks(params, record, tp, seed, replicates, fdraws, start)
            fstate = state_at_origin(params, record, tp.origin, seed, replicates, fdraws,
                                     start)
        agree = agreeing(fstate, stances)
        kept = fx[agree]
        a_lo, a_med, a_hi = (np.quantile(kept, [0.05, 0.5, 0.95]) if len(kept)
                             else (np.nan,) * 3)
        rows.append(dict(turning_point=tp.name, origin=tp.origin, window=f"{tp.start}..{tp.end}",
                         record=y, median=med, lo90=lo, hi90=hi, inside=bool(lo <= y <= hi),
                         sample="out" if until is not None and
                         pd.Timestamp(tp.start) > pd.Timestamp(until) else "in",
                         iran_restrains=float(restrains.mean()),
                         median_if_restraining=(float(np.median(x[restrains]))
                                                if restrains.any() else np.nan),
                         stand_downs=", ".join(stances) or "-",
                         agree=float(agree.mean()), median_if_agree=a_med,
                         lo90_if_agree=a_lo, hi90_if_agree=a_hi,
                         inside_if_agree=bool(a_lo <= y <= a_hi),
                         description=tp.description))
    return pd.DataFrame(rows)
