"""Calibrating the escalation model: ABC-SMC of its parameters on the documented record.

What lives here: :func:`calibrate` (one rule, or several for model choice) and
:func:`synthetic_observation` (the target values of one run with known parameters: a
synthetic record for parameter recovery). It wires the scenario, the targets
(``calibration.targets``), the priors (``calibration.priors``), the batch-engine simulator
(``calibration.simulator``) and the algorithm (``calibration.smc``) together and returns a
:class:`calibration.posterior.Posterior`. What does not: files, reports, the CLI.

Defaults: 500 particles, a budget of 40,000 simulations of the 2019-10-01..2024-12-31
window (3 to 8 minutes with ``--workers 2`` on a 2-core machine shared with other work),
tolerance at the median of the previous generation's distances.
"""

from __future__ import annotations

import time
from typing import Sequence

import numpy as np
import pandas as pd

from calibration import targets as tg
from calibration.posterior import Posterior
from calibration.priors import model_for, tie_ratios
from calibration.simulator import EngineSimulator, make_mapper
from calibration.smc import SMCResult, abc_smc
from sim.errors import InputError

from calibration.defaults import DEFAULT_BUDGET, DEFAULT_CHUNK, DEFAULT_POPULATION  # noqa: E402,F401
#: Replicate indices of synthetic records start here, far from the calibration's own runs
#: (0, 1, 2, ...), so a synthetic record shares no random numbers with the particles.
SYNTHETIC_REPLICATE = 10 ** 9


def parse_until(until, scenario) -> pd.Timestamp | None:
    """``--until`` as a date inside the scenario's window (None: the whole window)."""
    if until is None or until == "":
        return None
    try:
        day = pd.Timestamp(str(until))
    except (ValueError, TypeError):
        raise InputError(None, "--until", f"{until!r} is not a date (YYYY-MM-DD)") from None
    if pd.isna(day) or day.normalize() != day:
        raise InputError(None, "--until", f"{until!r} is not a date (YYYY-MM-DD)")
    if not scenario.start + pd.Timedelta(days=180) <= day <= scenario.end:
        raise InputError(None, "--until", f"{day:%Y-%m-%d} is outside "
                                          f"{scenario.start + pd.Timedelta(days=180):%Y-%m-%d}"
                                          f"..{scenario.end:%Y-%m-%d} (at least 180 days of "
                                          "record are needed to fit)")
    return day


def fit_targets(scenario, until: pd.Timestamp | None, tallies=None,
                model_choice: bool = False, rules: Sequence[str] = (),
                turning_points: bool = False) -> list[tg.Target]:
    """The fitted targets over the scenario's window, restricted to days up to ``until``;
    with ``model_choice`` also :data:`calibration.targets.MODEL_CHOICE_TARGETS`, and the
    targets that inform the fitted ``rules``' own parameters
    (:data:`calibration.priors.RULE_TARGETS`); with ``turning_points`` the turning points
    (:func:`calibration.targets.turning_point_targets`) whose windows end by ``until``."""
    from calibration.priors import RULE_TARGETS
    start = scenario.start.strftime("%Y-%m-%d")
    end = scenario.end.strftime("%Y-%m-%d")
    every = tg.default_targets(tallies, start, end)
    if turning_points:
        every += [t for t in tg.turning_point_targets() if pd.Timestamp(t.end) <= scenario.end]
    every = tg.restrict(every, until)
    extra = set(tg.MODEL_CHOICE_TARGETS if model_choice else ())
    for rule in rules:
        extra |= set(RULE_TARGETS.get(rule, ()))
    return [t for t in every if t.fit or t.name in extra]


def calibrate(scenario, rules: Sequence[str] | str | None = None, *, until=None,
              population: int = DEFAULT_POPULATION, budget: int = DEFAULT_BUDGET,
              seed: int | None = None, workers: int = 1, scheduler: str | None = None,
              progress: bool = False, record: pd.DataFrame | None = None,
              tallies: pd.DataFrame | None = None, observed: np.ndarray | None = None,
              chunk: int = DEFAULT_CHUNK, alpha: float = 0.5, min_acceptance: float = 0.01,
              turning_points: bool = False, extra: Sequence = (),
              decisions: bool | Sequence[str] = False) -> Posterior:
    """ABC-SMC of the model's parameters against the record (or a synthetic ``observed``).

    Args:
        scenario: a loaded :class:`sim.scenario.Scenario` (its shocks and defaults).
        rules: the deterrence rule to fit (default: the scenario's), or several for ABC
            model choice (Toni et al. 2009): the posterior then weighs the rules too.
        until: fit only the record up to this date (simulating up to it).
        seed: seeds the proposals and keys the runs (default: the scenario's seed).
        observed: target values to fit instead of the record's (parameter recovery).
        turning_points: also fit the turning points (runs that replay the record up to each
            of its major acts; ``calibration.responses``).
        extra: more parameters to fit (:class:`calibration.smc.Parameter`, e.g. from
            :func:`calibration.priors.parse_fit`), beside the default ones.
        decisions: weigh the final particles by the chance of the decisions the record
            documents up to ``until`` (``calibration.decisions``); not with ``observed``
            (a synthetic record has no documented decisions). True weighs every one; a
            sequence of days weighs only those (``--decision-days``).
    """
    until = parse_until(until, scenario)
    rules = [scenario.params.us.rule] if rules is None else (
        [rules] if isinstance(rules, str) else list(rules))
    if not rules:
        raise InputError(None, "--rule", "no rule to fit")
    models = [model_for(r, tuple(extra)) for r in rules]
    seed = scenario.seed if seed is None else int(seed)
    end = until if until is not None else scenario.end
    targets = fit_targets(scenario, until, tallies, model_choice=len(rules) > 1, rules=rules,
                          turning_points=turning_points)
    on_record = observed is None
    if on_record and decisions and record is None:
        from calibration.record import load_record
        record = load_record()
    if on_record:
        observed = tg.observed(targets, record, scenario.start, scenario.end)
    observed = np.asarray(observed, dtype=float)
    if observed.shape != (len(targets),):
        raise ValueError(f"observed has shape {observed.shape}, expected ({len(targets)},)")
    if turning_points and record is None:
        from calibration.record import load_record
        record = load_record()
    sim = EngineSimulator(scenario.params, scenario.start, end, seed, models, targets,
                          record if turning_points else None)
    floor = np.array([tg.SCALE_FLOOR[t.transform] for t in targets])
    t0 = time.perf_counter()
    with make_mapper(workers, scheduler) as mapper:
        res = abc_smc(models, sim, observed, population=population, budget=budget,
                      alpha=alpha, seed=seed, transform=lambda x: tg.transform(targets, x),
                      scale_floor=floor, mapper=mapper, chunk=chunk, progress=progress,
                      min_acceptance=min_acceptance)
    post = to_posterior(res, targets, scenario, until, tie_ratios(),
                        time.perf_counter() - t0, workers=workers, scheduler=scheduler)
    if on_record and decisions:
        from calibration.decisions import weigh
        t1 = time.perf_counter()
        post = weigh(post, scenario, record, until, progress=progress,
                     days=None if decisions is True else decisions)
        post.meta["decisions"]["seconds"] = round(time.perf_counter() - t1, 1)
    return post


