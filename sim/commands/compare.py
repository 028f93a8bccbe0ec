"""``escalation compare``: several scenarios side by side, differences with uncertainty.

Every scenario runs with the same seed, so replicate i of each shares its random numbers
(common random numbers): differences are paired per replicate, which narrows their spread.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

METRICS = ("attacks", "lethal_attacks", "us_killed", "us_wounded", "strike_rounds",
           "leader_strikes", "militia_killed", "iraqi_killed", "highest_rung",
           "days_at_rung5plus", "us_left_iraq", "iran_direct_attack")


def add_arguments(p) -> None:
    p.add_argument("scenarios", nargs="+", help="scenario TOML files; the first is the reference")
    p.add_argument("--replicates", type=int, default=100)
    p.add_argument("--seed", type=int, default=None, help="common seed (default: the first "
                                                         "scenario's)")
    p.add_argument("--engine", choices=("batch", "mesa"), default="batch")
    p.add_argument("--out", default="results/compare", metavar="DIR")


def comparison_table(results: dict, boot: int = 2000, seed: int = 0) -> pd.DataFrame:
    """Per scenario and metric: mean, median, 90% interval; and the mean paired difference
    from the reference with a 90% bootstrap interval."""
    names = list(results)
    ref = results[names[0]].summary
    rng = np.random.default_rng(seed)
    rows = []
    for name in names:
        s = results[name].summary
        for m in METRICS:
            v = s[m].to_numpy(dtype=float)
            d = v - ref[m].to_numpy(dtype=float)
            idx = rng.integers(0, len(d), size=(boot, len(d)))
            means = d[idx].mean(axis=1)
            rows.append(dict(scenario=name, metric=m, mean=v.mean(), median=np.median(v),
                             q05=np.quantile(v, 0.05), q95=np.quantile(v, 0.95),
                             diff_mean=d.mean(), diff_q05=np.quantile(means, 0.05),
                             diff_q95=np.quantile(means, 0.95)))
    return pd.DataFrame(rows)


def main(args) -> int:
    from calibration import documented
    from sim.plots.ensemble import compare_figure
    from sim.run import atomic_folder, manifest, run
    from sim.scenario import load_scenario

    record = documented()
    scenarios = [load_scenario(p, record=record) for p in args.scenarios]
    seed = scenarios[0].seed if args.seed is None else args.seed
    results = {}
    for sc in scenarios:
        name = sc.name if sc.name not in results else f"{sc.name} ({len(results)})"
        results[name] = run(sc, replicates=args.replicates, engine=args.engine, seed=seed,
                            progress=True)
    table = comparison_table(results)
    with atomic_folder(args.out) as tmp:
        table.to_csv(tmp / "comparison.csv", index=False)
        for name, res in results.items():
            res.summary.assign(scenario=name).to_csv(tmp / f"summary_{_slug(name)}.csv",
                                                     index=False)
        compare_figure(results).savefig(tmp / "compare.png", dpi=130)
        man = manifest(scenarios[0], engine=args.engine, seed=seed, replicates=args.replicates,
                       scenarios=[{"name": n, "path": r.scenario.path,
                                   "resolved": r.scenario.resolved}
                                  for n, r in results.items()],
                       command="escalation compare " + " ".join(args.scenarios)
                       + f" --replicates {args.replicates} --seed {seed}")
        (tmp / "manifest.json").write_text(json.dumps(man, indent=2, default=str) + "\n")
    out = Path(args.out)
    show = table[table["metric"].isin(("attacks", "us_killed", "strike_rounds",
                                       "days_at_rung5plus", "us_left_iraq"))]
    with pd.option_context("display.width", 140, "display.max_rows", 200):
        print(show.pivot(index="scenario", columns="metric", values="mean").round(2)
              .reindex(list(results)).to_string())
        print("\nmean difference from", list(results)[0], "(90% bootstrap interval):")
        for _, r in show[show["scenario"] != list(results)[0]].iterrows():
            print(f"  {r.scenario:<28} {r.metric:<18} {r.diff_mean:+8.2f} "
                  f"[{r.diff_q05:+.2f}, {r.diff_q95:+.2f}]")
    print(f"wrote {out}/ (comparison.csv, compare.png, summary_*.csv, manifest.json)")
    return 0


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in name).strip("_")
