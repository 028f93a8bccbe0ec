"""A militia faction (Kataib Hezbollah, Harakat al-Nujaba, ...)."""

from __future__ import annotations

from enum import IntEnum

import mesa
import numpy as np

from sim import dynamics as dyn
from sim.params import WEAPON_KEYS


class Directive(IntEnum):
    """Iran's directive to its proxies."""

    RESTRAIN = 0
    NORMAL = 1
    ESCALATE = 2


class Militia(mesa.Agent):
    """One faction: fighters, arsenal by weapon, grievance, fear, leadership, alignment with
    Iran. Each day it decides how many attacks, with which weapon, on which U.S. site."""

    def __init__(self, model: mesa.Model, faction: str, index: int):
        super().__init__(model)
        self.faction = faction
        self.index = index
        self._factions = np.array([index], dtype=np.int64)

    def step(self) -> None:
        m = self.model
        dyn.militia_phase(m.state, m.p, m.day, m.log, factions=self._factions,
                          forced=m.schedule.is_forced(m.day, "militia"))

    # What the faction is, read from the model's state (the dynamics' single copy).
    @property
    def grievance(self) -> float:
        return float(self.model.state.grievance[0, self.index])

    @property
    def fear(self) -> float:
        return float(self.model.state.fear[0, self.index])

    @property
    def leadership(self) -> float:
        return float(self.model.state.leadership[0, self.index])

    @property
    def fighters(self) -> float:
        return float(self.model.state.fighters[0, self.index])

    @property
    def suspended(self) -> bool:
        return bool(self.model.state.suspended[0, self.index])

    @property
    def arsenal(self) -> dict[str, float]:
        return {w: float(self.model.state.arsenal[0, self.index, i])
                for i, w in enumerate(WEAPON_KEYS)}

    @property
    def alignment(self) -> float:
        return float(self.model.p.faction["alignment"][0, self.index])
