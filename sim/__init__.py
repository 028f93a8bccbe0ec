"""escalation-sim: agent-based escalation between Iran-backed Iraqi militias, U.S. forces,
the Iraqi government and Iran (as sponsor), under tunable deterrence rules."""

__version__ = "0.1.0"
