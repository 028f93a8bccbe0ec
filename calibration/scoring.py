"""Proper scores of probabilistic count forecasts, and how sure a difference of scores is.

What lives here: :func:`score_samples` (CRPS, ignorance and the 90% interval score of sample
forecasts against observed counts, from the ``scoringrules`` library) and
:func:`block_bootstrap` (an interval for the mean paired difference of two forecasters'
scores that respects the dependence between neighbouring months). What does not: the
forecasts (``calibration.backtest``, ``calibration.baselines``).

The three scores are those of the VIEWS prediction challenges (Hegre et al. 2019, "ViEWS: A
political violence early-warning system", J. Peace Research 56; the 2023/24 challenge's
scoring rules), all negatively oriented (lower is better):

* CRPS (Gneiting & Raftery 2007, JASA 102): the ensemble estimator of ``scoringrules``
  (``crps_ensemble``, the unbiased "fair" estimator, which does not reward small ensembles);
* ignorance: the log score, in bits, of the probability the forecast gave the bin the
  observed count fell in, with VIEWS' count bins (0, 1-2, 3-5, 6-10, 11-25, 26-50, 51-100,
  101-250, 251-500, 501-1000, more). The bin probabilities are the ensemble's shares with one
  pseudo-count spread over the bins, so an outcome the ensemble never produced costs a finite
  number of bits (``log2(n + bins)``), not infinity;
* the interval score of the central 90% interval (Gneiting & Raftery 2007, eq. 43;
  ``scoringrules.interval_score``): its width plus 20 times the distance by which it missed.
"""

from __future__ import annotations

import numpy as np

#: Lower edges of VIEWS' count bins for the ignorance score (the last bin is open).
IGN_BINS: tuple[int, ...] = (0, 1, 3, 6, 11, 26, 51, 101, 251, 501, 1001)
#: The central interval the interval score is computed for.
INTERVAL = 0.9


def _bin_of(values: np.ndarray) -> np.ndarray:
    return np.searchsorted(np.asarray(IGN_BINS), np.asarray(values, dtype=float),
                           side="right") - 1


def ignorance(samples: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """Log score in bits of the observed count's bin (see the module docstring).

    Args:
        samples: (n x m) forecast samples for m observations.
        observed: (m,) observed counts.
    """
    import scoringrules as sr   # compiles its kernels on import (~2 s): only when scoring
    x = np.asarray(samples, dtype=float)
    y = np.atleast_1d(np.asarray(observed, dtype=float))
    n, k = x.shape[0], len(IGN_BINS)
    hits = (_bin_of(x) == _bin_of(y)[None, :]).sum(axis=0)
    prob = (hits + 1.0 / k) / (n + 1.0)
    return np.asarray(sr.log_score(np.ones_like(prob), prob)) / np.log(2.0)


def score_samples(samples: np.ndarray, observed: np.ndarray) -> dict[str, np.ndarray]:
    """CRPS, ignorance (bits) and 90% interval score of sample forecasts.

    Args:
        samples: (n x m) forecast samples (n draws) for m observed values; NaN draws are
            dropped column by column.
        observed: (m,) observed values.

    Returns:
        ``crps``, ``ign``, ``interval_score``, and the forecast's ``median``, ``lo90``,
        ``hi90``, each (m,).
    """
    import scoringrules as sr
    x = np.asarray(samples, dtype=float)
    if x.ndim == 1:
        x = x[:, None]
    y = np.atleast_1d(np.asarray(observed, dtype=float))
    out = {k: np.full(len(y), np.nan) for k in ("crps", "ign", "interval_score", "median",
                                                 "lo90", "hi90")}
    tail = (1.0 - INTERVAL) / 2.0
    for j in range(len(y)):
        col = x[:, j][np.isfinite(x[:, j])]
        if len(col) == 0 or not np.isfinite(y[j]):
            continue
        lo, med, hi = np.quantile(col, [tail, 0.5, 1.0 - tail])
        out["median"][j], out["lo90"][j], out["hi90"][j] = med, lo, hi
        out["crps"][j] = float(sr.crps_ensemble(y[j], col, estimator="fair")) \
            if len(col) > 1 else abs(col[0] - y[j])
        out["ign"][j] = float(ignorance(col[:, None], [y[j]])[0])
        out["interval_score"][j] = float(sr.interval_score(y[j], lo, hi, 1.0 - INTERVAL))
    return out


def block_bootstrap(diff: np.ndarray, groups: np.ndarray | None = None, block: int = 3,
                    draws: int = 2000, seed: int = 0, level: float = 0.9
                    ) -> tuple[float, float, float]:
    """Mean of paired score differences with a moving-block bootstrap interval.

    Months next to each other share a campaign, so their score differences are not
    independent; resampling blocks of ``block`` consecutive months (Künsch 1989, "The
    jackknife and the bootstrap for general stationary observations", Ann. Stat. 17) keeps
    that dependence inside each block. Blocks never straddle two ``groups`` (forecast
    origins); a group shorter than ``block`` is one block. The statistic is the mean over all
    items, each resample drawing blocks until it has as many items as the data.

    Returns:
        (mean, low, high) of the ``level`` percentile interval.
    """
    d = np.asarray(diff, dtype=float)
    ok = np.isfinite(d)
    d = d[ok]
    if len(d) == 0:
        return np.nan, np.nan, np.nan
    g = np.zeros(len(d), dtype=np.int64) if groups is None else np.asarray(groups)[ok]
    blocks: list[np.ndarray] = []
    for key in dict.fromkeys(g.tolist()):
        idx = np.flatnonzero(g == key)
        if len(idx) <= block:
            blocks.append(idx)
        else:
            blocks += [idx[i:i + block] for i in range(len(idx) - block + 1)]
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0xB007]))
    means = np.empty(draws)
    n = len(d)
    sizes = np.array([len(b) for b in blocks])
    for k in range(draws):
        picked, total = [], 0
        while total < n:
            b = int(rng.integers(len(blocks)))
            picked.append(blocks[b])
            total += sizes[b]
        means[k] = d[np.concatenate(picked)[:n]].mean()
    tail = (1.0 - level) / 2.0
    lo, hi = np.quantile(means, [tail, 1.0 - tail])
    return float(d.mean()), float(lo), float(hi)
