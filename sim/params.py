"""Every number of the model, with its bounds and where it comes from.

What lives here: the parameter dataclasses (Iran, militias in common and per faction, weapons,
sites, U.S. forces, the Iraqi government), each field declared with :func:`param` so that its
bounds, its source and whether it is a prior (not yet fitted) travel with it. The scenario
loader validates against these declarations, sweeps and calibration address them by dotted
path (``militias.fear_weight``, ``us.lag_days``, ``militias.kataib_hezbollah.base_attack_rate``):
one name per parameter, the scenario file's, everywhere (:func:`describe` gives the same).
The scenario's own keys (window, seed, ``shock_scale``) and the shocks have their bounds here
too (``DATE_MIN`` ... ``SHOCK_SIZE_BOUNDS``): every bound a scenario is checked against lives
in this file or, for a rule's own parameters, in ``sim.rules``.

What does not live here: dynamics (``sim.dynamics``), the rules' own parameters
(``sim.rules``), scenario files (``sim.scenario``).

Sources are named in each field's ``source``: a seed file of the project (e.g.
``000_a0ed2b5f01c76508.txt``), ``record`` (computed from calibration/data/events.csv) or
``prior`` (a modelling assumption, to be fitted by calibration; see issue 5).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from sim.events import FACTIONS

WEAPON_KEYS: tuple[str, ...] = ("rocket", "drone", "ballistic_missile")


def param(default: Any, lo: float | None = None, hi: float | None = None, *, source: str,
          doc: str, integer: bool = False) -> Any:
    """Declare a model parameter: default, inclusive bounds, source and a one-line meaning."""
    return field(default=default, metadata={
        "lo": lo, "hi": hi, "source": source, "doc": doc, "integer": integer,
        "prior": source.startswith("prior")})


# --- Iran ---------------------------------------------------------------------------------

@dataclass
class IranParams:
    """Iran as sponsor: a directive to its proxies, resupply, and a direct answer."""

    directive_bias: float = param(0.0, -5, 5, source="prior",
                                  doc="baseline of Iran's directive score (0 = normal)")
    tension_weight: float = param(1.0, 0, 10, source="prior",
                                  doc="how much regional tension (shocks) moves the directive")
    anger_weight: float = param(0.5, 0, 10, source="prior",
                                doc="how much anger at U.S. strikes moves the directive")
    anger_half_life_days: float = param(60.0, 1, 2000, source="prior",
                                        doc="half-life of Iran's anger at U.S. strikes")
    anger_per_strike: float = param(0.2, 0, 10, source="prior",
                                    doc="anger added per unit of U.S. strike size")
    anger_per_commander: float = param(3.0, 0, 20, source="prior",
                                       doc="anger added when an Iranian commander is killed")
    escalate_threshold: float = param(1.0, -10, 10, source="prior",
                                      doc="directive score above which Iran says escalate")
    restrain_threshold: float = param(-1.0, -10, 10, source="prior",
                                      doc="directive score below which Iran says restrain")
    can_stand_down: int = param(
        1, 0, 1, integer=True, source="scenario switch (issue 10: the lull what-ifs)",
        doc="1: Iran may order its proxies to stand down ('restrain'); 0: never (what-if)")
    restrain_multiplier: float = param(0.15, 0, 1, source="prior",
                                       doc="militia attack-rate multiplier under 'restrain'")
    escalate_multiplier: float = param(4.0, 1, 50, source="prior",
                                       doc="militia attack-rate multiplier under 'escalate'")
    resupply_rocket: float = param(0.3, 0, 10, source="prior",
                                   doc="rocket salvos resupplied per faction-day, x alignment")
    resupply_drone: float = param(0.2, 0, 10, source="prior",
                                  doc="drone sorties resupplied per faction-day, x alignment")
    resupply_ballistic_missile: float = param(0.01, 0, 1, source="prior",
                                              doc="missiles resupplied per faction-day")
    risk_weight: float = param(
        1.0, 0, 10, source="prior",
        doc="how much the risk of a direct U.S. answer against Iran lowers its directive score")
    risk_half_life_days: float = param(90.0, 1, 2000, source="prior",
                                       doc="half-life of the risk Iran perceives")
    risk_per_us_death: float = param(
        1.0, 0, 20, source="prior (002_08fee3dbeaaca217.txt: Tower 22's deaths, then Qaani's "
                           "visit and Kataib Hezbollah's suspension)",
        doc="risk added per U.S./coalition death caused by the proxies")
    war_risk_weight: float = param(
        0.0, 0, 10, source="prior, off by default; Reuters, 2024-02-18, via https://www.sofx.com/"
                           "irans-commander-visit-leads-to-pause-in-attacks-on-us-forces/: "
                           "Qaani's halt after Tower 22 sought to keep Iran out of the "
                           "regional war",
        doc="how much a regional war multiplies the risk of U.S. deaths: risk per death x "
            "(1 + this x the day's regional tension); 0 = no more than in peacetime")
    risk_per_strike_target: float = param(
        0.1, 0, 5, source="prior",
        doc="risk added per target of a U.S. strike round (a large round signals resolve)")
    risk_per_own_attack: float = param(
        3.0, 0, 20, source="prior (Iran stepped back from direct exchange after its missiles of "
                           "2020-01-08)",
        doc="risk of a direct exchange added when Iran attacks U.S. forces itself: Iran "
            "answers its next commander's killing itself with probability "
            "retaliation_probability x exp(-risk); it does not order the proxies down")
    retaliation_probability: float = param(
        1.0, 0, 1, source="record: 2020-01-08 al-Asad answer to 2020-01-03 (1 of 1)",
        doc="chance Iran attacks U.S. forces itself after its commander is killed, with no "
            "attack of its own in recent memory (see risk_per_own_attack)")
    retaliation_lag_days: int = param(
        5, 0, 60, integer=True, source="record: 2020-01-03 strike, 2020-01-08 answer",
        doc="days from the killing to Iran's own attack")


# --- Militias -----------------------------------------------------------------------------

@dataclass
class MilitiaCommon:
    """How every faction weighs grievance against fear (the deterrence tension)."""

    attack_rate_scale: float = param(1.0, 0, 100, source="prior",
                                     doc="multiplies every faction's base attack rate "
                                         "(one knob for calibration)")
    grievance_weight: float = param(1.0, 0, 10, source="prior",
                                    doc="log attack-rate gained per unit grievance (provocation)")
    fear_weight: float = param(1.0, 0, 10, source="prior",
                               doc="log attack-rate lost per unit fear (deterrence)")
    tension_weight: float = param(1.0, 0, 10, source="prior",
                                  doc="log attack-rate gained per unit regional tension")
    grievance_half_life_days: float = param(90.0, 1, 2000, source="prior",
                                            doc="half-life of a faction's grievance")
    fear_half_life_days: float = param(30.0, 1, 2000, source="prior",
                                       doc="half-life of a faction's fear of retaliation")
    grievance_per_strike: float = param(0.4, 0, 10, source="prior",
                                        doc="grievance a struck faction gains per strike")
    grievance_per_killed: float = param(0.03, 0, 2, source="prior",
                                        doc="grievance gained per fighter killed")
    grievance_per_leader: float = param(1.0, 0, 10, source="prior",
                                        doc="grievance gained when its leaders are struck")
    fear_per_strike: float = param(0.8, 0, 10, source="prior",
                                   doc="fear a struck faction gains per unit strike size")
    fear_spillover: float = param(0.3, 0, 1, source="prior",
                                  doc="share of that fear felt by the factions not struck")
    leadership_loss: float = param(0.5, 0, 1, source="prior",
                                   doc="share of leadership lost to a leader strike")
    leadership_recovery_days: float = param(180.0, 1, 5000, source="prior",
                                            doc="time constant of rebuilding leadership")
    arsenal_loss_per_strike: float = param(0.15, 0, 1, source="prior",
                                           doc="share of arsenal destroyed per unit strike size")
    suspend_margin: float = param(2.0, 0, 20, source="prior",
                                  doc="fear minus grievance at which a faction suspends attacks "
                                      "(as Kataib Hezbollah did on 2024-01-30)")
    contagion_branching: float = param(
        0.4, 0, 0.95, source="prior (Lewis et al. 2012, 'Self-exciting point process models of "
                             "civilian deaths in Iraq': 37-50% of events are excitation)",
        doc="expected further attacks, across factions, that one attack sets off (emulation)")
    contagion_half_life_days: float = param(
        14.0, 1, 120, source="prior (Lewis et al. 2012: excitation lasting 2-6 weeks)",
        doc="half-life of the excitation an attack leaves")
    contagion_lethal_factor: float = param(
        2.0, 1, 20, source="prior", doc="how many times more a lethal attack excites")
    negotiation_calm: float = param(
        0.7, 0, 1, source="prior (record: the exit talks of Aug 2023 and Jan 2024 were offered "
                          "to calm the factions)",
        doc="attack-rate multiplier while Baghdad negotiates the coalition's exit")
    mission_end_calm: float = param(
        0.0, 0, 1, source="prior, 0 by default, fitted (calibration.priors); the end of the "
                          "U.S. combat mission agreed on "
                          "2021-07-26 (Reuters, via https://www.hurriyetdailynews.com/biden-"
                          "kadhimi-seal-agreement-to-end-us-combat-mission-in-iraq-166615)",
        doc="share of the militias' attacks the announced end of the U.S. combat mission "
            "takes away (the scenario's combat_mission_end input; 0 = none)")
    storming_grievance: float = param(
        1.0, 0, 20, source="prior (record: the embassy storming of 2019-12-31 followed the "
                           "strikes on Kataib Hezbollah of 2019-12-29)",
        doc="grievance above which a faction struck in Iraq may storm a U.S. site")
    storming_probability: float = param(0.2, 0, 1, source="prior",
                                        doc="chance per day of a storming while it may happen")
    storming_window_days: int = param(7, 1, 60, integer=True, source="prior",
                                      doc="days after a strike in Iraq in which it may happen")
    max_attacks_per_day: int = param(3, 1, 10, integer=True, source="prior",
                                     doc="most attacks one faction makes in a day")
    after_exit_factor: float = param(
        0.3, 0, 1, source="prior (002_08fee3dbeaaca217.txt: the attacks aim 'to pressure the "
                          "withdrawal of US troops from Iraq')",
        doc="attack-rate multiplier once the U.S. has left Iraq (the aim is met)")


@dataclass
class FactionParams:
    """One faction's capacities and leanings. Defaults per faction in ``FACTION_DEFAULTS``."""

    base_attack_rate: float = param(0.01, 0, 5, source="prior",
                                    doc="attacks per day with no grievance, fear or directive")
    fighters: float = param(1000.0, 0, 200000, source="prior", doc="fighters")
    alignment: float = param(0.5, 0, 1, source="prior",
                             doc="how closely it follows Iran's directive (1 = fully)")
    compliance: float = param(0.5, 0, 1, source="prior",
                              doc="chance it suspends attacks when Iran orders a stand-down "
                                  "(follows a changed alignment unless set)")
    prefer_rocket: float = param(1.0, 0, 100, source="prior", doc="weight of rockets")
    prefer_drone: float = param(1.0, 0, 100, source="prior", doc="weight of drones")
    prefer_ballistic_missile: float = param(0.0, 0, 100, source="prior",
                                            doc="weight of ballistic missiles")
    arsenal_rocket: float = param(20.0, 0, 10000, source="prior", doc="rocket salvos at start")
    arsenal_drone: float = param(10.0, 0, 10000, source="prior", doc="drone sorties at start")
    arsenal_ballistic_missile: float = param(0.0, 0, 1000, source="prior",
                                             doc="ballistic missiles at start")
    arsenal_capacity: float = param(60.0, 0, 100000, source="prior",
                                    doc="most salvos of each weapon it can stock")


