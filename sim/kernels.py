"""Compiled numerics: small pure functions (numba, ``cache=True``) the dynamics are built from.

What lives here: the keyed random numbers (SplitMix64 of (key, counter), as ``sim.rng``
documents), Poisson and categorical draws by inversion of one uniform, and the event-row
writer. Each is a scalar function with explicit types, compiled once and cached on disk
(``__pycache__``), so only the first call after an edit pays for compilation.

What does not live here: the behaviour (``sim.dynamics``: each actor's day in one function),
the deterrence rules (``sim.rules``: plain Python, called once a day).
"""

from __future__ import annotations

import numba as nb
import numpy as np

STRIDE = 1024                      # counters per simulated day (sim.rng.STRIDE)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_TO_UNIT = 1.0 / 9007199254740992.0  # 2**-53

#: Compiled once, cached on disk; division by zero gives inf/nan as in NumPy (no checks).
jit = nb.njit(cache=True, nogil=True, error_model="numpy")
#: The same for functions that allocate no array (each replicate's day and what it calls):
#: without numba's reference counting, a call with array arguments costs a third.
jit_noalloc = nb.njit(cache=True, nogil=True, error_model="numpy", _nrt=False)
#: The same, inlined by numba into its caller (each actor's day and the small functions it
#: calls, asked a few times per replicate and day): one compiled loop per phase instead of
#: calls that pass every array field by field (~25% of the batch engine's time). Call those
#: that take arrays only from ``jit_noalloc`` functions: inlined into a function that counts
#: references, the militias' day (its scratch views) corrupted memory.
jit_inline = nb.njit(cache=True, nogil=True, error_model="numpy", _nrt=False, inline="always")


# --- Keyed random numbers ---------------------------------------------------------------------

@jit_inline
def uniform(key: np.uint64, day: int, slot: int) -> float:
    """The uniform number in [0, 1) at (key, day, slot): SplitMix64 at key + counter * golden."""
    counter = np.uint64(day) * np.uint64(STRIDE) + np.uint64(slot)
    x = key + counter * _GOLDEN
    x ^= x >> np.uint64(30)
    x *= _M1
    x ^= x >> np.uint64(27)
    x *= _M2
    x ^= x >> np.uint64(31)
    return float(x >> np.uint64(11)) * _TO_UNIT


@jit
def uniform_rows(keys: np.ndarray, days: np.ndarray, slots: np.ndarray) -> np.ndarray:
    """Uniform numbers of shape (len(days), n, len(slots)) for the n keys: many days at once."""
    out = np.empty((days.shape[0], keys.shape[0], slots.shape[0]))
    for d in range(days.shape[0]):
        for i in range(keys.shape[0]):
            for j in range(slots.shape[0]):
                out[d, i, j] = uniform(keys[i], days[d], slots[j])
    return out


@jit
def uniform_grid(keys: np.ndarray, day: int, slots: np.ndarray) -> np.ndarray:
    """One uniform per (row, slot): ``slots`` has shape (n, m), ``keys`` (n,)."""
    out = np.empty(slots.shape)
    for i in range(slots.shape[0]):
        for j in range(slots.shape[1]):
            out[i, j] = uniform(keys[i], day, slots[i, j])
    return out


# --- Draws from uniforms ---------------------------------------------------------------------

@jit_noalloc
def poisson(u: float, lam: float, cap: int) -> int:
    """Poisson(lam) by inversion of the CDF at ``u``; with ``cap`` >= 0, min(Poisson, cap)."""
    if u < 1.0 - lam:      # then u < exp(-lam) = P(0): most draws, without the exp
        return 0
    p = np.exp(-lam)
    if not u > p:
        return 0
    cdf = p
    k = 0
    for _ in range(400):
        k += 1
        p *= lam / k
        cdf += p
        if not u > cdf:
            break
        if cap >= 0 and k >= cap:
            break
    return k


@jit_inline
def exp_upper(x: float) -> float:
    """An upper bound of ``np.exp(x)`` without the exponential: 1 / (1 - x) for x < 1
    (as exp(-x) >= 1 - x), widened by 1e-12 so rounding cannot put it below the library's
    exp; infinite from x = 1 on. Cheap enough to rule out most attacks before the rate."""
    if x < 1.0:
        return (1.0 + 1e-12) / (1.0 - x)
    return np.inf


