"""Parameter recovery: calibrate on a synthetic record made with known parameters, and check
the truth lies inside the posterior.

The fast test (default suite) fits one synthetic record of the first 45 months with a small
budget. The slow mode (``--runslow``) repeats it on the whole window with truths drawn from
the prior, and reports the coverage of the posterior's 50% and 90% central intervals: about
50% and 90% of truths should fall inside them (ABC with a tolerance above zero errs on the
wide side, so coverage above nominal is expected; far below it would mean a biased fit).
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

from calibration.fit import calibrate, synthetic_observation
from calibration.priors import model_for
from calibration.smc import weighted_quantile
from sim.scenario import load_scenario

TRUTH = {
    "militias.attack_rate_scale": 1.5, "iran.escalate_multiplier": 5.0,
    "militias.fear_weight": 1.5, "militias.grievance_weight": 1.0,
    "us.harm_per_killed": 20.0, "weapons.rocket.lethal_probability": 0.02, "us.level": 12.0,
    "observation.p_harmless": 0.5, "observation.attention_max": 0.5,
    # The model revision's parameters (issue 10), at their declared defaults.
    "shock_scale": 2.0, "war_half_life_days": 150.0, "war_onset_days": 10.0,
    "militias.tension_weight": 1.0, "iran.restrain_multiplier": 0.15,
    "iran.risk_weight": 1.0, "iran.risk_per_us_death": 1.0, "iran.risk_per_strike_target": 0.1,
    "iran.risk_half_life_days": 90.0, "militias.contagion_branching": 0.4,
    "militias.contagion_half_life_days": 14.0, "iraq.raid_rate": 0.01,
    "weapons.rocket.wounded_mean": 0.15, "militias.storming_grievance": 1.0,
    # The dated inputs' effects (calibration.priors.INPUT_EFFECTS).
    "militias.mission_end_calm": 0.3,
}


def truth_quantiles(post, truth: dict[str, float]) -> dict[str, float]:
    """Where each true value falls in its marginal posterior (weighted CDF, 0..1)."""
    frame = post.of_rule()
    w = frame["weight"].to_numpy()
    out = {}
    for name, v in truth.items():
        x = frame[name].to_numpy()
        out[name] = float(np.sum(w * (x < v)) + 0.5 * np.sum(w * (x == v)))
    return out


@pytest.fixture(scope="module")
def scenario():
    return load_scenario("scenarios/history.toml")


def test_recovery_fast(scenario):
    until = "2023-06-30"
    obs = synthetic_observation(scenario, "threshold", TRUTH, until=until, seed=21)
    # 24 parameters: with nominal 90% intervals about 2 truths would fall outside by chance
    # (ABC errs on the wide side), so the check allows two misses. 200 particles were too
    # few in 23 dimensions: the importance weights degenerated (ESS 82 -> 1.2 of 200 over
    # seven generations) and the posterior shrank onto one particle, missing 15 truths;
    # 300 keep the ESS above 90.
    post = calibrate(scenario, "threshold", until=until, observed=obs, population=300,
                     budget=16000, seed=21, chunk=500)
    summary = post.summary().set_index("parameter")
    missed = [(name, v, summary.loc[name, "q05"], summary.loc[name, "q95"])
              for name, v in TRUTH.items()
              if not summary.loc[name, "q05"] <= v <= summary.loc[name, "q95"]]
    assert len(missed) <= 2, missed
    # The data inform the lethality of attacks: its posterior is narrower than the prior
    # (width 0.75 of the prior's at this seed and budget with 24 parameters, 0.66 with the
    # 23 before the combat mission's calm; a posterior at the prior is 1).
    # The attack-rate scale was the check before the model revision (0.6); with the direct
    # tension weight and contagion to trade off against, a small budget hardly narrows it,
    # which the calibration report's R2 table and docs say plainly.
    prior = next(p for p in model_for("threshold").parameters
                 if p.name == "weapons.rocket.lethal_probability")
    width = np.log(summary.loc[prior.name, "q95"] / summary.loc[prior.name, "q05"])
    prior_width = np.log(prior.prior.ppf(0.95) / prior.prior.ppf(0.05))
    assert width < 0.8 * prior_width


@pytest.mark.slow
def test_recovery_coverage(scenario):
    """Repeated recovery with truths drawn from the prior; prints the coverage table."""
    repeats = int(os.environ.get("ESCALATION_RECOVERY_REPEATS", "20"))
    budget = int(os.environ.get("ESCALATION_RECOVERY_BUDGET", "8000"))
    workers = int(os.environ.get("ESCALATION_RECOVERY_WORKERS", "2"))
    model = model_for("threshold")
    rng = np.random.default_rng(2024)
    rows = []
    for k in range(repeats):
        truth = {p.name: float(p.sample(rng, 1)[0]) for p in model.parameters}
        obs = synthetic_observation(scenario, "threshold", truth, seed=100 + k, replicate=k)
        post = calibrate(scenario, "threshold", observed=obs, population=300, budget=budget,
                         seed=100 + k, workers=workers)
        for name, u in truth_quantiles(post, truth).items():
            rows.append(dict(repeat=k, parameter=name, truth=truth[name], quantile=u))
    table = pd.DataFrame(rows)
    table["in50"] = (table["quantile"] >= 0.25) & (table["quantile"] <= 0.75)
    table["in90"] = (table["quantile"] >= 0.05) & (table["quantile"] <= 0.95)
    by_param = table.groupby("parameter")[["in50", "in90"]].mean()
    overall = table[["in50", "in90"]].mean()
    report = (f"\nParameter recovery: {repeats} synthetic records, budget {budget}\n"
              f"{by_param.to_string(float_format=lambda v: f'{v:.2f}')}\n"
              f"overall: 50% interval {overall['in50']:.2f}, 90% interval "
              f"{overall['in90']:.2f}\n")
    print(report)
    out = os.environ.get("ESCALATION_RECOVERY_OUT")
    if out:
        table.to_csv(out, index=False)
        with open(out.rsplit(".", 1)[0] + ".txt", "w") as handle:
            handle.write(report)
    assert overall["in90"] >= 0.8
    assert overall["in50"] >= 0.35
