"""The interactive model page: Mesa's SolaraViz around :class:`AppModel`.

What lives here: :class:`AppModel` (an ``EscalationModel`` whose settings are flat keyword
arguments, as SolaraViz's "Reset" passes them), the page's figures (cumulative timeline,
escalation ladder, the actors' state) and :func:`Page`, the Solara component that
``escalation viz`` serves (``solara run sim/app.py``). Run it with::

    escalation viz                      # or: .venv/bin/solara run sim/app.py

What does not live here: the model (``sim.model``), the rules (``sim.rules``) and the
ensemble figures of many replicates (``sim.plots``); this page shows one replicate, day by day.
The page is the top layer, like the command line: it loads the documented record
(``calibration.documented()``) and gives it to the model with the scenario.

How the page works. The sidebar's first card chooses a scenario (``scenarios/*.toml``) and a
deterrence rule; choosing either builds a fresh model at once; its "Run to end" button runs
the rest of the window. SolaraViz's own cards follow: "Controls" (Reset, play/pause, Step;
Step advances "Render Interval" days) and "Model Parameters": the replicate, and one slider
per parameter of the chosen rule within the rule registry's bounds (``Rule.parameters``; a
slider reaches a few times the default rather than the whole range, see ``slider_spec``).
A moved slider takes effect when Reset is pressed, as everywhere in SolaraViz. The main
area's four cells show where the run stands with the escalation ladder, the cumulative
timeline beside the documented record, the militias' fear, grievance and arsenals, and Iran's
directive, Baghdad's sovereignty grievance and the U.S. harm ledger.
"""

from __future__ import annotations

import functools
import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import solara
from matplotlib.figure import Figure

with warnings.catch_warnings():
    # Solara's hook checker objects to a line of Mesa's own SolaraViz (ComponentsView) at
    # import; the code is Mesa's and works, so the warning would only confuse a user.
    warnings.filterwarnings("ignore", message=".*use_state.*found despite early return")
    from mesa.visualization import Slider, SolaraViz
    from mesa.visualization.utils import force_update

from calibration import documented
from sim.agents import Militia
from sim.events import FACTIONS
from sim.model import EscalationModel
from sim.rules import REGISTRY
from sim.scenario import load_scenario

SCENARIO_DIR = Path(__file__).resolve().parent.parent / "scenarios"
DEFAULT_SCENARIO = "history"
#: Separates a rule's name from its parameter's in the page's flat keyword arguments
#: (``threshold__level``): SolaraViz passes every slider to the model as one keyword.
SEP = "__"
#: How far a slider reaches: up to this many times the rule's default (and at least 10 above
#: its lower bound), never past the registry's upper bound. The registry's bounds are what a
#: scenario file may hold (``level`` up to 1000); a slider that long cannot be set finely.
SLIDER_REACH = 4.0
#: A parameter whose default is its registry maximum and at least this large means "never"
#: (``red_line``'s ``wounded`` = 1e6: wounded alone never cross the line). Its slider stops at
#: a practical value, and the slider's right end stands for the registry maximum.
NEVER_AT = 1e4
NEVER_SLIDER_TOP = 200.0
#: Figures: the simulated replicate, the documented record, deaths (as in ``sim.plots``).
SIM_COLOUR, RECORD_COLOUR, LETHAL = "#0072B2", "#555555", "#d62728"
FACTION_COLOURS = ("#E69F00", "#56B4E9", "#009E73", "#CC79A7", "#0072B2", "#D55E00", "#999999")
FACTION_LABELS = {f: f.replace("_", " ").title().replace("Al ", "al-") for f in FACTIONS}


# --- Scenarios and sliders -------------------------------------------------------------------

def scenario_names() -> list[str]:
    """Stems of ``scenarios/*.toml``: the scenario dropdown, history first."""
    names = sorted(p.stem for p in SCENARIO_DIR.glob("*.toml"))
    return sorted(names, key=lambda n: n != DEFAULT_SCENARIO)


