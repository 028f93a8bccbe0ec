"""Checking a calibration: posterior predictive checks and out-of-sample scores.

What lives here: :func:`predictive` (an ensemble with one posterior draw per replicate),
:func:`coverage` (is the record inside the ensemble's 90% band, target by target),
:func:`crps_sample` (the continuous ranked probability score of a sample forecast),
:func:`out_of_sample` (scores after ``--until`` of the model and of the Poisson and Hawkes
baselines fitted on the record up to it) and :func:`validate` (all of it, for the CLI). What
does not: figures and the report (``calibration.report``), the baselines themselves
(``calibration.baselines``).

Out-of-sample scoring (Gneiting & Raftery 2007, "Strictly proper scoring rules, prediction,
and estimation", JASA 102): the CRPS of each forecast count, lower is better, averaged over

* monthly U.S. strike rounds after the date (the record lists every strike round), and
* the attack tallies whose period starts after the date (the record's attack counts).

The model forecasts by running the whole window with parameters drawn from a posterior
fitted on the record up to the date; it is given the documented shocks (the Gaza war of
October 2023) as scenario inputs, the baselines are not: the comparison asks whether the
model with its drivers forecasts better than statistics of the past alone. The Poisson
baseline's rate is the MLE on the window; the Hawkes baseline is fitted on the event days
of the window and simulated forward from its history. The record lists major attacks only,
so the attack baselines are fitted on the tallies: the Poisson rate on non-overlapping
tallies before the date, the Hawkes process on the documented attack days before the date
with its forecast counts scaled by the record's completeness (tallied attacks per
documented attack in the tallies' periods).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from calibration import targets as tg
from calibration.baselines import Hawkes, PoissonBaseline, event_times
from calibration.posterior import Posterior, draw_overrides
from calibration.simulator import params_for_rule, simulate_events
from sim.errors import InputError

from calibration.defaults import DEFAULT_REPLICATES  # noqa: E402,F401
BAND = (0.05, 0.95)
#: Predictive samples drawn from each baseline.
BASELINE_SAMPLES = 2000
#: Replicate indices of predictive runs start here (apart from the calibration's runs).
PREDICTIVE_REPLICATE = 2 * 10 ** 9


# --- The ensemble -------------------------------------------------------------------------------

def predictive(post: Posterior, posterior_dir, scenario, replicates: int = DEFAULT_REPLICATES,
               seed: int | None = None, chunk: int = 500) -> tg.Series:
    """Daily series of ``replicates`` runs of the whole scenario window, each with its own
    draw from the posterior (its most probable rule)."""
    seed = int(post.meta["seed"] if seed is None else seed)
    overrides = draw_overrides(posterior_dir, replicates, seed)
    params = params_for_rule(scenario.params, post.best_rule)
    reps = PREDICTIVE_REPLICATE + np.arange(replicates)
    parts = []
    for lo in range(0, replicates, chunk):
        sl = slice(lo, lo + chunk)
        parts.append(simulate_events(params, scenario.start, scenario.end, seed, reps[sl],
                                     {k: v[sl] for k, v in overrides.items()}))
    events = pd.concat(parts, ignore_index=True)
    return tg.daily_series(events, scenario.start, scenario.end, reps)


# --- Coverage -------------------------------------------------------------------------------------

def coverage(targets: list[tg.Target], observed: np.ndarray, simulated: np.ndarray,
             band: tuple[float, float] = BAND, until=None) -> pd.DataFrame:
    """One row per target: the record's value, the ensemble's quantiles, whether the record
    lies inside the band under the tally's bound (:func:`calibration.targets.inside`: an
    ``at_least`` count is inside when the band's upper end reaches it; a tally with a low
    and a high count when the two intervals overlap), and where the record falls in the
    ensemble (mid-rank percentile).

    ``until``: mark targets that start after it as out of sample.
    """
    rows = []
    for i, t in enumerate(targets):
        x = simulated[:, i]
        x = x[np.isfinite(x)]
        y = observed[i]
        if len(x) == 0 or not np.isfinite(y):
            lo = med = hi = pct = np.nan
            inside = False
        else:
            lo, med, hi = np.quantile(x, [band[0], 0.5, band[1]])
            inside = tg.inside(t, lo, hi, y)
            pct = float(np.mean(x < y) + 0.5 * np.mean(x == y))
        rows.append(dict(
            target=t.name, fit=t.fit, start=t.start, end=t.end, observed=y,
            observed_high=t.observed_high, q05=lo, median=med, q95=hi, inside=inside,
            percentile=pct, missing_share=float(np.mean(~np.isfinite(simulated[:, i]))),
            sample="out" if until is not None and pd.Timestamp(t.start) > pd.Timestamp(until)
            else "in", description=t.description))
    return pd.DataFrame(rows)


# --- Scores ---------------------------------------------------------------------------------------

def crps_sample(samples: np.ndarray, y: np.ndarray) -> np.ndarray:
    """CRPS of sample forecasts: ``samples`` (n x m) for m observations ``y``.

    CRPS(F, y) = E|X - y| - E|X - X'| / 2 (Gneiting & Raftery 2007, eq. 21), with the
    second term from the sorted sample: E|X - X'| = 2 / n^2 sum_i (2i - n - 1) x_(i).
    """
    x = np.sort(np.asarray(samples, dtype=float), axis=0)
    if x.ndim == 1:
        x = x[:, None]
    y = np.atleast_1d(np.asarray(y, dtype=float))
    n = x.shape[0]
    term1 = np.mean(np.abs(x - y[None, :]), axis=0)
    i = np.arange(1, n + 1)[:, None]
    term2 = np.sum((2 * i - n - 1) * x, axis=0) / n ** 2
    return term1 - term2


def month_edges(until: pd.Timestamp, end: pd.Timestamp) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """Calendar months after ``until`` to ``end`` (the first one starts the day after)."""
    out, day = [], until + pd.Timedelta(days=1)
    while day <= end:
        last = min(day + pd.offsets.MonthEnd(0), end)
        out.append((day, last))
        day = last + pd.Timedelta(days=1)
    return out


def _non_overlapping(rows: pd.DataFrame) -> pd.DataFrame:
    """Greedy: longest first, keep a tally only if it overlaps none kept."""
    kept: list[pd.Series] = []
    order = rows.assign(days=(rows["end"] - rows["start"]).dt.days).sort_values(
        ["days", "tally_id"], ascending=[False, True])
    for _, r in order.iterrows():
        if all(r["end"] < k["start"] or r["start"] > k["end"] for k in kept):
            kept.append(r)
    return pd.DataFrame(kept).sort_values("start") if kept else rows.iloc[:0]


@dataclass
class Scores:
    """Out-of-sample scores: per item (month or tally) and the means."""

    items: pd.DataFrame
    means: pd.DataFrame
    fits: dict = field(default_factory=dict)


def out_of_sample(series: tg.Series, record: pd.DataFrame, tallies: pd.DataFrame,
                  until: pd.Timestamp, end: pd.Timestamp, seed: int = 0) -> Scores:
    """CRPS of the model's ensemble and of the two baselines after ``until``."""
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0x6F6F73]))
    start = series.start
    rec = tg.daily_series(record, start, end)
    fit_days = series.day(until) + 1
    rows, fits = [], {}

    # Monthly strike rounds.
    months = month_edges(until, end)
    if months:
        rounds = rec["strike_rounds"][:, 0]
        pois = PoissonBaseline.fit(rounds[:fit_days], 1.0)
        history = event_times(np.flatnonzero(rounds[:fit_days] > 0))
        hawkes = Hawkes.fit(history, float(fit_days))
        fits["strike_rounds"] = dict(poisson_rate=pois.rate, hawkes=vars(hawkes),
                                     events=len(history))
        d0 = np.array([series.day(a) for a, _ in months])
        d1 = np.array([series.day(b) for _, b in months])
        edges = np.append(d0, d1[-1] + 1).astype(float)
        model = np.column_stack([series.window("strike_rounds", a, b) for a, b in zip(d0, d1)])
        obs = np.array([rounds[a:b + 1].sum() for a, b in zip(d0, d1)])
        samples = {"model": model, "poisson": pois.sample(d1 - d0 + 1, BASELINE_SAMPLES, rng),
                   "hawkes": hawkes.sample_counts(history, edges, BASELINE_SAMPLES, rng)}
        scores = {k: crps_sample(v, obs) for k, v in samples.items()}
        for j, (a, b) in enumerate(months):
            rows.append(dict(series="strike_rounds_monthly", item=f"{a:%Y-%m}",
                             start=a, end=b, observed=obs[j],
                             **{f"mean_{k}": float(v[:, j].mean()) for k, v in samples.items()},
                             **{f"crps_{k}": float(s[j]) for k, s in scores.items()}))

    # Attack tallies after the date.
    att = tallies[tallies["measure"] == "attacks"]
    after = att[(att["start"] > until) & (att["end"] <= end)]
    before = _non_overlapping(att[att["end"] <= until])
    if len(after) and len(before):
        days_before = ((before["end"] - before["start"]).dt.days + 1).to_numpy()
        pois = PoissonBaseline.fit(before["count"].to_numpy(), days_before)
        documented = rec["attacks"][:, 0]
        doc_in = sum(documented[series.day(r.start):series.day(r.end) + 1].sum()
                     for r in before.itertuples())
        completeness = float(before["count"].sum() / doc_in) if doc_in > 0 else np.nan
        history = event_times(np.flatnonzero(documented[:fit_days] > 0),
                              documented[:fit_days][documented[:fit_days] > 0])
        hawkes = Hawkes.fit(history, float(fit_days))
        fits["attack_tallies"] = dict(poisson_rate=pois.rate, hawkes=vars(hawkes),
                                      tallies=before["tally_id"].tolist(),
                                      completeness=completeness, events=len(history))
        # one set of Hawkes continuations for every tally window
        paths = hawkes.simulate(history, float(fit_days), float(series.days),
                                BASELINE_SAMPLES, rng)
        for r in after.itertuples():
            a, b = series.day(r.start), series.day(r.end)
            obs = float(r.count) if pd.isna(r.count_high) else 0.5 * (r.count + r.count_high)
            model = series.window(f"attacks@{r.scope}", a, b)
            ps = pois.sample([b - a + 1], BASELINE_SAMPLES, rng)[:, 0]
            if np.isfinite(completeness):
                hs = completeness * np.array([np.sum((p >= a) & (p < b + 1)) for p in paths],
                                             dtype=float)
            else:
                hs = np.full(BASELINE_SAMPLES, np.nan)
            samples = {"model": model, "poisson": ps, "hawkes": hs}
            rows.append(dict(series="attack_tallies", item=r.tally_id, start=r.start, end=r.end,
                             observed=obs,
                             **{f"mean_{k}": float(np.mean(v)) for k, v in samples.items()},
                             **{f"crps_{k}": float(crps_sample(v, [obs])[0])
                                for k, v in samples.items()}))
    items = pd.DataFrame(rows)
    return Scores(items, _means(items), fits)


