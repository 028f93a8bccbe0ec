"""The interactive model page: Mesa's SolaraViz around :class:`AppModel`, and an ensemble view.

What lives here: :class:`AppModel` (an ``EscalationModel`` whose settings are flat keyword
arguments, as SolaraViz's "Reset" passes them), the page's figures (cumulative timeline,
escalation ladder, the actors' state; the ensemble's median and 90% band) and :func:`Page`,
the Solara component that ``escalation viz`` serves (``solara run sim/app.py``). Run it with::

    escalation viz                      # or: .venv/bin/solara run sim/app.py

What does not live here: the model (``sim.model``), the rules (``sim.rules``), the batch
engine (``sim.run``) and the report figures (``sim.plots``). The page is the top layer, like
the command line: it loads the documented record (``calibration.documented()``) and gives it
to the model with the scenario.

How the page works. The browser tab and the bar at the top name the scenario
("escalation-sim: history"). The sidebar's first card chooses a scenario (the runnable files
of ``scenarios/``: those with their own ``name`` and ``description``, so not
``calibrated.toml``, a parameter-only parent) and a deterrence rule, and shows the rule's
parameters with the values in force (the scenario's own, e.g. a level calibrated.toml sets
for history's rule, ``ladder``, else the rule's default). The second card holds the
replicate and one slider per parameter of the rule, over the rule's declared bounds
(``Rule.parameters``), each with its value shown beside it in a box where an exact value can
be typed; any change builds a fresh model at once. The third chooses the view: "one
replicate, day by day" is SolaraViz ("Controls": Reset, play/pause, Step by "Render
Interval" days; four figures: the ladder, the cumulative timeline beside the documented
record, the militias' fear, grievance and arsenals, Iran's directive beside the risk of a
direct U.S. answer it weighs, Baghdad's grievance and the U.S. harm ledger); "ensemble" runs a
few dozen replicates of the same settings on the batch engine (a fraction of a second) and
draws their median and 90% band beside the record.
"""

from __future__ import annotations

import functools
import html
import math
import time
import tomllib
import warnings
from dataclasses import dataclass
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
    from mesa.visualization import SolaraViz
    from mesa.visualization.utils import force_update

from calibration import documented
from sim.agents import Militia
from sim.events import FACTIONS
from sim.model import EscalationModel
from sim.rules import REGISTRY
from sim.run import run
from sim.scenario import Scenario, load_scenario

SCENARIO_DIR = Path(__file__).resolve().parent.parent / "scenarios"
DEFAULT_SCENARIO = "history"
#: Separates a rule's name from its parameter's in the page's flat keyword arguments
#: (``threshold__level``): SolaraViz passes every slider to the model as one keyword.
SEP = "__"
#: A slider's step: fine enough for a calibrated value (10.44) on the declared range; a range
#: wider than ``WIDE`` (``red_line``'s ``wounded``, 1 to 1e6 = never) moves by whole units.
FINE_STEP, WIDE = 0.01, 1e4
#: The ensemble view: replicates by default and at most (the batch engine runs 40 histories
#: in about 0.2 s), and the band's quantiles.
ENSEMBLE_REPLICATES, ENSEMBLE_MAX = 40, 200
BAND = (0.05, 0.5, 0.95)
#: Figures: the simulated replicate, the documented record, deaths (as in ``sim.plots``).
SIM_COLOUR, RECORD_COLOUR, LETHAL = "#0072B2", "#555555", "#d62728"
FACTION_COLOURS = ("#E69F00", "#56B4E9", "#009E73", "#CC79A7", "#0072B2", "#D55E00", "#999999")
FACTION_LABELS = {f: f.replace("_", " ").title().replace("Al ", "al-") for f in FACTIONS}


# --- Scenarios and sliders -------------------------------------------------------------------

def runnable(path: Path) -> bool:
    """A scenario a user runs, not a parameter-only parent: the file has its own ``name`` and
    ``description`` (``calibrated.toml``, which ``history.toml`` extends, has neither)."""
    with open(path, "rb") as f:
        data = tomllib.load(f)
    return "name" in data and "description" in data


