"""The record's documented decisions as data for the calibration.

The ABC targets count acts: attacks, strike rounds, deaths. The record also documents
decisions that leave no act: a faction suspending its attacks on U.S. forces (Kataib
Hezbollah on 2020-10-11 and on 2024-01-30). No free run puts such a decision on its day, so
no target can score it. A run that replays the record up to that day can: its factions stand
down there or not (``calibration.responses.agreeing_at_origin``). The share of a particle's
replayed runs that agree is an estimate of the chance of the documented decision given the
particle's parameters: a likelihood. :func:`weigh` multiplies each final particle's ABC weight
by it, one factor per documented decision up to the calibration's last day: the posterior
then uses all the record up to that day, acts and decisions.

Why it matters: the decisions are the only rows before 2024-02 that say how readily Iran and
its factions step back after U.S. deaths (``iran.risk_*``); the acts leave those parameters
at their priors.

What it does not do: condition the runs themselves. A forecast that also keeps only the runs
agreeing with a decision (the filtered reading, ``agreeing_at_origin``) must draw without
that decision's weighing (:func:`weights_without`), or it counts the decision twice. Hence
each decision's shares are kept beside the weights (``decision:<day>`` columns).

The step is an estimate: :data:`REPLICATES` runs a particle (a share of 0 drops the particle;
its effective sample size is in the report).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np
import pandas as pd

#: Replayed runs per particle and decision: the likelihood is a share of these.
REPLICATES = 8
#: Replicate numbers of the decision runs (apart from calibration's, validation's, probe's).
DECISION_REPLICATE = 4 * 10 ** 9
#: Particles simulated together (memory: the engine's state only, no events kept).
CHUNK = 1000


@dataclass(frozen=True)
class Decision:
    """A documented decision: on ``date`` the record's ``factions`` stood down."""

    date: str
    factions: tuple[str, ...]


def documented_decisions(record: pd.DataFrame, start, until) -> list[Decision]:
    """The days from ``start`` to ``until`` on which the record documents a model faction's
    suspension of attacks on U.S. forces, with the factions standing down that day
    (``calibration.responses.documented_stand_downs``)."""
    from calibration.responses import documented_stand_downs, suspensions
    out = []
    for day in sorted(set(pd.to_datetime(suspensions(record, start, until)["date"]))):
        out.append(Decision(day.strftime("%Y-%m-%d"),
                            tuple(documented_stand_downs(record, day))))
    return out


def chosen(decisions: list[Decision], days) -> list[Decision]:
    """The decisions to weigh: all of them when ``days`` is None, else those on the given
    days (``--decision-days``; a day the record does not document is refused earlier, by
    :func:`check_days`)."""
    if days is None:
        return list(decisions)
    keep = {str(d) for d in days}
    return [d for d in decisions if d.date in keep]


def parse_days(text: str | None, decisions: bool) -> tuple[str, ...] | None:
    """``--decision-days 2024-01-30[,...]``: the documented decision days to weigh (default
    all); only with ``--decisions``."""
    from sim.errors import InputError
    if text is None:
        return None
    if not decisions:
        raise InputError(None, "--decision-days", "needs --decisions")
    days = []
    for part in str(text).split(","):
        part = part.strip()
        try:
            days.append(pd.Timestamp(part).strftime("%Y-%m-%d"))
        except (ValueError, TypeError):
            raise InputError(None, "--decision-days", f"{part!r} is not a date (YYYY-MM-DD)") \
                from None
    if not days:
        raise InputError(None, "--decision-days", "give at least one day")
    return tuple(sorted(set(days)))


def check_days(record: pd.DataFrame, start, end, days) -> None:
    """Refuse (one line, before any run) a ``--decision-days`` day on which the record
    documents no decision between ``start`` and ``end``."""
    from sim.errors import InputError
    if days is None:
        return
    known = [d.date for d in documented_decisions(record, start, end)]
    for day in days:
        if day not in known:
            raise InputError(None, "--decision-days",
                             f"the record documents no decision on {day} (documented: "
                             f"{', '.join(known) or 'none'})")


def column(day: str) -> str:
    """The posterior column holding each final particle's share of agreeing runs."""
    return f"decision:{day}"


