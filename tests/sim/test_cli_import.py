"""Tests of ``escalation import``: an export becomes a record file and an unmapped report,
with the printed summary; bad input exits 2 with one line naming file, line and column and
writes nothing (called in-process, as ``tests/sim/test_cli_record.py`` does)."""

from __future__ import annotations

import csv

import pandas as pd
import pytest

from calibration import load_record
from sim.cli import main

ACLED_COLUMNS = (
    "event_id_cnty,event_date,year,time_precision,disorder_type,event_type,sub_event_type,"
    "actor1,assoc_actor_1,inter1,actor2,assoc_actor_2,inter2,interaction,civilian_targeting,"
    "iso,region,country,admin1,admin2,admin3,location,latitude,longitude,geo_precision,"
    "source,source_scale,notes,fatalities,tags,timestamp").split(",")
US = "Military Forces of the United States (2021-)"


def acled(ident, date, sub, actor1, actor2, **cells):
    return {**dict.fromkeys(ACLED_COLUMNS, ""), "event_id_cnty": ident, "event_date": date,
            "year": date[:4], "time_precision": "1", "event_type": "Explosions/Remote violence",
            "sub_event_type": sub, "actor1": actor1, "actor2": actor2, "country": "Iraq",
            "fatalities": "0", "notes": f"note {ident}", **cells}


ROCKETS = acled("IRQ1", "2020-01-20", "Shelling/artillery/missile attack",
                "Unidentified Armed Group (Iraq)", US)
DRONE = acled("IRQ2", "2021-04-14", "Air/drone strike", "Unidentified Armed Group (Iraq)", US)
STRIKE = acled("IRQ3", "2021-06-27", "Air/drone strike", US, "Kataib Hezbollah",
               fatalities="4")
ISIS_STRIKE = acled("IRQ4", "2022-03-01", "Air/drone strike", US, "Islamic State (Iraq)")


def write(path, rows, columns):
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture
def export(tmp_path):
    return write(tmp_path / "acled.csv", [ROCKETS, DRONE, STRIKE, ISIS_STRIKE], ACLED_COLUMNS)


def test_import_writes_record_and_report(export, tmp_path, capsys):
    out = tmp_path / "out" / "mine.csv"
    assert main(["import", str(export), "--format", "acled", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "kept 3, unmapped 1: unknown actor 1" in text
    assert len(load_record(out)) == 3
    report = pd.read_csv(tmp_path / "out" / "mine.unmapped.csv")
    assert list(report["reason"]) == ["unknown actor: Islamic State (Iraq)"]
    # An existing file is kept unless --force.
    assert main(["import", str(export), "--format", "acled", "--out", str(out)]) == 2
    assert "exists; give --force" in capsys.readouterr().err
    assert main(["import", str(export), "--format", "acled", "--out", str(out),
                 "--force"]) == 0


def one_error_line(capsys) -> str:
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


@pytest.mark.parametrize("case, expected", [
    ("header", "escalation import: acled.csv:1: actor2: missing column"),
    ("date", "escalation import: acled.csv:3: event_date: '2024-02-30' is not a date"),
    ("width", "escalation import: acled.csv:3: 30 cells but the header has 31 columns"),
])
def test_bad_input_exits_2_and_writes_nothing(tmp_path, capsys, case, expected):
    path = tmp_path / "acled.csv"
    if case == "header":
        columns = [c for c in ACLED_COLUMNS if c != "actor2"]
        with path.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
            writer.writeheader()
            writer.writerows([ROCKETS, DRONE])
    else:
        write(path, [ROCKETS, {**DRONE, "event_date": "2024-02-30"} if case == "date"
                     else DRONE], ACLED_COLUMNS)
        if case == "width":
            lines = path.read_text().splitlines()
            lines[2] = lines[2].rsplit(",", 1)[0]
            path.write_text("\n".join(lines) + "\n")
    out = tmp_path / "mine.csv"
    assert main(["import", str(path), "--format", "acled", "--out", str(out)]) == 2
    assert one_error_line(capsys).startswith(expected)
    assert not out.exists() and not (tmp_path / "mine.unmapped.csv").exists()


def test_missing_file_and_bad_out(tmp_path, capsys, export):
    assert main(["import", str(tmp_path / "nope.csv"), "--format", "plover",
                 "--out", str(tmp_path / "x.csv")]) == 2
    assert "nope.csv: no such file" in one_error_line(capsys)
    assert main(["import", str(export), "--format", "acled",
                 "--out", str(tmp_path / "x.parquet")]) == 2
    assert "--out: " in one_error_line(capsys)


def test_import_then_calibrate_against_the_file(export, tmp_path, capsys):
    """The imported rows reach the fitted targets: the record column of the report is the
    file's (one strike round in 2021, none in 2019-2020), not calibration/data's."""
    record = tmp_path / "mine.csv"
    assert main(["import", str(export), "--format", "acled", "--out", str(record)]) == 0
    out = tmp_path / "cal"
    assert main(["calibrate", "--record", str(record), "--budget", "40", "--population", "20",
                 "--seed", "3", "--out", str(out)]) == 0
    for name in ("posterior.parquet", "calibrated.toml", "manifest.json", "report.md"):
        assert (out / name).is_file(), name
    report = (out / "report.md").read_text()
    assert "| strike_rounds_2019_2020 | 0 |" in report
    assert "| strike_rounds_2021_2023 | 1 |" in report
    assert f"--record {record}" in (out / "calibrated.toml").read_text()


def test_calibrate_bad_record_exits_2_and_writes_nothing(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("event_id,date\nx,2020-01-01\n")
    out = tmp_path / "cal"
    assert main(["calibrate", "--record", str(bad), "--budget", "40", "--population", "20",
                 "--out", str(out)]) == 2
    assert one_error_line(capsys).startswith("escalation calibrate: bad.csv:1: actor: missing")
    assert not out.exists()


def test_a_spreadsheet_is_refused_in_one_line(tmp_path, capsys):
    sheet = tmp_path / "acled.xlsx"
    sheet.write_bytes(b"PK\x03\x04\x14\x00\x06\x00\xff\xfe\x80binary")
    assert main(["import", str(sheet), "--format", "acled", "--out",
                 str(tmp_path / "x.csv")]) == 2
    assert one_error_line(capsys) == (
        "escalation import: acled.xlsx: not UTF-8 text; an ACLED export is read as CSV or "
        "TSV (save a spreadsheet as CSV UTF-8)")
    assert not (tmp_path / "x.csv").exists()
