"""The 2024 lull's what-ifs (issue 10, item 11; docs/lull.md): the outcome, the scenarios,
the paired table and the command.

The outcome is checked on a hand-made event table whose answer is counted by hand. The
scenarios are checked by what they must do whatever the model says (so the tests hold after
the model changes): no U.S. strike round from 2024-02-02 on, history's rule until then, no
directive to restrain when Iran cannot stand down, and "neither" being both changes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim import lull
from sim.cli import main
from sim.metrics import daily_measures
from sim.outcomes import WINDOWS, window_attacks, window_outcomes
from sim.scenario import library, load_scenario

FEB2 = pd.Timestamp("2024-02-02")
RESTRAIN = 0   # Iran's directive: 0 restrain, 1 normal, 2 escalate


def _ev(rep, day, action="attack", actor_kind="militia"):
    return dict(replicate=rep, date=pd.Timestamp(day), action=action, actor_kind=actor_kind,
                country="iraq")


def test_lull_attacks_counts_attacks_only_in_the_window():
    assert WINDOWS["lull_attacks"] == ("2024-02-05", "2024-07-15")
    events = pd.DataFrame([
        _ev(0, "2024-02-04"),                          # the day before: out
        _ev(0, "2024-02-05"),                          # first day: in
        _ev(0, "2024-04-01", "state_attack", "iran"),  # Iran's own attack: in
        _ev(0, "2024-04-02", "strike", "us"),          # not an attack
        _ev(0, "2024-07-15"),                          # last day: in
        _ev(0, "2024-07-16"),                          # the day after: out
        _ev(1, "2023-12-01"), _ev(1, "2024-03-03"),    # replicate 1: one in
        _ev(7, "2024-03-03"),                          # a replicate not asked for
    ])
    assert window_attacks(events, *WINDOWS["lull_attacks"], [0, 1, 2]).tolist() == [3, 1, 0]
    out = window_outcomes(events, "2019-10-01", "2024-12-31", [0, 1, 2])
    assert out["lull_attacks"].tolist() == [3, 1, 0]
    # A run that does not hold the whole window has no lull_attacks (not a part of it).
    assert "lull_attacks" not in window_outcomes(events, "2019-10-01", "2024-06-30", [0, 1])
    assert "lull_attacks" not in window_outcomes(events, "2024-02-06", "2024-12-31", [0, 1])
    # The record (no replicate column) is one run.
    record = events[events["replicate"] == 0].drop(columns="replicate")
    assert lull.record_lull(record) == {"attacks": 3}
    record = record.assign(estimate=[False, True, False, False, False, False])
    assert lull.record_lull(record) == {"attacks": 3, "confirmed": 2}


@pytest.fixture(scope="module")
def runs():
    """History and the three what-ifs, 30 paired runs each, with their daily tables."""
    return lull.run_lull(30, daily="full")


def test_the_run_summary_has_lull_attacks(runs):
    res = runs["history"]
    days = daily_measures(res.events, "2024-02-05", "2024-07-15", np.arange(res.replicates))
    assert res.summary["lull_attacks"].tolist() == days["attacks"].sum(axis=0).tolist()


def test_the_what_ifs_are_in_the_library_and_extend_history():
    names = {name: description for name, _f, description in library()}
    for name in lull.WHAT_IFS:
        assert names.get(name), f"{name} missing from the library or without a description"
    history = load_scenario("history")
    for name in lull.WHAT_IFS:
        sc = load_scenario(name)
        assert (sc.start, sc.end, sc.seed) == (history.start, history.end, history.seed)
        assert sc.params.militias == history.params.militias
        assert sc.params.factions == history.params.factions
        assert sc.params.shocks == history.params.shocks
        assert sc.params.iraq == history.params.iraq


def test_no_feb_strikes_keeps_history_rule_until_no_strike_can_land_from_feb_2():
    history, sc = load_scenario("history"), load_scenario("lull_no_feb_strikes")
    us, h = sc.params.us, history.params.us
    # History's rule, its parameters and its own periods (restated) stay in force ...
    assert (us.rule, us.rule_params) == (h.rule, h.rule_params)
    assert us.periods[:-1] == h.periods, ("history.toml has [[us.periods]] that "
                                          "lull_no_feb_strikes.toml does not restate")
    # ... until restraint, which starts so that the last strike decided before it lands
    # before 2024-02-02 (a strike lands us.lag_days after the rule decides it).
    last = us.periods[-1]
    assert last.rule == "restraint"
    assert all(pd.Timestamp(p.start) < pd.Timestamp(last.start) for p in us.periods[:-1])
    assert pd.Timestamp(last.start) + pd.Timedelta(days=us.lag_days) == FEB2
    # The other what-ifs change nothing of the U.S.; neither has both changes.
    assert load_scenario("lull_no_stand_down").params.us == h
    neither = load_scenario("lull_neither").params
    assert neither.us == us
    assert neither.iran == load_scenario("lull_no_stand_down").params.iran


def test_no_feb_strikes_has_no_us_strike_round_from_feb_2(runs):
    for name in ("lull_no_feb_strikes", "lull_neither"):
        e = runs[name].events
        strikes = e[(e["actor_kind"] == "us") & e["action"].isin(["strike", "leader_strike"])]
        assert (pd.to_datetime(strikes["date"]) < FEB2).all(), name
        assert len(strikes) > 0   # the U.S. still strikes before
    # Until its rule period starts, the what-if is history itself, run for run.
    start = pd.Timestamp(load_scenario("lull_no_feb_strikes").params.us.periods[-1].start)
    h, w = runs["history"].daily, runs["lull_no_feb_strikes"].daily
    before = h["date"] < start
    pd.testing.assert_frame_equal(h[before].reset_index(drop=True),
                                  w[w["date"] < start].reset_index(drop=True))


def test_no_stand_down_never_restrains(runs):
    for name in ("lull_no_stand_down", "lull_neither"):
        assert load_scenario(name).params.iran.can_stand_down == 0
        directive = runs[name].daily["directive"]
        assert len(directive) == 30 * len(pd.date_range("2019-10-01", "2024-12-31"))
        assert not (directive == RESTRAIN).any(), name


def test_the_switch_holds_where_iran_would_restrain():
    # The check above is empty if history's Iran never says restrain (as in the model before
    # the issue 10 revision): push Iran towards restraint and look again.
    from sim.errors import InputError
    from sim.run import run
    push = ["iran.directive_bias=-3"]
    try:
        history = load_scenario("history", push)
    except InputError as err:   # the model's Iran no longer has this parameter
        pytest.skip(f"cannot push Iran towards restraint: {err}")
    assert (run(history, 5).daily["directive"] == RESTRAIN).any()
    never = run(load_scenario("lull_no_stand_down", push), 5).daily["directive"]
    assert not (never == RESTRAIN).any()


def test_the_paired_table_is_the_same_for_the_same_seed(runs):
    again = lull.run_lull(30)
    first, second = lull.lull_table(runs), lull.lull_table(again)
    pd.testing.assert_frame_equal(first, second)
    assert first["scenario"].tolist() == list(lull.SCENARIOS)
    assert first.columns.tolist() == list(lull.TABLE_COLUMNS)
    ref = first.iloc[0]
    assert ref["diff"] == 0 and ref["changed_runs"] == 0
    neither = first.iloc[-1]
    if neither["diff"] != 0:
        assert neither["share"] == 1.0
    # Another seed is other runs (the bootstrap's seed alone changes no median).
    other = lull.lull_table(lull.run_lull(30, seed=7))
    assert not other[["median", "mean"]].equals(first[["median", "mean"]])


def _summaries(**columns):
    return {name: pd.DataFrame({"replicate": range(len(v)), "lull_attacks": v})
            for name, v in columns.items()}


def test_the_table_on_hand_made_runs():
    # Paired differences: a +2 in every run, b +6, neither +8.
    table = lull.lull_table(_summaries(history=[3, 5, 7, 9, 11], a=[5, 7, 9, 11, 13],
                                       b=[9, 11, 13, 15, 17], neither=[11, 13, 15, 17, 19]))
    t = table.set_index("scenario")
    assert t["median"].tolist() == [7, 9, 13, 15]
    assert t["diff"].tolist() == [0, 2, 6, 8]
    assert (t["diff_lo"] == t["diff"]).all() and (t["diff_hi"] == t["diff"]).all()
    assert t["share"].tolist() == [0, 0.25, 0.75, 1.0]
    assert t.loc["a", "share_lo"] == t.loc["a", "share_hi"] == 0.25
    assert t["changed_runs"].tolist() == [0, 5, 5, 5]
    # No gap between history and neither: no share to give.
    flat = lull.lull_table(_summaries(history=[1, 2, 3], a=[2, 3, 4], neither=[1, 2, 3]))
    assert np.isnan(flat["share"]).all() and np.isnan(flat["share_lo"]).all()
    text = lull.format_table(flat)
    assert "no gap" in text and text.splitlines()[1].startswith("history")
    with pytest.raises(ValueError, match="replicates"):
        lull.lull_table(_summaries(history=[1, 2, 3], neither=[1, 2]))


def test_lull_command_writes_the_table_and_figure(tmp_path, capsys):
    out = tmp_path / "lull"
    assert main(["lull", "--replicates", "5", "--boot", "200", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "lull_no_feb_strikes" in printed and "share of lull" in printed
    assert "documented attacks in the window" in printed
    table = pd.read_csv(out / "lull_table.csv")
    assert table["scenario"].tolist() == list(lull.SCENARIOS)
    assert (out / "lull.png").stat().st_size > 20_000
    assert (out / "manifest.json").exists() and (out / "lull_table.txt").exists()


@pytest.mark.parametrize("argv, words", [
    (["lull", "history"], "at least one what-if"),
    (["lull", "--replicates", "1"], "--replicates"),
    (["lull", "history", "no_such_scenario"], "no such file"),
    (["lull", "history", "never_strike", "--set", "end=2023-12-31"], "outside"),
    (["compare", "history", "never_strike", "--metrics", "lull_attacks", "--set",
      "end=2023-12-31"], "lull_attacks counts attacks 2024-02-05..2024-07-15"),
])
def test_bad_input_is_one_line_and_exit_2(argv, words, tmp_path, capsys):
    out = tmp_path / "x"
    assert main(argv + ["--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and words in err, err
    assert not out.exists()


def test_compare_has_lull_attacks(tmp_path):
    out = tmp_path / "c"
    assert main(["compare", "history", "lull_no_feb_strikes", "--replicates", "4",
                 "--metrics", "lull_attacks", "--out", str(out)]) == 0
    table = pd.read_csv(out / "comparison.csv")
    assert table["metric"].unique().tolist() == ["lull_attacks"]
