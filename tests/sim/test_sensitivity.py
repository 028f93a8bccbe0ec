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
