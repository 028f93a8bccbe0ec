"""Validation: coverage flags, the CRPS, out-of-sample scores and the command."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from calibration import targets as tg
from calibration.validate import coverage, crps_sample, month_edges
from sim.cli import main as cli


def _target(name, observed=None, high=None):
    return tg.Target(name, "count", "2020-01-01", "2020-12-31", "attacks", observed=observed,
                     observed_high=high)


def test_coverage_flags_a_target_outside_the_band():
    sims = np.column_stack([np.arange(100.0), np.arange(100.0), np.arange(100.0)])
    targets = [_target("inside"), _target("outside"), _target("tally", 120.0, 200.0)]
    table = coverage(targets, np.array([50.0, 150.0, 120.0]), sims)
    assert table["inside"].tolist() == [True, False, False]
    assert table.loc[1, "percentile"] == 1.0
    # a tally whose published range reaches into the band counts as inside
    table = coverage([_target("tally", 90.0, 130.0)], np.array([110.0]), sims[:, :1])
    assert table["inside"].tolist() == [True]


def test_coverage_marks_out_of_sample_targets():
    later = tg.Target("later", "count", "2021-01-01", "2021-12-31", "attacks")
    table = coverage([_target("early"), later], np.array([1.0, 1.0]), np.ones((10, 2)),
                     until="2020-12-31")
    assert table["sample"].tolist() == ["in", "out"]


def test_crps_of_a_point_forecast_is_the_absolute_error():
    assert crps_sample(np.full(50, 3.0), [5.0]) == pytest.approx([2.0])


def test_crps_matches_the_normal_closed_form():
    rng = np.random.default_rng(0)
    x = rng.normal(0.0, 2.0, 200_000)
    y = 1.0
    z = y / 2.0
    exact = 2.0 * (z * (2 * stats.norm.cdf(z) - 1) + 2 * stats.norm.pdf(z) - 1 / np.sqrt(np.pi))
    assert crps_sample(x, [y])[0] == pytest.approx(exact, rel=0.01)


def test_crps_is_proper_a_sharper_right_forecast_scores_better():
    rng = np.random.default_rng(1)
    y = rng.poisson(4.0, 200)
    right = rng.poisson(4.0, (4000, 1)) * np.ones((1, 200))
    wrong = rng.poisson(8.0, (4000, 1)) * np.ones((1, 200))
    assert crps_sample(right, y).mean() < crps_sample(wrong, y).mean()


def test_month_edges():
    months = month_edges(pd.Timestamp("2023-06-30"), pd.Timestamp("2023-09-15"))
    assert [(f"{a:%m-%d}", f"{b:%m-%d}") for a, b in months] == [
        ("07-01", "07-31"), ("08-01", "08-31"), ("09-01", "09-15")]
    assert month_edges(pd.Timestamp("2023-06-15"), pd.Timestamp("2023-07-02"))[0][0] == \
        pd.Timestamp("2023-06-16")


@pytest.fixture(scope="module")
def posterior_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cal")
    assert cli(["calibrate", "--until", "2020-06-30", "--budget", "240", "--population", "60",
                "--seed", "4", "--out", str(folder)]) == 0
    return folder


def test_validate_command_scores_out_of_sample(posterior_dir, tmp_path, capsys):
    """On the history scenario cut at 2021-06-30 (a posterior of nine months' record is
    nearly the prior, and its wilder draws make the Gaza-war years slow to simulate)."""
    from pathlib import Path
    short = tmp_path / "short.toml"
    short.write_text(f'extends = "{Path("scenarios/history.toml").resolve()}"\n'
                     'end = 2021-06-30\n')
    out = tmp_path / "val"
    code = cli(["validate", "--posterior", str(posterior_dir), "--until", "2020-06-30",
                "--scenario", str(short), "--replicates", "20", "--out", str(out)])
    assert code == 0
    for name in ("validation.md", "coverage.csv", "scores.csv", "scores_mean.csv", "ppc.png",
                 "coverage.png", "forecast.png", "manifest.json"):
        assert (out / name).is_file(), name
    means = pd.read_csv(out / "scores_mean.csv")
    assert set(means["series"]) == {"strike_rounds_monthly", "attack_tallies"}
    assert np.isfinite(means[["crps_model", "crps_poisson", "crps_hawkes"]].to_numpy()).all()
    items = pd.read_csv(out / "scores.csv", parse_dates=["start", "end"])
    assert len(items[items["series"] == "strike_rounds_monthly"]) == 12   # Jul 2020-Jun 2021
    assert (items["end"] <= "2021-06-30").all() and (items["start"] > "2020-06-30").all()
    cov = pd.read_csv(out / "coverage.csv")
    assert {"out", "in"} == set(cov["sample"])
    printed = capsys.readouterr().out
    assert "coverage: the record is inside the 90% band" in printed
    assert "patterns of the record" in printed
    patterns = pd.read_csv(out / "patterns.csv").set_index("pattern")
    assert patterns.loc["spiral_rung6_2019_2020", "record"] == 1     # 2020-01-03, 01-08
    assert np.isnan(patterns.loc["attacks_2022", "record"])          # outside this window
    spiral = patterns.loc["spiral_rung6_2019_2020"]                  # a share, with its
    assert spiral["mean_mc_lo"] <= spiral["mean"] <= spiral["mean_mc_hi"]   # MC interval
    assert "Patterns of the record" in (out / "validation.md").read_text()
    assert "share of runs" in printed
    # Turning points inside the window, with the record's documented attacks after each.
    resp = pd.read_csv(out / "responses.csv").set_index("turning_point")
    assert list(resp.index) == ["iran_missiles_2020", "taji_strikes_2020", "syria_strikes_2021"]
    assert resp.loc["taji_strikes_2020", "sample"] == "in"
    assert resp.loc["syria_strikes_2021", "sample"] == "out"
    assert "turning points" in printed


@pytest.mark.parametrize("argv", [
    ["--until", "2020-04-30"],                 # earlier than the posterior's own until
    ["--until", "not-a-date"],
    ["--replicates", "3"],
])
def test_validate_bad_input_exits_2_with_one_line(posterior_dir, argv, tmp_path, capsys):
    out = tmp_path / "val"
    code = cli(["validate", "--posterior", str(posterior_dir), *argv, "--out", str(out)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and err.startswith("escalation validate:")
    assert not out.exists()


def test_validate_without_a_posterior_exits_2(tmp_path, capsys):
    code = cli(["validate", "--posterior", str(tmp_path / "missing")])
    assert code == 2 and "no such calibration folder" in capsys.readouterr().err


def test_turning_point_probe_runs_on_a_posterior(posterior_dir, capsys):
    """scripts/turning_point_probe.py, whose output the README quotes, on a tiny posterior."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("probe", "scripts/turning_point_probe.py")
    probe = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(probe)
    assert probe.main([str(posterior_dir), "--draws", "12", "--keep", "0.5"]) == 0
    printed = capsys.readouterr().out
    assert "taji_strikes_2020: record 5" in printed
    assert "lull from the state of 2024-01-31 (record 5)" in printed


