"""Step 4 of a sweep: run its chunks in this process, a process pool or a Dask cluster.

What lives here: :func:`run_chunk` (one batch-engine call per chunk, the same on every
executor), the executors, and :func:`run_sweep`, which takes a spec to a finished result
folder (design, chunks, resume, manifest). What does not: the files' layout and writing
(``sim.sweep.storage``), the spec and design (``sim.sweep.spec``, ``sim.sweep.design``).

Runs and randomness (common random numbers): run ``(point i, replicate j)`` has
``run_id = i * replicates + j`` and uses the random numbers of ``(seed, j)`` (``sim.rng``), the
same for every design point. Differences between points are therefore differences of the
parameters, not of the dice, which makes response surfaces smooth and Sobol indices of a
parameter that does nothing exactly zero. A run's numbers do not depend on which chunk,
worker or executor ran it; the chunk layout itself is fixed by the spec and the chunk size
(kept in ``spec.json``), so 1 or N workers, local or Dask, uninterrupted or resumed, give the
same ``runs.parquet``.

Executors: ``workers=1`` runs chunks in this process; more use a
``concurrent.futures.ProcessPoolExecutor`` (forkserver; a script that calls :func:`run_sweep`
with several workers needs the usual ``if __name__ == "__main__":`` guard);
``scheduler=ADDRESS`` submits the same :func:`run_chunk` to a Dask cluster. Start one with::

    dask scheduler                          # prints tcp://HOST:8786
    dask worker tcp://HOST:8786 --nworkers 4 --nthreads 1     # on each machine
    escalation sweep SWEEP.toml --scheduler tcp://HOST:8786

Workers need this package installed (same version); they return their chunk's table to the
client, which writes it, so workers need no shared disk. Memory: at most ``2 x workers``
chunks are in flight; a worker holds one chunk; the client holds the design (points, not
runs) and one chunk at a time, and combines chunks with a streaming ``ParquetWriter``.
"""

from __future__ import annotations

import concurrent.futures as cf
import glob
import itertools
import multiprocessing
import os
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from sim.errors import InputError
from sim.sweep.chunks import Chunk, default_chunk_size, plan_chunks
from sim.sweep.design import Design, make_design
from sim.sweep.spec import SweepSpec, load_spec
from sim.sweep.storage import (_check_resume, _chunk_done, _combine, _metric_array,
                               _write_atomic, _write_json, _write_parquet, run_schema)


@dataclass
class ChunkResult:
    index: int
    table: Any          # pyarrow.Table
    seconds: float
    maxrss_mb: float
    worker: str
    cpu_seconds: float = float("nan")


def run_chunk(task: dict[str, Any]) -> ChunkResult:
    """Simulate one chunk with the batch engine and return its rows as a pyarrow Table.

    ``task`` holds everything (no shared state), so this runs the same in this process, in a
    pool worker or on a Dask worker.
    """
    import pyarrow as pa

    from sim.batch import simulate

    t0, c0 = time.perf_counter(), time.process_time()
    lo, hi, reps, p0 = task["run_lo"], task["run_hi"], task["replicates"], task["point_lo"]
    runs = np.arange(lo, hi, dtype=np.int64)
    point, replicate = runs // reps, runs % reps
    overrides = {path: vals[point - p0] for path, vals in task["numeric"].items()}
    from sim.outcomes import SWEEP_METRICS, engine_presence
    presence = [m for m in task["metrics"] if m in SWEEP_METRICS]
    out = simulate(task["params"], task["start"], task["end"], task["seed"], replicate,
                   overrides=overrides, record_events=bool(presence), record_daily=False)
    per_run = engine_presence(out) if presence else None
    n = len(runs)
    cols: dict[str, Any] = {"run_id": runs, "point": point, "replicate": replicate,
                            "seed": np.full(n, task["seed"], np.int64),
                            "scenario": pa.array([task["scenario"]] * n, pa.string())}
    for path in task["columns"]:
        if path in task["numeric"]:
            cols[path] = overrides[path]
        else:
            cols[path] = pa.array([task["categorical"][path]] * n, pa.string())
    cols["git_commit"] = pa.array([task["git_commit"]] * n, pa.string())
    for m in task["metrics"]:
        cols[m] = _metric_array(m, per_run[m].to_numpy() if m in presence else out.summary[m])
    table = pa.Table.from_pydict(cols, schema=task["schema"])
    return ChunkResult(task["index"], table, time.perf_counter() - t0, _maxrss_mb(),
                       f"{os.uname().nodename}:{os.getpid()}", time.process_time() - c0)


