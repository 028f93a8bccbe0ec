"""Patterns of the record, computed by one code path on the record and on an ensemble."""

import numpy as np
import pandas as pd
import pytest

from calibration import load_record
from calibration.patterns import (PATTERNS, monte_carlo_intervals, pattern_table,
                                  pattern_values, retaliation, verdict)
from calibration import targets as tg


def _events(rows):
    """A tiny event table in the columns the daily series read."""
    base = dict(actor_kind="militia", action="attack", weapon="rocket", country="iraq",
                us_killed=0, coalition_killed=0, us_wounded=0, rung=2, replicate=0)
    return pd.DataFrame([{**base, **r} for r in rows]).assign(
        date=lambda f: pd.to_datetime(f["date"]))


def test_record_patterns_hold_the_documented_history():
    p = pattern_values(load_record(), "2019-10-01", "2024-12-31").iloc[0]
    assert p["spiral_rung6_2019_2020"] == 1          # leader strike 2020-01-03, missiles 01-08
    assert p["dispersion_monthly_attacks"] > 1       # bursts, not a Poisson stream
    assert 0 < p["syria_share_of_strike_rounds"] < 1
    assert set(p.index) == {x.name for x in PATTERNS}


def test_retaliation_sign_follows_attacks_after_strikes():
    strike = dict(actor_kind="us", action="strike", weapon="air_strike", rung=5)
    before = [dict(date="2020-03-01")]
    after = [dict(date=f"2020-03-{d:02d}") for d in range(12, 20)]
    ev = _events(before + after + [dict(date="2020-03-10", **strike)])
    s = tg.daily_series(ev, "2020-01-01", "2020-12-31", np.array([0]))
    assert retaliation(s, 14)[0] > 0
    ev = _events([dict(date=f"2020-03-{d:02d}") for d in range(1, 9)]
                 + [dict(date="2020-03-10", **strike)])
    s = tg.daily_series(ev, "2020-01-01", "2020-12-31", np.array([0]))
    assert retaliation(s, 14)[0] < 0


def test_pattern_table_marks_the_record_inside_or_outside_the_band():
    rec = _events([dict(date="2022-05-01", replicate=None)]).drop(columns="replicate")
    sim = _events([dict(date="2022-05-01", replicate=r) for r in range(20)]
                  + [dict(date="2022-06-01", replicate=r) for r in range(10)])
    table = pattern_table(rec, sim, "2019-10-01", "2024-12-31", np.arange(20)).set_index(
        "pattern")
    row = table.loc["attacks_2022"]
    assert row["record"] == 1 and row["lo90"] == 1 and row["hi90"] == 2 and row["inside"]


def test_monte_carlo_interval_of_the_median_holds_it_and_narrows_with_more_runs():
    rng = np.random.default_rng(3)
    few, many = rng.negative_binomial(1, 0.05, 50), rng.negative_binomial(1, 0.05, 2000)
    a, b = monte_carlo_intervals(few.astype(float)), monte_carlo_intervals(many.astype(float))
    assert a["median_mc_lo"] <= np.median(few) <= a["median_mc_hi"]
    assert b["median_mc_hi"] - b["median_mc_lo"] < a["median_mc_hi"] - a["median_mc_lo"]
    assert np.isnan(a["mean_mc_lo"])          # not a yes/no pattern: no share interval


def test_monte_carlo_interval_of_a_share_is_the_binomial_one():
    x = (np.arange(200) < 60).astype(float)   # 30% of 200 runs say yes
    out = monte_carlo_intervals(x)
    assert 0.24 < out["mean_mc_lo"] < 0.30 < out["mean_mc_hi"] < 0.36
    assert all(np.isnan(v) for v in monte_carlo_intervals(np.array([])).values())


def test_pattern_table_carries_the_monte_carlo_intervals():
    rec = _events([dict(date="2022-05-01", replicate=None)]).drop(columns="replicate")
    sim = _events([dict(date="2022-05-01", replicate=r) for r in range(20)])
    table = pattern_table(rec, sim, "2019-10-01", "2024-12-31", np.arange(20)).set_index(
        "pattern")
    spiral = table.loc["spiral_rung6_2019_2020"]
    assert spiral["mean"] == 0 and spiral["mean_mc_lo"] == 0 and 0 < spiral["mean_mc_hi"] < 0.2


def test_a_bar_is_met_or_missed_only_when_the_whole_interval_says_so():
    assert verdict(15, 19, "<=", 20) == "met"
    assert verdict(17, 22, "<=", 20) == "unclear"
    assert verdict(23, 30, "<=", 20) == "missed"
    assert verdict(0.26, 0.31, ">=", 0.25) == "met"
    assert verdict(2.58, 2.93, ">=", 3) == "missed"
