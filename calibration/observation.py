"""The observation model: which simulated events the documented record would list.

What lives here: :func:`documented` (one deterministic draw per simulated event: listed in
the record or not), :func:`observe` (the same, as a ``documented`` column on the event
table), :func:`split_overrides` (engine overrides apart from ``observation.*`` ones) and
:func:`probabilities` (the chance itself, for docs and tests). What does not: the parameters
(``sim.params.ObservationParams``), the targets that read the column (``calibration.targets``:
record targets and patterns read documented events, tally targets all of them).

The model (docs/observation.md). A simulated militia attack is listed with probability

    p = 1 - (1 - p_severity) * (1 - attention_max * A / (A + attention_scale))

where ``p_severity`` is ``p_harmless``, ``p_wounding`` or ``p_lethal`` (by the attack's
U.S./coalition casualties) and ``A`` is the number of attacks (every simulated attack,
listed or not, Iran's own included) in the replicate's ``attention_days`` days before the
attack's day: the press's attention rises with the recent level of violence, endogenously;
no date of the record is an input. U.S. strikes, Iran's own attacks, Baghdad's acts and
events replayed from the record (history replay) are always listed.

Randomness: the draw of an attack is a SplitMix64 hash (``sim.rng``) of a key from
``numpy.random.SeedSequence(seed, spawn_key=(replicate, OBSERVATION_STREAM))`` and a
counter (the day since 1970-01-01 and the attack's order among its replicate-day's attacks).
So it depends only on (seed, replicate, day, order): not on which other replicates are in
the frame, on chunking or on workers, and not on the engine's own draws (another key).
"""

from __future__ import annotations

import dataclasses
from typing import Mapping

import numpy as np
import pandas as pd

from sim.params import ObservationParams
from sim.rng import _GOLDEN, _mix

#: Dotted-path prefix of the observation parameters (scenario table, ``--set``, calibration).
PREFIX = "observation."
#: Spawn-key tag of the observation stream (ASCII "obs"): apart from the engine's keys.
OBSERVATION_STREAM = 0x6F6273
#: Counters per day of the observation stream (attacks of one replicate-day: far fewer).
STRIDE = 4096
#: Actions that are attacks (Iran's ``state_attack`` is always listed but counts for A).
ATTACK_ACTIONS = ("attack", "state_attack")
FIELDS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(ObservationParams))


