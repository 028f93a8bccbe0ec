"""The Mesa agents: Iran, the militia factions, U.S. forces and the Iraqi government.

Each agent's ``step`` calls its phase of ``sim.dynamics`` (the same functions the batch engine
calls), on the model's one-replicate state; its attributes read that state, so what a student
inspects on an agent is what the dynamics use.
"""

from sim.agents.iran import Iran
from sim.agents.iraqi_government import IraqiGovernment
from sim.agents.militia import Directive, Militia
from sim.agents.us_forces import USForces

__all__ = ["Iran", "IraqiGovernment", "Militia", "USForces", "Directive"]