#: Per-faction defaults. Fighters and weapons from 003_3137d872d5bc9f5a.txt where it gives
#: them (Imam Ali Brigades ~7,000 as of 2018; Kataib Hezbollah "thousands" with drones,
#: rockets and short-range ballistic missiles; the umbrella ~50,000 across ~10 factions);
#: everything else is a prior. Kataib Hezbollah is the most active (003: "hundreds of attacks"
#: claimed since the Gaza war); Kataib Imam Ali "less active since around 2020" (003).
FACTION_DEFAULTS: dict[str, dict[str, float]] = {
    # compliance: Kataib Hezbollah suspended on Iran's order (record:
    # 2024-01-30-kh-suspends-operations); the others' is their alignment (below).
    "kataib_hezbollah": dict(base_attack_rate=0.030, fighters=7000, alignment=0.95,
                             compliance=0.9,
                             prefer_rocket=2, prefer_drone=2, prefer_ballistic_missile=0.15,
                             arsenal_rocket=40, arsenal_drone=30, arsenal_ballistic_missile=4),
    "kataib_sayyid_al_shuhada": dict(base_attack_rate=0.012, fighters=3000, alignment=0.85,
                                     prefer_rocket=1.5, prefer_drone=1.5),
    "harakat_al_nujaba": dict(base_attack_rate=0.015, fighters=5000, alignment=0.9,
                              prefer_rocket=1.5, prefer_drone=2,
                              prefer_ballistic_missile=0.05, arsenal_ballistic_missile=2),
    "asaib_ahl_al_haq": dict(base_attack_rate=0.006, fighters=10000, alignment=0.6,
                             prefer_rocket=2, prefer_drone=0.5),
    "kataib_imam_ali": dict(base_attack_rate=0.002, fighters=7000, alignment=0.5),
    "jund_al_imam": dict(base_attack_rate=0.002, fighters=1000, alignment=0.6),
    "ansar_allah_al_awfiya": dict(base_attack_rate=0.004, fighters=1000, alignment=0.85,
                                  prefer_rocket=0.5, prefer_drone=2),
}
# A faction with no documented stand-down obeys Iran's order as closely as it follows Iran's
# directive: its compliance is its alignment (a prior, like the alignment). Harakat al-Nujaba
# said it would go on (2024-02-02-nujaba-continues) and later that the factions had "ended
# their truce" (2024-08-20-nujaba-truce-over): both after the forecast's origin of 2024-01-31
# and pointing different ways, so neither sets its compliance.
for _faction in FACTION_DEFAULTS.values():
    _faction.setdefault("compliance", _faction["alignment"])
