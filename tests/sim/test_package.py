"""The package as a user installs it: the scenario library travels in the wheel.

A researcher who installs the built wheel, outside the repository, runs ``escalation run
history`` by name. The wheel is built from a copy of the sources (so the work tree gets no
``build/``), installed with ``pip install --no-deps --target`` into a temporary folder, and
run from another folder with the project environment's dependencies behind it on the path.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sim.cli import main
from sim.scenario import LIBRARY, library, load_scenario, scenario_path

ROOT = Path(__file__).resolve().parents[2]


def test_scenarios_resolve_by_name_and_by_path():
    by_name = load_scenario("history")
    assert by_name.name == "history" and Path(by_name.path) == LIBRARY / "history.toml"
    assert load_scenario("history.toml").params == by_name.params
    assert load_scenario(ROOT / "scenarios" / "history.toml").params == by_name.params
    assert scenario_path("fear_grievance", "sweep") == LIBRARY / "sweeps" / "fear_grievance.toml"
    assert scenario_path("nowhere/history") == Path("nowhere/history")   # a path stays a path


def test_unknown_name_says_no_such_file(capsys):
    assert main(["run", "histroy", "--replicates", "2"]) == 2
    assert "histroy: no such file" in capsys.readouterr().err


def test_scenarios_lists_names_and_questions(capsys):
    assert main(["scenarios"]) == 0
    out = capsys.readouterr().out
    for name, _file, description in library():
        assert f"  {name}\n" in out and description.split()[0] in out
    assert "  fear_grievance\n" in out and "calibrated" not in out.split("Sweep")[0]


def test_scenarios_copy_writes_an_editable_library(tmp_path, capsys):
    out = tmp_path / "mine"
    assert main(["scenarios", "copy", str(out)]) == 0
    assert (out / "history.toml").is_file() and (out / "calibrated.toml").is_file()
    assert (out / "sweeps" / "fear_grievance.toml").is_file()
    assert load_scenario(out / "no_soleimani_strike.toml").name == "no_soleimani_strike"
    (out / "history.toml").write_text("# edited\n" + (out / "history.toml").read_text())
    capsys.readouterr()
    assert main(["scenarios", "copy", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--force" in err
    assert (out / "history.toml").read_text().startswith("# edited")
    assert main(["scenarios", "copy", str(out), "--force"]) == 0
    assert not (out / "history.toml").read_text().startswith("# edited")
    assert main(["scenarios", "copy"]) == 2


def _sources(dst: Path) -> Path:
    dst.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, dst / name)
    for package in ("sim", "calibration"):
        shutil.copytree(ROOT / package, dst / package,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return dst


def test_wheel_carries_the_library_and_runs_history_by_name(tmp_path):
    """Build the wheel quietly, install it apart from the repository, run history by name."""
    src = _sources(tmp_path / "src")
    wheels = tmp_path / "wheels"
    # --no-build-isolation: build with the setuptools the test extra installed, so the test
    # downloads nothing
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps",
                            "--no-build-isolation", "-w", str(wheels), str(src)],
                           capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, build.stderr[-3000:]
    assert "deprecat" not in (build.stdout + build.stderr).lower(), build.stderr[-3000:]
    wheel = next(wheels.glob("escalation_sim-*.whl"))
    target = tmp_path / "installed"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--target", str(target), str(wheel)], check=True, timeout=300)
    assert (target / "sim" / "scenarios" / "history.toml").is_file()
    assert (target / "sim" / "scenarios" / "sweeps" / "fear_grievance.toml").is_file()

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(target)}
    where = subprocess.run([sys.executable, "-c", "import sim; print(sim.__file__)"],
                           cwd=elsewhere, env=env, capture_output=True, text=True, check=True)
    assert where.stdout.strip().startswith(str(target)), where.stdout
    done = subprocess.run([sys.executable, "-m", "sim.cli", "run", "history", "--replicates",
                           "2", "--no-figure"], cwd=elsewhere, env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    manifest = json.loads((elsewhere / "results" / "history" / "manifest.json").read_text())
    assert manifest["replicates"] == 2 and manifest["scenario"]["name"] == "history"