def scenario_names() -> list[str]:
    """Stems of the runnable ``scenarios/*.toml``: the scenario dropdown, history first."""
    names = sorted(p.stem for p in SCENARIO_DIR.glob("*.toml") if runnable(p))
    return sorted(names, key=lambda n: n != DEFAULT_SCENARIO)


@functools.lru_cache(maxsize=1)
def the_record():
    """The documented record, read once: the page (top layer) gives it to the model."""
    return documented()


@functools.lru_cache(maxsize=64)
def base_scenario(name: str):
    """The scenario file as written (its own rule and parameters), read once."""
    return load_scenario(SCENARIO_DIR / f"{name}.toml", record=the_record())


@dataclass(frozen=True)
class SliderSpec:
    """One rule parameter's slider: over the rule's declared bounds, at the value in force."""

    key: str          # the page's flat keyword, ``<rule>__<parameter>``
    label: str        # "threshold: level"
    value: float
    min: float
    max: float
    step: float


def slider_spec(rule: str, name: str, value: float | None = None) -> SliderSpec:
    """The slider of one of a rule's parameters: the registry's declared bounds, the value
    given (the one in force) or the rule's default."""
    default, lo, hi, _doc = REGISTRY[rule].parameters[name]
    lo, hi = float(lo), float(hi)
    value = float(default if value is None else value)
    step = 1.0 if hi - lo > WIDE else FINE_STEP
    return SliderSpec(key=f"{rule}{SEP}{name}", label=f"{rule}: {name.replace('_', ' ')}",
                      value=min(max(value, lo), hi), min=lo, max=hi, step=step)


def slider_value(rule: str, name: str, value: float) -> float:
    """A slider's or a typed value, kept within the rule's declared bounds."""
    _default, lo, hi, _doc = REGISTRY[rule].parameters[name]
    return float(min(max(float(value), lo), hi))


def scenario_value(scenario: Scenario, rule: str, name: str) -> float | None:
    """The value a scenario file gives a rule's parameter (None: the rule's default applies)."""
    us = scenario.params.us
    if us.rule != rule or name not in us.rule_params:
        return None
    return float(np.asarray(us.rule_params[name]).reshape(-1)[0])


def rule_help(model: "AppModel") -> str:
    """The rule card: its description and each parameter with the value in force, where that
    value comes from (the scenario, the rule's default or the page) and its bounds (Markdown)."""
    cls = REGISTRY[model.rule_name]
    paragraphs = [cls.describe(cls)]
    if model.replayed_us:
        paragraphs.append("*This scenario replays the documented U.S. actions: the rule is "
                          "not consulted.*")
    values = rule_values(model)
    base = base_scenario(model.scenario_name)
    bullets = []
    for name, (default, lo, hi, doc) in cls.parameters.items():
        given = scenario_value(base, model.rule_name, name)
        value = values[name]
        if given is not None and math.isclose(value, given):
            origin = f"{model.scenario_name}'s value; rule default {default:g}"
        elif given is None and math.isclose(value, default):
            origin = "the rule's default"
        else:
            origin = (f"set on this page; {model.scenario_name}'s value {given:g}"
                      if given is not None else f"set on this page; rule default {default:g}")
        bullets.append(f"- *{name.replace('_', ' ')}* = "
                       f"<span class='escalation-in-force' data-param='{name}'>{value:g}</span>"
                       f" ({origin}; {lo:g} to {hi:g}): {doc}")
    if bullets:
        paragraphs.append("\n".join(bullets))
    else:
        paragraphs.append("This rule has no parameters.")
    return "\n\n".join(paragraphs)


def rule_values(model: "AppModel") -> dict[str, float]:
    """The parameters of the rule in force, as the model uses them."""
    rule = model.rule_in_force
    return {k: float(np.asarray(getattr(rule, k)).reshape(-1)[0]) for k in rule.parameters}


# --- The model the page drives ---------------------------------------------------------------

