"""Benchmark of the engines and of sweeps: ``escalation bench [--quick]`` or
``python bench/bench.py [--quick]``.

Prints, in one run:

1. the per-run cost of the Mesa engine (``EscalationModel(...).run()``, a few runs) and of the
   batch engine on the history window, and their ratio (issue 4 target: >= 100x);
2. the batch engine's cost per run at 1, 100, 1,000 and 10,000 replicates per call;
3. a 10,000-run sweep's wall time with 1 and 2 workers (target: < 15 s on 2 cores), and that
   both give the same table;
4. peak memory of a 20,000- and a 100,000-run sweep (each in a fresh process: its own peak
   RSS and its workers'), the growth per run, and the projection to 1,000,000 runs (target:
   flat in the number of runs).

``--quick`` shrinks everything (a 90-day window, small counts) for a smoke test.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HISTORY = ROOT / "scenarios" / "history.toml"

FULL = dict(mesa_runs=3, batch_sizes=(1, 100, 1000, 10000), sweep_runs=10_000,
            sweep_repeats=2, memory_runs=(20_000, 100_000), end=None)
QUICK = dict(mesa_runs=1, batch_sizes=(1, 10, 100, 400), sweep_runs=2_000,
             sweep_repeats=1, memory_runs=(2_000, 10_000), end="2019-12-29")
PROJECT_TO = 1_000_000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, a 90-day window")
    parser.add_argument("--probe", nargs=3, metavar=("RUNS", "WORKERS", "OUT"),
                        help=argparse.SUPPRESS)   # internal: one sweep in a fresh process
    parser.add_argument("--end", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.probe:
        return _probe(int(args.probe[0]), int(args.probe[1]), args.probe[2], args.end)
    return run(quick=args.quick)


def run(quick: bool = False, out=print) -> int:
    cfg = QUICK if quick else FULL
    from sim.scenario import load_scenario

    scenario = load_scenario(HISTORY, {"end": cfg["end"]} if cfg["end"] else None)
    window = f"{scenario.start.date()} .. {scenario.end.date()}"
    out(f"escalation bench{' --quick' if quick else ''}: scenario {scenario.name} "
        f"({window}, {(scenario.end - scenario.start).days + 1} days); "
        f"{os.cpu_count()} cores, Python {platform.python_version()}; load average "
        f"{_load()} (other work on the machine slows every figure below)")
    out("")

    # 1 and 2: engines
    mesa_s = _mesa_cost(scenario, cfg["mesa_runs"])
    batch = {n: _batch_cost(scenario, n) for n in cfg["batch_sizes"]}
    best_n = min(batch, key=batch.get)
    rows = [("Mesa engine (EscalationModel.run)", f"{cfg['mesa_runs']} runs",
             f"{mesa_s * 1e3:,.1f}", "1x")]
    for n, cost in batch.items():
        rows.append((f"batch engine, {n:,} replicates per call", f"{n:,} runs",
                     f"{cost * 1e3:,.2f}", f"{mesa_s / cost:,.0f}x"))
    out("Per-run cost on the history window")
    out(_table(("engine", "measured", "ms per run", "vs Mesa"), rows))
    out(f"ratio Mesa / batch: {mesa_s / batch[best_n]:,.0f}x at {best_n:,} replicates per call "
        f"(target >= 100x: {'met' if mesa_s / batch[best_n] >= 100 else 'NOT met'})")
    out("")

    # 3: a sweep with 1 and 2 workers
    import pyarrow.parquet as pq
    with tempfile.TemporaryDirectory(prefix="escalation-bench-") as tmp:
        walls, cpus, tables = {}, {}, {}
        for repeat in range(cfg["sweep_repeats"]):      # best of the repeats, per workers
            for workers in (1, 2):
                res = _sweep(cfg["sweep_runs"], workers, Path(tmp) / f"w{workers}-{repeat}",
                             cfg["end"])
                t = res.manifest["timings"]
                if t["run_wall_s"] < walls.get(workers, float("inf")):
                    walls[workers], cpus[workers] = t["run_wall_s"], t["chunk_cpu_s"]
                tables[workers] = pq.read_table(res.table_path).drop(["git_commit"])
        same = tables[1].equals(tables[2])
    n = cfg["sweep_runs"]
    out(f"A {n:,}-run sweep (grid over us.level x replicates, history window, chunks of "
        f"{_chunk(n):,} runs; best of {cfg['sweep_repeats']})")
    header = ("workers", "wall s", "runs per s", "speed-up", "worker CPU s",
              "CPU / (wall x workers)")
    out(_table(header, [(str(w), f"{walls[w]:.1f}", f"{n / walls[w]:,.0f}",
                         f"{walls[1] / walls[w]:.2f}x", f"{cpus[w]:.1f}",
                         f"{cpus[w] / (walls[w] * w):.0%}") for w in (1, 2)]))
    target = "" if quick else (f" (target < 15 s on 2 cores: "
                               f"{'met' if walls[2] < 15 else 'NOT met'})")
    out(f"1 and 2 workers give identical tables: {same}{target}")
    out("")

    # 4: memory, each sweep in a fresh process
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
    out(f"load average at the end: {_load()}")
    out(f"{large // small}x the runs -> {ratio:.2f}x the peak memory "
        f"({'flat' if flat else 'NOT flat'} in the number of runs; runs.parquet grows on "
        "disk, not in memory)")
    out(f"projected peak at {PROJECT_TO:,} runs: {mem[large]['total_mb']:.0f} MB if flat as "
        f"measured; at most {projected:.0f} MB extrapolating the measured growth "
        f"({slope * 1e5:+.1f} MB per 100,000 runs) linearly")
    return 0


def _load() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def _mesa_cost(scenario, runs: int) -> float:
    from sim.model import EscalationModel
    t0 = time.perf_counter()
    for r in range(runs):
        EscalationModel(scenario, seed=scenario.seed, replicate=r).run()
    return (time.perf_counter() - t0) / runs


def _batch_cost(scenario, n: int) -> float:
    from sim.batch import simulate
    t0 = time.perf_counter()
    simulate(scenario.params, scenario.start, scenario.end, scenario.seed, range(n),
             record_events=False, record_daily=False)
    return (time.perf_counter() - t0) / n


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
    import resource
    t0 = time.perf_counter()
    res = _sweep(runs, workers, Path(out), end)
    wall = time.perf_counter() - t0
    parent = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    man = res.manifest
    # Serial runs happen in this process; otherwise add each worker process's peak.
    worker = man["worker_peak_rss_mb"] if man["executor"] != "serial" else 0.0
    print(json.dumps({"runs": runs, "wall_s": wall, "parent_mb": parent, "worker_mb": worker,
                      "total_mb": parent + man["worker_processes"] * worker,
                      "runs_parquet_mb": res.table_path.stat().st_size / 2 ** 20}))
    return 0


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
