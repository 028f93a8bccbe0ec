"""Scenario discovery (sim.discovery, escalation discover): PRIM boxes of a sweep's runs.

Known answers on synthetic runs tables (the outcome is x1 > 0.7: the box is x1 >= ~0.7, and
x2, which does nothing, is left free), and the command line's exit codes and messages.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("ema_workbench")

from sim.cli import main as cli  # noqa: E402
from sim.discovery import Outcome, discover, parse_outcome  # noqa: E402
from sim.errors import InputError  # noqa: E402

PARAMS = ["militias.fear_weight", "iraq.restraint"]
METRICS = ["us_killed", "us_left_iraq"]


def runs_table(n: int = 2000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x1, x2 = rng.random(n), rng.random(n)
    return pd.DataFrame({"point": np.arange(n), "replicate": 0, PARAMS[0]: x1, PARAMS[1]: x2,
                         "us_killed": np.where(x1 > 0.7, 6, 1),
                         "us_left_iraq": (x2 < 0.3).astype(float)})


def sweep_dir(tmp: Path, runs: pd.DataFrame | None = None) -> Path:
    """A finished sweep folder as `escalation sweep` writes it (the files discover reads)."""
    d = tmp / "sweep"
    d.mkdir()
    (runs if runs is not None else runs_table()).to_parquet(d / "runs.parquet")
    (d / "manifest.json").write_text(json.dumps({
        "sweep": {"name": "synthetic"}, "metrics": METRICS,
        "design": {"kind": "lhs", "parameters": [{"path": p} for p in PARAMS]}}))
    return d


def test_parse_outcome():
    assert parse_outcome("us_killed >= 5", METRICS) == Outcome("us_killed", ">=", 5.0)
    assert parse_outcome(" us_left_iraq==1 ", METRICS) == Outcome("us_left_iraq", "==", 1.0)
    assert parse_outcome("us_killed < 2.5e1", METRICS).threshold == 25.0


@pytest.mark.parametrize("expr, words", [
    ("us_killed => 5", "not 'COLUMN OP NUMBER'"),
    ("us_killed >= five", "not 'COLUMN OP NUMBER'"),
    ("", "not 'COLUMN OP NUMBER'"),
    ("wins >= 5", "unknown column 'wins'"),
])
def test_parse_outcome_rejects(expr, words):
    with pytest.raises(InputError, match=words) as err:
        parse_outcome(expr, METRICS)
    assert "columns: us_killed, us_left_iraq" in str(err.value)


def test_known_box_is_recovered():
    found = discover(runs_table(), PARAMS, parse_outcome("us_killed >= 5", METRICS))
    assert set(found.limits) == {PARAMS[0]}              # x2 does nothing: left free
    lo, hi = found.limits[PARAMS[0]]
    assert 0.66 <= lo <= 0.75 and hi == pytest.approx(found.ranges[PARAMS[0]][1])
    box = found.box
    assert box.coverage >= 0.8 and box.density >= 0.95
    assert 0.25 <= box.mass <= 0.35
    assert found.cases == int((runs_table()[PARAMS[0]] > 0.7).sum())
    assert "militias.fear_weight >= 0." in found.words()


def test_upper_limit_and_other_outcome():
    found = discover(runs_table(), PARAMS, parse_outcome("us_left_iraq == 1", METRICS))
    assert set(found.limits) == {PARAMS[1]}
    assert 0.25 <= found.limits[PARAMS[1]][1] <= 0.35
    assert "iraq.restraint <= 0.3" in found.words() or "iraq.restraint <= 0.2" in found.words()


def test_outcome_that_never_happens_has_no_box():
    found = discover(runs_table(), PARAMS, parse_outcome("us_killed > 100", METRICS))
    assert found.cases == 0 and not found.limits
    assert "never happens" in found.words()


def test_cli_writes_tables_figures_and_words(tmp_path, capsys):
    d = sweep_dir(tmp_path)
    assert cli(["discover", str(d), "--outcome", "us_killed >= 5"]) == 0
    out = capsys.readouterr().out
    assert "us_killed >= 5 in" in out and "Chosen box" in out and "coverage" in out
    files = {p.name for p in (d / "discovery").iterdir()}
    assert {"boxes.csv", "chosen_box.csv", "discovery.json", "peeling_trajectory.png",
            "chosen_box.png"} <= files
    boxes = pd.read_csv(d / "discovery" / "boxes.csv")
    assert {"coverage", "density", "mass", f"{PARAMS[0]}:min", f"{PARAMS[0]}:max"} <= set(boxes)
    chosen = pd.read_csv(d / "discovery" / "chosen_box.csv")
    assert chosen.parameter.tolist() == [PARAMS[0]]
    info = json.loads((d / "discovery" / "discovery.json").read_text())
    assert info["outcome"] == "us_killed >= 5" and info["density"] >= 0.95


@pytest.mark.parametrize("expr, words", [
    ("us_killed >>= 5", "not 'COLUMN OP NUMBER'"),
    ("attacks >= 5", "unknown column 'attacks'; columns: us_killed, us_left_iraq"),
])
def test_cli_bad_outcome_exits_2_and_writes_nothing(tmp_path, capsys, expr, words):
    d = sweep_dir(tmp_path)
    assert cli(["discover", str(d), "--outcome", expr]) == 2
    err = capsys.readouterr().err
    assert words in err and "--outcome" in err and len(err.strip().splitlines()) == 1
    assert not (d / "discovery").exists()


def test_cli_not_a_sweep_exits_2(tmp_path, capsys):
    assert cli(["discover", str(tmp_path), "--outcome", "us_killed >= 5"]) == 2
    assert "not a finished sweep" in capsys.readouterr().err
    assert cli(["discover", str(tmp_path / "nope"), "--outcome", "us_killed >= 5"]) == 2
    assert "no such sweep folder" in capsys.readouterr().err


def test_cli_bad_coverage_exits_2(tmp_path, capsys):
    d = sweep_dir(tmp_path)
    assert cli(["discover", str(d), "--outcome", "us_killed >= 5", "--min-coverage", "0"]) == 2
    assert "--min-coverage" in capsys.readouterr().err