def split_overrides(overrides: Mapping[str, np.ndarray] | None
                    ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """(engine overrides, observation overrides by field name) of a dotted-path dict."""
    engine, obs = {}, {}
    for k, v in (overrides or {}).items():
        if k.startswith(PREFIX):
            obs[k[len(PREFIX):]] = v
        else:
            engine[k] = v
    return engine, obs


def _own(overrides: Mapping[str, np.ndarray] | None) -> dict[str, np.ndarray]:
    """The observation overrides by field name, from field names or dotted paths (other
    dotted paths are the engine's and are left out)."""
    out = {}
    for k, v in (overrides or {}).items():
        if k.startswith(PREFIX):
            out[k[len(PREFIX):]] = v
        elif k in FIELDS:      # a bare name of ours (not the engine's shock_scale, war_*)
            out[k] = v
    return out


def _keys(seed: int, replicates: np.ndarray) -> np.ndarray:
    return np.array([np.random.SeedSequence(int(seed), spawn_key=(int(r), OBSERVATION_STREAM))
                     .generate_state(1, dtype=np.uint64)[0] for r in replicates],
                    dtype=np.uint64)


def _values(params: ObservationParams, overrides: Mapping[str, np.ndarray],
            replicates: np.ndarray | None, rep: np.ndarray, n: int) -> dict[str, np.ndarray]:
    """Each field's value per event row: the scenario's, or a per-replicate override
    (aligned with ``replicates``) looked up by each row's replicate."""
    unknown = sorted(set(overrides) - set(FIELDS))
    if unknown:
        from sim.errors import InputError
        raise InputError(None, PREFIX + unknown[0], "no such parameter")
    pos = None
    out = {}
    for name in FIELDS:
        if name not in overrides:
            out[name] = np.full(n, float(getattr(params, name)))
            continue
        v = np.asarray(overrides[name], dtype=float)
        if v.ndim == 0:
            out[name] = np.full(n, float(v))
            continue
        if replicates is None or len(v) != len(replicates):
            raise ValueError(f"override {PREFIX}{name} needs one value per replicate")
        if pos is None:
            pos = pd.Index(np.asarray(replicates)).get_indexer(rep)
            if (pos < 0).any():
                raise ValueError("events of a replicate not in ``replicates``")
        out[name] = v[pos]
    return out


def severity(events: pd.DataFrame) -> np.ndarray:
    """0 harmless, 1 wounding (U.S. wounded, no U.S./coalition killed), 2 lethal."""
    def col(name):
        if name not in events:
            return np.zeros(len(events))
        return pd.to_numeric(events[name], errors="coerce").fillna(0).to_numpy(dtype=float)
    killed = col("us_killed") + col("coalition_killed")
    return np.where(killed > 0, 2, np.where(col("us_wounded") > 0, 1, 0))


def probabilities(events: pd.DataFrame, params: ObservationParams | None = None,
                  overrides: Mapping[str, np.ndarray] | None = None,
                  replicates: np.ndarray | None = None) -> np.ndarray:
    """Chance each row is listed (1 for rows the model always lists)."""
    params = ObservationParams() if params is None else params
    n = len(events)
    if n == 0:
        return np.zeros(0)
    rep = (events["replicate"].to_numpy() if "replicate" in events
           else np.zeros(n, dtype=np.int64))
    v = _values(params, _own(overrides), replicates, rep, n)
    day = pd.to_datetime(events["date"]).to_numpy().astype("datetime64[D]").astype(np.int64)
    action = events["action"].astype(object).to_numpy()
    attack = np.isin(action, ATTACK_ACTIONS)
    thinned = attack & (events["actor_kind"].astype(object).to_numpy() == "militia")
    if "replayed" in events:
        thinned &= ~events["replayed"].fillna(0).to_numpy().astype(bool)
    # A: attacks of the same replicate in the attention_days days before each row's day.
    rep_code, rep_index = pd.factorize(rep)
    big = np.int64(1) << 32
    key = rep_code.astype(np.int64) * big + (day - day.min())
    att = np.sort(key[attack])
    w = np.rint(v["attention_days"]).astype(np.int64)
    recent = (np.searchsorted(att, key, "left") - np.searchsorted(att, key - w, "left"))
    attention = v["attention_max"] * recent / (recent + v["attention_scale"])
    sev = severity(events)
    base = np.choose(sev, [v["p_harmless"], v["p_wounding"], v["p_lethal"]])
    p = 1.0 - (1.0 - base) * (1.0 - attention)
    return np.where(thinned, np.clip(p, 0.0, 1.0), 1.0)


def uniforms(events: pd.DataFrame, seed: int) -> np.ndarray:
    """One uniform number in [0, 1) per row, keyed by (seed, replicate, day, order of the
    row among its replicate-day's attack rows, or among its other rows)."""
    n = len(events)
    if n == 0:
        return np.zeros(0)
    rep = (events["replicate"].to_numpy() if "replicate" in events
           else np.zeros(n, dtype=np.int64))
    day = pd.to_datetime(events["date"]).to_numpy().astype("datetime64[D]").astype(np.int64)
    attack = np.isin(events["action"].astype(object).to_numpy(), ATTACK_ACTIONS)
    frame = pd.DataFrame({"r": rep, "d": day, "a": attack})
    order = frame.groupby(["r", "d", "a"], sort=False).cumcount().to_numpy(dtype=np.int64)
    order = np.where(attack, order, STRIDE // 2 + order)   # non-attacks: their own counters
    uniq, inv = np.unique(rep, return_inverse=True)
    keys = _keys(seed, uniq)[inv]
    counter = (day.astype(np.uint64) * np.uint64(STRIDE)
               + np.minimum(order, STRIDE - 1).astype(np.uint64))
    with np.errstate(over="ignore"):
        x = _mix(keys + counter * _GOLDEN)
    return (x >> np.uint64(11)).astype(np.float64) * (1.0 / 9007199254740992.0)


def documented(events: pd.DataFrame, params: ObservationParams | None = None, seed: int = 0,
               overrides: Mapping[str, np.ndarray] | None = None,
               replicates: np.ndarray | None = None) -> np.ndarray:
    """Whether each simulated event is listed in the record (a boolean per row).

    Args:
        events: simulated events (``calibration.targets.sim_events`` or the event table):
            ``replicate``, ``date``, ``actor_kind``, ``action``, casualty columns; rows with
            ``replayed`` 1 (history replay) are always listed.
        params: the scenario's observation parameters (defaults when None).
        seed: the scenario seed (the draws are keyed by seed and replicate).
        overrides: observation parameters by field name (or dotted path ``observation.x``),
            each a scalar or one value per entry of ``replicates`` (ABC's particles).
        replicates: the replicate indices the override arrays are aligned with.
    """
    p = probabilities(events, params, overrides, replicates)
    return uniforms(events, seed) < p


def observe(events: pd.DataFrame, params: ObservationParams | None = None, seed: int = 0,
            overrides: Mapping[str, np.ndarray] | None = None,
            replicates: np.ndarray | None = None) -> pd.DataFrame:
    """``events`` with a boolean ``documented`` column (see :func:`documented`)."""
    out = events.copy(deep=False)
    out["documented"] = documented(events, params, seed, overrides, replicates)
    return out
