"""The escalation model as calibration sees it: parameters in, target values out.

What lives here: :class:`EngineSimulator` (a picklable function ``(rule index, theta,
replicates) -> target values`` on the batch engine) and :func:`make_mapper` (run its chunks
in this process, in local worker processes, or on a Dask cluster). What does not: the
algorithm (``calibration.smc``), the targets (``calibration.targets``), the priors
(``calibration.priors``).

Randomness: run ``i`` of a calibration is replicate ``i`` of the scenario's seed
(``sim.rng``), whichever worker runs it, so results do not depend on the mapper.
"""

from __future__ import annotations

import copy
import os
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np
import pandas as pd

from calibration import targets as tg
from calibration.priors import expand, tie_ratios
from calibration.smc import Model
from sim.errors import InputError
from sim.params import ModelParams


def params_for_rule(base: ModelParams, rule: str) -> ModelParams:
    """``base`` with U.S. forces following ``rule`` for the whole window. The base's inline
    rule parameters are kept only when the rule is the same (as ``--set us.rule=X`` does)."""
    p = copy.deepcopy(base)
    if p.us.rule != rule:
        p.us.rule_params = {}
    p.us.rule = rule
    p.us.periods = []
    return p


def conditioned(params: ModelParams, origin, record_before: pd.DataFrame) -> ModelParams:
    """``params`` whose runs replay the record for every actor up to ``origin`` (only the rows
    of ``record_before``, the record as it stood then) and decide for themselves after it:
    a run conditioned on the documented history (``[replay] until``)."""
    from sim.params import Replay
    from sim.replay import FORCEABLE
    out = copy.deepcopy(params)
    out.replay = Replay(force=list(FORCEABLE), add=copy.deepcopy(params.replay.add),
                        until=pd.Timestamp(origin).strftime("%Y-%m-%d"),
                        documented=record_before)
    return out


@dataclass
class EngineSimulator:
    """Target values of batch-engine runs with fitted parameters.

    Attributes:
        base: the scenario's resolved parameters (shocks, defaults, replay).
        start, end: the simulated window (``end`` is ``--until`` when given).
        seed: the scenario seed; run i is replicate i.
        models: one :class:`Model` per rule (``model.name`` is the rule).
        targets: the targets returned, in order.
    """

    base: ModelParams
    start: pd.Timestamp
    end: pd.Timestamp
    seed: int
    models: list[Model]
    targets: list[tg.Target]
    #: The record, for the targets that replay it up to a turning point (``Target.given``).
    record: pd.DataFrame | None = None

    def __post_init__(self):
        self._params = [params_for_rule(self.base, m.name) for m in self.models]
        self._ratios = tie_ratios()
        self._given = sorted({t.given for t in self.targets if t.given})
        if self._given and self.record is None:
            raise ValueError("targets with a turning point need the record")
        dates = (pd.to_datetime(self.record["date"]) if self._given else None)
        #: Per origin and rule: parameters that replay the record as it stood that day.
        self._conditioned = {
            origin: [conditioned(p, origin, self.record[dates <= pd.Timestamp(origin)]
                                 .reset_index(drop=True)) for p in self._params]
            for origin in self._given}
        #: Each conditioned run stops at the end of its targets' windows.
        self._given_end = {origin: min(self.end, max(pd.Timestamp(t.end) for t in self.targets
                                                     if t.given == origin))
                           for origin in self._given}

    def overrides(self, model: int, theta: np.ndarray) -> dict[str, np.ndarray]:
        names = [p.name for p in self.models[model].parameters]
        theta = np.atleast_2d(np.asarray(theta, dtype=float))
        return expand({n: theta[:, i] for i, n in enumerate(names)}, self._ratios)

    def events(self, model: int, theta: np.ndarray, replicates: np.ndarray) -> pd.DataFrame:
        """The runs' events (the target columns of the event schema, + ``replicate``, and
        ``documented``: whether the record would list it, ``calibration.observation``)."""
        return simulate_events(self._params[model], self.start, self.end, self.seed,
                               np.asarray(replicates, dtype=np.int64),
                               self.overrides(model, theta))

    def __call__(self, model: int, theta: np.ndarray, replicates: np.ndarray) -> np.ndarray:
        replicates = np.asarray(replicates, dtype=np.int64)
        if len(replicates) == 0:
            return np.zeros((0, len(self.targets)))
        events = self.events(model, theta, replicates)
        overrides = self.overrides(model, theta) if self._given else None
        given = {origin: simulate_events(self._conditioned[origin][model], self.start,
                                         self._given_end[origin], self.seed, replicates,
                                         overrides)
                 for origin in self._given}
        return tg.simulated(self.targets, events, self.start, self.end, replicates,
                            given=given)


