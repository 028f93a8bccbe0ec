"""``escalation calibrate``: fit the model to the documented record by ABC-SMC.

Writes, into ``--out`` (default ``results/calibration``): ``posterior.parquet`` (particles of
every generation with weights), ``report.md`` with its figures (``marginals.png``,
``epsilon.png``), ``calibrated.toml`` (the posterior medians as a scenario parameter file,
what ``scenarios/calibrated.toml`` is copied from) and ``manifest.json``. With
``--compare-rules`` it runs ABC model choice across deterrence rules instead and writes
``rules.csv``, ``report.md`` and one posterior folder per repeat.

Everything is written into a temporary folder and moved into place at the end, and all
arguments are checked before anything runs: bad input writes nothing (exit 2, one line).
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path

from sim.errors import InputError

DEFAULT_OUT = Path("results") / "calibration"
DEFAULT_SCENARIO = Path("scenarios") / "history.toml"


def add_arguments(p) -> None:
    from calibration.defaults import DEFAULT_BUDGET, DEFAULT_POPULATION, DEFAULT_REPEATS
    p.add_argument("--scenario", default=str(DEFAULT_SCENARIO), metavar="TOML",
                   help="scenario whose shocks and defaults are calibrated "
                        "(default scenarios/history.toml)")
    p.add_argument("--until", default=None, metavar="DATE",
                   help="fit only the record up to DATE (YYYY-MM-DD), e.g. for an "
                        "out-of-sample check with `escalation validate --until DATE`")
    p.add_argument("--rule", default=None, metavar="NAME",
                   help="deterrence rule to fit (default: the scenario's)")
    p.add_argument("--compare-rules", nargs="?", const="all", default=None, metavar="RULES",
                   help="ABC model choice across rules: all registered rules, or a "
                        "comma-separated list")
    p.add_argument("--repeats", type=int, default=DEFAULT_REPEATS,
                   help=f"independent repeats of --compare-rules (default {DEFAULT_REPEATS})")
    p.add_argument("--budget", type=int, default=DEFAULT_BUDGET, metavar="N",
                   help=f"most simulations (default {DEFAULT_BUDGET})")
    p.add_argument("--population", type=int, default=DEFAULT_POPULATION, metavar="N",
                   help=f"particles per generation (default {DEFAULT_POPULATION})")
    p.add_argument("--record", default=None, metavar="FILE",
                   help="fit this record file (events.csv columns, e.g. from `escalation "
                        "import`) instead of calibration/data/events.csv")
    p.add_argument("--out", default=None, metavar="DIR",
                   help=f"result folder (default {DEFAULT_OUT})")
    p.add_argument("--seed", type=int, default=None, help="seed (default: the scenario's)")
    p.add_argument("--workers", type=int, default=1, metavar="N",
                   help="local worker processes (results do not depend on it)")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="run the simulations on this Dask scheduler instead")


def _command() -> str:
    return "escalation " + " ".join(sys.argv[1:]) if sys.argv and \
        sys.argv[0].endswith("escalation") else ""


def check_fit_sizes(args) -> None:
    """The ABC sizes every fitting command shares: --population, --budget, --workers, --seed
    (``escalation calibrate`` and ``escalation backtest``)."""
    if args.population < 20:
        raise InputError(None, "--population", f"must be at least 20, got {args.population}")
    if args.budget < 2 * args.population:
        raise InputError(None, "--budget", f"must be at least twice --population "
                                           f"({2 * args.population}), got {args.budget}")
    if args.workers < 1:
        raise InputError(None, "--workers", f"must be at least 1, got {args.workers}")
    if args.seed is not None and args.seed < 0:
        raise InputError(None, "--seed", f"must be a non-negative integer, got {args.seed}")


def _check(args, scenario) -> list[str]:
    """Check every argument before running; return the rules to fit."""
    from calibration.fit import parse_until
    from calibration.priors import rule_parameters
    check_fit_sizes(args)
    if args.repeats < 1:
        raise InputError(None, "--repeats", f"must be at least 1, got {args.repeats}")
    parse_until(args.until, scenario)
    if args.compare_rules is not None:
        if args.rule:
            raise InputError(None, "--rule", "give either --rule or --compare-rules")
        from calibration.compare import all_rules
        rules = all_rules() if args.compare_rules == "all" else [
            r.strip() for r in args.compare_rules.split(",") if r.strip()]
        if len(rules) < 2:
            raise InputError(None, "--compare-rules", "needs at least two rules")
    else:
        rules = [args.rule or scenario.params.us.rule]
    for r in rules:
        rule_parameters(r)   # unknown rule: InputError naming the known ones
    return rules


def _atomic(out: Path):
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    tmp.chmod(0o755)
    return tmp


def _finish(tmp: Path, out: Path) -> None:
    if out.exists():
        shutil.rmtree(out)
    tmp.rename(out)


def header(post, command: str) -> str:
    """The comment block of calibrated.toml."""
    from sim.run import git_commit
    m = post.meta
    return "\n".join([
        "Calibrated parameters: weighted posterior medians of an ABC-SMC calibration",
        f"against the documented record{' up to ' + m['until'] if m.get('until') else ''} "
        f"(rule {post.best_rule}).",
        f"Written by: {command or 'escalation calibrate'}",
        f"seed {m['seed']}, {m['settings']['population']} particles, "
        f"{m['simulations']} simulations, commit {git_commit() or 'unknown'}.",
        "Posterior samples, 90% intervals and checks: the folder's posterior.parquet and",
        "report.md. A scenario uses these values by `extends = \"calibrated.toml\"`.",
    ])


def main(args) -> int:
    from calibration.fit import calibrate
    from calibration.posterior import calibrated_toml
    from calibration.report import write_calibration
    from sim.run import manifest
    from sim.scenario import load_scenario

    scenario = load_scenario(args.scenario)
    rules = _check(args, scenario)
    from calibration.record import load_record
    record = load_record(args.record) if args.record else None   # bad rows: exit 2 first
    out = Path(args.out or DEFAULT_OUT)
    command = _command() or (
        f"escalation calibrate --scenario {args.scenario} --budget {args.budget} "
        f"--population {args.population}"
        + (f" --until {args.until}" if args.until else "")
        + (f" --rule {args.rule}" if args.rule else "")
        + (f" --compare-rules {args.compare_rules} --repeats {args.repeats}"
           if args.compare_rules else "")
        + (f" --seed {args.seed}" if args.seed is not None else "")
        + (f" --record {args.record}" if args.record else "") + f" --out {out}")
    common = dict(until=args.until, population=args.population, budget=args.budget,
                  workers=args.workers, scheduler=args.scheduler, progress=True,
                  record=record)
    if args.compare_rules is not None:
        return _compare(args, scenario, rules, out, command, common)
    post = calibrate(scenario, rules, seed=args.seed, **common)
    tmp = _atomic(out)
    try:
        post.write(tmp)
        files = write_calibration(post, tmp, command)
        (tmp / "calibrated.toml").write_text(calibrated_toml(post, header=header(post,
                                                                                 command)))
        info = manifest(scenario, command=command, seed=post.meta["seed"],
                        engine="batch", calibration={k: v for k, v in post.meta.items()
                                                     if k not in ("observed",)},
                        timings={"calibrate_s": post.meta["runtime_s"]})
        (tmp / "manifest.json").write_text(json.dumps(info, indent=2, default=str) + "\n")
        _finish(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    summary = post.summary()
    print(f"calibrated {', '.join(post.rules)} on the record"
          f"{' up to ' + args.until if args.until else ''}: {post.meta['simulations']} "
          f"simulations, {len(post.generations()) - 1} generations, "
          f"{post.meta['runtime_s']:.0f} s")
    print(summary[["parameter", "q05", "q50", "q95"]].to_string(
        index=False, float_format=lambda v: f"{v:.4g}"))
    print(f"wrote {out}/ (posterior.parquet, calibrated.toml, manifest.json, "
          + ", ".join(files) + ")")
    return 0


def _compare(args, scenario, rules, out, command, common) -> int:
    from calibration.compare import compare_rules, summary_text
    from calibration.report import _table, rules_figure
    from sim.run import manifest
    import matplotlib.pyplot as plt

    table, posts = compare_rules(scenario, rules, repeats=args.repeats, seed=args.seed,
                                 **common)
    text = summary_text(table, args.repeats, args.budget, args.population, args.until)
    tmp = _atomic(out)
    try:
        table.to_csv(tmp / "rules.csv", index=False)
        for k, post in enumerate(posts):
            sub = tmp / f"repeat_{k}"
            sub.mkdir()
            post.write(sub)
            fig = rules_figure(post)
            fig.savefig(sub / "rules.png", dpi=130)
            plt.close(fig)
        (tmp / "report.md").write_text("\n".join([
            "# Rule comparison: ABC model choice", "", f"- command: `{command}`", "", text, "",
            _table(table), "",
            "Probabilities by generation: `repeat_*/rules.png`; the particles of each repeat: "
            "`repeat_*/posterior.parquet` (column `rule`).", "",
            "Caveat: ABC model choice weighs rules by how well they reproduce the fitted "
            "targets; rules that act alike on those targets share the probability "
            "(Robert et al. 2011, PNAS 108).", ""]))
        info = manifest(scenario, command=command, seed=posts[0].meta["seed"],
                        engine="batch", comparison=dict(rules=rules, repeats=args.repeats,
                                                        table=table.to_dict("records")),
                        timings={"calibrate_s": sum(p.meta["runtime_s"] for p in posts)})
        (tmp / "manifest.json").write_text(json.dumps(info, indent=2, default=str) + "\n")
        _finish(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    print(text)
    print(table[["rule", "mean", "sd", "min", "max"]].to_string(
        index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"wrote {out}/ (rules.csv, report.md, manifest.json, repeat_*/)")
    return 0
