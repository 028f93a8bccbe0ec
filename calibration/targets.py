"""Calibration targets: statistics computed by one code path on the record and on simulations.

What lives here: the daily series every target is built from (:func:`daily_series`, on any
event table in the shared schema, through :func:`sim.metrics.daily_measures`), the targets
themselves (:class:`Target`, :func:`default_targets`), their values on the documented record
(:func:`observed`) and on simulated ensembles (:func:`simulated`), and a fast path from the
batch engine's raw output to the event columns the targets read (:func:`sim_events`).

What does not: the fitting method (``calibration.smc``), the parameters it fits
(``calibration.priors``), posterior predictive checks (``calibration.validate``).

Two kinds of target share one code path. *Record targets* (strike rounds, lethal attacks,
attacks around strikes, condemnations, pauses, documented attacks) are computed from an event
table by the same function on the record (one "replicate") and on every simulated
replicate, from the simulated events the record would list (``Target.seen ==
"documented"``: the ``documented`` column the observation model adds,
``calibration.observation``; the record's rows are all documented). *Tally targets*
compare the published counts of ``calibration/data/tallies.csv`` with the simulated count of
the same measure over the same period and scope (a tally with scope ``iraq`` is compared with
simulated attacks with ``country == "iraq"``), from *every* simulated event (``seen ==
"all"``); the record's side is the published number (the midpoint of ``count`` and
``count_high`` when sources differ), because the record lists a selection of attacks. The
distance respects a tally's ``bound`` (:func:`bounded`): an ``at_least`` count is not
penalised when the simulation is above it, an ``about`` count within ``ABOUT_TOLERANCE``.

Which parameter each fitted target informs (``fit=True``; the rest are checks only, shown by
``escalation validate``):

=====================================  ===================================================
target                                 informs
=====================================  ===================================================
tally 2019-10-to-2020-06-attacks-iraq  militias.attack_rate_scale; iran.escalate_multiplier
                                       (Iran's anger after 2020-01-03 sets "escalate")
tally 2021-to-2023-attacks             militias.attack_rate_scale, contagion_branching,
                                       iraq.raid_rate (the quiet-years level)
tally 2021-post-strike-attacks         militias.grievance_weight (provocation after the
                                       2021-06-27 strikes)
tally 2023-10-17-to-02-02-attacks      iran.escalate_multiplier, shock_scale,
                                       war_half_life_days (the Gaza-war campaign)
tally 2024-02-lull-attacks             militias.fear_weight, iran.risk_* (the quiet after
                                       Tower 22 and the Feb 2024 strikes; no input
                                       supplies it)
tally 2019-12-to-2020-09-fatalities    weapons.*.lethal_probability
freeze_attacks (Sept-Oct 2023)         the militias' pause (an outcome, no input); attack_rate_scale,
                                       contagion_half_life_days
documented_attacks_2021_2023           observation.p_harmless (record rows against the
                                       tally 2021-to-2023-attacks: which share is listed)
documented_attacks_campaign            observation.attention_max (record rows against the
                                       Pentagon's count 2023-10-17..2024-02-02)
strike_rounds_2019_2020 ... _2024      us.level (how much harm a strike answers)
lethal_attacks                         weapons.*.lethal_probability
lethal_unanswered_14d                  us.harm_per_killed (no lethal attack went unanswered)
post_strike_ratio                      militias.fear_weight vs militias.grievance_weight
                                       (attacks 14 days after a strike vs 14 days before)
=====================================  ===================================================

In a comparison of rules (``escalation calibrate --compare-rules``) the distance also
includes ``leader_strike_rounds`` (:data:`MODEL_CHOICE_TARGETS`), which tells
``decapitation`` from the rest; a fit of the ``ladder`` rule includes it too, for
``us.leader_level`` (``calibration.priors.RULE_TARGETS``).

Check-only targets: every other tally (attacks by scope, drone attacks, injuries, the
strike tally), deaths, leader strike rounds, strike rounds in Iraq, Iraqi condemnations
within two days of a strike round on Iraqi soil, and the lag from a lethal attack to the next
strike round.

Counts enter the distance on a square-root scale (variance-stabilising for Poisson counts);
see ``Target.transform``. How much each parameter is in fact informed is measured, not only
claimed: the calibration report lists the R² of each parameter's regression on these
targets (``calibration.smc.Projection``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable

import numpy as np
import pandas as pd

from sim import dynamics as dyn
from sim.metrics import STRIKE_ACTIONS, daily_measures

#: Days around a strike round in which attacks count as "before" and "after" it.
AROUND_DAYS = 14
#: Days after a lethal attack in which a strike round counts as its answer (record: 1-10).
ANSWER_DAYS = 14
#: Days after a strike round on Iraqi soil in which Baghdad's condemnation counts (record:
#: same day to the next day, e.g. 2019-12-29 -> 12-30, 2021-06-27 -> 06-28).
CONDEMN_DAYS = 2
#: Longest lag from a lethal attack to a strike round that counts as its answer for the lag.
LAG_MAX_DAYS = 30

#: Tally measures and the daily series they are compared with (scope picks the country).
TALLY_SERIES: dict[str, str] = {
    "attacks": "attacks", "drone_attacks": "drone_attacks",
    "fatalities_us_coalition": "deaths", "us_injured": "wounded", "strikes": "strike_rounds",
}
#: Countries a tally's scope covers.
SCOPE_COUNTRIES: dict[str, tuple[str, ...]] = {
    "iraq": ("iraq",), "syria": ("syria",), "iraq_syria": ("iraq", "syria"),
    "iraq_syria_jordan": ("iraq", "syria", "jordan"),
}
COUNTRIES: tuple[str, ...] = ("iraq", "syria", "jordan")

#: Tallies that enter the distance: one per period, no two overlapping on one measure
#: (the many cumulative counts of Oct 2023-Feb 2024 would otherwise weigh that campaign
#: several times over). The others are checks; among them 2020-07-to-09-attacks-iraq (32
#: attacks in two months), because it counts IEDs on logistics convoys, which the model's
#: attacks on U.S. sites do not include (tallies.csv note: "not an official count").
FIT_TALLIES: dict[str, str] = {
    "2019-10-to-2020-06-attacks-iraq": "militias.attack_rate_scale, iran.escalate_multiplier",
    "2021-to-2023-attacks": "militias.attack_rate_scale, militias.contagion_branching, "
                            "iraq.raid_rate",
    "2021-post-strike-attacks": "militias.grievance_weight",
    "2023-10-17-to-02-02-attacks": "iran.escalate_multiplier, shock_scale, war_half_life_days, "
                                   "war_onset_days",
    "2024-02-lull-attacks": "militias.fear_weight, iran.risk_weight, iran.risk_per_us_death, "
                            "iran.risk_per_strike_target, iran.risk_half_life_days, "
                            "iran.restrain_multiplier, militias.tension_weight",
    "2019-12-to-2020-09-fatalities": "weapons.*.lethal_probability",
    # The Pentagon's injury count of the campaign's first seven weeks (66, exact; the later
    # 'at least 66' of 12-21 and the earlier counts are checked, not fitted).
    "2023-10-17-to-12-07-injuries": "weapons.*.wounded_mean",
}

#: Targets that enter the distance only in a comparison of deterrence rules (ABC model
#: choice): what the U.S. did that tells the rules apart but no parameter of one rule.
#: Leader strikes: 3 of the record's 24 strike rounds; ``decapitation`` strikes leaders
#: every time, the other rules never.
MODEL_CHOICE_TARGETS: tuple[str, ...] = ("leader_strike_rounds",)

#: Strike-round periods: the 2019-2020 crisis, the quieter years, the Gaza-war campaign to
#: the Feb 2024 strikes, and after (episodes.csv).
STRIKE_PERIODS: tuple[tuple[str, str, str], ...] = (
    ("strike_rounds_2019_2020", "2019-10-01", "2020-12-31"),
    ("strike_rounds_2021_2023", "2021-01-01", "2023-10-16"),
    ("strike_rounds_campaign", "2023-10-17", "2024-02-07"),
    ("strike_rounds_after_feb_2024", "2024-02-08", "2024-12-31"),
)
#: Periods of two fitted tallies (2021-to-2023-attacks, 2023-10-17-to-02-02-attacks) over
#: which the record's rows are counted too (the observation model's targets).
QUIET_YEARS = ("2021-01-01", "2023-03-23")
CAMPAIGN = ("2023-10-17", "2024-02-02")
#: The militias' pause of September 2023 (000_a0ed2b5f01c76508.txt): a documented outcome,
#: measured here; no scenario input supplies it.
FREEZE = ("2023-09-01", "2023-10-16")


# --- Daily series ------------------------------------------------------------------------------

class Series:
    """Daily series (days x replicates) of one event table, computed on first use by name.

    Names: ``attacks``, ``strike_rounds``, ``deaths`` (:func:`sim.metrics.daily_measures`,
    the shared definitions), ``lethal_attacks`` (attacks that killed U.S./coalition
    personnel), ``wounded`` (U.S. wounded), ``drone_attacks``, ``leader_strike_rounds`` (days
    with a leader strike), ``condemnations`` (by Baghdad), ``stormings`` (of U.S. sites);
    and each of them restricted to
    a country or a tally scope: ``attacks@iraq``, ``attacks@iraq_syria``.
    Cumulative sums are kept so that a window sum is one subtraction.
    """

    def __init__(self, events: pd.DataFrame, start, end, replicates: np.ndarray | None = None):
        self.start = pd.Timestamp(start)
        self.dates = pd.date_range(self.start, pd.Timestamp(end), freq="D")
        self.events = events
        self.replicates = replicates
        self.n = 1 if replicates is None else len(replicates)
        self.values: dict[str, np.ndarray] = {}
        self._cum: dict[str, np.ndarray] = {}
        self._cols: dict[str, np.ndarray] | None = None
        self._documented: Series | None = None
        #: Series of runs that replay the record up to a turning point, by its origin date
        #: (``Target.given``); empty for the record and for free runs alone.
        self.conditioned: dict[str, Series] = {}

    @property
    def documented(self) -> "Series":
        """The series of the events the record would list (rows with ``documented`` True,
        see ``calibration.observation``); the series itself when the table has no such
        column (the record: every row is documented)."""
        if "documented" not in self.events.columns:
            return self
        if self._documented is None:
            keep = self.events["documented"].fillna(False).to_numpy(dtype=bool)
            self._documented = Series(self.events[keep], self.start, self.dates[-1],
                                      self.replicates)
        return self._documented

    @property
    def days(self) -> int:
        return len(self.dates)

    def day(self, date) -> int:
        return int((pd.Timestamp(date) - self.start).days)

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in self.values:
            self.values[name] = self._build(name)
        return self.values[name]

    def cum(self, name: str) -> np.ndarray:
        """Cumulative sums with a leading row of zeros: sum over d0..d1 = c[d1+1] - c[d0]."""
        if name not in self._cum:
            x = self[name]
            c = np.zeros((x.shape[0] + 1, x.shape[1]))
            np.cumsum(x, axis=0, out=c[1:])
            self._cum[name] = c
        return self._cum[name]

    def window(self, name: str, d0: int, d1: int) -> np.ndarray:
        """Sum of a series over days d0..d1 (inclusive, clipped to the series), per replicate."""
        d0, d1 = max(d0, 0), min(d1, self.days - 1)
        if d1 < d0:
            return np.zeros(self.n)
        if name in self._cum:
            c = self._cum[name]
            return c[d1 + 1] - c[d0]
        return self[name][d0:d1 + 1].sum(axis=0)

    # -- building ------------------------------------------------------------------------

    def _columns(self) -> dict[str, np.ndarray]:
        """Day and replicate-column index of each event, and the row masks the series use
        (string comparisons done by pandas, which is fast on its Arrow-backed strings)."""
        if self._cols is None:
            ev = self.events
            day = (pd.to_datetime(ev["date"]) - self.start).dt.days.to_numpy()
            if self.replicates is None:
                j = np.zeros(len(ev), dtype=np.int64)
            else:
                j = pd.Index(np.asarray(self.replicates)).get_indexer(ev["replicate"].to_numpy())

            def mask(series: pd.Series) -> np.ndarray:
                return series.fillna(False).to_numpy(dtype=bool)

            action = ev["action"]
            strike = mask(action.isin(STRIKE_ACTIONS) & (ev["actor_kind"] == "us"))
            attack = mask(action.isin(("attack", "state_attack")))
            self._cols = dict(
                ok=(day >= 0) & (day < self.days) & (j >= 0), day=day, j=j,
                attack=attack, strike=strike,
                leader=strike & mask(action == "leader_strike"),
                condemnation=mask((action == "condemnation") & (ev["actor_kind"] == "iraq")),
                storming=mask(action == "storming"),
                drone=mask(ev["weapon"] == "drone"),
                killed=(ev["us_killed"].fillna(0).to_numpy(dtype=float)
                        + ev["coalition_killed"].fillna(0).to_numpy(dtype=float)),
                wounded=ev["us_wounded"].fillna(0).to_numpy(dtype=float),
                **{f"country={c}": mask(ev["country"] == c) for c in COUNTRIES})
        return self._cols

    def _sum(self, mask: np.ndarray, weights=1.0, rounds: bool = False) -> np.ndarray:
        """Per (day, replicate) sum of ``weights`` over rows in ``mask`` (or 0/1 whether
        any row, for strike rounds): the conventions of ``daily_measures``."""
        c = self._columns()
        m = mask & c["ok"]
        flat = c["day"][m] * self.n + c["j"][m]
        w = np.broadcast_to(np.asarray(weights, dtype=float), mask.shape)[m]
        out = np.bincount(flat, weights=w, minlength=self.days * self.n)
        if rounds:
            out = (out > 0).astype(float)
        return out.reshape(self.days, self.n)

    def _build(self, name: str) -> np.ndarray:
        if name in ("attacks", "strike_rounds", "deaths"):
            base = daily_measures(self.events, self.dates[0], self.dates[-1], self.replicates)
            for k in ("attacks", "strike_rounds", "deaths"):
                self.values.setdefault(k, base[k])
            return base[name]
        if "@" in name:
            measure, scope = name.split("@")
            if scope in COUNTRIES:
                return self._measure(measure, self._columns()[f"country={scope}"])
            if scope not in SCOPE_COUNTRIES:
                raise KeyError(name)
            return sum(self[f"{measure}@{c}"] for c in SCOPE_COUNTRIES[scope])
        return self._measure(name, np.ones(len(self.events), dtype=bool))

    def _measure(self, name: str, rows: np.ndarray) -> np.ndarray:
        c = self._columns()
        if name == "attacks":
            return self._sum(rows & c["attack"])
        if name == "strike_rounds":
            return self._sum(rows & c["strike"], rounds=True)
        if name == "deaths":
            return self._sum(rows, c["killed"])
        if name == "lethal_attacks":
            return self._sum(rows & c["attack"] & (c["killed"] > 0))
        if name == "wounded":
            return self._sum(rows, c["wounded"])
        if name == "drone_attacks":
            return self._sum(rows & c["attack"] & c["drone"])
        if name == "leader_strike_rounds":
            return self._sum(rows & c["leader"], rounds=True)
        if name == "condemnations":
            return self._sum(rows & c["condemnation"])
        if name == "stormings":
            return self._sum(rows & c["storming"])
        raise KeyError(name)


def daily_series(events: pd.DataFrame, start, end,
                 replicates: np.ndarray | None = None) -> Series:
    """The daily series of any event table in the shared schema (see :class:`Series`).

    With ``replicates`` None the table is one history (the record); otherwise it has a
    ``replicate`` column and the series have one column per entry of ``replicates``.
    """
    return Series(events, start, end, replicates)


_ACTOR_KIND = np.array(["militia"] * dyn.F + ["us", "iraq", "iran", "militia", "militia"],
                       dtype=object)


def sim_events(out) -> pd.DataFrame:
    """The event columns the targets read, from the batch engine's raw output.

    The same values as :func:`sim.output.events_frame` (a test checks it) without the text
    columns and dtype conversions, which cost more than the simulation itself at calibration
    sizes.
    """
    ev = out.events

    def lookup(names, codes):
        table = np.array(list(names) + [""], dtype=object)
        return table[np.where((codes < 0) | (codes >= len(names)), len(names), codes)]

    return pd.DataFrame({
        "date": out.timeline.start + pd.to_timedelta(ev["day"], unit="D"),
        "actor_kind": _ACTOR_KIND[ev["actor"]],
        "action": lookup(dyn.ACTIONS, ev["action"]),
        "weapon": lookup(dyn.WEAPON_NAMES, ev["weapon"]),
        "country": lookup(dyn.COUNTRY_NAMES, ev["country"]),
        "us_killed": ev["us_killed"], "coalition_killed": ev["coalition_killed"],
        "us_wounded": ev["us_wounded"], "rung": ev["rung"],
        "replayed": ev["documented"],
        "replicate": out.replicates[ev["replicate"]],
    })


# --- Targets -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Target:
    """One calibration target (a picklable value: process-pool workers compute it too).

    Attributes:
        name: unique name (tally targets: ``tally:<tally_id>``).
        kind: how it is computed from the daily series over ``start..end``: ``count`` (the
            sum of ``series``), ``lethal_answered``, ``around_strikes``, ``condemned``,
            ``lag_after_lethal`` (see the functions of the same names).
        series: the series a ``count`` sums (e.g. ``attacks@iraq``).
        start, end: the window it looks at (ISO dates); ``--until`` drops or clips it.
        fit: whether it enters the ABC distance (else a check only).
        transform: ``sqrt`` (counts) or ``none``; applied before the distance.
        informs: the fitted parameters it informs (docs and report).
        observed: the record's value when it is not computed from the record's events
            (tallies: the published count, the midpoint when sources differ);
            ``observed_low``, ``observed_high``: the lower and upper published counts.
        clip: whether ``--until`` may cut the window short (a count over a period that is
            only partly observed cannot be compared with a published total).
        seen: ``documented`` (record targets: computed from the events the record would
            list, ``calibration.observation``) or ``all`` (tallies: every simulated event).
        bound: how the published count bounds the true one (``tallies.csv``): ``exact``,
            ``at_least``, ``at_most``, ``about``; the distance respects it (:func:`transform`).
        given: a turning point's origin (``calibration.responses``): the simulated value
            comes from runs that replay the record up to that day (``Series.conditioned``),
            the record's from the record itself.
    """

    name: str
    kind: str
    start: str
    end: str
    series: str = ""
    fit: bool = False
    transform: str = "sqrt"
    informs: str = ""
    description: str = ""
    observed: float | None = None
    observed_high: float | None = None
    clip: bool = True
    seen: str = "documented"
    bound: str = "exact"
    observed_low: float | None = None
    given: str = ""

    def compute(self, s: "Series") -> np.ndarray:
        """The target's value per replicate of a series (its documented events for a record
        target, all of them for a tally)."""
        if self.given:
            s = s.conditioned.get(self.given, s)
        if self.seen == "documented":
            s = s.documented
        d0, d1 = s.day(self.start), s.day(self.end)
        if self.kind == "count":
            return s.window(self.series, d0, d1)
        return _KINDS[self.kind](s, max(d0, 0), min(d1, s.days - 1))

    @property
    def low(self) -> float | None:
        """The lower published count (``observed_low``, else ``observed``)."""
        return self.observed_low if self.observed_low is not None else self.observed

    @property
    def high(self) -> float | None:
        return self.observed_high if self.observed_high is not None else self.observed

    def until(self, date) -> "Target | None":
        """This target restricted to days up to ``date`` (None when nothing is left)."""
        date = pd.Timestamp(date)
        if pd.Timestamp(self.start) > date:
            return None
        if pd.Timestamp(self.end) <= date:
            return self
        if not self.clip:
            return None
        return replace(self, end=date.strftime("%Y-%m-%d"))


def lethal_answered(s: Series, d0: int, d1: int) -> np.ndarray:
    """Lethal attacks on days d0..d1 followed by a strike round within ANSWER_DAYS (the same
    day counts; the window is not extended past d1)."""
    if d1 < d0:
        return np.zeros(s.n)
    lethal = s["lethal_attacks"][d0:d1 + 1]
    c = s.cum("strike_rounds")
    days = np.arange(d0, d1 + 1)
    hi = np.minimum(days + ANSWER_DAYS, d1) + 1
    answered = (c[hi] - c[days]) > 0
    return (lethal * answered).sum(axis=0)


def lethal_unanswered(s: Series, d0: int, d1: int) -> np.ndarray:
    """Lethal attacks on days d0..d1 *not* followed by a strike round within ANSWER_DAYS
    (the record: none; a fitted target that, unlike the answered count, does not grow with
    the number of lethal attacks)."""
    if d1 < d0:
        return np.zeros(s.n)
    return s.window("lethal_attacks", d0, d1) - lethal_answered(s, d0, d1)


def around_strikes(s: Series, d0: int, d1: int) -> np.ndarray:
    """log((attacks in the AROUND_DAYS after strike rounds + 1) / (attacks in the
    AROUND_DAYS before + 1)), summed over the strike rounds whose both windows lie in d0..d1.
    Positive: strikes were followed by more attacks (provocation); negative: by fewer
    (deterrence, or the end of the wave that triggered them)."""
    lo, hi = d0 + AROUND_DAYS, d1 - AROUND_DAYS
    if hi < lo:
        return np.zeros(s.n)
    c = s.cum("attacks")
    days = np.arange(lo, hi + 1)
    after = c[days + AROUND_DAYS + 1] - c[days + 1]
    before = c[days] - c[days - AROUND_DAYS]
    strikes = s["strike_rounds"][lo:hi + 1]
    return np.log(((strikes * after).sum(axis=0) + 1.0)
                  / ((strikes * before).sum(axis=0) + 1.0))


def condemned(s: Series, d0: int, d1: int) -> np.ndarray:
    """Strike rounds on Iraqi soil (days d0..d1) followed by an Iraqi condemnation within
    CONDEMN_DAYS (the same day counts)."""
    if d1 < d0:
        return np.zeros(s.n)
    days = np.arange(d0, d1 + 1)
    c = s.cum("condemnations")
    hi = np.minimum(days + CONDEMN_DAYS, s.days - 1) + 1
    done = (c[hi] - c[days]) > 0
    return (s["strike_rounds@iraq"][d0:d1 + 1] * done).sum(axis=0)


def lag_after_lethal(s: Series, d0: int, d1: int) -> np.ndarray:
    """Mean days from a lethal attack (days d0..d1) to the next strike round, counting only
    lags up to LAG_MAX_DAYS; NaN for a history with no such pair."""
    if d1 < d0:
        return np.full(s.n, np.nan)
    never = np.iinfo(np.int64).max // 2
    strikes = s["strike_rounds"] > 0
    day_or_never = np.where(strikes, np.arange(s.days)[:, None], never)
    nxt = np.minimum.accumulate(day_or_never[::-1], axis=0)[::-1]   # next strike day >= d
    lethal = s["lethal_attacks"][d0:d1 + 1] > 0
    lag = nxt[d0:d1 + 1] - np.arange(d0, d1 + 1)[:, None]
    ok = lethal & (lag <= LAG_MAX_DAYS)
    total = np.where(ok, lag, 0).sum(axis=0).astype(float)
    n = ok.sum(axis=0)
    return np.where(n > 0, total / np.maximum(n, 1), np.nan)


_KINDS: dict[str, Callable[[Series, int, int], np.ndarray]] = {
    "lethal_answered": lethal_answered, "lethal_unanswered": lethal_unanswered,
    "around_strikes": around_strikes,
    "condemned": condemned, "lag_after_lethal": lag_after_lethal,
}


def default_targets(tallies: pd.DataFrame | None = None, start: str = "2019-10-01",
                    end: str = "2024-12-31") -> list[Target]:
    """All targets (fitted and check-only) over the window start..end, tallies included."""
    if tallies is None:
        from calibration.record import load_tallies
        tallies = load_tallies()
    out: list[Target] = []
    for row in tallies.itertuples():
        series = TALLY_SERIES.get(row.measure)
        if series is None:
            continue   # e.g. strike_targets: the model has no targets per strike round
        t0, t1 = row.start.strftime("%Y-%m-%d"), row.end.strftime("%Y-%m-%d")
        high = None if pd.isna(row.count_high) else float(row.count_high)
        observed = float(row.count) if high is None else 0.5 * (row.count + high)
        out.append(Target(
            name=f"tally:{row.tally_id}", kind="count", start=t0, end=t1,
            series=f"{series}@{row.scope}", fit=row.tally_id in FIT_TALLIES,
            informs=FIT_TALLIES.get(row.tally_id, ""),
            description=f"{row.measure} ({row.scope}) {t0}..{t1}", observed=observed,
            observed_high=high, observed_low=float(row.count), clip=False, seen="all",
            bound=getattr(row, "bound", "exact")))
    for name, t0, t1 in STRIKE_PERIODS:
        out.append(Target(name, "count", t0, t1, "strike_rounds", fit=True, informs="us.level",
                          description=f"U.S. strike rounds {t0}..{t1}"))
    out += [
        Target("freeze_attacks", "count", *FREEZE, "attacks", fit=True,
               informs="militias.attack_rate_scale, militias.contagion_half_life_days "
                       "(pause)",
               description="attacks during the Sept-Oct 2023 freeze (documented: none)"),
        # The record's rows over two tallies' periods: with the tallies (every attack)
        # they say which share of attacks the record lists, quiet and in a campaign.
        Target("documented_attacks_2021_2023", "count", *QUIET_YEARS, "attacks@iraq_syria",
               fit=True, informs="observation.p_harmless",
               description="documented attacks (record rows) in Iraq and Syria "
                           f"{QUIET_YEARS[0]}..{QUIET_YEARS[1]} (the tally's period)"),
        Target("documented_attacks_campaign", "count", *CAMPAIGN, "attacks@iraq_syria_jordan",
               fit=True, informs="observation.attention_max",
               description="documented attacks (record rows) "
                           f"{CAMPAIGN[0]}..{CAMPAIGN[1]} (the Pentagon tally's period)"),
        Target("lethal_attacks", "count", start, end, "lethal_attacks", fit=True,
               informs="weapons.*.lethal_probability",
               description="attacks that killed U.S./coalition personnel"),
        Target("lethal_unanswered_14d", "lethal_unanswered", start, end, fit=True,
               informs="us.harm_per_killed",
               description=f"lethal attacks not answered by a strike round within "
                           f"{ANSWER_DAYS} days"),
        Target("lethal_answered_14d", "lethal_answered", start, end,
               description=f"lethal attacks answered by a strike round within "
                           f"{ANSWER_DAYS} days"),
        Target("post_strike_ratio", "around_strikes", start, end, fit=True, transform="none",
               informs="militias.fear_weight, militias.grievance_weight",
               description=f"log((attacks {AROUND_DAYS} d after strike rounds + 1) / "
                           f"(attacks {AROUND_DAYS} d before + 1))"),
        # One storming in the record (the embassy, 2019-12-31); a storming of a U.S. site is
        # always reported, so every simulated one counts.
        Target("stormings", "count", start, end, "stormings", fit=True, seen="all",
               informs="militias.storming_grievance",
               description="stormings of U.S. sites by militia supporters"),
        Target("deaths", "count", start, end, "deaths",
               description="U.S./coalition deaths in attacks"),
        Target("strike_rounds", "count", start, end, "strike_rounds",
               description="U.S. strike rounds (days with a strike)"),
        Target("strike_rounds_iraq", "count", start, end, "strike_rounds@iraq",
               description="U.S. strike rounds on Iraqi soil"),
        Target("leader_strike_rounds", "count", start, end, "leader_strike_rounds",
               description="U.S. strike rounds against leaders"),
        Target("condemned_strikes", "condemned", start, end,
               description=f"strike rounds in Iraq condemned by Baghdad within "
                           f"{CONDEMN_DAYS} days"),
        Target("lag_after_lethal", "lag_after_lethal", start, end, transform="none",
               description="mean days from a lethal attack to the next strike round"),
    ]
    return out


def restrict(targets: list[Target], until=None) -> list[Target]:
    """The targets that can be computed from days up to ``until`` (all when None)."""
    if until is None:
        return list(targets)
    return [t for t in (t.until(until) for t in targets) if t is not None]


def fitted(targets: list[Target]) -> list[Target]:
    return [t for t in targets if t.fit]


# --- Values -----------------------------------------------------------------------------------

def evaluate(targets: list[Target], series: Series) -> np.ndarray:
    """Target values (replicates x targets) of a series."""
    if not targets:
        return np.zeros((series.n, 0))
    return np.column_stack([np.asarray(t.compute(series), dtype=float) for t in targets])


def observed(targets: list[Target], record: pd.DataFrame | None = None,
             start: str = "2019-10-01", end: str = "2024-12-31") -> np.ndarray:
    """The record's values of ``targets``: published counts for tallies, the record's
    events (through :func:`daily_series`, as for simulations) for the rest."""
    if record is None:
        from calibration.record import load_record
        record = load_record()
    series = daily_series(record, start, end)
    values = evaluate(targets, series)[0]
    for i, t in enumerate(targets):
        if t.observed is not None:
            values[i] = t.observed
    return values


def simulated(targets: list[Target], events: pd.DataFrame, start, end,
              replicates: np.ndarray, chunk: int = 500,
              given: dict[str, pd.DataFrame] | None = None) -> np.ndarray:
    """Target values (replicates x targets) of simulated events, in chunks of replicates
    (the daily series are days x replicates). ``given``: the events of runs that replay
    the record up to each turning point's origin, for the targets with ``given``."""
    replicates = np.asarray(replicates)
    parts = []
    rep = events["replicate"].to_numpy()
    for lo in range(0, len(replicates), chunk):
        reps = replicates[lo:lo + chunk]
        series = daily_series(events[np.isin(rep, reps)], start, end, reps)
        for origin, ev in (given or {}).items():
            series.conditioned[origin] = daily_series(
                ev[np.isin(ev["replicate"].to_numpy(), reps)], start, end, reps)
        parts.append(evaluate(targets, series))
    return np.vstack(parts) if parts else np.zeros((0, len(targets)))


