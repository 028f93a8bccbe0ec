"""Extra fitted parameters (``escalation calibrate --fit``, ``calibration.priors.parse_fit``):
a declared parameter with a prior inside its bounds is fitted beside the default ones and
drawn by validation; anything else is refused in one line."""

import numpy as np
import pandas as pd
import pytest

from calibration.priors import SHARED, model_for, parse_fit
from sim.cli import main as cli
from sim.errors import InputError


def test_a_fit_spec_becomes_a_parameter_after_the_rules_and_before_the_observation_model():
    p = parse_fit("iran.war_risk_weight=uniform:0:2", ("ladder",))
    assert (p.name, p.dist, p.args) == ("iran.war_risk_weight", "uniform", (0.0, 2.0))
    assert p.prior.support() == (0.0, 2.0)
    names = [q.name for q in model_for("ladder", (p,)).parameters]
    assert names.index("iran.war_risk_weight") == len(SHARED) + 6   # after ladder's 5, inputs' 1
    assert names[-1].startswith("observation.")
    per_faction = parse_fit("militias.harakat_al_nujaba.compliance=loguniform:0.05:1")
    assert per_faction.on_log


@pytest.mark.parametrize("spec, words", [
    ("iran.war_risk_weight", "PATH=DIST:LO:HI"),
    ("iran.war_risk_weight=normal:0:2", "uniform, loguniform"),
    ("iran.war_risk_weight=uniform:0:20", "bounds [0, 10]"),
    ("iran.war_risk_weight=uniform:2:1", "LO < HI"),
    ("iran.war_risk_weight=loguniform:0:2", "LO > 0"),
    ("iran.war_risk_weight=uniform:a:2", "numbers"),
    ("iran.risk_weight=uniform:0:2", "fitted already"),
    ("militias.mission_end_calm=uniform:0:1", "fitted already"),     # an input's effect
    ("iran.retaliation_lag_days=uniform:1:5", "not a continuous parameter"),
    ("us.respond_probability=uniform:0.1:0.5", "not a continuous parameter"),  # not ladder's
])
def test_a_bad_fit_spec_is_one_line_naming_the_problem(spec, words):
    with pytest.raises(InputError) as e:
        parse_fit(spec, ("ladder",))
    assert words in str(e.value) and "\n" not in str(e.value)


def test_calibrate_fits_an_extra_parameter_and_validation_draws_it(tmp_path, capsys):
    out = tmp_path / "cal"
    code = cli(["calibrate", "--fit", "iran.war_risk_weight=uniform:0:2", "--until",
                "2020-06-30", "--budget", "300", "--population", "30", "--seed", "3",
                "--out", str(out)])
    assert code == 0
    post = pd.read_parquet(out / "posterior.parquet")
    last = post[post["generation"] == post["generation"].max()]["iran.war_risk_weight"]
    assert last.between(0, 2).all() and last.nunique() > 1
    assert "war_risk_weight = " in (out / "calibrated.toml").read_text()
    assert "--fit iran.war_risk_weight=uniform:0:2" in (out / "manifest.json").read_text()
    from calibration.posterior import draw_overrides
    drawn = draw_overrides(out, 50, seed=1)
    assert np.all((drawn["iran.war_risk_weight"] >= 0) & (drawn["iran.war_risk_weight"] <= 2))


@pytest.mark.parametrize("argv", [
    ["--fit", "iran.war_risk_weight=uniform:0:2", "--fit", "iran.war_risk_weight=uniform:0:1"],
    ["--fit", "iran.war_risk_weight=uniform:0:2", "--compare-rules", "ladder,threshold"],
    ["--fit", "iran.nothing=uniform:0:1"],
])
def test_calibrate_refuses_a_bad_fit_with_exit_2_and_writes_nothing(argv, tmp_path, capsys):
    out = tmp_path / "cal"
    assert cli(["calibrate", *argv, "--budget", "300", "--population", "30",
                "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--fit" in err[0]
    assert not out.exists()
