"""The backtest: no future reaches a fit, windows never overlap, every forecaster is scored,
bad input writes nothing."""

import numpy as np
import pandas as pd
import pytest

from calibration import load_record, load_tallies
from calibration import backtest as bt
from sim.cli import main
from sim.scenario import load_scenario

TINY = dict(budget=200, population=100, replicates=40, workers=1)


@pytest.fixture(scope="module")
def scenario():
    return load_scenario("scenarios/history.toml")


@pytest.fixture(scope="module")
def record():
    return load_record()


@pytest.fixture(scope="module")
def tallies():
    return load_tallies()


# --- Windows -------------------------------------------------------------------------------

def test_month_windows_cut_at_both_ends():
    w = bt.month_windows("2023-10-31", 90)
    assert w[0] == (pd.Timestamp("2023-11-01"), pd.Timestamp("2023-11-30"))
    assert w[-1] == (pd.Timestamp("2024-01-01"), pd.Timestamp("2024-01-29"))
    assert sum((b - a).days + 1 for a, b in w) == 90


def _tally(tid, start, end, count, measure="attacks", scope="iraq_syria", high=None):
    return dict(tally_id=tid, start=pd.Timestamp(start), end=pd.Timestamp(end),
                measure=measure, scope=scope, count=count, count_high=high, bound="exact",
                source="test", note="")


def test_cumulative_counts_are_scored_as_increments_that_never_overlap():
    tallies = pd.DataFrame([
        _tally("a", "2023-10-17", "2023-10-26", 19),
        _tally("b", "2023-10-17", "2023-11-14", 55),
        _tally("c", "2023-10-17", "2023-12-07", 78),
        _tally("d", "2023-10-07", "2024-01-20", 144),     # another chain over the same days
        _tally("e", "2023-10-17", "2024-05-01", 200),     # ends after the horizon
    ])
    w = bt.tally_windows(tallies, "2023-10-31", 90)
    got = [(x.start.strftime("%Y-%m-%d"), x.end.strftime("%Y-%m-%d"), x.observed) for x in w]
    # a-b starts before the origin: only the increment from b to c is wholly inside
    assert got == [("2023-11-15", "2023-12-07", 23.0)]
    spans = [(x.start, x.end) for x in w]
    assert all(b1 < a2 for (a1, b1), (a2, b2) in zip(spans, spans[1:]))


def test_windows_observed_values_come_from_the_record(record, tallies):
    s = bt.tg.daily_series(record, "2019-10-01", "2024-12-31")
    rung = bt.daily_max_rung(record, s)
    w = bt.windows_at(s, rung, tallies, "2019-12-31", 31)
    jan = {x.target: x.observed for x in w if x.start == pd.Timestamp("2020-01-01")}
    assert set(bt.MONTHLY) <= set(jan)
    assert jan["highest_rung"] == 7           # Iran's missiles on 2020-01-08
    assert jan["strike_rounds"] >= 1          # the strike of 2020-01-03


# --- No future reaches a fit ---------------------------------------------------------------------

def _poison(record, tallies, origin):
    """A record with absurd rows after the origin (and a count that ends after it)."""
    day = pd.Timestamp(origin) + pd.Timedelta(days=5)
    rows = record[record["action"] == "attack"].head(1).copy()
    poisoned = pd.concat([rows.assign(date=day + pd.Timedelta(days=i), us_killed=50,
                                      event_id=f"poison-{i}") for i in range(40)])
    rec = pd.concat([record, poisoned], ignore_index=True).sort_values("date",
                                                                         kind="stable")
    tal = pd.concat([tallies, pd.DataFrame([_tally("poison", "2019-10-01",
                                                   day + pd.Timedelta(days=30), 5000)])],
                    ignore_index=True)
    return rec.reset_index(drop=True), tal


