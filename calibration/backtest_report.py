"""Files of a backtest: the tables, the report that says where the model loses, the fans.

What lives here: :func:`write_backtest` (``forecasts.csv``, ``scores.csv``, ``patterns.csv``,
``report.md``, ``fans.png`` into a folder), :func:`headline` (the table the README quotes) and
:func:`fans_figure`. What does not: computing forecasts or scores (``calibration.backtest``).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from calibration.backtest import BASELINES, Backtest
from calibration.report import DPI, MODEL_COLOUR, RECORD_COLOUR, _table

FORECAST_COLUMNS = ("origin", "target", "window_start", "window_end", "observed", "forecaster",
                    "median", "lo90", "hi90", "crps", "ign", "interval_score")
BASELINE_COLOUR = "#d95f02"


def headline(bt: Backtest, horizon: int | None = None) -> pd.DataFrame:
    """Per target, over all origins at one horizon: mean CRPS of the model and of every
    baseline, the best baseline, and model - best with its 90% block-bootstrap interval."""
    h = horizon or max(bt.horizons)
    s = bt.scores[(bt.scores["origin"] == "all") & (bt.scores["horizon"] == h)]
    rows = []
    for target, g in s.groupby("target", sort=False):
        crps = g.set_index("forecaster")["crps"]
        base = crps.drop("model").dropna()
        best = base.idxmin() if len(base) else ""
        row = dict(target=target, windows=int(g[g["forecaster"] == "model"]["windows"].sum()),
                   model=crps.get("model", np.nan))
        row.update({b: crps.get(b, np.nan) for b in BASELINES})
        row["best_baseline"] = best
        if best:
            r = g[g["forecaster"] == best].iloc[0]
            row["model_minus_best"] = r["model_minus_crps"]
            row["lo90"] = r["model_minus_crps_lo90"]
            row["hi90"] = r["model_minus_crps_hi90"]
        rows.append(row)
    return pd.DataFrame(rows)


def verdicts(bt: Backtest, horizon: int | None = None) -> list[str]:
    """Plain sentences: for every target and baseline, whether the model wins, loses or
    cannot be told apart (the 90% interval of the mean CRPS difference holds 0)."""
    h = horizon or max(bt.horizons)
    s = bt.scores[(bt.scores["origin"] == "all") & (bt.scores["horizon"] == h)
                  & (bt.scores["forecaster"] != "model")]
    lines = []
    for target, g in s.groupby("target", sort=False):
        lose = g[g["model_minus_crps_lo90"] > 0]["forecaster"].tolist()
        win = g[g["model_minus_crps_hi90"] < 0]["forecaster"].tolist()
        tie = g[(g["model_minus_crps_lo90"] <= 0) & (g["model_minus_crps_hi90"] >= 0)][
            "forecaster"].tolist()
        parts = []
        if lose:
            parts.append("**loses** to " + ", ".join(lose))
        if tie:
            parts.append("cannot be told apart from " + ", ".join(tie))
        if win:
            parts.append("beats " + ", ".join(win))
        lines.append(f"- `{target}`: the model " + "; ".join(parts) + ".")
    return lines


def fans_figure(bt: Backtest) -> plt.Figure:
    """One panel per origin: the record's monthly attacks, the model's fan (50% and 90%
    bands, median) and the fan of the best baseline on attacks at that origin."""
    n = len(bt.origins)
    ncol = 2 if n > 1 else 1
    nrow = int(np.ceil(n / ncol))
    fig, axes = plt.subplots(nrow, ncol, figsize=(6.4 * ncol, 3.2 * nrow), squeeze=False,
                             layout="constrained")
    f = bt.forecasts
    for ax, res in zip(axes.flat, bt.origins):
        m = res.fan["months"]
        after = m[m["after"]]
        o = res.origin.strftime("%Y-%m-%d")
        sub = f[(f["origin"] == o) & (f["target"] == "attacks") & (f["forecaster"] != "model")]
        means = sub.groupby("forecaster")["crps"].mean().dropna()
        best = means.idxmin() if len(means) else None
        mid = pd.Timedelta(days=14)
        x = after["month"] + mid
        ax.fill_between(x, after["model_q5"], after["model_q95"], color=MODEL_COLOUR,
                        alpha=0.18, label="model 90%")
        ax.fill_between(x, after["model_q25"], after["model_q75"], color=MODEL_COLOUR,
                        alpha=0.35, label="model 50%")
        ax.plot(x, after["model_q50"], color=MODEL_COLOUR, lw=1.5, label="model median")
        if best and f"{best}_q50" in after:
            ax.plot(x, after[f"{best}_q50"], color=BASELINE_COLOUR, lw=1.3, ls="--",
                    label=f"{best} median")
            ax.plot(x, after[f"{best}_q5"], color=BASELINE_COLOUR, lw=0.8, ls=":")
            ax.plot(x, after[f"{best}_q95"], color=BASELINE_COLOUR, lw=0.8, ls=":",
                    label=f"{best} 90%")
        ax.plot(m["month"] + mid, m["record"], "o-", color=RECORD_COLOUR, ms=3, lw=0.8,
                label="record (documented rows)")
        ax.axvline(res.origin, color="grey", lw=1, ls="--")
        ax.set_title(f"origin {o}: model vs {best or '-'} (best baseline on attacks)",
                     fontsize=9)
        ax.set_ylabel("attacks per month")
        ax.tick_params(axis="x", labelsize=7, rotation=30)
        ax.set_ylim(bottom=0)
        ax.legend(fontsize=6, loc="upper left")
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    fig.suptitle("Backtest: monthly attacks on U.S. forces (Iraq, Syria, Jordan), forecast "
                 "from each origin" + (f" (without {', '.join(bt.without)})"
                                       if bt.without else ""), fontsize=10)
    return fig


def report_text(bt: Backtest, patterns: pd.DataFrame, command: str) -> str:
    h = max(bt.horizons)
    table = headline(bt, h)
    per_origin = bt.scores[(bt.scores["origin"] != "all") & (bt.scores["horizon"] == h)
                           & (bt.scores["target"] == "attacks")].pivot(
        index="origin", columns="forecaster", values="crps")
    per_origin = per_origin[[c for c in ("model",) + BASELINES if c in per_origin]]
    post_rows = []
    for r in bt.origins:
        s = r.posterior_summary.set_index("parameter")["q50"]
        post_rows.append(dict(origin=r.origin.strftime("%Y-%m-%d"), rule=r.best_rule,
                              simulations=r.simulations, runs_kept=r.kept, **s.to_dict(),
                              **r.seconds))
    inside = int(patterns["inside"].sum()) if len(patterns) else 0
    lines = [
        "# Backtest: rolling-origin forecasts against baselines",
        "",
        f"- command: `{command}`",
        f"- origins: {', '.join(bt.settings['origins'])}; horizons: "
        f"{', '.join(map(str, bt.horizons))} days; calibration budget "
        f"{bt.settings['budget']} simulations ({bt.settings['population']} particles) per "
        f"origin; {bt.settings['replicates']} forecast runs; seed {bt.settings['seed']}",
        f"- dated inputs taken away (`--without`): "
        f"{', '.join(bt.without) if bt.without else 'none'}",
        "- the model's runs " + ("replay the record up to each origin (`--condition`), and "
                                 "only those that agree with the stand-downs it documents are "
                                 "kept (`runs_kept` below)"
                                 if bt.settings.get("condition") else
                                 "are not conditioned on the record before the origin"),
        f"- time: {bt.seconds:.0f} s",
        "",
        "Every forecaster sees the record only up to the origin (rows dated on or before it, "
        "counts whose period ends on or before it). Scores are negatively oriented (lower is "
        "better): CRPS, ignorance (bits) and the 90% interval score. Differences are "
        "model - baseline, mean over windows, with a 90% moving-block bootstrap interval "
        "(blocks of 3 months, within origins).",
        "",
        f"## Mean CRPS over all origins, horizon {h} days",
        "",
        _table(table),
        "",
        "## Where the model wins and loses (CRPS, 90% intervals)",
        "",
        *verdicts(bt, h),
        "",
        f"## CRPS of monthly attacks by origin (horizon {h} days)",
        "",
        _table(per_origin.reset_index()) if len(per_origin) else "(none)",
        "",
        "## Calibration at each origin (posterior medians, timings in s)",
        "",
        _table(pd.DataFrame(post_rows)),
        "",
        f"## Patterns of the record (history scenario ensemble): {inside} of {len(patterns)} "
        "inside the 90% band",
        "",
        _table(patterns.drop(columns=["description"])) if len(patterns) else "(none)",
        "",
        *[f"- `{r.pattern}`: {r.description}" for r in patterns.itertuples()],
        "",
        "## What this backtest does not control",
        "",
        ("- The model's ensemble runs from 2019-10-01 with posterior draws and replays the "
         "record (as it stood at the origin) for every actor up to the origin "
         "(`--condition`): the forecast starts from the state the documented history left."
         if bt.settings.get("condition") else
         "- The model's ensemble runs from 2019-10-01 with posterior draws; it is not "
         "conditioned on the documented history before the origin, while every baseline is "
         "(`--condition` conditions it)."),
        "- The record's event rows are a selection of the attacks (the published counts are "
        "higher): monthly attack targets compare the simulated attacks the observation model "
        "says the record would list with the documented rows; published counts (the "
        "`published_counts` target) compare every simulated attack with the published "
        "figures.",
        "- Published counts worded 'at least' or 'more than' are scored as if exact.",
        "- Parameters not fitted keep the defaults of `sim/params.py`, some of which were read "
        "off the whole record (sources marked `record` there: site weights, strike lags and "
        "sizes, Iran's answer to a leader strike, Baghdad's condemnation rate). They leak the "
        "future into early origins; refitting them per origin belongs to the model revision.",
        "- The regional war's size (a dated input, taken away from the model and "
        "`hawkes_cov` alike by `escalation backtest --without regional_war`) is fixed in the "
        "scenario, not fitted: `hawkes_cov` cannot learn its effect before it happens, the "
        "model is told it.",
        "",
        "Files: `forecasts.csv` (one row per origin, target, window and forecaster), "
        "`scores.csv` (means per origin and forecaster; `origin = all` rows carry the paired "
        "differences), `patterns.csv`, `fans.png`, `manifest.json`.",
        "",
    ]
    return "\n".join(lines)


def write_backtest(bt: Backtest, patterns: pd.DataFrame, folder: Path, command: str
                   ) -> list[str]:
    """Write every file of a backtest into ``folder``; return their names."""
    folder = Path(folder)
    cols = list(FORECAST_COLUMNS) + [c for c in bt.forecasts.columns
                                     if c not in FORECAST_COLUMNS]
    bt.forecasts[cols].to_csv(folder / "forecasts.csv", index=False, float_format="%.6g")
    bt.scores.to_csv(folder / "scores.csv", index=False, float_format="%.6g")
    patterns.to_csv(folder / "patterns.csv", index=False, float_format="%.6g")
    (folder / "report.md").write_text(report_text(bt, patterns, command))
    fig = fans_figure(bt)
    fig.savefig(folder / "fans.png", dpi=DPI)
    plt.close(fig)
    return ["forecasts.csv", "scores.csv", "patterns.csv", "report.md", "fans.png"]
