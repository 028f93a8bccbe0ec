"""ABC-SMC's internal scale and proposals (issue 12, calibration throughput): the prior's
density on the internal scale (its Jacobian), a known posterior, and ``_propose``, whose
cheaper candidates must give the proposals the straightforward version gave."""

from __future__ import annotations

import numpy as np
import pytest

from calibration.smc import (Model, Parameter, Population, _kernels, _propose, abc_smc,
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


def _propose_reference(rng, n, prev, kernel, alive, p_stay, M, columns, params, D):
    """``_propose`` as it was: every candidate's kernel factor copied, every candidate
    written into a full array, the bounds checked column by column. The specification the
    faster version must meet draw for draw."""
    from calibration.smc import _jump
    pm = prev.model_probabilities(M)
    out_m = np.empty(0, dtype=np.int64)
    out_z = np.empty((0, D))
    while len(out_m) < n:
        k = min(max(8 * (n - len(out_m)), 1000), 200_000)
        m = _jump(rng, rng.choice(M, size=k, p=pm / pm.sum()), alive, p_stay)
        z = np.full((k, D), np.nan)
        ok = np.ones(k, dtype=bool)
        for mm in np.unique(m):
            rows = np.flatnonzero(m == mm)
            kern, cols = kernel[mm], columns[mm]
            if not cols:
                continue
            j = rng.choice(len(kern["rows"]), size=len(rows), p=kern["w"])
            noise = rng.standard_normal((len(rows), len(cols)))
            zz = kern["z"][j] + np.einsum("nab,nb->na", kern["chol"][j], noise)
            z[np.ix_(rows, cols)] = zz
            inside = np.ones(len(rows), dtype=bool)
            for i, c in enumerate(cols):
                lo, hi = params[c].support_z
                inside &= (zz[:, i] >= lo) & (zz[:, i] <= hi)
            ok[rows] = inside
        out_m = np.concatenate([out_m, m[ok]])
        out_z = np.vstack([out_z, z[ok]])
    return out_m[:n], out_z[:n]


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
def test_propose_gives_the_reference_proposals(kernel, case):
    rng = np.random.default_rng(8)
    shrink = 0.3
    if case == "23 bounded":
        # spread wider: ~1 perturbation in 30 inside all bounds, so that _propose needs
        # several batches (the loop and the order of the rows it keeps)
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
    alive = np.arange(M)
    n = 1500
    m1, z1 = _propose(np.random.default_rng(3), n, prev, kern, alive, 0.7, M, columns, params,
                      D)
    m2, z2 = _propose_reference(np.random.default_rng(3), n, prev, kern, alive, 0.7, M,
                                columns, params, D)
    assert z1.shape == (n, D) and np.array_equal(m1, m2)
    assert np.array_equal(np.isnan(z1), np.isnan(z2))
    assert np.array_equal(z1, z2, equal_nan=True)   # the same sums, bit for bit
    for c, p in enumerate(params):
        lo, hi = p.support_z
        v = z1[~np.isnan(z1[:, c]), c]
        assert np.all((v >= lo) & (v <= hi)), p.name
    for i in range(M):   # each model's own parameters present, the others' NaN
        rows = m1 == i
        other = [c for c in range(D) if c not in columns[i]]
        assert not np.isnan(z1[np.ix_(rows, columns[i])]).any()
        assert np.isnan(z1[np.ix_(rows, other)]).all()
