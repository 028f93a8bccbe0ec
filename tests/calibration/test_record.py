"""Tests of ``calibration.record``: the real data load cleanly, and each kind of bad row is
reported with its ``file:line`` and column (fixtures are written into ``tmp_path``)."""

from __future__ import annotations

import csv

import pandas as pd
import pytest

from calibration import load_episodes, load_factions, load_record, load_sites, load_tallies
from calibration.record import (EpisodeRow, EventRow, FactionRow, RECORD_EXTRA_COLUMNS,
                                SiteRow, TallyRow)
from sim import events as ev
from sim.errors import InputError

EVENT = {
    "event_id": "e1", "date": "2019-12-27", "actor": "kataib_hezbollah",
    "actor_kind": "militia", "action": "attack", "target": "us", "weapon": "rocket",
    "site": "k1", "country": "iraq", "intercepted": "false", "us_killed": "0",
    "us_wounded": "4", "coalition_killed": "0", "militia_killed": "", "iraqi_killed": "",
    "civilian_killed": "", "us_wounded_high": "", "militia_killed_high": "",
    "iraqi_killed_high": "", "estimate": "false", "description": "Rockets on K1",
    "source": "seed 001", "source_quality": "major_outlet", "note": "",
}
STRIKE = {**EVENT, "event_id": "e2", "date": "2019-12-29", "actor": "us", "actor_kind": "us",
          "action": "strike", "target": "kataib_hezbollah", "weapon": "air_strike",
          "site": "al_qaim", "intercepted": "", "us_wounded": "", "militia_killed": "25",
          "militia_killed_high": "26", "description": "Strikes on KH"}
TALLY = {"tally_id": "t1", "start": "2023-10-17", "end": "2024-02-04", "measure": "attacks",
         "scope": "iraq_syria_jordan", "count": "170", "count_high": "180", "bound": "at_least",
         "source": "DoD", "note": ""}
FACTION = {"faction": "kataib_hezbollah", "name": "Kataib Hezbollah", "founded": "2007",
           "leaders": "Abu Mahdi al-Muhandis", "fighters_low": "7000", "fighters_high": "10000",
           "weapons": "rocket;drone", "us_designation": "FTO 2009", "in_seeds": "true",
           "source": "seed 003", "note": ""}
SITE = {"site": "al_asad", "name": "Al-Asad Air Base", "country": "iraq", "troops_low": "1000",
        "troops_high": "2000", "source": "DoD", "note": ""}
EPISODE = {"episode_id": "p1", "start": "2019-12-27", "end": "2020-01-08",
           "label": "Soleimani crisis", "source": "seed 001"}


def write(path, rows, columns=None):
    """Write dict rows as a CSV (header = line 1) and return the path."""
    columns = columns or list(rows[0])
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def raises_at(load, path, line, field, *fragments):
    """Assert ``load(path)`` raises InputError at ``path.name:line`` on ``field``."""
    with pytest.raises(InputError) as info:
        load(path)
    err = info.value
    assert err.file == f"{path.name}:{line}", str(err)
    assert err.field == field, str(err)
    for fragment in fragments:
        assert fragment in err.message, str(err)
    assert "\n" not in str(err)
    return err


# --- The real data ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def record():
    return load_record()


def test_real_record_has_the_contract_columns(record):
    contract = list(ev.EVENT_COLUMNS) + list(ev.EXTRA_COLUMNS)
    assert list(record.columns) == contract + list(RECORD_EXTRA_COLUMNS)
    assert len(record) > 20
    assert pd.api.types.is_datetime64_any_dtype(record["date"])
    assert str(record["us_killed"].dtype) == "Int64"


def test_real_record_rows_are_sourced_ranked_and_in_the_window(record):
    assert record["source"].str.strip().str.len().gt(0).all()
    assert record["rung"].between(ev.RUNG_MIN, ev.RUNG_MAX).all()
    assert record["date"].between("2019-10-01", "2024-12-31").all()
    assert record["event_id"].is_unique
    assert record["date"].is_monotonic_increasing
    # Known anchors of the ladder: the Tower 22 attack (3 U.S. killed) is rung 4 and the
    # strike that killed Soleimani and al-Muhandis is rung 6.
    assert (record.loc[record["action"].eq("attack") & record["us_killed"].fillna(0).gt(0),
                       "rung"] == 4).all()
    assert record.loc[record["date"].eq("2020-01-03") & record["action"].eq("leader_strike"),
                      "rung"].eq(6).any()


