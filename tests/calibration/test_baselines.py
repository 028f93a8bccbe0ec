"""The baselines of out-of-sample scoring: Poisson MLE, Hawkes likelihood, fit and simulation."""

from __future__ import annotations

import numpy as np
import pytest

from calibration.baselines import Hawkes, PoissonBaseline, counts_in, event_times


def test_poisson_mle_is_the_sample_mean():
    counts = np.array([0, 2, 1, 0, 0, 3, 1])
    fit = PoissonBaseline.fit(counts, 1.0)
    assert fit.rate == pytest.approx(counts.mean())
    # with exposures: events per day of exposure
    assert PoissonBaseline.fit([10, 4], [100, 40]).rate == pytest.approx(0.1)


def test_poisson_mle_maximises_the_likelihood():
    counts, exposure = np.array([3, 7, 1]), np.array([10.0, 20.0, 5.0])
    best = PoissonBaseline.fit(counts, exposure)
    for rate in (best.rate * 0.9, best.rate * 1.1):
        assert PoissonBaseline(rate).loglik(counts, exposure) < best.loglik(counts, exposure)


def test_poisson_sample_has_the_rate():
    rng = np.random.default_rng(0)
    x = PoissonBaseline(0.2).sample([10, 50], 20000, rng)
    assert x.shape == (20000, 2)
    assert x.mean(axis=0) == pytest.approx([2.0, 10.0], rel=0.03)


def test_hawkes_loglik_matches_a_hand_computation():
    times, T = np.array([1.0, 2.0, 4.0]), 5.0
    mu, alpha, beta = 0.5, 0.5, 1.0
    ab = alpha * beta
    lam = [mu, mu + ab * np.exp(-1.0), mu + ab * (np.exp(-3.0) + np.exp(-2.0))]
    compensator = mu * T + alpha * sum(1 - np.exp(-beta * (T - t)) for t in times)
    expected = sum(np.log(lam)) - compensator
    assert Hawkes.loglik_of(times, T, mu, alpha, beta) == pytest.approx(expected, rel=1e-12)


def test_hawkes_without_excitation_is_poisson():
    times = np.array([0.5, 3.2, 7.7])
    assert Hawkes.loglik_of(times, 10.0, 0.3, 0.0, 2.0) == pytest.approx(
        3 * np.log(0.3) - 0.3 * 10.0)


def test_hawkes_fit_recovers_known_parameters():
    rng = np.random.default_rng(5)
    truth = Hawkes(mu=0.05, alpha=0.6, beta=0.2)
    times = truth.simulate(np.zeros(0), 0.0, 8000.0, 1, rng)[0]
    fit = Hawkes.fit(times, 8000.0)
    assert fit.alpha == pytest.approx(0.6, abs=0.15)
    assert fit.mu == pytest.approx(0.05, rel=0.35)
    assert fit.loglik(times, 8000.0) >= truth.loglik(times, 8000.0)


def test_hawkes_simulation_mean_count():
    """Stationary mean rate mu / (1 - alpha)."""
    rng = np.random.default_rng(1)
    h = Hawkes(mu=0.1, alpha=0.5, beta=1.0)
    n = [len(p) for p in h.simulate(np.zeros(0), 0.0, 500.0, 400, rng)]
    assert np.mean(n) == pytest.approx(0.1 / 0.5 * 500.0, rel=0.08)


def test_hawkes_forecast_remembers_recent_history():
    rng = np.random.default_rng(2)
    h = Hawkes(mu=0.01, alpha=0.8, beta=0.5)
    hot = h.sample_counts(np.array([95.0, 98.0, 99.5]), np.array([100.0, 110.0]), 2000, rng)
    cold = h.sample_counts(np.array([5.0]), np.array([100.0, 110.0]), 2000, rng)
    assert hot.mean() > 3 * cold.mean()


def test_event_times_spread_same_day_events():
    t = event_times(np.array([3, 7]), np.array([1, 2]))
    assert t.tolist() == [3.5, 7.25, 7.75]
    assert counts_in(t, np.array([0.0, 5.0, 10.0])).tolist() == [1, 2]
