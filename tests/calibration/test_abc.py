"""ABC-SMC: known answers on toy models, reproducibility, priors, the posterior on disk, and
the ``escalation calibrate`` command's input errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from calibration.smc import Model, Parameter, abc_smc, weighted_quantile
from sim.cli import main as cli


class PoissonToy:
    """20 Poisson(rate) counts (model 0) or negative binomial counts with the same mean and
    variance mean * (1 + mean) (model 1); summaries: mean and variance. Randomness keyed by
    the replicate index, as the engine's is."""

    def __call__(self, model, theta, replicates):
        out = np.empty((len(replicates), 2))
        for i, (th, r) in enumerate(zip(theta, replicates)):
            g = np.random.default_rng([11, int(r)])
            x = g.poisson(th[0], 20) if model == 0 else g.negative_binomial(
                1.0, 1.0 / (1.0 + th[0]), 20)
            out[i] = x.mean(), x.var()
        return out


OBS = np.random.default_rng(1).poisson(5.0, 20)
RATE = Model("poisson", (Parameter("rate", "uniform", (0.0, 20.0)),))


def fit_rate(**kw):
    return abc_smc([RATE], PoissonToy(), np.array([OBS.mean(), OBS.var()]),
                   transform=lambda x: x[:, :1], scale_floor=0.01, **kw)


def test_abc_recovers_a_known_rate():
    """The exact posterior of a Poisson rate under a flat prior is Gamma(sum x + 1, n)."""
    res = fit_rate(population=300, budget=12000, seed=3)
    p = res.final
    mean = np.sum(p.weight * p.theta[:, 0])
    exact_mean = (OBS.sum() + 1) / len(OBS)
    exact_sd = np.sqrt(OBS.sum() + 1) / len(OBS)
    assert mean == pytest.approx(exact_mean, abs=0.5 * exact_sd)
    lo, hi = weighted_quantile(p.theta[:, 0], p.weight, [0.05, 0.95])
    assert lo < 5.0 < hi
    assert hi - lo < 2.0 * (2 * 1.645 * exact_sd)     # close to the exact width
    assert res.simulations <= 12000
    assert [g.epsilon for g in res.populations][1:] == sorted(
        [g.epsilon for g in res.populations][1:], reverse=True)


def test_abc_is_reproducible_and_independent_of_the_mapper():
    from calibration.simulator import make_mapper
    a = fit_rate(population=100, budget=1500, seed=7, chunk=60)
    b = fit_rate(population=100, budget=1500, seed=7, chunk=60)
    with make_mapper(workers=2) as mapper:
        c = fit_rate(population=100, budget=1500, seed=7, chunk=60, mapper=mapper)
    for x in (b, c):
        assert len(x.populations) == len(a.populations)
        assert np.array_equal(x.final.theta, a.final.theta)
        assert np.array_equal(x.final.weight, a.final.weight)
    d = fit_rate(population=100, budget=1500, seed=8, chunk=60)
    assert not np.array_equal(d.final.theta, a.final.theta)


def test_abc_on_a_dask_scheduler_gives_the_same_result():
    distributed = pytest.importorskip("distributed")
    from calibration.simulator import make_mapper
    a = fit_rate(population=60, budget=600, seed=9, chunk=60)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        with make_mapper(scheduler=cluster.scheduler_address) as mapper:
            b = fit_rate(population=60, budget=600, seed=9, chunk=60, mapper=mapper)
    assert np.array_equal(a.final.theta, b.final.theta)


def test_abc_model_choice_prefers_the_true_model():
    """Poisson data: mean and variance about equal, which the negative binomial (variance
    mean * (1 + mean)) cannot produce."""
    models = [Model("poisson", (Parameter("rate", "loguniform", (0.5, 50.0)),)),
              Model("negbin", (Parameter("rate", "loguniform", (0.5, 50.0)),))]
    res = abc_smc(models, PoissonToy(), np.array([OBS.mean(), OBS.var()]), population=300,
                  budget=15000, seed=2, scale_floor=0.01)
    probs = res.final.model_probabilities(2)
    assert probs[0] > 0.9
    assert probs.sum() == pytest.approx(1.0)


def test_weighted_quantile_and_log_scale_prior():
    x = np.array([1.0, 2.0, 3.0, 4.0])
    assert weighted_quantile(x, np.ones(4), 0.5) == pytest.approx(2.5)
    assert weighted_quantile(x, np.array([0, 0, 0, 1.0]), 0.5) == pytest.approx(4.0)
    p = Parameter("s", "loguniform", (0.1, 10.0))
    z = np.linspace(np.log(0.1) + 1e-9, np.log(10) - 1e-9, 5)
    # uniform on the log scale: density 1 / log(100) everywhere inside, -inf outside
    assert np.allclose(np.exp(p.logpdf_z(z)), 1 / np.log(100.0))
    assert p.logpdf_z(np.array([np.log(20.0)]))[0] == -np.inf


def test_priors_lie_inside_the_declared_bounds():
    from calibration.priors import (INPUT_EFFECTS, OBSERVATION, RULE_PARAMETERS, SHARED,
                                    model_for)
    from sim.params import ModelParams, describe
    from sim.rules import REGISTRY
    declared = {r["path"]: (r["lo"], r["hi"]) for r in describe(ModelParams())}
    for rule, extra in RULE_PARAMETERS.items():
        assert rule in REGISTRY
        assert (set(SHARED + extra + INPUT_EFFECTS + OBSERVATION)
                <= set(model_for(rule).parameters))
        for p in model_for(rule).parameters:
            lo, hi = p.prior.support()
            if p.name.startswith("us.") and p.name[3:] in REGISTRY[rule].parameters:
                _, dlo, dhi, _ = REGISTRY[rule].parameters[p.name[3:]]
            else:
                dlo, dhi = declared[p.name]
            assert dlo <= lo and hi <= dhi, p.name