del _faction

#: Factions whose compliance the record documents: it does not follow their alignment.
DOCUMENTED_COMPLIANCE: frozenset[str] = frozenset({"kataib_hezbollah"})


def compliance_follows(faction: str, changed: Any) -> bool:
    """Whether a faction's compliance moves with its alignment when a scenario, ``--set`` or
    a sweep changes the alignment (``changed``: the paths or fields it changes): yes, unless
    the record documents the compliance or the change sets the compliance too."""
    return faction not in DOCUMENTED_COMPLIANCE and not any(
        str(k).endswith("compliance") for k in changed)


def derives_compliance(faction: str, changed: Any) -> bool:
    """Whether a change (the faction's fields, or dotted paths) makes the faction's compliance
    its new alignment: it changes the alignment and :func:`compliance_follows`. The one test
    for a scenario, ``--set``, a sweep and the manifests that list the derived value."""
    return (any(str(k).endswith("alignment") for k in changed)
            and compliance_follows(faction, changed))


def swept_compliance(paths) -> dict[str, str]:
    """For a sweep over the dotted ``paths``: each faction's compliance that follows a swept
    alignment (:func:`derives_compliance`), mapped to that alignment's path."""
    paths = list(paths)
    return {f"militias.{faction}.compliance": f"militias.{faction}.alignment"
            for faction in FACTION_DEFAULTS
            if derives_compliance(faction, [k for k in paths
                                            if k.startswith(f"militias.{faction}.")])}