def test_turning_point_probe_names_the_parameter_that_sets_quiet_draws_apart():
    """separating(): a parameter higher in every quiet draw has AUC 1 and comes first; one
    drawn independently of quietness sits near 0.5; a constant one is left out."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("probe", "scripts/turning_point_probe.py")
    probe = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(probe)
    rng = np.random.default_rng(3)
    quiet = np.arange(400) < 100
    draws = {"noise": rng.uniform(size=400), "fixed": np.ones(400),
             "half_life": np.where(quiet, 200.0, 100.0) + rng.uniform(size=400)}
    rows = probe.separating(draws, quiet)
    assert [r[0] for r in rows] == ["half_life", "noise"]
    assert rows[0][1] == 1.0 and rows[0][2] > rows[0][3]
    assert abs(rows[1][1] - 0.5) < 0.1


def test_campaign_fade_reads_the_record_and_the_models_directive():
    """scripts/campaign_fade.py, whose table the README quotes: the record's column is its
    documented attacks a week; an Iran that can never stand down restrains on no day; the
    median run's documented attacks never exceed all its attacks; with every lethal outcome
    prevented from the war's start (force protection), no run has a lethal attack before
    Tower 22."""
    import importlib.util
    from calibration import load_record
    from sim.scenario import load_scenario
    spec = importlib.util.spec_from_file_location("fade", "scripts/campaign_fade.py")
    fade = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fade)
    sc = load_scenario("scenarios/history.toml", overrides=["iran.can_stand_down=0"])
    table, lethal = fade.fade_table(sc, 12)
    assert len(table) == len(fade.PERIODS) and (table["iran_restrains"] == 0).all()
    assert 0 < lethal["share"] <= 1 and 0 <= lethal["median_first_day"] <= 112
    # Force protection that prevents every lethal outcome from the war's start: none left.
    from sim.scenario import scenario_from_dict
    data = load_scenario("scenarios/history.toml", overrides=["us.force_protection=1"]).resolved
    data["shocks"] = [*data["shocks"], dict(date="2023-10-07", kind="force_protection",
                                            size=1.0)]
    assert fade.fade_table(scenario_from_dict(data), 12)[1]["share"] == 0
    assert (table["model_documented"] <= table["model_all"] + 1e-9).all()
    series = tg.daily_series(load_record(), sc.start, fade.END)
    first, last = fade.PERIODS[-1]
    weeks = ((pd.Timestamp(last) - pd.Timestamp(first)).days + 1) / 7
    assert table["record_documented"].iloc[-1] == pytest.approx(
        series.window("attacks", series.day(first), series.day(last))[0] / weeks)


def _seeds_script():
    import importlib.util
    spec = importlib.util.spec_from_file_location("seeds", "scripts/calibration_seeds.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_calibration_seeds_tabulates_the_bars_of_each_seed(tmp_path, capsys):
    """scripts/calibration_seeds.py, whose table the README quotes, at a tiny size."""
    seeds = _seeds_script()
    out = tmp_path / "seeds"
    assert seeds.main(["--seeds", "1", "--budget", "300", "--population", "30",
                       "--replicates", "20", "--workers", "1", "--out", str(out)]) == 0
    bars = pd.read_csv(out / "bars.csv")
    assert list(bars["seed"]) == [1]
    assert set(bars["attacks_lull_2024_bar"]) <= {"met", "missed", "unclear"}
    assert bars["inside_band"][0].endswith("/131")
    assert "calibration_seeds.py --seeds 1" in (out / "manifest.json").read_text()
    until = tmp_path / "until"
    assert seeds.main(["--seeds", "2", "--until", "2021-06-30", "--budget", "300",
                       "--population", "30", "--replicates", "20", "--workers", "1",
                       "--out", str(until)]) == 0
    assert "--until 2021-06-30" in (until / "calibration_s2" / "manifest.json").read_text()
    assert (until / "validation_s2" / "scores.csv").is_file()     # out of sample after it
    assert seeds.main(["--seeds", "x", "--out", str(tmp_path / "bad")]) == 2
    assert "--seeds" in capsys.readouterr().err


@pytest.mark.parametrize("script, arg", [("scripts/turning_point_probe.py", "no/such/folder"),
                                         ("scripts/model_check.py", "no_such.toml"),
                                         ("scripts/campaign_fade.py", "no_such.toml")])
def test_the_scripts_answer_bad_input_with_one_line_and_exit_2(script, arg):
    import subprocess
    import sys
    done = subprocess.run([sys.executable, script, arg], capture_output=True, text=True)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and arg in lines[0] and "Traceback" not in done.stderr


def test_campaign_fade_draws_from_a_posterior_and_set_replaces_the_draw(posterior_dir, capsys):
    """scripts/campaign_fade.py --posterior: one draw per run; --set replaces the drawn value
    (the same draws with and without a mechanism). A rocket that never kills leaves no lethal
    attack before Tower 22."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("fade", "scripts/campaign_fade.py")
    fade = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fade)
    assert fade.main(["--posterior", str(posterior_dir), "--replicates", "10"]) == 0
    out = capsys.readouterr().out
    assert "runs with a lethal attack 2023-10-07..2024-01-27" in out
    assert fade.main(["--posterior", str(posterior_dir), "--replicates", "10", "--set",
                      "weapons.rocket.lethal_probability=0", "weapons.drone.lethal_probability=0",
                      "weapons.ballistic_missile.lethal_probability=0"]) == 0
    assert "(the record: none): 0%" in capsys.readouterr().out