def page_scenario(scenario: str, rule: str | None, params: dict[str, Any]
                  ) -> tuple[str, Scenario]:
    """The rule and the scenario the page's settings stand for (one replicate or an ensemble).

    Args:
        scenario: a scenario's name, the stem of a file in ``scenarios/``.
        rule: a registered deterrence rule; None or "" keeps the scenario's own.
        params: rule parameters as ``<rule>__<parameter>=value``; those of other rules
            than ``rule`` are ignored (the page keeps every slider it has shown).
    """
    base = base_scenario(scenario)
    rule = rule or base.params.us.rule
    if rule not in REGISTRY:
        raise ValueError(f"unknown rule {rule!r}; known: {', '.join(sorted(REGISTRY))}")
    changes: dict[str, Any] = {}
    if rule != base.params.us.rule or base.params.us.periods:
        changes["us.rule"] = rule
    for key, value in params.items():
        owner, sep, name = key.partition(SEP)
        if not sep or owner not in REGISTRY or name not in REGISTRY[owner].parameters:
            raise ValueError(f"unknown page parameter {key!r}: expected "
                             f"<rule>{SEP}<parameter>, e.g. threshold{SEP}level")
        if owner == rule:
            changes[f"us.{name}"] = slider_value(rule, name, value)
    return rule, load_scenario(SCENARIO_DIR / f"{scenario}.toml", changes or None,
                               record=the_record())


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
        rule, resolved = page_scenario(scenario, rule, kwargs)
        self.scenario_name = scenario
        self.rule_name = rule
        super().__init__(resolved, replicate=int(replicate))

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


@functools.lru_cache(maxsize=256)
def settled(settings: tuple[tuple[str, Any], ...]) -> type[AppModel]:
    """``AppModel`` with the page's settings as its defaults.

    SolaraViz's "Reset" builds ``model.__class__(**its parameters)``, and Mesa 3.3 hands it
    no parameters once the page's own cards (not SolaraViz's) hold them: without these
    defaults a Reset would silently go back to history's values.
    """
    defaults = dict(settings)

    class Settled(AppModel):
        def __init__(self, **kwargs: Any):
            super().__init__(**{**defaults, **kwargs})

    Settled.__name__ = Settled.__qualname__ = "AppModel"
    return Settled


def page_model(**settings: Any) -> AppModel:
    """A fresh model of the page's settings, whose Reset keeps them (see :func:`settled`)."""
    return settled(tuple(sorted(settings.items())))()


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
    """Iran's directive and the risk it weighs, Baghdad's sovereignty grievance and the U.S.
    harm ledger by date.

    Iran's directive follows a score of gain (regional tension, anger at U.S. strikes) minus
    ``iran.risk_weight`` times the risk of a direct U.S. answer (raised by the U.S. deaths
    its proxies cause and by large strike rounds): a rise of the risk can turn the directive
    to 'restrain', an order to stand down. Iran's own attacks raise a separate risk, of a
    direct exchange, that holds back its own next answer, not the proxies (not drawn)."""
    fig = Figure(figsize=FIGSIZE, layout="constrained")
    axes = fig.subplots(4, 1, sharex=True, height_ratios=[0.6, 0.7, 1, 1])
    sim = model.history()
    if not sim.empty:
        code = sim["directive"].map({"restrain": 0, "normal": 1, "escalate": 2})
        axes[0].step(sim.index, code, where="post", color="#6A3D9A", lw=1.4)
        axes[1].plot(sim.index, sim["risk"], color="#CC79A7", lw=1.2)
        axes[2].plot(sim.index, sim["sovereignty_grievance"], color="#009E73", lw=1.4)
        axes[3].plot(sim.index, sim["us_harm_ledger"], color=SIM_COLOUR, lw=1.0)
    axes[0].set_yticks([0, 1, 2], ["restrain", "normal", "escalate"])
    axes[0].set_ylim(-0.3, 2.3)
    axes[0].set_ylabel("Iran's directive\nto its proxies", fontsize=8)
    axes[1].set_ylabel("Iran's risk of a\nU.S. answer (a.u.)", fontsize=8)
    axes[1].set_ylim(0, max(1.0, _top(sim, "risk")))
    axes[1].annotate("lowers the directive: U.S. deaths, large rounds",
                     (0.005, 0.97), xycoords="axes fraction", fontsize=6.5, va="top",
                     color="#CC79A7")
    iraq = model.scenario.params.iraq
    for level, what in ((iraq.negotiate_threshold, "exit talks"), (iraq.vote_threshold, "vote"),
                        (iraq.exit_threshold, "exit")):
        axes[2].axhline(level, color="#009E73", lw=0.7, ls=":")
        axes[2].annotate(what, (0.005, level), xycoords=("axes fraction", "data"),
                         fontsize=6.5, va="bottom", color="#009E73")
    axes[2].set_ylabel("Baghdad's sovereignty\ngrievance (a.u.)", fontsize=8)
    axes[2].set_ylim(0, max(iraq.exit_threshold * 1.15, _top(sim, "sovereignty_grievance")))
    values = rule_values(model)
    if "level" in values and not model.replayed_us:
        axes[3].axhline(values["level"], color=SIM_COLOUR, lw=0.8, ls="--")
        axes[3].annotate(f"rule's level {values['level']:g}: strike",
                         (0.005, values["level"]), xycoords=("axes fraction", "data"),
                         fontsize=6.5, va="bottom", color=SIM_COLOUR)
    axes[3].set_ylabel("U.S. harm ledger\n(decayed harm)", fontsize=8)
    axes[3].set_ylim(bottom=0)
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