def to_posterior(res: SMCResult, targets: list[tg.Target], scenario, until, ratios,
                 runtime: float, **extra) -> Posterior:
    """An SMC result as a :class:`Posterior` (particles table and metadata)."""
    rules = [m.name for m in res.models]
    names = [p.name for p in res.parameters]
    frames = []
    for pop in res.populations:
        frame = pd.DataFrame({
            "generation": pop.generation, "particle": np.arange(len(pop.weight)),
            "rule": np.array(rules, dtype=object)[pop.model], "weight": pop.weight,
            "distance": pop.distance})
        for i, n in enumerate(names):
            frame[n] = pop.theta[:, i]
        for i, t in enumerate(targets):
            frame[f"target:{t.name}"] = pop.summaries[:, i]
        frames.append(frame)
    gens = [dict(generation=p.generation, epsilon=p.epsilon, simulations=p.simulations,
                 acceptance=p.acceptance, ess=p.ess(),
                 rule_probabilities=dict(zip(rules, p.model_probabilities(len(rules))
                                             .tolist())),
                 median_distance=float(np.median(p.distance)), seconds=round(p.seconds, 1),
                 r2=(dict(zip([q.name for q in res.models[0].parameters], p.r2.round(3)
                              .tolist())) if p.r2 is not None else None))
            for p in res.populations]
    meta = dict(
        rules=rules,
        parameters=[dict(name=p.name, dist=p.dist, args=list(p.args), log=p.on_log, doc=p.doc)
                    for p in res.parameters],
        rule_parameters={m.name: [p.name for p in m.parameters] for m in res.models},
        targets=[dict(name=t.name, start=t.start, end=t.end, informs=t.informs,
                      description=t.description, transform=t.transform, seen=t.seen,
                      bound=t.bound, observed_low=t.observed_low,
                      observed_high=t.observed_high) for t in targets],
        observed=res.observed.tolist(), generations=gens, seed=res.seed,
        until=until.strftime("%Y-%m-%d") if until is not None else None,
        scenario=dict(name=scenario.name, path=scenario.path,
                      start=scenario.start.strftime("%Y-%m-%d"),
                      end=scenario.end.strftime("%Y-%m-%d")),
        simulations=res.simulations, stopped=res.stopped, settings=res.settings,
        runtime_s=round(runtime, 1), ratios=ratios, **extra)
    return Posterior(pd.concat(frames, ignore_index=True), meta)


def synthetic_observation(scenario, rule: str, truth: dict[str, float], *, until=None,
                          seed: int | None = None, replicate: int | Sequence[int] = 0,
                          tallies: pd.DataFrame | None = None,
                          model_choice: bool = False) -> np.ndarray:
    """The fitted targets of one run with parameters ``truth``: a synthetic record.

    Tallies are replaced by the run's own counts over the same periods and scopes, and the
    record targets are computed from the run's events by the same code as on the record.
    The run is replicate ``SYNTHETIC_REPLICATE + replicate`` of ``seed``. With a sequence of
    ``replicate`` indices, one synthetic record per index (rows). ``model_choice``: the
    targets of a comparison of rules (:func:`fit_targets` with ``model_choice``), as
    :func:`calibrate` fits with several rules.
    """
    until = parse_until(until, scenario)
    model = model_for(rule)
    seed = scenario.seed if seed is None else int(seed)
    targets = fit_targets(scenario, until, tallies, model_choice=model_choice, rules=[rule])
    sim = EngineSimulator(scenario.params, scenario.start,
                          until if until is not None else scenario.end, seed, [model], targets)
    reps = np.atleast_1d(np.asarray(replicate, dtype=np.int64))
    theta = np.tile([[truth[p.name] for p in model.parameters]], (len(reps), 1))
    out = sim(0, theta, SYNTHETIC_REPLICATE + reps)
    return out[0] if np.ndim(replicate) == 0 else out
