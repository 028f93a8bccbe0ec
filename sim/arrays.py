"""Parameters as arrays over replicates: what the dynamics functions read.

What lives here: :class:`ParamArrays`, built from a resolved :class:`sim.params.ModelParams`
for ``n`` replicates, optionally with per-replicate overrides by dotted path (a sweep varies
``militias.fear_weight`` per run, calibration draws from a posterior). Shapes: Iran, U.S. and
Iraq parameters (n,); militia-wide ones (n, 1) so they broadcast over factions; faction ones
(n, F); weapon ones (n, W); site ones (n, S).

What does not live here: the dynamics (``sim.dynamics``), scenario parsing (``sim.scenario``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sim.errors import InputError
from sim.events import FACTIONS
from sim.params import (SHOCK_KINDS, WEAPON_KEYS, FactionParams, IranParams, IraqParams,
                        MilitiaCommon, ModelParams, SiteParams, USParams, WeaponParams,
                        swept_compliance)
from sim.rules import Rule, make_rule

COUNTRY_CODES = {"iraq": 0, "syria": 1, "jordan": 2}
#: Columns of the daily inputs table (``ParamArrays.inputs``, days x m x INPUTS).
INPUTS = ("tension", "troops_iraq", "troops_syria", "mission_ended", "protection")


def _fields(cls) -> list[str]:
    return [f.name for f in dataclasses.fields(cls) if "doc" in f.metadata
            and f.type not in ("str",) and f.name not in ("country", "until", "rule")]


@dataclass
class Timeline:
    """The simulated window: dates and day indices."""

    start: pd.Timestamp
    end: pd.Timestamp

    @property
    def dates(self) -> pd.DatetimeIndex:
        return pd.date_range(self.start, self.end, freq="D")

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def day_of(self, date: str | pd.Timestamp) -> int:
        return (pd.Timestamp(date) - self.start).days


class ParamArrays:
    """All numeric parameters as arrays over ``n`` replicates (see module docstring)."""

    def __init__(self, params: ModelParams, n: int, timeline: Timeline,
                 overrides: dict[str, np.ndarray] | None = None):
        self.n = n
        self.timeline = timeline
        overrides = dict(overrides or {})
        self.factions = list(FACTIONS)
        self.sites = list(params.sites)

        def value(path: str, default: Any) -> np.ndarray:
            if path in overrides:
                v = np.asarray(overrides.pop(path), dtype=float)
                if v.shape not in ((), (n,)):
                    raise InputError(None, path, f"override needs {n} values, got {v.shape}")
                return np.broadcast_to(v, (n,)).astype(float)
            return np.full(n, float(default))

        self.iran = {k: value(f"iran.{k}", getattr(params.iran, k)) for k in _fields(IranParams)}
        self.militia = {k: value(f"militias.{k}", getattr(params.militias, k))[:, None]
                        for k in _fields(MilitiaCommon)}
        # a swept alignment carries the compliance with it
        for compliance, alignment in swept_compliance(overrides).items():
            overrides[compliance] = overrides[alignment]
        self.faction = {
            k: np.stack([value(f"militias.{f}.{k}", getattr(params.factions[f], k))
                         for f in FACTIONS], axis=1)
            for k in _fields(FactionParams)}
        self.weapon = {
            k: np.stack([value(f"weapons.{w}.{k}", getattr(params.weapons[w], k))
                         for w in WEAPON_KEYS], axis=1)
            for k in _fields(WeaponParams)}
        self.site = {
            k: np.stack([value(f"sites.{s}.{k}", getattr(params.sites[s], k))
                         for s in self.sites], axis=1)
            for k in ("troops", "air_defence", "weight")}
        self.site_country = np.array([COUNTRY_CODES[params.sites[s].country]
                                      for s in self.sites])
        self.site_until = np.array([timeline.day_of(params.sites[s].until)
                                    if params.sites[s].until else 10 ** 9 for s in self.sites])
        self.us = {k: value(f"us.{k}", getattr(params.us, k)) for k in _fields(USParams)}
        self.us["us_share_of_killed"] = value("us.us_share_of_killed", US_SHARE_OF_KILLED)
        self.iraq = {k: value(f"iraq.{k}", getattr(params.iraq, k)) for k in _fields(IraqParams)}
        self.shock_scale = value("shock_scale", params.shock_scale)
        self.war_half_life = value("war_half_life_days", params.war_half_life_days)
        self.war_onset = value("war_onset_days", params.war_onset_days)

        self.rule_periods = self._rule_periods(params, overrides, n, timeline)
        self.inputs, self.restraint_override = daily_inputs(params, timeline,
                                                            self.war_half_life, self.war_onset)
        # What the record would list (calibration.observation) changes no simulated event.
        for key in [k for k in overrides if k.startswith("observation.")]:
            if hasattr(params.observation, key.split(".", 1)[1]):
                overrides.pop(key)
        if overrides:
            raise InputError(None, sorted(overrides)[0], "no such parameter")

        # Derived once: weapon preferences, resupply and capacity as (n, F, W); rates.
        self.prefs = np.stack([self.faction[f"prefer_{w}"] for w in WEAPON_KEYS], axis=2)
        self.resupply = np.stack([self.iran[f"resupply_{w}"][:, None] * self.faction["alignment"]
                                  for w in WEAPON_KEYS], axis=2)
        self.capacity = np.repeat(self.faction["arsenal_capacity"][:, :, None], len(WEAPON_KEYS),
                                  axis=2)
        self.recovery = 1.0 / self.militia["leadership_recovery_days"]
        # Daily decay factors from half-lives.
        self.decay = {
            "anger": 0.5 ** (1.0 / self.iran["anger_half_life_days"]),
            "grievance": 0.5 ** (1.0 / self.militia["grievance_half_life_days"]),
            "fear": 0.5 ** (1.0 / self.militia["fear_half_life_days"]),
            "harm": 0.5 ** (1.0 / self.us["harm_half_life_days"]),
            "sovereignty": 0.5 ** (1.0 / self.iraq["sovereignty_half_life_days"]),
            "risk": 0.5 ** (1.0 / self.iran["risk_half_life_days"]),
            "contagion": 0.5 ** (1.0 / self.militia["contagion_half_life_days"]),
            "resolve": 0.5 ** (1.0 / self.us["resolve_half_life_days"]),
            "pressure": 0.5 ** (1.0 / self.iraq["pressure_half_life_days"]),
            "standing": 0.5 ** (1.0 / self.iraq["standing_half_life_days"]),
        }

    @staticmethod
    def _rule_periods(params: ModelParams, overrides: dict[str, np.ndarray], n: int,
                      timeline: Timeline) -> list[tuple[int, Rule]]:
        """(first day, rule) pairs in date order. Overrides ``us.<param>`` apply to the base
        rule, ``us.periods.<i>.<param>`` to period i."""
        def build(name: str, given: dict[str, Any], prefix: str, where: str) -> Rule:
            p = dict(given)
            for key in [k for k in overrides if k.startswith(prefix)]:
                rest = key[len(prefix):]
                if "." not in rest and rest in make_rule(name, where=where).parameters:
                    p[rest] = np.broadcast_to(np.asarray(overrides.pop(key), float), (n,))
            return make_rule(name, p, where)

        periods = [(0, build(params.us.rule, params.us.rule_params, "us.", "us.rule"))]
        for i, period in enumerate(params.us.periods):
            periods.append((timeline.day_of(period.start),
                            build(period.rule, period.params, f"us.periods.{i}.",
                                  f"us.periods[{i}].rule")))
        return sorted(periods, key=lambda item: item[0])

    def rule_on(self, day: int) -> Rule:
        """The rule in force on ``day``."""
        rule = self.rule_periods[0][1]
        for start, candidate in self.rule_periods:
            if day >= start:
                rule = candidate
        return rule


#: Share of deaths in lethal attacks that were U.S. personnel, from the record's lethal
#: attacks: K1 1 of 1, Taji 2 of 3, Erbil 2021 0 of 1, Tower 22 3 of 3 (6 of 8 = 0.75;
#: 001_f5a8a94412535d4e.txt, 002_08fee3dbeaaca217.txt).
US_SHARE_OF_KILLED = 0.75


def shock_series(params: ModelParams, timeline: Timeline,
                 war_half_life: np.ndarray | float | None = None,
                 war_onset: np.ndarray | float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Daily regional tension and Baghdad's restraint override (NaN = none) from the shocks.

    Tension is days long, or days x m with ``war_half_life`` and ``war_onset`` arrays of m
    values (a calibration fits the war's rise and decay per run); a shock's own
    ``half_life_days`` wins over the half-life.
    """
    days = np.arange(timeline.days)
    per_run = war_half_life is not None and np.ndim(war_half_life) > 0
    half_default = np.atleast_1d(np.asarray(
        params.war_half_life_days if war_half_life is None else war_half_life, dtype=float))
    onset = np.atleast_1d(np.asarray(
        params.war_onset_days if war_onset is None else war_onset, dtype=float))
    onset = np.broadcast_to(onset, half_default.shape)
    tension = np.zeros((timeline.days, len(half_default)))
    truce = np.zeros(timeline.days)
    restraint = np.full(timeline.days, np.nan)
    for i, shock in enumerate(sorted(params.shocks, key=lambda s: s.date)):
        if shock.kind not in SHOCK_KINDS:
            raise InputError(None, f"shocks[{i}].kind",
                             f"unknown kind {shock.kind!r}; known: {', '.join(SHOCK_KINDS)}")
        d0 = timeline.day_of(shock.date)
        d1 = timeline.day_of(shock.end) if getattr(shock, "end", "") else timeline.days
        during = (days >= d0) & (days <= d1)
        if shock.kind == "regional_war":
            half = shock.half_life_days or half_default
            after = days >= d0
            since = days[after, None] - d0
            with np.errstate(divide="ignore", over="ignore"):
                rise = np.where(onset > 0, 1.0 - np.exp(-since / np.maximum(onset, 1e-9)), 1.0)
            tension[after] += shock.size * rise * 0.5 ** (since / half)
        elif shock.kind == "freeze":
            tension[during] -= shock.size
        elif shock.kind == "truce":
            truce[during] = np.maximum(truce[during], shock.size)
        elif shock.kind == "iraq_government":
            restraint[days >= d0] = shock.size
    # A truce cuts the wars' tension (not a freeze's negative tension) while it holds.
    tension = np.where(tension > 0, tension * (1.0 - truce[:, None]), tension)
    return (tension if per_run else tension[:, 0]), restraint