@functools.lru_cache(maxsize=1)
def the_record():
    """The documented record, read once: the page (top layer) gives it to the model."""
    return documented()


@functools.lru_cache(maxsize=64)
def base_scenario(name: str):
    """The scenario file as written (its own rule and parameters), read once."""
    return load_scenario(SCENARIO_DIR / f"{name}.toml", record=the_record())


def slider_spec(rule: str, name: str, value: float | None = None) -> Slider:
    """A SolaraViz slider for one of a rule's parameters, bounds from the rule registry."""
    default, lo, hi, doc = REGISTRY[rule].parameters[name]
    lo, hi, default = float(lo), float(hi), float(default)
    never = default >= NEVER_AT and default == hi
    value = default if value is None else float(value)
    if never:
        top = NEVER_SLIDER_TOP
    else:
        top = min(hi, max(SLIDER_REACH * default, lo + 10.0)) if hi - lo > 10 else hi
        top = max(top, min(value, hi))  # a scenario's own value stays reachable
    step = _nice_step((top - lo) / 100)
    shown = top if (never and value >= top) else min(max(value, lo), top)
    label = f"{rule}: {name.replace('_', ' ')}"
    return Slider(label, value=round(shown, 10), min=lo, max=top, step=step, dtype=float)


def slider_value(rule: str, name: str, value: float) -> float:
    """The rule parameter a slider position stands for (the right end of a "never" slider
    is the registry's maximum)."""
    default, lo, hi, _doc = REGISTRY[rule].parameters[name]
    if default >= NEVER_AT and default == hi and float(value) >= NEVER_SLIDER_TOP:
        return float(hi)
    return float(min(max(float(value), lo), hi))


def _nice_step(raw: float) -> float:
    """1, 2 or 5 times a power of ten, at most ``raw``, for a slider of about 100 steps."""
    if raw <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(raw))
    for m in (5, 2, 1):
        if m * power <= raw:
            return m * power
    return power


def rule_help(model: "AppModel") -> str:
    """The rule's one-line description and what each of its sliders means (Markdown)."""
    cls = REGISTRY[model.rule_name]
    paragraphs = [cls.describe(cls)]
    if model.replayed_us:
        paragraphs.append("*This scenario replays the documented U.S. actions: the rule is "
                          "not consulted.*")
    bullets = []
    for name, (default, lo, hi, doc) in cls.parameters.items():
        spec = slider_spec(model.rule_name, name)
        never = f"; right end: never ({hi:g})" if spec.max < hi and default == hi else ""
        bullets.append(f"- *{name.replace('_', ' ')}*: {doc} (slider {spec.min:g} to "
                       f"{spec.max:g}{never}; default {default:g})")
    if bullets:
        paragraphs.append("\n".join(bullets))
        paragraphs.append("Move the sliders under *Model Parameters*, then press **Reset** "
                          "to apply them.")
    else:
        paragraphs.append("This rule has no parameters.")
    return "\n\n".join(paragraphs)


def rule_values(model: "AppModel") -> dict[str, float]:
    """The parameters of the rule in force, as the model uses them."""
    rule = model.rule_in_force
    return {k: float(np.asarray(getattr(rule, k)).reshape(-1)[0]) for k in rule.parameters}


# --- The model the page drives ---------------------------------------------------------------

