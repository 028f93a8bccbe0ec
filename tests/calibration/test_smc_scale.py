"""ABC-SMC's internal scale (issue 12): unbounded for every prior, so that perturbations land
inside the prior's support; the change of variables keeps the prior density (and so the
importance weights) exact."""

from __future__ import annotations

import numpy as np
import pytest

from calibration.smc import (Model, Parameter, Population, _kernels, _propose, abc_smc,
                             union_parameters)

UNIFORM = Parameter("u", "uniform", (2.0, 5.0))
LOGUNIFORM = Parameter("l", "loguniform", (0.1, 10.0))
GAMMA = Parameter("g", "gamma", (2.0,))            # support [0, inf): z = log x
SHIFTED = Parameter("s", "lognorm", (0.5, 3.0))   # support [3, inf): z = log(x - 3)
NORMAL = Parameter("n", "norm", (1.0, 2.0))


@pytest.mark.parametrize("p, kind", [(UNIFORM, "logit"), (LOGUNIFORM, "loglogit"),
                                     (GAMMA, "log"), (SHIFTED, "log"), (NORMAL, "identity"),
                                     (Parameter("b", "beta", (2.0, 3.0)), "logit")])
def test_round_trip_including_values_near_and_at_the_bounds(p, kind):
    assert p.scale_kind == kind
    lo, hi = p.prior.support()
    x = p.prior.ppf([1e-12, 1e-6, 0.01, 0.3, 0.5, 0.7, 0.99, 1 - 1e-6, 1 - 1e-12])
    x = np.r_[x, [v for v in (lo, np.nextafter(lo, np.inf), hi, np.nextafter(hi, -np.inf))
                  if np.isfinite(v)]]
    z = p.to_z(x)
    assert np.all(np.isfinite(z)), "a value at a bound must map to a finite z"
    back = p.to_x(z)
    width = (hi - lo) if np.isfinite(hi - lo) else p.prior.std()
    assert np.allclose(back, x, rtol=1e-12, atol=1e-14 * width)
    inner = (x > lo) & (x < hi) & (np.abs(z) < 30)
    assert np.allclose(back[inner], x[inner], rtol=1e-12, atol=0)   # to the digit inside
    # far out on z: the value stays inside the support (rounding clipped), never beyond
    far = p.to_x(np.array([-1e3, -60.0, -37.0, 37.0, 60.0, 300.0]))
    assert np.all((far >= lo) & (far <= hi))
    # values outside the support have no z
    if np.isfinite(lo):
        assert np.isnan(p.to_z(np.array([lo - 1.0]))[0])
    if np.isfinite(hi):
        assert np.isnan(p.to_z(np.array([hi + 1.0]))[0])


def test_logit_scale_maps_the_middle_to_zero():
    assert UNIFORM.to_z(np.array([3.5]))[0] == pytest.approx(0.0, abs=1e-12)
    assert UNIFORM.to_z(np.array([2.75]))[0] == pytest.approx(np.log(1 / 3))   # u = 1/4
    assert LOGUNIFORM.to_z(np.array([1.0]))[0] == pytest.approx(0.0, abs=1e-12)
    assert GAMMA.to_z(np.array([np.e]))[0] == pytest.approx(1.0)
    assert SHIFTED.to_z(np.array([3.0 + np.e]))[0] == pytest.approx(1.0)
    # the log flag: a uniform on the log scale, or a loguniform on the value itself
    assert Parameter("x", "uniform", (1.0, 100.0), log=True).to_z(
        np.array([10.0]))[0] == pytest.approx(0.0, abs=1e-12)
    assert Parameter("x", "loguniform", (1.0, 100.0), log=False).to_z(
        np.array([50.5]))[0] == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("p", [UNIFORM, LOGUNIFORM, GAMMA, SHIFTED, NORMAL,
                               Parameter("b", "beta", (2.0, 3.0)),
                               Parameter("w", "uniform", (1.0, 100.0), log=True)])
def test_density_on_z_integrates_to_one(p):
    """The Jacobian: without it the density of z would not integrate to 1."""
    z = np.linspace(-80.0, 80.0, 400_001)
    dens = np.exp(p.logpdf_z(z))
    assert np.trapezoid(dens, z) == pytest.approx(1.0, abs=1e-6)
    # and it is the density of the prior's draws mapped to z (a histogram check)
    draws = p.to_z(p.sample(np.random.default_rng(4), 200_000))
    edges = np.quantile(draws, [0.1, 0.3, 0.5, 0.7, 0.9])
    mass = np.diff([np.trapezoid(dens[z <= e], z[z <= e]) for e in edges])
    assert np.allclose(mass, 0.2, atol=0.01)


def test_density_on_z_matches_the_prior_probability_of_intervals():
    """P(a < x < b) from the prior equals the integral of the density on z between z(a)
    and z(b)."""
    for p, (a, b) in [(UNIFORM, (2.1, 2.4)), (LOGUNIFORM, (0.2, 0.5)), (GAMMA, (0.5, 3.0))]:
        z = np.linspace(*p.to_z(np.array([a, b])), 20_001)
        mass = np.trapezoid(np.exp(p.logpdf_z(z)), z)
        assert mass == pytest.approx(p.prior.cdf(b) - p.prior.cdf(a), rel=1e-6)


