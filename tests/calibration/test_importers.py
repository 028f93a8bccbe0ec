"""Tests of ``calibration.importers``: ACLED and PLOVER rows mapped into record rows (actors,
actions, weapons, rungs through the shared ladder), unmapped rows kept with their reasons,
and the lookup tables in ``calibration/data`` consistent with the event vocabularies.
Fixtures are small exports written into ``tmp_path``."""

from __future__ import annotations

import csv
import json

import pandas as pd
import pytest

from calibration import load_record
from calibration.record import DATA_DIR
from calibration.importers import import_events, unmapped_path, write_import
from calibration.importers.common import actor_table, event_type_table, name_key
from sim import events as ev
from sim.errors import InputError

ACLED_COLUMNS = (
    "event_id_cnty,event_date,year,time_precision,disorder_type,event_type,sub_event_type,"
    "actor1,assoc_actor_1,inter1,actor2,assoc_actor_2,inter2,interaction,civilian_targeting,"
    "iso,region,country,admin1,admin2,admin3,location,latitude,longitude,geo_precision,"
    "source,source_scale,notes,fatalities,tags,timestamp").split(",")
US = "Military Forces of the United States (2021-)"


def acled(ident, date, event_type, sub, actor1, actor2, **cells):
    return {**dict.fromkeys(ACLED_COLUMNS, ""), "event_id_cnty": ident, "event_date": date,
            "year": date[:4], "time_precision": "1", "event_type": event_type,
            "sub_event_type": sub, "actor1": actor1, "actor2": actor2, "country": "Iraq",
            "fatalities": "0", "notes": f"note {ident}", "source": "Reuters", **cells}


ROCKETS = acled("IRQ1", "2024-01-20", "Explosions/Remote violence",
                "Shelling/artillery/missile attack", "Unidentified Armed Group (Iraq)", US,
                assoc_actor_1="Islamic Resistance in Iraq", location="Ain al Asad")
DRONE = acled("SYR2", "2023-10-19", "Explosions/Remote violence", "Air/drone strike",
              "Unidentified Armed Group (Syria)", US, country="Syria")
STRIKE = acled("IRQ3", "2024-02-02", "Explosions/Remote violence", "Air/drone strike", US,
               "Kata'ib Hizballah", fatalities="16", location="Al Qaim")
LETHAL = acled("JOR4", "2024-01-28", "Explosions/Remote violence", "Air/drone strike",
               "Islamic Resistance in Iraq", US, country="Jordan", fatalities="3",
               time_precision="2")
INTERCEPTED = acled("IRQ5", "2023-11-01", "Strategic developments", "Disrupted weapons use",
                    US, "Unidentified Armed Group (Iraq)")
ISIS_STRIKE = acled("IRQ6", "2024-03-01", "Explosions/Remote violence", "Air/drone strike",
                    US, "Islamic State (Iraq)")
EARLY = acled("IRQ7", "2019-05-01", "Explosions/Remote violence",
              "Shelling/artillery/missile attack", "Unidentified Armed Group (Iraq)", US)
PROTEST = acled("IRQ8", "2020-06-01", "Protests", "Peaceful protest", "Protesters (Iraq)", "")
LEBANON = acled("LBN9", "2024-01-02", "Explosions/Remote violence", "Air/drone strike",
                "Military Forces of Israel (2022-)", "Hezbollah", country="Lebanon")
IRAQ_CLASH = acled("IRQ10", "2021-05-01", "Battles", "Armed clash",
                   "Military Forces of Iraq (2018-2022)", US)


def write(path, rows, columns, delimiter=","):
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, delimiter=delimiter)
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture
def acled_file(tmp_path):
    return write(tmp_path / "acled.csv", [ROCKETS, DRONE, STRIKE, LETHAL, INTERCEPTED,
                                          ISIS_STRIKE, EARLY, PROTEST, LEBANON, IRAQ_CLASH],
                 ACLED_COLUMNS)


def by_source(result):
    return {r["source"]: r for r in result.rows}