def turning_point_targets() -> list[Target]:
    """The turning points (``calibration.responses``) as targets: the documented attacks
    in each window, from runs that replay the record up to its origin. Fitted only with
    ``escalation calibrate --turning-points`` (an experiment: slower, and it asks how the
    actors answer each act, which the free runs cannot)."""
    from calibration.responses import TURNING_POINTS, as_target
    return [as_target(tp) for tp in TURNING_POINTS]


#: Relative tolerance of a tally whose source says "about N" ("about 66", "nearly three
#: dozen"): such a count is rounded, to the nearest 5 or to two significant figures, which
#: moves the record's "about" counts (25 to 90) by up to a tenth. Inside it the distance is 0.
ABOUT_TOLERANCE = 0.1


def bounded(targets: list[Target], values: np.ndarray) -> np.ndarray:
    """Raw values with each tally's ``bound`` applied, so that a value the published count
    allows sits on it: an ``at_least`` tally (the true count is the count or more) does not
    penalise a simulation above its lower count, an ``at_most`` one below its upper count, an
    ``about`` one within :data:`ABOUT_TOLERANCE` of it (beyond, by the excess only);
    ``exact`` is unchanged. Applied to the record's value too, by :func:`transform`."""
    out = np.array(values, dtype=float, copy=True)
    for i, t in enumerate(targets):
        if t.observed is None or t.bound == "exact":
            continue
        x = out[..., i]
        if t.bound == "at_least":
            out[..., i] = np.minimum(x, t.low)
        elif t.bound == "at_most":
            out[..., i] = np.maximum(x, t.high)
        elif t.bound == "about":
            tol = ABOUT_TOLERANCE * abs(t.observed)
            excess = np.maximum(np.abs(x - t.observed) - tol, 0.0)
            out[..., i] = t.observed + np.sign(x - t.observed) * excess
        else:
            raise ValueError(f"target {t.name}: unknown bound {t.bound!r}")
    return out


