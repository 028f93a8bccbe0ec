"""ABC-SMC: approximate Bayesian computation by sequential Monte Carlo, with model choice.

What lives here: the published algorithm, independent of the escalation model: priors as
named SciPy distributions (:class:`Parameter`), models as parameter sets (:class:`Model`),
and :func:`abc_smc`, which takes any simulator ``simulator(model, theta, replicates) ->
summaries`` (pyABC's view of a model: a plain function from parameters to summary
statistics) and a ``mapper`` that runs chunks of simulations (the builtin ``map``, a process
pool, a Dask client). What does not: the escalation model's simulator and priors
(``calibration.simulator``, ``calibration.priors``), files and reports.

The algorithm:

* Toni, Welch, Strelkowa, Ipsen & Stumpf (2009), "Approximate Bayesian computation scheme
  for parameter inference and model selection in dynamical systems", J. R. Soc. Interface 6:
  populations of particles under decreasing tolerances, and model choice by carrying the
  model index as a particle coordinate (stay with probability ``p_stay``, else jump to another
  living model).
* Beaumont, Cornuet, Marin & Robert (2009), "Adaptive approximate Bayesian computation",
  Biometrika 96: importance weights prior / proposal with a Gaussian perturbation kernel of
  twice the weighted covariance of the previous population (per model). The optimal local
  covariance of Filippi et al. (2013) is an option (``kernel_kind="olcm"``): it accepts more
  often but, on this model, left the weights degenerate (effective sample size below 100 of
  500 particles), so it is not the default.
* Del Moral, Doucet & Jasra (2012): the tolerance of a generation is the ``alpha`` quantile
  of the previous population's distances (weighted).
* Prangle (2017), "Adapting the ABC distance function", Bayesian Analysis 12: each
  generation's distance scales every summary by its median absolute deviation over all the
  simulations of the previous generation (accepted or not), so that no summary dominates
  because of its units.
* Fearnhead & Prangle (2012), semi-automatic ABC, refitted each generation (Schälte &
  Hasenauer 2023): with one model, the distance compares regression predictions of the
  parameters from the summaries rather than the many summaries themselves, which keeps the
  tolerance meaningful when there are more summaries than parameters (:class:`Projection`);
  each prediction is scaled by the spread (MAD) of its parameter among the previous
  generation's proposals, Prangle's idea in parameter units.

Parameters are perturbed on an internal scale: the logarithm for log-scale priors
(``loguniform``), the value itself otherwise; prior densities are taken on that scale (with
the Jacobian), so weights are exact.

Perturbations stay inside the prior's support by construction, not by rejection: the
kernel's noises are drawn coordinate by coordinate, each from the standard normal
truncated to what keeps its coordinate inside its bounds given the earlier ones (with a
lower-triangular factor, coordinate a depends on noises 0..a only), the GHK construction
(Geweke 1991; Hajivassiliou & McFadden 1998; Keane 1994). Its density is the Gaussian
kernel's divided by the product of the truncated masses, which the importance weights use.
Rejecting perturbations outside the bounds instead wasted almost every draw in many
dimensions (with 27 bounded parameters and a population spread over the prior, ~4 in
100,000 fell inside: drawing them cost three times the simulations).

Reproducibility: every proposal comes from one ``numpy`` Generator seeded by ``seed``; every
simulation gets its own replicate index (0, 1, 2, ... in proposal order), which is all the
simulator's randomness may depend on; chunks are cut by ``chunk`` and never by the number of
workers, and accepted particles are taken in proposal order. So a run gives the same result
with any mapper.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable, Sequence

import numpy as np
from scipy import stats
from scipy.special import log_ndtr, logsumexp, ndtr, ndtri

#: Scale of the MAD as an estimate of a standard deviation under normality.
MAD_TO_SD = 1.4826


# --- Priors and models ---------------------------------------------------------------------

@lru_cache(maxsize=None)
def _frozen(dist: str, args: tuple):
    """A frozen SciPy distribution, built once (building one costs ~0.1 ms of signature
    inspection, and proposals evaluate priors thousands of times)."""
    return getattr(stats, dist)(*args)


@lru_cache(maxsize=None)
def _support_z(p: "Parameter") -> tuple[float, float]:
    lo, hi = p.prior.support()
    with np.errstate(divide="ignore"):
        return float(p.to_z(np.asarray(lo))), float(p.to_z(np.asarray(hi)))


def kish_ess(weights) -> float:
    """Kish's effective sample size of importance weights (normalised here): 1 / sum(w^2)."""
    w = np.asarray(weights, dtype=float)
    w = w / w.sum()
    return float(1.0 / np.sum(w ** 2))


