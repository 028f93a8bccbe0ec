"""``escalation backtest``: rolling-origin forecasts of the record against baselines.

For each origin, calibrates the model on the record up to it, forecasts the next months with
the posterior ensemble and scores it against the baselines ``zero``, ``last``,
``conflictology``, ``poisson``, ``hawkes`` and ``hawkes_cov`` (``calibration.backtest``).
Writes into ``--out`` (default ``results/backtest``): ``forecasts.csv``, ``scores.csv``,
``patterns.csv``, ``report.md``, ``fans.png`` and ``manifest.json``. Every argument is checked
before anything runs, and the folder is written atomically: bad input writes nothing.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from sim.commands import refuse_to_replace
from sim.errors import InputError

DEFAULT_OUT = Path("results") / "backtest"
DEFAULT_SCENARIO = Path("scenarios") / "history.toml"


def add_arguments(p) -> None:
    from calibration.defaults import BACKTEST_BUDGET as DEFAULT_BUDGET
    from calibration.defaults import BACKTEST_HORIZONS as DEFAULT_HORIZONS
    from calibration.defaults import BACKTEST_ORIGINS as DEFAULT_ORIGINS
    from calibration.defaults import BACKTEST_POPULATION as DEFAULT_POPULATION
    from calibration.defaults import BACKTEST_REPLICATES as DEFAULT_REPLICATES
    p.add_argument("--origins", default=",".join(DEFAULT_ORIGINS), metavar="D1,D2,...",
                   help="forecast origins (default " + ",".join(DEFAULT_ORIGINS) + ")")
    p.add_argument("--horizon", default=",".join(map(str, DEFAULT_HORIZONS)), metavar="DAYS",
                   help="forecast horizon(s) in days, comma-separated (default "
                        + ",".join(map(str, DEFAULT_HORIZONS)) + ")")
    p.add_argument("--budget", type=int, default=DEFAULT_BUDGET, metavar="N",
                   help=f"simulations per origin's calibration (default {DEFAULT_BUDGET})")
    p.add_argument("--population", type=int, default=DEFAULT_POPULATION, metavar="N",
                   help=f"particles per generation (default {DEFAULT_POPULATION})")
    p.add_argument("--replicates", type=int, default=DEFAULT_REPLICATES, metavar="N",
                   help=f"forecast runs per origin (default {DEFAULT_REPLICATES})")
    p.add_argument("--without", action="append", default=[], metavar="KIND",
                   help="take a kind of dated input (e.g. regional_war) away from the model "
                        "and from hawkes_cov alike; may be repeated")
    p.add_argument("--scenario", default=str(DEFAULT_SCENARIO), metavar="TOML",
                   help="scenario whose shocks and defaults are used (default "
                        "scenarios/history.toml)")
    p.add_argument("--record", default=None, metavar="FILE",
                   help="an events.csv-shaped record to use instead of the packaged one")
    p.add_argument("--condition", action="store_true",
                   help="start each forecast from the state the record leaves: every actor "
                        "acts as the record (as it stood at the origin) says up to the "
                        "origin, then decides for itself ([replay] until); only the runs "
                        "that agree with the stand-downs it documents are kept")
    p.add_argument("--decisions", action="store_true",
                   help="each origin's calibration also weighs its posterior by the decisions "
                        "the record documents up to the origin (calibrate --decisions)")
    p.add_argument("--decision-days", default=None, metavar="DAYS",
                   help="with --decisions: weigh only the decisions of these days "
                        "(comma-separated; default every documented one)")
    p.add_argument("--fit", action="append", default=[], metavar="PATH=DIST:LO:HI",
                   help="each origin's calibration also fits this parameter with this prior "
                        "(as calibrate --fit); repeatable")
    p.add_argument("--seed", type=int, default=None, help="seed (default: the scenario's)")
    p.add_argument("--workers", type=int, default=1, metavar="N",
                   help="local worker processes for the calibrations (results do not "
                        "depend on it)")
    p.add_argument("--out", default=None, metavar="DIR",
                   help=f"result folder (default {DEFAULT_OUT})")
    p.add_argument("--force", action="store_true",
                   help="replace a result folder that already holds results")


def _horizons(text: str) -> tuple[int, ...]:
    out = []
    for part in str(text).split(","):
        part = part.strip()
        try:
            h = int(part)
        except ValueError:
            raise InputError(None, "--horizon", f"{part!r} is not a whole number of days") \
                from None
        if h < 1:
            raise InputError(None, "--horizon", f"must be at least 1 day, got {h}")
        out.append(h)
    return tuple(sorted(set(out)))


def _check(args, scenario):
    from calibration.backtest import check_origins, check_without
    from sim.commands.calibrate import check_fit_sizes
    check_fit_sizes(args)
    if args.replicates < 10:
        raise InputError(None, "--replicates", f"must be at least 10, got {args.replicates}")
    horizons = _horizons(args.horizon)
    origins = check_origins(args.origins.split(","), scenario)
    without = check_without(scenario, tuple(args.without))
    from calibration.priors import parse_fits
    args.extra = parse_fits(args.fit, (scenario.params.us.rule,))
    from calibration.decisions import parse_days
    args.decision_days = parse_days(args.decision_days, args.decisions)
    return origins, horizons, without


def main(args) -> int:
    from calibration.backtest import backtest, scenario_patterns, without_inputs
    from calibration.backtest_report import headline, verdicts, write_backtest
    from calibration.record import load_record, load_tallies
    from sim.commands.calibrate import _atomic, _finish
    from sim.run import manifest
    from sim.scenario import load_scenario

    scenario = load_scenario(args.scenario)
    origins, horizons, without = _check(args, scenario)
    out = Path(args.out or DEFAULT_OUT)
    refuse_to_replace(out, args.force)
    record = load_record(args.record)
    if args.decision_days:
        from calibration.decisions import check_days
        check_days(record, scenario.start, scenario.end, args.decision_days)
    tallies = load_tallies()
    command = ("escalation " + " ".join(sys.argv[1:]) if sys.argv and
               sys.argv[0].endswith("escalation") else
               f"escalation backtest --origins {args.origins} --horizon {args.horizon} "
               f"--budget {args.budget} --population {args.population} "
               f"--replicates {args.replicates}"
               + "".join(f" --without {k}" for k in without)
               + (" --condition" if args.condition else "")
               + (" --decisions" if args.decisions else "")
               + (f" --decision-days {','.join(args.decision_days)}"
                  if args.decision_days else "")
               + "".join(f" --fit {spec}" for spec in args.fit) + f" --out {out}")

    def report(res):
        print(f"  origin {res.origin:%Y-%m-%d}: {res.simulations} simulations, rule "
              f"{res.best_rule}, {sum(res.seconds.values()):.0f} s", flush=True)

    print(f"backtest: {len(origins)} origins, horizons {', '.join(map(str, horizons))} days"
          + (f", without {', '.join(without)}" if without else "")
          + (", conditioned on the record up to each origin" if args.condition else "")
          + (", posteriors weighed by the documented decisions" if args.decisions else ""),
          flush=True)
    bt = backtest(scenario, record, tallies, origins, horizons, without=without,
                  budget=args.budget, population=args.population,
                  replicates=args.replicates, seed=args.seed, workers=args.workers,
                  on_origin=report, condition=args.condition,
                  decisions=(args.decision_days or True) if args.decisions else False,
                  extra=args.extra)
    patterns = scenario_patterns(without_inputs(scenario, without), record,
                                 replicates=args.replicates, seed=args.seed)
    tmp = _atomic(out)
    try:
        files = write_backtest(bt, patterns, tmp, command)
        info = manifest(scenario, command=command, engine="batch", backtest=dict(
            bt.settings, horizons=list(horizons), without=list(without),
            record=args.record or "packaged",
            per_origin=[dict(origin=r.origin.strftime("%Y-%m-%d"), rule=r.best_rule,
                             simulations=r.simulations, seconds=r.seconds, fits=r.fits)
                        for r in bt.origins]),
            timings={"backtest_s": bt.seconds})
        (tmp / "manifest.json").write_text(json.dumps(info, indent=2, default=str) + "\n")
        _finish(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    table = headline(bt)
    print(f"mean CRPS over all origins, horizon {max(horizons)} days (lower is better):")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    print("\n".join(verdicts(bt)).replace("**", ""))
    print(f"patterns: the record is inside the ensemble's 90% band for "
          f"{int(patterns['inside'].sum())} of {len(patterns)}")
    print(f"wrote {out}/ (" + ", ".join(files) + f", manifest.json) in {bt.seconds:.0f} s")
    return 0
