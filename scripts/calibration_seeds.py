"""Issue 10's bars over several calibration seeds: is a model variant's result the variant's,
or one draw of the ABC's own randomness?

    .venv/bin/python scripts/calibration_seeds.py --seeds 20191227,7,11 --out results/seeds
    .venv/bin/python scripts/calibration_seeds.py --seeds 20191227,7,11 \\
        --fit iran.war_risk_weight=uniform:0:2 --out results/seeds_warrisk
    .venv/bin/python scripts/calibration_seeds.py --seeds 20191227,7,11 \\
        --until 2024-01-31 --out results/seeds_2024-01-31

For each seed it runs ``escalation calibrate`` (the whole record, or up to ``--until``;
``--fit`` as given) into ``OUT/calibration_s<seed>`` and ``escalation validate
--replicates N`` of that posterior (with the same ``--until``) into
``OUT/validation_s<seed>``, then writes ``bars.csv`` and ``bars.md``: per seed, each bar's
value with its 90% Monte Carlo interval (``calibration.patterns.monte_carlo_intervals``) and
a verdict: ``met`` or ``missed`` when the interval lies on one side of the bar, ``unclear``
when it straddles it. A calibration takes about 5 minutes on 2 cores at the default sizes.
``--reuse`` keeps the folders of seeds already done. The README's table of seeds is this
script's output.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd

from calibration.patterns import BARS, COVERAGE_BAR, verdict


def bars_of(validation: Path, seed: int) -> dict:
    """One row: the bars of one validation folder (``patterns.csv``, ``coverage.csv``)."""
    patterns = pd.read_csv(validation / "patterns.csv").set_index("pattern")
    coverage = pd.read_csv(validation / "coverage.csv")
    row: dict = {"seed": seed}
    for name, stat, side, bar in BARS:
        p = patterns.loc[name]
        value, lo, hi = p[stat], p[f"{stat}_mc_lo"], p[f"{stat}_mc_hi"]
        row[name] = value
        row[f"{name}_mc"] = f"{lo:.3g}-{hi:.3g}"
        row[f"{name}_bar"] = verdict(lo, hi, side, bar)
    inside = int(coverage["inside"].sum() + patterns["inside"].sum())
    total = len(coverage) + len(patterns)
    row["inside_band"] = f"{inside}/{total}"
    row["inside_band_bar"] = "met" if inside / total >= COVERAGE_BAR else "missed"
    return row


def main(argv=None) -> int:
    from calibration.report import _table
    from sim.cli import main as cli
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="20191227,7,11",
                    help="comma-separated calibration seeds")
    ap.add_argument("--fit", action="append", default=[], metavar="PATH=DIST:LO:HI",
                    help="passed to escalation calibrate --fit")
    ap.add_argument("--until", default=None, metavar="DATE",
                    help="calibrate on the record up to DATE only (and validate from it): "
                         "is the lull forecast?")
    ap.add_argument("--budget", type=int, default=300000)
    ap.add_argument("--population", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--replicates", type=int, default=1000)
    ap.add_argument("--reuse", action="store_true", help="keep folders of seeds already done")
    ap.add_argument("--out", default="results/seeds")
    a = ap.parse_args(argv)
    try:
        seeds = [int(s) for s in a.seeds.split(",") if s.strip()]
    except ValueError:
        print(f"calibration_seeds: --seeds: whole numbers separated by commas, got "
              f"{a.seeds!r}", file=sys.stderr)
        return 2
    if not seeds or min(seeds) < 0:
        print("calibration_seeds: --seeds: at least one non-negative seed", file=sys.stderr)
        return 2
    out = Path(a.out)
    rows = []
    for seed in seeds:
        cal, val = out / f"calibration_s{seed}", out / f"validation_s{seed}"
        if not (a.reuse and (cal / "posterior.parquet").is_file()):
            code = cli(["calibrate", "--seed", str(seed), "--budget", str(a.budget),
                        "--population", str(a.population), "--workers", str(a.workers),
                        *[x for spec in a.fit for x in ("--fit", spec)],
                        *(["--until", a.until] if a.until else []), "--out", str(cal)])
            if code:
                return code
        if not (a.reuse and (val / "patterns.csv").is_file()):
            code = cli(["validate", "--posterior", str(cal), "--replicates",
                        str(a.replicates), *(["--until", a.until] if a.until else []),
                        "--out", str(val)])
            if code:
                return code
        rows.append(bars_of(val, seed))
    table = pd.DataFrame(rows)
    table.to_csv(out / "bars.csv", index=False, float_format="%.4g")
    command = "scripts/calibration_seeds.py " + " ".join(sys.argv[1:] if argv is None
                                                         else argv)
    (out / "bars.md").write_text("\n".join([
        "# Issue 10's bars over calibration seeds", "",
        f"- command: `{command}`", "",
        "Each value with its 90% Monte Carlo interval over the validation's runs; `met` or "
        "`missed` when the interval lies on one side of the bar, `unclear` when it straddles "
        "it. Bars: share of runs at rung 6+ 2019-10..2020-06 ≥ 25%; median documented attacks "
        "2024-02-05..07-15 ≤ 20; median variance/mean of monthly attacks 2019-10..2023-09 ≥ 3; "
        "the record inside the 90% band for ≥ 90% of targets and patterns.", "",
        _table(table), ""]))
    (out / "manifest.json").write_text(json.dumps(dict(
        command=command, seeds=seeds, fit=a.fit, budget=a.budget, population=a.population,
        replicates=a.replicates,
        reproduce=f".venv/bin/python {command}"), indent=2) + "\n")
    print(table.to_string(index=False))
    print(f"wrote {out}/ (bars.csv, bars.md, manifest.json, calibration_s*/, validation_s*/)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
