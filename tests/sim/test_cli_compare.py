"""``escalation compare`` as a user meets it, and the outcomes per day of U.S. presence.

The CLI cases are tests of exit code and message; the numbers per presence-day are checked
on a hand-made event table whose answer is counted by hand.
"""

import numpy as np
import pandas as pd
import pytest

from sim.outcomes import OUTCOMES, presence_outcomes


def _ev(rep, day, action, country, actor_kind="militia"):
    return dict(replicate=rep, date=pd.Timestamp("2020-01-01") + pd.Timedelta(days=day),
                actor_kind=actor_kind, action=action, country=country)


def test_presence_outcomes_on_a_hand_made_event_table():
    # Replicate 0: the U.S. leaves Iraq on day 10 (2020-01-11); attacks in Iraq on days 2 and
    # 5 count, the one on day 12 (nobody there) does not; one attack in Syria, one state
    # attack in Iraq. Replicate 1: stays in Iraq all 31 days, leaves Syria on day 20.
    events = pd.DataFrame([
        _ev(0, 2, "attack", "iraq"), _ev(0, 5, "state_attack", "iraq", "iran"),
        _ev(0, 10, "exit", "iraq", "us"), _ev(0, 12, "attack", "iraq"),
        _ev(0, 3, "attack", "syria"), _ev(0, 4, "strike", "iraq", "us"),
        _ev(1, 1, "attack", "iraq"), _ev(1, 20, "exit", "syria", "us"),
        _ev(1, 19, "attack", "syria"), _ev(1, 25, "attack", "syria"),
    ])
    out = presence_outcomes(events, "2020-01-01", "2020-01-31", [0, 1, 2])
    assert out["presence_days_iraq"].tolist() == [10, 31, 31]
    assert out["presence_days_syria"].tolist() == [31, 20, 31]
    assert out["attacks_iraq"].tolist() == [2, 1, 0]
    assert out["attacks_syria"].tolist() == [1, 1, 0]
    assert out["attacks_per_100_presence_days_iraq"].tolist() == pytest.approx(
        [20.0, 100 / 31, 0.0])
    assert out["attacks_per_100_presence_days_syria"].tolist() == pytest.approx(
        [100 / 31, 5.0, 0.0])
    assert out["us_left_syria"].tolist() == [False, True, False]
    assert out["us_left_syria_date"].iloc[1] == pd.Timestamp("2020-01-21")
    # The summary's exit date, when given, is the one used for Iraq.
    given = presence_outcomes(events, "2020-01-01", "2020-01-31", [0, 1, 2],
                              iraq_exit=pd.Series([pd.NaT, pd.Timestamp("2020-01-01"), pd.NaT]))
    assert given["presence_days_iraq"].tolist() == [31, 0, 31]
    assert np.isnan(given["attacks_per_100_presence_days_iraq"].iloc[1])


def test_run_summary_has_the_presence_outcomes(small_scenario):
    from sim.run import run
    res = run(small_scenario, replicates=4)
    s = res.summary
    assert set(OUTCOMES) <= set(s.columns)
    window = (res.scenario.end - res.scenario.start).days + 1
    stayed = ~s["us_left_iraq"]
    assert (s.loc[stayed, "presence_days_iraq"] == window).all()
    assert (s["attacks_iraq"] + s["attacks_syria"] <= s["attacks"]).all()