class AppModel(EscalationModel):
    """``EscalationModel`` with flat keyword arguments for SolaraViz.

    Args:
        scenario: a scenario's name, the stem of a file in ``scenarios/``.
        rule: a registered deterrence rule; None or "" keeps the scenario's own.
        replicate: which replicate of the scenario's ensemble to show (the same run as
            replicate ``replicate`` of ``escalation run``).
        **kwargs: rule parameters as ``<rule>__<parameter>=value`` (a slider each). Those of
            rules other than ``rule`` are ignored: SolaraViz keeps every slider it has shown.
    """

    def __init__(self, scenario: str = DEFAULT_SCENARIO, rule: str | None = None,
                 replicate: int = 0, **kwargs: Any):
        base = base_scenario(scenario)
        rule = rule or base.params.us.rule
        if rule not in REGISTRY:
            raise ValueError(f"unknown rule {rule!r}; known: {', '.join(sorted(REGISTRY))}")
        changes: dict[str, Any] = {}
        if rule != base.params.us.rule or base.params.us.periods:
            changes["us.rule"] = rule
        for key, value in kwargs.items():
            owner, sep, name = key.partition(SEP)
            if not sep or owner not in REGISTRY or name not in REGISTRY[owner].parameters:
                raise ValueError(f"unknown page parameter {key!r}: expected "
                                 f"<rule>{SEP}<parameter>, e.g. threshold{SEP}level")
            if owner == rule:
                changes[f"us.{name}"] = slider_value(rule, name, value)
        self.scenario_name = scenario
        self.rule_name = rule
        super().__init__(load_scenario(SCENARIO_DIR / f"{scenario}.toml", changes or None,
                                       record=the_record()), replicate=int(replicate))

    @property
    def rule_in_force(self):
        return self.p.rule_on(min(self.day, self.timeline.days - 1))

    @property
    def replayed_us(self) -> bool:
        """True when the scenario replays the documented U.S. actions (no rule consulted)."""
        return "us" in self.scenario.params.replay.force

    def step(self) -> None:
        """One day; nothing once the window has ended (the page may ask for more)."""
        if self.running:
            super().step()

    def run_to_end(self) -> None:
        while self.running:
            self.step()

    def history(self) -> pd.DataFrame:
        """The model reporters so far, one row per simulated day, indexed by date."""
        frame = self.datacollector.get_model_vars_dataframe()
        if frame.empty:
            return frame
        return frame.set_index("date")

    def militia_history(self) -> pd.DataFrame:
        """Militia reporters so far: one row per (date, faction)."""
        if self.day == 0:  # nothing collected yet
            return pd.DataFrame(columns=["date", "faction", "fear", "grievance", "arsenal"])
        frame = self.datacollector.get_agenttype_vars_dataframe(Militia).reset_index()
        frame["date"] = self.timeline.start + pd.to_timedelta(frame["Step"] - 1, unit="D")
        return frame


@functools.lru_cache(maxsize=1)
def record_daily() -> pd.DataFrame:
    """The documented record as daily counts over the model's default window."""
    record = the_record().events
    dates = pd.date_range("2019-01-01", "2030-12-31", freq="D")
    day = (pd.to_datetime(record["date"]) - dates[0]).dt.days.to_numpy()
    action = record["action"].astype(str).to_numpy()
    kind = record["actor_kind"].astype(str).to_numpy()
    out = pd.DataFrame(0.0, index=dates, columns=["attacks", "strikes", "us_killed"])
    np.add.at(out["attacks"].to_numpy(), day[np.isin(action, ("attack", "state_attack"))], 1)
    strike_days = np.unique(day[np.isin(action, ("strike", "leader_strike")) & (kind == "us")])
    out.loc[dates[strike_days], "strikes"] = 1.0
    np.add.at(out["us_killed"].to_numpy(), day,
              record["us_killed"].fillna(0).to_numpy(dtype=float))
    return out


# --- Figures ---------------------------------------------------------------------------------
# Four figures, one per cell of SolaraViz's 2 x 2 grid; each about 1.3 times as wide as tall,
# the cells' shape, so none is cropped.

FIGSIZE = (6.4, 5.0)
#: Short names of the rungs for the ladder's axis (full wording: ``sim.events.RUNG_LABELS``).
RUNG_SHORT = {0: "none", 1: "threat, condemnation", 2: "harmless attack",
              3: "damaging attack", 4: "lethal attack", 5: "U.S. strike", 6: "leader strike",
              7: "state-on-state attack", 8: "strike on Iran", 9: "open war"}