def Md(text: str, style: str = "", classes: list[str] | None = None):
    """Markdown shown as plain HTML. Solara's own ``Markdown`` loads KaTeX (for formulas the
    page never shows) from a CDN path that ``solara-assets`` does not serve: four 404s in the
    browser's console on every load."""
    import markdown
    return solara.HTML(tag="div", unsafe_innerHTML=markdown.markdown(text), style=style,
                       classes=classes or [])


def Overview(model: AppModel):
    with solara.Column(gap="4px") as column:
        Md(status_markdown(model), style="font-size: 0.9em")
        solara.FigureMatplotlib(ladder_figure(model), format="png", dpi=90)
    return column


def Timeline(model: AppModel):
    return solara.FigureMatplotlib(timeline_figure(model), format="png", dpi=90)


def Militias(model: AppModel):
    return solara.FigureMatplotlib(militias_figure(model), format="png", dpi=90)


def Others(model: AppModel):
    return solara.FigureMatplotlib(others_figure(model), format="png", dpi=90)


COMPONENTS = [(Overview, 0), (Timeline, 0), (Militias, 0), (Others, 0)]


def slider_specs(model: AppModel) -> list[SliderSpec]:
    """A slider per parameter of the model's rule, at the values in force."""
    values = rule_values(model)
    return [slider_spec(model.rule_name, name, values[name])
            for name in REGISTRY[model.rule_name].parameters]


def model_params(model: AppModel) -> dict[str, Any]:
    """SolaraViz's parameters, all fixed: the page's own cards set them (with their values
    shown), and SolaraViz's "Reset" rebuilds the model with them."""
    params: dict[str, Any] = {"scenario": model.scenario_name, "rule": model.rule_name,
                              "replicate": model.replicate}
    params.update({spec.key: spec.value for spec in slider_specs(model)})
    return params


# --- The ensemble view -----------------------------------------------------------------------

@functools.lru_cache(maxsize=16)
def ensemble(scenario: str, rule: str, params: tuple[tuple[str, float], ...],
             replicates: int):
    """``replicates`` runs of the page's settings on the batch engine (the same runs as
    replicates 0..N-1 of ``escalation run``), and the seconds they took."""
    _rule, resolved = page_scenario(scenario, rule, dict(params))
    started = time.perf_counter()
    result = run(resolved, replicates=replicates, engine="batch")
    return result, time.perf_counter() - started


def ensemble_bands(result) -> dict[str, pd.DataFrame]:
    """Per outcome, the 5%, 50% and 95% quantiles over replicates of its running total."""
    daily = result.daily.assign(strikes=lambda d: (d["strikes"] > 0).astype(float))
    out = {}
    for column in ("attacks", "strikes", "us_killed"):
        wide = daily.pivot(index="date", columns="replicate", values=column).cumsum()
        out[column] = wide.quantile(list(BAND), axis=1).T
    return out


