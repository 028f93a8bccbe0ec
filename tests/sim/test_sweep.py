"""Sweeps: spec validation, designs, chunking, executors, resume (sim.sweep, escalation sweep).

The sweeps here run a 3-month window so that every test stays quick; what they check (the
same table whatever the workers, executor, chunking or interruptions) does not depend on the
window.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from sim.cli import main as cli
from sim.errors import InputError
from sim.sweep import (default_chunk_size, load_spec, make_design, plan_chunks, run_chunk,
                       run_sweep)

ROOT = Path(__file__).resolve().parents[2]
SWEEPS = ROOT / "scenarios" / "sweeps"

MINI = """\
name = "mini"
start = 2019-10-01
end = 2019-12-31
seed = 3
"""

GRID = """\
name = "grid_test"
scenario = "mini.toml"
seed = 5
replicates = 4
design = "grid"
metrics = ["attacks", "us_killed", "strike_rounds", "us_left_iraq", "highest_rung_day"]
[set]
"us.rule" = "red_line"
[parameters."us.deaths"]
values = [1, 2, 5]
[parameters."us.size"]
values = [1, 3]
"""


def write(tmp: Path, text: str, name: str = "sweep.toml") -> Path:
    (tmp / "mini.toml").write_text(MINI)
    path = tmp / name
    path.write_text(text)
    return path


def spec_text(**over: str) -> str:
    """A small LHS spec; keyword arguments replace or add top-level lines / tables."""
    base = {
        "head": 'scenario = "mini.toml"\nseed = 1\nreplicates = 2\n',
        "design": 'design = "lhs"\nsamples = 8\n',
        "metrics": 'metrics = ["attacks"]\n',
        "extra": "",
        "params": '[parameters."militias.fear_weight"]\nbounds = [0, 2]\n',
    }
    base.update(over)
    return "".join(base.values())


def table(out: Path) -> pd.DataFrame:
    return pd.read_parquet(out / "runs.parquet").sort_values("run_id").reset_index(drop=True)


@pytest.fixture(scope="module")
def grid_ref(tmp_path_factory) -> tuple[Path, pd.DataFrame]:
    """The grid sweep run once in this process (chunks of 5 runs): the reference table."""
    tmp = tmp_path_factory.mktemp("ref")
    spec = write(tmp, GRID)
    run_sweep(spec, tmp / "out", workers=1, chunk_size=5, progress=False)
    return spec, table(tmp / "out")


# --- Spec validation --------------------------------------------------------------------------

BAD = [
    # (spec text, field the error names, words of the message)
    (spec_text(extra="colour = 'blue'\n"), "colour", "unknown key"),
    (spec_text(metrics='metrics = ["attacks", "wins"]\n'), "metrics", "unknown metric 'wins'"),
    (spec_text(params='[parameters."militias.courage"]\nbounds = [0, 1]\n'),
     "parameters.militias.courage", "unknown parameter path"),
    (spec_text(params='[parameters."militias.fear_weight"]\nbounds = [0, 20]\n'),
     "parameters.militias.fear_weight.bounds", "outside the declared bounds [0, 10]"),
    (spec_text(design='design = "random"\n'), "design", "allowed: grid, lhs"),
    (spec_text(design='design = "grid"\n'), "parameters.militias.fear_weight.bounds",
     "grids take values"),
    (spec_text(design='design = "grid"\n',
               params='[parameters."militias.fear_weight"]\ninteger = false\n'),
     "parameters.militias.fear_weight.values", "a grid needs values"),
    (spec_text(params='[parameters."militias.fear_weight"]\nvalues = [1, 2]\n'),
     "parameters.militias.fear_weight.values", "not values"),
    (spec_text(params='[parameters."militias.fear_weight"]\ninteger = false\n'),
     "parameters.militias.fear_weight.bounds", "need bounds = [low, high] or a distribution"),
    (spec_text(design='design = "sobol"\nsamples = 10\n'), "samples", "not a power of two"),
    (spec_text(design='design = "lhs"\n'), "samples", "missing"),
    (spec_text(design='design = "grid"\nsamples = 4\n',
               params='[parameters."militias.fear_weight"]\nvalues = [1]\n'),
     "samples", "only for sampled designs"),
    (spec_text(params='[parameters."us.rule"]\nbounds = [0, 1]\n'), "parameters.us.rule",
     "grids only"),
    (spec_text(params='[parameters."us.deaths"]\nbounds = [1, 3]\n'), "parameters.us.deaths",
     "unknown parameter path"),            # not a parameter of the base rule, threshold
    (spec_text(params='[parameters."militias.fear_weight"]\nbounds = [0, 2]\nstep = 1\n'),
     "parameters.militias.fear_weight.step", "unknown key"),
    (spec_text(params='[parameters."us.lag_days"]\nbounds = [0, 5.5]\n'),
     "parameters.us.lag_days.bounds", "whole numbers"),
    (spec_text(params='[parameters."militias.fear_weight"]\ndistribution = "norm"\nloc = 1\n'),
     "parameters.militias.fear_weight.distribution", "beyond the declared bounds"),
    (spec_text(params='[parameters."militias.fear_weight"]\ndistribution = "gauss"\n'),
     "parameters.militias.fear_weight.distribution", "unknown distribution"),
    (spec_text(head='scenario = "nowhere.toml"\nreplicates = 2\n'), "scenario",
     "no such scenario file"),
    (spec_text(extra='[set]\n"us.rule" = "carpet_bombing"\n'), "set.us.rule", "unknown rule"),
    (spec_text(head='scenario = "mini.toml"\nreplicates = 0\n'), "replicates", "[1, 1000000]"),
    (spec_text(design='design = "saltelli"\nsamples = 8\nsecond_order = true\n'),
     "second_order", "at least two parameters"),
]


@pytest.mark.parametrize("text,field,words", BAD)
def test_bad_specs_name_file_and_field(tmp_path, text, field, words):
    path = write(tmp_path, text)
    with pytest.raises(InputError) as err:
        load_spec(path)
    assert err.value.file == str(path)
    assert err.value.field == field
    assert words in err.value.message


def test_rule_parameter_must_exist_for_every_rule_in_a_categorical_grid(tmp_path):
    path = write(tmp_path, spec_text(
        design='design = "grid"\n',
        params='[parameters."us.rule"]\nvalues = ["red_line", "threshold"]\n'
               '[parameters."us.size"]\nvalues = [1, 2]\n'
               '[parameters."us.deaths"]\nvalues = [1, 2]\n'))
    with pytest.raises(InputError) as err:
        load_spec(path)
    assert err.value.field == "parameters.us.deaths"
    assert "threshold" in err.value.message


def test_cli_bad_spec_exits_2_with_one_line(tmp_path, capsys):
    path = write(tmp_path, spec_text(metrics='metrics = ["wins"]\n'))
    assert cli(["sweep", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert str(path) in err and "metrics" in err and "allowed" in err
    assert not (tmp_path / "out").exists()


def test_example_sweeps_are_valid():
    names = {}
    for path in sorted(SWEEPS.glob("*.toml")):
        spec = load_spec(path)
        design = make_design(spec)
        names[spec.name] = design.points * spec.replicates
        assert spec.description
    assert {"red_line_size", "fear_grievance", "iran_iraq", "smoke"} <= set(names)
    assert names["smoke"] <= 50


# --- Designs -----------------------------------------------------------------------------------

def test_grid_is_the_product_of_values(tmp_path):
    spec = load_spec(write(tmp_path, GRID))
    d = make_design(spec)
    assert d.points == 3 * 2
    pairs = set(zip(d.columns["us.deaths"], d.columns["us.size"]))
    assert pairs == {(a, b) for a in (1.0, 2.0, 5.0) for b in (1.0, 3.0)}


def test_categorical_grid_groups_are_contiguous_and_never_share_a_chunk(tmp_path):
    spec = load_spec(write(tmp_path, spec_text(
        design='design = "grid"\n',
        params='[parameters."us.size"]\nvalues = [1, 2, 3]\n'
               '[parameters."us.rule"]\nvalues = ["tit_for_tat", "threshold"]\n')))
    d = make_design(spec)
    assert d.points == 6 and len(d.groups) == 2
    assert [g.params.us.rule for g in d.groups] == ["tit_for_tat", "threshold"]
    for k, g in enumerate(d.groups):
        assert set(d.columns["us.rule"][g.point_lo:g.point_hi]) == {g.values["us.rule"]}
    chunks = plan_chunks(d, spec.replicates, 4)
    assert sum(c.runs for c in chunks) == 12
    for c in chunks:
        g = d.groups[c.group]
        assert g.point_lo * 2 <= c.run_lo < c.run_hi <= g.point_hi * 2


@pytest.mark.parametrize("design,samples", [("lhs", 50), ("sobol", 64)])
def test_sampled_designs_within_bounds_and_reproducible(tmp_path, design, samples):
    text = spec_text(design=f'design = "{design}"\nsamples = {samples}\n',
                     params='[parameters."militias.fear_weight"]\nbounds = [0.5, 2]\n'
                            '[parameters."us.lag_days"]\nbounds = [1, 9]\n')
    a = make_design(load_spec(write(tmp_path, text)))
    b = make_design(load_spec(write(tmp_path, text)))
    c = make_design(load_spec(write(tmp_path, text.replace("seed = 1", "seed = 2"))))
    assert a.points == samples
    fw, lag = a.columns["militias.fear_weight"], a.columns["us.lag_days"]
    assert fw.min() >= 0.5 and fw.max() <= 2
    assert lag.dtype.kind == "i" and lag.min() >= 1 and lag.max() <= 9
    assert set(lag) == set(range(1, 10))              # every whole value is reachable
    assert np.array_equal(fw, b.columns["militias.fear_weight"])
    assert not np.array_equal(fw, c.columns["militias.fear_weight"])
    if design == "lhs":                                # one point per stratum
        strata = np.floor((fw - 0.5) / 1.5 * samples).astype(int)
        assert sorted(strata) == list(range(samples))


@pytest.mark.parametrize("second,expected", [(True, lambda n, d: n * (2 * d + 2)),
                                             (False, lambda n, d: n * (d + 2))])
def test_saltelli_size(tmp_path, second, expected):
    params = ('[parameters."militias.fear_weight"]\nbounds = [0, 2]\n'
              '[parameters."militias.grievance_weight"]\nbounds = [0, 2]\n'
              '[parameters."iraq.restraint"]\nbounds = [0, 1]\n')
    text = spec_text(design=f'design = "saltelli"\nsamples = 16\n'
                            f'second_order = {str(second).lower()}\n', params=params)
    d = make_design(load_spec(write(tmp_path, text)))
    assert d.points == expected(16, 3)
    assert d.unit.min() >= 0 and d.unit.max() <= 1


def test_morris_size_and_levels(tmp_path):
    text = spec_text(design='design = "morris"\nsamples = 6\nlevels = 4\n',
                     params='[parameters."militias.fear_weight"]\nbounds = [0, 3]\n'
                            '[parameters."iraq.restraint"]\nbounds = [0, 1]\n')
    d = make_design(load_spec(write(tmp_path, text)))
    assert d.points == 6 * 3
    assert set(np.round(d.columns["militias.fear_weight"], 9)) <= {0.0, 1.0, 2.0, 3.0}


def test_distribution_is_truncated_to_bounds(tmp_path):
    text = spec_text(design='design = "lhs"\nsamples = 200\n',
                     params='[parameters."militias.fear_weight"]\ndistribution = "norm"\n'
                            'loc = 1\nscale = 1\nbounds = [0.5, 3]\n')
    x = make_design(load_spec(write(tmp_path, text))).columns["militias.fear_weight"]
    assert x.min() >= 0.5 and x.max() <= 3
    assert abs(np.median(x) - 1.25) < 0.15           # truncated normal's median, not uniform's


def test_default_chunk_size():
    assert default_chunk_size(100) == 100                # one worker: one call
    assert default_chunk_size(10_000) == 2500
    assert default_chunk_size(1_000_000) == 2500
    assert default_chunk_size(3_000) == 750
    assert default_chunk_size(10_000, workers=8) == 1250  # a chunk for each of 8 workers
    for runs, workers in [(10_240, 2), (5_000, 3), (1_500, 2), (100_000, 4)]:
        n = math.ceil(runs / default_chunk_size(runs, workers))
        assert n % workers == 0                          # the workers finish together


def test_500_runs_on_2_workers_use_both():
    """Issue 13: a 500-run sweep with --workers 2 ran as one chunk, on one worker."""
    size = default_chunk_size(500, workers=2)
    assert size >= 50                                   # still a worthwhile batch call
    assert math.ceil(500 / size) >= 2
    for workers in (2, 3, 4):
        assert math.ceil(500 / default_chunk_size(500, workers)) >= workers


def test_two_workers_each_run_a_chunk_by_default(grid_ref, tmp_path):
    spec = load_spec(grid_ref[0])
    spec = dataclasses.replace(spec, replicates=math.ceil(120 / make_design(spec).points))
    res = run_sweep(spec, tmp_path / "two", workers=2, progress=False)
    assert res.manifest["chunks"] >= 2 and res.manifest["worker_processes"] == 2
    run_sweep(spec, tmp_path / "one", workers=1, chunk_size=7, progress=False)
    pd.testing.assert_frame_equal(table(tmp_path / "two"), table(tmp_path / "one"))


def test_replicates_flag_overrides_the_spec(tmp_path):
    spec = write(tmp_path, spec_text())
    out = tmp_path / "out"
    assert cli(["sweep", str(spec), "--replicates", "3", "--workers", "1", "--quiet",
                "--out", str(out)]) == 0
    man = json.loads((out / "manifest.json").read_text())
    assert man["replicates"] == 3 and man["sweep"]["replicates"] == 3
    assert "--replicates 3" in man["command"]
    assert pq.read_table(out / "runs.parquet").num_rows == man["design"]["points"] * 3


@pytest.mark.parametrize("value", ["0", "-2", "2000000"])
def test_replicates_flag_rejects_bad_values(tmp_path, capsys, value):
    spec = write(tmp_path, spec_text())
    assert cli(["sweep", str(spec), "--replicates", value, "--out",
                str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "--replicates" in err and "[1, 1000000]" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


# --- Running: one table whatever the execution ---------------------------------------------------

def test_table_layout_and_common_random_numbers(grid_ref):
    _spec, t = grid_ref
    assert list(t.columns[:8]) == ["run_id", "point", "replicate", "seed", "scenario",
                                   "us.deaths", "us.size", "git_commit"]
    assert list(t.columns[8:]) == ["attacks", "us_killed", "strike_rounds", "us_left_iraq",
                                   "highest_rung_day"]
    assert len(t) == 24 and list(t.run_id) == list(range(24))
    assert (t.run_id == t.point * 4 + t.replicate).all()
    assert (t.seed == 5).all() and (t.scenario == "mini").all()


def test_common_random_numbers(tmp_path):
    """Replicate j uses the random numbers of (seed, j) at every design point: a parameter
    that cannot act (Iran's retaliation lag when no Iranian commander can be killed) gives
    exactly the same runs at every point, while replicates differ."""
    text = spec_text(design='design = "grid"\n',
                     extra='[set]\n"us.iranian_commander_probability" = 0.0\n',
                     params='[parameters."iran.retaliation_lag_days"]\nvalues = [0, 7, 30]\n',
                     metrics='metrics = ["attacks", "us_wounded", "strike_rounds"]\n')
    out = tmp_path / "out"
    run_sweep(load_spec(write(tmp_path, text)), out, workers=1, progress=False)
    t = table(out)
    for m in ("attacks", "us_wounded", "strike_rounds"):
        by_rep = t.pivot(index="replicate", columns="point", values=m)
        assert (by_rep.nunique(axis=1) == 1).all()
    assert t[t.point == 0].attacks.nunique() > 1


def test_one_and_two_workers_identical(grid_ref, tmp_path):
    spec, ref = grid_ref
    res = run_sweep(spec, tmp_path / "two", workers=2, chunk_size=5, progress=False)
    assert res.manifest["executor"] == "processes" and res.manifest["workers"] == 2
    pd.testing.assert_frame_equal(table(tmp_path / "two"), ref)


def test_chunk_size_does_not_change_results(grid_ref, tmp_path):
    spec, ref = grid_ref
    run_sweep(spec, tmp_path / "one_chunk", workers=1, chunk_size=1000, progress=False)
    pd.testing.assert_frame_equal(table(tmp_path / "one_chunk"), ref)


def test_local_and_dask_identical(grid_ref, tmp_path):
    distributed = pytest.importorskip("distributed")
    spec, ref = grid_ref
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        res = run_sweep(spec, tmp_path / "dask", scheduler=cluster.scheduler_address,
                        chunk_size=5, progress=False)
    assert res.manifest["executor"] == "dask"
    pd.testing.assert_frame_equal(table(tmp_path / "dask"), ref)


def test_outputs_and_manifest(grid_ref, tmp_path):
    spec, _ref = grid_ref
    out = tmp_path / "out"
    res = run_sweep(spec, out, workers=1, chunk_size=5, progress=False)
    assert sorted(p.name for p in out.iterdir()) == ["chunks", "design.parquet",
                                                     "manifest.json", "runs.parquet",
                                                     "spec.json"]
    assert sorted(p.name for p in (out / "chunks").iterdir()) == [
        f"chunk-{i:05d}.parquet" for i in range(5)]
    man = json.loads((out / "manifest.json").read_text())
    assert man["runs"] == 24 and man["chunk_size"] == 5 and man["chunks"] == 5
    assert man["design"]["kind"] == "grid" and man["design"]["points"] == 6
    assert man["sweep"]["set"] == {"us.rule": "red_line"}
    assert man["scenario"]["resolved"]["us"]["rule"] == "red_line"
    assert {"run_wall_s", "total_s", "runs_per_s"} <= set(man["timings"])
    assert man["executor"] == "serial" and "git_commit" in man
    assert res.runs == 24
    # A day metric that never happened is null, not -1.
    t = pd.read_parquet(out / "runs.parquet")
    assert t.highest_rung_day.isna().any() or (t.highest_rung_day >= 0).all()


def test_manifest_says_which_compliance_follows_a_swept_alignment(tmp_path):
    """A sweep over Nujaba's alignment moves its compliance at every design point
    (sim.params.swept_compliance); no design column holds it, so the manifest says so. A
    swept Kataib Hezbollah keeps the record's compliance and is not listed."""
    spec = load_spec(write(tmp_path, """\
name = "align"
scenario = "mini.toml"
seed = 5
replicates = 2
design = "grid"
metrics = ["attacks"]
[parameters."militias.harakat_al_nujaba.alignment"]
values = [0.2, 0.8]
[parameters."militias.kataib_hezbollah.alignment"]
values = [0.5]
"""))
    run_sweep(spec, tmp_path / "out", workers=1, progress=False)
    man = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert man["derived"] == {"militias.harakat_al_nujaba.compliance":
                              "equals militias.harakat_al_nujaba.alignment at each design point"}


def test_existing_out_without_resume_exits_2_and_changes_nothing(grid_ref, tmp_path, capsys):
    spec, _ref = grid_ref
    out = tmp_path / "out"
    run_sweep(spec, out, workers=1, chunk_size=5, progress=False)
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert cli(["sweep", str(spec), "--out", str(out), "--workers", "1"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--resume" in err and "--out" in err
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


def test_resume_with_another_spec_is_refused(grid_ref, tmp_path, capsys):
    spec, _ref = grid_ref
    out = tmp_path / "out"
    run_sweep(spec, out, workers=1, chunk_size=5, progress=False)
    other = write(tmp_path, GRID.replace("replicates = 4", "replicates = 5"), "other.toml")
    assert cli(["sweep", str(other), "--out", str(out), "--resume", "--quiet"]) == 2
    assert "different sweep" in capsys.readouterr().err
    with pytest.raises(InputError, match="chunk-size"):
        run_sweep(spec, out, resume=True, chunk_size=7, progress=False)


def _dies_after_two(task):
    """A chunk function that crashes on the third chunk, as a killed run would stop."""
    if task["index"] >= 2:
        raise RuntimeError("simulated crash")
    return run_chunk(task)


def test_resume_after_a_crash_is_identical(grid_ref, tmp_path):
    spec, ref = grid_ref
    out = tmp_path / "out"
    with pytest.raises(RuntimeError, match="simulated crash"):
        run_sweep(spec, out, workers=1, chunk_size=5, progress=False, chunk_fn=_dies_after_two)
    assert sorted(p.name for p in (out / "chunks").iterdir()) == ["chunk-00000.parquet",
                                                                  "chunk-00001.parquet"]
    assert not (out / "runs.parquet").exists()
    res = run_sweep(spec, out, workers=2, resume=True, progress=False)
    assert (res.chunks_run, res.chunks_reused) == (3, 2)
    assert res.manifest["resumed"] is True
    pd.testing.assert_frame_equal(table(out), ref)


def test_resume_after_deleting_chunks_is_identical(grid_ref, tmp_path):
    spec, ref = grid_ref
    out = tmp_path / "out"
    run_sweep(spec, out, workers=1, chunk_size=5, progress=False)
    first = (out / "runs.parquet").read_bytes()
    for i in (1, 3):
        (out / "chunks" / f"chunk-{i:05d}.parquet").unlink()
    (out / "runs.parquet").unlink()
    (out / "chunks" / ".chunk-00004.parquet.tmp999").write_bytes(b"half")   # a crash's debris
    res = run_sweep(spec, out, workers=1, resume=True, progress=False)
    assert (res.chunks_run, res.chunks_reused) == (2, 3)
    assert not list((out / "chunks").glob(".*"))
    pd.testing.assert_frame_equal(table(out), ref)
    assert (out / "runs.parquet").read_bytes() == first


def test_resume_after_kill_is_identical(tmp_path):
    """Kill a real `escalation sweep` process mid-run (SIGKILL), then --resume it."""
    spec = write(tmp_path, GRID.replace("replicates = 4", "replicates = 40")
                 .replace('end = 2019-12-31', 'end = 2020-06-30'))
    (tmp_path / "mini.toml").write_text(MINI.replace("2019-12-31", "2020-06-30"))
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "sim.cli", "sweep", str(spec), "--out", str(out),
           "--workers", "1", "--chunk-size", "10", "--quiet"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 60
    while time.time() < deadline and proc.poll() is None:
        if len(list((out / "chunks").glob("chunk-*.parquet"))) >= 3:
            break
        time.sleep(0.02)
    assert proc.poll() is None, "the sweep finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done = len(list((out / "chunks").glob("chunk-*.parquet")))
    assert 3 <= done < 24 and not (out / "runs.parquet").exists()
    assert cli(["sweep", str(spec), "--out", str(out), "--resume", "--quiet",
                "--workers", "2"]) == 0
    resumed = table(out)
    fresh = tmp_path / "fresh"
    run_sweep(load_spec(spec), fresh, workers=2, chunk_size=10, progress=False)
    pd.testing.assert_frame_equal(resumed, table(fresh))


def test_combine_streams_row_groups_per_chunk(grid_ref, tmp_path):
    spec, _ref = grid_ref
    run_sweep(spec, tmp_path / "out", workers=1, chunk_size=5, progress=False)
    meta = pq.ParquetFile(tmp_path / "out" / "runs.parquet").metadata
    assert meta.num_row_groups == 5 and meta.num_rows == 24


def test_smoke_sweep_end_to_end(tmp_path, capsys):
    out = tmp_path / "smoke"
    assert cli(["sweep", str(SWEEPS / "smoke.toml"), "--out", str(out), "--quiet"]) == 0
    assert "runs.parquet" in capsys.readouterr().out
    t = table(out)
    assert len(t) == 4 * 3 and set(t["us.deaths"]) == {1.0, 3.0}


def test_bench_quick(capsys):
    from sim.commands.bench import load_bench
    lines = []
    assert load_bench().run(quick=True, out=lines.append) == 0
    text = "\n".join(lines)
    for words in ("Mesa engine", "ratio Mesa / batch", "1 and 2 workers give identical tables: "
                  "True", "peak memory", "projected peak at 1,000,000 runs"):
        assert words in text


def test_categorical_groups_match_sweeps_with_the_rule_fixed(tmp_path):
    """Varying us.rule in a grid gives, for each rule, the runs of a sweep that fixes it."""
    both = spec_text(design='design = "grid"\n', metrics='metrics = ["attacks", '
                     '"strike_rounds"]\n',
                     params='[parameters."us.rule"]\nvalues = ["tit_for_tat", "threshold"]\n'
                            '[parameters."us.size"]\nvalues = [1, 2]\n')
    run_sweep(load_spec(write(tmp_path, both)), tmp_path / "both", workers=2, chunk_size=3,
              progress=False)
    t = table(tmp_path / "both")
    assert list(t["us.rule"]) == ["tit_for_tat"] * 4 + ["threshold"] * 4
    for rule in ("tit_for_tat", "threshold"):
        one = spec_text(design='design = "grid"\n', metrics='metrics = ["attacks", '
                        '"strike_rounds"]\n', extra=f'[set]\n"us.rule" = "{rule}"\n',
                        params='[parameters."us.size"]\nvalues = [1, 2]\n')
        run_sweep(load_spec(write(tmp_path, one, f"{rule}.toml")), tmp_path / rule,
                  workers=1, progress=False)
        fixed = table(tmp_path / rule)
        part = t[t["us.rule"] == rule].reset_index(drop=True)
        for col in ("replicate", "us.size", "attacks", "strike_rounds"):
            assert list(part[col]) == list(fixed[col]), (rule, col)
    assert t[t["us.rule"] == "tit_for_tat"].strike_rounds.sum() > \
        t[t["us.rule"] == "threshold"].strike_rounds.sum()


def test_presence_metrics_in_a_sweep_equal_run_s(tmp_path):
    """Deterrence apart from expulsion in sweeps: attacks per 100 days of U.S. presence, per
    run, equal what run() reports for the same scenario and replicate."""
    from sim import load_scenario, run
    spec_path = write(tmp_path, spec_text(
        design='design = "grid"\n',
        metrics='metrics = ["attacks", "us_left_iraq", "attacks_iraq", '
                '"attacks_per_100_presence_days_iraq", "presence_days_iraq"]\n',
        params='[parameters."militias.fear_weight"]\nvalues = [0.5, 2.0]\n'))
    result = run_sweep(load_spec(spec_path), tmp_path / "out", workers=1, progress=False)
    runs = pd.read_parquet(result.table_path)
    assert runs["attacks_per_100_presence_days_iraq"].dtype == float
    for weight, g in runs.groupby("militias.fear_weight"):
        sc = load_scenario(tmp_path / "mini.toml", {"militias.fear_weight": weight})
        ref = run(sc, replicates=2, seed=1).summary.set_index("replicate")
        for r in g.itertuples():
            assert r.attacks_iraq == ref.loc[r.replicate, "attacks_iraq"]
            assert r.presence_days_iraq == ref.loc[r.replicate, "presence_days_iraq"]
            assert r.attacks_per_100_presence_days_iraq == pytest.approx(
                ref.loc[r.replicate, "attacks_per_100_presence_days_iraq"])


def test_unknown_presence_metric_is_refused(tmp_path):
    spec_path = write(tmp_path, spec_text(metrics='metrics = ["attacks_per_presence"]\n'))
    with pytest.raises(InputError, match="attacks_per_100_presence_days_iraq"):
        load_spec(spec_path)
