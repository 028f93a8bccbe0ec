"""The confusion matrix of the rule comparison (calibration.confusion): pseudo-records of known
rules, the same model choice on each, which rule wins; and ``--confusion``'s input errors.

Small budgets (1,500 simulations, 100 particles) on the whole window: each model choice takes
a few seconds."""

from __future__ import annotations

import numpy as np
import pytest

from calibration.confusion import CONFUSION_REPLICATE, confusion_matrix, pseudo_records, truth_for
from calibration.fit import SYNTHETIC_REPLICATE, calibrate, fit_targets
from calibration.priors import model_for
from sim.cli import main as cli
from sim.scenario import load_scenario

RULES = ["restraint", "threshold"]
SIZES = dict(budget=1500, population=100)


@pytest.fixture(scope="module")
def scenario():
    return load_scenario("scenarios/history.toml")


@pytest.fixture(scope="module")
def result(scenario):
    return confusion_matrix(scenario, RULES, 2, seed=5, **SIZES)


def test_pseudo_records_have_the_comparisons_targets(scenario):
    targets = fit_targets(scenario, None, model_choice=True)
    obs = pseudo_records(scenario, "restraint", 2, seed=5)
    assert obs.shape == (2, len(targets))
    names = [t.name for t in targets]
    assert "leader_strike_rounds" in names    # the model-choice target is there
    strikes = [i for i, t in enumerate(targets) if t.series == "strike_rounds"
               or t.name == "leader_strike_rounds"]
    assert strikes and np.all(obs[:, strikes] == 0)    # restraint never strikes
    assert not np.array_equal(obs[0], obs[1])           # two different histories
    threshold = pseudo_records(scenario, "threshold", 1, seed=5)[0]
    assert threshold[strikes].sum() > 0


def test_truth_is_scenario_values_and_prior_medians(scenario):
    t = truth_for(scenario, "threshold")
    assert t["militias.fear_weight"] == pytest.approx(scenario.params.militias.fear_weight)
    level = [p for p in model_for("threshold").parameters if p.name == "us.level"][0]
    assert t["us.level"] == pytest.approx(level.prior.median())
    assert set(truth_for(scenario, "restraint")) == {p.name for p in
                                                     model_for("restraint").parameters}


def test_matrix_has_k_per_row(result):
    m = result.matrix
    assert list(m.index) == RULES and list(m.columns) == RULES
    assert (m.sum(axis=1) == 2).all()
    assert len(result.runs) == 4
    per = result.per_rule()
    assert (per["pseudo_records"] == 2).all()
    table = result.table()
    assert list(table["true_rule"]) == RULES + ["all"]
    assert table.iloc[-1]["pseudo_records"] == 4
    assert result.runs["replicate"].tolist() == [SYNTHETIC_REPLICATE + CONFUSION_REPLICATE + k
                                                 for k in (0, 1, 0, 1)]
    assert result.runs["seed"].tolist() == [5, 6, 5, 6]
    assert str(2 * 2) in result.text() and result.figure() is not None


def test_restraint_is_told_from_a_rule_that_strikes(result):
    rows = result.runs[result.runs["true_rule"] == "restraint"]
    assert (rows["chosen"] == "restraint").all()
    assert (rows["p_true"] > 0.5).all()


def test_deterministic_for_a_seed(scenario, result):
    """Pseudo-record k and its fit depend on the seed and k only, not on K: the K=1 matrix
    repeats the first row of each rule of the K=2 one."""
    again = confusion_matrix(scenario, RULES, 1, seed=5, **SIZES)
    first = result.runs[result.runs["k"] == 0].reset_index(drop=True)
    cols = ["true_rule", "k", "replicate", "seed", "chosen", "p_true"] + [f"p:{r}" for r in RULES]
    assert again.runs[cols].equals(first[cols])


def test_observed_override_changes_the_fit(scenario):
    """Same seed, same rules: fitting a restraint pseudo-record instead of one from a rule
    that strikes changes the rule probabilities (were ``observed`` ignored, the two fits
    would be identical). Which way they move at a test's budget is not asserted: with the
    revised model's 20-odd parameters a 1,500-simulation comparison is not reliable, which is
    what the confusion matrix is there to show."""
    striker = next(r for r in RULES if r != "restraint")
    obs = pseudo_records(scenario, "restraint", 1, seed=5)[0]
    other = pseudo_records(scenario, striker, 1, seed=5)[0]
    on_other = calibrate(scenario, RULES, seed=5, observed=other, **SIZES)
    on_pseudo = calibrate(scenario, RULES, seed=5, observed=obs, **SIZES)
    assert on_pseudo.meta["observed"] == pytest.approx(obs.tolist())
    assert on_other.meta["observed"] != on_pseudo.meta["observed"]
    p_other = on_other.rule_probabilities()["restraint"]
    p_pseudo = on_pseudo.rule_probabilities()["restraint"]
    assert abs(p_pseudo - p_other) > 0.2


def test_bad_arguments(scenario):
    with pytest.raises(ValueError):
        confusion_matrix(scenario, RULES, 0, **SIZES)
    with pytest.raises(ValueError):
        confusion_matrix(scenario, ["threshold"], 1, **SIZES)


@pytest.mark.parametrize("argv", [
    ["--compare-rules", "restraint,threshold", "--confusion", "0"],
    ["--compare-rules", "restraint,threshold", "--confusion", "2.5"],
    ["--compare-rules", "restraint,threshold", "--confusion", "many"],
    ["--confusion", "3"],
])
def test_confusion_bad_input_exits_2_with_one_line(argv, tmp_path, capsys):
    out = tmp_path / "out"
    code = cli(["calibrate", *argv, "--out", str(out)])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1
    assert err.startswith("escalation calibrate: --confusion:")
    assert not out.exists()
