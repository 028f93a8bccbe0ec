"""Benchmark of the engines, runs, sweeps and calibration: ``escalation bench [--quick]`` or
``python bench/bench.py [--quick]``.

Prints, in one run:

1. issue 12's table (best of two unless said): the batch engine on the history window with
   1 replicate, and per run at 1,000, 4,000 and 10,000 replicates per call; the Mesa engine
   per run; ``run()`` at 1,000 replicates (its chunks and tables) against one bare engine
   call, in wall and CPU time, without and with reading its events table (built on first
   use); the whole command ``escalation sweep scenarios/sweeps/fear_grievance.toml --workers
   2`` (10,240 runs, median of 3) with the CPU time each worker got; calibration's
   simulations per second (a short ABC-SMC with the default settings). Each row gives wall
   and CPU time, its target, and its ratio to the previous release (``bench/baseline.json``,
   measured on the same machine);
2. a 10,000-run sweep with 1 and 2 workers gives the same table;
3. peak memory of a 20,000- and a 100,000-run sweep (each in a fresh process: its own peak
   RSS and its workers'), the growth per run, and the projection to 1,000,000 runs.

The machine is often shared: wall times move with its load (printed), CPU times much less.
``--quick`` shrinks everything (a 90-day window, small counts) for a smoke test;
``--table`` prints only the table; ``--row KEY`` (repeatable: ``batch_10000``, ``sweep``, ...)
only those rows; ``--json FILE`` also writes its figures (``--json bench/baseline.json`` on a
release records the baseline of the next one).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HISTORY = ROOT / "scenarios" / "history.toml"
SWEEP = ROOT / "scenarios" / "sweeps" / "fear_grievance.toml"
BASELINE = ROOT / "bench" / "baseline.json"

FULL = dict(batch_sizes=(1000, 4000, 10000), mesa_runs=3, run_replicates=1000,
            sweep_repeats=3, calibration_budget=4000, equal_runs=10_000,
            memory_runs=(20_000, 100_000), end=None)
QUICK = dict(batch_sizes=(100, 400), mesa_runs=1, run_replicates=100, sweep_repeats=1,
             calibration_budget=0, equal_runs=2_000, memory_runs=(2_000, 10_000),
             end="2019-12-29")
PROJECT_TO = 1_000_000

#: Issue 12's targets: (row key, what, unit, target, met(value)).
TARGETS = {
    "batch_1": ("<= 40 ms", lambda v: v <= 40),
    "batch_10000": ("<= 0.5 ms", lambda v: v <= 0.5),
    "mesa": ("<= 100 ms", lambda v: v <= 100),
    "run_ratio": ("<= 1.5x", lambda v: v <= 1.5),
    "run_events_ratio": ("(<= 1.5x)", lambda v: v <= 1.5),
    "sweep": ("<= 5 s", lambda v: v <= 5),
    "calibration": (">= 2x baseline", None),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, a 90-day window")
    parser.add_argument("--table", action="store_true", help="only issue 12's table")
    parser.add_argument("--json", default=None, metavar="FILE",
                        help="also write the table's figures to FILE")
    parser.add_argument("--row", action="append", default=None, metavar="KEY",
                        help="only this row of the table (repeatable; e.g. batch_10000, "
                             "sweep, mesa, run, calibration; implies --table)")
    parser.add_argument("--probe", nargs=3, metavar=("RUNS", "WORKERS", "OUT"),
                        help=argparse.SUPPRESS)   # internal: one sweep in a fresh process
    parser.add_argument("--end", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.probe:
        return _probe(int(args.probe[0]), int(args.probe[1]), args.probe[2], args.end)
    return run(quick=args.quick, table_only=args.table or bool(args.row), json_out=args.json,
               rows=args.row)


def run(quick: bool = False, out=print, table_only: bool = False,
        json_out: str | None = None, rows: list[str] | None = None) -> int:
    cfg = QUICK if quick else FULL
    from sim.scenario import load_scenario

    scenario = load_scenario(HISTORY, {"end": cfg["end"]} if cfg["end"] else None)
    window = f"{scenario.start.date()} .. {scenario.end.date()}"
    out(f"escalation bench{' --quick' if quick else ''}: scenario {scenario.name} "
        f"({window}, {(scenario.end - scenario.start).days + 1} days); "
        f"{os.cpu_count()} cores, Python {platform.python_version()}; load average "
        f"{_load()} (other work on the machine slows every wall time below)")
    out("")
    figures = issue_table(scenario, cfg, quick, rows)
    baseline = {} if quick or not BASELINE.is_file() else json.loads(BASELINE.read_text())
    out(_render(figures, baseline.get("rows", {}), quick))
    big = max((k for k in figures if k.startswith("batch_")), key=lambda k: int(k[6:]),
              default=None)
    if big and "mesa" in figures:
        out(f"ratio Mesa / batch: {figures['mesa']['wall'] / figures[big]['wall']:,.0f}x "
            f"(per run, at {int(big.split('_')[1]):,} replicates per call)")
    out(f"load average after the table: {_load()}")
    if json_out:
        Path(json_out).write_text(json.dumps({
            "measured": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "git_commit": _commit(), "cores": os.cpu_count(), "load_average": _load(),
            "quick": quick, "rows": figures}, indent=1) + "\n")
    if table_only:
        return 0
    out("")
    _sweep_workers_equal(cfg, out)
    out("")
    _memory(cfg, out)
    return 0


def _timed(fn, repeats: int = 2) -> tuple[float, float]:
    """Best (wall, CPU) seconds of ``repeats`` calls, by wall time."""
    best = None
    for _ in range(repeats):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        w, c = time.perf_counter() - w0, time.process_time() - c0
        if best is None or w < best[0]:
            best = (w, c)
    return best


def issue_table(scenario, cfg, quick: bool, only: list[str] | None = None) -> dict[str, dict]:
    """Issue 12's rows: {key: {label, wall, cpu, unit, ...}}; ``only``: just these rows (a
    ratio row comes with its row)."""
    from sim.batch import simulate
    from sim.model import EscalationModel

    def want(key: str) -> bool:
        return only is None or key in only

    def batch(n):
        return lambda: simulate(scenario.params, scenario.start, scenario.end, scenario.seed,
                                range(n), record_events=False, record_daily=False)

    batch(1)()    # the first call of a session loads the compiled code from its cache
    rows: dict[str, dict] = {}
    if want("batch_1"):
        w, c = _timed(batch(1))
        rows["batch_1"] = dict(label="batch engine, 1 replicate", wall=w * 1e3, cpu=c * 1e3,
                               unit="ms")
    for n in cfg["batch_sizes"]:
        if not want(f"batch_{n}"):
            continue
        w, c = _timed(batch(n))
        rows[f"batch_{n}"] = dict(label=f"batch engine per run, {n:,} replicates",
                                  wall=w * 1e3 / n, cpu=c * 1e3 / n, unit="ms")
    runs = cfg["mesa_runs"]
    if want("mesa"):
        w, c = _timed(lambda: [EscalationModel(scenario, seed=scenario.seed, replicate=r).run()
                               for r in range(runs)])
        rows["mesa"] = dict(label=f"Mesa engine per run ({runs} runs)", wall=w * 1e3 / runs,
                            cpu=c * 1e3 / runs, unit="ms")
    if any(want(k) for k in ("run", "run_ratio", "run_events", "run_events_ratio")):
        _run_rows(scenario, cfg, rows, batch)
    if want("sweep"):
        rows["sweep"] = _sweep_command(cfg)
    if cfg["calibration_budget"] and want("calibration"):
        rows["calibration"] = _calibration(scenario, cfg["calibration_budget"])
    return rows


def _run_rows(scenario, cfg, rows: dict, batch) -> None:
    """``run()`` against one bare engine call, without and with its events table."""
    from sim.run import run as run_ensemble

    n = cfg["run_replicates"]
    if f"batch_{n}" in rows:
        bare = rows[f"batch_{n}"]
    else:
        w, c = _timed(batch(n))
        bare = {"wall": w * 1e3 / n, "cpu": c * 1e3 / n}
    bare_s = {k: bare[k] * n / 1e3 for k in ("wall", "cpu")}    # one bare call, seconds
    w, c = _timed(lambda: run_ensemble(scenario, replicates=n))
    rows["run"] = dict(label=f"run() at {n:,} replicates (chunks, tables)", wall=w, cpu=c,
                       unit="s")
    rows["run_ratio"] = dict(label="  run() / one bare engine call", wall=w / bare_s["wall"],
                             cpu=c / bare_s["cpu"], unit="x")
    # run() builds its events table on first use of result.events: this row reads it too.
    w, c = _timed(lambda: run_ensemble(scenario, replicates=n).events)
    rows["run_events"] = dict(label="run() and then its events table", wall=w, cpu=c,
                              unit="s")
    rows["run_events_ratio"] = dict(label="  the same / one bare engine call",
                                    wall=w / bare_s["wall"], cpu=c / bare_s["cpu"], unit="x")


def _sweep_command(cfg) -> dict:
    """The whole ``escalation sweep`` command, median of the repeats by wall time."""
    results = []
    with tempfile.TemporaryDirectory(prefix="escalation-bench-") as tmp:
        for i in range(cfg["sweep_repeats"]):
            # what the `escalation` console script runs (pyproject.toml: sim.cli:command)
            cmd = [sys.executable, "-c", "from sim.cli import command; command()",
                   "sweep", str(SWEEP), "--workers", "2", "--quiet",
                   "--out", str(Path(tmp) / f"s{i}")]
            if cfg["end"]:
                cmd += ["--chunk-size", "500"]
            env = {**os.environ, "PYTHONPATH": os.pathsep.join(
                [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
            if cfg["end"]:   # --quick: a short window through a copy of the spec
                spec = Path(tmp) / "quick.toml"
                text = SWEEP.read_text().replace('scenario = "../history.toml"',
                                                 f'scenario = "{HISTORY}"')
                spec.write_text(text + f'\n[set]\nend = "{cfg["end"]}"\n')
                cmd[4] = str(spec)
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
            wall = time.perf_counter() - t0
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            if proc.returncode != 0:
                raise RuntimeError(f"sweep failed:\n{proc.stderr}")
            man = json.loads((Path(tmp) / f"s{i}" / "manifest.json").read_text())
            # The command's own CPU, plus its workers' (forked by a forkserver, they are not
            # our children: their CPU comes from the manifest).
            cpu = ((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
                   + man["timings"]["chunk_cpu_s"])
            results.append((wall, cpu, man))
    results.sort(key=lambda r: r[0])
    wall, cpu, man = results[len(results) // 2]
    per_worker = man["timings"].get("worker_cpu_s") or {}
    return dict(label=f"sweep command, {man['runs']:,} runs, 2 workers (median of "
                      f"{len(results)})", wall=wall, cpu=cpu, unit="s",
                worker_cpu=sorted(per_worker.values()), run_wall=man["timings"]["run_wall_s"])


def _calibration(scenario, budget: int) -> dict:
    """Simulations per second of ABC-SMC with the default settings, ``budget`` simulations."""
    from calibration.fit import calibrate
    w0, c0 = time.perf_counter(), time.process_time()
    post = calibrate(scenario, budget=budget)
    w, c = time.perf_counter() - w0, time.process_time() - c0
    sims = int((getattr(post, "meta", None) or {}).get("simulations") or budget)
    return dict(label=f"calibration, {sims:,} simulations (default settings)", wall=w,
                cpu=c, unit="s", sims_per_s=sims / w, sims_per_cpu_s=sims / c)


def _render(rows: dict, base: dict, quick: bool) -> str:
    def num(v, unit):
        if v is None:
            return ""
        return f"{v:,.2f} {unit}" if v < 100 else f"{v:,.0f} {unit}"

    table = []
    for key, r in rows.items():
        b = base.get(key, {})
        vs = ""
        if b.get("wall"):
            vs = f"{r['wall'] / b['wall']:.2f}"
            if r.get("cpu") is not None and b.get("cpu"):
                vs += f" / {r['cpu'] / b['cpu']:.2f}"
        target, met = TARGETS.get(key, ("", None))
        if key == "calibration" and b.get("sims_per_s"):
            ratio = r["sims_per_s"] / b["sims_per_s"]
            vs = f"{b['sims_per_s'] / r['sims_per_s']:.2f} (x{ratio:.1f} sims/s)"
            met = (lambda v, ratio=ratio: ratio >= 2)
        ok = ""
        if not quick and met is not None and key.endswith("_ratio") and r.get("cpu"):
            # A ratio of wall times on a busy machine says little (a loaded bare call makes
            # it small): judged on the CPU ratio.
            ok = "met in CPU" if met(r["cpu"]) else "NOT met in CPU"
        elif not quick and met is not None:
            ok = ("met" if met(r["wall"]) else
                  "met in CPU" if r.get("cpu") is not None and met(r["cpu"]) else "NOT met")
        extra = ""
        if key == "sweep" and r.get("worker_cpu"):
            extra = "workers' CPU " + " + ".join(f"{c:.1f}" for c in r["worker_cpu"]) + " s"
        if key == "calibration":
            extra = f"{r['sims_per_s']:,.0f} simulations/s"
        table.append((r["label"], num(r["wall"], r["unit"]), num(r.get("cpu"), r["unit"]),
                      target, ok, vs, extra))
    head = ("what", "wall", "CPU", "target", "", "vs baseline (wall / CPU)", "")
    note = ("" if quick or base else "\n(no bench/baseline.json: no ratios)")
    note += ("" if quick else "\n('met in CPU': the CPU time meets the target, the wall time "
             "not: the machine was busy with other work)")
    return _table(head, table) + note


def _commit() -> str | None:
    from sim.run import git_commit
    return git_commit()


def _sweep_workers_equal(cfg, out) -> None:
    """A sweep with 1 and 2 workers gives the same table."""
    import pyarrow.parquet as pq
    n = cfg["equal_runs"]
    with tempfile.TemporaryDirectory(prefix="escalation-bench-") as tmp:
        res = {w: _sweep(n, w, Path(tmp) / f"w{w}", cfg["end"]) for w in (1, 2)}
        tables = {w: pq.read_table(r.table_path).drop(["git_commit"]) for w, r in res.items()}
    walls = {w: r.manifest["timings"]["run_wall_s"] for w, r in res.items()}
    out(f"A {n:,}-run sweep (us.level x replicates) with 1 and 2 workers: "
        f"{walls[1]:.1f} s and {walls[2]:.1f} s")
    out(f"1 and 2 workers give identical tables: {tables[1].equals(tables[2])}")


def _memory(cfg, out) -> None:
    mem = {}
    with tempfile.TemporaryDirectory(prefix="escalation-bench-") as tmp:
        for runs in cfg["memory_runs"]:
            mem[runs] = _probe_subprocess(runs, 2, Path(tmp) / f"m{runs}", cfg["end"])
    small, large = cfg["memory_runs"]
    rows = []
    for runs, m in mem.items():
        rows.append((f"{runs:,}", f"{m['wall_s']:.1f}", f"{m['parent_mb']:.0f}",
                     f"{m['worker_mb']:.0f}", f"{m['total_mb']:.0f}",
                     f"{m['runs_parquet_mb']:.1f}"))
    # Linear in the runs through the two measurements; a fall is measurement noise, not a
    # saving, so the projection never goes below the larger sweep's peak.
    slope = max(0.0, (mem[large]["total_mb"] - mem[small]["total_mb"]) / (large - small))
    projected = mem[large]["total_mb"] + slope * (PROJECT_TO - large)
    parent_slope = max(0.0, (mem[large]["parent_mb"] - mem[small]["parent_mb"]) / (large - small))
    rows.append((f"{PROJECT_TO:,} (linear bound)", "",
                 f"{mem[large]['parent_mb'] + parent_slope * (PROJECT_TO - large):.0f}",
                 f"{mem[large]['worker_mb']:.0f}", f"{projected:.0f}",
                 f"{mem[large]['runs_parquet_mb'] * PROJECT_TO / large:.0f}"))
    out("Peak memory of a sweep (2 workers; each sweep in a fresh process; total = parent + "
        "each worker's peak RSS, an upper bound: forked workers share pages)")
    out(_table(("runs", "wall s", "parent MB", "worker MB", "total MB", "runs.parquet MB"), rows))
    ratio = mem[large]["total_mb"] / mem[small]["total_mb"]
    flat = ratio < 1.1
    out(f"{large // small}x the runs -> {ratio:.2f}x the peak memory "
        f"({'flat' if flat else 'NOT flat'} in the number of runs; runs.parquet grows on "
        "disk, not in memory)")
    out(f"projected peak at {PROJECT_TO:,} runs: {mem[large]['total_mb']:.0f} MB if flat as "
        f"measured; at most {projected:.0f} MB extrapolating the measured growth "
        f"({slope * 1e5:+.1f} MB per 100,000 runs) linearly")


def _load() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def _spec(runs: int, end: str | None):
    """A sweep of ``runs`` runs on the history scenario: 10 threshold levels x replicates."""
    from sim.sweep import spec_from_dict
    data = {"name": f"bench_{runs}", "scenario": HISTORY.name, "design": "grid", "seed": 1,
            "replicates": runs // 10, "metrics": ["attacks", "us_killed", "strike_rounds",
                                                  "us_left_iraq", "highest_rung_day"],
            "parameters": {"us.level": {"values": [8.0 + i for i in range(10)]}}}
    if end:
        data["set"] = {"end": end}
    return spec_from_dict(data, f"<bench {runs} runs>", HISTORY.parent)


def _chunk(runs: int) -> int:
    from sim.sweep import default_chunk_size
    return default_chunk_size(runs)


def _sweep(runs: int, workers: int, out: Path, end: str | None):
    from sim.sweep import run_sweep
    return run_sweep(_spec(runs, end), out, workers=workers, progress=False)


def _probe(runs: int, workers: int, out: str, end: str | None) -> int:
    """Run one sweep here and print its memory as JSON (called in a fresh process)."""
    t0 = time.perf_counter()
    res = _sweep(runs, workers, Path(out), end)
    wall = time.perf_counter() - t0
    parent = _peak_rss_mb()
    man = res.manifest
    # Serial runs happen in this process; otherwise add each worker process's peak.
    worker = man["worker_peak_rss_mb"] if man["executor"] != "serial" else 0.0
    print(json.dumps({"runs": runs, "wall_s": wall, "parent_mb": parent, "worker_mb": worker,
                      "total_mb": parent + man["worker_processes"] * worker,
                      "runs_parquet_mb": res.table_path.stat().st_size / 2 ** 20}))
    return 0


def _peak_rss_mb() -> float:
    """This process's peak RSS. VmHWM where there is /proc: ru_maxrss survives exec on Linux,
    so a probe started from a bench that had run 10,000 replicates would report its peak."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _probe_subprocess(runs: int, workers: int, out: Path, end: str | None) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--probe", str(runs), str(workers),
           str(out)] + (["--end", end] if end else [])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
    if proc.returncode != 0:
        raise RuntimeError(f"memory probe failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = lambda r: "  ".join(str(c).rjust(w) if i else str(c).ljust(w)  # noqa: E731
                               for i, (c, w) in enumerate(zip(r, widths)))
    return "\n".join([line(header), "  ".join("-" * w for w in widths), *map(line, rows)])


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
