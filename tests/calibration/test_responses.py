"""Turning points (calibration.responses): each is a documented act of the record, the record's
counts are its rows, and runs that replay the record up to a point see nothing after it."""

import copy

import numpy as np
import pandas as pd
import pytest

from calibration import load_record
from calibration import targets as tg
from calibration.responses import (TURNING_POINTS, WINDOW_DAYS, agreeing_at_origin,
                                  documented_stand_downs, response_table,
                                  restraining_at_origin)
from sim.scenario import load_scenario


@pytest.fixture(scope="module")
def record():
    return load_record()


def test_each_turning_point_is_a_documented_act(record):
    acts = record[record["action"].isin(["strike", "leader_strike", "state_attack"])]
    days = set(pd.to_datetime(acts["date"]).dt.strftime("%Y-%m-%d"))
    for tp in TURNING_POINTS:
        if tp.name == "lull_2024":       # issue 10's window after Tower 22 and the suspension
            assert (tp.start, tp.end) == ("2024-02-05", "2024-07-15")
            continue
        assert tp.origin in days, tp.name
        span = (pd.Timestamp(tp.end) - pd.Timestamp(tp.origin)).days
        assert span == WINDOW_DAYS and pd.Timestamp(tp.start) > pd.Timestamp(tp.origin)


def test_the_record_column_counts_the_documented_attacks_in_each_window(record):
    sc = load_scenario("scenarios/history.toml")
    table = response_table(sc.params, record, sc.seed, np.arange(4), points=TURNING_POINTS[:2])
    dates = pd.to_datetime(record["date"])
    for row, tp in zip(table.itertuples(), TURNING_POINTS[:2]):
        window = record[(dates >= tp.start) & (dates <= tp.end)]
        # the same definition of an attack as the targets (militias' and Iran's)
        series = tg.daily_series(window, "2019-10-01", tp.end)
        assert row.record == series.window("attacks", series.day(tp.start),
                                           series.day(tp.end))[0]
        assert row.record > 0


def test_runs_from_a_turning_point_do_not_see_the_record_after_it(record):
    sc = load_scenario("scenarios/history.toml")
    tp = TURNING_POINTS[1]
    clean = response_table(sc.params, record, sc.seed, np.arange(30), points=(tp,))
    later = record[(pd.to_datetime(record["date"]) > pd.Timestamp(tp.origin))
                   & (record["action"] == "attack")].head(1)
    poisoned = pd.concat([record, later.assign(date=pd.Timestamp(tp.origin) + pd.Timedelta(
        days=3), us_killed=40, event_id="poison")], ignore_index=True)
    dirty = response_table(sc.params, poisoned, sc.seed, np.arange(30), points=(tp,))
    cols = ["median", "lo90", "hi90"]
    pd.testing.assert_frame_equal(clean[cols], dirty[cols])
    assert dirty["record"].iloc[0] == clean["record"].iloc[0] + 1   # the record did change


def test_restraining_at_origin_reads_the_models_own_directive_in_the_replayed_runs(record):
    """An Iran whose score is always below its restrain threshold restrains in every run, one
    that can never stand down in none, nor one whose score never falls below it (no weight
    on risk: tension and anger only raise the score)."""
    sc = load_scenario("scenarios/history.toml")
    origin, reps = "2020-03-13", np.arange(40)

    def share(**iran):
        p = copy.deepcopy(sc.params)
        for k, v in iran.items():
            setattr(p.iran, k, v)
        return restraining_at_origin(p, record, origin, sc.seed, reps).mean()

    assert share(restrain_threshold=10.0, escalate_threshold=10.0) == 1.0
    assert share(restrain_threshold=10.0, escalate_threshold=10.0, can_stand_down=0) == 0.0
    assert share(restrain_threshold=-10.0, risk_weight=0.0) == 0.0     # score >= 0 > -10


def test_the_table_says_how_many_runs_iran_restrains_in_at_each_act(record):
    """iran_restrains is the share of restraining_at_origin's runs and median_if_restraining
    their median; an Iran that can never stand down gives 0 and no median."""
    sc = load_scenario("scenarios/history.toml")
    tp, reps = TURNING_POINTS[1], np.arange(30)
    table = response_table(sc.params, record, sc.seed, reps, points=(tp,))
    share = restraining_at_origin(sc.params, record, tp.origin, sc.seed, reps).mean()
    assert table["iran_restrains"].iloc[0] == pytest.approx(share)
    never = copy.deepcopy(sc.params)
    never.iran.can_stand_down = 0
    table = response_table(never, record, sc.seed, reps, points=(tp,))
    assert table["iran_restrains"].iloc[0] == 0
    assert np.isnan(table["median_if_restraining"].iloc[0])


def test_the_stand_downs_documented_by_an_origin_are_known_that_day_and_recent(record):
    """Kataib Hezbollah's suspension of 2024-01-30 stands on the lull's origin; no other
    origin has one within a month; a suspension dated after an origin never counts."""
    assert documented_stand_downs(record, "2024-01-31") == ["kataib_hezbollah"]
    assert documented_stand_downs(record, "2024-01-29") == []          # the day before it
    assert documented_stand_downs(record, "2024-03-15") == []          # more than a month on
    for tp in TURNING_POINTS[:-1]:
        assert documented_stand_downs(record, tp.origin) == [], tp.name


