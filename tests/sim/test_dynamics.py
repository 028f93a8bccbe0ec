"""The shared dynamics functions: draws from uniforms have the right distributions, and the
deterrence tension runs the right way."""

import numpy as np
from scipy import stats

from sim.dynamics import (attack_rate, categorical_from_uniform, directive_follow,
                          poisson_from_uniform)

MILITIA = {"attack_rate_scale": 1.0, "grievance_weight": 1.0, "fear_weight": 1.0,
           "tension_weight": 1.0}   # militias.* parameters in common


def test_poisson_from_uniform_matches_poisson():
    u = np.random.default_rng(0).random(200_000)
    for lam in (0.02, 0.7, 6.0):
        k = poisson_from_uniform(u, np.full(u.shape, lam))
        assert abs(k.mean() - lam) < 0.02 + 0.01 * lam
        observed = np.bincount(k, minlength=12)[:12]
        expected = stats.poisson.pmf(np.arange(12), lam) * len(u)
        keep = expected > 20
        assert stats.chisquare(observed[keep], expected[keep] * observed[keep].sum()
                               / expected[keep].sum()).pvalue > 1e-4


def test_poisson_inverts_the_cdf_exactly():
    lam = np.array([0.5, 0.5, 0.5])
    p0, p1 = np.exp(-0.5), np.exp(-0.5) * 0.5
    u = np.array([p0 - 1e-9, p0 + 1e-9, p0 + p1 + 1e-9])
    assert poisson_from_uniform(u, lam).tolist() == [0, 1, 2]


def test_categorical_from_uniform():
    w = np.array([[1.0, 0.0, 3.0]])
    u = np.random.default_rng(1).random(40_000)
    idx = categorical_from_uniform(u, np.repeat(w, len(u), axis=0))
    assert not (idx == 1).any()
    assert abs((idx == 2).mean() - 0.75) < 0.01


def args(**kw):
    base = dict(base_rate=0.1, grievance=0.0, fear=0.0, tension=0.0, directive_multiplier=1.0,
                alignment=1.0, leadership=1.0, restraint=0.0, restraint_effect=0.5, **MILITIA)
    base.update(kw)
    base["follow"] = directive_follow(base.pop("directive_multiplier"), base["alignment"])
    return base


def test_fear_deters_and_grievance_provokes():
    base = attack_rate(**args())
    assert attack_rate(**args(fear=1.0)) < base < attack_rate(**args(grievance=1.0))
    assert np.isclose(attack_rate(**args(fear=1.0, grievance=1.0)), base)


def test_directive_restraint_and_leadership():
    base = attack_rate(**args())
    assert attack_rate(**args(directive_multiplier=3.0)) == 3 * base
    assert attack_rate(**args(directive_multiplier=3.0, alignment=0.0)) == base
    assert attack_rate(**args(restraint=1.0, alignment=0.0)) == 0.5 * base
    assert attack_rate(**args(restraint=1.0, alignment=1.0)) > 0.5 * base
    assert attack_rate(**args(leadership=0.5)) == 0.5 * base


def test_capped_poisson_equals_min_of_poisson_and_cap():
    u = np.random.default_rng(2).random(50_000)
    lam = np.full(u.shape, 4.0)
    assert (poisson_from_uniform(u, lam, cap=3) == np.minimum(poisson_from_uniform(u, lam), 3)).all()