def test_acled_rows_map_to_actors_actions_and_weapons(acled_file):
    result = import_events(acled_file, "acled")
    rows = by_source(result)
    assert set(rows) == {"ACLED:IRQ1", "ACLED:SYR2", "ACLED:IRQ3", "ACLED:JOR4", "ACLED:IRQ5"}
    # The claimed umbrella, named as associated actor, wins over the unidentified group.
    rockets = rows["ACLED:IRQ1"]
    assert (rockets["actor"], rockets["actor_kind"], rockets["action"], rockets["target"],
            rockets["weapon"], rockets["country"]) == (
        "islamic_resistance_in_iraq", "militia", "attack", "us", "rocket", "iraq")
    assert rows["ACLED:SYR2"]["actor"] == "unattributed"
    assert rows["ACLED:SYR2"]["country"] == "syria" and rows["ACLED:SYR2"]["weapon"] == "drone"
    strike = rows["ACLED:IRQ3"]
    assert (strike["actor"], strike["action"], strike["target"], strike["weapon"],
            strike["militia_killed"]) == ("us", "strike", "kataib_hezbollah", "air_strike",
                                          "16")
    # Attack deaths are not split by side in ACLED: casualty columns stay unknown, the total
    # is in the note, and a week-precise date is an estimate.
    lethal = rows["ACLED:JOR4"]
    assert lethal["us_killed"] == "" and "fatalities 3" in lethal["note"]
    assert lethal["estimate"] == "true" and rockets["estimate"] == "false"
    # Disrupted weapons use: either actor order, the militia is the one who fired.
    intercepted = rows["ACLED:IRQ5"]
    assert (intercepted["actor"], intercepted["action"], intercepted["intercepted"]) == (
        "unattributed", "attack", "true")
    assert all(r["source_quality"] == "tracker" for r in result.rows)
    assert rockets["event_id"] == "acled-IRQ1" and "Reuters" in rockets["note"]
    # Sites: an attack names the U.S. site, a strike the place struck (as the record does).
    assert rockets["site"] == "al_asad" and strike["site"] == "al_qaim"
    assert rows["ACLED:SYR2"]["site"] == ""          # no site named: unknown


def test_acled_unmapped_rows_have_reasons(acled_file):
    result = import_events(acled_file, "acled")
    reasons = {r["id"]: r["reason"] for r in result.unmapped}
    assert reasons["IRQ6"] == "unknown actor: Islamic State (Iraq)"
    assert reasons["IRQ7"].startswith("date outside window: 2019-05-01")
    assert reasons["IRQ8"] == "event type outside scope: Protests / Peaceful protest"
    assert reasons["LBN9"] == "country outside scope: 'Lebanon'"
    assert reasons["IRQ10"].startswith("no mapping for these sides: iraq vs us")
    lines = {r["id"]: r["line"] for r in result.unmapped}
    assert lines["IRQ6"] == "7"   # header = line 1
    assert len(result.rows) + len(result.unmapped) == 10   # nothing silently dropped
    assert result.summary().startswith("kept 5, unmapped 5: ")
    assert "unknown actor 1" in result.summary()


def test_written_file_loads_as_a_record_on_the_shared_ladder(acled_file, tmp_path):
    out, report = write_import(import_events(acled_file, "acled"), tmp_path / "mine.csv")
    assert report == tmp_path / "mine.unmapped.csv" == unmapped_path(out)
    record = load_record(out)
    assert len(record) == 5
    rows = record.set_index("source")
    assert rows.loc["ACLED:IRQ3", "rung"] == 5          # U.S. strike on militia facilities
    assert rows.loc["ACLED:IRQ1", "rung"] == 2          # harmless attack
    assert rows.loc["ACLED:IRQ3", "cameo"] == ev.attack_cameo("air_strike")[0]
    assert rows.loc["ACLED:IRQ1", "goldstein"] == ev.attack_cameo("rocket")[1]
    assert len(pd.read_csv(report)) == 5


def test_acled_old_date_format_and_tab_separated(tmp_path):
    row = {**ROCKETS, "event_date": "20 January 2024"}
    path = write(tmp_path / "acled.tsv", [row], ACLED_COLUMNS, delimiter="\t")
    result = import_events(path, "acled")
    assert [r["date"] for r in result.rows] == ["2024-01-20"]


def test_acled_duplicate_ids_are_reported_not_doubled(tmp_path):
    path = write(tmp_path / "acled.csv", [ROCKETS, ROCKETS], ACLED_COLUMNS)
    result = import_events(path, "acled")
    assert len(result.rows) == 1
    assert result.unmapped[0]["reason"] == "duplicate id: IRQ1 (line 2)"