def _task(spec: SweepSpec, design: Design, chunk: Chunk, schema, commit: str | None) -> dict:
    g = design.groups[chunk.group]
    r = spec.replicates
    p0, p1 = chunk.run_lo // r, (chunk.run_hi - 1) // r + 1
    return {
        "index": chunk.index, "run_lo": chunk.run_lo, "run_hi": chunk.run_hi,
        "replicates": r, "point_lo": p0, "params": g.params,
        "start": spec.scenario.start, "end": spec.scenario.end, "seed": spec.seed,
        "numeric": {n: np.ascontiguousarray(design.columns[n][p0:p1]) for n in design.names
                    if design.columns[n].dtype != object},
        "categorical": dict(g.values), "columns": list(design.names),
        "metrics": list(spec.metrics), "scenario": spec.scenario.name,
        "git_commit": commit or "", "schema": schema,
    }


def _serial(fn, tasks: Iterator[dict]) -> Iterator[Any]:
    for task in tasks:
        yield fn(task)


#: What the forkserver imports before it forks workers, so that each worker starts with it:
#: the engine (``sim.warm`` loads its compiled code) and what :func:`run_chunk` imports.
PRELOAD = ["sim.sweep", "sim.batch", "sim.outcomes", "pyarrow", "sim.warm"]


def _context():
    # forkserver: workers start from a clean, single-threaded server process (fork from a
    # parent holding threads - tqdm's monitor, a Dask client - can deadlock); spawn elsewhere.
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(PRELOAD)
        return ctx
    return multiprocessing.get_context("spawn")


def start_workers_early(workers: int | None = None, scheduler: str | None = None) -> None:
    """Start the forkserver now, when the sweep will run on a local pool, so that its
    preload (about 1 s of imports and loading the compiled engine) runs on another core
    while this process reads the spec and makes the design, not after. Harmless if it is
    already running or the sweep turns out to need one process (it then idles and exits
    with this process)."""
    if scheduler or (workers or os.cpu_count() or 1) < 2:
        return
    if _context().get_start_method() == "forkserver":
        from multiprocessing import forkserver
        forkserver.ensure_running()


def _all_started(barrier) -> None:
    """A worker's first act: wait until every worker of the pool has started (at most a
    minute), so that a worker that starts first does not take every chunk of a short sweep
    while the others are still starting."""
    try:
        barrier.wait(timeout=60)
    except threading.BrokenBarrierError:
        pass


def _pool(fn, tasks: Iterator[dict], workers: int) -> Iterator[Any]:
    """A process pool with at most 2 x workers chunks in flight, results as they finish;
    its workers start together (:func:`_all_started`)."""
    ctx = _context()
    first = list(itertools.islice(tasks, 2 * workers))
    together = ctx.Barrier(max(1, min(workers, len(first))))
    with cf.ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_all_started,
                                initargs=(together,)) as pool:
        pending: set[cf.Future] = set()
        try:
            for task in first:
                pending.add(pool.submit(fn, task))
            while pending:
                done, pending = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
                for fut in done:
                    result = fut.result()
                    for task in itertools.islice(tasks, 1):
                        pending.add(pool.submit(fn, task))
                    yield result
        finally:
            for fut in pending:
                fut.cancel()


def _connect(address: str):
    """A Dask client for ``address`` (before anything is written: a wrong address is bad
    input, exit 2)."""
    from distributed import Client
    try:
        return Client(address, set_as_default=False, timeout="20s")
    except (OSError, TimeoutError, ValueError) as err:
        raise InputError(None, "--scheduler", f"cannot reach a Dask scheduler at {address!r}: "
                                              f"{err}; start one with `dask scheduler`") from None


def _cluster_threads(client) -> int:
    """The Dask cluster's worker threads (1 when none has joined yet): the chunk plan gives
    each at least one chunk."""
    try:
        return max(1, sum(client.nthreads().values()))
    except Exception:       # a cluster that cannot answer yet: plan for one worker
        return 1