def _date_axis(ax, model: AppModel, labels: bool = True) -> None:
    import matplotlib.dates as mdates
    ax.set_xlim(model.timeline.start, model.timeline.end)
    years = (model.timeline.end - model.timeline.start).days / 365.25
    ax.xaxis.set_major_locator(mdates.YearLocator() if years > 1.5 else mdates.MonthLocator())
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y" if years > 1.5 else "%b %Y"))
    ax.tick_params(axis="x", labelbottom=labels, labelsize=8)
    ax.tick_params(axis="y", labelsize=8)
    ax.grid(axis="x", color="#dddddd", lw=0.6)
    ax.grid(axis="y", color="#eeeeee")
    if model.day:
        ax.axvline(model.date - pd.Timedelta(days=1), color="#999999", lw=0.8, ls=":")


def timeline_figure(model: AppModel) -> Figure:
    """Cumulative attacks, days with U.S. strikes and U.S. deaths by date, beside the
    documented record."""
    fig = Figure(figsize=FIGSIZE, layout="constrained")
    axes = fig.subplots(3, 1, sharex=True)
    sim = model.history()
    rec = record_daily().loc[model.timeline.start:model.timeline.end].cumsum()
    panels = (("attacks", "attacks on\nU.S. forces", SIM_COLOUR),
              ("strikes", "days with\nU.S. strikes", SIM_COLOUR),
              ("us_killed", "U.S. service\nmembers killed", LETHAL))
    for ax, (column, label, colour) in zip(axes, panels):
        ax.step(rec.index, rec[column], where="post", color=RECORD_COLOUR, lw=1.2, ls="--",
                label="documented record (major attacks only)")
        if not sim.empty:
            series = (sim[column] > 0).astype(float) if column == "strikes" else sim[column]
            ax.step(sim.index, series.cumsum(), where="post", color=colour, lw=1.8,
                    label=f"simulated, replicate {model.replicate}")
        ax.set_ylabel(label + "\n(cumulative)", fontsize=8)
        ax.set_ylim(bottom=0)
        _date_axis(ax, model, labels=ax is axes[-1])
    axes[0].legend(loc="upper left", fontsize=7, frameon=False)
    axes[0].set_title(f"Timeline to {_shown_date(model)} (counts since "
                      f"{model.timeline.start:%Y-%m-%d})", fontsize=10)
    return fig


def ladder_figure(model: AppModel) -> Figure:
    """The day's highest rung and the escalation level (highest rung of the last 30 days)."""
    fig = Figure(figsize=(FIGSIZE[0], 3.3), layout="constrained")
    ax = fig.subplots()
    sim = model.history()
    if not sim.empty:
        busy = sim[sim["rung"] > 0]
        ax.scatter(busy.index, busy["rung"], s=9, color="#E69F00", zorder=3,
                   label="highest rung of the day")
        ax.step(sim.index, sim["level"], where="post", color=SIM_COLOUR, lw=1.6,
                label="escalation level (highest rung, last 30 days)")
        ax.legend(loc="upper left", fontsize=7, frameon=False)
    ax.set_yticks(range(10), [f"{r} {RUNG_SHORT[r]}" for r in range(10)], fontsize=7)
    ax.set_ylim(-0.4, 9.4)
    ax.set_ylabel("escalation rung", fontsize=8)
    _date_axis(ax, model)
    ax.tick_params(axis="y", labelsize=7)
    ax.set_title(f"Escalation ladder to {_shown_date(model)}", fontsize=10)
    return fig


