"""U.S. forces in Iraq, Syria and Jordan, and their deterrence rule."""

from __future__ import annotations

import mesa

from sim import dynamics as dyn


class USForces(mesa.Agent):
    """Keeps a decaying harm ledger of attacks (attributed to factions, with error), asks the
    deterrence rule in force whether to strike, and lands strikes after a lag."""

    def step(self) -> None:
        m = self.model
        dyn.us_phase(m.state, m.p, m.day, m.log, m.schedule.get(m.day, "us"))

    @property
    def rule(self):
        return self.model.p.rule_on(self.model.day)

    @property
    def harm(self) -> float:
        return float(self.model.state.harm[0])

    @property
    def present_in_iraq(self) -> bool:
        return bool(self.model.state.present_iraq[0])

    @property
    def present_in_syria(self) -> bool:
        return bool(self.model.state.present_syria[0])
