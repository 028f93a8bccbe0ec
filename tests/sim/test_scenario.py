"""Scenario files: the shipped scenarios load, extends and --set behave, bad input is named.

Bad files are written to ``tmp_path``; every error is checked with :func:`assert_input_error`,
which the CLI tests can reuse: one line, naming the file and the field.
"""

from __future__ import annotations

import dataclasses
import json
import tomllib
import math
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.errors import InputError
from sim.events import FACTIONS
from sim.params import (FACTION_DEFAULTS, SITE_DEFAULTS, WEAPON_KEYS, FactionParams, IranParams,
                        IraqParams, MilitiaCommon, ModelParams, SiteParams, USParams,
                        WeaponParams)
from sim.rules import REGISTRY
from sim.scenario import Scenario, load_scenario, parse_set, scenario_from_dict

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"
HISTORY = SCENARIOS / "history.toml"
#: calibrated.toml is a parameter file (what `escalation calibrate` fitted), not a scenario:
#: history.toml extends it.
PARAMETER_FILES = {"calibrated"}
SCENARIO_FILES = sorted(p for p in SCENARIOS.glob("*.toml") if p.stem not in PARAMETER_FILES)


def assert_input_error(err: InputError, file: str, field: str | None, *fragments: str) -> None:
    """An InputError as the CLI prints it: one line that names ``file`` and ``field``, with a
    message containing every fragment (what is allowed)."""
    text = str(err)
    assert "\n" not in text, text
    assert err.file == str(file), text
    assert text.startswith(str(file)), text
    assert err.field == field, text
    if field:
        assert f": {field}: " in text, text
    for fragment in fragments:
        assert fragment in err.message, text


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def raises(fn, *args, **kwargs) -> InputError:
    with pytest.raises(InputError) as info:
        fn(*args, **kwargs)
    return info.value


# --- The shipped scenarios ------------------------------------------------------------------

def test_there_are_scenarios():
    names = {p.stem for p in SCENARIO_FILES}
    assert {"history", "no_soleimani_strike", "replay_us_strikes", "answer_every_attack",
            "never_strike", "strikes_only_in_syria", "baghdad_restrains", "no_regional_war",
            "us_exit_2020", "leadership_strikes", "red_line"} <= names


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=lambda p: p.stem)
def test_every_scenario_loads_and_asks_a_question(path):
    sc = load_scenario(path)
    assert isinstance(sc, Scenario) and isinstance(sc.params, ModelParams)
    assert sc.name == path.stem
    assert "?" in sc.description          # each states the question it asks
    assert sc.path == str(path)
    assert sc.start <= sc.end
    # The resolved scenario is plain data (manifest.json) and loads back to the same params.
    json.dumps(sc.resolved)
    assert "extends" not in sc.resolved
    assert scenario_from_dict(sc.resolved).params == sc.params


def test_history_is_the_documented_window_with_its_shocks():
    sc = load_scenario(HISTORY)
    assert (str(sc.start.date()), str(sc.end.date())) == ("2019-10-01", "2024-12-31")
    assert sc.params.us.rule == "ladder" and sc.params.us.periods == []
    shocks = {(s.kind, s.date): s for s in sc.params.shocks}
    # The dated inputs are exogenous only (docs/concepts.md tables them): the Gaza war, its
    # truce, the documented U.S. posture and policy. Quiet periods (the Sept 2023 freeze),
    # Iran's stand-down and the Feb 2024 strikes are outcomes.
    assert set(shocks) == {("regional_war", "2023-10-07"), ("truce", "2023-11-24"),
                           ("us_troops_iraq", "2019-10-01"), ("us_troops_iraq", "2020-09-30"),
                           ("us_troops_iraq", "2021-01-15"),
                           ("combat_mission_end", "2021-07-26")}
    assert not {"freeze", "iraq_government"} & {s.kind for s in sc.params.shocks}
    # ... and every one of them is a row of the exogenous-inputs table, with its source.
    table = (Path(__file__).resolve().parents[2] / "docs" / "concepts.md").read_text()
    for kind, date in shocks:
        rows = [r for r in table.splitlines() if r.startswith(f"| {date}") and f"`{kind}`" in r]
        assert len(rows) == 1 and rows[0].split("|")[4].strip(), (kind, date)   # a source
    # The war is a unit whose size (shock_scale) and decay are fitted.
    assert shocks["regional_war", "2023-10-07"].size == 1.0
    assert shocks["regional_war", "2023-10-07"].half_life_days == 0.0
    # Every actor decides for itself.
    assert sc.params.replay.force == [] and sc.params.replay.remove == []
    assert sc.params.replay.add == []
    # Values in neither history.toml nor calibrated.toml are the declared defaults.
    calibrated = tomllib.loads((SCENARIOS / "calibrated.toml").read_text())
    assert sc.params.iraq == IraqParams(**calibrated.get("iraq", {}))
    assert sc.params.militias == MilitiaCommon(**calibrated["militias"])
    if calibrated["us"]["rule"] == "ladder":
        assert sc.params.us.rule_params == {k: v for k, v in calibrated["us"].items()
                                            if k in REGISTRY["ladder"].parameters}