def faction_params(faction: str, values: dict[str, Any]) -> "FactionParams":
    """A faction's parameters: ``values`` over its defaults (``FACTION_DEFAULTS``); a changed
    alignment carries the compliance with it (:func:`derives_compliance`)."""
    merged = {**FACTION_DEFAULTS[faction], **values}
    if derives_compliance(faction, values):
        merged["compliance"] = values["alignment"]
    return FactionParams(**merged)


# --- Weapons and sites --------------------------------------------------------------------

@dataclass
class WeaponParams:
    """Outcome distribution of one attack with a weapon: the many harmless ones, the rare
    lethal ones (K1, Taji, Erbil 2021, Tower 22)."""

    intercept_probability: float = param(0.3, 0, 1, source="prior",
                                         doc="chance the attack is intercepted (full air defence)")
    wounded_mean: float = param(0.15, 0, 50, source="prior",
                                doc="mean wounded by an attack that gets through")
    lethal_probability: float = param(0.012, 0, 1, source="prior",
                                      doc="chance an attack that gets through kills")
    killed_extra_mean: float = param(0.7, 0, 20, source="prior",
                                     doc="mean deaths beyond the first in a lethal attack")


WEAPON_DEFAULTS: dict[str, dict[str, float]] = {
    # Rockets: K1 (1 killed) and Taji (3 killed) were 30 and 18-rocket salvos
    # (004_ee22bb034a8b2be9.txt; 001_f5a8a94412535d4e.txt); most salvos harm no one (001).
    "rocket": dict(intercept_probability=0.2, wounded_mean=0.15, lethal_probability=0.012,
                   killed_extra_mean=0.7),
    # Drones: Tower 22 killed 3 and wounded 34+ (002_08fee3dbeaaca217.txt); the 2021 drone
    # campaign had no casualties (001).
    "drone": dict(intercept_probability=0.45, wounded_mean=0.2, lethal_probability=0.008,
                  killed_extra_mean=1.0),
    # Ballistic missiles: 2020-01-08 (no deaths; 110 TBI later, 004) and 2024-01-20 al-Asad
    # ("most were intercepted", TBI evaluations, 000).
    "ballistic_missile": dict(intercept_probability=0.6, wounded_mean=3.0,
                              lethal_probability=0.02, killed_extra_mean=1.0),
}


#: Countries a site may be in.
SITE_COUNTRIES: tuple[str, ...] = ("iraq", "syria", "jordan")


@dataclass
class SiteParams:
    """A U.S./coalition site that militias can attack."""

    country: str = param("iraq", source="record", doc="iraq, syria or jordan")
    troops: float = param(100.0, 0, 100000, source="prior", doc="U.S. troops there (estimate)")
    air_defence: float = param(1.0, 0, 1, source="prior",
                               doc="scales the weapons' interception chance")
    weight: float = param(1.0, 0, 1000, source="record",
                          doc="attractiveness as a target (share of documented attacks)")
    until: str = param("", source="record", doc="date the U.S. left the site ('' = stayed)")


