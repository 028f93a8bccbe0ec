"""Fixtures for the model tests: small scenarios written to a temporary folder."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

#: Militias that never act on their own: no attacks, no stormings after strikes.
QUIET_FACTIONS = "[militias]\nstorming_probability = 0.0\n" + "\n".join(
    f"[militias.{f}]\nbase_attack_rate = 0.0\n"
    for f in ("kataib_hezbollah", "kataib_sayyid_al_shuhada", "harakat_al_nujaba",
              "asaib_ahl_al_haq", "kataib_imam_ali", "jund_al_imam", "ansar_allah_al_awfiya"))


@pytest.fixture
def write_scenario(tmp_path: Path):
    """Write a scenario TOML from text and return its path."""
    def write(text: str, name: str = "s.toml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text))
        return path
    return write


@pytest.fixture
def small_scenario(write_scenario) -> Path:
    """Two years, the threshold rule, a regional shock: quick to run, with events."""
    return write_scenario("""
        name = "small"
        description = "two years for tests"
        start = 2019-10-01
        end = 2021-09-30
        seed = 11
        [us]
        rule = "threshold"
        [[shocks]]
        date = 2020-06-01
        kind = "regional_war"
        size = 1.5
    """)


@pytest.fixture
def scripted_scenario(write_scenario):
    """A scenario whose militias never attack on their own, plus scripted attacks
    (``replay.add``): the U.S. rule meets exactly the attacks a test wants."""
    def make(rule: str, attacks: list[dict], rule_params: str = "", extra: str = "") -> Path:
        adds = "\n".join(
            "[[replay.add]]\n" + "\n".join(
                f"{k} = {v!r}" if isinstance(v, str) else f"{k} = {v}"
                for k, v in {"actor": "kataib_hezbollah", "actor_kind": "militia",
                             "action": "attack", "weapon": "rocket", "site": "al_asad",
                             "country": "iraq", **a}.items())
            for a in attacks)
        return write_scenario(f"""
name = "scripted"
description = "scripted attacks"
start = 2020-01-01
end = 2020-12-31
seed = 3
[us]
rule = "{rule}"
lag_days = 2
{rule_params}
{QUIET_FACTIONS}
{extra}
{adds}
""")
    return make
