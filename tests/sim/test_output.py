"""The events table users get from a run: built column by column for speed (issue 12), it
is the same table, value for value and dtype for dtype, as the row-by-row definition."""

from __future__ import annotations

import pandas as pd
import pytest

from calibration import documented as the_record
from sim.batch import simulate
from sim.events import EVENT_COLUMNS, EXTRA_COLUMNS
from sim.model import EscalationModel
from sim.output import _events_frame_rows, events_frame
from sim.run import merge_outputs, run
from sim.scenario import load_scenario


def _engine(sc, replicates: int):
    return simulate(sc.params, sc.start, sc.end, sc.seed, range(replicates),
                    record_daily=False)


def test_events_table_equals_the_row_by_row_definition(small_scenario):
    out = _engine(load_scenario(small_scenario), 300)
    fast = events_frame(out)
    assert len(fast) > 10_000 and fast["replicate"].nunique() == 300
    assert list(fast.columns) == [*EVENT_COLUMNS, *EXTRA_COLUMNS, "replicate"]
    pd.testing.assert_frame_equal(fast, _events_frame_rows(out, out.events), check_exact=True)


def test_replayed_documented_events_keep_their_source():
    """Replayed record rows are their own kinds of event: ``source`` says so."""
    sc = load_scenario("scenarios/replay_us_strikes.toml", {"end": "2020-06-30"},
                       record=the_record())
    out = _engine(sc, 40)
    fast = events_frame(out)
    assert set(fast["source"]) == {"sim", "sim (documented, replayed)"}
    pd.testing.assert_frame_equal(fast, _events_frame_rows(out, out.events), check_exact=True)


def test_mesa_events_table_equals_the_definition(small_scenario):
    """Events merged from Mesa runs, and events out of (replicate, date) order, are sorted
    as the definition sorts them."""
    sc = load_scenario(small_scenario, {"end": "2020-06-30"})
    outputs = [EscalationModel(sc, seed=sc.seed, replicate=r).run().output() for r in range(3)]
    out = merge_outputs(outputs, "none")
    pd.testing.assert_frame_equal(events_frame(out), _events_frame_rows(out, out.events),
                                  check_exact=True)
    backwards = merge_outputs(outputs[::-1], "none")   # replicates 2, 1, 0 ... renumbered
    backwards.events = {c: v[::-1].copy() for c, v in backwards.events.items()}
    pd.testing.assert_frame_equal(events_frame(backwards),
                                  _events_frame_rows(backwards, backwards.events),
                                  check_exact=True)


@pytest.mark.parametrize("engine", ["batch", "mesa"])
def test_run_presence_outcomes_from_codes_equal_those_of_the_events_table(small_scenario,
                                                                          engine):
    """run() works out the presence outcomes from the engine's codes (presence_frame) and
    builds the events table on first use: the same outcomes as from the table."""
    from sim.outcomes import presence_outcomes
    sc = load_scenario(small_scenario)
    res = run(sc, replicates=3 if engine == "mesa" else 8, engine=engine)
    assert callable(res.__dict__["_events"])          # not built yet
    expected = presence_outcomes(res.events, sc.start, sc.end, res.summary["replicate"],
                                 res.summary["us_left_iraq_date"])
    assert not callable(res.__dict__["_events"])      # built once, kept
    got = res.summary.set_index(expected.index)[list(expected.columns)]
    pd.testing.assert_frame_equal(got, expected, check_exact=True)


def test_daily_levels_are_not_truncated_to_integers(small_scenario):
    """Iran's risk and the militias' excitement are levels, not counts: the daily table keeps
    their fractions, the same values the Mesa model's reporter gives for the same replicate."""
    from sim.output import daily_frame
    sc = load_scenario(small_scenario)
    daily = daily_frame(simulate(sc.params, sc.start, sc.end, sc.seed, range(2)))
    risk = daily.loc[daily["replicate"] == 0, "risk"].to_numpy()
    assert daily["risk"].dtype.kind == "f" and daily["excitement"].dtype.kind == "f"
    model = EscalationModel(sc, replicate=0)
    model.run()
    mesa_risk = model.datacollector.get_model_vars_dataframe()["risk"].to_numpy()
    assert len(risk) == len(mesa_risk)
    assert abs(risk - mesa_risk).max() < 1e-5   # float32 in the engine's table