#: Sites of the record. Weights follow how often the record names each site; troops only
#: where documented (about 2,500 in Iraq and 900 in Syria in all, 000_a0ed2b5f01c76508.txt),
#: split as estimates. K1 and Taji were handed to Iraqi forces in 2020 (record).
SITE_DEFAULTS: dict[str, dict[str, Any]] = {
    "al_asad": dict(country="iraq", troops=1000, air_defence=1.0, weight=4.0),
    "erbil_airport": dict(country="iraq", troops=800, air_defence=1.0, weight=3.0),
    "baghdad_embassy": dict(country="iraq", troops=200, air_defence=1.0, weight=1.5),
    "baghdad_airport": dict(country="iraq", troops=300, air_defence=0.7, weight=2.0),
    "taji": dict(country="iraq", troops=300, air_defence=0.5, weight=1.0, until="2020-08-23"),
    "k1": dict(country="iraq", troops=100, air_defence=0.3, weight=0.5, until="2020-03-29"),
    "balad": dict(country="iraq", troops=50, air_defence=0.5, weight=0.7),
    "al_tanf": dict(country="syria", troops=200, air_defence=0.8, weight=1.5),
    "al_shaddadi": dict(country="syria", troops=150, air_defence=0.8, weight=1.5),
    "al_omar": dict(country="syria", troops=200, air_defence=0.8, weight=2.0),
    "conoco": dict(country="syria", troops=100, air_defence=0.8, weight=1.0),
    "rumalyn": dict(country="syria", troops=100, air_defence=0.8, weight=1.0),
    "tower_22": dict(country="jordan", troops=350, air_defence=0.6, weight=0.3),
}


# --- U.S. forces and the Iraqi government -------------------------------------------------

@dataclass
class RulePeriod:
    """A deterrence rule in force from ``start`` (U.S. administrations changed rules)."""

    start: str = param("", source="scenario", doc="first day the rule is in force")
    rule: str = param("threshold", source="scenario", doc="name of a registered rule")
    params: dict[str, float] = field(default_factory=dict)


@dataclass
class USParams:
    """U.S. forces: harm ledger, attribution, response lag, where and how hard to strike."""

    rule: str = param("threshold", source="prior", doc="deterrence rule (see `escalation rules`)")
    rule_params: dict[str, float] = field(default_factory=dict)
    periods: list[RulePeriod] = field(default_factory=list)
    troops_iraq: float = param(2500.0, 0, 200000, source="000_a0ed2b5f01c76508.txt",
                               doc="U.S. troops in Iraq")
    troops_syria: float = param(900.0, 0, 200000, source="000_a0ed2b5f01c76508.txt",
                                doc="U.S. troops in Syria")
    attribution_accuracy: float = param(0.8, 0, 1, source="prior",
                                        doc="chance an attack is attributed to its faction")
    misattribution: float = param(
        0.3, 0, 1, source="prior",
        doc="share of the attacks not attributed that are blamed on the faction the record "
            "names most (Kataib Hezbollah), whether or not it attacked")
    umbrella_attribution_factor: float = param(
        0.5, 0, 1, source="prior (record: the Islamic Resistance in Iraq claims collectively "
                          "from October 2023)",
        doc="attribution accuracy multiplier while the factions campaign under Iran's "
            "'escalate' directive and claim collectively")
    force_protection: float = param(
        0.0, 0, 1, source="prior, 0 by default; the air defences reinforced on 2023-10-21 "
                          "(Secretary Austin: a THAAD battery and additional Patriot "
                          "battalions 'to increase force protection for U.S. forces', TASS, "
                          "https://tass.com/world/1694889)",
        doc="share of the lethal outcomes of attacks that the reinforced force protection "
            "prevents (the scenario's force_protection input; 0 = none)")
    exposure_elasticity: float = param(
        1.0, 0, 3, source="prior",
        doc="attack rate scales as (troops present / troops_iraq + troops_syria) to this power")
    resolve_half_life_days: float = param(
        120.0, 1, 2000, source="prior",
        doc="half-life of the accumulated harm that strikes do not reset (the ladder's memory)")
    harm_per_storming: float = param(
        10.0, 0, 1000, source="prior (record: the storming of the embassy, 2019-12-31, was "
                              "answered by the leader strike of 2020-01-03)",
        doc="harm the ledger books for a storming of a U.S. site")
    harm_half_life_days: float = param(30.0, 1, 2000, source="prior",
                                       doc="half-life of the harm ledger")
    harm_per_attack: float = param(1.0, 0, 100, source="prior", doc="harm of any attack")
    harm_per_wounded: float = param(2.0, 0, 100, source="prior", doc="harm per wounded")
    harm_per_killed: float = param(10.0, 0, 1000, source="prior", doc="harm per death")
    lag_days: int = param(3, 0, 60, integer=True,
                          source="record: K1->strike 2 d, Taji 2 d, Erbil 2021 10 d, "
                                 "al-Asad 2024-01-20 3-4 d, Tower 22 5 d; median 3",
                          doc="days from the decision to strike to the strike")
    syria_share: float = param(0.4, 0, 1, source="prior (record: about 4 of 10 rounds in Syria)",
                               doc="chance a strike round hits Syria rather than Iraq")
    militia_killed_per_target: float = param(
        2.0, 0, 50, source="record: 2019-12-29 25 killed at 5 sites (001); 2021-06-27 4-7 at 3",
        doc="mean militia fighters killed per unit strike size")
    syria_effect: float = param(
        0.5, 0, 1, source="prior (002_08fee3dbeaaca217.txt: 'the main headquarters of those "
                          "groups are inside Iraq')",
        doc="share of a strike's damage and fear when it lands in Syria rather than Iraq")
    iraqi_collateral_probability: float = param(
        0.1, 0, 1, source="prior (record: 2020-03-13 killed Iraqi soldiers and police, 001)",
        doc="chance a strike round in Iraq kills Iraqi security forces or civilians")
    iraqi_killed_if_collateral: float = param(
        6.0, 0, 100, source="001_f5a8a94412535d4e.txt: 2020-03-13, 5 security + 1 civilian",
        doc="mean Iraqis killed when a strike round has collateral deaths")
    iranian_commander_probability: float = param(
        0.05, 0, 1, source="prior (record: 1 of the leader strikes, 2020-01-03)",
        doc="chance a leader strike also kills an Iranian commander")
    max_strike_size: float = param(
        100.0, 1, 100, source="record: 85 targets on 2024-02-02 (002_08fee3dbeaaca217.txt)",
        doc="largest strike round, in targets")


