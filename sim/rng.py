"""Random numbers keyed by (scenario seed, replicate, day, slot).

Why not one ``Generator`` per engine: a vectorised engine that draws for all replicates from
one stream gives results that depend on how many replicates share a batch and on which worker
ran them. Here each replicate gets a 128-bit key from
``numpy.random.SeedSequence(seed, spawn_key=(replicate,))`` (the same key a
``SeedSequence(seed).spawn(n)[replicate]`` child has), and each uniform number is a
counter-based hash of (key, day * STRIDE + slot): a replicate's numbers are the same whether
it runs alone in the Mesa engine, in a batch of 10,000, on one worker or on a Dask cluster.

The hash is SplitMix64 (Steele, Lea & Flood, "Fast splittable pseudorandom number
generators", OOPSLA 2014) run from the replicate's 64-bit key: number ``c`` of a replicate is
SplitMix64's output at state ``key + c * golden``. Two replicates' streams could only overlap
if their random keys differed by a multiple of the golden gamma within a run's ~10^6 counters
(odds about 10^-13 per pair). The second key half is kept for a future second round.
Slots are fixed positions (see ``Slot``), so adding a draw never shifts the others.
"""

from __future__ import annotations

import numpy as np

STRIDE = 1024  # counters per simulated day (the attack slots need 16 + 7 x 10 x 8 = 576)

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = (np.uint64(s) for s in (30, 27, 31, 11))


class Slot:
    """Where each kind of draw sits within a day's counters."""

    ATTACK_COUNT = 0          # + faction index (< 16)
    ATTACK = 16               # + (faction * MAX_ATTACKS + k) * ATTACK_FIELDS + field
    MAX_ATTACKS = 10
    ATTACK_FIELDS = 8         # weapon, site, intercept, wounded, lethal, killed, us_share, attribution
    US_RULE = 600
    US_STRIKE = 601           # + field: country, killed, collateral, collateral count, commander, retaliation
    IRAN_ATTACK = 620         # + field: intercept, wounded, lethal, killed, us_share
    IRAQ = 640                # + field: condemn, syria exit, raid
    STAND_DOWN = 660          # + faction index: does it obey Iran's order to stand down
    STORMING = 680            # + faction index: does it storm a U.S. site today


def replicate_keys(seed: int, replicates: np.ndarray | range | list[int]) -> np.ndarray:
    """Two 64-bit keys per replicate, shape (n, 2), from the scenario seed and replicate index."""
    reps = np.asarray(list(replicates), dtype=np.int64)
    keys = np.empty((len(reps), 2), dtype=np.uint64)
    for i, r in enumerate(reps):
        keys[i] = np.random.SeedSequence(int(seed), spawn_key=(int(r),)).generate_state(
            2, dtype=np.uint64)
    return keys


def _mix(x: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser, in place on a fresh array."""
    x ^= x >> _S30
    x *= _M1
    x ^= x >> _S27
    x *= _M2
    x ^= x >> _S31
    return x


def uniform(keys: np.ndarray, day: int, slots: np.ndarray | int) -> np.ndarray:
    """One uniform number in [0, 1) per row of ``keys`` (n, 2), at ``day`` and ``slots``.

    ``slots`` is an int (the same slot for every row) or an array of shape (n,) or (n, m)
    (one or m slots per row); the result has the shape of ``slots`` broadcast to (n, ...).
    """
    slots = np.asarray(slots, dtype=np.uint64)
    counter = np.uint64(day) * np.uint64(STRIDE) + slots
    k0 = keys[:, 0]
    if counter.ndim == 2:
        k0 = k0[:, None]
    with np.errstate(over="ignore"):
        x = _mix(k0 + counter * _GOLDEN)
    return (x >> _S11).astype(np.float64) * (1.0 / 9007199254740992.0)


def uniform_table(keys: np.ndarray, day: int, slots: np.ndarray) -> np.ndarray:
    """Uniform numbers of shape (n, m): the same m ``slots`` for each of the n rows."""
    slots = np.asarray(slots, dtype=np.uint64)
    return uniform(keys, day, np.broadcast_to(slots, (keys.shape[0], slots.shape[-1])))
