"""The parameters calibration fits, their priors, and how a fitted value becomes overrides.

What lives here: :data:`SHARED` (the parameters every rule's calibration fits), the trigger
parameters of each deterrence rule (:data:`RULE_PARAMETERS`), the dated inputs' effects
(:data:`INPUT_EFFECTS`), the observation model's
(:data:`OBSERVATION`), :func:`model_for` (the
:class:`calibration.smc.Model` of one rule) and :func:`expand` (fitted values -> the dotted
paths the batch engine overrides, ties included). What does not: the algorithm
(``calibration.smc``), the targets (``calibration.targets``).

Every prior is a named SciPy distribution whose support lies inside the bounds that
``sim.params`` (or the rule's ``parameters``) declares for the path; a test checks it.
The ranges are wide on purpose: from "the default is ten times too small" to "ten times too
large" for scales, and the whole plausible range for weights.

Ties: the three weapons' lethal probabilities are fitted as one number, the rocket's, with
the drone's and the ballistic missile's kept at their ratios to it in
``sim.params.WEAPON_DEFAULTS`` (0.008 and 0.02 to 0.012): the record's five lethal attacks
(three rocket, two drone) cannot tell the weapons apart. The wounded means likewise (0.2
and 3.0 to 0.15): the injury tallies of late 2023 count all weapons together.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Mapping

import numpy as np

from calibration.smc import Model, Parameter
from sim.params import WEAPON_DEFAULTS, WEAPON_KEYS, WeaponParams
from sim.rules import REGISTRY

#: The shared parameters, in the order reports list them.
SHARED: tuple[Parameter, ...] = (
    Parameter("militias.attack_rate_scale", "loguniform", (0.1, 10.0),
              doc="every faction's base attack rate, times this"),
    Parameter("iran.escalate_multiplier", "loguniform", (1.0, 30.0),
              doc="attack-rate multiplier when Iran says escalate"),
    Parameter("militias.fear_weight", "uniform", (0.0, 5.0),
              doc="log attack rate lost per unit fear (deterrence)"),
    Parameter("militias.grievance_weight", "uniform", (0.0, 5.0),
              doc="log attack rate gained per unit grievance (provocation)"),
    Parameter("us.harm_per_killed", "uniform", (0.0, 60.0),
              doc="harm the U.S. ledger books per U.S./coalition death"),
    Parameter("weapons.rocket.lethal_probability", "loguniform", (0.001, 0.1),
              doc="chance an attack that gets through kills (drone and missile tied)"),
    Parameter("weapons.rocket.wounded_mean", "loguniform", (0.02, 2.0),
              doc="mean wounded by an attack that gets through (drone and missile tied)"),
    # The exogenous regional war: its size (the unit war of the scenario times shock_scale)
    # and decay are fitted, not fixed (issue 10).
    Parameter("shock_scale", "loguniform", (0.3, 10.0),
              doc="size of the regional war (the scenario's unit war, times this)"),
    Parameter("war_half_life_days", "loguniform", (30.0, 730.0),
              doc="half-life of the regional war's tension"),
    Parameter("war_onset_days", "uniform", (0.0, 60.0),
              doc="time constant of the regional war's rise"),
    # Iran weighs risk against anger.
    Parameter("iran.risk_weight", "uniform", (0.0, 3.0),
              doc="how much the risk of a direct U.S. answer lowers Iran's directive"),
    Parameter("iran.risk_per_us_death", "loguniform", (0.1, 10.0),
              doc="risk Iran perceives per U.S./coalition death its proxies cause"),
    Parameter("iran.risk_per_strike_target", "loguniform", (0.01, 1.0),
              doc="risk Iran perceives per target of a U.S. strike round"),
    Parameter("iran.risk_half_life_days", "loguniform", (14.0, 365.0),
              doc="half-life of the risk Iran perceives"),
    # How the war reaches the militias: directly (tension_weight) or through Iran's
    # directive; and how far a stand-down order restrains the factions that do not suspend.
    Parameter("militias.tension_weight", "uniform", (0.0, 2.0),
              doc="log attack rate gained per unit regional tension, directly"),
    Parameter("iran.restrain_multiplier", "loguniform", (0.01, 1.0),
              doc="attack-rate multiplier under Iran's 'restrain' directive"),
    # Escalation feeds on itself.
    Parameter("militias.contagion_branching", "uniform", (0.0, 0.9),
              doc="expected further attacks one attack sets off"),
    Parameter("militias.contagion_half_life_days", "loguniform", (3.0, 60.0),
              doc="half-life of an attack's excitation"),
    # Baghdad acts.
    Parameter("iraq.raid_rate", "loguniform", (0.001, 0.3),
              doc="chance per day of a raid per unit of pressure and restraint effort"),
    # Storming after strikes, driven by grievance (the embassy, 2019-12-31).
    Parameter("militias.storming_grievance", "uniform", (0.0, 3.0),
              doc="grievance above which a faction struck in Iraq may storm a U.S. site"),
)

#: What the dated inputs do to the actors beyond the war (fitted after each rule's own
#: parameters): the announced end of the U.S. combat mission (2021-07-26, the history
#: scenario's ``combat_mission_end``). Adopted after three calibration seeds with and without
#: it (README; ``scripts/calibration_seeds.py``).
INPUT_EFFECTS: tuple[Parameter, ...] = (
    Parameter("militias.mission_end_calm", "uniform", (0.0, 1.0),
              doc="share of militia attacks the announced end of the combat mission takes away"),
)

#: Each rule's trigger parameters (``us.<name>``); other rule parameters stay at defaults.
RULE_PARAMETERS: dict[str, tuple[Parameter, ...]] = {
    "threshold": (Parameter("us.level", "uniform", (1.0, 60.0),
                            doc="decayed harm that triggers a strike round"),),
    "proportional": (Parameter("us.level", "uniform", (1.0, 60.0),
                               doc="decayed harm that triggers a strike round"),),
    "escalatory": (Parameter("us.level", "uniform", (1.0, 60.0),
                             doc="decayed harm that triggers a strike round"),),
    "decapitation": (Parameter("us.level", "uniform", (1.0, 60.0),
                               doc="decayed harm that triggers a strike round"),),
    "ladder": (Parameter("us.level", "uniform", (1.0, 60.0),
                         doc="decayed harm that triggers a strike round"),
               Parameter("us.leader_level", "loguniform", (20.0, 2000.0),
                         doc="accumulated harm at which the answer strikes leaders"),
               Parameter("us.large_deaths", "uniform", (1.0, 6.0),
                         doc="deaths since the last strike that call for a large round"),
               Parameter("us.defiance_level", "loguniform", (1.0, 300.0),
                         doc="harm soon after a round that calls for leaders (defiance)"),
               Parameter("us.defiance_days", "uniform", (0.0, 21.0),
                         doc="days after a round in which harm counts as defiance"),),
    "tit_for_tat": (Parameter("us.respond_probability", "loguniform", (0.005, 1.0),
                              doc="chance an attack day is answered"),),
    "red_line": (Parameter("us.deaths", "uniform", (1.0, 5.0),
                           doc="deaths since the last strike that cross the line"),
                 Parameter("us.wounded", "loguniform", (1.0, 300.0),
                           doc="wounded since the last strike that cross the line"),),
    "restraint": (),
}

#: Targets that inform a rule's own parameters and enter the distance when that rule is
#: fitted: the ladder's leader strikes (3 rounds in the record: 2020-01-03, 2024-01-04,
#: 2024-02-07) inform ``us.leader_level`` and the defiance parameters.
RULE_TARGETS: dict[str, tuple[str, ...]] = {"ladder": ("leader_strike_rounds",)}


#: The observation model's fitted parameters (``sim.params.ObservationParams``): which
#: simulated attacks the record lists. Informed by the record targets (documented attacks)
#: against the tallies (all attacks) of the same periods; ``p_wounding``, ``p_lethal`` and
#: ``attention_scale`` stay at their defaults (the record's few wounding and five lethal
#: attacks cannot tell them from 1). Wide on purpose: nothing read off the record.
OBSERVATION: tuple[Parameter, ...] = (
    Parameter("observation.p_harmless", "uniform", (0.02, 0.98),
              doc="chance a harmless militia attack is listed in the record"),
    Parameter("observation.attention_max", "uniform", (0.0, 1.0),
              doc="largest share of unlisted attacks that recent violence gets listed"),
)


def rule_parameters(rule: str) -> tuple[Parameter, ...]:
    """The fitted trigger parameters of a rule (a registered rule without an entry here is
    fitted on the shared parameters only, its own at their defaults)."""
    if rule not in REGISTRY:
        from sim.rules import make_rule
        make_rule(rule, where="--rule")   # raises the one-line "unknown rule" error
    return RULE_PARAMETERS.get(rule, ())


def model_for(rule: str, extra: tuple[Parameter, ...] = ()) -> Model:
    """The calibration model of one rule: shared parameters, the rule's, the inputs' effects,
    any ``extra`` ones (``escalation calibrate --fit``), then the observation model's."""
    return Model(rule, SHARED + rule_parameters(rule) + INPUT_EFFECTS + tuple(extra)
                 + OBSERVATION)


