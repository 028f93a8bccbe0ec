"""``escalation calibrate``: fit the model to the documented record by ABC-SMC.

Writes, into ``--out`` (default ``results/calibration``): ``posterior.parquet`` (particles of
every generation with weights), ``report.md`` with its figures (``marginals.png``,
``epsilon.png``), ``calibrated.toml`` (the posterior medians as a scenario parameter file,
what ``scenarios/calibrated.toml`` is copied from) and ``manifest.json``. With
``--compare-rules`` it runs ABC model choice across deterrence rules instead and writes
``rules.csv``, ``report.md`` and one posterior folder per repeat; with ``--confusion K``
also ``confusion.csv``, ``confusion_runs.csv`` and ``confusion.png`` (``calibration.confusion``:
can the targets tell the rules apart?) and a paragraph on them in ``report.md``.

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
    p.add_argument("--confusion", default=None, metavar="K",
                   help="with --compare-rules: also run the same model choice on K "
                        "pseudo-records simulated under each rule and write the confusion "
                        "matrix (confusion.csv, confusion.png)")
    p.add_argument("--budget", type=int, default=DEFAULT_BUDGET, metavar="N",
                   help=f"most simulations (default {DEFAULT_BUDGET})")
    p.add_argument("--population", type=int, default=DEFAULT_POPULATION, metavar="N",
                   help=f"particles per generation (default {DEFAULT_POPULATION})")
    p.add_argument("--record", default=None, metavar="FILE",
                   help="fit this record file (events.csv columns, e.g. from `escalation "
                        "import`) instead of calibration/data/events.csv")
    p.add_argument("--out", default=None, metavar="DIR",
                   help=f"result folder (default {DEFAULT_OUT})")
    p.add_argument("--turning-points", action="store_true",
                   help="also fit the turning points (calibration/responses.py): runs that "
                        "replay the record up to each of its major acts, then decide; an "
                        "experiment, about twice as slow")
    p.add_argument("--decisions", action="store_true",
                   help="also weigh the posterior by the decisions the record documents (its "
                        "factions' suspensions), from runs replaying the record up to each "
                        "(calibration/decisions.py; an experiment, see the README)")
    p.add_argument("--decision-days", default=None, metavar="DAYS",
                   help="with --decisions: weigh only the decisions of these days "
                        "(comma-separated, e.g. 2024-01-30; default every documented one)")
    p.add_argument("--fit", action="append", default=[], metavar="PATH=DIST:LO:HI",
                   help="also fit this parameter with this prior (uniform or loguniform "
                        "from LO to HI, inside its declared bounds), e.g. "
                        "iran.war_risk_weight=uniform:0:2; repeatable")
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
    args.confusion = parse_confusion(getattr(args, "confusion", None), args.compare_rules)
    for r in rules:
        rule_parameters(r)   # unknown rule: InputError naming the known ones
    if args.fit and args.compare_rules is not None:
        raise InputError(None, "--fit", "not with --compare-rules (fit one rule with extra "
                                        "parameters)")
    from calibration.priors import parse_fits
    args.extra = parse_fits(args.fit, tuple(rules))
    from calibration.decisions import parse_days
    args.decision_days = parse_days(getattr(args, "decision_days", None), args.decisions)
    return rules


def parse_confusion(value, compare_rules) -> int | None:
    """``--confusion K``: a whole number of at least 1, and only with --compare-rules."""
    if value is None:
        return None
    if compare_rules is None:
        raise InputError(None, "--confusion", "needs --compare-rules")
    try:
        k = int(str(value).strip())
    except ValueError:
        raise InputError(None, "--confusion", f"must be a whole number of pseudo-records per "
                                              f"rule, got {value!r}") from None
    if k < 1:
        raise InputError(None, "--confusion", f"must be at least 1, got {k}")
    return k


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
        + (f" --confusion {args.confusion}" if args.confusion else "")
        + (" --turning-points" if args.turning_points else "")
        + (" --decisions" if args.decisions else "")
        + (f" --decision-days {','.join(args.decision_days)}" if args.decision_days else "")
        + "".join(f" --fit {spec}" for spec in args.fit)
        + (f" --seed {args.seed}" if args.seed is not None else "")
        + (f" --record {args.record}" if args.record else "") + f" --out {out}")
    common = dict(until=args.until, population=args.population, budget=args.budget,
                  workers=args.workers, scheduler=args.scheduler, progress=True,
                  record=record)
    if args.compare_rules is not None:
        if args.turning_points:
            raise InputError(None, "--turning-points", "not with --compare-rules (fit one "
                                                        "rule with the turning points)")
        if args.decisions:
            raise InputError(None, "--decisions", "not with --compare-rules (weigh one "
                                                   "rule's posterior by the decisions)")
        return _compare(args, scenario, rules, out, command, common)
    if args.decision_days:
        from calibration.decisions import check_days
        from calibration.fit import parse_until
        until = parse_until(args.until, scenario)
        check_days(record if record is not None else load_record(), scenario.start,
                   until if until is not None else scenario.end, args.decision_days)
    decisions = (args.decision_days or True) if args.decisions else False
    post = calibrate(scenario, rules, seed=args.seed, turning_points=args.turning_points,
                     extra=args.extra, decisions=decisions, **common)
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
    from calibration.report import weight_check
    warning = weight_check(post)[2]
    if warning:
        print(f"warning: {warning}", file=sys.stderr)
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
    confusion = None
    if args.confusion:
        from calibration.confusion import confusion_matrix
        confusion = confusion_matrix(
            scenario, rules, args.confusion, until=args.until, seed=args.seed,
            population=args.population, budget=args.budget, workers=args.workers,
            scheduler=args.scheduler, progress=True)
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
            "(Robert et al. 2011, PNAS 108).", ""]
            + ([] if confusion is None else _confusion_section(confusion))))
        if confusion is not None:
            confusion.table().to_csv(tmp / "confusion.csv", index=False)
            confusion.runs.to_csv(tmp / "confusion_runs.csv", index=False)
            fig = confusion.figure()
            fig.savefig(tmp / "confusion.png", dpi=130)
            plt.close(fig)
        info = manifest(scenario, command=command, seed=posts[0].meta["seed"],
                        engine="batch", comparison=dict(rules=rules, repeats=args.repeats,
                                                        table=table.to_dict("records")),
                        **({} if confusion is None else dict(confusion=dict(
                            confusion.settings, truths=confusion.truths,
                            share_correct=confusion.share_correct,
                            mean_p_true=confusion.mean_p_true))),
                        timings={"calibrate_s": sum(p.meta["runtime_s"] for p in posts),
                                 **({} if confusion is None
                                    else {"confusion_s": confusion.runtime_s})})
        (tmp / "manifest.json").write_text(json.dumps(info, indent=2, default=str) + "\n")
        _finish(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    print(text)
    print(table[["rule", "mean", "sd", "min", "max"]].to_string(
        index=False, float_format=lambda v: f"{v:.3f}"))
    if confusion is not None:
        print(confusion.text())
        print(confusion.table().to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    print(f"wrote {out}/ (rules.csv, report.md, manifest.json, repeat_*/"
          + (", confusion.csv, confusion_runs.csv, confusion.png" if confusion else "") + ")")
    return 0


def _confusion_section(confusion) -> list[str]:
    """The report's section on the confusion matrix."""
    from calibration.report import _table
    return ["## Can the targets tell the rules apart? Confusion matrix", "",
            confusion.text(), "",
            _table(confusion.table(), floatfmt="{:.2f}"), "",
            "Rows: the rule the pseudo-records were simulated with; columns: the rule the "
            "model choice chose (highest posterior probability); `mean_p_true`: the mean "
            "posterior probability of the true rule. Figure: `confusion.png`; every "
            "pseudo-record's probabilities: `confusion_runs.csv`. Pseudo-record parameters: "
            "shared parameters at the scenario's values, rule parameters at their prior "
            "medians (" + "; ".join(
                f"`{r}`: " + (", ".join(f"{k} {v:.3g}" for k, v in t.items()
                                        if k.startswith("us.") and k != "us.harm_per_killed")
                              or "none")
                for r, t in confusion.truths.items()) + ").", ""]
