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
    """Two 64-bit keys per replicate, shape (n, 2), from the scenario seed and replicate index.

    Equal to ``SeedSequence(seed, spawn_key=(r,)).generate_state(2, np.uint64)`` for each
    replicate ``r`` (:func:`_seed_sequence_keys` works it out for all replicates at once;
    replicates outside 0 .. 2**32 - 1 go through ``SeedSequence`` itself)."""
    reps = np.asarray(replicates if isinstance(replicates, np.ndarray) else list(replicates),
                      dtype=np.int64).reshape(-1)
    seed = int(seed)
    if seed >= 0 and (len(reps) == 0 or (reps.min() >= 0 and reps.max() <= _MASK32)):
        return _seed_sequence_keys(seed, reps)
    keys = np.empty((len(reps), 2), dtype=np.uint64)
    for i, r in enumerate(reps):
        keys[i] = np.random.SeedSequence(seed, spawn_key=(int(r),)).generate_state(
            2, dtype=np.uint64)
    return keys


# NumPy's SeedSequence (numpy/random/bit_generator.pyx, after Melissa O'Neill's seed_seq):
# 32-bit words of entropy hashed into a pool of 4 words, the pool hashed into the output.
_MASK32 = 0xFFFFFFFF
_POOL = 4
_INIT_A, _MULT_A, _INIT_B, _MULT_B = 0x43B0D7E5, 0x931E8875, 0x8B51F9DD, 0x58F38DED
_MIX_L, _MIX_R, _XSHIFT = 0xCA01F9DD, 0x4973F715, 16


def _seed_sequence_keys(seed: int, reps: np.ndarray) -> np.ndarray:
    """``SeedSequence(seed, spawn_key=(r,)).generate_state(2, np.uint64)`` for every ``r`` of
    ``reps`` (0 <= r < 2**32) at once: the same 32-bit arithmetic, on uint64 arrays masked
    to 32 bits, one entry per replicate."""
    words = []
    while True:                      # the seed's 32-bit words, least significant first
        words.append(seed & _MASK32)
        seed >>= 32
        if not seed:
            break
    words += [0] * (_POOL - len(words))     # padded to the pool (a spawn key follows)
    n = len(reps)
    mask = np.uint64(_MASK32)
    const = [_INIT_A]               # the running hash constant (a Python int, as it is shared)

    def hashmix(value: np.ndarray) -> np.ndarray:
        value = (value ^ np.uint64(const[0])) & mask
        const[0] = (const[0] * _MULT_A) & _MASK32
        value = (value * np.uint64(const[0])) & mask
        return value ^ (value >> np.uint64(_XSHIFT))

    def mix(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        result = (np.uint64(_MIX_L) * x - np.uint64(_MIX_R) * y) & mask
        return result ^ (result >> np.uint64(_XSHIFT))

    entropy = [np.full(n, w, np.uint64) for w in words] + [reps.astype(np.uint64)]
    with np.errstate(over="ignore"):
        pool = [hashmix(entropy[i]) for i in range(_POOL)]
        for i_src in range(_POOL):
            for i_dst in range(_POOL):
                if i_src != i_dst:
                    pool[i_dst] = mix(pool[i_dst], hashmix(pool[i_src]))
        for i_src in range(_POOL, len(entropy)):
            for i_dst in range(_POOL):
                pool[i_dst] = mix(pool[i_dst], hashmix(entropy[i_src]))
        const_b = _INIT_B
        out = []
        for i in range(4):           # 4 32-bit words: 2 uint64 (little end first)
            value = (pool[i % _POOL] ^ np.uint64(const_b)) & mask
            const_b = (const_b * _MULT_B) & _MASK32
            value = (value * np.uint64(const_b)) & mask
            out.append(value ^ (value >> np.uint64(_XSHIFT)))
    keys = np.empty((n, 2), dtype=np.uint64)
    keys[:, 0] = out[0] | (out[1] << np.uint64(32))
    keys[:, 1] = out[2] | (out[3] << np.uint64(32))
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