#: The priors ``--fit`` accepts: both take the two ends of their range.
FIT_DISTRIBUTIONS = ("uniform", "loguniform")


def parse_fits(specs, rules: tuple[str, ...] = ()) -> tuple[Parameter, ...]:
    """Every ``--fit`` of a command line (:func:`parse_fit`), none given twice."""
    from sim.errors import InputError
    extra = tuple(parse_fit(spec, tuple(rules)) for spec in specs)
    names = [q.name for q in extra]
    if len(set(names)) < len(names):
        raise InputError(None, "--fit", "a parameter is given twice")
    return extra


def parse_fit(spec: str, rules: tuple[str, ...] = ()) -> Parameter:
    """``PATH=DIST:LO:HI`` (``escalation calibrate --fit``) -> a fitted :class:`Parameter`.

    Lets a researcher fit a parameter the default calibration leaves at its value (for
    example ``iran.war_risk_weight=uniform:0:2``) without editing this module, so that such
    an experiment is reproducible from its command line (which the manifest keeps). The
    path must be a declared, non-integer parameter of ``sim.params`` (or a trigger parameter
    ``us.<name>`` of every rule fitted), not fitted already, and the prior's range must lie
    inside its declared bounds. Bad input raises a one-line :class:`sim.errors.InputError`.
    """
    from sim.errors import InputError
    from sim.params import ModelParams, describe

    def bad(message):
        return InputError(None, "--fit", f"{spec!r}: {message}")

    path, eq, prior = spec.partition("=")
    path = path.strip()
    parts = prior.split(":")
    if not eq or not path or len(parts) != 3:
        raise bad("expected PATH=DIST:LO:HI, e.g. iran.war_risk_weight=uniform:0:2")
    dist = parts[0].strip()
    if dist not in FIT_DISTRIBUTIONS:
        raise bad(f"prior must be one of {', '.join(FIT_DISTRIBUTIONS)}, got {dist!r}")
    try:
        lo, hi = float(parts[1]), float(parts[2])
    except ValueError:
        raise bad("LO and HI must be numbers") from None
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise bad(f"need finite LO < HI, got {lo:g} and {hi:g}")
    if dist == "loguniform" and lo <= 0:
        raise bad(f"a loguniform prior needs LO > 0, got {lo:g}")
    fitted = {q.name for q in SHARED + INPUT_EFFECTS + OBSERVATION}
    for rule in rules:
        fitted |= {q.name for q in rule_parameters(rule)}
    if path in fitted:
        raise bad(f"{path} is fitted already (calibration/priors.py)")
    declared = {r["path"]: r for r in describe(ModelParams())}
    if path.startswith("us.") and rules and all(
            path[3:] in REGISTRY[r].parameters for r in rules):
        bounds = [REGISTRY[r].parameters[path[3:]][1:3] for r in rules]
        dlo, dhi = max(b[0] for b in bounds), min(b[1] for b in bounds)
    elif path in declared and not declared[path]["integer"]:
        dlo, dhi = declared[path]["lo"], declared[path]["hi"]
    else:
        raise bad(f"{path} is not a continuous parameter of the model or of the rule "
                  f"{', '.join(rules) or 'fitted'} (see docs/scenarios.md)")
    if lo < dlo or hi > dhi:
        raise bad(f"the prior's range must lie inside {path}'s bounds [{dlo:g}, {dhi:g}]")
    return Parameter(path, dist, (lo, hi), doc=f"fitted by --fit ({dist} {lo:g} to {hi:g})")