def test_no_record_row_after_the_origin_reaches_the_calibration(scenario, record, tallies):
    origin = "2020-06-30"
    clean = bt.backtest_origin(scenario, record, tallies, origin, (60,), **TINY)
    rec, tal = _poison(record, tallies, origin)
    dirty = bt.backtest_origin(scenario, rec, tal, origin, (60,), **TINY)
    pd.testing.assert_frame_equal(clean.posterior_summary, dirty.posterior_summary)
    cols = ["target", "window_start", "forecaster", "median", "lo90", "hi90"]
    a = clean.forecasts[clean.forecasts["tally"] == ""][cols].reset_index(drop=True)
    b = dirty.forecasts[dirty.forecasts["tally"] == ""][cols].reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)
    # ... while the poisoned future does change what the forecasts are scored against
    assert dirty.forecasts["observed"].sum() > clean.forecasts["observed"].sum()


def test_a_conditioned_forecast_replays_the_record_only_up_to_the_origin(scenario, record,
                                                                        tallies):
    origin = "2020-06-30"
    clean = bt.backtest_origin(scenario, record, tallies, origin, (60,), condition=True,
                               **TINY)
    rec, tal = _poison(record, tallies, origin)
    dirty = bt.backtest_origin(scenario, rec, tal, origin, (60,), condition=True, **TINY)
    cols = ["target", "window_start", "forecaster", "median", "lo90", "hi90"]
    a = clean.forecasts[clean.forecasts["tally"] == ""][cols].reset_index(drop=True)
    b = dirty.forecasts[dirty.forecasts["tally"] == ""][cols].reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)
    # The runs force every actor up to the origin, from the cut record (test_model checks
    # that such runs are the record up to that day and the model's own after it).
    from calibration.simulator import conditioned
    before = conditioned(scenario.params, origin, bt.cut_record(record, tallies, origin)[0])
    assert before.replay.until == origin and set(before.replay.force) == {
        "us", "militia", "iran", "iraq"}
    assert scenario.params.replay.until is None          # the scenario itself is untouched


def test_a_conditioned_forecast_keeps_the_runs_that_agree_with_the_documented_stand_downs(
        scenario, record, tallies):
    """From 2024-01-31 (Kataib Hezbollah's suspension the day before) the forecast keeps the
    runs whose Kataib Hezbollah stands down, as calibration.responses.agreeing_at_origin
    says; from an origin with nothing documented it keeps every run."""
    from calibration.fit import calibrate
    from calibration.posterior import draw_from
    from calibration.responses import agreeing_at_origin
    from calibration.simulator import params_for_rule
    n = 40
    reps = bt.FORECAST_REPLICATE + np.arange(n)
    for origin in (pd.Timestamp("2024-01-31"), pd.Timestamp("2021-06-30")):
        rec, tal = bt.cut_record(record, tallies, origin)
        post = calibrate(scenario, until=origin, budget=200, population=100,
                         seed=scenario.seed, workers=1, record=rec, tallies=tal)
        end = origin + pd.Timedelta(days=30)
        series, _, kept = bt.forecast_ensemble(post, scenario, end, n, scenario.seed,
                                               (origin, rec))
        agree = agreeing_at_origin(params_for_rule(scenario.params, post.best_rule), rec,
                                   origin, scenario.seed, reps,
                                   draw_from(post, n, scenario.seed), scenario.start)
        if origin.year == 2021:
            assert agree.all() and kept == 1.0 and series.n == n
        else:
            assert 0 < agree.sum() < n          # the filter does something here
            assert kept == pytest.approx(agree.mean()) and series.n == agree.sum()
            assert list(series.replicates) == list(reps[agree])


def test_cut_record_keeps_only_what_was_documented_by_the_origin(record, tallies):
    rec, tal = bt.cut_record(record, tallies, "2021-06-30")
    assert rec["date"].max() <= pd.Timestamp("2021-06-30")
    assert tal["end"].max() <= pd.Timestamp("2021-06-30")
    assert len(rec) < len(record) and len(tal) < len(tallies)


# --- Ablation and covariates ---------------------------------------------------------------------