def militias_figure(model: AppModel) -> Figure:
    """Each militia faction's fear, grievance and arsenal by date."""
    fig = Figure(figsize=FIGSIZE, layout="constrained")
    axes = fig.subplots(3, 1, sharex=True)
    mil = model.militia_history()
    panels = (("fear", "fear of retaliation\n(deters; a.u.)"),
              ("grievance", "grievance\n(provokes; a.u.)"),
              ("arsenal", "arsenal\n(salvos in stock)"))
    for ax, (column, label) in zip(axes, panels):
        for colour, (faction, rows) in zip(FACTION_COLOURS, _by_faction(mil)):
            ax.plot(rows["date"], rows[column], color=colour, lw=1.1,
                    label=FACTION_LABELS[faction])
        ax.set_ylabel(label, fontsize=8)
        ax.set_ylim(bottom=0)
        _date_axis(ax, model, labels=ax is axes[-1])
    axes[0].set_title(f"Militias to {_shown_date(model)}", fontsize=10)
    if len(mil):
        fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center",
                   fontsize=6.5, ncols=4, frameon=False)
    return fig


def others_figure(model: AppModel) -> Figure:
    """Iran's directive, Baghdad's sovereignty grievance and the U.S. harm ledger by date."""
    fig = Figure(figsize=FIGSIZE, layout="constrained")
    axes = fig.subplots(3, 1, sharex=True, height_ratios=[0.6, 1, 1])
    sim = model.history()
    if not sim.empty:
        code = sim["directive"].map({"restrain": 0, "normal": 1, "escalate": 2})
        axes[0].step(sim.index, code, where="post", color="#6A3D9A", lw=1.4)
        axes[1].plot(sim.index, sim["sovereignty_grievance"], color="#009E73", lw=1.4)
        axes[2].plot(sim.index, sim["us_harm_ledger"], color=SIM_COLOUR, lw=1.0)
    axes[0].set_yticks([0, 1, 2], ["restrain", "normal", "escalate"])
    axes[0].set_ylim(-0.3, 2.3)
    axes[0].set_ylabel("Iran's directive\nto its proxies", fontsize=8)
    iraq = model.scenario.params.iraq
    for level, what in ((iraq.negotiate_threshold, "exit talks"), (iraq.vote_threshold, "vote"),
                        (iraq.exit_threshold, "exit")):
        axes[1].axhline(level, color="#009E73", lw=0.7, ls=":")
        axes[1].annotate(what, (0.005, level), xycoords=("axes fraction", "data"),
                         fontsize=6.5, va="bottom", color="#009E73")
    axes[1].set_ylabel("Baghdad's sovereignty\ngrievance (a.u.)", fontsize=8)
    axes[1].set_ylim(0, max(iraq.exit_threshold * 1.15, _top(sim, "sovereignty_grievance")))
    values = rule_values(model)
    if "level" in values and not model.replayed_us:
        axes[2].axhline(values["level"], color=SIM_COLOUR, lw=0.8, ls="--")
        axes[2].annotate(f"rule's level {values['level']:g}: strike",
                         (0.005, values["level"]), xycoords=("axes fraction", "data"),
                         fontsize=6.5, va="bottom", color=SIM_COLOUR)
    axes[2].set_ylabel("U.S. harm ledger\n(decayed harm)", fontsize=8)
    axes[2].set_ylim(bottom=0)
    for ax in axes:
        _date_axis(ax, model, labels=ax is axes[-1])
    axes[0].set_title(f"Iran, Baghdad and U.S. forces to {_shown_date(model)}", fontsize=10)
    return fig


def _by_faction(frame: pd.DataFrame):
    if frame.empty:
        return []
    groups = dict(tuple(frame.groupby("faction", sort=False)))
    return [(f, groups[f]) for f in FACTIONS if f in groups]


def _top(frame: pd.DataFrame, column: str) -> float:
    return float(frame[column].max()) * 1.1 if not frame.empty else 0.0


def _shown_date(model: AppModel) -> str:
    """The last simulated day (the start date before any step)."""
    last = model.date - pd.Timedelta(days=1) if model.day else model.timeline.start
    return f"{last:%Y-%m-%d}"


# --- Components ------------------------------------------------------------------------------