def ensemble_figure(result, scenario: str, rule: str) -> Figure:
    """Cumulative attacks, days with U.S. strikes and U.S. deaths: the ensemble's median and
    90% band beside the documented record."""
    fig = Figure(figsize=(11, 6.4), layout="constrained")
    axes = fig.subplots(3, 1, sharex=True)
    bands = ensemble_bands(result)
    start, end = result.scenario.start, result.scenario.end
    rec = record_daily().loc[start:end].cumsum()
    panels = (("attacks", "attacks on\nU.S. forces", SIM_COLOUR),
              ("strikes", "days with\nU.S. strikes", SIM_COLOUR),
              ("us_killed", "U.S. service\nmembers killed", LETHAL))
    for ax, (column, label, colour) in zip(axes, panels):
        q = bands[column]
        ax.fill_between(q.index, q[BAND[0]], q[BAND[2]], step="post", color=colour,
                        alpha=0.22, lw=0, label=f"90% of {result.replicates} replicates")
        ax.step(q.index, q[BAND[1]], where="post", color=colour, lw=1.8, label="median")
        ax.step(rec.index, rec[column], where="post", color=RECORD_COLOUR, lw=1.2, ls="--",
                label="documented record (major attacks only)")
        ax.set_ylabel(label + "\n(cumulative)", fontsize=9)
        ax.set_ylim(bottom=0)
        ax.set_xlim(start, end)
        ax.grid(color="#eeeeee")
        ax.legend(loc="upper left", fontsize=8, frameon=False)
    axes[0].set_title(f"{scenario}, rule {rule}: median and 90% band of {result.replicates} "
                      "replicates (batch engine)", fontsize=11)
    return fig


def ensemble_markdown(result, seconds: float) -> str:
    """The ensemble's totals: median and 90% interval, and the U.S. exit."""
    s = result.summary
    parts = []
    for column, what in (("attacks", "attacks"), ("strike_rounds", "days with U.S. strikes"),
                         ("us_killed", "U.S. killed")):
        lo, mid, hi = np.quantile(s[column], BAND, method="nearest")  # counts stay counts
        parts.append(f"{what} {mid:g} ({lo:g} to {hi:g})")
    left = float(s["us_left_iraq"].mean())
    return (f"<span class='escalation-ensemble'>{result.replicates} replicates in "
            f"{seconds:.2f} s: medians (90% of replicates) {'; '.join(parts)}; the U.S. left "
            f"Iraq in {left:.0%} of replicates</span>")


@solara.component
def EnsembleView(model: AppModel, replicates: solara.Reactive[int]):
    """The ensemble of the page's settings: median and 90% band, drawn at once."""
    params = tuple(sorted((s.key, s.value) for s in slider_specs(model)))
    result, seconds = ensemble(model.scenario_name, model.rule_name, params,
                               int(replicates.value))
    with solara.Column(style={"padding": "12px"}):
        solara.SliderInt("replicates in the ensemble", value=replicates, min=10,
                         max=ENSEMBLE_MAX, step=10, thumb_label="always")
        Md(ensemble_markdown(result, seconds), style="font-size: 0.95em")
        solara.FigureMatplotlib(ensemble_figure(result, model.scenario_name, model.rule_name),
                                format="png", dpi=80)


# --- The page --------------------------------------------------------------------------------

def Caption(text: str):
    """A line of small grey text of its own (a label above a slider, a note)."""
    return solara.HTML(tag="div", unsafe_innerHTML=html.escape(text),
                       style="font-size: 0.85em; color: #555; margin-top: 4px")


@solara.component
def ParameterSlider(spec: SliderSpec, on_value):
    """A rule parameter's slider over its declared bounds, with its value beside it in a box
    that also takes a typed value (a slider over 0 to 1000 cannot be set to 10.44 by hand)."""
    with solara.Column(gap="0px", classes=[f"escalation-param-{spec.key.replace(SEP, '-')}"]):
        Caption(f"{spec.label} ({spec.min:g} to {spec.max:g})")
        with solara.Row(style={"align-items": "center"}, gap="8px"):
            with solara.Column(style={"flex": "1 1 auto", "min-width": "0"}):
                solara.SliderFloat("", value=spec.value, min=spec.min, max=spec.max,
                                   step=spec.step, on_value=on_value)
            solara.InputFloat("value", value=spec.value, on_value=on_value, dense=True,
                              continuous_update=False, classes=["escalation-value"],
                              style={"max-width": "90px", "flex": "0 0 auto"})


