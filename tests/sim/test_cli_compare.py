"""``escalation compare`` as a user meets it, and the outcomes per day of U.S. presence.

The CLI cases are tests of exit code and message; the numbers per presence-day are checked
on a hand-made event table whose answer is counted by hand.
"""

import numpy as np
import pandas as pd
import pytest

from sim.cli import main
from sim.comparison import comparison_table, plain_words
from sim.outcomes import OUTCOMES, WINDOWS, presence_outcomes


@pytest.fixture
def never(small_scenario, write_scenario):
    return write_scenario(f"""
        name = "never"
        description = "never strike"
        extends = "{small_scenario.name}"
        [us]
        rule = "restraint"
    """, "never.toml")


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
    # every outcome but those counted in fixed dates the two-year window does not hold
    assert set(OUTCOMES) - set(WINDOWS) <= set(s.columns)
    assert not set(WINDOWS) & set(s.columns)
    window = (res.scenario.end - res.scenario.start).days + 1
    stayed = ~s["us_left_iraq"]
    assert (s.loc[stayed, "presence_days_iraq"] == window).all()
    assert (s["attacks_iraq"] + s["attacks_syria"] <= s["attacks"]).all()


def test_compare_writes_table_figures_and_words(small_scenario, never, tmp_path, capsys):
    out = tmp_path / "cmp"
    assert main(["compare", str(small_scenario), str(never), "--replicates", "8",
                 "--out", str(out)]) == 0
    table = pd.read_csv(out / "comparison.csv")
    # every outcome by default, but lull_attacks: 2024 is outside the small scenario
    assert set(table["metric"]) == set(OUTCOMES) - set(WINDOWS)
    row = table[(table.scenario == "never") & (table.metric == "strike_rounds")].iloc[0]
    assert row["statistic"] == "median" and row["value"] == 0
    assert row["diff"] < 0 and row["diff_hi"] < 0
    share = table[table.metric == "us_left_iraq"]["statistic"].unique().tolist()
    assert share == ["share"]
    for f in ("differences.png", "timelines.png"):
        assert (out / f).stat().st_size > 20_000
    printed = capsys.readouterr().out
    assert "median" in printed and "share" in printed
    assert "never against small: median of the 8 paired differences" in printed
    assert "U.S. strike rounds" in printed and "of 8 runs differ" in printed
    assert (out / "differences.txt").read_text().startswith("never against small")


def test_a_scenario_compared_with_itself_gives_no_difference(small_scenario, tmp_path,
                                                             capsys):
    assert main(["compare", str(small_scenario), str(small_scenario), "--replicates", "4",
                 "--metrics", "attacks,us_left_iraq", "--out", str(tmp_path / "c")]) == 0
    printed = capsys.readouterr().out
    assert "attacks: no difference (the same in all 4 paired runs)" in printed
    assert "U.S. leaves Iraq in" in printed and ": no difference" in printed


def test_metrics_chooses_the_outcomes(small_scenario, never, tmp_path):
    out = tmp_path / "m"
    assert main(["compare", str(small_scenario), str(never), "--replicates", "3",
                 "--metrics", "us_killed, attacks_per_100_presence_days_iraq",
                 "--out", str(out)]) == 0
    table = pd.read_csv(out / "comparison.csv")
    assert table["metric"].unique().tolist() == ["us_killed",
                                                 "attacks_per_100_presence_days_iraq"]


def test_unknown_metric_exits_2_with_did_you_mean(small_scenario, tmp_path, capsys):
    out = tmp_path / "never"
    assert main(["compare", str(small_scenario), str(small_scenario), "--metrics",
                 "atacks", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "--metrics" in err and "'atacks'" in err and "did you mean 'attacks'" in err
    assert "us_left_iraq" in err                      # the known ones are listed
    assert not out.exists()


def test_one_scenario_is_not_a_comparison(small_scenario, tmp_path, capsys):
    assert main(["compare", str(small_scenario), "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "at least two scenario files" in err
    assert not (tmp_path / "x").exists()


def test_set_applies_to_every_scenario(small_scenario, never, tmp_path):
    out = tmp_path / "s"
    assert main(["compare", str(small_scenario), str(never), "--replicates", "3",
                 "--set", "us.rule=restraint", "--metrics", "strike_rounds",
                 "--out", str(out)]) == 0
    table = pd.read_csv(out / "comparison.csv")
    assert (table["value"] == 0).all() and (table["changed_runs"] == 0).all()


def test_refuses_to_replace_a_folder_with_results(small_scenario, tmp_path, capsys):
    out = tmp_path / "held"
    out.mkdir()
    (out / "comparison.csv").write_text("old results\n")
    args = ["compare", str(small_scenario), str(small_scenario), "--replicates", "2",
            "--metrics", "attacks", "--out", str(out)]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "already holds results" in err and "--force" in err
    assert (out / "comparison.csv").read_text() == "old results\n"
    assert main(args + ["--force"]) == 0
    assert "attacks" in pd.read_csv(out / "comparison.csv")["metric"].tolist()


def _summary(attacks, left, rate):
    n = len(attacks)
    return pd.DataFrame({"replicate": range(n), "attacks": attacks, "us_left_iraq": left,
                         "attacks_per_100_presence_days_iraq": rate})


def test_words_say_when_the_exit_explains_fewer_attacks():
    ref = _summary([500, 510, 490, 505], [False] * 4, [10.0, 10.2, 9.8, 10.1])
    gone = _summary([150, 160, 140, 155], [True] * 4, [10.0, 10.1, 9.8, 10.1])
    table = comparison_table({"history": ref, "answer": gone},
                             ["attacks", "us_left_iraq", "attacks_per_100_presence_days_iraq"])
    words = "\n".join(plain_words(table))
    assert "−69.7% (−71.4 to −69.0%) attacks" in words and "attacks, −350 (−350 to −350)" in words
    assert "but the U.S. left Iraq in 4 of 4 runs (history: 0)" in words
    assert "so the drop is the exit, not deterrence" in words
    assert "U.S. leaves Iraq in 4 of 4 runs (history: 0 of 4): +100 (+100 to +100) percentage" \
        in words
    row = table[(table.scenario == "answer") & (table.metric == "attacks")].iloc[0]
    assert row["statistic"] == "median" and row["diff"] == -350


def test_words_give_the_mean_where_the_median_does_not_move():
    # 5 of 11 paired runs lose one death, 6 are unchanged: the median difference is 0.
    ref = pd.DataFrame({"replicate": range(11), "us_killed": [3] * 11})
    new = pd.DataFrame({"replicate": range(11), "us_killed": [2] * 5 + [3] * 6})
    words = "\n".join(plain_words(comparison_table({"a": ref, "b": new}, ["us_killed"])))
    assert "U.S. killed: median difference +0 (" in words
    assert "but 5 of 11 runs differ: mean difference −0.45 (" in words
