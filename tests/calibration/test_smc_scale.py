"""ABC-SMC's internal scale and proposals (issue 12, calibration throughput): the prior's
density on the internal scale (its Jacobian), a known posterior, and the perturbation
kernel truncated to the prior's support (GHK): its draws stay inside, follow the density
the importance weights use, and that density integrates to one."""

from __future__ import annotations

import numpy as np
import pytest

from scipy import stats

from calibration.smc import (Model, Parameter, Population, _draw_truncated, _kernels,
                             _mixture_logpdf, _propose, _truncated_normal, abc_smc,
                             union_parameters)

UNIFORM = Parameter("u", "uniform", (2.0, 5.0))
LOGUNIFORM = Parameter("l", "loguniform", (0.1, 10.0))
GAMMA_LOG = Parameter("g", "gamma", (2.0,), log=True)     # support [0, inf), z = log x


@pytest.mark.parametrize("p", [UNIFORM, LOGUNIFORM, GAMMA_LOG])
def test_round_trip_including_values_near_the_bounds(p):
    lo, hi = p.prior.support()
    x = p.prior.ppf([1e-12, 1e-6, 0.01, 0.5, 0.99, 1 - 1e-6, 1 - 1e-12])
    if np.isfinite(lo) and np.isfinite(hi):
        x = np.r_[x, np.nextafter(lo, hi), np.nextafter(hi, lo), hi]
    assert np.allclose(p.to_x(p.to_z(x)), x, rtol=1e-14, atol=0)
    zlo, zhi = p.support_z
    z = p.to_z(x)
    assert np.all((z >= zlo) & (z <= zhi))