def step_series(params: ModelParams, timeline: Timeline, kind: str,
                initial: float) -> np.ndarray:
    """A daily value that holds ``initial`` until the scenario's first shock of ``kind``,
    then each such shock's ``size`` from its date on (the documented posture, the announced
    end of the combat mission)."""
    days = np.arange(timeline.days)
    out = np.full(timeline.days, float(initial))
    for shock in sorted(params.shocks, key=lambda s: s.date):
        if shock.kind == kind:
            out[days >= timeline.day_of(shock.date)] = shock.size
    return out


def troop_series(params: ModelParams, timeline: Timeline) -> np.ndarray:
    """Daily U.S. troops in Iraq and Syria (days x 2): ``us.troops_*`` until the scenario's
    first ``us_troops_*`` shock, then the documented posture."""
    return np.column_stack([
        step_series(params, timeline, "us_troops_iraq", params.us.troops_iraq),
        step_series(params, timeline, "us_troops_syria", params.us.troops_syria)])


def mission_series(params: ModelParams, timeline: Timeline) -> np.ndarray:
    """Daily share (0-1) of the U.S. combat mission's end announced: 0 until the scenario's
    ``combat_mission_end`` shock, then its ``size``."""
    return step_series(params, timeline, "combat_mission_end", 0.0)


def daily_inputs(params: ModelParams, timeline: Timeline, war_half_life: np.ndarray,
                 war_onset: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The exogenous inputs the compiled days read (days x m x len(INPUTS)): regional
    tension, troops in Iraq, troops in Syria, the combat mission's announced end, the force
    protection reinforced (``force_protection`` input, 0-1). m is 1 when
    every replicate shares them, else one column per replicate (the war's rise and decay
    fitted per run). Also Baghdad's restraint override by day (NaN = none)."""
    per_run = len(np.unique(war_half_life)) > 1 or len(np.unique(war_onset)) > 1
    if per_run:
        tension, restraint = shock_series(params, timeline, war_half_life, war_onset)
    else:
        tension, restraint = shock_series(params, timeline, war_half_life[:1], war_onset[:1])
    troops = troop_series(params, timeline)
    m = tension.shape[1]
    out = np.empty((timeline.days, m, len(INPUTS)))
    out[:, :, 0] = tension
    out[:, :, 1] = troops[:, :1]
    out[:, :, 2] = troops[:, 1:]
    out[:, :, 3] = mission_series(params, timeline)[:, None]
    out[:, :, 4] = step_series(params, timeline, "force_protection", 0.0)[:, None]
    return out, restraint