def test_calibrated_file_holds_parameters_only():
    calibrated = tomllib.loads((SCENARIOS / "calibrated.toml").read_text())
    assert not {"name", "start", "end", "seed", "shocks", "replay"} & set(calibrated)
    assert 'extends = "calibrated.toml"' in HISTORY.read_text()


def test_history_cites_a_source_next_to_each_shock():
    text = HISTORY.read_text()
    for shock in text.split("[[shocks]]")[:-1]:
        comment = shock.rsplit("\n\n", 1)[-1]
        assert "000_a0ed2b5f01c76508.txt" in comment or "https://" in comment, comment


def _whatif(name: str) -> Scenario:
    return load_scenario(SCENARIOS / f"{name}.toml")


@pytest.mark.parametrize("name, rule", [
    ("answer_every_attack", "tit_for_tat"), ("never_strike", "restraint"),
    ("leadership_strikes", "decapitation"), ("red_line", "red_line"),
    ("strikes_only_in_syria", "ladder"), ("baghdad_restrains", "ladder"),
])
def test_whatif_rules(name, rule):
    sc = _whatif(name)
    assert sc.params.us.rule == rule
    history = load_scenario(HISTORY)
    # Rule parameters are inherited only while the rule stays history's.
    same_rule = rule == history.params.us.rule
    assert sc.params.us.rule_params == (history.params.us.rule_params if same_rule else {})
    # Everything else comes from history.
    assert (sc.start, sc.end, sc.seed) == (history.start, history.end, history.seed)
    assert sc.params.shocks == history.params.shocks


def test_whatif_values():
    assert _whatif("strikes_only_in_syria").params.us.syria_share == 1.0
    assert _whatif("baghdad_restrains").params.iraq.restraint == 0.9
    shocks = _whatif("no_regional_war").params.shocks
    history = load_scenario(HISTORY).params.shocks
    # No war and no truce of a war; the documented posture stays.
    assert {s.kind for s in shocks} == {"us_troops_iraq"}
    assert shocks == [s for s in history if s.kind.startswith("us_troops")]


def test_whatif_replays():
    no_strike = _whatif("no_soleimani_strike").params.replay
    assert no_strike.force == ["us"] and no_strike.remove == ["2020-01-03-soleimani-strike"]
    replay = _whatif("replay_us_strikes").params.replay
    assert replay.force == ["us"] and replay.remove == [] and replay.add == []
    exit_ = _whatif("us_exit_2020").params.replay
    assert exit_.force == [] and len(exit_.add) == 1
    assert {k: exit_.add[0][k] for k in ("date", "actor", "actor_kind", "action", "country")} \
        == dict(date="2020-06-01", actor="us", actor_kind="us", action="exit", country="iraq")


# --- extends ----------------------------------------------------------------------------------

PARENT = """
name = "parent"
description = "the parent"
start = 2019-10-01
end = 2022-12-31
seed = 7
[us]
rule = "threshold"
level = 20
troops_iraq = 3000
[iraq]
restraint = 0.3
condemn_probability = 0.5
[militias]
fear_weight = 2.0
[militias.kataib_hezbollah]
fighters = 5000
[[shocks]]
date = 2020-01-01
kind = "regional_war"
size = 1.0
[[shocks]]
date = 2021-01-01
kind = "freeze"
size = 0.5
end = 2021-02-01
"""


def test_extends_child_wins_parent_kept(tmp_path):
    write(tmp_path / "parent.toml", PARENT)
    child = write(tmp_path / "child.toml", """
name = "child"
extends = "parent.toml"
seed = 8
[iraq]
restraint = 0.8
[militias.kataib_hezbollah]
base_attack_rate = 0.05
[[shocks]]
date = 2022-01-01
kind = "iraq_government"
size = 0.4
""")
    sc = load_scenario(child)
    assert sc.name == "child" and sc.description == ""      # not inherited
    assert sc.seed == 8 and str(sc.end.date()) == "2022-12-31"
    assert sc.params.iraq.restraint == 0.8 and sc.params.iraq.condemn_probability == 0.5
    assert sc.params.militias.fear_weight == 2.0
    kh = sc.params.factions["kataib_hezbollah"]
    assert (kh.base_attack_rate, kh.fighters) == (0.05, 5000)
    assert kh.alignment == FACTION_DEFAULTS["kataib_hezbollah"]["alignment"]
    # The rule is the same, so its parameters are inherited.
    assert sc.params.us.rule == "threshold" and sc.params.us.rule_params == {"level": 20.0}
    assert sc.params.us.troops_iraq == 3000
    # Arrays of tables replace whole.
    assert [(s.kind, s.date, s.size) for s in sc.params.shocks] == [
        ("iraq_government", "2022-01-01", 0.4)]