def _dask(fn, tasks: Iterator[dict], client) -> Iterator[Any]:
    """The same chunk function on a Dask cluster, at most 2 x its threads in flight; closes
    ``client`` at the end."""
    from distributed import as_completed

    try:
        if not client.nthreads():
            client.wait_for_workers(1, timeout="60s")
        slots = max(2, 2 * sum(client.nthreads().values()))
        first = [client.submit(fn, t, pure=False) for t in itertools.islice(tasks, slots)]
        queue = as_completed(first, loop=client.loop)
        for fut in queue:
            result = fut.result()
            fut.release()
            for task in itertools.islice(tasks, 1):
                queue.add(client.submit(fn, task, pure=False))
            yield result
    finally:
        client.close()


@dataclass
class SweepResult:
    out: Path
    runs: int
    chunks_run: int
    chunks_reused: int
    manifest: dict[str, Any]

    @property
    def table_path(self) -> Path:
        return self.out / "runs.parquet"


def default_out(spec: SweepSpec) -> Path:
    return Path("results") / "sweeps" / spec.name


def run_sweep(spec: SweepSpec | str | os.PathLike, out: str | os.PathLike | None = None, *,
              workers: int | None = None, scheduler: str | None = None, resume: bool = False,
              chunk_size: int | None = None, progress: bool = True,
              chunk_fn: Callable[[dict], ChunkResult] = run_chunk,
              command: str | None = None) -> SweepResult:
    """Run a sweep into ``out`` (default ``results/sweeps/<name>``); see the module docstring.

    Args:
        workers: local processes (default ``os.cpu_count()``; 1 runs in this process).
        scheduler: a Dask scheduler address; the chunks run on its workers instead.
        resume: finish a sweep in ``out``: run only the chunks whose files are missing.
        chunk_size: runs per chunk (default :func:`default_chunk_size`; on resume, the
            stored one).
        chunk_fn: the function run per chunk (tests inject failures here).

    Raises:
        InputError: bad spec, ``out`` already holding results without ``resume``, or a
            ``resume`` into a folder holding another sweep. Nothing is written then.
    """
    t_start = time.perf_counter()
    start_workers_early(workers, scheduler)
    if not isinstance(spec, SweepSpec):
        spec = load_spec(spec)
    if workers is not None and workers < 1:
        raise InputError(None, "--workers", f"must be at least 1, got {workers}")
    if chunk_size is not None and chunk_size < 1:
        raise InputError(None, "--chunk-size", f"must be at least 1, got {chunk_size}")
    out = Path(out) if out is not None else default_out(spec)
    design = make_design(spec)
    t_design = time.perf_counter()
    total = design.points * spec.replicates
    planned_workers = 1 if scheduler else (workers or os.cpu_count() or 1)
    state = {"spec_hash": spec.hash(), "design_hash": design.hash(),
             "chunk_size": chunk_size or default_chunk_size(total, planned_workers),
             "runs": design.points * spec.replicates, "points": design.points,
             "spec": spec.resolved()}

    has_content = out.exists() and (not out.is_dir() or any(out.iterdir()))
    if has_content and not resume:
        raise InputError(str(out), "--out", "already holds results; add --resume to finish "
                                            "that sweep, or choose another --out")
    if has_content:
        state = _check_resume(out, state, chunk_size)
    client = _connect(scheduler) if scheduler else None
    if client is not None and chunk_size is None and not has_content:
        state["chunk_size"] = default_chunk_size(total, _cluster_threads(client))
    if not has_content:
        (out / "chunks").mkdir(parents=True, exist_ok=True)
        _write_atomic(out / "design.parquet", lambda f: _write_parquet(design.table(), f))
        _write_json(out / "spec.json", state)
    size = int(state["chunk_size"])
    chunks = plan_chunks(design, spec.replicates, size)
    for stale in glob.glob(str(out / "chunks" / ".*.tmp*")):
        os.remove(stale)
    todo = [c for c in chunks if not _chunk_done(out / "chunks" / c.filename, c.runs)]
    done_runs = total - sum(c.runs for c in todo)

    from sim.run import git_commit
    commit = git_commit()
    schema = run_schema(design, spec.metrics)
    tasks = (_task(spec, design, c, schema, commit) for c in todo)
    if scheduler:
        executor, n_workers = "dask", None
        results = _dask(chunk_fn, tasks, client)
    else:
        n_workers = max(1, min(workers or os.cpu_count() or 1, max(len(todo), 1)))
        executor = "serial" if n_workers == 1 else "processes"
        results = _serial(chunk_fn, tasks) if n_workers == 1 else _pool(chunk_fn, tasks,
                                                                          n_workers)
    from tqdm.auto import tqdm
    bar = tqdm(total=total, initial=done_runs, unit="run", desc=spec.name,
               disable=not progress, dynamic_ncols=True, smoothing=0.1)
    sim_seconds, cpu_seconds, peak_rss, workers_seen = 0.0, 0.0, 0.0, set()
    worker_cpu: dict[str, float] = {}
    t_run = time.perf_counter()
    try:
        for res in results:
            chunk = chunks[res.index]
            if res.table.num_rows != chunk.runs:
                raise RuntimeError(f"chunk {res.index} returned {res.table.num_rows} rows, "
                                   f"expected {chunk.runs}")
            _write_atomic(out / "chunks" / chunk.filename,
                          lambda f, t=res.table: _write_parquet(t, f))
            sim_seconds += res.seconds
            cpu_seconds += res.cpu_seconds
            peak_rss = max(peak_rss, res.maxrss_mb)
            worker_cpu[res.worker] = worker_cpu.get(res.worker, 0.0) + res.cpu_seconds
            workers_seen.add(res.worker)
            bar.update(chunk.runs)
    except BaseException:
        bar.close()
        kept = sum(1 for c in chunks if (out / "chunks" / c.filename).is_file())
        print(f"sweep {spec.name}: stopped; {kept} of {len(chunks)} chunks are kept in "
              f"{out}/chunks; `escalation sweep {spec.file} --out {out} --resume` runs the "
              "rest", file=sys.stderr)
        raise
    finally:
        if client is not None:
            client.close()
    bar.close()
    t_combined0 = time.perf_counter()
    _combine(out, chunks, schema)
    t_end = time.perf_counter()

    from sim.params import swept_compliance
    from sim.run import manifest
    wall = t_combined0 - t_run
    ran = sum(c.runs for c in todo)
    info = manifest(
        spec.scenario, command=command, sweep=spec.resolved(), spec_hash=state["spec_hash"],
        spec_file=spec.file,
        design={"kind": design.kind, "points": design.points, "parameters":
                [p.describe() for p in spec.parameters], "problem": design.problem,
                "groups": [{"values": g.values, "points": [g.point_lo, g.point_hi]}
                           for g in design.groups], "hash": state["design_hash"]},
        seed=spec.seed, replicates=spec.replicates, runs=total, metrics=list(spec.metrics),
        common_random_numbers="replicate j of every design point uses the random numbers of "
                              "(seed, j); run_id = point * replicates + replicate",
        chunk_size=size, chunks=len(chunks), chunks_run=len(todo),
        chunks_reused=len(chunks) - len(todo), resumed=bool(has_content),
        executor=executor, workers=n_workers, scheduler=scheduler,
        worker_processes=len(workers_seen), worker_peak_rss_mb=round(peak_rss, 1),
        timings={"design_s": round(t_design - t_start, 3), "run_wall_s": round(wall, 3),
                 "chunk_compute_s": round(sim_seconds, 3),
                 "chunk_cpu_s": round(cpu_seconds, 3),
                 "worker_cpu_s": {w: round(c, 3) for w, c in sorted(worker_cpu.items())},
                 "combine_s": round(t_end - t_combined0, 3),
                 "total_s": round(t_end - t_start, 3),
                 "runs_per_s": round(ran / wall, 1) if wall > 0 and ran else None},
        files=["runs.parquet", "design.parquet", "spec.json", "chunks/"])
    follows = swept_compliance(p.path for p in spec.parameters)
    if follows:     # values no design column holds, derived from one that does
        info["derived"] = {k: f"equals {v} at each design point" for k, v in follows.items()}
    _write_json(out / "manifest.json", info)
    return SweepResult(out, total, len(todo), len(chunks) - len(todo), info)


def _maxrss_mb() -> float:
    try:
        import resource
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    except (ImportError, OSError):
        return float("nan")
