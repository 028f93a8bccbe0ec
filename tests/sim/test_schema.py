"""The declared file formats: the JSON Schema editors use agrees with the loader.

Every scenario and sweep spec shipped validates against ``escalation schema``; the bad
scenarios of test_scenario.py are rejected by it too, but for the few checks a schema of one
file cannot express (an order between two dates, a NaN).
"""

from __future__ import annotations

import datetime as dt
import json
import tomllib
from pathlib import Path

import pytest

from sim.cli import main as cli
from sim.schema import json_schema, validate_scenario
from test_scenario import _STARTS, BAD_FILES, GOOD

jsonschema = pytest.importorskip("jsonschema")

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.toml"))
SWEEPS = sorted((ROOT / "scenarios" / "sweeps").glob("*.toml"))
#: Bad scenarios whose fault only the loader sees: an order between two dates, and a NaN
#: (JSON has none, so JSON Schema's bounds do not speak of it).
BEYOND_A_SCHEMA = {"end before start", "freeze ends before it starts", "nan"}


def as_json(value):
    """TOML data as an editor's schema checker sees it (dates as strings)."""
    if isinstance(value, dict):
        return {k: as_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_json(v) for v in value]
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def validator(kind: str):
    schema = json_schema(kind)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


@pytest.mark.parametrize("path", SCENARIOS + SWEEPS, ids=lambda p: p.name)
def test_every_shipped_file_is_valid(path):
    kind = "sweep" if path.parent.name == "sweeps" else "scenario"
    data = as_json(tomllib.loads(path.read_text()))
    errors = [e.message for e in validator(kind).iter_errors(data)]
    assert not errors, f"{path.name}: {errors[:3]}"


@pytest.mark.parametrize("case, extra, field, fragments", BAD_FILES, ids=[c[0] for c in BAD_FILES])
def test_the_schema_rejects_the_bad_scenarios(case, extra, field, fragments):
    text = GOOD + extra
    if case in _STARTS:
        start, end = _STARTS[case]
        text = f'name = "t"\nstart = {start}\nend = {end}\n' + extra
    data = as_json(tomllib.loads(text))
    valid = validator("scenario").is_valid(data)
    assert valid == (case in BEYOND_A_SCHEMA), case


def test_a_child_may_set_its_parents_rule_parameters():
    # A file is checked alone: [us] without a rule inherits one, so any rule's keys pass.
    assert validator("scenario").is_valid({"extends": "history.toml", "us": {"deaths": 2}})
    assert not validator("scenario").is_valid({"us": {"rule": "threshold", "deaths": 2}})


def test_the_model_and_the_schema_see_the_same_bounds():
    schema = json_schema("scenario")
    props = schema["$defs"]["IraqParams"]["properties"]["condemn_probability"]
    assert (props["minimum"], props["maximum"]) == (0, 1)
    assert validate_scenario({"iraq": {"condemn_probability": 1}}) == \
        {"iraq": {"condemn_probability": 1.0}}


def test_cli_prints_the_schema(capsys, tmp_path):
    assert cli(["schema", "scenario"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["title"] == "escalation-sim scenario" and "militias" in schema["properties"]
    assert cli(["schema", "sweep", "--out", str(tmp_path / "sweep.json")]) == 0
    assert "design" in json.loads((tmp_path / "sweep.json").read_text())["properties"]
