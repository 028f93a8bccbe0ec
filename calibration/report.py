"""Reports and figures of calibrations, validations and rule comparisons.

What lives here: Markdown reports and PNG figures: for ``escalation calibrate`` (posterior
summary, marginal posteriors against priors, tolerance by generation, the targets against the
accepted simulations, rule probabilities), for ``escalation validate`` (coverage of every
target, the record inside the ensemble's bands, out-of-sample scores) and for rule
comparisons. What does not: computing any of it (``calibration.fit``, ``calibration.validate``,
``calibration.compare``).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import NullFormatter  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from calibration import targets as tg  # noqa: E402
from calibration.posterior import Posterior  # noqa: E402
from calibration.smc import weighted_quantile  # noqa: E402
from sim.plots.style import ACTOR_COLOURS, LETHAL, format_date_axis  # noqa: E402

DPI = 130
MODEL_COLOUR = ACTOR_COLOURS["us"]
RECORD_COLOUR = "black"


def _table(frame: pd.DataFrame, floatfmt: str = "{:.3g}") -> str:
    """A DataFrame as a Markdown table (no extra dependency)."""
    def cell(v):
        if isinstance(v, (float, np.floating)):
            return "" if np.isnan(v) else floatfmt.format(v)
        if isinstance(v, pd.Timestamp):
            return f"{v:%Y-%m-%d}"
        return str(v)
    head = "| " + " | ".join(map(str, frame.columns)) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    body = ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([head, rule, *body])


# --- Calibration ----------------------------------------------------------------------------------

def marginals_figure(post: Posterior, rule: str | None = None) -> plt.Figure:
    """Weighted histograms of the final population against the prior density."""
    rule = rule or post.best_rule
    frame = post.of_rule(rule)
    params = {p.name: p for p in post.parameters}
    names = post.rule_names(rule)
    ncol = 3
    nrow = int(np.ceil(len(names) / ncol))
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.2 * ncol, 2.8 * nrow), squeeze=False)
    w = frame["weight"].to_numpy()
    for ax, name in zip(axes.flat, names):
        p = params[name]
        x = frame[name].to_numpy(dtype=float)
        lo, hi = p.prior.ppf([0.0, 1.0])
        if not np.isfinite(lo) or not np.isfinite(hi):
            lo, hi = p.prior.ppf([0.001, 0.999])
        # Densities per unit of log10(x) for log-scale parameters, so a log-uniform prior
        # is flat as it is on the scale the sampler works on.
        if p.on_log:
            bins = np.geomspace(lo, hi, 31)
            widths = np.diff(np.log10(bins))
            ax.set_xscale("log")
            # Minor tick labels (3x10^1, 4x10^1 ...) overlap on short log ranges.
            ax.xaxis.set_minor_formatter(NullFormatter())
        else:
            bins = np.linspace(lo, hi, 31)
            widths = np.diff(bins)
        mass, _ = np.histogram(x, bins=bins, weights=w)
        ax.bar(bins[:-1], mass / mass.sum() / widths, width=np.diff(bins), align="edge",
               color=MODEL_COLOUR, alpha=0.6, label="posterior")
        grid = np.geomspace(lo, hi, 200) if p.on_log else np.linspace(lo, hi, 200)
        prior = p.prior.pdf(grid) * (grid * np.log(10) if p.on_log else 1.0)
        ax.plot(grid, prior, color="0.3", lw=1.2, ls="--", label="prior")
        ax.set_ylabel("density" + (" per log10" if p.on_log else ""), fontsize=8)
        q = weighted_quantile(x, w, [0.05, 0.5, 0.95])
        for v, ls in zip(q, (":", "-", ":")):
            ax.axvline(v, color=MODEL_COLOUR, ls=ls, lw=1)
        ax.set_title(name, fontsize=9)
        ax.tick_params(labelsize=8)
    for ax in list(axes.flat)[len(names):]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=8, frameon=False)
    fig.suptitle(f"Marginal posteriors ({rule}) against priors; lines: median and 90% interval",
                 fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 0.985))   # room for the title above the first row
    return fig


def epsilon_figure(post: Posterior) -> plt.Figure:
    """Tolerance, acceptance and the accepted distances by generation."""
    g = post.generations()
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(9, 3.2))
    gg = g[g["generation"] > 0]
    a1.plot(gg["generation"], gg["epsilon"], "o-", color=MODEL_COLOUR, label="tolerance")
    a1.plot(gg["generation"], gg["median_distance"], "s--", color="0.4", ms=4,
            label="median accepted distance")
    a1.set_xlabel("generation")
    a1.set_ylabel("distance (in the generation's scales)")
    a1.set_yscale("log")
    a1.legend(fontsize=8, frameon=False)
    a2.plot(gg["generation"], gg["acceptance"], "o-", color="0.2")
    a2.set_yscale("log")
    a2.set_xlabel("generation")
    a2.set_ylabel("acceptance rate")
    fig.suptitle("ABC-SMC: tolerance by generation (the distance adapts each generation, so "
                 "its units change with it)", fontsize=9)
    fig.tight_layout()
    return fig


def rules_figure(post: Posterior) -> plt.Figure:
    """Posterior rule probabilities by generation (model choice)."""
    g = post.generations()
    probs = pd.DataFrame(list(g["rule_probabilities"]), index=g["generation"])
    fig, ax = plt.subplots(figsize=(7, 3.2))
    for rule in probs.columns:
        ax.plot(probs.index, probs[rule], "o-", label=rule, ms=4)
    ax.set_xlabel("generation")
    ax.set_ylabel("posterior probability")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=8, frameon=False, ncol=2)
    fig.tight_layout()
    return fig


def targets_table(post: Posterior, rule: str | None = None) -> pd.DataFrame:
    """Fitted targets: the record's value against the accepted simulations (5-50-95%)."""
    frame = post.of_rule(rule)
    w = frame["weight"].to_numpy()
    rows = []
    for t, obs in zip(post.meta["targets"], post.meta["observed"]):
        x = frame[f"target:{t['name']}"].to_numpy(dtype=float)
        q = weighted_quantile(x, w, [0.05, 0.5, 0.95])
        # a tally's bound decides "inside" (older posteriors have none: exact)
        target = tg.Target(t["name"], "count", t["start"], t["end"],
                           observed=obs if t.get("seen") == "all" else None,
                           observed_low=t.get("observed_low"),
                           observed_high=t.get("observed_high"), bound=t.get("bound", "exact"))
        rows.append(dict(target=t["name"], record=obs, q05=q[0], median=q[1], q95=q[2],
                         inside=tg.inside(target, q[0], q[2], obs), informs=t["informs"]))
    return pd.DataFrame(rows)


