"""``escalation validate``: posterior predictive checks and out-of-sample scores.

Runs the scenario with one posterior draw per replicate and writes, into ``--out`` (default
``results/validation``): ``validation.md`` (coverage of every target, the targets outside the
90% band, and with ``--until`` the out-of-sample CRPS of the model, a Poisson and a Hawkes
baseline), ``coverage.csv``, ``patterns.csv``, ``responses.csv`` (the turning points,
``calibration.responses``), ``scores.csv``/``scores_mean.csv``, the figures ``ppc.png``,
``coverage.png``, ``forecast.png`` and ``manifest.json``.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from sim.errors import InputError

DEFAULT_POSTERIOR = Path("results") / "calibration"
DEFAULT_OUT = Path("results") / "validation"


def add_arguments(p) -> None:
    from calibration.defaults import DEFAULT_REPLICATES
    p.add_argument("--posterior", default=str(DEFAULT_POSTERIOR), metavar="DIR",
                   help=f"calibration folder (default {DEFAULT_POSTERIOR})")
    p.add_argument("--until", default=None, metavar="DATE",
                   help="score the record after DATE out of sample (the posterior must be "
                        "fitted up to DATE or earlier; default: the posterior's own --until)")
    p.add_argument("--scenario", default=None, metavar="TOML",
                   help="scenario to run (default: the one the posterior was fitted on)")
    p.add_argument("--replicates", type=int, default=DEFAULT_REPLICATES,
                   help=f"ensemble size (default {DEFAULT_REPLICATES})")
    p.add_argument("--seed", type=int, default=None,
                   help="seed of the draws and runs (default: the posterior's)")
    p.add_argument("--out", default=None, metavar="DIR",
                   help=f"result folder (default {DEFAULT_OUT})")


def main(args) -> int:
    from calibration import documented
    from calibration import posterior as posterior_mod
    from calibration.fit import parse_until
    from calibration.report import write_validation
    from calibration.validate import validate
    from sim.commands.calibrate import _atomic, _finish
    from sim.run import manifest
    from sim.scenario import load_scenario

    post = posterior_mod.read(args.posterior)
    path = args.scenario or post.meta["scenario"].get("path") or "scenarios/history.toml"
    scenario = load_scenario(path, record=documented())   # a scenario may replay the record
    if args.replicates < 10:
        raise InputError(None, "--replicates", f"must be at least 10, got {args.replicates}")
    if args.seed is not None and args.seed < 0:
        raise InputError(None, "--seed", f"must be a non-negative integer, got {args.seed}")
    parse_until(args.until, scenario)
    v = validate(args.posterior, scenario, until=args.until, replicates=args.replicates,
                 seed=args.seed)
    out = Path(args.out or DEFAULT_OUT)
    command = ("escalation " + " ".join(sys.argv[1:]) if sys.argv and
               sys.argv[0].endswith("escalation") else
               f"escalation validate --posterior {args.posterior}"
               + (f" --until {args.until}" if args.until else "") + f" --out {out}")
    tmp = _atomic(out)
    try:
        files = write_validation(v, tmp, str(args.posterior), command)
        v.patterns.to_csv(tmp / "patterns.csv", index=False, float_format="%.6g")
        files.append("patterns.csv")
        info = manifest(scenario, command=command, posterior=str(args.posterior),
                        replicates=args.replicates,
                        until=v.until.strftime("%Y-%m-%d") if v.until is not None else None,
                        coverage=dict(inside=int(v.coverage["inside"].sum()),
                                      targets=len(v.coverage)),
                        scores=(v.scores.means.to_dict("records") if v.scores else None),
                        baseline_fits=(v.scores.fits if v.scores else None))
        (tmp / "manifest.json").write_text(json.dumps(info, indent=2, default=str) + "\n")
        _finish(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    t = v.coverage
    print(f"coverage: the record is inside the 90% band for {int(t['inside'].sum())} of "
          f"{len(t)} targets ({int(t[t['fit']]['inside'].sum())} of {int(t['fit'].sum())} "
          "fitted)")
    outside = t[~t["inside"]]
    if len(outside):
        print("outside the band:")
        print(outside[["target", "observed", "q05", "median", "q95"]].to_string(
            index=False, float_format=lambda x: f"{x:.3g}"))
    p = v.patterns
    print(f"patterns of the record: {int(p['inside'].sum())} of {len(p)} inside the "
          "ensemble's 90% band")
    print(p[["pattern", "record", "median", "lo90", "hi90", "inside", "median_mc_lo",
             "median_mc_hi"]].to_string(index=False, float_format=lambda x: f"{x:.3g}"))
    print("(median_mc_lo..hi: where the median could lie with another set of runs, 90%)")
    for x in p[p["mean_mc_lo"].notna()].itertuples():
        print(f"{x.pattern}: share of runs {x.mean:.3g} (90% Monte Carlo interval "
              f"{x.mean_mc_lo:.3g} to {x.mean_mc_hi:.3g})")
    r = v.responses
    if r is not None and len(r):
        print(f"turning points (runs replaying the record up to each): {int(r['inside'].sum())} "
              f"of {len(r)} inside the 90% band")
        print(r[["turning_point", "window", "record", "median", "lo90", "hi90", "inside",
                 "sample", "iran_restrains", "median_if_restraining"]].to_string(
                     index=False, float_format=lambda x: f"{x:.3g}"))
        print("(iran_restrains: share of the runs whose own Iran is ordering a stand-down at "
              "the act; median_if_restraining: their median)")
        for x in r[r["stand_downs"] != "-"].itertuples():
            print(f"{x.turning_point}, the runs that agree with the stand-downs documented by "
                  f"{x.origin} ({x.stand_downs}): {x.agree:.0%} of them; median "
                  f"{x.median_if_agree:.3g} (90%: {x.lo90_if_agree:.3g} to "
                  f"{x.hi90_if_agree:.3g}), the record's {x.record:.3g} "
                  f"{'inside' if x.inside_if_agree else 'outside'}")
    if v.scores is not None and not v.scores.means.empty:
        print(f"out-of-sample after {v.until:%Y-%m-%d}, mean CRPS (lower is better):")
        print(v.scores.means.to_string(index=False, float_format=lambda x: f"{x:.3f}"))
    print(f"wrote {out}/ (" + ", ".join(files) + ", manifest.json)")
    return 0