#: The weapon fields fitted as one number (the rocket's), the other weapons tied to it.
TIED_WEAPON_FIELDS: tuple[str, ...] = ("lethal_probability", "wounded_mean")
#: Bounds of each weapon field, as ``sim.params.WeaponParams`` declares them: a tied value
#: is clipped to them (a probability to [0, 1]).
_WEAPON_BOUNDS: dict[str, tuple[float, float]] = {
    f.name: (f.metadata["lo"], f.metadata["hi"]) for f in fields(WeaponParams)}


def tie_ratios() -> dict[str, dict[str, float]]:
    """For each fitted path with ties: tied path -> ratio to the fitted value.

    The ratios are those of ``sim.params.WEAPON_DEFAULTS`` whatever the scenario says, so a
    calibration does not depend on the parameter file an earlier calibration wrote (which
    rounds them).
    """
    out = {}
    for field in TIED_WEAPON_FIELDS:
        lead = WEAPON_DEFAULTS["rocket"][field]
        out[f"weapons.rocket.{field}"] = {
            f"weapons.{w}.{field}": WEAPON_DEFAULTS[w][field] / lead
            for w in WEAPON_KEYS if w != "rocket"}
    return out



def expand(values: Mapping[str, np.ndarray], ratios: Mapping[str, Mapping[str, float]]
           ) -> dict[str, np.ndarray]:
    """Fitted values by path -> engine overrides by path, tied paths added (clipped to
    their field's declared bounds: a probability to [0, 1])."""
    out = {k: np.asarray(v, dtype=float) for k, v in values.items()}
    for lead, tied in ratios.items():
        if lead in out:
            for path, ratio in tied.items():
                lo, hi = _WEAPON_BOUNDS[path.rsplit(".", 1)[-1]]
                out[path] = np.clip(out[lead] * ratio, lo, hi)
    return out