def status_markdown(model: AppModel) -> str:
    """Where the run stands: date, totals, the rule in force with its parameters."""
    sim = model.history()
    attacks = int(sim["attacks"].sum()) if not sim.empty else 0
    strike_days = int((sim["strikes"] > 0).sum()) if not sim.empty else 0
    killed = int(sim["us_killed"].sum()) if not sim.empty else 0
    level = int(sim["level"].iloc[-1]) if not sim.empty else 0
    values = rule_values(model)
    params = ", ".join(f"{k} = {v:g}" for k, v in values.items()) or "no parameters"
    rule_line = (f"U.S. actions replayed from the record (rule {model.rule_name} not "
                 "consulted)" if model.replayed_us
                 else f"deterrence rule **{model.rule_name}** ({params})")
    return (f"**{model.scenario_name}**, replicate {model.replicate}: day {model.day} of "
            f"{model.timeline.days}, <span class='escalation-date'>{_shown_date(model)}"
            f"</span>  \n<span class='escalation-totals'>attacks {attacks} · days with U.S. "
            f"strikes {strike_days} · U.S. killed {killed} · escalation level {level}</span>"
            f"  \n<span class='escalation-rule'>{rule_line}</span>")


def Overview(model: AppModel):
    with solara.Column(gap="4px") as column:
        solara.Markdown(status_markdown(model), style={"font-size": "0.9em"})
        solara.FigureMatplotlib(ladder_figure(model), format="png", dpi=90)
    return column


def Timeline(model: AppModel):
    return solara.FigureMatplotlib(timeline_figure(model), format="png", dpi=90)


def Militias(model: AppModel):
    return solara.FigureMatplotlib(militias_figure(model), format="png", dpi=90)


def Others(model: AppModel):
    return solara.FigureMatplotlib(others_figure(model), format="png", dpi=90)


COMPONENTS = [(Overview, 0), (Timeline, 0), (Militias, 0), (Others, 0)]


def model_params(model: AppModel) -> dict[str, Any]:
    """SolaraViz's parameters: the scenario and rule (fixed: chosen in the first card), the
    replicate, and a slider per parameter of the rule, at the model's current values."""
    values = rule_values(model)
    params: dict[str, Any] = {"scenario": model.scenario_name, "rule": model.rule_name,
                              "replicate": Slider("replicate (which run of the ensemble)",
                                                  value=model.replicate, min=0, max=99,
                                                  step=1, dtype=int)}
    for name in REGISTRY[model.rule_name].parameters:
        params[f"{model.rule_name}{SEP}{name}"] = slider_spec(model.rule_name, name,
                                                              values.get(name))
    return params


@solara.component
def Page():
    """The page: the scenario-and-rule card, then Mesa's SolaraViz."""
    initial = solara.use_memo(lambda: AppModel(), [])
    model = solara.use_reactive(initial)
    current: AppModel = model.value

    def choose_scenario(name: str) -> None:
        model.set(AppModel(scenario=name))

    def choose_rule(rule: str) -> None:
        model.set(AppModel(scenario=current.scenario_name, rule=rule,
                           replicate=current.replicate))

    def run_to_end() -> None:
        model.value.run_to_end()
        force_update()

    with solara.Sidebar():
        with solara.Card("Scenario and deterrence rule"):
            solara.Select("scenario", value=current.scenario_name, values=scenario_names(),
                          on_value=choose_scenario)
            solara.Markdown(current.scenario.description.replace("\n", " "),
                            style={"font-size": "0.8em"})
            solara.Select("deterrence rule", value=current.rule_name,
                          values=sorted(REGISTRY), on_value=choose_rule)
            solara.Markdown(rule_help(current), style={"font-size": "0.8em"})
            solara.Button("Run to end", color="primary", on_click=run_to_end,
                          style={"width": "100%"})
    SolaraViz(model, components=COMPONENTS, model_params=model_params(current),
              name="Escalation: militias, U.S. forces, Baghdad, Tehran",
              play_interval=20, render_interval=7).key(
        f"{current.scenario_name}|{current.rule_name}")
