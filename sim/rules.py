"""Deterrence rules: when, how hard and at whom U.S. forces strike back.

What lives here: the :class:`Observation` a rule sees, the :class:`Response` it gives, the
:class:`Rule` base class with its metadata (after Axelrod's strategy classifier), the registry
and the seven rules DESIGN.md names. Where and at whom a strike lands (Iraq or Syria, which
faction) is the U.S. forces' common doctrine (``sim.dynamics.us_phase``), not the rule's.

Rules are vectorised: every field of an observation is an array over replicates, and rule
parameters may be arrays too (a sweep varies them per run). A rule is consulted only on days
when at least one attack was observed and no strike is already on its way; randomness comes
in as uniform numbers keyed by (seed, replicate, day) so runs do not depend on batch size.

Add a rule in a few lines::

    from sim.rules import Rule, register

    @register
    class EveryThird(Rule):
        '''Strike after every third attack since the last strike.'''
        name = "every_third"
        parameters = {"count": (3, 1, 100, "attacks since the last strike that trigger one")}
        classifier = dict(responds_to="attacks", proportional=False, escalatory=False,
                          targets="facilities", memory_days=None, stochastic=False)

        def decide(self, obs, u):
            return obs.attacks_since_strike >= self.count, 1.0
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from sim.errors import InputError


@dataclass
class Observation:
    """What U.S. forces know on a day, one array entry per replicate.

    ``harm`` is the decayed harm of attacks since the last strike (attacks, wounded and killed
    weighted by ``us.harm_per_*``); it resets to zero when a strike round lands.
    ``harm_long`` is the same harm with a longer memory (``us.resolve_half_life_days``) that
    strikes do not reset: how much has accumulated over a campaign (the ladder climbs on it);
    None where an observation is built without it (rules then read ``harm``).
    ``days_since_leader_strike``: days since U.S. forces last struck leaders (None: never
    observed; the ladder then treats it as long ago).
    """

    day: int
    attacks_today: np.ndarray
    killed_today: np.ndarray
    wounded_today: np.ndarray
    attacks_since_strike: np.ndarray
    killed_since_strike: np.ndarray
    wounded_since_strike: np.ndarray
    harm: np.ndarray
    days_since_strike: np.ndarray
    strikes_so_far: np.ndarray
    iraq_sovereignty: np.ndarray
    harm_long: np.ndarray | None = None
    days_since_leader_strike: np.ndarray | None = None

    @property
    def n(self) -> int:
        return len(self.attacks_today)


@dataclass
class Response:
    """A rule's answer per replicate: strike or not, size in targets, against leaders or not."""

    strike: np.ndarray
    size: np.ndarray
    leaders: np.ndarray


class Rule:
    """Base of deterrence rules.

    A subclass sets ``name``, ``parameters`` ({name: (default, lo, hi, meaning)}),
    ``classifier`` (metadata: ``responds_to``, ``proportional``, ``escalatory``, ``targets``,
    ``memory_days``, ``stochastic``) and implements :meth:`decide`.
    """

    name: ClassVar[str] = ""
    parameters: ClassVar[dict[str, tuple[float, float, float, str]]] = {}
    classifier: ClassVar[dict[str, Any]] = {}
    leaders: ClassVar[bool] = False

    def __init__(self, **params: Any):
        unknown = set(params) - set(self.parameters)
        if unknown:
            raise InputError(None, f"us.{sorted(unknown)[0]}",
                             f"rule {self.name!r} has no parameter {sorted(unknown)[0]!r}; "
                             f"it takes {', '.join(self.parameters) or 'none'}")
        for key, (default, lo, hi, _doc) in self.parameters.items():
            given = params.get(key, default)
            try:
                if isinstance(given, (str, bool, np.bool_)):
                    raise TypeError
                value = np.asarray(given, dtype=float)
            except (TypeError, ValueError):
                raise InputError(None, f"us.{key}", f"expected a number, got {given!r} "
                                 f"for rule {self.name!r}") from None
            if np.any(np.isnan(value)) or np.any(value < lo) or np.any(value > hi):
                raise InputError(None, f"us.{key}",
                                 f"{value.tolist()} is outside [{lo}, {hi}] for rule {self.name!r}")
            setattr(self, key, value)

    def decide(self, obs: Observation, u: np.ndarray) -> tuple:
        """Return (strike?, size) per replicate, or (strike?, size, leaders?) for a rule that
        chooses per replicate whether to strike leaders (else the class's ``leaders``).
        ``u``: uniform numbers, one per replicate."""
        raise NotImplementedError

    def respond(self, obs: Observation, u: np.ndarray) -> Response:
        """The rule's response; sizes are at least one target where it strikes."""
        answer = self.decide(obs, u)
        strike, size = answer[0], answer[1]
        leaders = answer[2] if len(answer) > 2 else self.leaders
        # New arrays of one entry per replicate (a rule may return a scalar or one of the
        # observation's own arrays): the copy, np.where and & make them.
        strike = np.array(np.broadcast_to(np.asarray(strike, dtype=bool), (obs.n,)))
        size = np.where(strike, np.maximum(np.asarray(size, dtype=float), 1.0), 0.0)
        leaders = np.asarray(leaders, dtype=bool) & strike
        return Response(strike, size, leaders)

    def describe(self) -> str:
        """The docstring's first line ('' for a rule without one)."""
        lines = (self.__doc__ or "").strip().splitlines()
        return lines[0] if lines else ""