def test_z_variance_is_the_logistic_variance_for_uniform_priors():
    for p in (UNIFORM, LOGUNIFORM):
        assert p.z_variance() == pytest.approx(np.pi ** 2 / 3, rel=0.01)


class Binomial:
    """k successes in 10 trials with probability p; summary: k / 10."""

    def __call__(self, model, theta, replicates):
        out = np.empty((len(replicates), 1))
        for i, (th, r) in enumerate(zip(theta, replicates)):
            out[i, 0] = np.random.default_rng([21, int(r)]).binomial(10, th[0]) / 10
        return out


@pytest.mark.parametrize("kernel", ["beaumont", "olcm"])
def test_abc_recovers_the_beta_posterior_of_a_binomial_probability(kernel):
    """Uniform(0, 1) prior, 2 successes in 10: the posterior is Beta(3, 9) (mean 1/4, sd
    0.12). The tolerance falls to an exact match, so the ABC posterior is the exact one. The
    data are weak, so the prior matters: without the Jacobian of the logit in the weights
    (a flat prior on z, i.e. p(x) ~ 1 / (x (1 - x))) the mean came out ~2 sd low."""
    model = Model("binomial", (Parameter("p", "uniform", (0.0, 1.0)),))
    res = abc_smc([model], Binomial(), np.array([0.2]), population=1000, budget=30_000,
                  seed=1, scale_floor=1e-3, kernel_kind=kernel)
    pop = res.final
    assert pop.epsilon < 1e-9 and np.all(pop.summaries[:, 0] == 0.2)   # exact matches
    assert pop.ess() > 700
    exact_mean, exact_sd = 3 / 12, np.sqrt(3 * 9 / (12 ** 2 * 13))
    mean = np.sum(pop.weight * pop.theta[:, 0])
    sd = np.sqrt(np.sum(pop.weight * (pop.theta[:, 0] - mean) ** 2))
    assert mean == pytest.approx(exact_mean, abs=0.2 * exact_sd)
    assert sd == pytest.approx(exact_sd, rel=0.1)
    assert np.all((pop.theta[:, 0] >= 0) & (pop.theta[:, 0] <= 1))


class Counting:
    """A Generator that counts the candidate perturbations drawn."""

    def __init__(self, rng):
        self.rng, self.drawn, self.calls = rng, 0, 0

    def standard_normal(self, size):
        self.drawn += size[0]
        self.calls += 1
        return self.rng.standard_normal(size)

    def __getattr__(self, name):
        return getattr(self.rng, name)


BOUNDED = tuple(
    Parameter(f"p{i}", *[("uniform", (0.0, 1.0)), ("loguniform", (0.1, 10.0)),
                         ("uniform", (2.0, 5.0)), ("loguniform", (1.0, 300.0))][i % 4])
    for i in range(23))


@pytest.mark.parametrize("kernel", ["beaumont", "olcm"])
def test_propose_fills_23_bounded_dimensions_in_one_pass(kernel):
    """Before the logit scale, 2 x the covariance of a population spread over the prior put
    a perturbation inside all 23 bounds ~3 times in 10,000: _propose drew up to 200,000
    candidates a pass, many passes."""
    rng = np.random.default_rng(8)
    params = union_parameters([Model("m", BOUNDED)])
    N, D = 400, len(params)
    theta = np.column_stack([p.sample(rng, N) for p in params])
    # some particles at or near the bounds (data priors, or a posterior piled up there)
    theta[:20, 0] = 0.0
    theta[20:40, 1] = 10.0
    theta[40:60, 2] = np.nextafter(2.0, 3.0)
    prev = Population(1, np.zeros(N, dtype=np.int64), theta, np.full(N, 1.0 / N),
                      rng.random(N), np.zeros((N, 1)), 1.0, N, np.ones(1))
    zvar = np.array([p.z_variance() for p in params])
    kern = _kernels(prev, [list(range(D))], params, zvar, 1, kernel, prev.distance < 0.5)
    counting = Counting(np.random.default_rng(9))
    n = 2000
    m, z = _propose(counting, n, prev, kern, np.array([0]), 0.7, 1, [list(range(D))],
                    params, D)
    assert z.shape == (n, D) and np.all(m == 0)
    assert counting.drawn <= 2 * n and counting.calls == 1
    assert np.all(np.isfinite(z))
    for c, p in enumerate(params):
        lo, hi = p.prior.support()
        x = p.to_x(z[:, c])
        assert np.all((x >= lo) & (x <= hi)), p.name
        assert np.all(np.isfinite(p.logpdf_z(z[:, c]))), p.name
    # the perturbations are not degenerate: they spread over the support
    u = (params[0].to_x(z[:, 0]) - 0.0) / 1.0
    assert 0.2 < np.median(u) < 0.8 and u.min() < 0.05 and u.max() > 0.95
