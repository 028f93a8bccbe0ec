"""The Mesa engine: ``EscalationModel``, one replicate of a scenario as a ``mesa.Model``.

This is the engine to read, teach and visualise. Its agents (``sim.agents``) each call their
phase of ``sim.dynamics``, the functions the batch engine (``sim.batch``) runs for thousands
of replicates at once; a test shows both engines give the same distributions of outcomes.

One step is one simulated day, in DESIGN.md's order: Iran, the militias (in random order;
their decisions do not depend on it), U.S. forces, the Iraqi government, bookkeeping.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mesa
import numpy as np
import pandas as pd

from sim import dynamics as dyn
from sim.agents import Directive, Iran, IraqiGovernment, Militia, USForces
from sim.arrays import ParamArrays, Timeline
from sim.events import FACTIONS
from sim.replay import build_schedule
from sim.rng import replicate_keys

DEFAULT_SCENARIO = Path(__file__).resolve().parent / "scenarios" / "history.toml"


class EscalationModel(mesa.Model):
    """Escalation between Iran-backed militias, U.S. forces, Baghdad and Tehran.

    Args:
        scenario: a ``sim.scenario.Scenario``, a path to a scenario TOML file, or None for
            ``scenarios/history.toml``.
        seed: the scenario seed (None: the scenario's own). Randomness is keyed by
            (seed, replicate), so this model reproduces replicate ``replicate`` of a batch run.
        replicate: which replicate of the ensemble this model is.
        rule: shortcut for ``set={"us.rule": rule}``.
        set: overrides by dotted path, as ``escalation run --set``.
        record_events: keep the event log (``self.events()``).
    """

    def __init__(self, scenario: Any = None, seed: int | None = None, replicate: int = 0,
                 rule: str | None = None, set: dict[str, Any] | None = None,
                 record_events: bool = True, overrides: dict[str, Any] | None = None):
        from sim.scenario import Scenario, load_scenario

        changes = dict(set or {})
        if rule is not None:
            changes["us.rule"] = rule
        if not isinstance(scenario, Scenario):
            scenario = load_scenario(scenario or DEFAULT_SCENARIO, changes or None)
        elif changes:
            scenario = (load_scenario(scenario.path, changes, record=scenario.record)
                        if scenario.path else scenario)
        self.scenario = scenario
        seed = scenario.seed if seed is None else int(seed)
        super().__init__(seed=seed * 1_000_003 + replicate)
        self.replicate = replicate
        self.timeline = Timeline(scenario.start, scenario.end)
        self._days = self.timeline.days
        self.p = ParamArrays(scenario.params, 1, self.timeline,
                             {k: np.asarray([v]) for k, v in (overrides or {}).items()})
        self.schedule = build_schedule(scenario.params.replay, self.timeline, self.p.sites)
        self.state = dyn.State.initial(self.p, replicate_keys(seed, [replicate]))
        self.log = dyn.EventLog() if record_events else None
        self.recorder = dyn.Recorder(self.state, self.timeline.days, daily=True)
        self.day = 0

        self.iran = Iran(self)
        for i, f in enumerate(FACTIONS):
            Militia(self, f, i)
        self.militias = self.agents_by_type[Militia]
        self.us_forces = USForces(self)
        self.iraq = IraqiGovernment(self)
        self._dates = list(self.timeline.dates)
        self.datacollector = DailyCollector(self)

    @property
    def date(self) -> pd.Timestamp:
        if self.day < len(self._dates):
            return self._dates[self.day]
        return self.timeline.start + pd.Timedelta(days=self.day)

    def _today(self, column: str) -> float:  # noqa: D401 - today's value of a daily column
        return float(self.recorder.daily[column][self.day, 0])

    def step(self) -> None:
        """One day (nothing once the scenario's window is over)."""
        if self.day >= self._days:
            self.running = False
            return
        t = self.day
        for country in self.schedule.exits.get(t, ()):
            dyn.force_exit(self.state, t, self.log, country)
        self.iran.step()
        self.militias.shuffle_do("step")
        documented = self.schedule.get(t, "militia")
        if documented:
            dyn.documented_attacks(self.state, self.p, t, self.log, documented)
        self.us_forces.step()
        self.iraq.step()
        self.recorder.end_of_day(self.state, t)
        self.datacollector.collect(self)
        self.day += 1
        if self.day >= self._days:
            self.running = False

    def run(self) -> "EscalationModel":
        """Step to the end of the scenario's window."""
        while self.running:
            self.step()
        return self

    def output(self):
        """The run as an engine output (the batch engine's format), for ``sim.output``."""
        from sim.batch import EngineOutput

        days = self.day
        daily = {k: v[:days] for k, v in self.recorder.daily.items()}
        timeline = Timeline(self.timeline.start,
                            self.timeline.start + pd.Timedelta(days=max(days - 1, 0)))
        return EngineOutput(np.array([self.replicate]), timeline, self.p.sites,
                            self.log.columns() if self.log else None, daily,
                            self.recorder.summary())


MODEL_REPORTERS = {
    "date": lambda m: m.date,
    "attacks": lambda m: m._today("attacks"),
    "strikes": lambda m: m._today("strikes"),
    "us_killed": lambda m: m._today("us_killed"),
    "coalition_killed": lambda m: m._today("coalition_killed"),
    "total_attacks": lambda m: int(m.recorder.acc["attacks"][0]),
    "total_strike_rounds": lambda m: int(m.recorder.acc["strike_rounds"][0]),
    "total_us_killed": lambda m: int(m.recorder.acc["us_killed"][0]),
    "rung": lambda m: m._today("rung"),
    "level": lambda m: m._today("level"),
    "directive": lambda m: m.iran.directive.name.lower(),
    "risk": lambda m: m.iran.risk,
    "sovereignty_grievance": lambda m: m.iraq.sovereignty_grievance,
    "us_harm_ledger": lambda m: m.us_forces.harm,
}
MILITIA_REPORTERS = {
    "date": lambda a: a.model.date, "faction": "faction", "grievance": "grievance",
    "fear": "fear", "leadership": "leadership", "suspended": "suspended",
    "arsenal": lambda a: sum(a.arsenal.values()),
}


class DailyCollector(mesa.DataCollector):
    """The model's ``mesa.DataCollector``: the reporters above, one row per simulated day
    (model) and per day and faction (``Militia``).

    Calling 14 model and 49 agent reporters every day would cost more than the simulated day
    itself, so :meth:`collect` keeps a copy of the day's state record (a few hundred bytes)
    and the reporters' values are computed from these copies, with the same values and
    types, when a table is asked for (``get_model_vars_dataframe``,
    ``get_agenttype_vars_dataframe(Militia)``, ``model_vars``, ``mesa.batch_run``).
    """

    def __init__(self, model: EscalationModel):
        super().__init__()
        self.model_reporters = dict(MODEL_REPORTERS)
        self.agenttype_reporters = {Militia: dict(MILITIA_REPORTERS)}
        self._model = model
        self._snapshots: list[tuple[int, int, np.ndarray]] = []
        self._model_vars: dict[str, list] = {k: [] for k in MODEL_REPORTERS}
        self._records: dict[int, dict] = {}
        self._done = 0

    def collect(self, model) -> None:
        # As raw bytes: copying a record array field by field is ten times slower.
        self._snapshots.append((model.steps, model.day, model.state.rec.view(np.uint8).copy()))

    # What mesa reads, computed from the snapshots not yet turned into values.
    @property
    def model_vars(self) -> dict[str, list]:
        self._materialise()
        return self._model_vars

    @model_vars.setter
    def model_vars(self, value) -> None:  # mesa's __init__ assigns an empty dict
        pass

    @property
    def _agenttype_records(self) -> dict[int, dict]:
        self._materialise()
        return self._records

    @_agenttype_records.setter
    def _agenttype_records(self, value) -> None:
        pass

    def _materialise(self) -> None:
        new = self._snapshots[self._done:]
        if not new:
            return
        m = self._model
        daily = m.recorder.daily
        mv = self._model_vars
        militias = list(m.agents_by_type[Militia])
        for steps, day, raw in new:
            s = raw.view(dyn.STATE_DTYPE)[0]
            date = m._dates[day] if day < len(m._dates) else \
                m.timeline.start + pd.Timedelta(days=day)
            mv["date"].append(date)
            for c in ("attacks", "strikes", "us_killed", "coalition_killed"):
                mv[c].append(float(daily[c][day, 0]))
            mv["total_attacks"].append(int(s["acc_attacks"]))
            mv["total_strike_rounds"].append(int(s["acc_strike_rounds"]))
            mv["total_us_killed"].append(int(s["acc_us_killed"]))
            mv["rung"].append(float(daily["rung"][day, 0]))
            mv["level"].append(float(daily["level"][day, 0]))
            mv["directive"].append(Directive(int(s["directive"])).name.lower())
            mv["risk"].append(float(s["risk"]))
            mv["sovereignty_grievance"].append(float(s["sovereignty"]))
            mv["us_harm_ledger"].append(float(s["harm"]))
            rows = []
            for a in militias:
                i = a.index
                rows.append((steps, a.unique_id, date, a.faction, float(s["grievance"][i]),
                             float(s["fear"][i]), float(s["leadership"][i]),
                             bool(s["suspended"][i]),
                             sum(float(x) for x in s["arsenal"][i])))
            self._records[steps] = {Militia: rows}
        self._done = len(self._snapshots)