REGISTRY: dict[str, type[Rule]] = {}


def register(cls: type[Rule]) -> type[Rule]:
    """Class decorator: add a rule to the registry under its ``name``."""
    if not cls.name:
        raise ValueError(f"{cls.__name__} needs a name")
    old = REGISTRY.get(cls.name)
    if old is not None and old.__qualname__ != cls.__qualname__:
        # Re-running a notebook cell re-registers the same class: fine. Another class under
        # a taken name replaces it, which is worth a warning.
        warnings.warn(f"rule {cls.name!r} ({old.__qualname__}) replaced by {cls.__qualname__}",
                      stacklevel=2)
    REGISTRY[cls.name] = cls
    return cls


def make_rule(name: str, params: dict[str, Any] | None = None, where: str = "us.rule") -> Rule:
    """Build a registered rule by name, with clear errors for unknown names and parameters."""
    if name not in REGISTRY:
        raise InputError(None, where, f"unknown rule {name!r}; known rules: "
                         f"{', '.join(sorted(REGISTRY))}")
    return REGISTRY[name](**(params or {}))


def rules_table(**filters: Any) -> list[dict[str, Any]]:
    """Registered rules with metadata and parameters, filtered by classifier values."""
    rows = []
    for name, cls in sorted(REGISTRY.items()):
        if any(cls.classifier.get(k) != v for k, v in filters.items()):
            continue
        rows.append(dict(name=name, description=cls.describe(cls), classifier=cls.classifier,
                         parameters=cls.parameters))
    return rows


# --- The rules -------------------------------------------------------------------------------

@register
class Restraint(Rule):
    """Never strike: absorb attacks and rely on defence (the 2020-01-08 non-response to Iran).

    Stands for strategic restraint (Posen, "Restraint", 2014): retaliation feeds a cycle that
    costs more than the attacks.
    """

    name = "restraint"
    parameters = {}
    classifier = dict(responds_to="nothing", proportional=False, escalatory=False,
                      targets="none", memory_days=0, stochastic=False)

    def decide(self, obs, u):
        return np.zeros(obs.n, dtype=bool), 0.0


@register
class TitForTat(Rule):
    """Answer every attack with a strike of fixed size.

    Axelrod's tit-for-tat (The Evolution of Cooperation, 1984): nice, retaliatory, forgiving;
    the "U.S. answers every attack" what-if.
    """

    name = "tit_for_tat"
    parameters = {
        "respond_probability": (1.0, 0.0, 1.0, "chance an attack day is answered"),
        "size": (1.0, 1.0, 100.0, "targets per strike round"),
    }
    classifier = dict(responds_to="attacks", proportional=False, escalatory=False,
                      targets="facilities", memory_days=1, stochastic=True)

    def decide(self, obs, u):
        return (obs.attacks_today > 0) & (u < self.respond_probability), self.size


@register
class RedLine(Rule):
    """Strike when attacks kill (or wound enough) U.S. or coalition personnel.

    The declared red line of 2019-2024: "the death of an American" (Trump, in
    004_ee22bb034a8b2be9.txt; "the killing of their soldiers is a red line",
    002_08fee3dbeaaca217.txt). Schelling, Arms and Influence (1966), on commitments.
    """

    name = "red_line"
    parameters = {
        "deaths": (1.0, 1.0, 1000.0, "deaths since the last strike that cross the line"),
        "wounded": (1e6, 1.0, 1e6, "wounded since the last strike that cross the line"),
        "size": (2.0, 1.0, 100.0, "targets per strike round"),
    }
    classifier = dict(responds_to="deaths", proportional=False, escalatory=False,
                      targets="facilities", memory_days=None, stochastic=False)

    def decide(self, obs, u):
        crossed = (obs.killed_since_strike >= self.deaths) | (
            obs.wounded_since_strike >= self.wounded)
        return crossed, self.size


@register
class Threshold(Rule):
    """Strike when the decayed harm since the last strike passes a level.

    Cumulative deterrence (Almog, "Cumulative deterrence and the war on terrorism", 2004):
    absorb pinpricks, answer their sum.
    """

    name = "threshold"
    parameters = {
        "level": (12.0, 0.0, 1000.0, "decayed harm that triggers a strike round"),
        "size": (1.0, 1.0, 100.0, "targets per strike round"),
    }
    classifier = dict(responds_to="harm", proportional=False, escalatory=False,
                      targets="facilities", memory_days=None, stochastic=False)

    def decide(self, obs, u):
        return obs.harm >= self.level, self.size


