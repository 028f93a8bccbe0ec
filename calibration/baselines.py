"""Baselines the model's forecasts are scored against: a constant-rate Poisson process and a
self-exciting (Hawkes) process, both fitted by maximum likelihood on the same window.

What lives here: :class:`PoissonBaseline` (MLE rate = events / time), :class:`Hawkes`
(exponential kernel, log-likelihood by Ozaki's recursion, MLE with ``scipy.optimize``,
forward simulation by Ogata's thinning conditioned on the fitted history), and helpers to turn
daily event tables into event times. What does not: scoring (``calibration.validate``).

The Hawkes intensity (Hawkes 1971; Ozaki 1979, "Maximum likelihood estimation of Hawkes'
self-exciting point processes", Ann. Inst. Stat. Math. 31)::

    lambda(t) = mu + alpha * beta * sum_{t_i < t} exp(-beta (t - t_i))

with ``alpha`` the branching ratio (expected offspring per event, < 1 for stationarity) and
``1 / beta`` the memory in days. On [0, T] the log-likelihood is::

    sum_i log lambda(t_i) - mu T - alpha sum_i (1 - exp(-beta (T - t_i)))

Event times are in days from the window's start; an event on day ``d`` is at ``d + 0.5``, and
``k`` events on one day are spread evenly inside it (the record has dates, not times).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize
from scipy.special import expit, logit


def event_times(days: np.ndarray, counts: np.ndarray | None = None) -> np.ndarray:
    """Event times from day indices (one event each) or daily ``counts`` (k per day)."""
    days = np.asarray(days, dtype=float)
    if counts is None:
        counts = np.ones(len(days), dtype=np.int64)
    times = [d + (np.arange(k) + 0.5) / k for d, k in zip(days, np.asarray(counts, int)) if k > 0]
    return np.sort(np.concatenate(times)) if times else np.zeros(0)


def counts_in(times: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts of event times in the windows [edges[i], edges[i+1])."""
    return np.histogram(times, bins=edges)[0]


# --- Poisson ------------------------------------------------------------------------------------

@dataclass
class PoissonBaseline:
    """A constant-rate Poisson process: the rate (per day) is the MLE, events / exposure."""

    rate: float

    @classmethod
    def fit(cls, counts, exposure) -> "PoissonBaseline":
        """MLE from counts over exposures (days): sum(counts) / sum(exposure). With daily
        counts and unit exposures this is the sample mean."""
        counts = np.asarray(counts, dtype=float)
        exposure = np.broadcast_to(np.asarray(exposure, dtype=float), counts.shape)
        total = exposure.sum()
        if total <= 0:
            raise ValueError("no exposure to fit a rate on")
        return cls(float(counts.sum() / total))

    def loglik(self, counts, exposure) -> float:
        from scipy.stats import poisson
        counts = np.asarray(counts, dtype=float)
        mean = self.rate * np.broadcast_to(np.asarray(exposure, float), counts.shape)
        return float(poisson.logpmf(counts, mean).sum())

    def sample(self, lengths, n: int, rng: np.random.Generator) -> np.ndarray:
        """(n x windows) predictive counts for windows of ``lengths`` days."""
        lengths = np.asarray(lengths, dtype=float)
        return rng.poisson(self.rate * lengths, size=(n, len(lengths))).astype(float)


# --- Hawkes -------------------------------------------------------------------------------------

@dataclass
class Hawkes:
    """A univariate Hawkes process with an exponential kernel (see the module docstring)."""

    mu: float
    alpha: float
    beta: float

    @staticmethod
    def loglik_of(times: np.ndarray, T: float, mu: float, alpha: float, beta: float) -> float:
        """Log-likelihood of event times on [0, T] (Ozaki's O(n) recursion)."""
        times = np.asarray(times, dtype=float)
        if mu <= 0 or alpha < 0 or beta <= 0:
            return -np.inf
        ll, a, prev = 0.0, 0.0, None
        for t in times:
            if prev is not None:
                a = np.exp(-beta * (t - prev)) * (1.0 + a)
            ll += np.log(mu + alpha * beta * a)
            prev = t
        ll -= mu * T + alpha * np.sum(1.0 - np.exp(-beta * (T - times)))
        return float(ll)

    def loglik(self, times: np.ndarray, T: float) -> float:
        return self.loglik_of(times, T, self.mu, self.alpha, self.beta)

    @classmethod
    def fit(cls, times: np.ndarray, T: float, max_alpha: float = 0.99,
            beta_bounds: tuple[float, float] = (1.0 / 365.0, 10.0)) -> "Hawkes":
        """Maximum likelihood over mu > 0, 0 <= alpha < max_alpha, beta in ``beta_bounds``
        (per day), from several starting points (the likelihood is not concave)."""
        times = np.sort(np.asarray(times, dtype=float))
        n = len(times)
        if n == 0:
            return cls(mu=1e-9, alpha=0.0, beta=1.0)
        lo, hi = np.log(beta_bounds[0]), np.log(beta_bounds[1])

        def unpack(x):
            return (np.exp(x[0]), max_alpha * expit(x[1]),
                    np.exp(lo + (hi - lo) * expit(x[2])))

        def nll(x):
            v = -cls.loglik_of(times, T, *unpack(x))
            return v if np.isfinite(v) else 1e12

        best = None
        base = n / T
        for a0 in (0.1, 0.5, 0.8):
            for b0 in (1.0 / 60, 1.0 / 7, 1.0):
                x0 = np.array([np.log(base * (1 - a0)), logit(a0 / max_alpha),
                               logit((np.log(b0) - lo) / (hi - lo))])
                res = optimize.minimize(nll, x0, method="Nelder-Mead",
                                        options=dict(xatol=1e-6, fatol=1e-8, maxiter=4000))
                if best is None or res.fun < best.fun:
                    best = res
        return cls(*(float(v) for v in unpack(best.x)))

    def intensity(self, t: float, history: np.ndarray) -> float:
        past = history[history < t]
        return float(self.mu + self.alpha * self.beta * np.sum(np.exp(-self.beta * (t - past))))

    def simulate(self, history: np.ndarray, t0: float, t1: float, n: int,
                 rng: np.random.Generator) -> list[np.ndarray]:
        """``n`` continuations on [t0, t1) given the events ``history`` before t0 (Ogata's
        thinning: between events the intensity only decays, so its value just after the
        last event bounds it)."""
        history = np.asarray(history, dtype=float)
        past = history[history < t0]
        excite0 = float(self.alpha * self.beta * np.sum(np.exp(-self.beta * (t0 - past))))
        paths = []
        for _ in range(n):
            t, excite, out = t0, excite0, []
            while True:
                bound = self.mu + excite
                w = rng.exponential(1.0 / bound)
                t += w
                if t >= t1:
                    break
                excite *= np.exp(-self.beta * w)
                if rng.random() * bound <= self.mu + excite:
                    out.append(t)
                    excite += self.alpha * self.beta
            paths.append(np.asarray(out))
        return paths

    def sample_counts(self, history: np.ndarray, edges: np.ndarray, n: int,
                      rng: np.random.Generator) -> np.ndarray:
        """(n x windows) predictive counts in [edges[i], edges[i+1]) after the history."""
        paths = self.simulate(history, float(edges[0]), float(edges[-1]), n, rng)
        return np.array([counts_in(p, edges) for p in paths], dtype=float)
