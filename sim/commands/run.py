"""``escalation run``: one scenario's ensemble, written to a result folder."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from sim.commands import refuse_to_replace
from sim.errors import InputError

KEY_METRICS = ("attacks", "lethal_attacks", "us_killed", "strike_rounds", "leader_strikes",
               "highest_rung", "days_at_rung5plus", "us_left_iraq", "iran_direct_attack")


def add_arguments(p) -> None:
    p.add_argument("scenario", help="scenario TOML file, or the name of one in the library "
                                    "(e.g. history; `escalation scenarios` lists them)")
    p.add_argument("--replicates", type=int, default=100, help="ensemble size (default 100)")
    p.add_argument("--seed", type=int, default=None, help="seed (default: the scenario's)")
    p.add_argument("--engine", choices=("batch", "mesa"), default="batch",
                   help="batch (vectorised, default) or mesa (one Mesa model per replicate)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override one scenario field by dotted path, e.g. us.rule=red_line")
    p.add_argument("--posterior", default=None, metavar="DIR",
                   help="draw parameters per replicate from a calibration's posterior")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="result folder (default results/<scenario name>)")
    p.add_argument("--daily", choices=("auto", "full", "summary", "none"), default="auto",
                   help="daily.parquet: full (a row per replicate and date), summary (a row per "
                        "date: means over the replicates), none; auto (default): full up to "
                        "100 replicates, else summary")
    p.add_argument("--no-figure", action="store_true", help="skip timeline.png")
    p.add_argument("--force", action="store_true",
                   help="replace a result folder that already holds results")


def summary_table(summary) -> str:
    """Median and 90% interval of the key per-replicate outcomes."""
    lines = [f"{'outcome':<20} {'median':>8} {'5%':>8} {'95%':>8}"]
    for m in KEY_METRICS:
        v = summary[m].to_numpy(dtype=float)
        if summary[m].dtype == bool:
            lines.append(f"{m:<20} {'share':>8} {v.mean():>8.2f}")
            continue
        lo, med, hi = np.quantile(v, [0.05, 0.5, 0.95])
        lines.append(f"{m:<20} {med:>8.0f} {lo:>8.0f} {hi:>8.0f}")
    return "\n".join(lines)


def main(args) -> int:
    from calibration import documented
    from calibration.posterior import Draws
    from sim.run import run, write_result
    from sim.scenario import load_scenario

    if args.posterior and not Path(args.posterior).is_dir():
        raise InputError(args.posterior, "--posterior", "no such calibration folder")
    scenario = load_scenario(args.scenario, args.set or None, record=documented())
    out = Path(args.out or Path("results") / scenario.name)
    refuse_to_replace(out, args.force)
    result = run(scenario, replicates=args.replicates, engine=args.engine, seed=args.seed,
                 progress=True, posterior=Draws(args.posterior) if args.posterior else None,
                 daily=args.daily)
    command = "escalation " + " ".join(sys.argv[1:]) if sys.argv[0].endswith("escalation") \
        else None
    command = command or (f"escalation run {args.scenario} --replicates {args.replicates} "
                          f"--seed {result.seed} --engine {args.engine}"
                          + "".join(f" --set {s}" for s in args.set)
                          + (f" --posterior {args.posterior}" if args.posterior else "")
                          + (f" --daily {args.daily}" if args.daily != "auto" else ""))
    write_result(result, out, command=command, figure=not args.no_figure)
    print(f"{scenario.name}: {args.replicates} replicates, {args.engine} engine, seed "
          f"{result.seed}, {result.timings['simulate_s']:.2f} s")
    print(summary_table(result.summary))
    daily = "" if result.daily_kind == "none" else f" daily.parquet ({result.daily_kind}),"
    print(f"wrote {out}/ (events.parquet,{daily} summary.csv, manifest.json"
          + ("" if args.no_figure else ", timeline.png") + ")")
    return 0