def test_extends_chain_of_three(tmp_path):
    write(tmp_path / "parent.toml", PARENT)
    (tmp_path / "sub").mkdir()
    write(tmp_path / "sub" / "middle.toml", 'extends = "../parent.toml"\n[iraq]\nrestraint = 0.6\n')
    top = write(tmp_path / "top.toml", 'extends = "sub/middle.toml"\n[iran]\nanger_weight = 3\n')
    sc = load_scenario(top)
    assert sc.name == "top"
    assert sc.params.iraq.restraint == 0.6 and sc.params.iraq.condemn_probability == 0.5
    assert sc.params.iran.anger_weight == 3.0 and sc.seed == 7


def test_rule_params_dropped_when_child_changes_rule(tmp_path):
    write(tmp_path / "parent.toml", PARENT + """
[[us.periods]]
start = 2021-01-20
rule = "threshold"
level = 5
""")
    child = write(tmp_path / "child.toml", """
extends = "parent.toml"
[us]
rule = "red_line"
deaths = 2
""")
    us = load_scenario(child).params.us
    assert us.rule == "red_line" and us.rule_params == {"deaths": 2.0}
    assert us.troops_iraq == 3000         # U.S. fields are not rule parameters: kept
    assert us.periods == []               # the parent's periods belonged to its rule scheme
    same = write(tmp_path / "same.toml", 'extends = "parent.toml"\n[us]\nrule = "threshold"\n')
    us = load_scenario(same).params.us
    assert us.rule_params == {"level": 20.0} and len(us.periods) == 1
    assert (us.periods[0].start, us.periods[0].rule, us.periods[0].params) == (
        "2021-01-20", "threshold", {"level": 5.0})


def test_rule_params_dropped_when_set_changes_rule(tmp_path):
    parent = write(tmp_path / "parent.toml", PARENT)
    us = load_scenario(parent, ["us.rule=red_line"]).params.us
    assert us.rule == "red_line" and us.rule_params == {} and us.troops_iraq == 3000
    # A new rule and its parameters set together (in either order) keep those parameters.
    us = load_scenario(parent, ["us.deaths=3", "us.rule=red_line"]).params.us
    assert us.rule_params == {"deaths": 3.0}
    # Same rule: the inherited parameters stay.
    us = load_scenario(parent, ["us.rule=threshold", "us.size=2"]).params.us
    assert us.rule_params == {"level": 20.0, "size": 2.0}


def test_a_dropped_parent_typo_is_still_reported(tmp_path):
    write(tmp_path / "parent.toml", '[us]\nrule = "threshold"\nlevle = 12\n')
    child = write(tmp_path / "child.toml", 'extends = "parent.toml"\n[us]\nrule = "red_line"\n')
    err = raises(load_scenario, child)
    assert_input_error(err, str(tmp_path / "parent.toml"), "us.levle", "unknown key",
                       "level, size")


def test_errors_name_the_file_that_holds_the_value(tmp_path):
    write(tmp_path / "parent.toml", "[iraq]\ncondemn_probability = 1.5\n")
    child = write(tmp_path / "child.toml", 'extends = "parent.toml"\n[iran]\nanger_weight = 1\n')
    err = raises(load_scenario, child)
    assert_input_error(err, str(tmp_path / "parent.toml"), "iraq.condemn_probability",
                       "1.5 is outside [0, 1]")
    # ... and the child, when the child fixes it.
    fixed = write(tmp_path / "fixed.toml", 'extends = "parent.toml"\n[iraq]\n'
                                           'condemn_probability = 0.5\n')
    assert load_scenario(fixed).params.iraq.condemn_probability == 0.5


# --- --set --------------------------------------------------------------------------------------

def test_parse_set_reads_toml_values():
    assert parse_set(["a.b=0.5", "c=2", "d=true", "us.rule=red_line", 'e="x y"', "f=[1, 2]",
                      "end=2021-12-31", " g = inf "]) == {
        "a.b": 0.5, "c": 2, "d": True, "us.rule": "red_line", "e": "x y", "f": [1, 2],
        "end": __import__("datetime").date(2021, 12, 31), "g": math.inf}
    assert parse_set(["x=1", "x=2"]) == {"x": 2}
    # Text that is not a single TOML value stays a string.
    assert parse_set(["a=1\nb = 2"]) == {"a": "1\nb = 2"}


