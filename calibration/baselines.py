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


# --- Hawkes with covariates ---------------------------------------------------------------------

@dataclass
class HawkesCov:
    """A Hawkes process whose baseline rate responds to exogenous daily covariates.

    ``mu(d) = exp(b0 + z_d . gamma)`` on day ``d``, with ``z`` the covariates standardised
    on the fitted window (a log-linear background, as in the ETAS-type models of violence of
    Mohler et al. 2011, JASA 106, and Lewis et al. 2012, J. Appl. Stat. 39), plus the
    exponential self-excitation of :class:`Hawkes`. The covariates are the model's own dated
    inputs (the scenario's shocks, the U.S. posture), so this baseline is given exactly the
    information the model is given.

    Fitted by penalised maximum likelihood: a Gaussian penalty (sd :data:`GAMMA_SD`) on each
    standardised gamma keeps the fit finite when a covariate separates the data (no attack
    at all during a freeze would otherwise send its gamma to minus infinity). A covariate
    that does not vary before the forecast origin carries no information there and is left
    out (its gamma is 0): a shock that has not yet happened at the origin cannot be learnt.
    """

    b0: float
    alpha: float
    beta: float
    gamma: np.ndarray
    used: np.ndarray
    center: np.ndarray
    scale: np.ndarray

    #: Penalty sd of a standardised covariate's log-rate effect: e^(2 x 2) = 55-fold for a
    #: two-sd change is allowed without much cost; the 2023 campaign raised attacks ~40-fold.
    GAMMA_SD = 2.0

    @staticmethod
    def _loglik(times, day_of_event, T, mu_days, alpha, beta) -> float:
        ll, a, prev = 0.0, 0.0, None
        for t, d in zip(times, day_of_event):
            if prev is not None:
                a = np.exp(-beta * (t - prev)) * (1.0 + a)
            ll += np.log(mu_days[d] + alpha * beta * a)
            prev = t
        ll -= mu_days[:int(np.ceil(T))].sum() + alpha * np.sum(1.0 - np.exp(-beta * (T - times)))
        return float(ll)

    @classmethod
    def fit(cls, times: np.ndarray, T: float, covariates: np.ndarray, max_alpha: float = 0.99,
            beta_bounds: tuple[float, float] = (1.0 / 365.0, 10.0)) -> "HawkesCov":
        """Penalised maximum likelihood on event ``times`` in [0, T] with daily
        ``covariates`` (days x k, at least ``ceil(T)`` rows), from several starting points."""
        times = np.sort(np.asarray(times, dtype=float))
        x_all = np.atleast_2d(np.asarray(covariates, dtype=float))
        days = int(np.ceil(T))
        x = x_all[:days]
        center, scale = x.mean(axis=0), x.std(axis=0)
        used = scale > 1e-9
        scale = np.where(used, scale, 1.0)
        z = ((x - center) / scale)[:, used]
        k = z.shape[1]
        n = len(times)
        if n == 0:
            return cls(np.log(1e-9), 0.0, 1.0, np.zeros(x_all.shape[1]), used, center, scale)
        day_of_event = np.minimum(times.astype(np.int64), days - 1)
        lo, hi = np.log(beta_bounds[0]), np.log(beta_bounds[1])

        def unpack(v):
            return (v[0], max_alpha * expit(v[1]), np.exp(lo + (hi - lo) * expit(v[2])),
                    v[3:])

        def objective(v):
            b0, alpha, beta, g = unpack(v)
            mu = np.exp(np.clip(b0 + z @ g, -30, 30))
            val = -cls._loglik(times, day_of_event, T, mu, alpha, beta)
            val += 0.5 * np.sum((g / cls.GAMMA_SD) ** 2)
            return val if np.isfinite(val) else 1e12

        best = None
        base = n / T
        for a0 in (0.1, 0.5):
            for b0 in (1.0 / 30, 1.0 / 3):
                v0 = np.concatenate([[np.log(base * (1 - a0)), logit(a0 / max_alpha),
                                      logit((np.log(b0) - lo) / (hi - lo))], np.zeros(k)])
                res = optimize.minimize(objective, v0, method="Nelder-Mead",
                                        options=dict(xatol=1e-5, fatol=1e-7,
                                                     maxiter=3000 * (1 + k)))
                if best is None or res.fun < best.fun:
                    best = res
        b0, alpha, beta, g = unpack(best.x)
        gamma = np.zeros(x_all.shape[1])
        gamma[used] = g
        return cls(float(b0), float(alpha), float(beta), gamma, used, center, scale)

    def mu(self, covariates: np.ndarray) -> np.ndarray:
        """Daily background rate for daily covariates (days x k)."""
        z = (np.atleast_2d(np.asarray(covariates, dtype=float)) - self.center) / self.scale
        return np.exp(np.clip(self.b0 + z @ self.gamma, -30, 30))

    def simulate(self, history: np.ndarray, t0: float, t1: float, covariates: np.ndarray,
                 n: int, rng: np.random.Generator) -> list[np.ndarray]:
        """``n`` continuations on [t0, t1) (Ogata's thinning, with the background's maximum
        over the remaining days in the bound)."""
        history = np.asarray(history, dtype=float)
        mu = self.mu(covariates)
        past = history[history < t0]
        excite0 = float(self.alpha * self.beta * np.sum(np.exp(-self.beta * (t0 - past))))
        last = min(int(np.ceil(t1)), len(mu))
        tail_max = np.maximum.accumulate(mu[:last][::-1])[::-1]
        paths = []
        for _ in range(n):
            t, excite, out = t0, excite0, []
            while True:
                d = min(int(t), last - 1)
                bound = tail_max[d] + excite
                w = rng.exponential(1.0 / bound)
                t += w
                if t >= t1:
                    break
                excite *= np.exp(-self.beta * w)
                if rng.random() * bound <= mu[min(int(t), last - 1)] + excite:
                    out.append(t)
                    excite += self.alpha * self.beta
            paths.append(np.asarray(out))
        return paths
