"""escalation-sim: agent-based escalation between Iran-backed Iraqi militias, U.S. forces,
the Iraqi government and Iran (as sponsor), under tunable deterrence rules.

    from sim import load_scenario, run
    result = run(load_scenario("scenarios/history.toml"), replicates=100, engine="batch", seed=1)
"""

__version__ = "0.1.0"

# Imported here, not lazily: the function `run` must shadow the submodule `sim.run` as the
# package attribute (the submodule stays importable as `sim.run` through sys.modules).
from sim.run import run  # noqa: E402

__all__ = ["load_scenario", "run", "EscalationModel", "__version__"]


def __getattr__(name):
    # Imported on first use, so `import sim` stays light and free of import cycles.
    if name == "load_scenario":
        from sim.scenario import load_scenario
        return load_scenario
    if name == "EscalationModel":
        from sim.model import EscalationModel
        return EscalationModel
    raise AttributeError(f"module 'sim' has no attribute {name!r}")