#: Below this share of the population, the final weights' effective sample size is flagged:
#: the posterior's quantiles then rest on a few heavily weighted particles.
LOW_ESS_SHARE = 0.1


def weight_check(post: Posterior) -> tuple[float, float, str | None]:
    """The final population's effective sample size (Kish, on the weights in use), the
    largest particle's share of the weight, and a warning when the size is below
    :data:`LOW_ESS_SHARE` of the population (ABC-SMC's importance weights can pile onto a
    particle proposed where the kernel mixture is thin; another seed or a larger budget
    usually spreads them)."""
    from calibration.smc import kish_ess
    w = post.final["weight"].to_numpy(dtype=float)
    ess, top = kish_ess(w), float(w.max() / w.sum())
    warning = None
    if ess < LOW_ESS_SHARE * len(w):
        warning = (f"the final population's effective sample size is {ess:.0f} of {len(w)} "
                   f"(one particle carries {top:.0%} of the weight): the posterior's "
                   f"quantiles rest on few particles; rerun with another --seed or a larger "
                   f"--budget before reading them closely")
    return ess, top, warning


def calibration_report(post: Posterior, command: str = "") -> str:
    """The Markdown report of one calibration."""
    m = post.meta
    rule = post.best_rule
    gens = post.generations()
    lines = [
        f"# Calibration: {', '.join(post.rules)}",
        "",
        f"ABC-SMC (Toni et al. 2009; Beaumont et al. 2009; adaptive distance, Prangle 2017; "
        f"regression summaries, Fearnhead & Prangle 2012) "
        f"of scenario `{m['scenario']['name']}` against the documented record"
        + (f" up to {m['until']}" if m.get("until") else "") + ".",
        "",
        f"- command: `{command}`" if command else "",
        f"- seed {m['seed']}, {m['settings']['population']} particles, budget "
        f"{m['settings']['budget']} simulations, {m['simulations']} used, "
        f"{len(gens) - 1} generations after the prior; stopped: {m['stopped']}; "
        f"{m['runtime_s']} s",
    ]
    ess, top, warning = weight_check(post)
    lines += [f"- final population: effective sample size {ess:.0f} of {len(post.final)}, "
              f"the largest particle {top:.1%} of the weight"
              + (f". **Warning: {warning}.**" if warning else ""), ""]
    if len(post.rules) > 1:
        probs = post.rule_probabilities()
        lines += ["## Rule probabilities (ABC model choice)", "",
                  _table(probs.rename("probability").reset_index()), "",
                  "![rules](rules.png)", ""]
    lines += _decisions_section(m.get("decisions"))
    lines += [f"## Posterior ({rule})", "",
              _table(post.summary(rule)), "",
              "![marginals](marginals.png)", ""]
    r2 = gens["r2"].iloc[-1] if "r2" in gens and isinstance(gens["r2"].iloc[-1], dict) else None
    if r2:
        lines += ["## How much the targets say about each parameter", "",
                  "R² of the regression of each parameter on the fitted targets among the last "
                  "generation's simulations (the regression summaries of semi-automatic ABC): "
                  "near 1, the record pins the parameter down locally; near 0, it hardly "
                  "informs it and its posterior stays close to the prior.", "",
                  _table(pd.DataFrame({"parameter": list(r2), "R2": list(r2.values())})), ""]
    lines += ["## Fitted targets: record against the accepted simulations", "",
              _table(targets_table(post, rule)), "",
              "## Generations", "",
              _table(gens.drop(columns=[c for c in ("rule_probabilities", "r2")
                                        if c in gens])), "",
              "![epsilon](epsilon.png)", ""]
    return "\n".join(line for line in lines if line is not None) + "\n"


