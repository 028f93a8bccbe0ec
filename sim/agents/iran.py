"""Iran as the militias' sponsor: directive, resupply, and a direct answer to killings."""

from __future__ import annotations

import mesa

from sim import dynamics as dyn
from sim.agents.militia import Directive


class Iran(mesa.Agent):
    """Sets the proxies' directive from regional tension and anger at U.S. strikes against the
    risk of a direct U.S. answer (a fall to 'restrain' is an order to stand down), resupplies
    their arsenals, and attacks U.S. forces itself when its commanders are killed."""

    def step(self) -> None:
        m = self.model
        dyn.iran_phase(m.state, m.p, m.day, m.log, m.schedule.get(m.day, "iran"))

    @property
    def directive(self) -> Directive:
        return Directive(int(self.model.state.directive[0]))

    @property
    def anger(self) -> float:
        return float(self.model.state.anger[0])

    @property
    def risk(self) -> float:
        """The risk of a direct U.S. answer Iran perceives (it lowers the directive's score)."""
        return float(self.model.state.risk[0])