# --- The posterior on disk ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tiny_posterior(tmp_path_factory):
    """A real calibration of the first nine months (small budget): a posterior folder."""
    from calibration.fit import calibrate
    from sim.scenario import load_scenario
    scenario = load_scenario("scenarios/history.toml")
    post = calibrate(scenario, until="2020-06-30", population=60, budget=300, seed=5,
                     chunk=150)
    folder = tmp_path_factory.mktemp("posterior")
    post.write(folder)
    return post, folder, scenario


def test_posterior_round_trip_and_draws(tiny_posterior):
    from calibration import posterior as pm
    post, folder, _ = tiny_posterior
    back = pm.read(folder)
    assert back.names == post.names and back.until == pd.Timestamp("2020-06-30")
    final = back.final
    assert final["weight"].sum() == pytest.approx(1.0)
    a = pm.draw_overrides(folder, 50, seed=3)
    b = pm.draw_overrides(folder, 50, seed=3)
    assert set(a) >= {"militias.fear_weight", "us.level", "weapons.drone.lethal_probability"}
    for k in a:
        assert len(a[k]) == 50 and np.array_equal(a[k], b[k])
    # every draw is a particle of the final population
    assert set(a["militias.fear_weight"]) <= set(final["militias.fear_weight"])
    ratio = a["weapons.drone.lethal_probability"] / a["weapons.rocket.lethal_probability"]
    assert np.allclose(ratio, 0.008 / 0.012)


def test_run_with_posterior_draws(tiny_posterior):
    from sim.run import run
    _, folder, scenario = tiny_posterior
    from sim.scenario import load_scenario
    short = load_scenario("scenarios/history.toml", ["end=2020-03-31"])
    from calibration.posterior import Draws
    result = run(short, replicates=4, posterior=Draws(folder), seed=2)
    assert result.posterior == str(folder) and len(result.summary) == 4


def test_calibrated_toml_is_a_parent_scenario(tiny_posterior, tmp_path):
    from calibration.posterior import calibrated_toml
    from sim.scenario import load_scenario
    post, _, _ = tiny_posterior
    (tmp_path / "calibrated.toml").write_text(calibrated_toml(post, header="test"))
    (tmp_path / "child.toml").write_text('name = "child"\nextends = "calibrated.toml"\n'
                                         '[us]\nrule = "ladder"\n')
    child = load_scenario(tmp_path / "child.toml")
    point = post.point()
    assert child.params.militias.fear_weight == pytest.approx(point["militias.fear_weight"],
                                                              rel=1e-3)
    assert child.params.us.rule_params["level"] == pytest.approx(point["us.level"], rel=1e-3)
    other = tmp_path / "other.toml"
    other.write_text('extends = "calibrated.toml"\n[us]\nrule = "red_line"\n')
    assert load_scenario(other).params.us.rule_params == {}   # level belonged to the ladder


# --- The command's input errors -------------------------------------------------------------------

@pytest.mark.parametrize("argv, field", [
    (["--until", "2020-13-45"], "--until"),
    (["--until", "2031-01-01"], "--until"),
    (["--rule", "nonsense"], "--rule"),
    (["--compare-rules", "threshold,nonsense"], "--rule"),
    (["--budget", "10"], "--budget"),
    (["--workers", "0"], "--workers"),
])
def test_calibrate_bad_input_exits_2_with_one_line(argv, field, tmp_path, capsys):
    out = tmp_path / "out"
    code = cli(["calibrate", *argv, "--out", str(out)])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1 and err.startswith("escalation calibrate:")
    assert not out.exists()


def test_calibrate_command_writes_its_files(tmp_path, capsys):
    out = tmp_path / "cal"
    code = cli(["calibrate", "--until", "2020-06-30", "--budget", "240", "--population", "60",
                "--seed", "3", "--out", str(out)])
    assert code == 0
    for name in ("posterior.parquet", "report.md", "calibrated.toml", "manifest.json",
                 "marginals.png", "epsilon.png"):
        assert (out / name).is_file(), name
    text = (out / "calibrated.toml").read_text()
    assert "[militias]" in text and 'rule = "ladder"' in text
    assert "militias.attack_rate_scale" in capsys.readouterr().out
    assert "- final population: effective sample size" in (out / "report.md").read_text()


def test_a_final_population_resting_on_few_particles_is_flagged():
    """The report and the command warn when one particle carries the posterior (as seed 7's
    ABC ended: 32 effective particles of 1,000, one at 17% of the weight); even weights are
    not flagged."""
    from calibration.posterior import Posterior
    from calibration.report import weight_check

    def post(weights):
        frame = pd.DataFrame({"generation": 0, "particle": np.arange(len(weights)),
                              "rule": "ladder", "weight": weights, "distance": 0.0})
        return Posterior(frame, dict(rules=["ladder"]))

    ess, top, warning = weight_check(post(np.full(100, 0.01)))
    assert ess == pytest.approx(100) and top == pytest.approx(0.01) and warning is None
    heavy = np.full(100, 0.2 / 99)
    heavy[0] = 0.8
    ess, top, warning = weight_check(post(heavy))
    assert ess < 10 and top == pytest.approx(0.8)
    assert "effective sample size is 2 of 100" in warning and "80%" in warning
