"""Calibration targets: known numbers on hand-built event tables, and one code path for the
record and for simulations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from calibration import targets as tg
from calibration import load_record, load_tallies

START, END = "2020-01-01", "2020-03-31"


def ev(date, action="attack", kind="militia", country="iraq", weapon="rocket", killed=0,
       wounded=0, replicate=None):
    row = dict(date=pd.Timestamp(date), actor_kind=kind, action=action, weapon=weapon,
               country=country, us_killed=killed, coalition_killed=0, us_wounded=wounded,
               rung=4 if killed else 2)
    if replicate is not None:
        row["replicate"] = replicate
    return row


@pytest.fixture
def history():
    """One hand-built history: attacks in Iraq, Syria and Jordan, two strike rounds (the
    first with two strike rows on one day), a lethal attack, a condemnation."""
    rows = [
        ev("2020-01-05"), ev("2020-01-06", country="syria", weapon="drone"),
        ev("2020-01-10", killed=2, wounded=3),                # lethal, answered on 01-13
        ev("2020-01-12", country="jordan", weapon="drone"),
        ev("2020-01-13", "strike", "us", "iraq", "air_strike"),
        ev("2020-01-13", "strike", "us", "syria", "air_strike"),   # same round
        ev("2020-01-14", "condemnation", "iraq", "", ""),
        ev("2020-01-20"), ev("2020-01-21"),
        ev("2020-02-01", killed=1),                           # lethal, answered 20 d later: no
        ev("2020-02-21", "leader_strike", "us", "iraq", "air_strike"),
        ev("2020-02-25", "state_attack", "iran", "iraq", "ballistic_missile"),
    ]
    return pd.DataFrame(rows)


def target(kind, series="", start=START, end=END, **kw):
    return tg.Target("t", kind, start, end, series, **kw)


def value(t, events, replicates=None):
    return tg.evaluate([t], tg.daily_series(events, START, END, replicates))[:, 0]


def test_counts_by_scope(history):
    assert value(target("count", "attacks"), history) == [8]   # state attack counts too
    assert value(target("count", "attacks@iraq"), history) == [6]
    assert value(target("count", "attacks@syria"), history) == [1]
    assert value(target("count", "attacks@iraq_syria"), history) == [7]
    assert value(target("count", "attacks@iraq_syria_jordan"), history) == [8]
    assert value(target("count", "drone_attacks@iraq_syria"), history) == [1]
    assert value(target("count", "attacks", "2020-01-06", "2020-01-12"), history) == [3]


def test_strike_rounds_deaths_and_condemnations(history):
    assert value(target("count", "strike_rounds"), history) == [2]   # two rows, one round
    assert value(target("count", "strike_rounds@iraq"), history) == [2]
    assert value(target("count", "strike_rounds@syria"), history) == [1]
    assert value(target("count", "leader_strike_rounds"), history) == [1]
    assert value(target("count", "lethal_attacks"), history) == [2]
    assert value(target("count", "deaths"), history) == [3]
    assert value(target("count", "wounded"), history) == [3]
    # the 01-13 round in Iraq was condemned the next day, the 02-21 round was not
    assert value(target("condemned"), history) == [1]


def test_lethal_attacks_answered_within_two_weeks(history):
    assert value(target("lethal_answered"), history) == [1]
    assert value(target("lethal_unanswered"), history) == [1]
    # a window that ends before the answering strike: unanswered
    assert value(target("lethal_unanswered", end="2020-01-12"), history) == [1]
    assert value(target("lethal_answered", end="2020-01-12"), history) == [0]
    # lags 01-10 -> 01-13 (3 days) and 02-01 -> 02-21 (20 days, within LAG_MAX_DAYS)
    assert value(target("lag_after_lethal"), history) == [pytest.approx(11.5)]
    assert value(target("lag_after_lethal", start="2020-02-02"), history)[0] != \
        value(target("lag_after_lethal", start="2020-02-02"), history)[0]   # none: NaN


def test_attacks_around_strikes(history):
    # round 01-13: 14 d before (12-30..01-12): 4 attacks; 14 d after (01-14..01-27): 2.
    # round 02-21: before (02-07..02-20): 0; after (02-22..03-06): 1 (the state attack).
    expected = np.log((2 + 1 + 1) / (4 + 0 + 1))
    t = target("around_strikes", start="2019-12-01", end="2020-03-31")
    events = history
    s = tg.daily_series(events, "2019-12-01", "2020-03-31")
    assert t.compute(s) == pytest.approx([expected])


def test_replicates_are_independent_columns(history):
    both = pd.concat([history.assign(replicate=7), history.iloc[:3].assign(replicate=9)])
    values = value(target("count", "attacks"), both, np.array([7, 9, 11]))
    assert values.tolist() == [8, 3, 0]


def test_until_drops_or_clips():
    tallied = tg.Target("tally:x", "count", "2020-01-01", "2020-06-30", "attacks", clip=False)
    clipped = tg.Target("c", "count", "2020-01-01", "2020-06-30", "attacks")
    later = tg.Target("l", "count", "2021-01-01", "2021-06-30", "attacks")
    kept = tg.restrict([tallied, clipped, later], "2020-03-31")
    assert [t.name for t in kept] == ["c"]
    assert kept[0].end == "2020-03-31"
    assert tg.restrict([tallied], "2020-06-30")[0] is tallied


def test_tally_targets_use_published_counts(tmp_path):
    tallies = load_tallies()
    targets = tg.default_targets(tallies)
    by_name = {t.name: t for t in targets}
    row = tallies[tallies["count_high"].notna()].iloc[0]
    t = by_name[f"tally:{row.tally_id}"]
    assert t.observed == pytest.approx((row["count"] + row["count_high"]) / 2)
    obs = tg.observed([t])
    assert obs[0] == t.observed
    # every fitted tally exists in the data
    assert set(tg.FIT_TALLIES) <= set(tallies["tally_id"])


def test_record_targets_are_computed_from_the_record():
    record = load_record()
    targets = tg.default_targets()
    names = [t.name for t in targets]
    obs = tg.observed(targets, record)
    strikes = record[record["action"].isin(["strike", "leader_strike"])]
    assert obs[names.index("strike_rounds")] == strikes["date"].nunique()
    killed = record["us_killed"].fillna(0) + record["coalition_killed"].fillna(0)
    lethal = record[record["action"].isin(["attack", "state_attack"]) & (killed > 0)]
    assert obs[names.index("lethal_attacks")] == len(lethal)
    assert obs[names.index("deaths")] == killed.sum()


def test_every_fitted_parameter_is_informed_by_a_target():
    from calibration.priors import OBSERVATION, RULE_PARAMETERS, SHARED
    informs = " ".join(t.informs for t in tg.fitted(tg.default_targets()))
    for p in SHARED + RULE_PARAMETERS["threshold"] + OBSERVATION:
        key = p.name if not p.name.startswith("weapons.") else "lethal_probability"
        assert key in informs, p.name


def test_sim_events_matches_the_event_table(small_run):
    """The fast path from engine output gives the same series as sim.output.events_frame."""
    from sim.output import events_frame
    out, start, end = small_run
    fast = tg.daily_series(tg.sim_events(out), start, end, out.replicates)
    full = tg.daily_series(events_frame(out), start, end, out.replicates)
    for name in ("attacks", "strike_rounds", "deaths", "lethal_attacks", "wounded",
                 "drone_attacks", "condemnations", "attacks@syria", "strike_rounds@iraq"):
        assert np.array_equal(fast[name], full[name]), name
    assert fast["attacks"].sum() > 0 and fast["strike_rounds"].sum() > 0


def test_same_code_on_record_and_simulation(small_run):
    """A simulated replicate written as a one-history table gives its own column's values."""
    out, start, end = small_run
    events = tg.sim_events(out)
    targets = [t for t in tg.default_targets(start=str(start.date()), end=str(end.date()))
               if pd.Timestamp(t.end) <= end]
    many = tg.simulated(targets, events, start, end, out.replicates)
    r = out.replicates[1]
    one = tg.evaluate(targets, tg.daily_series(events[events["replicate"] == r].drop(
        columns="replicate"), start, end))
    assert np.allclose(many[1], one[0], equal_nan=True)


@pytest.fixture(scope="module")
def small_run():
    from sim.batch import simulate
    from sim.params import ModelParams, Shock
    p = ModelParams()
    p.shocks = [Shock(date="2020-06-01", kind="regional_war", size=2.0)]
    p.militias.attack_rate_scale = 3.0
    start, end = pd.Timestamp("2019-10-01"), pd.Timestamp("2021-03-31")
    return simulate(p, start, end, 4, range(6), record_daily=False), start, end
