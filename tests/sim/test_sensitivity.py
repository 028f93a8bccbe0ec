"""Sensitivity analysis of sweeps (sim.sensitivity, escalation analyze).

Includes SALib known-answer regressions: a parameter that provably does nothing to a metric has
Sobol and Morris indices of (exactly, thanks to common random numbers) zero, while one that
drives it has a large index.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.cli import main as cli
from sim.sensitivity import analyze
from sim.sweep import load_spec, run_sweep

MINI = """\
name = "mini"
start = 2019-10-01
end = 2019-12-31
seed = 3
"""

#: Iran's retaliation lag acts only after an Iranian commander is killed, which cannot happen
#: with us.iranian_commander_probability = 0: it provably does nothing. Kataib Hezbollah's
#: base attack rate drives the number of attacks.
NULL_AND_DRIVER = """\
[set]
"us.iranian_commander_probability" = 0.0
[parameters."iran.retaliation_lag_days"]
{null}
[parameters."militias.kataib_hezbollah.base_attack_rate"]
{driver}
"""


def sweep(tmp: Path, head: str, body: str, name: str = "sweep") -> Path:
    (tmp / "mini.toml").write_text(MINI)
    spec = tmp / f"{name}.toml"
    spec.write_text(f'name = "{name}"\nscenario = "mini.toml"\nseed = 2\n' + head + body)
    out = tmp / name
    run_sweep(load_spec(spec), out, workers=1, progress=False)
    return out


@pytest.fixture(scope="module")
def saltelli_dir(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("saltelli")
    return sweep(tmp, 'design = "saltelli"\nsamples = 32\nreplicates = 3\n'
                      'metrics = ["attacks", "us_wounded", "iran_direct_attack"]\n',
                 NULL_AND_DRIVER.format(null="bounds = [0, 60]", driver="bounds = [0.005, 0.2]"),
                 "saltelli")


def test_sobol_known_answer(saltelli_dir):
    res = analyze(saltelli_dir, figures=False)
    t = res.tables["sobol_indices"].set_index(["metric", "parameter"])
    null = t.loc[("attacks", "iran.retaliation_lag_days")]
    driver = t.loc[("attacks", "militias.kataib_hezbollah.base_attack_rate")]
    assert abs(null.ST) < 1e-9 and abs(null.S1) < 1e-9 and null.ST_conf < 1e-9
    assert driver.ST > 0.8 and driver.S1 > 0.8 and driver.ST - driver.ST_conf > 0.5
    assert "Negligible: `iran.retaliation_lag_days`" in res.report
    # Iran never attacks (no commander is killed): the metric is constant, and said to be.
    assert "iran_direct_attack" not in set(t.reset_index().metric)
    assert "`iran_direct_attack`: the same at every design point" in res.report


def test_sobol_analysis_writes_report_csvs_and_figure(saltelli_dir, capsys):
    assert cli(["analyze", str(saltelli_dir)]) == 0
    printed = capsys.readouterr().out
    out = saltelli_dir / "analysis"
    for name in ("report.md", "sobol_indices.csv", "sobol_s2.csv", "point_means.csv",
                 "sobol_indices.png"):
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    report = (out / "report.md").read_text()
    assert report.strip() in printed
    assert "Sobol indices" in report and "base_attack_rate" in report
    csv = pd.read_csv(out / "sobol_indices.csv")
    assert {"S1", "S1_conf", "ST", "ST_conf"} <= set(csv.columns)
    means = pd.read_csv(out / "point_means.csv")
    assert len(means) == 32 * (2 * 2 + 2)


def test_morris_known_answer(tmp_path):
    out = sweep(tmp_path, 'design = "morris"\nsamples = 10\nreplicates = 2\n'
                          'metrics = ["attacks"]\n',
                NULL_AND_DRIVER.format(null="bounds = [0, 60]",
                                       driver="bounds = [0.005, 0.2]"), "morris")
    res = analyze(out)
    t = res.tables["morris_indices"].set_index("parameter")
    assert t.loc["iran.retaliation_lag_days"].mu_star == 0
    assert t.loc["militias.kataib_hezbollah.base_attack_rate"].mu_star > 5
    assert (out / "analysis" / "morris.png").is_file()


def test_grid_analysis_heatmaps_and_report(tmp_path):
    out = sweep(tmp_path, 'design = "grid"\nreplicates = 4\n'
                          'metrics = ["attacks", "us_left_iraq"]\n',
                NULL_AND_DRIVER.format(null="values = [0, 30]",
                                       driver="values = [0.01, 0.05, 0.2]"), "grid")
    res = analyze(out)
    files = {p.name for p in (out / "analysis").iterdir()}
    assert {"heatmap_attacks.png", "heatmap_us_left_iraq.png", "grid_effects.csv",
            "point_means.csv", "report.md"} <= files
    eff = res.tables["grid_effects"].set_index(["metric", "parameter"])
    assert eff.loc[("attacks", "iran.retaliation_lag_days")].eta2 < 1e-12
    assert eff.loc[("attacks", "militias.kataib_hezbollah.base_attack_rate")].eta2 > 0.99
    assert "Largest effect: `militias.kataib_hezbollah.base_attack_rate`" in res.report
    assert "0 at every design point" in res.report            # no U.S. exit in 3 months
    # the lag does nothing: a tie, no eta^2, no "lowest ... highest (at ...)"
    row = next(r for r in res.report.splitlines()
               if r.startswith("| `iran.retaliation_lag_days`"))
    assert "same at every value" in row and "n/a (noise)" in row
    assert {"interaction.png", "response_curves.png"} <= files
    means = res.tables["point_means"]
    assert len(means) == 6 and {"attacks:mean", "attacks:q05", "attacks:q95"} <= set(means)


def test_one_parameter_grid_line_plot(tmp_path):
    out = sweep(tmp_path, 'design = "grid"\nreplicates = 3\nmetrics = ["attacks", '
                          '"us_left_iraq"]\n',
                '[parameters."iraq.restraint"]\nvalues = [0.0, 0.5, 1.0]\n', "line")
    res = analyze(out)
    assert [f.name for f in res.figures] == ["lines.png"]


def test_lhs_analysis_rank_correlations(tmp_path):
    out = sweep(tmp_path, 'design = "lhs"\nsamples = 40\nreplicates = 2\n'
                          'metrics = ["attacks"]\n',
                NULL_AND_DRIVER.format(null="bounds = [0, 60]",
                                       driver="bounds = [0.005, 0.2]"), "lhs")
    res = analyze(out)
    t = res.tables["rank_correlations"].set_index("parameter")
    assert t.loc["militias.kataib_hezbollah.base_attack_rate"].spearman_rho > 0.9
    assert abs(t.loc["iran.retaliation_lag_days"].spearman_rho) < 0.4
    assert np.isfinite(t.loc["militias.kataib_hezbollah.base_attack_rate"].S1_rbd_fast)
    assert (out / "analysis" / "scatter_attacks.png").is_file()


def test_analyze_refuses_a_folder_that_is_not_a_sweep(tmp_path, capsys):
    assert cli(["analyze", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "runs.parquet" in err or "manifest.json" in err


# --- Intervals: Wilson for shares, t for means ---------------------------------------------------

def test_wilson_known_values():
    from scipy.stats import binomtest

    from sim.sensitivity.intervals import fmt_share, wilson

    lo, hi = wilson(0, 20)
    assert lo == 0 and hi == pytest.approx(0.1611, abs=1e-4)      # "0 of 20 (0-16%)"
    assert fmt_share(0, 20, lo, hi) == "0 of 20 (0-16%)"
    lo, hi = wilson(20, 20)
    assert hi == 1 and lo == pytest.approx(1 - 0.1611, abs=1e-4)
    for k, n in [(1, 20), (7, 20), (50, 100), (3, 1000)]:
        ref = binomtest(k, n).proportion_ci(method="wilson")
        assert wilson(k, n) == pytest.approx((ref.low, ref.high), abs=1e-12)
    lo, hi = wilson(np.array([0, 5]), np.array([0, 10]))           # vectorised; n = 0: 0-1
    assert (lo[0], hi[0]) == (0, 1) and lo[1] < 0.5 < hi[1]


def test_t_interval_known_values():
    from sim.sensitivity.intervals import fmt_mean, t_interval

    lo, hi = t_interval(10.0, 2.0, 5)                  # t(0.975, 4) = 2.776
    assert (lo, hi) == pytest.approx((10 - 2.776 * 2 / np.sqrt(5), 10 + 2.776 * 2 / np.sqrt(5)),
                                     abs=1e-3)
    assert np.isnan(t_interval(3.0, np.nan, 1)[0])     # one run: no interval
    assert fmt_mean(35.0, 33.1, 36.9) == "35 (33.1 to 36.9)"


def test_point_stats_have_intervals(tmp_path):
    out = sweep(tmp_path, 'design = "grid"\nreplicates = 4\nmetrics = ["attacks", '
                          '"us_left_iraq"]\n',
                '[parameters."iraq.restraint"]\nvalues = [0.0, 1.0]\n', "iv")
    from sim.sensitivity import load_sweep, point_stats
    st = point_stats(load_sweep(out))
    assert (st["us_left_iraq:k"] == 0).all() and (st["us_left_iraq:lo"] == 0).all()
    assert st["us_left_iraq:hi"].round(3).eq(0.49).all()          # 0 of 4: 0-49%
    assert (st["attacks:lo"] <= st["attacks:mean"]).all()
    assert (st["attacks:mean"] <= st["attacks:hi"]).all()


def test_heatmap_noise_test_of_a_share():
    from sim.sensitivity.figures import _diff_holds_zero
    from sim.sensitivity.intervals import wilson

    k = np.array([[0.0, 4.0, 15.0]])
    n = np.full_like(k, 20)
    lo, hi = wilson(k, n)
    noise = _diff_holds_zero("us_left_iraq", k / n, lo, hi, None, n, (0, 0))
    # 4 of 20 against 0 of 20 is noise (Fisher's p = 0.11); 15 of 20 is not
    assert noise.tolist() == [[True, True, False]]