VIEWS = ["one replicate, day by day", "ensemble"]


@solara.component
def Page():
    """The page: title, the scenario-and-rule card, the parameters, then the chosen view."""
    initial = solara.use_memo(lambda: page_model(), [])
    model = solara.use_reactive(initial)
    view = solara.use_reactive(VIEWS[0])
    replicates = solara.use_reactive(ENSEMBLE_REPLICATES)
    current: AppModel = model.value
    values = {spec.key: spec.value for spec in slider_specs(current)}

    def rebuild(**changes) -> None:
        settings = dict(scenario=current.scenario_name, rule=current.rule_name,
                        replicate=current.replicate, **values)
        settings.update(changes)
        model.set(page_model(**settings))

    def choose_scenario(name: str) -> None:
        model.set(page_model(scenario=name))

    def choose_rule(rule: str) -> None:
        model.set(page_model(scenario=current.scenario_name, rule=rule,
                             replicate=current.replicate))

    def run_to_end() -> None:
        model.value.run_to_end()
        force_update()

    title = f"escalation-sim: {current.scenario_name}"
    solara.Title(title)
    with solara.Sidebar():
        with solara.Card("Scenario and deterrence rule"):
            solara.Select("scenario", value=current.scenario_name, values=scenario_names(),
                          on_value=choose_scenario)
            Md(html.escape(current.scenario.description.replace("\n", " ")),
               style="font-size: 0.8em")
            solara.Select("deterrence rule", value=current.rule_name,
                          values=sorted(REGISTRY), on_value=choose_rule)
            Md(rule_help(current), style="font-size: 0.8em", classes=["escalation-rule-card"])
        with solara.Card("Parameters"):
            Caption("A change builds a fresh run from the scenario's start.")
            Caption("replicate (which run of the ensemble; 0 to 99)")
            with solara.Row(style={"align-items": "center"}, gap="8px"):
                with solara.Column(style={"flex": "1 1 auto", "min-width": "0"}):
                    solara.SliderInt("", value=current.replicate, min=0, max=99, step=1,
                                     on_value=lambda r: rebuild(replicate=int(r)))
                solara.InputInt("value", value=current.replicate, dense=True,
                                classes=["escalation-replicate"],
                                continuous_update=False,
                                on_value=lambda r: r is not None and rebuild(
                                    replicate=min(max(int(r), 0), 99)),
                                style={"max-width": "90px", "flex": "0 0 auto"}).key(
                    f"replicate={current.replicate}")  # shows the slider's value (see below)
            for spec in slider_specs(current):
                # Keyed by the value: Solara's number box keeps its own text once typed in,
                # and must show the value a slider (or a new scenario) gives it.
                ParameterSlider(spec, on_value=lambda v, key=spec.key: (
                    v is not None and rebuild(**{key: float(v)}))).key(
                    f"{spec.key}={spec.value}")
        with solara.Card("View"):
            solara.ToggleButtonsSingle(value=view, values=VIEWS, dense=True)
            if view.value == VIEWS[0]:
                solara.Button("Run to end", color="primary", on_click=run_to_end,
                              style={"width": "100%", "margin-top": "8px"})
    # Mesa's SolaraViz names its single tab of figures "Page 0": a tab bar with one tab says
    # nothing, so it is hidden (the "View" card switches between the two views). Its "Model
    # Parameters" card is empty (the page's own cards hold them, values shown): hidden too.
    solara.Style(".escalation-main .v-tabs { display: none; }\n"
                 ".v-card:has(> .v-card__text > .v-sheet:empty:only-child) { display: none; }")
    if view.value == VIEWS[0]:
        with solara.Column(classes=["escalation-main"], style={"width": "100%"}):
            SolaraViz(model, components=COMPONENTS, model_params=model_params(current),
                      name=f"{title}: militias, U.S. forces, Baghdad, Tehran",
                      play_interval=20, render_interval=7).key(
                "|".join(map(str, model_params(current).values())))
    else:
        with solara.AppBar():
            solara.AppBarTitle(f"{title}: ensemble of {replicates.value} replicates")
        EnsembleView(current, replicates)
