"""``escalation run`` as a user meets it: files, manifest, exit codes (compare: test_cli_compare)."""

import json

import pandas as pd

from sim.cli import main
from sim.events import EVENT_COLUMNS


def test_run_writes_result_folder(small_scenario, tmp_path, capsys):
    out = tmp_path / "res"
    assert main(["run", str(small_scenario), "--replicates", "6", "--out", str(out)]) == 0
    names = {p.name for p in out.iterdir()}
    assert names == {"events.parquet", "daily.parquet", "summary.csv", "manifest.json",
                     "timeline.png"}
    events = pd.read_parquet(out / "events.parquet")
    assert list(events.columns[:len(EVENT_COLUMNS)]) == list(EVENT_COLUMNS)
    assert (events["source"].str.startswith("sim")).all()
    summary = pd.read_csv(out / "summary.csv")
    assert len(summary) == 6 and {"attacks", "us_killed", "strike_rounds", "highest_rung",
                                  "days_at_rung5plus", "us_left_iraq",
                                  "iran_direct_attack"} <= set(summary.columns)
    man = json.loads((out / "manifest.json").read_text())
    assert man["seed"] == 11 and man["replicates"] == 6 and man["engine"] == "batch"
    assert man["scenario"]["resolved"]["us"]["rule"] == "threshold"
    assert "escalation run" in man["command"]
    assert (out / "timeline.png").stat().st_size > 20_000
    assert "attacks" in capsys.readouterr().out


def test_same_seed_writes_identical_tables(small_scenario, tmp_path):
    for name in ("a", "b"):
        assert main(["run", str(small_scenario), "--replicates", "3", "--no-figure",
                     "--out", str(tmp_path / name)]) == 0
    for f in ("events.parquet", "daily.parquet", "summary.csv"):
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes()


def test_set_overrides_rule(small_scenario, tmp_path):
    out = tmp_path / "r"
    assert main(["run", str(small_scenario), "--replicates", "3", "--no-figure",
                 "--set", "us.rule=restraint", "--out", str(out)]) == 0
    assert (pd.read_csv(out / "summary.csv")["strike_rounds"] == 0).all()


def test_manifest_lists_a_compliance_derived_from_a_changed_alignment(small_scenario, tmp_path):
    """--set of Nujaba's alignment moves its compliance too (sim.params.derives_compliance):
    the manifest says so, since no file or --set gave that number; a set compliance is not
    derived and is not listed."""
    out = tmp_path / "r"
    assert main(["run", str(small_scenario), "--replicates", "2", "--no-figure", "--set",
                 "militias.harakat_al_nujaba.alignment=0.3", "--out", str(out)]) == 0
    man = json.loads((out / "manifest.json").read_text())
    assert man["scenario"]["derived"] == {"militias.harakat_al_nujaba.compliance": 0.3}
    assert main(["run", str(small_scenario), "--replicates", "2", "--no-figure", "--set",
                 "militias.harakat_al_nujaba.alignment=0.3", "--set",
                 "militias.harakat_al_nujaba.compliance=0.6", "--out", str(out), "--force"]) == 0
    assert "derived" not in json.loads((out / "manifest.json").read_text())["scenario"]


def test_bad_input_exits_2_with_one_line_and_writes_nothing(write_scenario, tmp_path, capsys):
    bad = write_scenario("""
        name = "bad"
        description = "x"
        start = 2020-01-01
        end = 2020-12-31
        seed = 1
        [iraq]
        condemn_probability = 1.5
    """, "bad.toml")
    out = tmp_path / "never"
    assert main(["run", str(bad), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "bad.toml" in err and "iraq.condemn_probability" in err and "[0, 1]" in err
    assert not out.exists()


def test_unknown_rule_via_set_exits_2(small_scenario, capsys):
    assert main(["run", str(small_scenario), "--set", "us.rule=red-line"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "us.rule" in err and "red_line" in err


def test_run_refuses_to_replace_results_without_force(small_scenario, tmp_path, capsys):
    out = tmp_path / "res"
    assert main(["run", str(small_scenario), "--replicates", "4", "--no-figure",
                 "--out", str(out)]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    capsys.readouterr()
    assert main(["run", str(small_scenario), "--replicates", "2", "--no-figure",
                 "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--force" in err and str(out) in err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert main(["run", str(small_scenario), "--replicates", "2", "--no-figure",
                 "--out", str(out), "--force"]) == 0
    assert len(pd.read_csv(out / "summary.csv")) == 2


def test_run_into_an_empty_folder_needs_no_force(small_scenario, tmp_path):
    out = tmp_path / "empty"
    out.mkdir()
    assert main(["run", str(small_scenario), "--replicates", "2", "--no-figure",
                 "--out", str(out)]) == 0