@dataclass
class IraqParams:
    """The Iraqi government: sovereignty grievance and what it does with it."""

    sovereignty_half_life_days: float = param(180.0, 1, 5000, source="prior",
                                              doc="half-life of the sovereignty grievance")
    grievance_per_strike: float = param(1.0, 0, 20, source="prior",
                                        doc="per U.S. strike round on Iraqi soil")
    grievance_per_leader_strike: float = param(3.0, 0, 50, source="prior",
                                               doc="extra per leader strike on Iraqi soil")
    grievance_per_iraqi_killed: float = param(0.3, 0, 10, source="prior",
                                              doc="per Iraqi killed by U.S. strikes")
    condemn_probability: float = param(
        0.9, 0, 1, source="record: Iraq condemned the strikes of 2019-12-29, 2020-01-03, "
                          "2020-03-13, 2021-06-27, 2024-01-24 (000, 001)",
        doc="chance Baghdad condemns a U.S. strike on Iraqi soil")
    negotiate_threshold: float = param(3.0, 0, 100, source="prior",
                                       doc="grievance at which Baghdad opens exit talks")
    vote_threshold: float = param(5.0, 0, 100, source="prior",
                                  doc="grievance at which parliament votes for the U.S. exit")
    exit_threshold: float = param(9.0, 0, 100, source="prior",
                                  doc="grievance at which the U.S. exit is decided")
    exit_delay_days: int = param(365, 0, 3650, integer=True,
                                 source="record: Sept 2024 agreement, end of mission Sept 2025",
                                 doc="days from the decision to the U.S. leaving Iraq")
    restraint: float = param(0.1, 0, 1, source="prior",
                             doc="Baghdad's effort to restrain the militias (0-1)")
    restraint_erosion: float = param(0.1, 0, 10, source="prior",
                                     doc="share of Baghdad's restraint lost per unit of "
                                         "sovereignty grievance (an aggrieved Baghdad "
                                         "restrains less)")
    restraint_effect: float = param(0.6, 0, 1, source="prior",
                                    doc="how much full restraint cuts a non-aligned faction's "
                                        "attacks (aligned factions feel it less)")
    pressure_half_life_days: float = param(
        30.0, 1, 2000, source="prior",
        doc="half-life of the pressure attacks on Iraqi soil put on Baghdad to act")
    raid_rate: float = param(
        0.01, 0, 1, source="prior (record: the raid on Kataib Hezbollah of 2020-06-25)",
        doc="chance per day of a raid per unit of pressure and of restraint effort")
    raid_capacity_loss: float = param(
        0.3, 0, 1, source="prior (record 2020-06-25: rockets seized, 14 detained)",
        doc="share of the raided faction's arsenal seized")
    raid_fear: float = param(1.0, 0, 10, source="prior",
                             doc="fear the raided faction gains")
    raid_grievance: float = param(0.5, 0, 10, source="prior",
                                  doc="grievance the raided faction gains")
    raid_standing_cost: float = param(
        0.3, 0, 1, source="prior (record: the detainees of 2020-06-25 were released within "
                          "days under the PMF's pressure)",
        doc="Baghdad's standing with the militias' political allies lost per raid; its "
            "restraint works in proportion to its standing")
    standing_half_life_days: float = param(
        90.0, 1, 2000, source="prior", doc="half-life of a loss of standing")
    syria_exit_probability: float = param(
        0.5, 0, 1, source="000_a0ed2b5f01c76508.txt (analysts: an Iraq exit makes Syria's "
                          "900 isolated) - size is a prior",
        doc="chance the U.S. also leaves Syria after leaving Iraq")
    syria_exit_delay_days: int = param(180, 0, 3650, integer=True, source="prior",
                                       doc="days from leaving Iraq to leaving Syria")