@pytest.mark.parametrize("p", [UNIFORM, LOGUNIFORM, GAMMA_LOG])
def test_density_on_z_integrates_to_one(p):
    """The Jacobian: on the log scale the density of z = log x is p(e^z) e^z."""
    zlo, zhi = p.support_z
    z = np.linspace(max(zlo, -40.0), min(zhi, 40.0), 400_001)
    assert np.trapezoid(np.exp(p.logpdf_z(z)), z) == pytest.approx(1.0, abs=1e-5)
    # the density of the prior's draws mapped to z: five equal-mass bins
    draws = p.to_z(p.sample(np.random.default_rng(4), 200_000))
    edges = np.quantile(draws, [0.1, 0.3, 0.5, 0.7, 0.9])
    dens = np.exp(p.logpdf_z(z))
    mass = np.diff([np.trapezoid(dens[z <= e], z[z <= e]) for e in edges])
    assert np.allclose(mass, 0.2, atol=0.01)


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
    0.12). The tolerance falls to an exact match, so the ABC posterior is the exact one."""
    model = Model("binomial", (Parameter("p", "uniform", (0.0, 1.0)),))
    res = abc_smc([model], Binomial(), np.array([0.2]), population=1000, budget=30_000,
                  seed=2, scale_floor=1e-3, kernel_kind=kernel)
    pop = res.final
    assert pop.epsilon < 1e-9 and np.all(pop.summaries[:, 0] == 0.2)   # exact matches
    exact_mean, exact_sd = 3 / 12, np.sqrt(3 * 9 / (12 ** 2 * 13))
    mean = np.sum(pop.weight * pop.theta[:, 0])
    sd = np.sqrt(np.sum(pop.weight * (pop.theta[:, 0] - mean) ** 2))
    assert mean == pytest.approx(exact_mean, abs=0.2 * exact_sd)
    assert sd == pytest.approx(exact_sd, rel=0.1)
    assert np.all((pop.theta[:, 0] >= 0) & (pop.theta[:, 0] <= 1))


BOUNDED = tuple(
    Parameter(f"p{i}", *[("uniform", (0.0, 1.0)), ("loguniform", (0.1, 10.0)),
                         ("uniform", (2.0, 5.0)), ("loguniform", (1.0, 300.0))][i % 4])
    for i in range(23))


def _population(models, N, rng, shrink=0.3):
    params = union_parameters(models)
    names = [p.name for p in params]
    columns = [[names.index(p.name) for p in m.parameters] for m in models]
    model = rng.integers(len(models), size=N)
    theta = np.full((N, len(params)), np.nan)
    for i, m in enumerate(models):
        rows = np.flatnonzero(model == i)
        for c in columns[i]:
            # a population part way to a posterior: prior draws drawn in towards the middle
            # (so that a good share of perturbations lands inside all bounds), a few left
            # near the bounds
            z = params[c].to_z(params[c].sample(rng, len(rows)))
            mid = np.median(z)
            z[5:] = mid + shrink * (z[5:] - mid)
            theta[rows, c] = params[c].to_x(z)
    w = rng.random(N) + 0.5
    prev = Population(1, model, theta, w / w.sum(), rng.random(N), np.zeros((N, 1)), 1.0, N,
                      np.ones(1))
    return params, columns, prev


@pytest.mark.parametrize("kernel", ["beaumont", "olcm"])
@pytest.mark.parametrize("case", ["23 bounded", "two models", "a model without parameters"])
def test_propose_stays_inside_the_support_in_one_pass(kernel, case):
    """Every proposal lies inside every bound, with its model's parameters and NaN for the
    others; 23 bounded dimensions cost one draw per proposal (rejection kept ~1 in 30 of
    this population's perturbations)."""
    rng = np.random.default_rng(8)
    shrink = 0.3
    if case == "23 bounded":
        models, shrink = [Model("m", BOUNDED)], 0.6
    elif case == "two models":
        models = [Model("a", BOUNDED[:5]), Model("b", BOUNDED[3:9] + (GAMMA_LOG,))]
    else:
        models = [Model("a", BOUNDED[:4]), Model("none", ())]
    params, columns, prev = _population(models, 300, rng, shrink)
    M, D = len(models), len(params)
    zvar = np.array([p.z_variance() for p in params])
    kern = _kernels(prev, columns, params, zvar, M, kernel, prev.distance < 0.5)
    assert all((k["shared"] is not None) == (kernel == "beaumont")
               for i, k in enumerate(kern) if columns[i])
    n = 1500
    m1, z1 = _propose(np.random.default_rng(3), n, prev, kern, np.arange(M), 0.7, M, columns, D)
    assert z1.shape == (n, D) and len(m1) == n
    for c, p in enumerate(params):
        lo, hi = p.support_z
        v = z1[~np.isnan(z1[:, c]), c]
        assert np.all((v >= lo) & (v <= hi)), p.name
    for i in range(M):   # each model's own parameters present, the others' NaN
        rows = m1 == i
        other = [c for c in range(D) if c not in columns[i]]
        assert not np.isnan(z1[np.ix_(rows, columns[i])]).any()
        assert np.isnan(z1[np.ix_(rows, other)]).all()
    # the same seed, the same proposals
    m2, z2 = _propose(np.random.default_rng(3), n, prev, kern, np.arange(M), 0.7, M, columns, D)
    assert np.array_equal(m1, m2) and np.array_equal(z1, z2, equal_nan=True)


@pytest.mark.parametrize("a,b", [(-1.0, 2.0), (5.0, 6.0), (-7.0, -6.0), (-np.inf, 0.5),
                                 (3.0, np.inf)])
def test_truncated_normal_matches_scipy(a, b):
    """Inversion in both tails (an interval in the upper tail is mirrored): the draws are
    SciPy's truncnorm (Kolmogorov-Smirnov at a fixed seed), and inside [a, b]."""
    x = _truncated_normal(np.random.default_rng(1).random(20_000), np.full(20_000, a),
                          np.full(20_000, b))
    assert np.all((x >= a) & (x <= b))
    assert stats.kstest(x, stats.truncnorm(a, b).cdf).pvalue > 0.01


@pytest.mark.parametrize("a,b", [(-1e10, -1e4), (-45.0, -40.0), (40.0, 41.0), (1e4, np.inf)])
def test_truncated_normal_far_in_a_tail_stays_near_the_end_closest_to_zero(a, b):
    """Where the normal CDF underflows (a degenerate kernel's coordinate far outside its
    bounds), the draws still lie within a few 1/|end| of the end closest to zero, as the
    density says; they once fell back to the far end and made one weight 1e1,000,000."""
    x = _truncated_normal(np.random.default_rng(2).random(10_000), np.full(10_000, a),
                          np.full(10_000, b))
    near = b if b < 0 else a
    assert np.all((x >= a) & (x <= b))
    assert np.all(np.abs(x - near) <= 20.0 / abs(near))
    assert np.mean(np.abs(x - near)) == pytest.approx(1.0 / abs(near), rel=0.05)


# A correlated two-dimensional kernel around a particle near a corner of its box.
L2 = np.linalg.cholesky(np.array([[0.5, 0.3], [0.3, 0.4]]))
BOX_LO, BOX_HI = np.array([0.0, -1.0]), np.array([1.0, 2.0])
CENTRE = np.array([[0.1, 1.8]])


def _density_on_grid(k=801):
    x = np.linspace(BOX_LO[0], BOX_HI[0], k)
    y = np.linspace(BOX_LO[1], BOX_HI[1], k)
    gx, gy = np.meshgrid(x, y, indexing="ij")
    z = np.column_stack([gx.ravel(), gy.ravel()])
    chol = L2[None]
    logq = _mixture_logpdf(z, CENTRE, np.ones(1), np.linalg.inv(chol),
                           np.array([2 * np.log(np.diag(L2)).sum()]), chol, BOX_LO, BOX_HI)
    return x, y, np.exp(logq).reshape(k, k)


def test_truncated_kernel_density_integrates_to_one():
    """The density the importance weights use (Gaussian over the truncated masses) is a
    density on the box; the plain Gaussian's mass there is far below one."""
    x, y, q = _density_on_grid()
    assert np.trapezoid(np.trapezoid(q, y, axis=1), x) == pytest.approx(1.0, abs=2e-3)


def test_truncated_draws_follow_the_weights_density():
    """Draws of the truncated kernel fall into quarters of the box as often as its density
    says (within four standard errors at a fixed seed)."""
    n = 40_000
    z = _draw_truncated(np.random.default_rng(5), np.repeat(CENTRE, n, axis=0), L2, BOX_LO,
                        BOX_HI)
    assert np.all((z >= BOX_LO) & (z <= BOX_HI))
    x, y, q = _density_on_grid()
    for left, low in [(True, True), (False, True), (True, False)]:
        xs, ys = (x <= 0.5) == left, (y <= 0.5) == low
        mass = np.trapezoid(np.trapezoid(np.where(np.outer(xs, ys), q, 0.0), y, axis=1), x)
        share = np.mean(((z[:, 0] <= 0.5) == left) & ((z[:, 1] <= 0.5) == low))
        se = np.sqrt(mass * (1 - mass) / n)
        assert abs(share - mass) < 4 * se + 2e-3, (share, mass)
