"""Proper scores and the block bootstrap: known answers."""

import numpy as np
import pytest

from calibration.scoring import block_bootstrap, ignorance, score_samples


def test_point_forecast_crps_is_the_absolute_error():
    s = score_samples(np.full((100, 1), 4.0), [7.0])
    assert s["crps"][0] == pytest.approx(3.0)
    assert s["median"][0] == 4.0 and s["lo90"][0] == 4.0 and s["hi90"][0] == 4.0


def test_interval_score_is_width_plus_twenty_times_the_miss():
    x = np.arange(101, dtype=float)[:, None]     # 5% and 95% quantiles: 5 and 95
    inside = score_samples(x, [50.0])["interval_score"][0]
    below = score_samples(x, [0.0])["interval_score"][0]
    assert inside == pytest.approx(90.0)
    assert below == pytest.approx(90.0 + 20.0 * 5.0)


def test_ignorance_rewards_mass_on_the_observed_bin_and_stays_finite():
    good = ignorance(np.full((100, 1), 4.0), [4.0])[0]        # bin 3-5
    bad = ignorance(np.zeros((100, 1)), [4.0])[0]
    assert 0 <= good < 0.1
    assert np.isfinite(bad) and bad > 8


def test_sharper_correct_forecast_scores_better():
    rng = np.random.default_rng(0)
    sharp = rng.poisson(10, size=(2000, 1)).astype(float)
    vague = rng.poisson(10, size=(2000, 1)) * rng.choice([0.2, 1.8], size=(2000, 1))
    a, b = score_samples(sharp, [10.0]), score_samples(vague, [10.0])
    for k in ("crps", "ign", "interval_score"):
        assert a[k][0] < b[k][0], k


def test_block_bootstrap_interval_holds_the_mean_and_widens_with_dependence():
    rng = np.random.default_rng(1)
    iid = rng.normal(0.5, 1.0, size=60)
    mean, lo, hi = block_bootstrap(iid, block=3, seed=2)
    assert lo < mean < hi and mean == pytest.approx(iid.mean())
    runs = np.repeat(rng.normal(0.5, 1.0, size=20), 3)       # months in blocks of three
    _, lo1, hi1 = block_bootstrap(runs, block=1, seed=2)
    _, lo3, hi3 = block_bootstrap(runs, block=3, seed=2)
    assert hi3 - lo3 > hi1 - lo1


def test_block_bootstrap_never_draws_across_groups():
    d = np.array([1.0, 1.0, 1.0, 1.0, -5.0, -5.0])
    groups = np.array([0, 0, 0, 0, 1, 1])
    mean, lo, hi = block_bootstrap(d, groups, block=3, seed=0)
    assert mean == pytest.approx(d.mean())
    assert np.isfinite(lo) and lo <= mean <= hi