@pytest.mark.parametrize("change, line, field, fragment", [
    ({"event_date": "2024-13-45"}, 3, "event_date", "is not a date"),
    ({"fatalities": "many"}, 3, "fatalities", "non-negative integer"),
    ({"time_precision": "x"}, 3, "time_precision", "non-negative integer"),
])
def test_acled_bad_cells_name_file_line_and_column(tmp_path, change, line, field, fragment):
    path = write(tmp_path / "acled.csv", [ROCKETS, {**DRONE, **change}], ACLED_COLUMNS)
    with pytest.raises(InputError) as info:
        import_events(path, "acled")
    assert (info.value.file, info.value.field) == (f"acled.csv:{line}", field)
    assert fragment in info.value.message


def test_acled_missing_column_is_named(tmp_path):
    columns = [c for c in ACLED_COLUMNS if c != "sub_event_type"]
    path = tmp_path / "acled.csv"
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerow(ROCKETS)
    with pytest.raises(InputError) as info:
        import_events(path, "acled")
    assert (info.value.file, info.value.field) == ("acled.csv:1", "sub_event_type")
    assert "missing column" in info.value.message


# --- PLOVER / POLECAT -------------------------------------------------------------------------

POLECAT_HEADER = ["Event ID", "Event Date", "Event Type", "Event Mode", "Contexts",
                  "Actor Name", "Actor Country", "Recipient Name", "Recipient Country",
                  "Country", "Placename"]


def polecat(ident, date, event_type, mode, actor, recipient, country="IRQ", place=""):
    return dict(zip(POLECAT_HEADER, [ident, date, event_type, mode, "military", actor, "",
                                     recipient, "", country, place]))


def test_polecat_rows_map_by_type_mode_and_direction(tmp_path):
    rows = [
        polecat("p1", "2024-01-28", "ASSAULT", "aerial", "Islamic Resistance in Iraq",
                "United States Armed Forces", "JOR", "Tower 22"),
        polecat("p2", "2024-02-02", "ASSAULT", "aerial", "United States",
                "Kata'ib Hezbollah", "IRQ", "Al-Qaim"),
        polecat("p3", "2024-02-03", "ACCUSE", "", "Government of Iraq", "United States"),
        polecat("p4", "2024-02-03", "AGREE", "", "Iraq", "United States"),
        polecat("p5", "2024-02-04", "ASSAULT", "", "Kata'ib Hezbollah", "Islamic State"),
        polecat("p6", "2024-02-05", "SANCTION", "", "United States", "Harakat al-Nujaba"),
    ]
    path = write(tmp_path / "polecat.tsv", rows, POLECAT_HEADER, delimiter="\t")
    result = import_events(path, "plover")
    got = {r["source"]: (r["actor"], r["action"], r["target"], r["weapon"], r["country"])
           for r in result.rows}
    assert got == {
        "PLOVER:p1": ("islamic_resistance_in_iraq", "attack", "us", "drone", "jordan"),
        "PLOVER:p2": ("us", "strike", "kataib_hezbollah", "air_strike", "iraq"),
        "PLOVER:p3": ("iraq", "condemnation", "us", "", "iraq"),
        "PLOVER:p6": ("us", "designation", "harakat_al_nujaba", "", "iraq"),
    }
    reasons = {r["id"]: r["reason"] for r in result.unmapped}
    assert reasons == {"p4": "event type outside scope: AGREE",
                       "p5": "unknown actor: Islamic State"}
    out, _ = write_import(result, tmp_path / "polecat.csv")
    record = load_record(out).set_index("source")
    assert record.loc["PLOVER:p3", "rung"] == 1 and record.loc["PLOVER:p2", "rung"] == 5


def test_plover_missing_column_and_bad_date(tmp_path):
    header = [h for h in POLECAT_HEADER if h != "Recipient Name"]
    path = tmp_path / "p.csv"
    path.write_text(",".join(header) + "\n")
    with pytest.raises(InputError) as info:
        import_events(path, "plover")
    assert (info.value.file, info.value.field) == ("p.csv:1", "recipient_name")
    bad = write(tmp_path / "q.csv", [polecat("p1", "28/01/2024", "ASSAULT", "", "Iran",
                                             "United States")], POLECAT_HEADER)
    with pytest.raises(InputError) as info:
        import_events(bad, "plover")
    assert (info.value.file, info.value.field) == ("q.csv:2", "event_date")


# --- Tables ----------------------------------------------------------------------------------