@register
class Proportional(Rule):
    """Strike when harm passes a level, with a size proportional to the harm.

    The Pentagon's "defensive, proportional" strikes (004_ee22bb034a8b2be9.txt); proportionality
    as in the law of armed conflict's self-defence doctrine.
    """

    name = "proportional"
    parameters = {
        "level": (10.0, 0.0, 1000.0, "decayed harm that triggers a strike round"),
        "harm_per_target": (8.0, 0.1, 1000.0, "harm answered by each target struck"),
    }
    classifier = dict(responds_to="harm", proportional=True, escalatory=False,
                      targets="facilities", memory_days=None, stochastic=False)

    def decide(self, obs, u):
        return obs.harm >= self.level, obs.harm / self.harm_per_target


@register
class Escalatory(Rule):
    """Each strike round bigger than the last: escalate to dominate.

    Escalation dominance (Kahn, On Escalation, 1965): convince the adversary the U.S. will
    out-climb it on the ladder.
    """

    name = "escalatory"
    parameters = {
        "level": (10.0, 0.0, 1000.0, "decayed harm that triggers a strike round"),
        "size": (1.0, 1.0, 100.0, "targets in the first round"),
        "growth": (1.5, 1.0, 10.0, "factor by which each round outgrows the last"),
    }
    classifier = dict(responds_to="harm", proportional=False, escalatory=True,
                      targets="facilities", memory_days=None, stochastic=False)

    def decide(self, obs, u):
        return obs.harm >= self.level, self.size * self.growth ** obs.strikes_so_far


@register
class Decapitation(Rule):
    """Strike the leaders of the faction held responsible once harm passes a level.

    Leadership targeting (Jordan, "When heads roll", Security Studies 2009; Johnston,
    International Security 2012), as on 2020-01-03, 2024-01-04 and 2024-02-07.
    """

    name = "decapitation"
    parameters = {
        "level": (15.0, 0.0, 1000.0, "decayed harm that triggers a leader strike"),
        "size": (1.0, 1.0, 100.0, "targets per strike round"),
    }
    classifier = dict(responds_to="harm", proportional=False, escalatory=False,
                      targets="leaders", memory_days=None, stochastic=False)
    leaders = True

    def decide(self, obs, u):
        return obs.harm >= self.level, self.size


@register
class Ladder(Rule):
    """Strike on harm: facilities, leaders as harm accumulates, a large round after deaths.

    The U.S. answers of 2019-2024 climbed so: facilities after K1 (2019-12-29), the leader
    strike of 2020-01-03 after the embassy storming; facilities through late 2023, a leader
    strike on 2024-01-04 after three months of attacks, and after the deaths at Tower 22 the
    85-target round of 2024-02-02 (000_a0ed2b5f01c76508.txt, 002_08fee3dbeaaca217.txt).
    Leader strikes are spaced by at least ``leader_gap_days`` (2024-01-04 and 2024-02-07
    were 34 days apart); in between, the answer is a facility round.
    Graduated escalation (Kahn, On Escalation, 1965; Schelling, Arms and Influence, 1966):
    each rung answers a provocation the rung below did not deter. The accumulated harm is
    ``harm_long``, which strike rounds do not reset. Defiance: harm of ``defiance_level``
    within ``defiance_days`` of a round (the embassy storming two days after the strikes of
    2019-12-29; Tower 22 five days after those of 2024-01-23) says the round did not deter,
    and the answer goes to leaders, even below ``level``.
    """

    name = "ladder"
    parameters = {
        "level": (12.0, 0.0, 1000.0, "decayed harm that triggers a strike round"),
        "size": (2.0, 1.0, 100.0, "targets per facility round"),
        "leader_level": (60.0, 0.0, 10000.0,
                         "accumulated harm (harm_long) that calls for a leader strike"),
        "large_deaths": (3.0, 1.0, 1000.0,
                         "deaths since the last strike that call for a large round"),
        "large_size": (10.0, 1.0, 100.0, "targets in a large round"),
        "leader_gap_days": (30.0, 0.0, 3650.0, "fewest days between two leader strikes"),
        "defiance_level": (10.0, 0.0, 10000.0,
                           "harm soon after a round that calls for leaders (defiance)"),
        "defiance_days": (7.0, 0.0, 365.0,
                          "days after a round in which harm is defiance (0: never)"),
    }
    classifier = dict(responds_to="harm", proportional=False, escalatory=False,
                      targets="ladder", memory_days=None, stochastic=False)

    def decide(self, obs, u):
        long = obs.harm if obs.harm_long is None else obs.harm_long
        large = obs.killed_since_strike >= self.large_deaths
        since = (np.inf if obs.days_since_leader_strike is None
                 else obs.days_since_leader_strike)
        defied = ((obs.strikes_so_far > 0) & (obs.days_since_strike <= self.defiance_days)
                  & (obs.harm >= self.defiance_level))
        leaders = (((long >= self.leader_level) | defied) & ~large
                   & (since >= self.leader_gap_days))
        strike = (obs.harm >= self.level) | leaders
        size = np.where(large, self.large_size, self.size)
        return strike, size, leaders
