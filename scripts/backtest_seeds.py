"""The backtest over several calibration seeds: is a variant's score the variant's, or one
draw of the calibration's own randomness?

    .venv/bin/python scripts/backtest_seeds.py --seeds 20191227,7,11 --out results/backtest_seeds
    .venv/bin/python scripts/backtest_seeds.py --seeds 20191227,7,11 \\
        --fit iran.war_risk_weight=uniform:0:2 --against results/backtest_seeds \\
        --out results/backtest_seeds_warrisk

For each seed it runs ``escalation backtest --seed S`` (with ``--fit``, ``--condition``,
``--decisions`` as given) into ``OUT/backtest_s<seed>``, then writes ``seeds.csv`` and
``seeds.md``: per seed and target, the model's mean CRPS over all origins at the longest
horizon (the backtest report's first table) and the best baseline's. With ``--against``
(another folder this script wrote, the same seeds) it adds the paired difference per seed,
variant minus reference, and their mean: the comparison a rule about a variant should make.
Why: one seed's backtest of the model as calibrated moves between 4.02 and 4.33 (monthly
attacks) with the seed alone, as much as the variants it was used to judge. A backtest takes
about 3 minutes on 2 cores at the default sizes; ``--reuse`` keeps seeds already done.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd

#: The scores one seed contributes: all origins together, at the backtest's longest horizon.
ALL_ORIGINS = "all"


def scores_of(folder: Path, seed: int) -> pd.DataFrame:
    """One seed's rows: per target, the model's mean CRPS and the best baseline's."""
    scores = pd.read_csv(folder / "scores.csv")
    scores = scores[(scores["origin"] == ALL_ORIGINS)
                    & (scores["horizon"] == scores["horizon"].max())]
    rows = []
    for target, group in scores.groupby("target", sort=False):
        crps = group.set_index("forecaster")["crps"]
        baselines = crps.drop("model").dropna()
        rows.append({"seed": seed, "target": target, "model": crps["model"],
                     "best_baseline": baselines.idxmin(), "best_crps": baselines.min()})
    return pd.DataFrame(rows)


def paired(table: pd.DataFrame, reference: pd.DataFrame) -> pd.DataFrame:
    """``table`` with the reference's model score beside it (``reference``, the same seed and
    target) and ``difference``, this one minus it."""
    ref = reference[["seed", "target", "model"]].rename(columns={"model": "reference"})
    out = table.merge(ref, on=["seed", "target"], how="inner")
    out["difference"] = out["model"] - out["reference"]
    return out


def with_means(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with a row per target for the seeds' mean (``seed`` = "mean")."""
    scores = [c for c in ("model", "best_crps", "reference", "difference") if c in table]
    means = table.groupby("target", sort=False)[scores].mean().reset_index()
    means["seed"], means["best_baseline"] = "mean", ""
    return pd.concat([table, means[table.columns]], ignore_index=True)


def _bad(message: str) -> int:
    print(f"backtest_seeds: {message}", file=sys.stderr)
    return 2


def main(argv=None) -> int:
    from calibration.report import _table
    from sim.cli import main as cli
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="20191227,7,11", help="comma-separated seeds")
    ap.add_argument("--fit", action="append", default=[], metavar="PATH=DIST:LO:HI",
                    help="passed to escalation backtest --fit")
    ap.add_argument("--condition", action="store_true", help="passed to escalation backtest")
    ap.add_argument("--decisions", action="store_true", help="passed to escalation backtest")
    ap.add_argument("--decision-days", default=None, help="passed to escalation backtest")
    ap.add_argument("--against", metavar="DIR", default=None,
                    help="a folder this script wrote (the same seeds): pair each seed's "
                         "score with it")
    ap.add_argument("--origins", default=None, help="passed to escalation backtest")
    ap.add_argument("--horizon", default=None, help="passed to escalation backtest")
    ap.add_argument("--budget", type=int, default=None, help="passed to escalation backtest")
    ap.add_argument("--population", type=int, default=None,
                    help="passed to escalation backtest")
    ap.add_argument("--replicates", type=int, default=None,
                    help="passed to escalation backtest")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--reuse", action="store_true", help="keep folders of seeds already done")
    ap.add_argument("--out", default="results/backtest_seeds")
    a = ap.parse_args(argv)
    try:
        seeds = [int(s) for s in a.seeds.split(",") if s.strip()]
    except ValueError:
        return _bad(f"--seeds: whole numbers separated by commas, got {a.seeds!r}")
    if not seeds or min(seeds) < 0:
        return _bad("--seeds: at least one non-negative seed")
    reference = None
    if a.against:
        against = Path(a.against) / "seeds.csv"
        if not against.is_file():
            return _bad(f"--against: {against} not found (a folder this script wrote)")
        reference = pd.read_csv(against)
        reference = reference[reference["seed"] != "mean"].astype({"seed": int})
        missing = sorted(set(seeds) - set(reference["seed"]))
        if missing:
            return _bad(f"--against: {against} has no backtest of seed(s) {missing}")
    out = Path(a.out)
    passed = [*[x for spec in a.fit for x in ("--fit", spec)],
              *(["--condition"] if a.condition else []),
              *(["--decisions"] if a.decisions else []),
              *(["--decision-days", a.decision_days] if a.decision_days else []),
              *[x for name in ("origins", "horizon", "budget", "population", "replicates")
                if getattr(a, name) is not None
                for x in (f"--{name}", str(getattr(a, name)))]]
    parts = []
    for seed in seeds:
        folder = out / f"backtest_s{seed}"
        if not (a.reuse and (folder / "scores.csv").is_file()):
            code = cli(["backtest", "--seed", str(seed), "--workers", str(a.workers), *passed,
                        "--out", str(folder), "--force"])
            if code:
                return code
        parts.append(scores_of(folder, seed))
    table = pd.concat(parts, ignore_index=True)
    table = with_means(paired(table, reference) if reference is not None else table)
    table.to_csv(out / "seeds.csv", index=False, float_format="%.6g")
    command = "scripts/backtest_seeds.py " + " ".join(sys.argv[1:] if argv is None else argv)
    (out / "seeds.md").write_text("\n".join([
        "# The backtest over calibration seeds", "",
        f"- command: `{command}`", "",
        "Mean CRPS over all origins at the longest horizon (lower is better), per seed and "
        "target: the model's, and the best baseline's."
        + (" `reference`: the model's in the `--against` folder for the same seed; "
           "`difference`: this one minus it (negative: this one forecasts better)."
           if reference is not None else ""), "",
        _table(table), ""]))
    (out / "manifest.json").write_text(json.dumps(dict(
        command=command, seeds=seeds, passed_to_backtest=passed, against=a.against,
        reproduce=f".venv/bin/python {command}"), indent=2) + "\n")
    print(table.to_string(index=False))
    print(f"wrote {out}/ (seeds.csv, seeds.md, manifest.json, backtest_s*/)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