# --- Observation: which simulated events the record would list ----------------------------

@dataclass
class ObservationParams:
    """How likely a simulated militia attack is to appear in the documented record
    (docs/observation.md). U.S. strikes, Iran's own attacks and Baghdad's acts are always
    documented; the published tallies count every attack."""

    p_harmless: float = param(0.5, 0, 1, source="prior (the midpoint: no information)",
                              doc="chance a militia attack with no U.S. casualty is listed")
    p_wounding: float = param(
        0.9, 0, 1, source="prior (the Pentagon reports injuries, if not always promptly)",
        doc="chance a militia attack that wounds but kills no one is listed")
    p_lethal: float = param(
        1.0, 0, 1, source="prior (DoD announces every death of U.S. personnel)",
        doc="chance a militia attack that kills U.S./coalition personnel is listed")
    attention_max: float = param(
        0.5, 0, 1, source="prior (the midpoint: no information)",
        doc="largest share of unlisted attacks that press attention after recent violence "
            "adds to the record")
    attention_scale: float = param(
        20.0, 0.1, 1000, source="prior",
        doc="attacks in the previous attention_days at which attention is half its maximum")
    attention_days: int = param(30, 1, 365, integer=True, source="prior",
                                doc="days of past attacks that set the press's attention")


# --- The scenario's window and shocks ----------------------------------------------------

#: Dates a scenario may use at all: generous around the 2019-2024 record, to catch typos.
DATE_MIN, DATE_MAX = "2019-01-01", "2030-12-31"
#: The model's default window (DESIGN.md, "The model") and seed.
DEFAULT_START, DEFAULT_END = "2019-10-01", "2024-12-31"
DEFAULT_SEED = 0
SEED_BOUNDS: tuple[int, int] = (0, 2 ** 63 - 1)
#: ``shock_scale`` multiplies every shock's size.
SHOCK_SCALE_BOUNDS: tuple[float, float] = (0.0, 10.0)


@dataclass
class Shock:
    """A dated exogenous driver (scenario data, not code)."""

    date: str = param("", source="scenario", doc="day the shock happens")
    kind: str = param("regional_war", source="scenario", doc="one of SHOCK_KINDS")
    size: float = param(1.0, source="scenario", doc="size; bounds by kind in SHOCK_SIZE_BOUNDS")
    end: str = param("", source="scenario", doc="last day of a freeze ('' = none)")
    half_life_days: float = param(0.0, 0, 5000, source="scenario",
                                  doc="decay of a regional war (0 = the kind's default)")


#: Shock kinds and their effect; ``half_life_days`` 0 means the kind's default.
SHOCK_KINDS: dict[str, str] = {
    "regional_war": "adds `size` to regional tension, decaying with half_life_days (default: "
                    "the scenario's war_half_life_days)",
    "truce": "a truce in the regional war: its tension is cut by the share `size` (0-1) from "
             "date to `end`",
    "us_troops_iraq": "documented U.S. force posture: `size` troops in Iraq from date on",
    "us_troops_syria": "documented U.S. force posture: `size` troops in Syria from date on",
    "freeze": "Iran's proxies hold fire: lowers tension by `size` from date to `end`",
    "iraq_government": "a new Iraqi government: Baghdad's restraint becomes `size` (0-1)",
    "combat_mission_end": "the end of the U.S. combat mission is announced: from date on, the "
                          "militias' attack rates lose the share militias.mission_end_calm x "
                          "`size` (0-1)",
    "force_protection": "documented U.S. force protection reinforced (air defences): from "
                        "date on, attacks that would kill do so with their chance times 1 - "
                        "us.force_protection x `size` (0-1)",
}
#: Bounds of a shock's ``size`` by kind: ``regional_war`` and ``freeze`` are in units of
#: regional tension; ``iraq_government`` sets Baghdad's restraint, a share.
SHOCK_SIZE_BOUNDS: dict[str, tuple[float, float]] = {
    "regional_war": (0.0, 10.0), "freeze": (0.0, 10.0), "iraq_government": (0.0, 1.0),
    "truce": (0.0, 1.0), "us_troops_iraq": (0.0, 200000.0), "us_troops_syria": (0.0, 200000.0),
    "combat_mission_end": (0.0, 1.0), "force_protection": (0.0, 1.0)}