def test_set_overrides(tmp_path):
    sc = load_scenario(HISTORY, [
        "militias.fear_weight=2.5",                           # float
        "us.lag_days=5",                                      # int
        "us.rule=red_line", "us.deaths=2",                    # string rule and its parameter
        "militias.kataib_hezbollah.base_attack_rate=0.05",    # nested faction
        "end=2021-12-31", "seed=5", "iraq.restraint=0.8",
    ])
    p = sc.params
    assert p.militias.fear_weight == 2.5
    assert p.us.lag_days == 5 and isinstance(p.us.lag_days, int)
    assert p.us.rule == "red_line" and p.us.rule_params == {"deaths": 2.0}
    assert p.factions["kataib_hezbollah"].base_attack_rate == 0.05
    assert p.factions["harakat_al_nujaba"].base_attack_rate == \
        FACTION_DEFAULTS["harakat_al_nujaba"]["base_attack_rate"]
    assert str(sc.end.date()) == "2021-12-31" and sc.seed == 5 and p.iraq.restraint == 0.8
    # Shocks after the end are kept (they do not happen in this shorter run).
    assert p.shocks == load_scenario(HISTORY).params.shocks and len(p.shocks) == 6
    assert {"rule": "red_line", "deaths": 2.0, "lag_days": 5}.items() <= sc.resolved["us"].items()
    assert "level" not in sc.resolved["us"]   # the history rule's parameter was dropped
    assert sc.resolved["end"] == "2021-12-31"


def test_overrides_as_a_mapping():
    sc = load_scenario(HISTORY, {"us.rule": "tit_for_tat", "us.respond_probability": 0.5,
                                 "militias.fear_weight": 3})
    assert sc.params.us.rule_params == {"respond_probability": 0.5}
    assert sc.params.militias.fear_weight == 3.0


def test_scenario_from_dict_extends_relative_to_base_dir():
    sc = scenario_from_dict({"name": "d", "extends": "history.toml", "iraq": {"restraint": 0.5}},
                            base_dir=SCENARIOS)
    assert sc.params.iraq.restraint == 0.5 and sc.params.shocks == load_scenario(HISTORY).params.shocks and sc.path is None


# --- Bad input ----------------------------------------------------------------------------------

GOOD = 'name = "t"\nstart = 2019-10-01\nend = 2024-12-31\n'

