"""``escalation lull``: the 2024 lull's what-ifs on common random numbers, and their table.

Runs history and the three what-ifs of ``sim.lull`` (or the scenarios given) on one seed,
prints the paired table (median lull attacks, the median paired difference from history,
the share of the lull each what-if explains, 90% bootstrap intervals) and writes it with the
figure. The statistics are ``sim.lull``'s, the figure ``sim.plots.lull``'s; docs/lull.md
says how to read them.
"""

from __future__ import annotations

import json
from pathlib import Path

from sim.commands import refuse_to_replace
from sim.errors import InputError


def add_arguments(p) -> None:
    p.add_argument("scenarios", nargs="*", metavar="SCENARIO",
                   help="the reference, the what-ifs and last the scenario with neither "
                        "(default: history lull_no_feb_strikes lull_no_stand_down "
                        "lull_neither)")
    p.add_argument("--replicates", type=int, default=1000,
                   help="paired runs per scenario (default 1000)")
    p.add_argument("--seed", type=int, default=None,
                   help="common seed (default: the first scenario's)")
    p.add_argument("--engine", choices=("batch", "mesa"), default="batch")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override one field of every scenario by dotted path")
    p.add_argument("--boot", type=int, default=2000,
                   help="bootstrap resamples of the intervals (default 2000)")
    p.add_argument("--out", default="results/lull", metavar="DIR",
                   help="result folder (default results/lull)")
    p.add_argument("--force", action="store_true",
                   help="replace a result folder that already holds results")


def main(args) -> int:
    from calibration import documented
    from sim import lull
    from sim.plots.lull import lull_figure
    from sim.run import atomic_folder, manifest
    from sim.scenario import load_scenario

    names = args.scenarios or list(lull.SCENARIOS)
    if len(names) < 2:
        raise InputError(None, "SCENARIO", "give the reference and at least one what-if "
                                           "(the last is the one with neither)")
    if args.replicates < 2:
        raise InputError(None, "--replicates", f"must be at least 2, got {args.replicates}")
    if args.boot < 1:
        raise InputError(None, "--boot", f"must be at least 1, got {args.boot}")
    out = Path(args.out)
    refuse_to_replace(out, args.force)
    record = documented()
    scenarios = [load_scenario(n, args.set or None, record=record) for n in names]
    results = lull.run_lull(args.replicates, args.seed, scenarios=scenarios, record=record,
                            engine=args.engine, progress=True)
    table = lull.lull_table(results, boot=args.boot)
    text = lull.format_table(table)
    seen = lull.record_lull(record)
    seed = next(iter(results.values())).seed
    with atomic_folder(out) as tmp:
        table.to_csv(tmp / "lull_table.csv", index=False)
        (tmp / "lull_table.txt").write_text(text + "\n")
        lull_figure(results, record).savefig(tmp / "lull.png", dpi=120)
        man = manifest(scenarios[0], engine=args.engine, seed=seed,
                       replicates=args.replicates, boot=args.boot, record_lull=seen,
                       scenarios=[{"name": n, "path": r.scenario.path,
                                   "resolved": r.scenario.resolved}
                                  for n, r in results.items()],
                       command="escalation lull " + " ".join(args.scenarios)
                       + f" --replicates {args.replicates} --seed {seed} --boot {args.boot}"
                       + "".join(f" --set {s}" for s in args.set))
        (tmp / "manifest.json").write_text(json.dumps(man, indent=2, default=str) + "\n")
    print(f"attacks {lull.FIRST}..{lull.LAST} ({lull.METRIC}): {args.replicates} paired runs "
          f"per scenario ({args.engine} engine, seed {seed}); reference {names[0]}, shares of "
          f"the gap to {list(results)[-1]}; 90% bootstrap intervals")
    print(text)
    print(f"record: {seen['attacks']} documented attacks in the window"
          + (f" ({seen['confirmed']} confirmed)" if "confirmed" in seen else ""))
    print(f"wrote {out}/ (lull_table.csv, lull_table.txt, lull.png, manifest.json)")
    return 0