def test_without_removes_the_input_from_model_and_covariates(scenario):
    plain = bt.without_inputs(scenario, ("regional_war",))
    assert {s.kind for s in plain.params.shocks} == {s.kind for s in scenario.params.shocks} \
        - {"regional_war"}
    assert any(s.kind == "regional_war" for s in scenario.params.shocks)   # a copy
    _, names = bt.covariates(plain, scenario.start, scenario.end)
    assert "regional_war" not in names and "posture" in names
    cov, names = bt.covariates(scenario, scenario.start, scenario.end)
    war = cov[:, names.index("regional_war")]
    day = (pd.Timestamp("2023-10-07") - scenario.start).days
    assert war[:day].max() == 0 and war[day + 30] > 0   # it rises over war_onset_days
    # hawkes_cov sees every dated input the model sees: the combat mission's end too.
    end = cov[:, names.index("combat_mission_end")]
    day = (pd.Timestamp("2021-07-26") - scenario.start).days
    assert end[:day].max() == 0 and (end[day:] == 1).all()


def test_unknown_without_kind_is_refused(scenario):
    with pytest.raises(bt.InputError, match="regional_war"):
        bt.check_without(scenario, ("gaza",))


# --- The command ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def result(tmp_path_factory):
    out = tmp_path_factory.mktemp("bt") / "backtest"
    code = main(["backtest", "--origins", "2020-06-30,2021-06-30", "--horizon", "60,90",
                 "--budget", "200", "--population", "100", "--replicates", "40",
                 "--out", str(out)])
    assert code == 0
    return out


def test_backtest_writes_every_file(result):
    for name in ("forecasts.csv", "scores.csv", "patterns.csv", "report.md", "fans.png",
                 "manifest.json"):
        assert (result / name).is_file(), name


def test_forecasts_have_the_contract_columns_and_every_forecaster_is_scored(result):
    f = pd.read_csv(result / "forecasts.csv")
    assert list(f.columns[:12]) == ["origin", "target", "window_start", "window_end",
                                    "observed", "forecaster", "median", "lo90", "hi90", "crps",
                                    "ign", "interval_score"]
    assert set(f["origin"]) == {"2020-06-30", "2021-06-30"}
    assert set(f["forecaster"]) == set(bt.FORECASTERS)
    counts = f[f["target"] != "highest_rung"]
    for name in bt.FORECASTERS:
        g = counts[counts["forecaster"] == name]
        assert len(g) and np.isfinite(g[["crps", "ign", "interval_score"]]).all().all(), name
    assert (f["window_start"] > f["origin"]).all()


def test_scores_carry_paired_differences_with_intervals(result):
    s = pd.read_csv(result / "scores.csv")
    every = s[(s["origin"] == "all") & (s["forecaster"] == "hawkes_cov")
              & (s["target"] == "attacks")]
    assert len(every) == 2                                  # one per horizon
    row = every.iloc[0]
    assert row["model_minus_crps_lo90"] <= row["model_minus_crps"] <= \
        row["model_minus_crps_hi90"]


def test_report_says_where_the_model_loses_and_patterns_are_listed(result):
    text = (result / "report.md").read_text()
    assert "Where the model wins and loses" in text
    p = pd.read_csv(result / "patterns.csv")
    assert {"spiral_rung6_2019_2020", "attacks_lull_2024", "retaliation_30d"} <= set(
        p["pattern"])
    assert {"record", "median", "lo90", "hi90", "inside"} <= set(p.columns)


@pytest.mark.parametrize("args, field", [
    (["--origins", "2018-01-01"], "--origins"),
    (["--origins", "2024-12-31"], "--origins"),
    (["--origins", "2023-13-01"], "--origins"),
    (["--horizon", "0"], "--horizon"),
    (["--horizon", "ninety"], "--horizon"),
    (["--without", "gaza"], "--without"),
    (["--fit", "iran.war_risk_weight=uniform:0:20"], "--fit"),
    (["--fit", "iran.risk_weight=uniform:0:1"], "--fit"),
])
def test_bad_input_exits_2_with_one_line_and_writes_nothing(tmp_path, capsys, args, field):
    out = tmp_path / "bt"
    code = main(["backtest", *args, "--budget", "200", "--population", "100",
                 "--out", str(out)])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1 and field in err
    assert not out.exists()