def _decisions_section(d: dict | None) -> list[str]:
    """What ``--decisions`` weighed (``calibration.decisions``); nothing without it."""
    if not d or not d.get("weighed"):
        return []
    out = ["## The record's documented decisions (weighed after the ABC)", "",
           f"Each final particle's weight was multiplied by the share of its {d['replicates']} "
           "runs, replaying the record up to the decision's day, whose factions stood down "
           "there as the record says (`calibration/decisions.py`). A forecast that also keeps "
           "only the runs agreeing with a decision draws without that decision's weighing "
           "(its shares are the `decision:<day>` columns of posterior.parquet).",
           "", _table(pd.DataFrame(d["weighed"]).assign(
               factions=lambda f: f["factions"].map(", ".join))), ""]
    if d.get("applied"):
        out += [f"Effective sample size of the final population: {d['ess_before']} before, "
                f"{d['ess_after']} after.", ""]
    else:
        out += ["No particle agreed with every decision: the ABC weights were kept.", ""]
    return out


def write_calibration(post: Posterior, folder: Path, command: str = "") -> list[str]:
    """report.md and its figures into ``folder``; returns the file names written."""
    written = []
    for name, fig in (("marginals.png", marginals_figure(post)),
                      ("epsilon.png", epsilon_figure(post))):
        fig.savefig(folder / name, dpi=DPI)
        plt.close(fig)
        written.append(name)
    if len(post.rules) > 1:
        fig = rules_figure(post)
        fig.savefig(folder / "rules.png", dpi=DPI)
        plt.close(fig)
        written.append("rules.png")
    (folder / "report.md").write_text(calibration_report(post, command))
    return ["report.md", *written]


# --- Validation -----------------------------------------------------------------------------------