BAD_FILES = [
    # (id, text appended to GOOD, field, fragments of the message)
    ("unknown top-level key", "colour = 1\n", "colour", ["unknown key; allowed:", "seed"]),
    ("unknown key in us", "[us]\nrule = \"threshold\"\nlevl = 3\n", "us.levl",
     ["unknown key; did you mean 'level'? allowed:", "troops_iraq",
      "rule 'threshold': level, size"]),
    ("other rule's parameter", "[us]\nrule = \"threshold\"\ndeaths = 3\n", "us.deaths",
     ["a parameter of red_line"]),
    ("unknown faction", "[militias.kataib_hezbolah]\nfighters = 3\n",
     "militias.kataib_hezbolah", ["unknown faction 'kataib_hezbolah'; did you mean "
                                  "'kataib_hezbollah'?", "harakat_al_nujaba"]),
    ("unknown militia key", "[militias]\nfeer_weight = 3\n", "militias.feer_weight",
     ["unknown key; did you mean 'fear_weight'? allowed:", "fear_weight"]),
    ("unknown faction field", "[militias.kataib_hezbollah]\nfighter = 3\n",
     "militias.kataib_hezbollah.fighter", ["unknown key; did you mean 'fighters'? allowed:",
                                           "fighters"]),
    ("unknown weapon", "[weapons.laser]\nwounded_mean = 1\n", "weapons.laser",
     ["unknown weapon 'laser'", "rocket"]),
    ("unknown site", "[sites.mars]\ntroops = 1\n", "sites.mars", ["unknown site 'mars'"]),
    ("bad site country", "[sites.al_asad]\ncountry = \"iran\"\n", "sites.al_asad.country",
     ["iraq, syria, jordan"]),
    ("unknown rule", "[us]\nrule = \"red-line\"\n", "us.rule",
     ["unknown rule 'red-line'; did you mean 'red_line'? known rules:", "threshold"]),
    ("rule not a string", "[us]\nrule = 3\n", "us.rule", ["expected a rule name"]),
    ("probability above 1", "[iraq]\ncondemn_probability = 1.5\n",
     "iraq.condemn_probability", ["1.5 is outside [0, 1]"]),
    ("negative count", "[militias.kataib_hezbollah]\nfighters = -5\n",
     "militias.kataib_hezbollah.fighters", ["-5 is outside [0, 200000]"]),
    ("rule parameter out of bounds", "[us]\nrule = \"threshold\"\nsize = 0.5\n", "us.size",
     ["0.5 is outside [1, 100]"]),
    ("not a number", "[iran]\nanger_weight = \"abc\"\n", "iran.anger_weight",
     ["expected a number, got 'abc'"]),
    ("bool is not a number", "[iran]\nanger_weight = true\n", "iran.anger_weight",
     ["expected a number, got true"]),
    ("nan", "[iran]\nanger_weight = nan\n", "iran.anger_weight", ["outside [0, 10]"]),
    ("integer field with 2.5", "[us]\nlag_days = 2.5\n", "us.lag_days",
     ["expected a whole number, got 2.5"]),
    ("table expected", "iraq = 3\n", "iraq", ["expected a table"]),
    ("end before start", "", "end", ["end 2019-01-01 is before start 2019-10-01"]),
    ("start outside dates", "", "start", ["2018-01-01 is outside 2019-01-01..2030-12-31"]),
    ("bad date", "", "start", ["2019-13-01 is not a date (YYYY-MM-DD)"]),
    ("datetime", "", "start", ["without a time"]),
    ("seed not whole", "seed = 1.5\n", "seed", ["expected a whole number"]),
    ("negative seed", "seed = -1\n", "seed", ["outside [0, "]),
    ("shock outside window", "[[shocks]]\ndate = 2035-10-07\nkind = \"freeze\"\nsize = 1\n",
     "shocks[0].date", ["2035-10-07 is outside 2019-01-01..2030-12-31"]),
    ("unknown shock kind", "[[shocks]]\ndate = 2023-10-07\nkind = \"regional_war\"\nsize = 1\n"
     "[[shocks]]\ndate = 2023-10-07\nkind = \"regional_war\"\nsize = 1\n"
     "[[shocks]]\ndate = 2023-10-07\nkind = \"war\"\nsize = 1\n",
     "shocks[2].kind", ["unknown shock kind 'war'", "regional_war, truce, us_troops_iraq"]),
    ("misspelt top-level key", "seed = 3\nstrt = 1\n", "strt",
     ["unknown key; did you mean 'start'? allowed:"]),
    ("misspelt shock key", "[[shocks]]\ndate = 2023-10-07\nkind = \"regional_war\"\n"
     "size = 1\nhalf_life = 30\n", "shocks[0].half_life",
     ["did you mean 'half_life_days'? allowed: date, kind, size, half_life_days"]),
    ("shock missing size", "[[shocks]]\ndate = 2023-10-07\nkind = \"freeze\"\n",
     "shocks[0].size", ["required"]),
    ("shock end on a war", "[[shocks]]\ndate = 2023-10-07\nkind = \"regional_war\"\nsize = 1\n"
     "end = 2023-11-01\n", "shocks[0].end", ["allowed: date, kind, size, half_life_days"]),
    ("freeze ends before it starts", "[[shocks]]\ndate = 2023-10-07\nkind = \"freeze\"\n"
     "size = 1\nend = 2023-10-01\n", "shocks[0].end", ["before the shock's date"]),
    ("government restraint above 1", "[[shocks]]\ndate = 2022-10-27\n"
     "kind = \"iraq_government\"\nsize = 2\n", "shocks[0].size", ["outside [0, 1]"]),
    ("shocks not an array", "[shocks]\ndate = 2023-10-07\n", "shocks",
     ["expected an array of tables ([[shocks]])"]),
    ("period without rule", "[[us.periods]]\nstart = 2021-01-20\n", "us.periods[0].rule",
     ["required"]),
    ("period with other rule's parameter", "[[us.periods]]\nstart = 2021-01-20\n"
     "rule = \"red_line\"\nlevel = 3\n", "us.periods[0].level",
     ["rule 'red_line': deaths, wounded, size"]),
    ("unknown replay key", "[replay]\nforce = [\"us\"]\ndelete = [\"x\"]\n", "replay.delete",
     ["allowed: force, remove, add"]),
    ("unknown forced actor", "[replay]\nforce = [\"usa\"]\n", "replay.force[0]",
     ["unknown actor kind 'usa'", "us, militia, iran, iraq"]),
    ("added event with a bad action", "[[replay.add]]\ndate = 2020-06-01\nactor_kind = \"us\"\n"
     "action = \"invade\"\n", "replay.add[0].action", ["exit"]),
    ("added event with an unknown key", "[[replay.add]]\ndate = 2020-06-01\n"
     "actor_kind = \"us\"\naction = \"exit\"\nwhen = 1\n", "replay.add[0].when",
     ["unknown key"]),
    ("added militia event without actor", "[[replay.add]]\ndate = 2020-06-01\n"
     "actor_kind = \"militia\"\naction = \"attack\"\n", "replay.add[0].actor",
     ["kataib_hezbollah"]),
    ("added event with negative casualties", "[[replay.add]]\ndate = 2020-06-01\n"
     "actor = \"kataib_hezbollah\"\nactor_kind = \"militia\"\naction = \"attack\"\n"
     "us_killed = -1\n", "replay.add[0].us_killed", ["outside [0, "]),
]
_STARTS = {"end before start": ("2019-10-01", "2019-01-01"),
           "start outside dates": ("2018-01-01", "2024-12-31"),
           "bad date": ('"2019-13-01"', "2024-12-31"),
           "datetime": ("2019-10-01T12:00:00", "2024-12-31")}