def weights_without(frame: pd.DataFrame, days) -> np.ndarray:
    """Final particles' weights (normalised) with the weighing by the decisions of ``days``
    left out: the ABC weights times the shares of every other weighed decision."""
    w = frame["weight_before_decisions"].to_numpy(dtype=float).copy()
    skip = {column(str(d)) for d in days}
    for c in frame.columns:
        if c.startswith("decision:") and c not in skip:
            w *= frame[c].to_numpy(dtype=float)
    if w.sum() <= 0:
        raise ValueError("no particle agrees with the decisions kept")
    return w / w.sum()


def particle_overrides(post, frame: pd.DataFrame, rule: str, repeat: int
                       ) -> dict[str, np.ndarray]:
    """Each particle's parameters ``repeat`` times in a row, as engine overrides."""
    from calibration.priors import expand
    values = {n: np.repeat(frame[n].to_numpy(dtype=float), repeat)
              for n in post.rule_names(rule)}
    return expand(values, post.ratios)


def agreement(params, record: pd.DataFrame, decision: Decision, overrides, seed: int,
              start, replicates: int = REPLICATES) -> np.ndarray:
    """Per particle (the overrides hold ``replicates`` rows each, in a row): the share of its
    runs, replaying the record up to ``decision.date``, whose factions stand down there."""
    from calibration.responses import agreeing, state_at_origin
    n = len(next(iter(overrides.values()))) // replicates
    shares = np.empty(n)
    for lo in range(0, n, CHUNK):
        hi = min(n, lo + CHUNK)
        rows = slice(lo * replicates, hi * replicates)
        reps = DECISION_REPLICATE + np.arange(lo * replicates, hi * replicates)
        state = state_at_origin(params, record, decision.date, seed, reps,
                                {k: v[rows] for k, v in overrides.items()}, start)
        ok = agreeing(state, list(decision.factions))
        shares[lo:hi] = ok.reshape(hi - lo, replicates).mean(axis=1)
    return shares


def weigh(post, scenario, record: pd.DataFrame, until=None, replicates: int = REPLICATES,
          progress: bool = False, days=None):
    """The posterior with its final particles' weights multiplied by the chance of each
    decision the record documents up to ``until`` (the scenario's end when None). The ABC
    weights are kept as ``weight_before_decisions`` and each decision's shares as
    ``decision:<day>`` (:func:`weights_without`); ``meta["decisions"]`` says what was
    weighed, the mean agreement and the effective sample size before and after. A posterior
    is returned unchanged when the record documents no decision in the window; when no
    particle agrees with every decision, the ABC weights are kept and the meta says so.
    ``days``: weigh only the decisions of these days (:func:`chosen`; default all)."""
    from calibration.simulator import params_for_rule
    from calibration.smc import kish_ess
    end = scenario.end if until is None else pd.Timestamp(until)
    decisions = chosen(documented_decisions(record, scenario.start, end), days)
    particles = post.particles.copy()
    last = particles["generation"] == particles["generation"].max()
    before = particles.loc[last, "weight"].to_numpy(dtype=float)
    particles["weight_before_decisions"] = particles["weight"]
    meta = dict(post.meta)
    if not decisions:
        meta["decisions"] = dict(weighed=[], replicates=replicates,
                                 days=None if days is None else list(days))
        return type(post)(particles, meta)
    final = particles[last]
    likelihood = np.ones(len(final))
    rows = []
    seed = int(post.meta["seed"])
    for d in decisions:
        share = np.empty(len(final))
        for rule in post.rules:
            mine = (final["rule"] == rule).to_numpy()
            if not mine.any():
                continue
            if progress:
                print(f"decisions: replaying to {d.date} ({', '.join(d.factions)}), "
                      f"{int(mine.sum()) * replicates} runs of rule {rule}", file=sys.stderr)
            share[mine] = agreement(params_for_rule(scenario.params, rule), record, d,
                                    particle_overrides(post, final[mine], rule, replicates),
                                    seed, scenario.start, replicates)
        likelihood *= share
        particles.loc[last, column(d.date)] = share
        rows.append(dict(date=d.date, factions=list(d.factions),
                         mean_agreement=float(np.sum(before * share)),
                         particles_never_agreeing=int((share == 0).sum())))
    after = before * likelihood
    ess_before = kish_ess(before)
    ok = after.sum() > 0
    if ok:
        after = after / after.sum()
        particles.loc[last, "weight"] = after
    meta["decisions"] = dict(weighed=rows, replicates=replicates, applied=bool(ok),
                             days=None if days is None else list(days),
                             ess_before=round(ess_before, 1),
                             ess_after=round(kish_ess(after), 1) if ok
                             else None)
    return type(post)(particles, meta)