def test_weighing_by_decisions_reads_only_those_documented_by_the_origin(scenario, record,
                                                                        tallies):
    """With --decisions the origin's calibration weighs the truce of 2020-10-11 (its
    posterior differs from the unweighed one), and a suspension documented after the origin
    changes nothing."""
    origin = "2020-12-31"
    plain = bt.backtest_origin(scenario, record, tallies, origin, (60,), **TINY)
    clean = bt.backtest_origin(scenario, record, tallies, origin, (60,), decisions=True,
                               **TINY)
    assert not plain.posterior_summary.equals(clean.posterior_summary)
    later = dict(record.iloc[0]) | dict(event_id="2021-03-01-fake-suspension",
                                        date="2021-03-01", actor="kataib_hezbollah",
                                        action="suspension")
    rec = pd.concat([record, pd.DataFrame([later])], ignore_index=True)
    dirty = bt.backtest_origin(scenario, rec, tallies, origin, (60,), decisions=True, **TINY)
    pd.testing.assert_frame_equal(clean.posterior_summary, dirty.posterior_summary)


def test_each_origin_fits_the_extra_parameters(scenario, record, tallies):
    """backtest --fit: every origin's calibration fits the parameter beside the default ones
    (here the war-risk weight, off by default)."""
    from calibration.priors import parse_fits
    extra = parse_fits(["iran.war_risk_weight=uniform:0:2"], ("ladder",))
    res = bt.backtest_origin(scenario, record, tallies, "2020-12-31", (60,), extra=extra,
                             **TINY)
    assert "iran.war_risk_weight" in set(res.posterior_summary["parameter"])


# --- scripts/backtest_seeds.py -------------------------------------------------------------------

def _backtest_seeds_script():
    import importlib.util
    spec = importlib.util.spec_from_file_location("backtest_seeds",
                                                  "scripts/backtest_seeds.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_backtest_seeds_pairs_a_variant_with_its_reference_seed_by_seed(tmp_path, capsys):
    """The script the README's seed-to-seed spread of the backtest comes from, at a tiny size:
    each seed's model score is the backtest's own (origin 'all', longest horizon), and with
    --against the difference is this folder's score minus the reference's, seed by seed."""
    script = _backtest_seeds_script()
    tiny = ["--origins", "2020-06-30", "--horizon", "90", "--budget", "200",
            "--population", "100", "--workers", "1"]
    ref, var = tmp_path / "ref", tmp_path / "var"
    assert script.main(["--seeds", "1", *tiny, "--replicates", "40", "--out", str(ref)]) == 0
    assert script.main(["--seeds", "1", *tiny, "--replicates", "20", "--against", str(ref),
                        "--out", str(var)]) == 0
    own = pd.read_csv(var / "backtest_s1" / "scores.csv")
    own = own[(own["origin"] == "all") & (own["forecaster"] == "model")].set_index("target")
    table = pd.read_csv(var / "seeds.csv")
    first = table[table["seed"].astype(str) == "1"].set_index("target")
    assert first["model"].to_dict() == pytest.approx(own["crps"].to_dict(), rel=1e-5)
    reference = pd.read_csv(ref / "seeds.csv")
    reference = reference[reference["seed"].astype(str) == "1"].set_index("target")
    assert first["difference"].to_dict() == pytest.approx(
        (first["model"] - reference["model"]).to_dict(), rel=1e-5, abs=1e-9)
    assert (table["seed"].astype(str) == "mean").sum() == len(first)
    assert "--against" in (var / "manifest.json").read_text()
    assert script.main(["--seeds", "2", "--against", str(ref), "--out", str(tmp_path / "x")]) == 2
    assert script.main(["--seeds", "1", "--against", str(tmp_path / "none"),
                        "--out", str(tmp_path / "y")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert "seed(s) [2]" in err[-2] and "not found" in err[-1]
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()
