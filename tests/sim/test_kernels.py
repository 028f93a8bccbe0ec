"""The compiled numerics (sim.kernels): the bound that lets the militias' day skip the
exponentials must never fall below the exponential itself, or a draw would change."""

from __future__ import annotations

import numpy as np

from sim import kernels as kn


def test_exp_upper_is_never_below_the_exponential():
    rng = np.random.default_rng(0)
    xs = np.concatenate([rng.uniform(-20.0, 1.0, 200_000),          # the clamped drive
                         np.sign(rng.uniform(-1, 1, 20_000)) * 10.0 ** rng.uniform(-18, -1, 20_000),
                         [0.0, -0.0, -20.0, 0.999999, 1.0, 8.0]])
    upper = np.array([kn.exp_upper(x) for x in xs])
    assert np.all(upper >= np.exp(xs))
    assert np.isinf(kn.exp_upper(1.0)) and np.isinf(kn.exp_upper(8.0))


def test_exp_upper_is_tight_where_attacks_are_decided():
    # Near zero drive the bound is within a few percent: most days skip the exponentials.
    for x in (-0.1, 0.0, 0.1):
        assert kn.exp_upper(x) / np.exp(x) < 1.01


def test_poisson_is_zero_below_one_minus_the_rate():
    # The shortcut's premise: u < 1 - lam gives no attack, whatever lam <= the bound is.
    for lam in (0.0, 1e-9, 0.05, 0.5):
        assert kn.poisson(np.nextafter(1.0 - lam, 0.0), lam, -1) == 0