def test_real_tables_load():
    tallies = load_tallies()
    assert (tallies["end"] >= tallies["start"]).all() and len(tallies) > 0
    assert len(load_factions()) >= 7
    assert len(load_sites()) > 0
    episodes = load_episodes()
    assert episodes["label"].str.len().gt(0).all() and len(episodes) > 0


# --- Valid fixtures -----------------------------------------------------------------------

def test_fixture_record_is_typed_classified_and_sorted(tmp_path):
    path = write(tmp_path / "events.csv", [STRIKE, EVENT])
    record = load_record(path)
    assert list(record["event_id"]) == ["e1", "e2"]
    assert list(record["rung"]) == [3, 5]      # wounding attack; strike on facilities
    assert list(record["cameo"]) == ["194", "195"]
    assert not record.loc[0, "intercepted"]     # False, not NA (bool(NA) raises)
    assert pd.isna(record.loc[1, "intercepted"])
    assert record.loc[1, "militia_killed_high"] == 26
    assert pd.isna(record.loc[0, "militia_killed"])


def test_lines_count_the_header_and_multiline_cells(tmp_path):
    long = {**EVENT, "event_id": "e0", "description": "two\nlines"}
    bad = {**STRIKE, "actor_kind": "milita"}
    path = write(tmp_path / "events.csv", [long, EVENT, bad])
    # header = line 1, e0 = lines 2-3, e1 = line 4, the bad row = line 5
    raises_at(load_record, path, 5, "actor_kind", "'milita'", "militia, us, iraq, iran")


def test_blank_lines_are_skipped_but_counted(tmp_path):
    path = write(tmp_path / "events.csv", [EVENT])
    path.write_text(path.read_text() + "\n" + ",".join(
        {**EVENT, "event_id": "e9", "date": "2025-01-01"}.values()) + "\n")
    raises_at(load_record, path, 4, "date")


# --- One test per kind of bad row ---------------------------------------------------------

@pytest.mark.parametrize("column, value, fragments", [
    ("date", "2019-13-01", ["not a date"]),
    ("date", "27/12/2019", ["YYYY-MM-DD"]),
    ("date", "2019-09-30", ["outside", "2019-10-01..2024-12-31"]),
    ("date", "2025-01-01", ["outside"]),
    ("actor_kind", "milita", ["not one of militia, us, iraq, iran"]),
    ("actor", "kataib_hizbollah", ["not a militia actor", "kataib_hezbollah"]),
    ("actor", "iran", ["not a militia actor"]),
    ("action", "bombing", ["not one of", "attack"]),
    ("action", "strike", ["not an action of actor_kind 'militia'", "storming"]),
    ("weapon", "katyusha", ["not one of", "rocket", "or empty"]),
    ("country", "kuwait", ["not one of", "syria"]),
    ("target", "isis", ["not one of"]),
    ("intercepted", "yes", ["true, false or empty"]),
    ("estimate", "", ["not true or false"]),
    ("us_killed", "-1", ["non-negative integer"]),
    ("us_wounded", "2.5", ["non-negative integer"]),
    ("militia_killed", "some", ["non-negative integer"]),
    ("source", "  ", ["must not be empty"]),
    ("source_quality", "blog", ["not one of official, major_outlet, tracker, other"]),
    ("source_quality", "", ["not one of"]),
    ("event_id", "", ["must not be empty"]),
])
def test_bad_event_cell(tmp_path, column, value, fragments):
    path = write(tmp_path / "events.csv", [STRIKE, {**EVENT, column: value}])
    raises_at(load_record, path, 3, column, *fragments)


def test_us_actor_must_be_us(tmp_path):
    path = write(tmp_path / "events.csv", [{**STRIKE, "actor": "kataib_hezbollah"}])
    raises_at(load_record, path, 2, "actor", "must be 'us'")


@pytest.mark.parametrize("column", ["us_wounded", "militia_killed", "iraqi_killed"])
def test_high_estimate_below_main(tmp_path, column):
    path = write(tmp_path / "events.csv", [{**EVENT, column: "5", f"{column}_high": "4"}])
    raises_at(load_record, path, 2, f"{column}_high", "below", column)