@jit_noalloc
def categorical(u: float, weights: np.ndarray) -> int:
    """Index drawn with probability proportional to ``weights``, by inversion at ``u``."""
    n = weights.shape[0]
    total = 0.0
    for i in range(n):
        total += weights[i]
    target = u * total
    cum = 0.0
    idx = 0
    for i in range(n):
        cum += weights[i]
        if cum < target:
            idx += 1
    return min(idx, n - 1)


@jit
def poisson_array(u: np.ndarray, lam: np.ndarray, cap: int) -> np.ndarray:
    """:func:`poisson` over flat arrays of the same length."""
    out = np.empty(u.shape[0], np.int64)
    for i in range(u.shape[0]):
        out[i] = poisson(u[i], lam[i], cap)
    return out


@jit
def categorical_rows(u: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """:func:`categorical` for each row of ``weights`` (m, k) with its uniform."""
    out = np.empty(u.shape[0], np.int64)
    for i in range(u.shape[0]):
        out[i] = categorical(u[i], weights[i])
    return out


@jit
def columns_by_replicate(rows: np.ndarray, count: int) -> np.ndarray:
    """The first ``count`` event rows as int64 columns (fields x events), stably sorted by
    replicate (column 0): a counting sort, so each replicate's events keep their order.

    The sort makes the order first, then writes the columns in it: each output column is
    written front to back and each row is read whole (writing each row's fields straight to
    its sorted place scatters 17 writes a row over the columns, about 1.6x slower)."""
    n_rep = 0
    for i in range(count):
        n_rep = max(n_rep, rows[i, 0] + 1)
    start = np.zeros(n_rep + 1, np.int64)
    for i in range(count):
        start[rows[i, 0] + 1] += 1
    for r in range(n_rep):
        start[r + 1] += start[r]
    order = np.empty(count, np.int64)
    for i in range(count):
        r = rows[i, 0]
        order[start[r]] = i
        start[r] += 1
    out = np.empty((rows.shape[1], count), np.int64)
    for j in range(count):
        i = order[j]
        for c in range(rows.shape[1]):
            out[c, j] = rows[i, c]
    return out


@jit
def as_int64(x: np.ndarray) -> np.ndarray:
    """``x.astype(np.int64)`` for a flat array of whole numbers (NumPy's cast from float is
    several times slower)."""
    out = np.empty(x.shape[0], np.int64)
    for i in range(x.shape[0]):
        out[i] = np.int64(x[i])
    return out


# --- Event rows -----------------------------------------------------------------------------

#: Columns of an event row (sim.dynamics.EventLog.COLUMNS).
EVENT_FIELDS = 17


@jit_noalloc
def emit(ev: np.ndarray, count: np.ndarray, replicate: int, day: int, actor: int, action: int,
         weapon: int, site: int, country: int, intercepted: int, us_killed: int,
         us_wounded: int, coalition_killed: int, militia_killed: int, iraqi_killed: int,
         target: int, rung: int, documented: int) -> None:
    """Append one event row (no-op when events are not recorded: ``ev`` has no rows).
    Callers make room first (see ``sim.dynamics.EventLog``)."""
    if ev.shape[0] == 0:
        return
    i = count[0]
    row = ev[i]
    row[0] = replicate
    row[1] = day
    row[2] = actor
    row[3] = action
    row[4] = weapon
    row[5] = site
    row[6] = country
    row[7] = intercepted
    row[8] = us_killed
    row[9] = us_wounded
    row[10] = coalition_killed
    row[11] = militia_killed
    row[12] = iraqi_killed
    row[13] = 0          # civilian_killed
    row[14] = target
    row[15] = rung
    row[16] = documented
    count[0] = i + 1


@jit
def make_room(ev: np.ndarray, count: np.ndarray, need: int) -> np.ndarray:
    """``ev``, or a copy twice as large when ``need`` more rows would not fit (events not
    recorded: ``ev`` has no rows and stays so)."""
    if ev.shape[0] == 0 or count[0] + need <= ev.shape[0]:
        return ev
    grown = np.zeros((max(2 * ev.shape[0], count[0] + need), ev.shape[1]), ev.dtype)
    grown[: count[0]] = ev[: count[0]]
    return grown
