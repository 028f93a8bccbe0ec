"""timeline.png as a newcomer reads it: rungs by name, strike rounds as rounds, tallies as
counts over their periods with their bound, the title of the scenario actually shown."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from calibration import documented
from sim.metrics import daily_measures
from sim.plots.ensemble import (attack_tallies, simulated_period_counts, timeline_figure)
from sim.plots.style import RUNG_TICKS
from sim.run import run
from sim.scenario import load_scenario


@pytest.fixture(scope="module")
def record():
    return documented()


def _run(path, record, overrides=None):
    return run(load_scenario(path, overrides, record=record), replicates=3, engine="batch")


def _axes(fig):
    return {ax.get_ylabel().split("\n")[0]: ax for ax in fig.axes if ax.get_ylabel()}


def test_level_axis_shows_rungs_0_to_7_by_name(small_scenario, record):
    fig = timeline_figure(_run(small_scenario, record))
    level = _axes(fig)["escalation level"]
    labels = [t.get_text() for t in level.get_yticklabels()]
    assert labels == [RUNG_TICKS[r] for r in range(8)]
    assert labels[2] == "2 non-damaging attack or storming" and labels[7].startswith("7 state")
    assert level.get_ylim()[1] < 8


def test_title_names_the_scenario_shown_and_no_stale_numbers(small_scenario, record):
    plain = timeline_figure(_run(small_scenario, record))._suptitle.get_text()
    assert plain.startswith("small: 3 simulated replicates") and "~170" not in plain
    changed = timeline_figure(_run(small_scenario, record, ["us.rule=red_line"]))
    assert changed._suptitle.get_text().startswith("small with us.rule=red_line:")
    sc = load_scenario(small_scenario, record=record)
    sc.params.militias.fear_weight = 0.5
    fig = timeline_figure(run(sc, replicates=2))
    assert fig._suptitle.get_text().startswith("small (parameters changed in code):")


def test_subtitle_counts_the_records_listed_attacks(record):
    """The subtitle says how many attack rows the record lists, from the record itself."""
    sc = load_scenario("history", ["end=2020-06-30"], record=record)
    text = timeline_figure(run(sc, replicates=2))._suptitle.get_text()
    ev = record.events
    window = ev[(ev["date"] >= sc.start) & (ev["date"] <= sc.end)]
    listed = int(window["action"].isin(["attack", "state_attack"]).sum())
    assert f"The record lists {listed} attacks (militias' and Iran's)" in text


def test_a_strike_round_is_a_day_with_strikes_on_record_and_simulation_alike():
    rows = pd.DataFrame({
        "date": pd.to_datetime(["2020-01-03", "2020-01-03", "2020-01-03", "2020-03-12"]),
        "action": ["strike", "leader_strike", "strike", "strike"],
        "actor_kind": ["us"] * 4, "us_killed": 0, "coalition_killed": 0, "rung": 5,
    })
    rec = daily_measures(rows, "2020-01-01", "2020-03-31")
    assert rec["strike_rounds"].sum() == 2          # three rows on one day: one round
    sim = daily_measures(rows.assign(replicate=[0, 0, 0, 1]), "2020-01-01", "2020-03-31",
                         np.array([0, 1]))
    assert list(sim["strike_rounds"].sum(axis=0)) == [1, 1]


def test_tallies_are_compared_with_the_simulated_count_of_the_same_period(record):
    daily = np.zeros((10, 2))
    daily[2, 0], daily[5, 0], daily[9, 1] = 1, 2, 4
    periods = pd.DataFrame({"start": pd.to_datetime(["2020-01-03", "2020-01-04"]),
                            "end": pd.to_datetime(["2020-01-06", "2020-01-10"])})
    counts = simulated_period_counts(daily, "2020-01-01", periods)
    assert counts.tolist() == [[3, 0], [2, 4]]
    t = attack_tallies(record.tallies, pd.Timestamp("2019-10-01"), pd.Timestamp("2024-12-31"))
    assert len(t) and set(t["scope"]) <= {"iraq_syria", "iraq_syria_jordan"}
    assert set(t["bound"]) <= {"exact", "about", "at_least"}


def test_tally_panel_draws_the_counts_with_their_bound(record):
    sc = load_scenario("history", ["start=2023-09-01", "end=2024-03-31"], record=record)
    fig = timeline_figure(run(sc, replicates=3))
    ax = _axes(fig)["attacks in a documented"]
    words = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "at least (a lower bound)" in words
    assert any("simulated attacks in the same period" in w for w in words)
    tallies = attack_tallies(record.tallies, sc.start, sc.end)
    segments = [c for c in ax.collections if len(c.get_segments()) == len(tallies)]
    levels = sorted(seg[0][1] for seg in segments[0].get_segments())
    assert levels == sorted(tallies["count"].astype(float))
