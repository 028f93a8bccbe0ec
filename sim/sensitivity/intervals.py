"""Intervals of a design point's outcome, and how the analysis writes them.

What lives here: the Wilson score interval of a share (:func:`wilson`), the t interval of a
mean (:func:`t_interval`) and their words (:func:`fmt_share`, :func:`fmt_mean`). What does not:
which outcome is a share (``sim.sensitivity.data.BINARY``), the tables and figures that use
them.

Why Wilson: the normal ("Wald") interval of a share, p +- 1.96 sqrt(p (1 - p) / n), has zero
width at 0 of n or n of n ("0.00 +- 0.00"), as if 20 runs proved that something never
happens; Wilson's interval of 0 of 20 is 0-16%, and it keeps its coverage near 0 and 1
(Brown, Cai & DasGupta 2001, "Interval estimation for a binomial proportion", Statistical
Science 16(2)). It equals ``scipy.stats.binomtest(k, n).proportion_ci(method="wilson")``,
computed here in closed form so that thousands of design points cost one NumPy expression.
"""

from __future__ import annotations

import numpy as np
from scipy import stats as _stats

#: Level of the intervals shown in the tables and figures of an analysis.
LEVEL = 0.95


def wilson(k, n, level: float = LEVEL) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of the share ``k / n`` (arrays or numbers; ``n = 0`` gives
    0-1, nothing being known)."""
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    z = _stats.norm.ppf(0.5 + level / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(n > 0, k / n, 0.0)
        denom = 1 + z * z / n
        centre = (p + z * z / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
        lo = np.where(n > 0, np.clip(centre - half, 0, 1), 0.0)
        hi = np.where(n > 0, np.clip(centre + half, 0, 1), 1.0)
    # exact ends: 0 of n has lower end 0, n of n upper end 1 (rounding can leave 1e-17)
    lo = np.where(k <= 0, 0.0, lo)
    hi = np.where((n > 0) & (k >= n), 1.0, hi)
    return lo, hi


def t_interval(mean, sd, n, level: float = LEVEL) -> tuple[np.ndarray, np.ndarray]:
    """Student-t interval of a mean of ``n`` runs with sample standard deviation ``sd``
    (NaN ends where ``n < 2``: one run says nothing of its noise)."""
    mean = np.asarray(mean, dtype=float)
    sd = np.asarray(sd, dtype=float)
    n = np.asarray(n, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        q = _stats.t.ppf(0.5 + level / 2, np.where(n > 1, n - 1, np.nan))
        half = q * sd / np.sqrt(n)
    return mean - half, mean + half


def fmt_share(k: float, n: float, lo: float, hi: float) -> str:
    """``"0 of 20 (0-16%)"``: the count, the runs and the Wilson interval in percent."""
    return f"{int(round(k))} of {int(n)} ({_pct(lo)}-{_pct(hi)}%)"


def fmt_mean(mean: float, lo: float, hi: float) -> str:
    """``"35 (33.1 to 36.9)"``: a mean and its interval, to 3 significant digits ("to",
    not a dash, because either end can be negative)."""
    if not np.isfinite(lo) or not np.isfinite(hi):
        return f"{_sig(mean)}"
    return f"{_sig(mean)} ({_sig(lo)} to {_sig(hi)})"


def _pct(x: float) -> str:
    v = 100 * float(x)
    return f"{v:.0f}" if v >= 1 or v == 0 else f"{v:.1f}"


def _sig(x: float) -> str:
    x = float(x)
    if not np.isfinite(x):
        return "n/a"
    return "0" if abs(x) < 1e-9 else f"{x:.3g}"
