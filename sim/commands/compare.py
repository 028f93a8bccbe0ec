"""``escalation compare``: several scenarios side by side, differences with uncertainty.

Every scenario runs with the same seed, so replicate i of each shares its random numbers
(common random numbers): differences are paired per replicate, which narrows their spread.
The statistics and sentences are ``sim.comparison``'s, the figures ``sim.plots.compare``'s;
this module reads the arguments, runs, writes the folder and prints.
"""

from __future__ import annotations

import json
from pathlib import Path

from sim.commands import refuse_to_replace
from sim.errors import InputError


def add_arguments(p) -> None:
    p.add_argument("scenarios", nargs="+", help="scenario TOML files; the first is the reference")
    p.add_argument("--replicates", type=int, default=100,
                   help="paired runs per scenario (default 100)")
    p.add_argument("--seed", type=int, default=None, help="common seed (default: the first "
                                                         "scenario's)")
    p.add_argument("--engine", choices=("batch", "mesa"), default="batch")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override one field of every scenario by dotted path, e.g. "
                        "us.rule=red_line")
    p.add_argument("--metrics", default=None, metavar="M1,M2",
                   help="outcomes to compare, comma-separated (default: all of the summary's)")
    p.add_argument("--out", default="results/compare", metavar="DIR",
                   help="result folder (default results/compare)")
    p.add_argument("--force", action="store_true",
                   help="replace a result folder that already holds results")


def main(args) -> int:
    from calibration import documented
    from sim.comparison import check_metrics, check_windows, comparison_table, plain_words
    from sim.plots.compare import differences_figure, timelines_figure
    from sim.run import atomic_folder, manifest, run
    from sim.scenario import load_scenario

    if len(args.scenarios) < 2:
        raise InputError(None, "scenarios", "give at least two scenario files: the first is "
                                            "the reference the others are compared with")
    metrics = check_metrics([m.strip() for m in args.metrics.split(",") if m.strip()]
                            if args.metrics else None)
    out = Path(args.out)
    refuse_to_replace(out, args.force)
    if args.replicates < 1:
        raise InputError(None, "--replicates", f"must be at least 1, got {args.replicates}")
    record = documented()
    scenarios = [load_scenario(p, args.set or None, record=record) for p in args.scenarios]
    if args.metrics:   # by default, an outcome in fixed dates is left out where not covered
        check_windows(metrics, scenarios)
    seed = scenarios[0].seed if args.seed is None else args.seed
    results = {}
    for sc in scenarios:
        name = sc.name if sc.name not in results else f"{sc.name} ({len(results)})"
        results[name] = run(sc, replicates=args.replicates, engine=args.engine, seed=seed,
                            progress=True)
    summaries = {n: r.summary for n, r in results.items()}
    table = comparison_table(summaries, metrics if args.metrics else None)
    words = plain_words(table)
    with atomic_folder(out) as tmp:
        table.to_csv(tmp / "comparison.csv", index=False)
        for name, res in results.items():
            res.summary.assign(scenario=name).to_csv(tmp / f"summary_{_slug(name)}.csv",
                                                     index=False)
        differences_figure(summaries, table).savefig(tmp / "differences.png", dpi=120)
        timelines_figure(results).savefig(tmp / "timelines.png", dpi=120)
        (tmp / "differences.txt").write_text("\n".join(words) + "\n")
        man = manifest(scenarios[0], engine=args.engine, seed=seed, replicates=args.replicates,
                       scenarios=[{"name": n, "path": r.scenario.path,
                                   "resolved": r.scenario.resolved}
                                  for n, r in results.items()],
                       command="escalation compare " + " ".join(args.scenarios)
                       + f" --replicates {args.replicates} --seed {seed}"
                       + "".join(f" --set {s}" for s in args.set)
                       + (f" --metrics {args.metrics}" if args.metrics else ""))
        (tmp / "manifest.json").write_text(json.dumps(man, indent=2, default=str) + "\n")
    print(f"{args.replicates} paired runs per scenario ({args.engine} engine, seed {seed}); "
          f"reference: {list(results)[0]}")
    print(format_table(table))
    print()
    print("\n".join(words))
    print(f"wrote {out}/ (comparison.csv, differences.txt, differences.png, timelines.png, "
          "summary_*.csv, manifest.json)")
    return 0


def format_table(table) -> str:
    """Outcomes as rows, scenarios as columns, each row labelled with its statistic."""
    names = list(dict.fromkeys(table["scenario"]))
    width = max(12, *(min(len(n), 26) + 2 for n in names))
    head = f"{'outcome':<36} {'statistic':<12}" + "".join(f"{n[:26]:>{width}}" for n in names)
    lines = [head]
    for metric, g in table.groupby("metric", sort=False):
        g = g.set_index("scenario")
        cells = [_cell(g.loc[n]) for n in names]
        lines.append(f"{metric:<36} {g.iloc[0]['statistic']:<12}"
                     + "".join(f"{c:>{width}}" for c in cells))
    return "\n".join(lines)


def _cell(row) -> str:
    import pandas as pd
    if row["statistic"] == "median date":
        return (f"{row['date']} ({row['runs']})" if isinstance(row["date"], str)
                and row["date"] else "never")
    v = row["value"]
    if pd.isna(v):
        return "-"
    if row["statistic"] == "share":
        return f"{int(round(v * row['runs']))} of {row['runs']}"
    return f"{v:.0f}" if float(v).is_integer() or abs(v) >= 100 else f"{v:.1f}"


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in name).strip("_")
