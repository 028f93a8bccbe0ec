"""``escalation sweep``: run a parameter sweep spec (local processes or a Dask cluster).

The work is in ``sim.sweep``; this module parses flags and prints what was written.
"""

from __future__ import annotations

import dataclasses

from sim.errors import InputError


def add_arguments(p) -> None:
    p.add_argument("spec", metavar="SWEEP.toml",
                   help="sweep spec file, or the name of one in the library (e.g. "
                        "red_line_size; `escalation scenarios` lists them)")
    p.add_argument("--replicates", type=int, default=None, metavar="N",
                   help="replicates per design point, instead of the spec's `replicates` "
                        "(1 to 1000000; recorded in the manifest and the spec hash)")
    p.add_argument("--workers", type=int, default=None, metavar="N",
                   help="local worker processes (default: all cores; 1 runs in this process)")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="run on a Dask cluster (e.g. tcp://host:8786; start one with "
                        "`dask scheduler` and `dask worker ADDRESS`)")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="result folder (default results/sweeps/<name>)")
    p.add_argument("--resume", action="store_true",
                   help="finish the sweep in --out: run only the chunks still missing")
    p.add_argument("--chunk-size", type=int, default=None, metavar="N",
                   help="runs per chunk and batch-engine call (default: up to 2500, in at "
                        "least 4 chunks and at least one per worker)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def main(args) -> int:
    from sim.sweep import start_workers_early

    if args.workers is not None and args.scheduler:
        raise InputError(None, "--workers", "not with --scheduler: the Dask cluster's workers "
                                            "run the chunks")
    if args.replicates is not None and not 1 <= args.replicates <= 1_000_000:
        raise InputError(None, "--replicates", f"must be a whole number in [1, 1000000], got "
                                               f"{args.replicates}")
    # The workers' server loads the engine on another core while the spec is read.
    start_workers_early(args.workers, args.scheduler)
    from calibration import documented
    from sim.scenario import scenario_path
    from sim.sweep import load_spec, run_sweep
    spec = load_spec(scenario_path(args.spec, "sweep"), record=documented())
    if args.replicates is not None:
        spec = dataclasses.replace(spec, replicates=args.replicates)
    command = " ".join(["escalation sweep", args.spec]
                       + [f"{flag} {value}" for flag, value in (
                           ("--replicates", args.replicates), ("--workers", args.workers),
                           ("--scheduler", args.scheduler),
                           ("--out", args.out), ("--chunk-size", args.chunk_size))
                          if value is not None]
                       + (["--resume"] if args.resume else []))
    result = run_sweep(spec, args.out, workers=args.workers, scheduler=args.scheduler,
                       resume=args.resume, chunk_size=args.chunk_size,
                       progress=not args.quiet, command=command)
    man = result.manifest
    t = man["timings"]
    rate = f", {t['runs_per_s']:,.0f} runs/s" if t.get("runs_per_s") else ""
    how = man["executor"] if not man["workers"] or man["workers"] == 1 else \
        f"{man['executor']}, {man['workers']} workers"
    print(f"{spec.name}: {man['design']['points']:,} {spec.design} points x {spec.replicates} "
          f"replicates = {result.runs:,} runs; ran {result.chunks_run} of {man['chunks']} "
          f"chunks ({how}) in {t['run_wall_s']:.1f} s{rate}")
    print(f"wrote {result.out}/runs.parquet and manifest.json; next: escalation analyze "
          f"{result.out}")
    return 0