def inside(t: Target, lo: float, hi: float, y: float) -> bool:
    """Whether a band [lo, hi] agrees with the record's value ``y`` of target ``t`` under
    its bound: an ``at_least`` tally when hi reaches its lower count, ``at_most`` when lo
    is under its upper count, ``about`` when the band meets the count +- the tolerance,
    otherwise when the band meets [low, high] (one number when sources agree)."""
    if t.observed is None:
        return bool(lo <= y <= hi)
    if t.bound == "at_least":
        return bool(hi >= t.low)
    if t.bound == "at_most":
        return bool(lo <= t.high)
    tol = ABOUT_TOLERANCE * abs(t.observed) if t.bound == "about" else 0.0
    return bool(t.low - tol <= hi and t.high + tol >= lo)


def transform(targets: list[Target], values: np.ndarray) -> np.ndarray:
    """Values on the distance's scale: tallies' bounds applied (:func:`bounded`), then
    square roots of counts."""
    out = bounded(targets, values)
    for i, t in enumerate(targets):
        if t.transform == "sqrt":
            out[..., i] = np.sqrt(np.maximum(out[..., i], 0.0))
    return out


#: The smallest scale of a target in the distance: about the standard deviation of the
#: square root of a Poisson count (0.5), and a tenth for a log ratio.
SCALE_FLOOR: dict[str, float] = {"sqrt": 0.5, "none": 0.1}


def table(targets: list[Target]) -> pd.DataFrame:
    """Targets as a table: name, window, fitted, what it informs, description."""
    return pd.DataFrame([dict(target=t.name, start=t.start, end=t.end, fit=t.fit,
                              informs=t.informs, description=t.description)
                         for t in targets])