#: Bad files a JSON Schema cannot see (no TOML parse; dates compared with the window): the
#: loader's own checks, in the same one-line form.
BEYOND_THE_SCHEMA = [
    ("bad TOML date", "[[shocks]]\ndate = 2023-10-07\nkind = \"freeze\"\nsize = 1\n"
     "[[shocks]]\ndate = 2023-13-01\nkind = \"freeze\"\nsize = 1\n", "shocks[1].date",
     ["2023-13-01 is not a date (YYYY-MM-DD)"]),
    ("shock after the end", "[[shocks]]\ndate = 2025-10-07\nkind = \"regional_war\"\n"
     "size = 1\n", "shocks[0].date",
     ["2025-10-07 is outside the scenario's window 2019-10-01..2024-12-31", "never happens"]),
    ("freeze over before the start", "[[shocks]]\ndate = 2019-02-01\nkind = \"freeze\"\n"
     "size = 1\nend = 2019-03-01\n", "shocks[0].end",
     ["2019-03-01 is outside the scenario's window 2019-10-01..2024-12-31"]),
    ("period after the end", "[[us.periods]]\nstart = 2025-03-01\nrule = \"restraint\"\n",
     "us.periods[0].start",
     ["2025-03-01 is outside the scenario's window 2019-10-01..2024-12-31", "never in force"]),
    ("added event before the start", "[[replay.add]]\ndate = 2019-06-01\nactor_kind = \"us\"\n"
     "action = \"exit\"\n", "replay.add[0].date",
     ["2019-06-01 is outside the scenario's window 2019-10-01..2024-12-31"]),
]


@pytest.mark.parametrize("case, extra, field, fragments", BEYOND_THE_SCHEMA,
                         ids=[c[0] for c in BEYOND_THE_SCHEMA])
def test_bad_dates_name_file_field_and_window(tmp_path, case, extra, field, fragments):
    path = write(tmp_path / "bad.toml", GOOD + extra)
    assert_input_error(raises(load_scenario, path), str(path), field, *fragments)


@pytest.mark.parametrize("case, extra, field, fragments", BAD_FILES, ids=[c[0] for c in BAD_FILES])
def test_bad_file_names_file_and_field(tmp_path, case, extra, field, fragments):
    text = GOOD + extra
    if case in _STARTS:
        start, end = _STARTS[case]
        text = f'name = "t"\nstart = {start}\nend = {end}\n' + extra
    path = write(tmp_path / "bad.toml", text)
    err = raises(load_scenario, path)
    assert_input_error(err, str(path), field, *fragments)


def test_malformed_toml(tmp_path):
    path = write(tmp_path / "bad.toml", 'name = "t"\nseed = 1 2\n')
    err = raises(load_scenario, path)
    assert_input_error(err, str(path), "line 2", "not valid TOML")
    path = write(tmp_path / "open.toml", 'name = "t"\nseed = [1,\n')
    err = raises(load_scenario, path)
    assert_input_error(err, str(path), None, "not valid TOML")


def test_missing_file(tmp_path):
    path = str(tmp_path / "nope.toml")
    assert_input_error(raises(load_scenario, path), path, None, "no such file")
    child = write(tmp_path / "child.toml", 'extends = "nope.toml"\n')
    assert_input_error(raises(load_scenario, child), str(child), "extends", "no such file",
                       "nope.toml")


def test_extends_cycle(tmp_path):
    a = write(tmp_path / "a.toml", 'extends = "b.toml"\n')
    write(tmp_path / "b.toml", 'extends = "a.toml"\n')
    err = raises(load_scenario, a)
    assert_input_error(err, str(tmp_path / "b.toml"), "extends",
                       "extends cycle: a.toml -> b.toml -> a.toml")
    me = write(tmp_path / "me.toml", 'extends = "me.toml"\n')
    assert_input_error(raises(load_scenario, me), str(me), "extends", "cycle")