def _band(ax, dates, values, colour=MODEL_COLOUR, label="ensemble"):
    q = np.quantile(values, [0.05, 0.25, 0.5, 0.75, 0.95], axis=1)
    ax.fill_between(dates, q[0], q[4], color=colour, alpha=0.18, lw=0, label=f"{label} 90%")
    ax.fill_between(dates, q[1], q[3], color=colour, alpha=0.3, lw=0, label=f"{label} 50%")
    ax.plot(dates, q[2], color=colour, lw=1, label=f"{label} median")


def ppc_figure(v) -> plt.Figure:
    """The record inside the ensemble's bands: cumulative strike rounds and deaths, attacks of
    the Gaza-war campaign against the cumulative tallies, and attack rates with the pauses."""
    s, r = v.series, v.record_series
    dates = s.dates
    fig, axes = plt.subplots(2, 2, figsize=(12, 7.5))
    ax = axes[0, 0]
    _band(ax, dates, np.cumsum(s["strike_rounds"], axis=0))
    ax.step(dates, np.cumsum(r["strike_rounds"][:, 0]), where="post", color=RECORD_COLOUR,
            label="record")
    ax.set_title("U.S. strike rounds, cumulative", fontsize=10)
    ax = axes[0, 1]
    _band(ax, dates, np.cumsum(s["deaths"], axis=0))
    ax.step(dates, np.cumsum(r["deaths"][:, 0]), where="post", color=LETHAL, label="record")
    ax.set_title("U.S./coalition deaths in attacks, cumulative", fontsize=10)
    for a in axes[0]:
        format_date_axis(a)
        a.legend(fontsize=7, frameon=False, loc="upper left")
        if v.until is not None:
            a.axvline(v.until, color="0.3", ls="--", lw=1)
    # Campaign: cumulative attacks since 2023-10-17 against the cumulative tallies.
    ax = axes[1, 0]
    c0 = pd.Timestamp("2023-10-17")
    d0 = s.day(c0)
    end = min(s.day("2024-08-31"), s.days - 1)
    camp_dates = dates[d0:end + 1]
    sim_all = s["attacks@iraq_syria_jordan"][d0:end + 1]
    _band(ax, camp_dates, np.cumsum(sim_all, axis=0))
    shown = False
    for t in v.targets:
        if t.name.startswith("tally:") and t.series in ("attacks@iraq_syria",
                                                        "attacks@iraq_syria_jordan") \
                and pd.Timestamp(t.start) in (c0, pd.Timestamp("2023-10-07")):
            hi = t.observed_high if t.observed_high is not None else t.observed
            lo = t.observed if t.observed_high is None else (2 * t.observed - hi)
            ax.errorbar(pd.Timestamp(t.end), t.observed, yerr=[[t.observed - lo],
                                                                [hi - t.observed]],
                        fmt="o", color=RECORD_COLOUR, ms=4,
                        label=None if shown else "tallies (Iraq, Syria, Jordan)")
            shown = True
    ax.set_title("Gaza-war campaign: attacks since 2023-10-17, cumulative", fontsize=10)
    ax.legend(fontsize=7, frameon=False, loc="upper left")
    ax.tick_params(axis="x", labelrotation=30, labelsize=8)
    # Attack rates (30-day sums) with the pauses and the tally rates.
    ax = axes[1, 1]
    k = 30
    roll = np.cumsum(s["attacks"], axis=0)
    rate = np.vstack([roll[k - 1:k], roll[k:] - roll[:-k]])
    _band(ax, dates[k - 1:], rate)
    for t in v.targets:
        if t.name.startswith("tally:") and t.series.startswith("attacks@") and (
                pd.Timestamp(t.end) - pd.Timestamp(t.start)).days >= 20:
            days = (pd.Timestamp(t.end) - pd.Timestamp(t.start)).days + 1
            ax.hlines(t.observed / days * k, pd.Timestamp(t.start), pd.Timestamp(t.end),
                      color=RECORD_COLOUR, lw=2)
    for a, b, label in (("2023-09-01", "2023-10-16", "freeze"),
                        ("2024-02-05", "2024-07-15", "lull")):
        ax.axvspan(pd.Timestamp(a), pd.Timestamp(b), color="0.85", zorder=0)
        ax.text(pd.Timestamp(a), 0.97, label, transform=ax.get_xaxis_transform(), fontsize=7,
                va="top")
    ax.set_yscale("symlog", linthresh=1)
    ax.set_title("Attacks per 30 days (black: tallies' rates, any scope); pauses shaded",
                 fontsize=10)
    format_date_axis(ax)
    fig.tight_layout()
    return fig


