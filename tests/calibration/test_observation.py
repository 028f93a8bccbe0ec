"""The observation model: which simulated attacks the record lists, drawn deterministically,
read by record targets and patterns but not by tallies; and tallies' bounds in the distance."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from calibration import observation as obs
from calibration import targets as tg
from calibration.patterns import pattern_values
from calibration.simulator import EngineSimulator, simulate_events
from sim.params import ObservationParams
from sim.scenario import load_scenario

START, END = "2021-01-01", "2022-12-31"


@pytest.fixture(scope="module")
def scenario():
    return load_scenario("scenarios/history.toml")


@pytest.fixture(scope="module")
def events(scenario):
    """Engine events of 12 replicates over two years, with the default observation model."""
    return simulate_events(scenario.params, pd.Timestamp(START), pd.Timestamp(END),
                           scenario.seed, np.arange(12))


def militia_attacks(ev):
    return ((ev["action"] == "attack") & (ev["actor_kind"] == "militia")).to_numpy()


def test_the_draw_does_not_depend_on_the_other_replicates_or_the_row_order(scenario, events):
    assert militia_attacks(events).sum() > 100
    seed = scenario.seed
    full = obs.documented(events, scenario.params.observation, seed)
    assert (full == events["documented"].to_numpy()).all()
    # one chunk alone, and the frame shuffled replicate by replicate
    part = events[events["replicate"].isin([3, 7, 11])]
    alone = obs.documented(part, scenario.params.observation, seed)
    assert (alone == full[part.index]).all()
    order = np.concatenate([np.flatnonzero(events["replicate"].to_numpy() == r)
                            for r in (11, 0, 7, 3, 5, 1, 2, 4, 6, 8, 9, 10)])
    shuffled = events.iloc[order]
    assert (obs.documented(shuffled, scenario.params.observation, seed) == full[order]).all()
    # the engine run in other chunks gives the same flags
    again = simulate_events(scenario.params, pd.Timestamp(START), pd.Timestamp(END), seed,
                            np.array([7, 3, 11]))
    for r in (3, 7, 11):
        assert (again.loc[again["replicate"] == r, "documented"].to_numpy()
                == events.loc[events["replicate"] == r, "documented"].to_numpy()).all()
    # and another seed draws differently
    assert (obs.documented(events, scenario.params.observation, seed + 1) != full).any()


def test_probability_one_keeps_everything_and_zero_drops_every_militia_attack(scenario, events):
    ones = dataclasses.replace(ObservationParams(), p_harmless=1.0, p_wounding=1.0, p_lethal=1.0)
    assert obs.documented(events, ones, scenario.seed).all()
    zeros = dataclasses.replace(ObservationParams(), p_harmless=0.0, p_wounding=0.0,
                                p_lethal=0.0, attention_max=0.0)
    kept = obs.documented(events, zeros, scenario.seed)
    attack = militia_attacks(events)
    assert not kept[attack].any()
    assert kept[~attack].all()               # strikes, Iran's, Baghdad's: always listed
    strikes = events["action"].isin(["strike", "leader_strike"]).to_numpy()
    assert strikes.sum() > 0 and kept[strikes].all()


def test_replayed_events_are_always_listed():
    ev = pd.DataFrame(dict(date=pd.to_datetime(["2021-01-01"] * 4), replicate=0,
                           actor_kind="militia", action="attack", us_killed=0,
                           coalition_killed=0, us_wounded=0, replayed=[1, 1, 0, 0]))
    zeros = dataclasses.replace(ObservationParams(), p_harmless=0.0, attention_max=0.0)
    assert obs.documented(ev, zeros).tolist() == [True, True, False, False]


def test_lethal_attacks_are_listed_more_often_than_harmless_ones_by_default():
    d = ObservationParams()
    assert d.p_lethal > d.p_wounding > d.p_harmless
    n = 4000
    ev = pd.DataFrame(dict(
        date=pd.Timestamp("2022-01-01") + pd.to_timedelta(np.arange(n) // 4 * 50, unit="D"),
        replicate=np.arange(n) % 4 + 10 * (np.arange(n) // 4), actor_kind="militia",
        action="attack", us_killed=np.arange(n) % 2, coalition_killed=0, us_wounded=0))
    kept = obs.documented(ev, d, seed=5)
    lethal = ev["us_killed"].to_numpy() > 0
    assert kept[lethal].mean() == 1.0
    assert kept[~lethal].mean() < 0.6       # p_harmless 0.5 plus a little attention


def test_attention_rises_with_recent_violence():
    """The same harmless attack is likelier listed after a month of attacks than alone."""
    quiet = pd.DataFrame(dict(date=[pd.Timestamp("2022-03-01")], replicate=0,
                              actor_kind="militia", action="attack", us_killed=0,
                              coalition_killed=0, us_wounded=0))
    busy = pd.concat([quiet.assign(date=pd.Timestamp("2022-02-01") + pd.Timedelta(days=d))
                      for d in range(28)] + [quiet], ignore_index=True)
    d = ObservationParams()
    p_quiet = obs.probabilities(quiet, d)[-1]
    p_busy = obs.probabilities(busy, d)[-1]
    assert p_quiet == pytest.approx(d.p_harmless)
    a = 28 / (28 + d.attention_scale) * d.attention_max
    assert p_busy == pytest.approx(1 - (1 - d.p_harmless) * (1 - a))


def test_per_replicate_overrides_follow_the_replicate_not_the_row(scenario, events):
    reps = np.arange(12)
    p = np.where(reps % 2 == 0, 1.0, 0.0)
    over = {"observation.p_harmless": p, "observation.p_wounding": p,
            "observation.p_lethal": p, "observation.attention_max": np.zeros(12),
            "militias.fear_weight": np.ones(12)}       # an engine path: ignored here
    kept = obs.documented(events, scenario.params.observation, scenario.seed, over, reps)
    even = (events["replicate"].to_numpy() % 2 == 0)
    attack = militia_attacks(events)
    assert kept[even].all() and not kept[~even & attack].any()
    with pytest.raises(Exception, match="no such parameter"):
        obs.documented(events, None, 0, {"observation.p_nothing": 0.5}, reps)


def test_record_targets_read_documented_attacks_and_tallies_all(scenario):
    tallies = pd.DataFrame([dict(tally_id="quiet", start=pd.Timestamp("2021-01-01"),
                                 end=pd.Timestamp("2022-12-31"), measure="attacks",
                                 scope="iraq_syria", count=50, count_high=pd.NA,
                                 bound="exact")])
    targets = [t for t in tg.default_targets(tallies, START, END)
               if t.name in ("tally:quiet", "freeze_attacks", "post_strike_ratio",
                             "documented_attacks_2021_2023")]
    names = [t.name for t in targets]
    sim = EngineSimulator(scenario.params, pd.Timestamp(START), pd.Timestamp(END),
                          scenario.seed, [_model("observation.p_harmless",
                                                 "observation.p_wounding",
                                                 "observation.attention_max")], targets)
    reps = np.arange(8)
    high = sim(0, np.tile([1.0, 1.0, 1.0], (8, 1)), reps)
    low = sim(0, np.tile([0.05, 0.05, 0.0], (8, 1)), reps)
    tally = names.index("tally:quiet")
    doc = names.index("documented_attacks_2021_2023")
    assert (high[:, tally] == low[:, tally]).all()          # tallies count every attack
    assert (high[:, doc] == high[:, tally]).all()          # all listed: the same count
    assert (low[:, doc] < 0.3 * high[:, doc]).all()        # few listed
    # patterns read the listed attacks too
    ev_all = sim.events(0, np.tile([1.0, 1.0, 1.0], (8, 1)), reps)
    ev_few = sim.events(0, np.tile([0.05, 0.05, 0.0], (8, 1)), reps)
    p_all = pattern_values(ev_all, START, END, reps)["attacks_2022"]
    p_few = pattern_values(ev_few, START, END, reps)["attacks_2022"]
    assert (p_few < p_all).all()


def _model(*names):
    from calibration.smc import Model, Parameter
    return Model("threshold", tuple(Parameter(n, "uniform", (0.0, 1.0)) for n in names))


# --- Bounds of tallies in the distance --------------------------------------------------------

def tally(bound, count=40.0, high=None):
    return tg.Target(f"tally:{bound}", "count", START, END, "attacks", fit=True,
                     observed=count if high is None else 0.5 * (count + high),
                     observed_high=high, observed_low=count, seen="all", bound=bound, clip=False)


def distance(t, sim_value):
    x = tg.transform([t], np.array([[sim_value]], dtype=float))
    o = tg.transform([t], np.array([[t.observed]], dtype=float))
    return float(abs(x - o)[0, 0])


def test_an_at_least_tally_below_the_simulation_is_no_distance():
    t = tally("at_least")
    assert distance(t, 55.0) == 0.0 and distance(t, 40.0) == 0.0
    assert distance(t, 30.0) == pytest.approx(np.sqrt(40) - np.sqrt(30))
    # with a range ("165-170"), at least the lower count
    assert distance(tally("at_least", 165, 170), 166.0) == 0.0
    # exact stays two-sided
    assert distance(tally("exact"), 55.0) == pytest.approx(np.sqrt(55) - np.sqrt(40))
    assert distance(tally("at_most"), 30.0) == 0.0 and distance(tally("at_most"), 50.0) > 0


def test_about_tolerates_the_rounding_of_a_published_count():
    t = tally("about")
    tol = tg.ABOUT_TOLERANCE * 40
    assert distance(t, 40 + 0.9 * tol) == 0.0 and distance(t, 40 - 0.9 * tol) == 0.0
    assert distance(t, 40 + 2 * tol) == pytest.approx(np.sqrt(40 + tol) - np.sqrt(40))


def test_coverage_respects_the_bound():
    from calibration.validate import coverage
    ts = [tally("at_least"), tally("exact"), tally("about")]
    sims = np.tile(np.arange(50.0, 101.0)[:, None], (1, 3))     # band ~52..98
    table = coverage(ts, np.array([40.0, 40.0, 40.0]), sims).set_index("target")
    assert table.loc["tally:at_least", "inside"]
    assert not table.loc["tally:exact", "inside"]
    assert not table.loc["tally:about", "inside"]               # 44 < 52.5
    below = coverage(ts, np.array([40.0] * 3), sims - 60.0).set_index("target")
    assert not below.loc["tally:at_least", "inside"]            # band -7.5..37.5: below 40
    assert not below.loc["tally:exact", "inside"]
    assert below.loc["tally:about", "inside"]                   # 36 <= 37.5


def test_load_tallies_has_the_bound():
    from calibration.record import load_tallies
    t = load_tallies()
    assert set(t["bound"]) <= {"exact", "at_least", "at_most", "about"}
    targets = {x.name: x for x in tg.default_targets(t)}
    assert targets["tally:2023-10-17-to-02-02-attacks"].bound == "at_least"
    assert targets["tally:2023-10-17-to-02-02-attacks"].seen == "all"
    assert targets["freeze_attacks"].seen == "documented"