def test_duplicate_event_id(tmp_path):
    path = write(tmp_path / "events.csv", [EVENT, STRIKE, {**STRIKE, "event_id": "e1"}])
    raises_at(load_record, path, 4, "event_id", "repeats line 2")


def test_missing_and_unknown_columns(tmp_path):
    columns = [c for c in EVENT if c != "weapon"]
    path = write(tmp_path / "events.csv", [EVENT], columns)
    raises_at(load_record, path, 1, "weapon", "missing column")
    path = write(tmp_path / "events.csv", [{**EVENT, "weapn": "x"}], list(EVENT) + ["weapn"])
    raises_at(load_record, path, 1, "weapn", "unknown column")


def test_ragged_row(tmp_path):
    path = write(tmp_path / "events.csv", [EVENT])
    path.write_text(path.read_text() + "e2,2020-01-01\n")
    raises_at(load_record, path, 3, None, "cells")


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        load_record(tmp_path / "nope.csv")


# --- The other files ----------------------------------------------------------------------

@pytest.mark.parametrize("row, field, fragments", [
    ({**TALLY, "end": "2023-10-01"}, "end", ["before start"]),
    ({**TALLY, "count": "-3"}, "count", ["non-negative integer"]),
    ({**TALLY, "count": ""}, "count", ["non-negative integer"]),
    ({**TALLY, "count_high": "150"}, "count_high", ["below count"]),
    ({**TALLY, "scope": "region"}, "scope", ["iraq_syria_jordan"]),
    ({**TALLY, "source": ""}, "source", ["must not be empty"]),
    ({**TALLY, "bound": "roughly"}, "bound", ["exact, at_least, at_most, about"]),
])
def test_bad_tally(tmp_path, row, field, fragments):
    path = write(tmp_path / "tallies.csv", [TALLY, {**row, "tally_id": "t2"}])
    raises_at(load_tallies, path, 3, field, *fragments)


def test_tallies_are_typed(tmp_path):
    tallies = load_tallies(write(tmp_path / "tallies.csv", [TALLY]))
    assert list(tallies.columns) == list(TallyRow.model_fields)
    assert tallies.loc[0, "start"] == pd.Timestamp("2023-10-17")
    assert tallies.loc[0, "count"] == 170


@pytest.mark.parametrize("load, name, good, column, value, fragments", [
    (load_factions, "factions.csv", FACTION, "faction", "hezbollah", ["kataib_hezbollah"]),
    (load_factions, "factions.csv", FACTION, "fighters_high", "100", ["below fighters_low"]),
    (load_factions, "factions.csv", FACTION, "weapons", "rocket;tank", ["'tank'"]),
    (load_factions, "factions.csv", FACTION, "in_seeds", "yes", ["true or false"]),
    (load_sites, "sites.csv", SITE, "country", "", ["not one of"]),
    (load_sites, "sites.csv", SITE, "troops_low", "many", ["non-negative integer"]),
    (load_sites, "sites.csv", SITE, "troops_high", "10", ["below troops_low"]),
    (load_episodes, "episodes.csv", EPISODE, "end", "2019-12-01", ["before start"]),
    (load_episodes, "episodes.csv", EPISODE, "label", "", ["must not be empty"]),
])
def test_bad_reference_rows(tmp_path, load, name, good, column, value, fragments):
    path = write(tmp_path / name, [{**good, column: value}])
    raises_at(load, path, 2, column, *fragments)


def test_reference_tables_have_their_columns(tmp_path):
    for load, model, row, name in [(load_factions, FactionRow, FACTION, "factions.csv"),
                                   (load_sites, SiteRow, SITE, "sites.csv"),
                                   (load_episodes, EpisodeRow, EPISODE, "episodes.csv")]:
        table = load(write(tmp_path / name, [row]))
        assert list(table.columns) == list(model.model_fields)
        assert len(table) == 1


def test_event_row_model_matches_the_file_columns():
    expected = ("event_id,date,actor,actor_kind,action,target,weapon,site,country,intercepted,"
                "us_killed,us_wounded,coalition_killed,militia_killed,iraqi_killed,"
                "civilian_killed,us_wounded_high,militia_killed_high,iraqi_killed_high,"
                "estimate,description,source,source_quality,note").split(",")
    assert list(EventRow.model_fields) == expected