def coverage_figure(table: pd.DataFrame) -> plt.Figure:
    """Where the record falls in the ensemble, target by target (mid-rank percentile)."""
    t = table.reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(8, 0.22 * len(t) + 1.2))
    y = np.arange(len(t))[::-1]
    ax.axvspan(5, 95, color=MODEL_COLOUR, alpha=0.12, lw=0)
    colours = np.where(t["inside"], MODEL_COLOUR, LETHAL)
    markers = np.where(t["fit"], "o", "s")
    for yy, x, c, m in zip(y, 100 * t["percentile"], colours, markers):
        ax.plot(x, yy, marker=m, color=c, ms=4, ls="none")
    ax.set_yticks(y)
    ax.set_yticklabels([f"{n}{' *' if f else ''}" for n, f in zip(t["target"], t["fit"])],
                       fontsize=6)
    ax.set_xlim(-2, 102)
    ax.set_xlabel("percentile of the record in the ensemble (band: 5-95%; * fitted)")
    ax.set_title(f"Coverage: {int(t['inside'].sum())} of {len(t)} targets inside the 90% band",
                 fontsize=10)
    fig.tight_layout()
    return fig


def forecast_figure(v) -> plt.Figure | None:
    """Monthly strike rounds after ``until``: record, ensemble band, baselines' means."""
    if v.scores is None or v.scores.items.empty:
        return None
    items = v.scores.items
    months = items[items["series"] == "strike_rounds_monthly"]
    if months.empty:
        return None
    s = v.series
    d0 = [s.day(a) for a in months["start"]]
    d1 = [s.day(b) for b in months["end"]]
    model = np.column_stack([s.window("strike_rounds", a, b) for a, b in zip(d0, d1)])
    starts = pd.to_datetime(months["start"])
    ends = pd.to_datetime(months["end"]) + pd.Timedelta(days=1)
    x = np.append(starts.to_numpy(), ends.iloc[-1].to_datetime64())   # month edges

    def steps(v):
        return np.append(v, v[-1])
    fig, ax = plt.subplots(figsize=(9, 3.4))
    q = np.quantile(model, [0.05, 0.5, 0.95], axis=0)
    ax.fill_between(x, steps(q[0]), steps(q[2]), step="post", color=MODEL_COLOUR, alpha=0.2,
                    label="model 90%")
    ax.step(x, steps(q[1]), where="post", color=MODEL_COLOUR, label="model median")
    ax.step(x, steps(months["mean_poisson"].to_numpy()), where="post", color="0.5", ls="--",
            label="Poisson mean")
    ax.step(x, steps(months["mean_hawkes"].to_numpy()), where="post", color="#E69F00",
            ls="-.", label="Hawkes mean")
    mid = starts + (ends - starts) / 2
    ax.plot(mid, months["observed"], "o", color=RECORD_COLOUR, ms=4, label="record")
    ax.set_ylabel("strike rounds per month")
    ax.set_title(f"Out of sample after {v.until:%Y-%m-%d}: monthly U.S. strike rounds",
                 fontsize=10)
    ax.legend(fontsize=7, frameon=False, ncol=3)
    fig.tight_layout()
    return fig