def test_agreeing_runs_are_those_whose_faction_stands_down_as_documented(record):
    """With a documented suspension, a Kataib Hezbollah that always obeys an order Iran always
    gives agrees in every run, one that never obeys nor fears in none; with nothing
    documented every run agrees."""
    sc = load_scenario("scenarios/history.toml")
    origin, reps = "2024-01-31", np.arange(30)

    def share(compliance, **iran):
        p = copy.deepcopy(sc.params)
        for k, v in iran.items():
            setattr(p.iran, k, v)
        p.factions["kataib_hezbollah"].compliance = compliance
        if compliance == 0:
            p.militias.suspend_margin = 20.0       # its own fear does not suspend it either
        return agreeing_at_origin(p, record, origin, sc.seed, reps).mean()

    assert share(1.0, restrain_threshold=10.0, escalate_threshold=10.0) == 1.0
    assert share(0.0, restrain_threshold=10.0, escalate_threshold=10.0) == 0.0
    nothing = agreeing_at_origin(sc.params, record, "2021-02-25", sc.seed, reps)
    assert nothing.all()


def test_the_table_filters_the_lull_on_the_documented_stand_down(record):
    """The lull's row names Kataib Hezbollah, its agree share is agreeing_at_origin's, and its
    filtered median is the median of those runs' attacks; a point with nothing documented
    keeps every run (agree 1, the same median)."""
    sc = load_scenario("scenarios/history.toml")
    reps = np.arange(30)
    table = response_table(sc.params, record, sc.seed, reps,
                           points=(TURNING_POINTS[1], TURNING_POINTS[-1]))
    taji, lull = table.iloc[0], table.iloc[1]
    assert taji["stand_downs"] == "-" and taji["agree"] == 1.0
    assert taji["median_if_agree"] == taji["median"]
    assert lull["stand_downs"] == "kataib_hezbollah"
    agree = agreeing_at_origin(sc.params, record, "2024-01-31", sc.seed, reps)
    assert lull["agree"] == pytest.approx(agree.mean())
    if agree.any():
        from calibration.responses import conditioned_attacks
        x, _ = conditioned_attacks(sc.params, record, TURNING_POINTS[-1], sc.seed, reps)
        assert lull["median_if_agree"] == pytest.approx(np.median(x[agree]))


# --- As calibration targets (escalation calibrate --turning-points) ---------------------------

def test_turning_point_targets_read_the_conditioned_runs_and_the_record_itself(record):
    t = next(t for t in tg.turning_point_targets() if t.name == "turning:taji_strikes_2020")
    assert t.given == "2020-03-13" and t.fit and not t.clip
    rec = tg.daily_series(record, "2019-10-01", "2020-06-30")
    assert t.compute(rec)[0] == 5                      # the record: its own rows
    free = tg.daily_series(record.iloc[:0].assign(replicate=[]), "2019-10-01", "2020-06-30",
                           np.arange(2))
    free.conditioned["2020-03-13"] = tg.daily_series(
        pd.concat([record.assign(replicate=0), record.assign(replicate=1)]),
        "2019-10-01", "2020-06-30", np.arange(2))
    assert t.compute(free).tolist() == [5, 5]          # a run: its conditioned series


def test_fit_targets_with_turning_points_keep_those_that_end_by_until():
    from calibration.fit import fit_targets
    sc = load_scenario("scenarios/history.toml")
    names = {t.name for t in fit_targets(sc, pd.Timestamp("2024-01-31"), turning_points=True)}
    turning = sorted(n for n in names if n.startswith("turning:"))
    assert turning == ["turning:iran_missiles_2020", "turning:june_strikes_2021",
                       "turning:syria_strikes_2021", "turning:taji_strikes_2020"]
    assert not any(n.startswith("turning:") for n in
                   (t.name for t in fit_targets(sc, pd.Timestamp("2024-01-31"))))


def test_a_simulator_with_turning_points_needs_the_record():
    from calibration.priors import model_for
    from calibration.simulator import EngineSimulator
    sc = load_scenario("scenarios/history.toml")
    with pytest.raises(ValueError, match="need the record"):
        EngineSimulator(sc.params, sc.start, sc.end, 1, [model_for("ladder")],
                        tg.turning_point_targets())


def test_calibrate_with_turning_points_fits_them(tmp_path, refused):
    from sim.cli import main as cli
    out = tmp_path / "cal"
    assert cli(["calibrate", "--until", "2021-12-31", "--turning-points", "--budget", "240",
                "--population", "60", "--seed", "3", "--out", str(out)]) == 0
    report = (out / "report.md").read_text()
    assert "turning:taji_strikes_2020" in report and "turning:june_strikes_2021" in report
    refused(["calibrate", "--compare-rules", "--turning-points", "--out", str(tmp_path / "x")],
            "--turning-points", tmp_path / "x")
