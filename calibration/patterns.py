"""Patterns of the record: statistics of a whole history that a good model must reproduce.

What lives here: :data:`PATTERNS` (each a name, a description and a function of the daily
series of one event table), :func:`pattern_values` (their values per replicate, for the
record or an ensemble, by one code path) and :func:`pattern_table` (the record's value beside
the ensemble's median and 90% band, with the Monte Carlo uncertainty of that median and,
for yes/no patterns, of the ensemble's share). What does not: calibration targets
(``calibration.targets``, whose daily series this reuses), forecasts (``calibration.backtest``).

Pattern-oriented validation (Grimm et al. 2005, "Pattern-oriented modeling of agent-based
complex systems", Science 310): several weak patterns at once, each from a different part of
the model, test it more than one strong fit. The retaliation signature follows the event-data
studies of violence after strikes (Jaeger & Paserman 2008, "The cycle of violence? An
empirical analysis of fatalities in the Palestinian-Israeli conflict", AER 98): attacks in
the days after each U.S. strike round against the same span before it.

Every count here compares like with like: the record lists a selection of attacks (mostly
those a report dated), so a simulation's patterns are computed from the attacks the
observation model says the record would list (``calibration.observation``); shape statistics
(dispersion, ratios, shares, lags) depend less on that model than levels do.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd
from scipy import stats

from calibration import targets as tg

#: The months over which the dispersion of monthly attack counts is measured.
DISPERSION_WINDOW = ("2019-10-01", "2023-09-30")
SPIRAL_WINDOW = ("2019-10-01", "2020-06-30")
QUIET_2022 = ("2022-01-01", "2022-12-31")
LULL_2024 = ("2024-02-05", "2024-07-15")
BAND = (0.05, 0.95)
#: Issue 10's bars on the history scenario's patterns: pattern, statistic (the share of runs
#: saying yes, ``mean``, or the ``median``), the side the ensemble's value must be on, the
#: bar; and the share of targets and patterns whose record value must lie inside the band.
BARS = (
    ("spiral_rung6_2019_2020", "mean", ">=", 0.25),
    ("attacks_lull_2024", "median", "<=", 20.0),
    ("dispersion_monthly_attacks", "median", ">=", 3.0),
)
COVERAGE_BAR = 0.9


def verdict(lo: float, hi: float, side: str, bar: float) -> str:
    """'met' when the whole Monte Carlo interval ``lo``..``hi`` satisfies the bar, 'missed'
    when none of it does, 'unclear' when it straddles the bar."""
    ok_lo, ok_hi = ((lo >= bar, hi >= bar) if side == ">=" else (lo <= bar, hi <= bar))
    return "met" if ok_lo and ok_hi else "missed" if not (ok_lo or ok_hi) else "unclear"


#: Confidence of the Monte Carlo intervals of an ensemble's median and share: how far they
#: could move with another set of replicates of the same parameters.
MC_CONFIDENCE = 0.9


def daily_max_rung(events: pd.DataFrame, series: tg.Series) -> np.ndarray:
    """Highest escalation rung per (day, replicate) of an event table (0 on quiet days)."""
    cols = series._columns()
    rung = events["rung"].fillna(0).to_numpy(dtype=np.int64) if len(events) else np.zeros(0, int)
    ok = cols["ok"]
    out = np.zeros(series.days * series.n, dtype=np.int64)
    np.maximum.at(out, cols["day"][ok] * series.n + cols["j"][ok], rung[ok])
    return out.reshape(series.days, series.n)


def _window(s: tg.Series, name: str, a: str, b: str) -> np.ndarray:
    """A count over a fixed period; NaN when the period is not wholly simulated."""
    d0, d1 = s.day(a), s.day(b)
    if d0 < 0 or d1 >= s.days:
        return np.full(s.n, np.nan)
    return s.window(name, d0, d1)


def _spiral(s: tg.Series, rung: np.ndarray) -> np.ndarray:
    d0, d1 = s.day(SPIRAL_WINDOW[0]), s.day(SPIRAL_WINDOW[1])
    if d0 < 0 or d1 >= s.days:
        return np.full(s.n, np.nan)
    return (rung[d0:d1 + 1].max(axis=0) >= 6).astype(float)


def _dispersion(s: tg.Series, rung: np.ndarray) -> np.ndarray:
    if s.day(DISPERSION_WINDOW[1]) >= s.days or s.day(DISPERSION_WINDOW[0]) < 0:
        return np.full(s.n, np.nan)
    months = pd.period_range(DISPERSION_WINDOW[0], DISPERSION_WINDOW[1], freq="M")
    counts = np.array([_window(s, "attacks", str(m.start_time.date()), str(m.end_time.date()))
                       for m in months])           # months x replicates
    mean = counts.mean(axis=0)
    var = counts.var(axis=0, ddof=1)
    return np.where(mean > 0, var / np.where(mean > 0, mean, 1.0), np.nan)


def _per_lethal(s: tg.Series, rung: np.ndarray) -> np.ndarray:
    lethal = s.window("lethal_attacks", 0, s.days - 1)
    rounds = s.window("strike_rounds", 0, s.days - 1)
    return np.where(lethal > 0, rounds / np.where(lethal > 0, lethal, 1.0), np.nan)


def _syria_share(s: tg.Series, rung: np.ndarray) -> np.ndarray:
    rounds = s.window("strike_rounds", 0, s.days - 1)
    syria = s.window("strike_rounds@syria", 0, s.days - 1)
    return np.where(rounds > 0, syria / np.where(rounds > 0, rounds, 1.0), np.nan)


def retaliation(s: tg.Series, days: int) -> np.ndarray:
    """log((attacks in the ``days`` after strike rounds + 1) / (attacks in the ``days``
    before + 1)), over strike rounds whose both spans lie in the window. Positive: more
    attacks after strikes (provocation); negative: fewer (deterrence, or a wave's end)."""
    lo, hi = days, s.days - 1 - days
    if hi < lo:
        return np.full(s.n, np.nan)
    c = s.cum("attacks")
    d = np.arange(lo, hi + 1)
    after = c[d + days + 1] - c[d + 1]
    before = c[d] - c[d - days]
    strikes = s["strike_rounds"][lo:hi + 1]
    return np.log(((strikes * after).sum(axis=0) + 1.0) / ((strikes * before).sum(axis=0) + 1.0))


@dataclass(frozen=True)
class Pattern:
    name: str
    description: str
    compute: Callable[[tg.Series, np.ndarray], np.ndarray]


PATTERNS: tuple[Pattern, ...] = (
    Pattern("spiral_rung6_2019_2020",
            "reached rung 6 or more (leader strike, state attack) 2019-10-01..2020-06-30 "
            "(1 yes, 0 no; the ensemble's share is the mean)", _spiral),
    Pattern("dispersion_monthly_attacks",
            "variance / mean of monthly attack counts 2019-10..2023-09 (1 = Poisson; "
            "above 1 = bursts)", _dispersion),
    Pattern("attacks_2022", "attacks in 2022 (the quiet year)",
            lambda s, r: _window(s, "attacks", *QUIET_2022)),
    Pattern("attacks_lull_2024", "attacks 2024-02-05..2024-07-15 (after the February 2024 "
                                 "strikes)", lambda s, r: _window(s, "attacks", *LULL_2024)),
    Pattern("strike_rounds_per_lethal_attack", "U.S. strike rounds per attack that killed "
                                               "U.S./coalition personnel", _per_lethal),
    Pattern("lag_lethal_to_strike_days", "mean days from a lethal attack to the next strike "
                                         f"round (within {tg.LAG_MAX_DAYS} days)",
            lambda s, r: tg.lag_after_lethal(s, 0, s.days - 1)),
    Pattern("syria_share_of_strike_rounds", "share of U.S. strike rounds that hit Syria",
            _syria_share),
    Pattern("retaliation_14d", "log((attacks 14 d after strike rounds + 1) / (attacks 14 d "
                               "before + 1))", lambda s, r: retaliation(s, 14)),
    Pattern("retaliation_30d", "log((attacks 30 d after strike rounds + 1) / (attacks 30 d "
                               "before + 1))", lambda s, r: retaliation(s, 30)),
)


def pattern_values(events: pd.DataFrame, start, end,
                   replicates: np.ndarray | None = None) -> pd.DataFrame:
    """Each pattern's value per replicate (one row for the record: ``replicates`` None).

    Patterns are statistics of the record's rows, so a simulation's are computed from the
    events the record would list (its ``documented`` column, ``calibration.observation``;
    every event when it has none)."""
    s = tg.daily_series(events, start, end, replicates).documented
    rung = daily_max_rung(s.events, s)
    return pd.DataFrame({p.name: np.asarray(p.compute(s, rung), dtype=float)
                         for p in PATTERNS})


def pattern_table(record: pd.DataFrame, ensemble: pd.DataFrame, start, end,
                  replicates: np.ndarray) -> pd.DataFrame:
    """The record's value of every pattern beside the ensemble's median and 90% band, and
    whether the record lies inside the band (NaN runs, e.g. no lethal attack, are left out
    and counted in ``undefined_share``)."""
    rec = pattern_values(record, start, end).iloc[0]
    sim = pattern_values(ensemble, start, end, replicates)
    rows = []
    for p in PATTERNS:
        x = sim[p.name].to_numpy()
        ok = x[np.isfinite(x)]
        y = float(rec[p.name])
        if len(ok):
            lo, med, hi = np.quantile(ok, [BAND[0], 0.5, BAND[1]])
            inside = bool(np.isfinite(y) and lo <= y <= hi)
            mean = float(ok.mean())
        else:
            lo = med = hi = mean = np.nan
            inside = False
        rows.append(dict(pattern=p.name, record=y, median=med, lo90=lo, hi90=hi, mean=mean,
                         inside=inside, undefined_share=float(np.mean(~np.isfinite(x))),
                         **monte_carlo_intervals(ok), description=p.description))
    return pd.DataFrame(rows)


def monte_carlo_intervals(x: np.ndarray) -> dict[str, float]:
    """How precisely a finite ensemble pins down its median and share: a distribution-free
    interval of the median (order statistics, ``scipy.stats.quantile_test``) and, for a
    yes/no pattern, the exact binomial interval of the share of runs saying yes
    (``scipy.stats.binomtest``; NaN for other patterns). A bar such as "median at most 20"
    judged on 200 runs is met or missed clearly only when the interval lies on one side.
    """
    out = dict(median_mc_lo=np.nan, median_mc_hi=np.nan, mean_mc_lo=np.nan, mean_mc_hi=np.nan)
    if len(x) == 0:
        return out
    ci = stats.quantile_test(x, q=float(np.median(x)), p=0.5).confidence_interval(
        MC_CONFIDENCE)
    out.update(median_mc_lo=float(ci.low), median_mc_hi=float(ci.high))
    if np.all((x == 0) | (x == 1)):
        share = stats.binomtest(int(x.sum()), len(x)).proportion_ci(MC_CONFIDENCE)
        out.update(mean_mc_lo=float(share.low), mean_mc_hi=float(share.high))
    return out