def simulate_events(params: ModelParams, start, end, seed: int, replicates: np.ndarray,
                    overrides: dict[str, np.ndarray] | None = None) -> pd.DataFrame:
    """Batch-engine events of ``replicates`` with the observation model's ``documented``
    column: ``observation.*`` overrides (one value per replicate, e.g. ABC's particles) set
    what is documented, the others the engine. One path for calibration, validation,
    backtests and ``scripts/model_check.py``."""
    from sim.batch import simulate
    from calibration.observation import observe, split_overrides
    engine, _ = split_overrides(overrides)
    out = simulate(params, start, end, seed, replicates, overrides=engine,
                   record_events=True, record_daily=False)
    return observe(tg.sim_events(out), params.observation, seed, overrides, replicates)


# --- Mappers ---------------------------------------------------------------------------------

_WORKER_FN: Callable | None = None


def _init_worker(fn: Callable) -> None:
    global _WORKER_FN
    _WORKER_FN = fn
    os.environ.setdefault("OMP_NUM_THREADS", "1")


def _run_task(task: tuple) -> np.ndarray:
    return _WORKER_FN(*task)


def _call(fn: Callable, task: tuple) -> np.ndarray:
    return fn(*task)


@contextmanager
def make_mapper(workers: int = 1, scheduler: str | None = None) -> Iterator[Callable]:
    """A ``mapper(fn, tasks) -> results in order`` for :func:`calibration.smc.abc_smc`.

    ``workers`` 1 runs in this process; more starts that many local processes (the
    simulator is sent once to each); ``scheduler`` (a Dask scheduler address) runs the tasks
    on that cluster. The same tasks give the same results in every case.
    """
    if scheduler:
        try:
            from distributed import Client
        except ImportError:  # pragma: no cover - dask[distributed] is a dependency
            raise InputError(None, "--scheduler", "needs dask.distributed installed") from None
        try:
            client = Client(scheduler, timeout="10s")
        except (OSError, TimeoutError) as err:
            raise InputError(None, "--scheduler", f"cannot reach {scheduler}: {err}") from None
        scattered: dict[int, object] = {}

        def dask_map(fn, tasks):
            key = id(fn)
            if key not in scattered:
                scattered[key] = client.scatter(fn, broadcast=True)
            futures = [client.submit(_call, scattered[key], t, pure=False) for t in tasks]
            return (f.result() for f in futures)
        try:
            yield dask_map
        finally:
            client.close()
        return
    if workers < 1:
        raise InputError(None, "--workers", f"must be at least 1, got {workers}")
    if workers == 1:
        yield lambda fn, tasks: (fn(*t) for t in tasks)
        return
    pools: dict[int, ProcessPoolExecutor] = {}

    def pool_map(fn, tasks):
        key = id(fn)
        if key not in pools:
            pools[key] = ProcessPoolExecutor(max_workers=workers, initializer=_init_worker,
                                             initargs=(fn,))
        return pools[key].map(_run_task, tasks)   # an iterator, in order
    try:
        yield pool_map
    finally:
        for pool in pools.values():
            pool.shutdown(cancel_futures=True)