def validation_report(v, posterior_dir: str, command: str = "") -> str:
    t = v.coverage
    outside = t[~t["inside"]]
    fitted = t[t["fit"]]
    lines = [
        "# Validation: posterior predictive checks"
        + (f" and out-of-sample scores after {v.until:%Y-%m-%d}" if v.until is not None else ""),
        "",
        f"Posterior: `{posterior_dir}`; ensemble of {v.series.n} runs, one posterior draw each.",
        f"- command: `{command}`" if command else "",
        "",
        f"**Coverage**: the record lies inside the ensemble's 90% band for "
        f"{int(t['inside'].sum())} of {len(t)} targets ({int(fitted['inside'].sum())} of "
        f"{len(fitted)} fitted targets).",
        "",
        "Outside the band: " + (", ".join(f"`{n}`" for n in outside["target"]) or "none") + ".",
        "",
        "![checks](ppc.png)",
        "",
        "![coverage](coverage.png)",
        "",
    ]
    if v.scores is not None and not v.scores.means.empty:
        lines += ["## Out-of-sample scores (mean CRPS, lower is better)", "",
                  "Paired differences model - baseline with their standard errors over items "
                  "(negative: the model forecasts better).", "",
                  _table(v.scores.means), "",
                  "![forecast](forecast.png)", "",
                  "### Items", "",
                  _table(v.scores.items), ""]
    if v.patterns is not None and len(v.patterns):
        p = v.patterns
        lines += [f"## Patterns of the record (checks, not fitted): {int(p['inside'].sum())} "
                  f"of {len(p)} inside the 90% band", "",
                  "`median_mc_lo`..`median_mc_hi`: where the ensemble's median could lie with "
                  "another set of runs of the same draws (90%, order statistics); "
                  "`mean_mc_lo`..`mean_mc_hi` likewise for the share of runs of a yes/no "
                  "pattern (exact binomial). A bar on a median or a share is met or missed "
                  "clearly only when that interval lies on one side of it "
                  "(`calibration/patterns.py`).", "",
                  _table(p.drop(columns=["description"])), "",
                  *[f"- `{x.pattern}`: {x.description}" for x in p.itertuples()], ""]
    if v.responses is not None and len(v.responses):
        r = v.responses
        lines += ["## Turning points (checks, not fitted)", "",
                  "Documented attacks in the window after each of the record's major acts: "
                  "the record beside runs that replay the record for every actor up to the act "
                  "and decide for themselves after it (`calibration/responses.py`). Inside "
                  f"the 90% band: {int(r['inside'].sum())} of {len(r)}. `iran_restrains`: the "
                  "share of those runs whose own Iran is ordering its proxies to stand down "
                  "at the act (the replay forces acts, not Iran's directive); "
                  "`median_if_restraining`: their median. `stand_downs`: the factions whose "
                  "suspension the record documents in the month up to the act (decisions known "
                  "that day); `agree`: the share of runs in which they stand down too, and "
                  "`*_if_agree` those runs' median and band (a particle filter's step; "
                  "`calibration.responses.agreeing_at_origin`).", "",
                  _table(r.drop(columns=["description"])), "",
                  *[f"- `{x.turning_point}`: {x.description}" for x in r.itertuples()], ""]
    lines += ["## All targets", "", _table(t.drop(columns=["description"])), ""]
    return "\n".join(lines) + "\n"


def write_validation(v, folder: Path, posterior_dir: str, command: str = "") -> list[str]:
    written = []
    for name, fig in (("ppc.png", ppc_figure(v)), ("coverage.png", coverage_figure(v.coverage)),
                      ("forecast.png", forecast_figure(v))):
        if fig is None:
            continue
        fig.savefig(folder / name, dpi=DPI)
        plt.close(fig)
        written.append(name)
    v.coverage.to_csv(folder / "coverage.csv", index=False)
    written.append("coverage.csv")
    if v.responses is not None:
        v.responses.to_csv(folder / "responses.csv", index=False, float_format="%.6g")
        written.append("responses.csv")
    if v.scores is not None and not v.scores.items.empty:
        v.scores.items.to_csv(folder / "scores.csv", index=False)
        v.scores.means.to_csv(folder / "scores_mean.csv", index=False)
        written += ["scores.csv", "scores_mean.csv"]
    (folder / "validation.md").write_text(validation_report(v, posterior_dir, command))
    return ["validation.md", *written]
