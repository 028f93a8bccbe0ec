"""Rolling-origin backtest: calibrate on the record up to a date, forecast what followed, score
the forecast against strong baselines given the same information.

What lives here: the forecast windows of one origin (:func:`windows_at`: calendar months of
the horizon for five monthly targets, and the record's published counts that fall inside the
horizon, as increments), the forecasters (the calibrated model and the baselines of
:data:`BASELINES`), :func:`backtest_origin` (one origin end to end) and :func:`backtest`
(every origin, then the score tables). What does not: the proper scores and the bootstrap
(``calibration.scoring``), the baseline processes (``calibration.baselines``), files, report
and figure (``calibration.backtest_report``), the command line (``sim.commands.backtest``).

The protocol (pre-registered here, before any result: the VIEWS prediction challenges' practice,
Hegre et al. 2019 and Vesco et al. 2022, "United they stand: findings from an escalation
prediction competition", Int. Interactions 48):

1. At each origin the record is cut: only event rows dated on or before the origin and tallies
   whose period ends on or before it reach the calibration (``cut_record``). A test poisons
   the future and checks nothing changes.
2. The model is calibrated by ABC-SMC on the cut record (``calibration.fit.calibrate``), then
   an ensemble is run with one posterior draw per replicate from the scenario's start to the
   end of the horizon. By default the ensemble is not conditioned on the documented history
   before the origin (the baselines are); with ``condition`` (``--condition``) every actor
   is forced to act as the record up to the origin says (``[replay] until``, the cut
   record only) and decides for itself after it: the forecast starts from the state the
   documented history left.
3. Targets, never overlapping: per calendar month of the horizon (cut at its ends), attacks
   on U.S. forces (Iraq, Syria, Jordan), U.S. strike rounds, U.S. and coalition killed, U.S.
   wounded, the highest rung reached; and each published count whose period lies inside the
   horizon, cumulative counts as increments between consecutive published values.
4. Baselines, each fitted on the record's daily series up to the origin only: ``zero``;
   ``last`` (the last calendar month before the origin, repeated); ``conflictology`` (draws
   from the last 12 months, VIEWS' benchmark); ``poisson`` (constant rate, MLE); ``hawkes``
   (self-exciting, MLE); ``hawkes_cov`` (a Hawkes process whose background responds to every
   dated input the model is given: each shock kind of the scenario and the U.S. posture).
   Published counts include attacks the record's rows do not list, so a baseline's forecast
   of a published count is scaled by the record's completeness before the origin (published
   attacks per documented attack over the counts' periods), as the model's is not: the
   model's monthly windows count the attacks its observation model says the record would
   list (``calibration.observation``), its published-count windows every simulated attack.
5. Scores: CRPS, ignorance and the 90% interval score (``calibration.scoring``); paired
   differences model - baseline with a moving-block bootstrap over months.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from calibration import defaults
from calibration import targets as tg
from calibration.baselines import Hawkes, HawkesCov, event_times
from calibration.patterns import daily_max_rung
from calibration.scoring import block_bootstrap, score_samples
from sim.errors import InputError

#: Origins, horizons, budget, population and ensemble size (``calibration.defaults``).
DEFAULT_ORIGINS = defaults.BACKTEST_ORIGINS
DEFAULT_HORIZONS = defaults.BACKTEST_HORIZONS
DEFAULT_BUDGET = defaults.BACKTEST_BUDGET
DEFAULT_POPULATION = defaults.BACKTEST_POPULATION
DEFAULT_REPLICATES = defaults.BACKTEST_REPLICATES
BASELINE_SAMPLES = DEFAULT_REPLICATES  # as many draws as the model has runs: equal worst-case ignorance
#: Replicate indices of forecast runs start here (apart from the calibration's own runs).
FORECAST_REPLICATE = 3 * 10 ** 9

BASELINES: tuple[str, ...] = ("zero", "last", "conflictology", "poisson", "hawkes",
                              "hawkes_cov")
FORECASTERS: tuple[str, ...] = ("model",) + BASELINES

#: Monthly targets: name -> daily series (``calibration.targets.Series``); ``highest_rung``
#: is the month's highest escalation rung instead of a sum.
MONTHLY: dict[str, str] = {
    "attacks": "attacks@iraq_syria_jordan",
    "strike_rounds": "strike_rounds",
    "us_coalition_killed": "deaths",
    "us_wounded": "wounded",
    "highest_rung": "",
}
#: Kinds of documented input ``--without`` can take away (the scenario's shock kinds).
POSTURE = "posture"


# --- The record as known at an origin --------------------------------------------------------

def cut_record(record: pd.DataFrame, tallies: pd.DataFrame, origin
               ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """What was documented by ``origin``: event rows dated on or before it, and tallies whose
    whole period ends on or before it. Nothing dated after the origin can reach a fit."""
    origin = pd.Timestamp(origin)
    rec = record[pd.to_datetime(record["date"]) <= origin].reset_index(drop=True)
    tal = tallies[pd.to_datetime(tallies["end"]) <= origin].reset_index(drop=True)
    return rec, tal


def without_inputs(scenario, kinds: tuple[str, ...]):
    """A copy of the scenario with every shock of the given kinds removed (an ablation)."""
    if not kinds:
        return scenario
    out = copy.deepcopy(scenario)
    out.params.shocks = [s for s in out.params.shocks if s.kind not in kinds]
    return out


def check_without(scenario, kinds) -> tuple[str, ...]:
    """``--without`` kinds must be dated inputs the scenario has."""
    have = sorted({s.kind for s in scenario.params.shocks})
    out = []
    for k in kinds:
        if k not in have:
            raise InputError(None, "--without", f"{k!r} is not a kind of dated input of "
                                                f"{scenario.name}; one of {', '.join(have)}")
        out.append(k)
    return tuple(out)


def covariates(scenario, start, end) -> tuple[np.ndarray, list[str]]:
    """The model's dated inputs as daily covariates (days x k) for ``hawkes_cov``: one column
    per kind of tension or restraint input of the scenario (a regional war with the truces
    that cut it, a freeze, Baghdad's restraint, the announced end of the combat mission) and
    the U.S. posture (log troops at the sites
    still held, scaled by the documented troops in Iraq and Syria from the posture inputs)."""
    from sim.arrays import Timeline, mission_series, shock_series, troop_series
    timeline = Timeline(pd.Timestamp(start), pd.Timestamp(end))
    cols, names = [], []
    kinds = {s.kind for s in scenario.params.shocks}
    for kind in sorted(kinds - {"truce", "us_troops_iraq", "us_troops_syria"}):
        p = copy.copy(scenario.params)
        with_truce = ("regional_war", "truce") if kind == "regional_war" else (kind,)
        p.shocks = [s for s in scenario.params.shocks if s.kind in with_truce]
        # The covariate is the input's date and decay, not the model's fitted rise: a ramp
        # seen for a few weeks before an origin extrapolates without bound in a log-linear
        # background (hawkes_cov's forecast from 2023-10-31 was 57 CRPS with it).
        p.war_onset_days = 0.0
        tension, restraint = shock_series(p, timeline)
        cols.append(np.nan_to_num(restraint) if kind == "iraq_government"
                    else mission_series(p, timeline) if kind == "combat_mission_end"
                    else tension)
        names.append(kind)
    dates = timeline.dates
    documented = troop_series(scenario.params, timeline)
    reference = np.array([scenario.params.us.troops_iraq, scenario.params.us.troops_syria])
    scale = np.where(reference > 0, documented / np.where(reference > 0, reference, 1), 1.0)
    troops = np.zeros(len(dates))
    for site in scenario.params.sites.values():
        held = np.ones(len(dates), bool) if not site.until else \
            np.asarray(dates <= pd.Timestamp(site.until))
        country = {"iraq": 0, "syria": 1}.get(site.country)
        factor = scale[:, country] if country is not None else 1.0
        troops += site.troops * held * factor
    cols.append(np.log1p(troops))
    names.append(POSTURE)
    return np.column_stack(cols), names


# --- Windows ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Window:
    """One forecast target of one origin.

    ``target``: a monthly target name, or ``tally:<measure>@<scope>`` for a published count;
    ``series``: the daily series it sums (empty for the highest rung); ``observed``: the
    record's value; ``tally``: the published counts it comes from (for the report).
    """

    target: str
    series: str
    start: pd.Timestamp
    end: pd.Timestamp
    observed: float
    tally: str = ""


def month_windows(origin, horizon: int) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """Calendar months from the day after ``origin`` to ``origin + horizon`` days, cut at
    both ends."""
    first = pd.Timestamp(origin) + pd.Timedelta(days=1)
    last = pd.Timestamp(origin) + pd.Timedelta(days=horizon)
    out, day = [], first
    while day <= last:
        end = min(day + pd.offsets.MonthEnd(0), last)
        out.append((day, end))
        day = end + pd.Timedelta(days=1)
    return out


def _central(row) -> float:
    return float(row.count) if pd.isna(row.count_high) else 0.5 * (row.count + row.count_high)


def tally_windows(tallies: pd.DataFrame, origin, horizon: int) -> list[Window]:
    """Published counts inside the horizon, as non-overlapping increments.

    Counts of one measure and scope that share a start are cumulative: each is scored as the
    increment over the previous published value (its window starts the day after the
    previous count's end). Windows that start on or before the origin, end after the horizon,
    or would overlap a kept window of the same measure and scope are dropped; so are negative
    increments (two sources that disagree).
    """
    origin = pd.Timestamp(origin)
    last = origin + pd.Timedelta(days=horizon)
    out: list[Window] = []
    for (measure, scope), g in tallies.groupby(["measure", "scope"], sort=True):
        series = tg.TALLY_SERIES.get(measure)
        if series is None:
            continue
        candidates = []
        for _, chain in g.groupby("start", sort=True):
            prev = None
            for row in chain.sort_values(["end", "tally_id"]).itertuples():
                if prev is None:
                    a, value, name = row.start, _central(row), row.tally_id
                else:
                    a = prev.end + pd.Timedelta(days=1)
                    value = _central(row) - _central(prev)
                    name = f"{row.tally_id} - {prev.tally_id}"
                if prev is None or row.end > prev.end:
                    candidates.append((a, row.end, value, name))
                    prev = row
        kept: list[tuple] = []
        for a, b, value, name in sorted(candidates, key=lambda c: (c[1], -c[0].value)):
            if a <= origin or b > last or value < 0:
                continue
            if any(not (b < k[0] or a > k[1]) for k in kept):
                continue
            kept.append((a, b, value, name))
        out += [Window(f"tally:{measure}@{scope}", f"{series}@{scope}", a, b, v, tally=name)
                for a, b, v, name in kept]
    return out


def windows_at(record_series: tg.Series, record_rung: np.ndarray, tallies: pd.DataFrame,
               origin, horizon: int) -> list[Window]:
    """Every forecast window of one origin with the record's observed value."""
    out = []
    for a, b in month_windows(origin, horizon):
        d0, d1 = record_series.day(a), record_series.day(b)
        for target, series in MONTHLY.items():
            if target == "highest_rung":
                obs = float(record_rung[d0:d1 + 1, 0].max()) if d1 >= d0 else 0.0
            else:
                obs = float(record_series.window(series, d0, d1)[0])
            out.append(Window(target, series, a, b, obs))
    return out + tally_windows(tallies, origin, horizon)


# --- Forecasters ---------------------------------------------------------------------------------

def completeness(record_series: tg.Series, tallies_before: pd.DataFrame, series: str) -> float:
    """Published counts per documented row over the non-overlapping published periods before
    the origin that count ``series`` (1 when none is known: the record is taken as complete)."""
    from calibration.validate import _non_overlapping
    measure = {v: k for k, v in tg.TALLY_SERIES.items()}.get(series.split("@")[0])
    rows = tallies_before[tallies_before["measure"] == measure] if measure else \
        tallies_before.iloc[:0]
    if rows.empty:
        return 1.0
    rows = _non_overlapping(rows)
    published = documented = 0.0
    for r in rows.itertuples():
        published += _central(r)
        documented += float(record_series.window(f"{series.split('@')[0]}@{r.scope}",
                                                  record_series.day(r.start),
                                                  record_series.day(r.end))[0])
    return published / documented if documented > 0 else 1.0


@dataclass
class BaselineSet:
    """The baselines of one origin, fitted lazily per daily series on the record up to the
    origin (day ``fit_days - 1``)."""

    record_series: tg.Series
    record_rung: np.ndarray
    covariates: np.ndarray
    fit_days: int
    horizon_end: int
    rng: np.random.Generator
    fits: dict = field(default_factory=dict)
    _paths: dict = field(default_factory=dict)

    def history(self, series: str) -> np.ndarray:
        return self.record_series[series][:self.fit_days, 0]

    def _months_before(self, values: np.ndarray, how: str = "sum") -> np.ndarray:
        """Calendar-month sums (or maxima) of a daily history, full months only."""
        dates = self.record_series.dates[:self.fit_days]
        frame = pd.Series(values, index=dates)
        grouped = frame.groupby(dates.to_period("M"))
        agg = grouped.max() if how == "max" else grouped.sum()
        full = grouped.size() == pd.Index(agg.index).days_in_month
        return agg[full.to_numpy()].to_numpy(dtype=float)

    def sample(self, name: str, w: Window, n: int) -> np.ndarray:
        """``n`` draws of the window's value from baseline ``name`` (NaN: not applicable)."""
        d0, d1 = self.record_series.day(w.start), self.record_series.day(w.end)
        length = d1 - d0 + 1
        if w.target == "highest_rung":
            return self._rung(name, length, n)
        hist = self.history(w.series)
        if name == "zero":
            return np.zeros(n)
        if name in ("last", "conflictology"):
            months = self._months_before(hist)
            if len(months) == 0:
                return np.full(n, np.nan)
            if name == "last":
                return np.full(n, months[-1] * length / 30.44)
            return self.rng.choice(months[-12:], size=n) * length / 30.44
        if name == "poisson":
            return self.rng.poisson(hist.mean() * length, size=n).astype(float)
        if name in ("hawkes", "hawkes_cov"):
            paths = self._hawkes_paths(name, w.series, n)
            return np.array([np.sum((p >= d0) & (p < d1 + 1)) for p in paths], dtype=float)
        raise KeyError(name)

    def _rung(self, name: str, length: int, n: int) -> np.ndarray:
        rung = self.record_rung[:self.fit_days, 0]
        if name == "zero":
            return np.zeros(n)
        if name in ("last", "conflictology"):
            months = self._months_before(rung, "max")
            if len(months) == 0:
                return np.full(n, np.nan)
            return np.full(n, months[-1]) if name == "last" else \
                self.rng.choice(months[-12:], size=n)
        if name == "poisson":
            # days reaching each rung or more as independent Poisson counts; the highest rung
            # with at least one such day in the window
            levels = np.arange(1, 10)
            rates = np.array([(rung >= r).mean() for r in levels])
            hit = self.rng.poisson(rates[None, :] * length, size=(n, len(levels))) > 0
            return np.where(hit.any(axis=1), levels[::-1][np.argmax(hit[:, ::-1], axis=1)],
                            0).astype(float)
        return np.full(n, np.nan)   # the Hawkes baselines forecast counts, not rungs

    def _hawkes_paths(self, name: str, series: str, n: int) -> list[np.ndarray]:
        key = (name, series)
        if key not in self._paths:
            hist = self.history(series)
            times = event_times(np.flatnonzero(hist > 0), hist[hist > 0].astype(int))
            T = float(self.fit_days)
            if name == "hawkes":
                proc = Hawkes.fit(times, T)
                self.fits[f"hawkes:{series}"] = dict(mu=proc.mu, alpha=proc.alpha,
                                                     beta=proc.beta, events=len(times))
                paths = proc.simulate(times, T, float(self.horizon_end + 1), n, self.rng)
            else:
                proc = HawkesCov.fit(times, T, self.covariates)
                self.fits[f"hawkes_cov:{series}"] = dict(
                    b0=proc.b0, alpha=proc.alpha, beta=proc.beta,
                    gamma_per_sd=proc.gamma.round(3).tolist(), used=proc.used.tolist(),
                    events=len(times))
                paths = proc.simulate(times, T, float(self.horizon_end + 1), self.covariates,
                                      n, self.rng)
            self._paths[key] = paths
        return self._paths[key]


def model_samples(series: tg.Series, rung: np.ndarray, w: Window) -> np.ndarray:
    """The ensemble's values of one window (one per replicate)."""
    d0, d1 = series.day(w.start), series.day(w.end)
    if w.target == "highest_rung":
        return rung[d0:d1 + 1].max(axis=0).astype(float)
    # published counts count every attack; monthly windows are compared with record rows
    return (series if w.tally else series.documented).window(w.series, d0, d1)


# --- One origin ----------------------------------------------------------------------------------

@dataclass
class OriginResult:
    """Forecast rows of one origin, its fitted posterior summary and timings."""

    origin: pd.Timestamp
    forecasts: pd.DataFrame
    posterior_summary: pd.DataFrame
    best_rule: str
    simulations: int
    seconds: dict
    fits: dict
    fan: dict
    kept: float = 1.0      # share of the forecast runs kept (``forecast_ensemble``)


def forecast_ensemble(post, scenario, end, replicates: int, seed: int, condition_on=None):
    """Daily series (and highest rungs) of ``replicates`` runs from the scenario's start to
    ``end``, one posterior draw each, and the share of runs kept; ``condition_on`` (origin,
    record up to it): the runs replay that record up to the origin
    (``calibration.simulator.conditioned``), and only those that agree with the stand-downs
    it documents are kept (``calibration.responses.agreeing_at_origin``: the replay forces
    acts, not decisions; all runs are kept when nothing is documented or none agrees). A
    posterior weighed by the record's decisions (``calibration.decisions``) is drawn from
    without the decisions the filter conditions on itself."""
    from calibration.posterior import draw_from
    from calibration.responses import agreeing_at_origin, stand_down_days
    from calibration.simulator import conditioned, params_for_rule, simulate_events
    overrides = draw_from(post, replicates, seed, without_decisions=(
        stand_down_days(condition_on[1], condition_on[0]) if condition_on is not None else ()))
    params = params_for_rule(scenario.params, post.best_rule)
    reps = FORECAST_REPLICATE + np.arange(replicates)
    kept = reps
    if condition_on is not None:
        agree = agreeing_at_origin(params, condition_on[1], condition_on[0], seed, reps,
                                   overrides, scenario.start)
        kept = reps[agree] if agree.any() else reps
        params = conditioned(params, *condition_on)
    parts = []
    for lo in range(0, replicates, 500):
        sl = slice(lo, lo + 500)
        parts.append(simulate_events(params, scenario.start, end, seed, reps[sl],
                                     {k: v[sl] for k, v in overrides.items()}))
    events = pd.concat(parts, ignore_index=True)
    if len(kept) < len(reps):
        events = events[events["replicate"].isin(kept)].reset_index(drop=True)
    s = tg.daily_series(events, scenario.start, end, kept)
    documented = s.documented        # the highest rung is compared with the record's rows
    return s, daily_max_rung(documented.events, documented), len(kept) / len(reps)


def backtest_origin(scenario, record: pd.DataFrame, tallies: pd.DataFrame, origin,
                    horizons=DEFAULT_HORIZONS, *, budget: int = DEFAULT_BUDGET,
                    population: int = DEFAULT_POPULATION,
                    replicates: int = DEFAULT_REPLICATES, seed: int | None = None,
                    workers: int = 1, progress: bool = False,
                    condition: bool = False, decisions: bool = False,
                    extra=()) -> OriginResult:
    """Calibrate on the record up to ``origin``, forecast the horizon, score every forecaster.
    ``condition``: the forecast runs replay the record (as it stood at the origin) up to it,
    and only those that agree with the stand-downs it documents are kept. ``decisions``: the
    calibration also weighs its posterior by the decisions the record documents up to the
    origin (``calibrate --decisions``, ``calibration.decisions``). ``extra``: more parameters
    to fit (``calibrate --fit``).

    ``record`` and ``tallies`` are the whole record: the cut happens here, so a caller cannot
    leak by mistake; the observed values of the windows come from the whole record.
    """
    from calibration.fit import calibrate
    origin = pd.Timestamp(origin)
    seed = scenario.seed if seed is None else int(seed)
    horizon = max(horizons)
    end = min(origin + pd.Timedelta(days=horizon), scenario.end)
    rec_before, tal_before = cut_record(record, tallies, origin)
    t0 = time.perf_counter()
    post = calibrate(scenario, until=origin, budget=budget, population=population, seed=seed,
                     workers=workers, record=rec_before, tallies=tal_before,
                     progress=progress, decisions=decisions, extra=extra)
    t1 = time.perf_counter()
    series, rung, kept = forecast_ensemble(post, scenario, end, replicates, seed,
                                           (origin, rec_before) if condition else None)
    t2 = time.perf_counter()

    start = scenario.start
    rec_series = tg.daily_series(record, start, end)
    rec_rung = daily_max_rung(record, rec_series)
    cov, cov_names = covariates(scenario, start, end)
    rng = np.random.default_rng(np.random.SeedSequence([seed, int(origin.value // 86_400e9),
                                                        0xBA5E]))
    base = BaselineSet(rec_series, rec_rung, cov, rec_series.day(origin) + 1,
                       rec_series.day(end), rng)
    windows = windows_at(rec_series, rec_rung, tallies, origin, horizon)
    rows = []
    for w in windows:
        samples = {"model": model_samples(series, rung, w)}
        scale = completeness(rec_series, tal_before, w.series) if w.tally else 1.0
        for name in BASELINES:
            samples[name] = base.sample(name, w, BASELINE_SAMPLES) * scale
        horizon_days = int((w.end - origin).days)
        for name, x in samples.items():
            sc = score_samples(x[:, None], [w.observed])
            rows.append(dict(
                origin=origin.strftime("%Y-%m-%d"), target=w.target,
                window_start=w.start.strftime("%Y-%m-%d"),
                window_end=w.end.strftime("%Y-%m-%d"), observed=w.observed, forecaster=name,
                median=sc["median"][0], lo90=sc["lo90"][0], hi90=sc["hi90"][0],
                crps=sc["crps"][0], ign=sc["ign"][0], interval_score=sc["interval_score"][0],
                horizon_days=horizon_days, tally=w.tally, completeness=scale))
    t3 = time.perf_counter()
    fan = _fan(series, rec_series, base, origin, end, start)
    return OriginResult(
        origin, pd.DataFrame(rows), post.summary(), post.best_rule,
        int(post.meta["simulations"]),
        dict(calibrate_s=round(t1 - t0, 1), forecast_s=round(t2 - t1, 1),
             score_s=round(time.perf_counter() - t2, 1), baselines_s=round(t3 - t2, 1)),
        dict(base.fits, covariates=cov_names), fan, kept)


def _fan(series, rec_series, base: BaselineSet, origin, end, start) -> dict:
    """Monthly attacks for the figure: the record a year before and through the horizon, the
    model's quantiles and the baselines' draws per month of the horizon."""
    months = pd.period_range(origin - pd.DateOffset(months=12), end, freq="M")
    rows = []
    for m in months:
        a = max(m.start_time, pd.Timestamp(start))
        b = min(m.end_time.normalize(), end)
        d0, d1 = rec_series.day(a), rec_series.day(b)
        rec = float(rec_series.window("attacks@iraq_syria_jordan", d0, d1)[0])
        row = dict(month=m.start_time, record=rec, after=bool(a > origin))
        if a > origin:
            x = series.documented.window("attacks@iraq_syria_jordan", d0, d1)
            row.update({f"model_q{q}": float(np.quantile(x, q / 100))
                        for q in (5, 25, 50, 75, 95)})
            w = Window("attacks", "attacks@iraq_syria_jordan", a, b, rec)
            for name in BASELINES:
                y = base.sample(name, w, BASELINE_SAMPLES)
                if np.isfinite(y).any():
                    row.update({f"{name}_q{q}": float(np.nanquantile(y, q / 100))
                                for q in (5, 50, 95)})
        rows.append(row)
    return dict(months=pd.DataFrame(rows))


# --- All origins ---------------------------------------------------------------------------------

@dataclass
class Backtest:
    forecasts: pd.DataFrame
    scores: pd.DataFrame
    origins: list[OriginResult]
    horizons: tuple[int, ...]
    without: tuple[str, ...]
    seconds: float
    settings: dict


def check_origins(origins, scenario, record_start="2019-10-01") -> list[pd.Timestamp]:
    """Origins as dates inside the record's window with room for a fit (180 days) and at
    least one day to forecast."""
    out = []
    lo = pd.Timestamp(scenario.start) + pd.Timedelta(days=180)
    hi = pd.Timestamp(scenario.end) - pd.Timedelta(days=1)
    for text in origins:
        try:
            day = pd.Timestamp(str(text).strip())
        except (ValueError, TypeError):
            day = pd.NaT
        if pd.isna(day) or day.normalize() != day:
            raise InputError(None, "--origins", f"{text!r} is not a date (YYYY-MM-DD)")
        if not lo <= day <= hi:
            raise InputError(None, "--origins", f"{day:%Y-%m-%d} is outside {lo:%Y-%m-%d}.."
                                                f"{hi:%Y-%m-%d} (the record's window, less "
                                                "180 days to fit and one to forecast)")
        out.append(day)
    if not out:
        raise InputError(None, "--origins", "give at least one date")
    return sorted(set(out))


def backtest(scenario, record: pd.DataFrame, tallies: pd.DataFrame, origins=DEFAULT_ORIGINS,
             horizons=DEFAULT_HORIZONS, *, without: tuple[str, ...] = (),
             budget: int = DEFAULT_BUDGET, population: int = DEFAULT_POPULATION,
             replicates: int = DEFAULT_REPLICATES, seed: int | None = None, workers: int = 1,
             progress: bool = False, on_origin=None, condition: bool = False,
             decisions: bool = False, extra=()) -> Backtest:
    """The whole backtest: every origin, then the score tables (see the module docstring)."""
    horizons = tuple(sorted(set(int(h) for h in horizons)))
    if not horizons or horizons[0] < 1:
        raise InputError(None, "--horizon", f"must be at least 1 day, got {horizons}")
    without = check_without(scenario, without)
    days = check_origins(origins, scenario)
    scen = without_inputs(scenario, without)
    t0 = time.perf_counter()
    results = []
    for day in days:
        res = backtest_origin(scen, record, tallies, day, horizons, budget=budget,
                              population=population, replicates=replicates, seed=seed,
                              workers=workers, progress=progress, condition=condition,
                              decisions=decisions, extra=extra)
        results.append(res)
        if on_origin:
            on_origin(res)
    forecasts = pd.concat([r.forecasts for r in results], ignore_index=True)
    scores = score_table(forecasts, horizons, seed=scenario.seed if seed is None else seed)
    return Backtest(forecasts, scores, results, horizons, without,
                    round(time.perf_counter() - t0, 1),
                    dict(budget=budget, population=population, replicates=replicates,
                         seed=scenario.seed if seed is None else seed, workers=workers,
                         origins=[d.strftime("%Y-%m-%d") for d in days], condition=condition,
                         decisions=decisions, fit=[q.name for q in extra]))


def score_table(forecasts: pd.DataFrame, horizons, seed: int = 0) -> pd.DataFrame:
    """Mean scores per (origin or ``all``, horizon, target, forecaster), and for ``all`` the
    paired difference model - forecaster with a block-bootstrap 90% interval (blocks of 3
    months, never across origins). Tally targets are pooled as ``published_counts``."""
    f = forecasts.copy()
    f["target_group"] = np.where(f["target"].str.startswith("tally:"), "published_counts",
                                 f["target"])
    rows = []
    for h in horizons:
        fh = f[f["horizon_days"] <= h]
        for (origin, group, name), g in fh.groupby(["origin", "target_group", "forecaster"],
                                                   sort=True):
            rows.append(dict(origin=origin, horizon=h, target=group, forecaster=name,
                             windows=len(g), crps=g["crps"].mean(), ign=g["ign"].mean(),
                             interval_score=g["interval_score"].mean()))
        for group, g in fh.groupby("target_group", sort=True):
            key = ["origin", "target", "window_start"]
            model = g[g["forecaster"] == "model"]
            for name, gb in g.groupby("forecaster", sort=False):
                row = dict(origin="all", horizon=h, target=group, forecaster=name,
                           windows=len(gb), crps=gb["crps"].mean(), ign=gb["ign"].mean(),
                           interval_score=gb["interval_score"].mean())
                if name != "model":
                    both = model.merge(gb, on=key, suffixes=("_m", "_b")).sort_values(key)
                    groups = both["origin"].to_numpy()
                    for score in ("crps", "ign", "interval_score"):
                        d = (both[f"{score}_m"] - both[f"{score}_b"]).to_numpy()
                        mean, lo, hi = block_bootstrap(d, groups, block=3, seed=seed)
                        row[f"model_minus_{score}"] = mean
                        row[f"model_minus_{score}_lo90"] = lo
                        row[f"model_minus_{score}_hi90"] = hi
                rows.append(row)
    return pd.DataFrame(rows)


def scenario_patterns(scenario, record: pd.DataFrame, replicates: int = DEFAULT_REPLICATES,
                      seed: int | None = None) -> pd.DataFrame:
    """The patterns of the record beside an ensemble of the scenario as it stands (its own
    parameters, e.g. the calibrated history), over the scenario's window."""
    from calibration.patterns import pattern_table
    from calibration.simulator import simulate_events
    seed = scenario.seed if seed is None else int(seed)
    reps = np.arange(replicates)
    parts = []
    for lo in range(0, replicates, 500):
        parts.append(simulate_events(scenario.params, scenario.start, scenario.end, seed,
                                     reps[lo:lo + 500]))
    events = pd.concat(parts, ignore_index=True)
    return pattern_table(record, events, scenario.start, scenario.end, reps)
