"""The Iraqi government: sovereignty grievance, condemnation, restraint, the exit."""

from __future__ import annotations

import mesa

from sim import dynamics as dyn


class IraqiGovernment(mesa.Agent):
    """Gains sovereignty grievance from U.S. strikes on Iraqi soil and Iraqi deaths; condemns,
    restrains the militias, negotiates, votes, and can end the U.S. presence in Iraq."""

    def step(self) -> None:
        m = self.model
        dyn.iraq_phase(m.state, m.p, m.day, m.log, m.schedule.get(m.day, "iraq"))

    @property
    def sovereignty_grievance(self) -> float:
        return float(self.model.state.sovereignty[0])

    @property
    def restraint(self) -> float:
        return float(self.model.state.restraint[0])
