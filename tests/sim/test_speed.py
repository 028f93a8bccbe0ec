"""The compiled engine (issue 12): same results as the release before it, run for run; the
event table grows as needed; the Mesa collector reports what its reporters would; run()'s
daily table modes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim import dynamics as dyn
from sim.agents import Militia
from sim.model import MODEL_REPORTERS, EscalationModel
from sim.run import run, write_result
from sim.scenario import load_scenario

#: Replicates 0-5 of ``small_scenario`` as the model of issue 10 gives them (Iran's risk,
#: stand-downs, contagion, raids, stormings, 1024 random counters a day). A change to the
#: engine that keeps the model (issue 12: the compiled days, the event table) must keep every
#: run; a change of the model updates these figures in the same commit.
BEFORE = {
    "attacks": [85, 126, 136, 93, 194, 108],
    "lethal_attacks": [3, 1, 1, 1, 0, 0],
    "us_killed": [4, 2, 2, 3, 0, 0],
    "us_wounded": [12, 15, 26, 11, 28, 18],
    "militia_killed": [9, 15, 7, 8, 25, 7],
    "strike_rounds": [4, 6, 7, 4, 11, 7],
    "condemnations": [4, 5, 2, 2, 4, 4],
    "days_at_rung5plus": [120, 165, 177, 95, 198, 149],
}
BEFORE_EVENTS = {"attack": 734, "condemnation": 21, "directive": 8, "negotiation": 4, "raid": 16,
                 "storming": 8, "strike": 39, "suspension": 12, "vote": 2}
BEFORE_DAILY_SUMS = {"sovereignty": 5469.94091796875, "fear": 526.8924560546875}


def test_results_identical_to_the_release_before(small_scenario):
    res = run(load_scenario(small_scenario), replicates=6)
    for column, values in BEFORE.items():
        assert res.summary[column].tolist() == values, column
    assert res.events.groupby("action").size().to_dict() == BEFORE_EVENTS
    for column, total in BEFORE_DAILY_SUMS.items():
        assert float(res.daily[column].sum()) == total


def test_event_table_grows_without_changing_the_events(small_scenario, monkeypatch):
    sc = load_scenario(small_scenario)
    roomy = run(sc, replicates=4, daily="none")
    monkeypatch.setattr(dyn.EventLog.__init__, "__defaults__", (1,))
    cramped = run(sc, replicates=4, daily="none")
    pd.testing.assert_frame_equal(roomy.events, cramped.events)
    mesa_ = run(sc, replicates=2, engine="mesa", daily="none")   # phase by phase

    def ordered(ev):   # Mesa's militias act in random order within a day
        cols = ["replicate", "date", "actor", "action", "weapon", "site", "rung"]
        return ev.sort_values(cols, kind="stable").reset_index(drop=True)
    pd.testing.assert_frame_equal(ordered(mesa_.events),
                                  ordered(roomy.events[roomy.events["replicate"] < 2]))


def test_mesa_collector_reports_what_the_reporters_say(small_scenario):
    """The collector keeps the day's state and computes the reporters' values later: the
    same values and types as calling each reporter on the live model."""
    m = EscalationModel(load_scenario(small_scenario), replicate=1)
    live = []
    for _ in range(300):
        m.step()
        m.day -= 1   # the reporters read the day just simulated, as collect() did
        live.append({k: f(m) for k, f in MODEL_REPORTERS.items()})
        m.day += 1
    frame = m.datacollector.get_model_vars_dataframe()
    pd.testing.assert_frame_equal(frame, pd.DataFrame(live))
    agents = m.datacollector.get_agenttype_vars_dataframe(Militia)
    assert len(agents) == 300 * 7
    last = agents.xs(300, level="Step")
    for a in m.agents_by_type[Militia]:
        row = last.loc[a.unique_id]
        assert row["fear"] == a.fear and row["arsenal"] == sum(a.arsenal.values())


def test_daily_summary_is_the_mean_of_the_full_table(small_scenario, tmp_path):
    sc = load_scenario(small_scenario)
    full = run(sc, replicates=5, daily="full", chunk_size=2)
    summary = run(sc, replicates=5, daily="summary", chunk_size=2)
    assert len(summary.daily) == (sc.end - sc.start).days + 1
    means = full.daily.drop(columns="replicate").groupby("date").mean()
    for column in ("attacks", "us_killed", "sovereignty", "fear", "present_iraq"):
        np.testing.assert_allclose(summary.daily[column].to_numpy(),
                                   means[column].to_numpy(), rtol=1e-6, atol=1e-9)
    pd.testing.assert_frame_equal(full.summary, summary.summary)
    none = run(sc, replicates=2, daily="none")
    out = write_result(none, tmp_path / "r", figure=False)
    assert not (out / "daily.parquet").exists() and (out / "events.parquet").exists()


def test_unknown_daily_mode_is_an_input_error(small_scenario):
    from sim.errors import InputError
    with pytest.raises(InputError):
        run(load_scenario(small_scenario), replicates=1, daily="weekly")


def test_columns_by_replicate_is_a_stable_sort_by_replicate():
    from sim import kernels as kn
    rng = np.random.default_rng(3)
    rows = rng.integers(-1, 50, (2000, len(dyn.EventLog.COLUMNS))).astype(np.int32)
    rows[:, 0] = rng.integers(0, 7, len(rows))
    count = 1500     # rows past the count (room not yet used) are left out
    got = kn.columns_by_replicate(rows, count)
    order = np.argsort(rows[:count, 0], kind="stable")
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, rows[:count][order].T.astype(np.int64))