def test_actor_names_cover_the_factions_and_spellings():
    table = actor_table()
    mapped = {a.key for a in table.values() if a.kind == "militia"}
    assert set(ev.MILITIA_ACTORS) <= mapped
    for name, key in [("Kataib Hezbollah", "kataib_hezbollah"),
                      ("Kata\u2019ib Hizballah", "kataib_hezbollah"),
                      ("KATAIB HEZBOLLAH", "kataib_hezbollah"),
                      ("Military Forces of the United States (2025-)", "us"),
                      ("Military Forces of Iraq (2022-)", "iraq")]:
        assert table[name_key(name)].key == key, name
    raw = pd.read_csv(DATA_DIR / "actor_names.csv", dtype=str, keep_default_na=False)
    assert raw["dataset"].isin(["acled", "plover", "any"]).all()   # each name's source
    assert (raw["note"] != "").all()


def test_site_spellings_name_sites_of_the_record():
    from calibration import load_sites
    from calibration.importers.common import site_of, site_table
    assert {site for _, site in site_table()} <= set(load_sites()["site"])
    assert site_of("attack", "Al Baghdadi") == "al_asad"
    assert site_of("attack", "Rukban", "Drone hits Tower 22 near Rukban") == "tower_22"
    assert site_of("attack", "Baghdad", "Rockets hit Victory Base at Baghdad airport") == \
        "baghdad_airport"
    assert site_of("strike", "Jurf al-Sakhar") == "jurf_al_sakhar"
    assert site_of("statement", "Baghdad") == ""


def test_event_type_tables_load_for_both_datasets():
    for dataset in ("acled", "plover"):
        rows = event_type_table(dataset)
        assert rows and all(r.action in ev.ACTIONS[r.actor_kind] for r in rows)


def test_plover_json_lines(tmp_path):
    """PLOVER's own interchange format: one JSON record per line, actors as objects."""
    lines = [
        {"id": "j1", "date": "2024-01-28", "event": ["ASSAULT"], "mode": ["aerial"],
         "source": [{"code": "IRQ", "sector": "PRM", "actor_text": "Islamic Resistance in Iraq"}],
         "recipient": [{"code": "USA", "sector": "MIL"}],
         "event_loc": {"name": "Tower 22", "cc3": "JOR"}, "text": "A drone hit Tower 22."},
        {"id": "j2", "date": "2024-02-02", "event": "ASSAULT",
         "source": [{"code": "USA", "sector": "MIL"}],
         "recipient": [{"code": "IRQ", "sector": "PRM", "identifier_text": "Kata'ib Hezbollah"}],
         "event_loc": {"name": "Al-Qaim", "cc3": "IRQ"}, "dead": 16},
        {"id": "j3", "date": "2024-02-03", "event": ["ASSAULT"],
         "source": [{"code": "IRQ", "sector": "REB"}], "recipient": [{"code": "USA"}],
         "event_loc": {"cc3": "IRQ"}},
    ]
    path = tmp_path / "plover.jsonl"
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    result = import_events(path, "plover")
    rows = by_source(result)
    assert (rows["PLOVER:j1"]["actor"], rows["PLOVER:j1"]["action"], rows["PLOVER:j1"]["site"],
            rows["PLOVER:j1"]["country"], rows["PLOVER:j1"]["weapon"]) == (
        "islamic_resistance_in_iraq", "attack", "tower_22", "jordan", "drone")
    assert (rows["PLOVER:j2"]["target"], rows["PLOVER:j2"]["militia_killed"]) == (
        "kataib_hezbollah", "16")
    # An armed group coded only by its country is not taken for the Iraqi state.
    assert [r["reason"] for r in result.unmapped] == ["unknown actor: (no actor named)"]
    assert len(load_record(write_import(result, tmp_path / "p.csv")[0])) == 2


@pytest.mark.parametrize("text, line, field, fragment", [
    ('{"id": "a", "date": "2024-01-01", "event": "ASSAULT", "source": "Iran"}\nnot json\n',
     2, None, "not a JSON object"),
    ('{"id": "a", "event": "ASSAULT", "source": "Iran"}\n', 1, "date", "missing field"),
    ('{"id": "a", "date": "2024-31-01", "event": "ASSAULT", "source": "Iran"}\n', 1,
     "event_date", "is not a date"),
])
def test_plover_json_bad_lines(tmp_path, text, line, field, fragment):
    path = tmp_path / "p.jsonl"
    path.write_text(text)
    with pytest.raises(InputError) as info:
        import_events(path, "plover")
    assert (info.value.file, info.value.field) == (f"p.jsonl:{line}", field)
    assert fragment in info.value.message