@dataclass(frozen=True)
class Parameter:
    """A fitted parameter: a name and a named SciPy prior, e.g. ``Parameter("rate",
    "loguniform", (0.1, 10))`` (``scipy.stats.loguniform(0.1, 10)``). ``log``: perturb on
    the log scale (default: for ``loguniform`` priors).

    ``uniform`` takes its bounds, ``(lo, hi)``, like ``loguniform`` (SciPy's own
    ``uniform(loc, scale)`` would read the second number as the width)."""

    name: str
    dist: str
    args: tuple[float, ...]
    log: bool | None = None
    doc: str = ""

    @property
    def on_log(self) -> bool:
        return self.dist == "loguniform" if self.log is None else bool(self.log)

    @property
    def prior(self):
        if self.dist == "uniform":
            lo, hi = self.args
            return _frozen("uniform", (float(lo), float(hi) - float(lo)))
        return _frozen(self.dist, tuple(self.args))

    def describe(self) -> str:
        return f"{self.dist}({', '.join(f'{a:g}' for a in self.args)})"

    def to_x(self, z: np.ndarray) -> np.ndarray:
        return np.exp(z) if self.on_log else z

    def to_z(self, x: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(x) if self.on_log else x

    @property
    def support_z(self) -> tuple[float, float]:
        """The prior's support on the internal scale (where its density is positive)."""
        return _support_z(self)

    def logpdf_z(self, z: np.ndarray) -> np.ndarray:
        """Log prior density on the internal scale (-inf outside the support)."""
        x = self.to_x(z)
        with np.errstate(divide="ignore", invalid="ignore"):
            lp = self.prior.logpdf(x)
        lp = lp + z if self.on_log else lp   # Jacobian |dx/dz| = x = e^z
        return np.where(np.isfinite(lp), lp, -np.inf)

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return np.asarray(self.prior.rvs(size=n, random_state=rng), dtype=float)

    def z_variance(self, rng_free_n: int = 4001) -> float:
        """Variance of the prior on the internal scale (by quantiles, deterministic)."""
        q = (np.arange(rng_free_n) + 0.5) / rng_free_n
        z = self.to_z(self.prior.ppf(q))
        return float(np.var(z[np.isfinite(z)]))


@dataclass(frozen=True)
class Model:
    """A model to fit: a name and its parameters (for model choice, one per candidate)."""

    name: str
    parameters: tuple[Parameter, ...]


def union_parameters(models: Sequence[Model]) -> list[Parameter]:
    """All parameters of the models, each name once (shared names must share their prior)."""
    seen: dict[str, Parameter] = {}
    for m in models:
        for p in m.parameters:
            if p.name in seen and (seen[p.name].dist, seen[p.name].args, seen[p.name].on_log) \
                    != (p.dist, p.args, p.on_log):
                raise ValueError(f"parameter {p.name!r} has two different priors")
            seen.setdefault(p.name, p)
    return list(seen.values())


# --- Results ---------------------------------------------------------------------------------

@dataclass
class Population:
    """One generation's accepted particles.

    ``theta`` holds every parameter of :func:`union_parameters` (NaN where a particle's
    model lacks it); ``weight`` sums to 1; ``summaries`` are the raw summaries of the
    accepted simulations (an ABC posterior predictive sample).
    """

    generation: int
    model: np.ndarray
    theta: np.ndarray
    weight: np.ndarray
    distance: np.ndarray
    summaries: np.ndarray
    epsilon: float
    simulations: int
    scales: np.ndarray
    seconds: float = 0.0
    accepted: int = 0
    r2: np.ndarray | None = None

    @property
    def acceptance(self) -> float:
        """Share of this generation's simulations within its tolerance (surplus included)."""
        return max(self.accepted, len(self.weight)) / max(self.simulations, 1)

    def model_probabilities(self, n_models: int) -> np.ndarray:
        return np.bincount(self.model, weights=self.weight, minlength=n_models)

    def ess(self) -> float:
        """Effective sample size of the weights (:func:`kish_ess`)."""
        return kish_ess(self.weight)


@dataclass
class SMCResult:
    """All generations of a run, with what is needed to read them."""

    models: list[Model]
    parameters: list[Parameter]
    observed: np.ndarray
    populations: list[Population]
    simulations: int
    seed: int
    stopped: str = ""
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def final(self) -> Population:
        return self.populations[-1]


# --- Helpers ---------------------------------------------------------------------------------

def weighted_quantile(values: np.ndarray, weights: np.ndarray, q) -> np.ndarray:
    """Quantiles of a weighted sample (inverse of the weighted empirical CDF, midpoints)."""
    values = np.asarray(values, dtype=float)
    weights = np.asarray(weights, dtype=float)
    ok = np.isfinite(values)
    values, weights = values[ok], weights[ok]
    if len(values) == 0:
        return np.full(np.shape(q), np.nan)
    order = np.argsort(values, kind="stable")
    v, w = values[order], weights[order]
    cdf = (np.cumsum(w) - 0.5 * w) / w.sum()
    return np.interp(q, cdf, v)


def mad_scales(x: np.ndarray, floor: np.ndarray) -> np.ndarray:
    """Per-column scale: MAD (as a standard deviation), not below ``floor``."""
    med = np.nanmedian(x, axis=0)
    mad = MAD_TO_SD * np.nanmedian(np.abs(x - med), axis=0)
    return np.maximum(np.nan_to_num(mad, nan=0.0), floor)


def distances(x: np.ndarray, observed: np.ndarray, scales: np.ndarray) -> np.ndarray:
    """Euclidean distance of scaled summaries; a NaN summary counts as infinitely far."""
    d = np.sqrt(np.sum(((x - observed) / scales) ** 2, axis=1))
    return np.where(np.isfinite(d), d, np.inf)


def _weighted_cov(z: np.ndarray, w: np.ndarray) -> np.ndarray:
    w = w / w.sum()
    mean = w @ z
    c = z - mean
    return (c * w[:, None]).T @ c


class Projection:
    """Regression summaries (Fearnhead & Prangle 2012, "Constructing summary statistics for
    approximate Bayesian computation: semi-automatic ABC", JRSS B 74; refitted each
    generation as in Schälte & Hasenauer 2023, PLOS ONE 18): a ridge regression of the
    parameters (internal scale) on the summaries and their squares, fitted on the previous
    generation's simulations; its predictions, one per parameter, are the summaries the
    distance compares. ``r2``: the share of each parameter's variance the targets explain
    there (how well the record can inform it)."""

    def __init__(self, z: np.ndarray, x: np.ndarray, ridge: float = 1e-3):
        ok = np.all(np.isfinite(x), axis=1) & np.all(np.isfinite(z), axis=1)
        feats = self._features(x[ok])
        self.mean = feats.mean(axis=0)
        self.sd = feats.std(axis=0)
        self.sd[self.sd == 0] = 1.0
        X = np.column_stack([np.ones(ok.sum()), (feats - self.mean) / self.sd])
        penalty = ridge * len(X) * np.diag([0.0] + [1.0] * (X.shape[1] - 1))
        self.coef = np.linalg.solve(X.T @ X + penalty, X.T @ z[ok])
        fitted = X @ self.coef
        resid = np.var(z[ok] - fitted, axis=0)
        total = np.var(z[ok], axis=0)
        self.r2 = np.where(total > 0, 1.0 - resid / np.where(total > 0, total, 1.0), 0.0)

    @staticmethod
    def _features(x: np.ndarray) -> np.ndarray:
        return np.column_stack([x, x ** 2])

    def __call__(self, x: np.ndarray) -> np.ndarray:
        feats = (self._features(x) - self.mean) / self.sd
        return np.column_stack([np.ones(len(x)), feats]) @ self.coef


# --- The algorithm ---------------------------------------------------------------------------

class _Runner:
    """Runs proposals through the mapper in fixed chunks, model by model, in order."""

    def __init__(self, simulator, mapper, chunk: int, models: list[Model],
                 columns: list[list[int]], transform, bar=None):
        self.simulator, self.mapper, self.chunk = simulator, mapper, chunk
        self.models, self.columns, self.transform = models, columns, transform
        self.bar = bar
        self.count = 0   # next replicate index

    def __call__(self, model: np.ndarray, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Raw and transformed summaries of proposals (rows of ``theta``), in order."""
        reps = self.count + np.arange(len(model))
        self.count += len(model)
        tasks, where = [], []
        for m in range(len(self.models)):
            rows = np.flatnonzero(model == m)
            for lo in range(0, len(rows), self.chunk):
                part = rows[lo:lo + self.chunk]
                tasks.append((m, theta[np.ix_(part, self.columns[m])], reps[part]))
                where.append(part)
        results = self.mapper(self.simulator, tasks) if tasks else []
        raw = None
        for part, res in zip(where, results):   # in order, as the mapper yields them
            res = np.asarray(res, dtype=float)
            if raw is None:
                raw = np.full((len(model), res.shape[1]), np.nan)
            raw[part] = res
            if self.bar is not None:
                self.bar.update(len(part))
        if raw is None:
            raw = np.zeros((0, 0))
        return raw, (self.transform(raw) if self.transform else raw)


def _serial_map(fn, tasks):
    return (fn(*t) for t in tasks)


def abc_smc(models: Sequence[Model], simulator: Callable, observed: np.ndarray, *,
            population: int = 1000, budget: int = 50_000, alpha: float = 0.5, seed: int = 0,
            transform: Callable[[np.ndarray], np.ndarray] | None = None,
            scale_floor: np.ndarray | float = 1e-6, mapper: Callable | None = None,
            chunk: int = 250, max_generations: int = 30, min_acceptance: float = 0.01,
            p_stay: float = 0.7, model_prior: Sequence[float] | None = None,
            kernel_kind: str = "beaumont", summaries: str = "regression",
            progress: bool = False, on_generation: Callable[[Population], None] | None = None
            ) -> SMCResult:
    """Fit ``models`` to ``observed`` summaries by ABC-SMC (with model choice if several).

    Args:
        simulator: ``simulator(model_index, theta, replicates) -> summaries``: ``theta``
            (n x d) the model's parameters (in its ``parameters`` order, natural scale),
            ``replicates`` (n,) the run indices its randomness must be keyed by; returns
            (n x K) raw summaries. Must be picklable for process-pool mappers.
        observed: (K,) raw observed summaries.
        population: particles per generation.
        budget: most simulations in all; a generation that would exceed it is not started
            (and one cut short is dropped), so the result is the last complete population.
        alpha: quantile of the previous distances that sets the next tolerance.
        transform: applied to raw summaries before the distance (e.g. square roots).
        scale_floor: smallest scale per (transformed) summary.
        mapper: ``mapper(fn, tasks)`` -> results in order, each task a tuple of arguments
            for ``fn`` (default: in this process).
        chunk: simulations per task.
        max_generations: most generations after the prior one.
        min_acceptance: stop after a generation whose acceptance rate falls below this.
        p_stay: model choice: probability a perturbed particle keeps its model.
        kernel_kind: ``beaumont`` (2 x the population covariance, Beaumont et al. 2009,
            default) or ``olcm`` (Filippi et al. 2013); see :func:`_kernels`.
        summaries: ``regression`` (default for one model: the distance compares
            :class:`Projection` predictions, one per parameter) or ``plain`` (the transformed
            summaries themselves; always so for model choice, where summaries fitted to one
            model's parameters could favour it).
        model_prior: prior model probabilities (default uniform).
        progress: show a tqdm progress bar of simulations against the budget.
        on_generation: called with each finished population.
    """
    models = list(models)
    params = union_parameters(models)
    names = [p.name for p in params]
    columns = [[names.index(p.name) for p in m.parameters] for m in models]
    M, D, N = len(models), len(params), int(population)
    prior_m = np.full(M, 1.0 / M) if model_prior is None else np.asarray(model_prior, float)
    prior_m = prior_m / prior_m.sum()
    observed = np.asarray(observed, dtype=float)
    obs_t = transform(observed[None, :])[0] if transform else observed
    floor = np.broadcast_to(np.asarray(scale_floor, dtype=float), obs_t.shape)
    rng = np.random.default_rng(np.random.SeedSequence(int(seed)))
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=int(budget), unit="sim", desc="ABC-SMC", leave=False)
    run = _Runner(simulator, mapper or _serial_map, int(chunk), models, columns, transform,
                  bar)
    zvar = np.array([p.z_variance() for p in params])
    settings = dict(population=N, budget=int(budget), alpha=alpha, chunk=int(chunk),
                    max_generations=max_generations, min_acceptance=min_acceptance,
                    p_stay=p_stay, model_prior=prior_m.tolist(), kernel=kernel_kind)
    project = summaries == "regression" and M == 1
    settings["summaries"] = "regression" if project else "plain"

    def log_prior(m: int, z: np.ndarray) -> np.ndarray:
        """log prior of rows ``z`` (internal scale) of model m."""
        return np.log(prior_m[m]) + sum((params[c].logpdf_z(z[:, c]) for c in columns[m]),
                                        np.zeros(len(z)))

    # Generation 0: the prior.
    if N > budget:
        raise ValueError(f"budget {budget} is smaller than one population ({N})")
    clock = time.perf_counter()
    model0 = rng.choice(M, size=N, p=prior_m)
    theta0 = np.full((N, D), np.nan)
    for m in range(M):
        rows = np.flatnonzero(model0 == m)
        for c in columns[m]:
            theta0[rows, c] = params[c].sample(rng, len(rows))
    raw0, tr0 = run(model0, theta0)
    scales = mad_scales(tr0, floor)
    d0 = distances(tr0, obs_t, scales)
    pops = [Population(0, model0, theta0, np.full(N, 1.0 / N), d0, raw0, float(np.inf), N,
                       scales, time.perf_counter() - clock)]
    if on_generation:
        on_generation(pops[-1])
    all_tr, all_z = tr0, _to_z(theta0, params)
    stopped = "max_generations"

    for t in range(1, max_generations + 1):
        prev = pops[-1]
        if prev.generation > 0 and prev.acceptance < min_acceptance:
            stopped = "min_acceptance"
            break
        # Acceptance falls from one generation to the next; a generation the budget is not
        # expected to finish (at 0.6 of the last acceptance) is not started.
        acc_guess = prev.acceptance * 0.8 if t > 1 else 0.4
        if budget - run.count < N / (0.75 * acc_guess):
            stopped = "budget"
            break
        prev_tr = np.asarray(transform(prev.summaries) if transform else prev.summaries)
        if project:
            # Predictions are in parameter units: scale each by the spread of its parameter
            # among the previous generation's proposals, so that a prediction the targets
            # barely move (a poorly informed parameter) adds little to the distance.
            proj = Projection(all_z[:, columns[0]], all_tr)
            feat, r2 = proj, proj.r2
            scales = mad_scales(all_z[:, columns[0]], 0.01 * np.sqrt(zvar[columns[0]]))
        else:
            feat, r2 = (lambda x: x), None
            scales = mad_scales(all_tr, floor)
        obs_f = feat(obs_t[None, :])[0]
        d_prev = distances(feat(prev_tr), obs_f, scales)
        eps = float(weighted_quantile(d_prev, prev.weight, alpha))
        if not np.isfinite(eps):
            stopped = "epsilon"
            break
        clock = time.perf_counter()
        kernel = _kernels(prev, columns, params, zvar, M, kernel_kind, d_prev <= eps)
        if bar is not None:
            bar.set_postfix(generation=t, epsilon=f"{eps:.3g}", refresh=False)
        alive = np.flatnonzero(prev.model_probabilities(M) > 0)
        accepted_m, accepted_z, accepted_raw, accepted_d = [], [], [], []
        n_acc, sims, gen_tr, gen_z = 0, 0, [], []
        acc_est = acc_guess
        complete = True
        while n_acc < N:
            want = int(math.ceil((N - n_acc) / acc_est * 1.05))
            want = max(want, chunk)
            want = min(want, budget - run.count)
            if want <= 0:
                complete = False
                break
            m_new, z_new = _propose(rng, want, prev, kernel, alive, p_stay, M, columns, D)
            theta_new = np.full_like(z_new, np.nan)
            for c in range(D):
                theta_new[:, c] = params[c].to_x(z_new[:, c])
            raw, tr = run(m_new, theta_new)
            sims += want
            gen_tr.append(tr)
            gen_z.append(z_new)
            d = distances(feat(tr), obs_f, scales)
            ok = np.flatnonzero(d <= eps)
            accepted_m.append(m_new[ok])
            accepted_z.append(z_new[ok])
            accepted_raw.append(raw[ok])
            accepted_d.append(d[ok])
            n_acc += len(ok)
            acc_est = max((n_acc + 0.5) / sims, 1e-4)
        if not complete:
            stopped = "budget"
            break
        m_acc = np.concatenate(accepted_m)[:N]
        z_acc = np.concatenate(accepted_z)[:N]
        raw_acc = np.concatenate(accepted_raw)[:N]
        d_acc = np.concatenate(accepted_d)[:N]
        logw = _log_weights(m_acc, z_acc, prev, kernel, alive, p_stay, M, columns, log_prior)
        w = np.exp(logw - logw.max())
        w /= w.sum()
        theta_acc = np.full_like(z_acc, np.nan)
        for c in range(D):
            theta_acc[:, c] = params[c].to_x(z_acc[:, c])
        pops.append(Population(t, m_acc, theta_acc, w, d_acc, raw_acc, eps, sims, scales,
                               time.perf_counter() - clock, n_acc, r2))
        all_tr, all_z = np.vstack(gen_tr), np.vstack(gen_z)
        if on_generation:
            on_generation(pops[-1])
    if bar:
        bar.close()
    return SMCResult(models, params, observed, pops, run.count, int(seed), stopped, settings)


def _to_z(theta: np.ndarray, params: list[Parameter]) -> np.ndarray:
    z = np.full_like(theta, np.nan)
    for c, p in enumerate(params):
        z[:, c] = p.to_z(theta[:, c])
    return z


def _kernels(prev: Population, columns, params, zvar, M, kernel: str = "olcm",
             good: np.ndarray | None = None) -> list[dict]:
    """Per model: its previous particles on the internal scale, their normalised weights and
    one Gaussian kernel per particle (Cholesky factors).

    ``beaumont``: every particle gets 2 x the weighted covariance of the model's particles
    (Beaumont et al. 2009). ``olcm``: particle i gets the optimal local covariance of
    Filippi, Barnes, Cornebise & Stumpf (2013, "On optimality of kernels for approximate
    Bayesian computation using sequential Monte Carlo", Stat. Appl. Genet. Mol. Biol. 12):
    sum_k w_k (z_k - z_i)(z_k - z_i)^T over the previous particles k already within the new
    tolerance (``good``), which keeps proposals near the region the next generation accepts
    and raises the acceptance rate in several dimensions. With fewer than two such particles
    a model falls back to Beaumont's kernel.
    """
    out = []
    for m in range(M):
        rows = np.flatnonzero(prev.model == m)
        cols = columns[m]
        d = len(cols)
        if len(rows) == 0 or not cols:
            out.append(dict(rows=rows, z=np.zeros((len(rows), d)),
                            w=np.ones(len(rows)) / max(len(rows), 1), chol=None, logdet=None,
                            lo=np.zeros(d), hi=np.zeros(d)))
            continue
        z = np.column_stack([params[c].to_z(prev.theta[rows, c]) for c in cols])
        w = prev.weight[rows] / prev.weight[rows].sum()
        ridge = np.diag(1e-6 * zvar[cols] + 1e-12)
        if len(rows) > 1:
            # A model with few particles for its dimensions (a rule dying out in a model
            # choice) has a singular covariance: shrink it towards its diagonal by d / (n + d)
            # (5% for 500 particles in 27 dimensions), so that its kernel still spreads in
            # every direction and its particles' weights do not hinge on a degenerate kernel.
            cov = _weighted_cov(z, w)
            shrink = d / (len(rows) + d)
            wide = 2.0 * ((1 - shrink) * cov + shrink * np.diag(np.diag(cov))) + ridge
        else:
            wide = np.diag(0.05 * zvar[cols]) + ridge
        sel = np.zeros(len(rows), dtype=bool) if good is None else good[rows]
        if kernel == "olcm" and sel.sum() >= 2:
            wg = w[sel] / w[sel].sum()
            mean = wg @ z[sel]
            cov_good = _weighted_cov(z[sel], wg)
            off = mean[None, :] - z
            covs = cov_good[None] + off[:, :, None] * off[:, None, :] + ridge[None]
            shared = False
        else:
            covs = np.broadcast_to(wide, (len(rows), d, d)).copy()
            shared = True
        chol = np.linalg.cholesky(covs)
        logdet = 2.0 * np.sum(np.log(np.diagonal(chol, axis1=1, axis2=2)), axis=1)
        sup = np.array([params[c].support_z for c in cols]).reshape(-1, 2)
        # ``shared``: the one factor of Beaumont's kernel (used as is, not gathered per
        # proposal); ``lo``, ``hi``: the support the kernel is truncated to.
        out.append(dict(rows=rows, z=z, w=w, chol=chol, logdet=logdet,
                        inv=np.linalg.inv(chol), shared=chol[0] if shared else None,
                        lo=sup[:, 0], hi=sup[:, 1]))
    return out


def _jump(rng, m: np.ndarray, alive: np.ndarray, p_stay: float) -> np.ndarray:
    """Model perturbation: keep with probability p_stay, else another living model."""
    if len(alive) < 2:
        return m
    move = rng.random(len(m)) >= p_stay
    out = m.copy()
    for i in np.flatnonzero(move):
        others = alive[alive != m[i]]
        out[i] = others[rng.integers(len(others))]
    return out


def _propose(rng, n, prev: Population, kernel, alive, p_stay, M, columns, D):
    """n proposals inside the prior's support: (models, internal-scale parameters).

    A proposal is a model (kept with probability ``p_stay``, else another living model), a
    particle of that model by weight, and the particle perturbed by the model's kernel
    truncated to the support coordinate by coordinate (:func:`_draw_truncated`)."""
    pm = prev.model_probabilities(M)
    m = _jump(rng, rng.choice(M, size=n, p=pm / pm.sum()), alive, p_stay)
    z = np.full((n, D), np.nan)
    for mm in np.unique(m):
        rows = np.flatnonzero(m == mm)
        kern, cols = kernel[mm], columns[mm]
        if not cols:
            continue
        j = rng.choice(len(kern["rows"]), size=len(rows), p=kern["w"])
        lo, hi = kern["lo"], kern["hi"]
        factor = kern["shared"] if kern.get("shared") is not None else kern["chol"][j]
        z[np.ix_(rows, cols)] = _draw_truncated(rng, kern["z"][j], factor, lo, hi)
    return m, z


def _draw_truncated(rng, centres: np.ndarray, factor: np.ndarray, lo: np.ndarray,
                    hi: np.ndarray) -> np.ndarray:
    """``centres + factor @ noise`` with each noise drawn from the standard normal truncated
    so that its coordinate stays in [lo, hi] given the earlier ones (GHK). ``factor`` is one
    lower-triangular matrix, or one per row."""
    n, d = centres.shape
    per_row = factor.ndim == 3
    e = np.zeros((n, d))
    for a in range(d):
        row = factor[:, a, :a] if per_row else factor[a, :a]
        m = centres[:, a] + (np.einsum("nb,nb->n", e[:, :a], row) if per_row
                             else e[:, :a] @ row)
        s = factor[:, a, a] if per_row else factor[a, a]
        e[:, a] = _truncated_normal(rng.random(n), (lo[a] - m) / s, (hi[a] - m) / s)
    # einsum rather than a matrix product: no BLAS threads (which, on a busy machine, wait
    # on each other for small products)
    z = centres + (np.einsum("nab,nb->na", factor, e) if per_row
                   else np.einsum("ab,nb->na", factor, e))
    return np.clip(z, lo, hi)   # rounding at a bound


def _truncated_normal(u: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Standard normal truncated to [a, b] by inversion of uniforms ``u``; intervals in the
    upper tail are mirrored into the lower one, where the normal CDF keeps its precision."""
    a, b = np.broadcast_arrays(np.asarray(a, float), np.asarray(b, float))
    flip, lo, hi = _mirrored(a, b)
    plo, phi = ndtr(lo), ndtr(hi)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        x = ndtri(plo + u * (phi - plo))
        # Far in the lower tail (hi < -30, where the CDF underflows) the density falls as
        # exp(-|hi| t) below hi: an exponential truncated to the interval's width.
        rate = np.abs(hi)
        t = -np.log1p(-u * -np.expm1(-rate * (hi - lo))) / rate
        x = np.where(hi < -30.0, hi - t, x)
    x = np.clip(np.where(np.isfinite(x), x, hi), lo, hi)
    return np.where(flip, -x, x)


def _mirrored(a: np.ndarray, b: np.ndarray):
    """[a, b] mirrored to [-b, -a] where it lies above zero (``flip``): the normal's mass and
    quantiles are then taken in the lower tail, where its CDF keeps its precision."""
    flip = a > 0
    return flip, np.where(flip, -b, a), np.where(flip, -a, b)


def _log_truncated_mass(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """log(Phi(b) - Phi(a)) for a <= b, stable in both tails."""
    _flip, lo, hi = _mirrored(a, b)
    lhi, llo = log_ndtr(hi), log_ndtr(lo)
    with np.errstate(divide="ignore"):
        return lhi + np.log1p(-np.exp(np.minimum(llo - lhi, 0.0)))


def _log_weights(m_acc, z_acc, prev: Population, kernel, alive, p_stay, M, columns,
                 log_prior) -> np.ndarray:
    """log importance weights: prior / proposal (Toni et al. 2009; Beaumont et al. 2009)."""
    pm = prev.model_probabilities(M)
    n_alive = len(alive)
    logw = np.empty(len(m_acc))
    for mm in np.unique(m_acc):
        rows = np.flatnonzero(m_acc == mm)
        if n_alive < 2:
            q_model = 1.0
        else:
            jump = (1.0 - p_stay) / (n_alive - 1)
            q_model = sum(pm[a] * (p_stay if a == mm else jump) for a in alive)
        kern, cols = kernel[mm], columns[mm]
        if cols:
            z = z_acc[np.ix_(rows, cols)]
            log_k = _mixture_logpdf(z, kern["z"], kern["w"], kern["inv"], kern["logdet"],
                                    kern["chol"], kern["lo"], kern["hi"])
        else:
            log_k = np.zeros(len(rows))
        logw[rows] = log_prior(mm, z_acc[rows]) - np.log(q_model) - log_k
    return logw


def _mixture_logpdf(z: np.ndarray, centres: np.ndarray, w: np.ndarray, inv: np.ndarray,
                    logdet: np.ndarray, chol: np.ndarray | None = None,
                    lo: np.ndarray | None = None, hi: np.ndarray | None = None,
                    block: int = 64) -> np.ndarray:
    """log sum_j w_j q_j(z_i) for each row z_i, where q_j is the Gaussian kernel
    N(centres_j, L_j L_j^T) (``inv`` = L_j^-1) truncated coordinate by coordinate to
    [lo, hi] as :func:`_draw_truncated` draws it: the Gaussian density divided by the
    product over coordinates of the truncated masses Phi(beta_a) - Phi(alpha_a), where
    alpha_a = (lo_a - z_a) / L_aa + e_a and e = L^-1 (z - centres_j) are the noises that
    lead from particle j to z. Without bounds (``chol`` None), the plain Gaussian mixture."""
    d = z.shape[1]
    logw = np.log(np.maximum(w, 1e-300))
    parts = []
    for b0 in range(0, len(centres), block):
        sl = slice(b0, b0 + block)
        diff = z[None, :, :] - centres[sl, None, :]                 # (J, n, d)
        y = np.einsum("jab,jnb->jna", inv[sl], diff)
        q = np.sum(y ** 2, axis=2)                                  # (J, n)
        part = (logw[sl] - 0.5 * logdet[sl])[:, None] - 0.5 * q
        if chol is not None:
            s = np.diagonal(chol[sl], axis1=1, axis2=2)[:, None, :]  # (J, 1, d)
            alpha = (lo[None, None, :] - z[None, :, :]) / s + y
            beta = (hi[None, None, :] - z[None, :, :]) / s + y
            part = part - np.sum(_log_truncated_mass(alpha, beta), axis=2)
        parts.append(part)
    return logsumexp(np.vstack(parts), axis=0) - 0.5 * d * np.log(2 * np.pi)
