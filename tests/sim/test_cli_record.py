"""Tests of ``escalation record``: the summary, ``--out`` tables, the ``--plot`` figure, and
exit code 2 with one line naming file, line and field on bad data (called in-process)."""

from __future__ import annotations

import csv

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from calibration import load_record
from sim.cli import main
from sim.plots.style import dodge

COLUMNS = ("event_id,date,actor,actor_kind,action,target,weapon,site,country,intercepted,"
           "us_killed,us_wounded,coalition_killed,militia_killed,iraqi_killed,civilian_killed,"
           "us_wounded_high,militia_killed_high,iraqi_killed_high,estimate,description,source,"
           "source_quality,note").split(",")


def event(event_id, date, actor, kind, action, **cells):
    return {**dict.fromkeys(COLUMNS, ""), "event_id": event_id, "date": date, "actor": actor,
            "actor_kind": kind, "action": action, "estimate": "false", "source": "test",
            "source_quality": "other", **cells}


EVENTS = [
    event("a1", "2019-12-20", "unattributed", "militia", "attack", weapon="rocket",
          site="al_asad", country="iraq"),
    event("a2", "2019-12-27", "kataib_hezbollah", "militia", "attack", weapon="rocket",
          site="k1", country="iraq", us_killed="1", us_wounded="4"),
    event("s1", "2019-12-29", "us", "us", "strike", target="kataib_hezbollah",
          weapon="air_strike", site="al_qaim", country="iraq", militia_killed="25"),
    event("s2", "2019-12-29", "us", "us", "strike", target="kataib_hezbollah",
          weapon="air_strike", site="abu_kamal", country="syria"),
    event("l1", "2020-01-03", "us", "us", "leader_strike", target="kataib_hezbollah",
          weapon="air_strike", site="baghdad_airport", country="iraq", militia_killed="10"),
    event("v1", "2020-01-05", "iraq", "iraq", "vote", target="us"),
    event("i1", "2020-01-08", "iran", "iran", "state_attack", target="us",
          weapon="ballistic_missile", site="al_asad", country="iraq", us_wounded="110"),
    event("s3", "2020-06-01", "us", "us", "strike", target="kataib_hezbollah",
          weapon="air_strike", country="iraq"),
]


def write(path, rows, columns):
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture
def data(tmp_path):
    """A small data directory with the files the command reads."""
    folder = tmp_path / "data"
    folder.mkdir()
    write(folder / "events.csv", EVENTS, COLUMNS)
    write(folder / "tallies.csv", [{
        "tally_id": "t1", "start": "2019-10-01", "end": "2019-12-31", "measure": "attacks",
        "scope": "iraq", "count": "11", "count_high": "12", "bound": "exact", "source": "test",
        "note": ""}],
        "tally_id,start,end,measure,scope,count,count_high,bound,source,note".split(","))
    write(folder / "episodes.csv", [{
        "episode_id": "p1", "start": "2019-12-27", "end": "2020-01-08",
        "label": "Soleimani crisis", "source": "test"}],
        "episode_id,start,end,label,source".split(","))
    return folder