@pytest.mark.parametrize("item, field, fragments", [
    ("us.rule", "us.rule", ["expected KEY=VALUE"]),
    ("us..rule=x", "us..rule", ["dotted path of names"]),
    ("shocks[0].size=2", "shocks[0].size", ["arrays are set whole"]),
])
def test_bad_set_syntax(item, field, fragments):
    err = raises(load_scenario, HISTORY, [item])
    assert_input_error(err, f"--set {item}", field, *fragments)
    err = raises(parse_set, [item])
    assert_input_error(err, f"--set {item}", field, *fragments)


@pytest.mark.parametrize("item, field, fragments", [
    ("us.levle=3", "us.levle", ["unknown key", "level"]),
    ("colour=3", "colour", ["unknown key"]),
    ("iran.anger.weight=3", "iran.anger", ["unknown key", "anger_weight"]),
    ("seed.x=3", "seed", ["not a table"]),
    ("militias.kataib_hezbolah.fighters=3", "militias.kataib_hezbolah", ["unknown faction"]),
    ("us.rule=red-line", "us.rule", ["unknown rule 'red-line'"]),
    ("iraq.condemn_probability=1.5", "iraq.condemn_probability", ["1.5 is outside [0, 1]"]),
    ("us.troops_iraq=abc", "us.troops_iraq", ["expected a number, got 'abc'"]),
    ("end=2019-01-01", "end", ["before start"]),
    ("extends=x.toml", "extends", ["cannot be set"]),
])
def test_bad_set_value_names_the_set(item, field, fragments):
    err = raises(load_scenario, HISTORY, [item])
    assert_input_error(err, f"--set {item}", field, *fragments)


def test_replay_remove_is_checked_against_the_record(tmp_path):
    record = pd.DataFrame({"event_id": ["2020-01-03-soleimani-strike", "2020-01-08-x"],
                           "actor_kind": ["us", "iran"]})
    path = write(tmp_path / "s.toml", '[replay]\nforce = ["us"]\n'
                                      'remove = ["2020-01-03-soleimani-strike"]\n')
    assert load_scenario(path, record=record).params.replay.remove == \
        ["2020-01-03-soleimani-strike"]
    path = write(tmp_path / "s.toml", '[replay]\nforce = ["us"]\nremove = ["2020-01-03-x"]\n')
    assert_input_error(raises(load_scenario, path, record=record), str(path),
                       "replay.remove[0]", "no documented event '2020-01-03-x'",
                       "2020-01-03-soleimani-strike")
    path = write(tmp_path / "s.toml", '[replay]\nforce = ["us"]\nremove = ["2020-01-08-x"]\n')
    assert_input_error(raises(load_scenario, path, record=record), str(path),
                       "replay.remove[0]", "does not force 'iran'")


def test_replay_until_is_a_day_inside_the_window(tmp_path):
    path = write(tmp_path / "s.toml", '[replay]\nforce = ["us"]\nuntil = 2021-06-30\n')
    assert load_scenario(path).params.replay.until == "2021-06-30"
    path = write(tmp_path / "s.toml", '[replay]\nforce = ["us"]\nuntil = "2019-01-01"\n')
    assert_input_error(raises(load_scenario, path), str(path), "replay.until",
                       "outside the scenario's window")
    path = write(tmp_path / "s.toml", '[replay]\nforce = ["us"]\nuntil = "soon"\n')
    assert_input_error(raises(load_scenario, path), str(path), "replay.until",
                       "expected a date (YYYY-MM-DD)")


def test_no_soleimani_strike_removes_a_documented_us_event():
    from calibration import load_record
    record = load_record()
    kinds = dict(zip(record["event_id"].astype(str), record["actor_kind"].astype(str)))
    assert kinds["2020-01-03-soleimani-strike"] == "us"
    load_scenario(SCENARIOS / "no_soleimani_strike.toml", record=record)   # checked, valid


def test_a_replay_without_the_record_says_how_to_give_it():
    from sim.run import run
    sc = load_scenario(SCENARIOS / "replay_us_strikes.toml")
    err = raises(run, sc, replicates=1)
    assert err.field == "replay" and "needs the documented record" in err.message


def test_rule_parameters_do_not_shadow_us_fields():
    us_fields = {f.name for f in dataclasses.fields(USParams)}
    for name, cls in REGISTRY.items():
        assert not us_fields & set(cls.parameters), name


# --- Property: bounds from sim.params, through --set -------------------------------------------