#: The keys each kind of shock may hold (``end`` for a freeze, ``half_life_days`` for a war).
SHOCK_FIELDS: dict[str, tuple[str, ...]] = {
    "regional_war": ("date", "kind", "size", "half_life_days"),
    "freeze": ("date", "kind", "size", "end"),
    "iraq_government": ("date", "kind", "size"),
    "truce": ("date", "kind", "size", "end"),
    "us_troops_iraq": ("date", "kind", "size"),
    "us_troops_syria": ("date", "kind", "size"),
    "combat_mission_end": ("date", "kind", "size"),
    "force_protection": ("date", "kind", "size"),
}
SHOCK_REQUIRED: tuple[str, ...] = ("date", "kind", "size")
#: Parameters that runs, sweeps and calibration may override by path but scenario files do
#: not hold (their value is a constant of the engine): path -> (lo, hi, meaning).
OVERRIDE_ONLY: dict[str, tuple[float, float, str]] = {
    "us.us_share_of_killed": (0.0, 1.0, "share of deaths in lethal attacks that are U.S. "
                                        "personnel (default sim.arrays.US_SHARE_OF_KILLED)"),
}
#: Most casualties one event added by history replay may carry (Tower 22: 3 killed, 40+
#: wounded).
MAX_CASUALTIES = 10000


# --- The whole -----------------------------------------------------------------------------


@dataclass
class Replay:
    """History replay: force documented actions, remove or add single documented events."""

    force: list[str] = field(default_factory=list)   # actor kinds: us, militia, iran, iraq
    remove: list[str] = field(default_factory=list)  # event_ids of the record
    add: list[dict[str, Any]] = field(default_factory=list)  # events in the record's columns
    #: The last day (YYYY-MM-DD) whose record is forced; afterwards the forced actors decide
    #: for themselves: a forecast from that day, conditioned on the documented history.
    #: None: the record is forced over the whole run.
    until: str | None = None
    #: The documented events that ``force`` and ``remove`` refer to (a DataFrame in the event
    #: schema with ``event_id``), given by the caller (``load_scenario(..., record=...)``);
    #: not part of the scenario's data, so not compared and not written to manifests.
    documented: Any = field(default=None, compare=False, repr=False)


@dataclass
class ModelParams:
    """All parameters of one scenario, resolved (defaults filled)."""

    iran: IranParams = field(default_factory=IranParams)
    militias: MilitiaCommon = field(default_factory=MilitiaCommon)
    #: Addressed as ``militias.<faction>.<param>``, as in scenario files (``path``).
    factions: dict[str, FactionParams] = field(default_factory=lambda: {
        f: FactionParams(**FACTION_DEFAULTS[f]) for f in FACTIONS}, metadata={"path": "militias"})
    weapons: dict[str, WeaponParams] = field(default_factory=lambda: {
        w: WeaponParams(**WEAPON_DEFAULTS[w]) for w in WEAPON_KEYS})
    sites: dict[str, SiteParams] = field(default_factory=lambda: {
        s: SiteParams(**v) for s, v in SITE_DEFAULTS.items()})
    us: USParams = field(default_factory=USParams)
    iraq: IraqParams = field(default_factory=IraqParams)
    observation: ObservationParams = field(default_factory=ObservationParams)
    shocks: list[Shock] = field(default_factory=list)
    shock_scale: float = param(1.0, *SHOCK_SCALE_BOUNDS, source="scenario",
                               doc="multiplies the tension of every regional war and freeze")
    war_half_life_days: float = param(
        150.0, 1, 5000, source="prior",
        doc="half-life of a regional war's tension (a shock may set its own)")
    war_onset_days: float = param(
        0.0, 0, 120, source="prior (the war's salience grew: al-Ahli hospital 2023-10-17, the "
                            "ground invasion 2023-10-27)",
        doc="time constant of a regional war's rise: its tension is size x (1 - "
            "exp(-days / onset)) x the decay (0 = at once)")
    replay: Replay = field(default_factory=Replay)


def describe(obj: Any, prefix: str = "") -> list[dict[str, Any]]:
    """Flatten a parameter object into rows: path, value, bounds, source, prior, meaning.

    Paths are those of scenario files, ``--set`` and sweeps (``militias.<faction>.<param>``
    for ``ModelParams.factions``). Shocks (a list) are not rows: see ``SHOCK_SIZE_BOUNDS``.
    """
    rows = []
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        path = f"{prefix}{f.metadata.get('path', f.name)}"
        if dataclasses.is_dataclass(value):
            rows += describe(value, path + ".")
        elif isinstance(value, dict) and value and all(
                dataclasses.is_dataclass(v) for v in value.values()):
            for k, v in value.items():
                rows += describe(v, f"{path}.{k}.")
        elif "doc" in f.metadata:
            rows.append(dict(path=path, value=value, lo=f.metadata["lo"], hi=f.metadata["hi"],
                             integer=f.metadata["integer"], prior=f.metadata["prior"],
                             source=f.metadata["source"], doc=f.metadata["doc"]))
    return rows