def test_summary_and_tables_on_fixture(data, tmp_path, capsys):
    out = tmp_path / "tables"
    assert main(["record", "--data", str(data), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "Documented record: 8 events, 2019-12-20 .. 2020-06-01" in text
    for heading in ("Events by year", "Events by action", "Deaths by year", "strike rounds",
                    "Tallies"):
        assert heading in text
    rounds = pd.read_csv(out / "strike_rounds.csv")
    assert list(rounds["date"]) == ["2019-12-29", "2020-01-03", "2020-06-01"]
    first = rounds.iloc[0]
    # Both same-day strikes form one round, answering the two attacks of the 14 days before.
    assert (first["strikes"], first["militia_killed"], first["attacks_14d"]) == (2, 25, 2)
    assert first["killed_14d"] == 1 and first["days_after"] == 2
    assert first["lethal_attack"] == "2019-12-27 k1: 1 killed"
    assert rounds.iloc[1]["leaders"] == "yes"
    assert rounds.iloc[2]["attacks_14d"] == 0 and pd.isna(rounds.iloc[2]["lethal_attack"])
    deaths = pd.read_csv(out / "deaths_by_year.csv", index_col=0)
    assert deaths.loc["2019", "militia_killed"] == 25
    assert deaths.loc["total", "us_wounded"] == 114
    years = pd.read_csv(out / "events_by_year.csv", index_col=0)
    assert years.loc["total", "total"] == 8 and years.loc["2020", "iran"] == 1


def test_plot_on_fixture(data, tmp_path):
    png = tmp_path / "fig" / "x.png"
    assert main(["record", "--data", str(data), "--plot", str(png)]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert png.stat().st_size > 20_000


def test_plot_on_real_data(tmp_path, capsys):
    png = tmp_path / "x.png"
    assert main(["record", "--plot", str(png)]) == 0
    assert png.stat().st_size > 50_000 and png.read_bytes()[:4] == b"\x89PNG"
    text = capsys.readouterr().out
    assert f"Documented record: {len(load_record())} events" in text


def test_bad_events_file_exits_2_with_one_line(data, tmp_path, capsys):
    rows = [EVENTS[0], {**EVENTS[1], "actor_kind": "milita"}]
    bad = write(tmp_path / "events.csv", rows, COLUMNS)
    png = tmp_path / "x.png"
    out = tmp_path / "tables"
    code = main(["record", "--data", str(data), "--events", str(bad), "--plot", str(png),
                 "--out", str(out)])
    assert code == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("escalation record: events.csv:3: actor_kind: ")
    assert "militia, us, iraq, iran" in lines[0]
    assert not png.exists() and not out.exists()    # bad input writes nothing


def test_bad_tallies_file_names_it(data, capsys):
    path = data / "tallies.csv"
    path.write_text(path.read_text().replace("2019-12-31", "2019-09-01"))
    assert main(["record", "--data", str(data)]) == 2
    assert "tallies.csv:2: end:" in capsys.readouterr().err


@settings(deadline=None)   # a wall-clock deadline fails on a busy machine, not on a bug
@given(st.lists(st.tuples(st.floats(0, 1000), st.floats(0.1, 50)), max_size=30))
def test_dodged_death_labels_never_overlap(labels):
    """The figure's lethal labels rely on dodge: in order, edge to edge at worst."""
    labels = sorted(labels)
    xs, widths = [x for x, _ in labels], [w for _, w in labels]
    placed = dodge(xs, widths)
    for i in range(1, len(placed)):
        assert placed[i] - widths[i] / 2 >= placed[i - 1] + widths[i - 1] / 2 - 1e-6
    # A label moves only as far as its crowd needs: never more than the crowd is wide.
    assert all(abs(p - x) <= sum(widths) + 1e-6 for p, x in zip(placed, xs))


def test_record_option_reads_another_file(data, tmp_path, capsys):
    """``--record FILE`` summarises and plots that file (an import's output, say)."""
    mine = write(tmp_path / "mine.csv", EVENTS[:3], COLUMNS)
    png = tmp_path / "mine.png"
    assert main(["record", "--record", str(mine), "--data", str(data), "--plot", str(png)]) == 0
    text = capsys.readouterr().out
    assert f"Record file {mine}: 3 events, 2019-12-20 .. 2019-12-29" in text
    assert png.stat().st_size > 20_000
    assert main(["record", "--record", str(tmp_path / "none.csv")]) == 2
    assert "none.csv: no such file" in capsys.readouterr().err


def test_coverage_tables_show_gaps_and_tally_shortfall(data, tmp_path, capsys):
    out = tmp_path / "tables"
    png = tmp_path / "fig" / "record.png"
    assert main(["record", "--data", str(data), "--out", str(out), "--plot", str(png)]) == 0
    text = capsys.readouterr().out
    assert "Coverage: rows per quarter by actor kind and by source quality" in text
    assert "against the record rows they count" in text
    months = pd.read_csv(out / "coverage_by_month.csv", index_col="month")
    assert len(months) == 63 and months.index[0] == "2019-10" and months.index[-1] == "2024-12"
    assert list(months.columns) == ["militia", "us", "iraq", "iran", "official",
                                    "major_outlet", "tracker", "other", "total"]
    assert months.loc["2019-12"].to_dict() == {
        "militia": 2, "us": 2, "iraq": 0, "iran": 0, "official": 0, "major_outlet": 0,
        "tracker": 0, "other": 4, "total": 4}
    assert months.loc["2020-02", "total"] == 0            # a gap is a row of zeros
    assert months["total"].sum() == len(EVENTS)
    tallies = pd.read_csv(out / "tally_coverage.csv")
    first = tallies.iloc[0]
    # t1: 11 attacks in Iraq in Q4 2019; the fixture lists two of them.
    assert (first["tally_id"], first["count"], first["record"], first["share"]) == (
        "t1", 11, 2, 0.18)
    coverage = tmp_path / "fig" / "record.coverage.png"
    assert coverage.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert coverage.stat().st_size > 20_000


def test_tally_coverage_counts_like_the_calibration():
    """The record column is the value calibration.targets computes on the record's rows."""
    from calibration import load_tallies
    from calibration import targets as tg
    from sim.commands.record import tally_coverage
    events, tallies = load_record(), load_tallies()
    table = tally_coverage(events, tallies).set_index("tally_id")
    series = tg.daily_series(events, "2019-10-01", "2024-12-31")
    for target in tg.default_targets(tallies):
        if target.name.startswith("tally:"):
            expected = target.compute(series)[0]
            assert table.loc[target.name.removeprefix("tally:"), "record"] == expected
    assert pd.isna(table.loc["2024-02-02-strike-targets", "record"])   # no model series