def _numeric_fields() -> list[tuple[str, float, float, bool]]:
    """(dotted path, lo, hi, integer) of every declared numeric parameter."""
    def of(cls, prefix):
        return [(f"{prefix}.{f.name}", f.metadata["lo"], f.metadata["hi"], f.metadata["integer"])
                for f in dataclasses.fields(cls)
                if "doc" in f.metadata and not isinstance(f.default, str)]
    rows = of(IranParams, "iran") + of(MilitiaCommon, "militias") + of(USParams, "us") \
        + of(IraqParams, "iraq")
    rows += [r for f in FACTIONS for r in of(FactionParams, f"militias.{f}")]
    rows += [r for w in WEAPON_KEYS for r in of(WeaponParams, f"weapons.{w}")]
    rows += [r for s in SITE_DEFAULTS for r in of(SiteParams, f"sites.{s}")]
    return rows


NUMERIC = _numeric_fields()
BASE = {"name": "prop", "seed": 1}


def _get(params: ModelParams, path: str):
    parts = path.split(".")
    if len(parts) == 3:
        table = {"militias": params.factions, "weapons": params.weapons,
                 "sites": params.sites}[parts[0]]
        return getattr(table[parts[1]], parts[2])
    return getattr({"iran": params.iran, "militias": params.militias, "us": params.us,
                    "iraq": params.iraq}[parts[0]], parts[1])


@st.composite
def in_bounds(draw):
    path, lo, hi, integer = draw(st.sampled_from(NUMERIC))
    value = draw(st.integers(int(lo), int(hi)) if integer
                 else st.floats(lo, hi, allow_nan=False))
    return path, value


@st.composite
def out_of_bounds(draw):
    path, lo, hi, integer = draw(st.sampled_from(NUMERIC))
    if integer:
        value = draw(st.integers(max_value=int(lo) - 1) | st.integers(min_value=int(hi) + 1))
    else:
        value = draw(st.floats(max_value=lo, exclude_max=True)
                     | st.floats(min_value=hi, exclude_min=True) | st.just(math.nan))
    return path, value


def test_numeric_fields_cover_every_table():
    assert len(NUMERIC) > 100 and all(lo is not None and hi is not None
                                      for _, lo, hi, _ in NUMERIC)


@settings(max_examples=150, deadline=None)
@given(in_bounds())
def test_any_in_bounds_value_round_trips_through_set(case):
    path, value = case
    sc = scenario_from_dict(BASE, overrides=[f"{path}={value!r}"])
    got = _get(sc.params, path)
    assert got == value and type(got) is type(value)
    # The resolved scenario, written to TOML-able data and read back, agrees.
    assert _get(scenario_from_dict(sc.resolved).params, path) == value


@settings(max_examples=150, deadline=None)
@given(out_of_bounds())
def test_any_out_of_bounds_value_is_an_input_error(case):
    path, value = case
    item = f"{path}={value!r}"
    with pytest.raises(InputError) as info:
        scenario_from_dict(BASE, overrides=[item])
    assert_input_error(info.value, f"--set {item}", path, "is outside [")


def test_resolved_holds_plain_values_only():
    sc = load_scenario(SCENARIOS / "us_exit_2020.toml", ["militias.fear_weight=2"])

    def leaves(value):
        if isinstance(value, dict):
            return [x for v in value.values() for x in leaves(v)]
        if isinstance(value, list):
            return [x for v in value for x in leaves(v)]
        return [value]
    # TOML and JSON both hold these (dates are ISO strings, no None, no NaN).
    assert all(isinstance(x, (str, int, float, bool)) for x in leaves(sc.resolved))
    assert json.loads(json.dumps(sc.resolved)) == sc.resolved
    assert sc.resolved["replay"]["add"][0]["date"] == "2020-06-01"


# --- Dated inputs outside the window ----------------------------------------------------------

def test_input_outside_an_inherited_window_is_an_error(tmp_path):
    """A child that adds a rule period after the window it inherits would run as the baseline:
    the error names the child, the field and the window."""
    child = write(tmp_path / "late.toml", f'extends = "{HISTORY}"\n'
                  '[[us.periods]]\nstart = 2025-03-01\nrule = "restraint"\n')
    err = raises(load_scenario, child)
    assert_input_error(err, str(child), "us.periods[0].start",
                       "outside the scenario's window 2019-10-01..2024-12-31")
    err = raises(load_scenario, HISTORY, ['shocks=[{date=2025-01-05, kind="freeze", size=1}]'])
    assert err.file.startswith("--set shocks=") and err.field == "shocks[0].date"


def test_a_window_cut_later_drops_inherited_inputs_silently(tmp_path):
    """--set end=... (or a child's end) cuts history.toml short; its 2023 shocks then simply
    do not happen, as documented."""
    short = load_scenario(HISTORY, ["end=2020-03-31"])
    assert short.end == pd.Timestamp("2020-03-31") and short.params.shocks
    child = write(tmp_path / "short.toml", f'extends = "{HISTORY}"\nend = 2021-12-31\n')
    assert load_scenario(child).end == pd.Timestamp("2021-12-31")