def _means(items: pd.DataFrame) -> pd.DataFrame:
    """Mean CRPS per series and model, and the paired difference model - baseline with its
    standard error over items (how sure the ranking is)."""
    if items.empty:
        return pd.DataFrame()
    rows = []
    for name, g in items.groupby("series", sort=False):
        row = dict(series=name, items=len(g))
        for k in ("model", "poisson", "hawkes"):
            row[f"crps_{k}"] = float(g[f"crps_{k}"].mean())
        for k in ("poisson", "hawkes"):
            diff = (g["crps_model"] - g[f"crps_{k}"]).to_numpy()
            row[f"model_minus_{k}"] = float(diff.mean())
            row[f"se_vs_{k}"] = float(diff.std(ddof=1) / np.sqrt(len(diff))) if len(diff) > 1 \
                else np.nan
        rows.append(row)
    return pd.DataFrame(rows)


# --- All of it ------------------------------------------------------------------------------------

@dataclass
class Validation:
    """What ``escalation validate`` computes."""

    coverage: pd.DataFrame
    series: tg.Series
    record_series: tg.Series
    scores: Scores | None
    until: pd.Timestamp | None
    targets: list[tg.Target]
    patterns: pd.DataFrame | None = None
    responses: pd.DataFrame | None = None


def validate(posterior_dir, scenario, until=None, replicates: int = DEFAULT_REPLICATES,
             seed: int | None = None, record: pd.DataFrame | None = None,
             tallies: pd.DataFrame | None = None) -> Validation:
    """Posterior predictive checks of a calibration, and out-of-sample scores after ``until``.

    ``until`` must not be earlier than the date the posterior was fitted up to (else the
    "out-of-sample" record was used to fit); without it, the posterior's own ``until`` (if
    any) is used for the scores.
    """
    from calibration import posterior as posterior_mod
    from calibration.fit import parse_until
    from calibration.record import load_record, load_tallies
    post = posterior_mod.read(posterior_dir)
    until = parse_until(until, scenario)
    fitted_until = post.until
    if until is None:
        until = fitted_until
    elif fitted_until is None or fitted_until > until:
        shown = fitted_until.strftime("%Y-%m-%d") if fitted_until is not None else "its end"
        raise InputError(str(posterior_dir), "--until",
                         f"the posterior was fitted on the record up to {shown}, so the "
                         f"record after {until:%Y-%m-%d} is not out of sample; calibrate "
                         f"with: escalation calibrate --until {until:%Y-%m-%d} --out DIR")
    record = load_record() if record is None else record
    tallies = load_tallies() if tallies is None else tallies
    start, end = scenario.start.strftime("%Y-%m-%d"), scenario.end.strftime("%Y-%m-%d")
    targets = tg.default_targets(tallies, start, end)
    series = predictive(post, posterior_dir, scenario, replicates, seed)
    simulated = tg.evaluate(targets, series)
    observed = tg.observed(targets, record, start, end)
    table = coverage(targets, observed, simulated, until=until)
    scores = None
    if until is not None:
        scores = out_of_sample(series, record, tallies, until, scenario.end,
                               seed=int(post.meta["seed"] if seed is None else seed))
    from calibration.patterns import pattern_table
    patterns = pattern_table(record, series.events, start, end, series.replicates)
    responses = turning_points(post, posterior_dir, scenario, record, replicates, seed, until)
    return Validation(table, series, tg.daily_series(record, start, end), scores, until,
                      targets, patterns, responses)


def turning_points(post: Posterior, posterior_dir, scenario, record: pd.DataFrame,
                   replicates: int, seed: int | None, until=None) -> pd.DataFrame:
    """``calibration.responses.response_table`` with the posterior predictive's draws: how
    runs that replay the record up to each turning point go on from it."""
    from calibration.responses import TURNING_POINTS, response_table, stand_down_days
    seed = int(post.meta["seed"] if seed is None else seed)
    points = tuple(tp for tp in TURNING_POINTS if pd.Timestamp(tp.end) <= scenario.end)
    return response_table(params_for_rule(scenario.params, post.best_rule), record, seed,
                          PREDICTIVE_REPLICATE + np.arange(replicates),
                          draw_overrides(posterior_dir, replicates, seed), until, points,
                          scenario.start,
                          filter_draws=lambda origin: draw_overrides(
                              posterior_dir, replicates, seed,
                              without_decisions=stand_down_days(record, origin))
                          if post.meta.get("decisions", {}).get("applied") else None)
