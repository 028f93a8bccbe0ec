"""The record holds the documented events the project exists to explain, from the seeds."""

import pandas as pd
import pytest

from calibration import load_record, load_tallies

SEED_EVENTS = [  # (date, actor, action, site, seed file)
    ("2019-12-27", "kataib_hezbollah", "attack", "k1", "001_f5a8a94412535d4e.txt"),
    ("2019-12-29", "us", "strike", None, "001_f5a8a94412535d4e.txt"),
    ("2019-12-31", "kataib_hezbollah", "storming", "baghdad_embassy", "001_f5a8a94412535d4e.txt"),
    ("2020-01-03", "us", "leader_strike", "baghdad_airport", "001_f5a8a94412535d4e.txt"),
    ("2020-01-08", "iran", "state_attack", "al_asad", "004_ee22bb034a8b2be9.txt"),
    ("2020-03-11", "kataib_hezbollah", "attack", "taji", "001_f5a8a94412535d4e.txt"),
    ("2020-03-13", "us", "strike", None, "001_f5a8a94412535d4e.txt"),
    ("2021-02-15", None, "attack", "erbil_airport", "001_f5a8a94412535d4e.txt"),
    ("2021-02-25", "us", "strike", None, "001_f5a8a94412535d4e.txt"),
    ("2021-04-14", None, "attack", "erbil_airport", "001_f5a8a94412535d4e.txt"),
    ("2021-06-27", "us", "strike", None, "001_f5a8a94412535d4e.txt"),
    ("2021-07-07", None, "attack", "al_asad", "001_f5a8a94412535d4e.txt"),
    ("2024-01-20", None, "attack", "al_asad", "000_a0ed2b5f01c76508.txt"),
    ("2024-01-24", "us", "strike", None, "000_a0ed2b5f01c76508.txt"),
    ("2024-01-24", "iraq", "condemnation", None, "000_a0ed2b5f01c76508.txt"),
    ("2024-01-28", None, "attack", "tower_22", "002_08fee3dbeaaca217.txt"),
    ("2024-01-29", "iraq", "condemnation", None, "002_08fee3dbeaaca217.txt"),
]


@pytest.fixture(scope="module")
def record():
    return load_record()


@pytest.mark.parametrize("date, actor, action, site, seed", SEED_EVENTS)
def test_seed_event_is_in_the_record_with_its_seed_as_source(record, date, actor, action,
                                                            site, seed):
    rows = record[(record["date"] == pd.Timestamp(date)) & (record["action"] == action)]
    if actor:
        rows = rows[rows["actor"] == actor]
    if site:
        rows = rows[rows["site"] == site]
    assert len(rows) >= 1, f"{date} {actor} {action} {site} missing"
    assert rows["source"].str.contains(seed, regex=False).any()


def test_lethal_attacks_carry_the_documented_tolls(record):
    attacks = record[record["action"] == "attack"].set_index("event_id")
    lethal = attacks[(attacks["us_killed"].fillna(0) + attacks["coalition_killed"].fillna(0)) > 0]
    assert {"2019-12-27-k1-rocket-attack", "2020-03-11-taji-rocket-attack",
            "2021-02-15-erbil-rocket-attack", "2024-01-28-tower-22-drone-attack"} <= set(
        lethal.index)
    k1 = record[(record["date"] == "2019-12-27") & (record["site"] == "k1")].iloc[0]
    assert k1["us_killed"] == 1 and k1["us_wounded"] == 4          # 001: 1 killed, 4 wounded
    taji = record[(record["date"] == "2020-03-11") & (record["site"] == "taji")].iloc[0]
    assert taji["us_killed"] == 2 and taji["coalition_killed"] == 1  # 001/004: 2 U.S., 1 UK
    t22 = record[(record["date"] == "2024-01-28") & (record["site"] == "tower_22")].iloc[0]
    assert t22["us_killed"] == 3 and t22["us_wounded"] >= 34        # 002: 3 killed, 34+ hurt


def test_seed_tallies_are_kept(record):
    tallies = load_tallies()
    seed = tallies[tallies["source"].str.contains("000_a0ed2b5f01c76508.txt", regex=False)]
    counts = set(seed["count"].astype(int))
    assert 70 in counts and 144 in counts   # 000: "a minimum of 70" in Iraq; the 144th attack
