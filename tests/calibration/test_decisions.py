"""The record's documented decisions as data (calibration/decisions.py, calibrate --decisions)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from calibration import load_record
from calibration.decisions import Decision, documented_decisions, weigh
from calibration.posterior import Posterior, draw_from, read
from sim.scenario import load_scenario

RISK = ("iran.risk_weight", "iran.risk_per_us_death")


@pytest.fixture(scope="module")
def record():
    return load_record()


def test_the_documented_decisions_are_the_record_s_suspensions_up_to_the_day(record):
    """Kataib Hezbollah's truce of 2020-10-11 and its suspension of 2024-01-30; a decision
    after the last day, or before the first, is not data."""
    kh = ("kataib_hezbollah",)
    assert documented_decisions(record, "2019-10-01", "2024-07-15") == [
        Decision("2020-10-11", kh), Decision("2024-01-30", kh)]
    assert documented_decisions(record, "2019-10-01", "2024-01-29") == [
        Decision("2020-10-11", kh)]
    assert documented_decisions(record, "2021-01-01", "2023-12-31") == []


def _posterior(values: list[tuple[float, float]], seed: int = 5) -> Posterior:
    """A one-generation posterior of rule ladder with equal weights over ``values``."""
    frame = pd.DataFrame({"generation": 0, "particle": np.arange(len(values)),
                          "rule": "ladder", "weight": 1.0 / len(values), "distance": 0.0})
    for i, name in enumerate(RISK):
        frame[name] = [v[i] for v in values]
    meta = dict(rules=["ladder"], rule_parameters={"ladder": list(RISK)}, ratios={},
                seed=seed, parameters=[dict(name=n, dist="uniform", args=[0, 10], log=False)
                                       for n in RISK])
    return Posterior(frame, meta)


def test_weighing_favours_the_particles_whose_faction_stands_down_as_documented(record):
    """An Iran that weighs the risk of U.S. deaths heavily orders the stand-down after Tower 22
    and Kataib Hezbollah (compliance 0.9) obeys; one that ignores the risk does not. Weighed
    by the suspension of 2024-01-30 the first gains weight; the ABC weights are kept beside."""
    sc = load_scenario("scenarios/history.toml")
    only_2024 = record[record["event_id"] != "2020-10-11-conditional-truce"]
    post = _posterior([(3.0, 10.0), (0.0, 0.1)])
    out = weigh(post, sc, only_2024, "2024-01-31")
    d = out.meta["decisions"]
    assert [w["date"] for w in d["weighed"]] == ["2024-01-30"] and d["applied"]
    w = out.final["weight"].to_numpy()
    assert w.sum() == pytest.approx(1.0) and w[0] > w[1]
    assert out.final["weight_before_decisions"].tolist() == [0.5, 0.5]
    # A forecast that filters its runs on the decision draws without its weighing.
    after = draw_from(out, 400, 1)["iran.risk_weight"]
    before = draw_from(out, 400, 1, without_decisions=["2024-01-30"])["iran.risk_weight"]
    assert (after == 3.0).mean() > 0.6 and 0.35 < (before == 3.0).mean() < 0.65
    other = draw_from(out, 400, 1, without_decisions=["2020-10-11"])["iran.risk_weight"]
    assert (other == after).all()      # a decision not weighed leaves nothing out


def test_leaving_one_decision_out_keeps_the_other(record):
    """With both suspensions weighed, the forecast filtered at 2024-01-31 still weighs the
    particles by the truce of 2020-10-11: the weights are the ABC's times its shares."""
    from calibration.decisions import weights_without
    sc = load_scenario("scenarios/history.toml")
    out = weigh(_posterior([(3.0, 10.0), (0.0, 0.1), (1.5, 2.0)]), sc, record, "2024-01-31")
    f = out.final
    kept = f["weight_before_decisions"] * f["decision:2020-10-11"]
    assert weights_without(f, ["2024-01-30"]) == pytest.approx(kept / kept.sum())
    both = kept * f["decision:2024-01-30"]
    assert f["weight"].to_numpy() == pytest.approx(both / both.sum())


def test_weighing_with_no_decision_in_the_window_changes_nothing(record):
    sc = load_scenario("scenarios/history.toml")
    post = _posterior([(3.0, 10.0), (0.0, 0.1)])
    out = weigh(post, sc, record, "2020-06-30")
    assert out.meta["decisions"]["weighed"] == []
    assert out.final["weight"].tolist() == [0.5, 0.5]


def test_calibrate_with_decisions_reports_and_keeps_both_weights(tmp_path, refused):
    from sim.cli import main as cli
    out = tmp_path / "cal"
    assert cli(["calibrate", "--until", "2021-06-30", "--decisions", "--budget", "240",
                "--population", "60", "--seed", "3", "--out", str(out)]) == 0
    report = (out / "report.md").read_text()
    assert "documented decisions" in report and "2020-10-11" in report
    post = read(out)
    assert "weight_before_decisions" in post.final
    assert post.final["weight"].sum() == pytest.approx(1.0)
    assert "--decisions" in (out / "manifest.json").read_text()
    refused(["calibrate", "--compare-rules", "--decisions", "--out", str(tmp_path / "x")],
            "--decisions", tmp_path / "x")


def test_decision_days_weigh_only_the_days_chosen(record, tmp_path, refused):
    """``--decision-days 2024-01-30`` weighs the suspension after Tower 22 and leaves the
    truce of 2020-10-11 out (its documented driver, the embassy-closure threat, is not in the
    model); a day the record documents no decision on, or the option without --decisions, is
    refused in one line before anything runs."""
    sc = load_scenario("scenarios/history.toml")
    post = _posterior([(3.0, 10.0), (0.0, 0.1)])
    out = weigh(post, sc, record, "2024-01-31", days=("2024-01-30",))
    d = out.meta["decisions"]
    assert [w["date"] for w in d["weighed"]] == ["2024-01-30"] and d["days"] == ["2024-01-30"]
    assert "decision:2020-10-11" not in out.final
    both = weigh(post, sc, record, "2024-01-31")
    assert [w["date"] for w in both.meta["decisions"]["weighed"]] == ["2020-10-11",
                                                                     "2024-01-30"]
    refused(["calibrate", "--decisions", "--decision-days", "2024-01-29", "--out",
             str(tmp_path / "x")], "no decision on 2024-01-29", tmp_path / "x")
    refused(["calibrate", "--decision-days", "2024-01-30", "--out", str(tmp_path / "y")],
            "needs --decisions", tmp_path / "y")
    refused(["backtest", "--decisions", "--decision-days", "later", "--out",
             str(tmp_path / "z")], "--decision-days", tmp_path / "z")
