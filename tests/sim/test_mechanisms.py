"""The mechanisms of issue 10, each doing what it says: Iran weighs risk against anger and
orders a stand-down that factions obey unequally, escalation feeds on itself, fewer troops
mean fewer attacks, Baghdad raids, strikes in Iraq can bring a storming, the U.S. climbs a
ladder, blame falls on the faction the record names most, a truce cuts the war's tension."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim import dynamics as dyn
from sim.arrays import ParamArrays, Timeline, shock_series
from sim.batch import simulate
from sim.events import FACTIONS
from sim.rules import Observation, make_rule
from sim.scenario import scenario_from_dict

ROOT = Path(__file__).resolve().parents[2]
KH, NUJABA = FACTIONS.index("kataib_hezbollah"), FACTIONS.index("harakat_al_nujaba")


def scenario(start="2023-01-01", end="2023-12-31", **tables):
    data = {"name": "t", "start": start, "end": end, "seed": 7, **tables}
    return scenario_from_dict(data)


def run(sc, n=200, events=False):
    return simulate(sc.params, sc.start, sc.end, sc.seed, np.arange(n), record_events=events,
                    record_daily=True)


def state_after(sc, n=4):
    """A state and parameters ready for the phases of one day."""
    p = ParamArrays(sc.params, n, Timeline(sc.start, sc.end))
    from sim.rng import replicate_keys
    return dyn.State.initial(p, replicate_keys(sc.seed, range(n))), p


def test_risk_turns_iran_to_restrain_and_factions_obey_by_their_compliance():
    sc = scenario(militias={"kataib_hezbollah": {"compliance": 1.0},
                            "harakat_al_nujaba": {"compliance": 0.0}})
    s, p = state_after(sc)
    s.rec["risk"] = 5.0               # e.g. after U.S. deaths the proxies caused
    dyn.iran_phase(s, p, 0, None)
    assert (s.directive == 0).all() and (s.order_day == 0).all()
    dyn.militia_phase(s, p, 0, None)
    assert (s.obeying[:, KH] == 1).all()
    assert (s.obeying[:, NUJABA] == 0).all()
    # The order ends with the restrain directive: the factions are free again.
    s.rec["risk"] = 0.0
    dyn.iran_phase(s, p, 1, None)
    dyn.militia_phase(s, p, 1, None)
    assert (s.directive == 1).all() and (s.obeying == 0).all()


def test_factions_obey_as_closely_as_they_follow_irans_directive():
    """Without a documented stand-down, a faction's compliance is its alignment: the
    factions closest to Iran obey its order most often. Over many runs of one order the
    share that obeys tracks each faction's alignment; Kataib Hezbollah keeps the record's."""
    from sim.params import FACTION_DEFAULTS
    sc = scenario()
    s, p = state_after(sc, n=4000)
    s.rec["risk"] = 5.0
    dyn.iran_phase(s, p, 0, None)
    dyn.militia_phase(s, p, 0, None)
    share = s.obeying.mean(axis=0)
    for f, name in enumerate(FACTIONS):
        expected = 0.9 if name == "kataib_hezbollah" else FACTION_DEFAULTS[name]["alignment"]
        assert abs(share[f] - expected) < 0.03, (name, share[f], expected)
    assert share[NUJABA] > share[FACTIONS.index("kataib_imam_ali")]


def test_a_changed_alignment_carries_the_compliance_unless_the_record_documents_it():
    """A scenario (or --set) that makes Nujaba follow Iran less makes it obey less too;
    Kataib Hezbollah's compliance is the record's and stays; a compliance the scenario sets
    wins. A sweep over the alignment moves the compliance the same way."""
    sc = scenario(militias={"harakat_al_nujaba": {"alignment": 0.3},
                            "kataib_hezbollah": {"alignment": 0.5},
                            "asaib_ahl_al_haq": {"alignment": 0.2, "compliance": 0.7}})
    f = sc.params.factions
    assert f["harakat_al_nujaba"].compliance == 0.3
    assert f["kataib_hezbollah"].compliance == 0.9
    assert f["asaib_ahl_al_haq"].compliance == 0.7
    swept = np.array([0.1, 0.8])
    p = ParamArrays(scenario().params, 2, Timeline(sc.start, sc.end),
                    {"militias.harakat_al_nujaba.alignment": swept,
                     "militias.kataib_hezbollah.alignment": swept})
    assert p.faction["compliance"][:, NUJABA].tolist() == swept.tolist()
    assert p.faction["compliance"][:, FACTIONS.index("kataib_hezbollah")].tolist() == [0.9, 0.9]


def test_us_deaths_raise_irans_risk_and_iran_never_stands_down_when_it_cannot():
    lethal = {"weapons": {"rocket": {"lethal_probability": 0.5},
                          "drone": {"lethal_probability": 0.5}},
              "militias": {"attack_rate_scale": 5.0},
              "iran": {"risk_per_us_death": 5.0, "risk_weight": 1.0}}
    out = run(scenario(**lethal), n=50)
    assert (out.daily["directive"] == 0).any()
    assert out.summary["stand_downs"].sum() > 0
    never = run(scenario(**{**lethal, "iran": {**lethal["iran"], "can_stand_down": 0}}), n=50)
    assert not (never.daily["directive"] == 0).any()
    assert never.summary["stand_downs"].sum() == 0


def test_contagion_makes_bursts():
    calm = run(scenario(start="2021-01-01", end="2022-12-31",
                        militias={"contagion_branching": 0.0}), n=300)
    hot = run(scenario(start="2021-01-01", end="2022-12-31",
                       militias={"contagion_branching": 0.8,
                                 "contagion_half_life_days": 21.0}), n=300)

    def dispersion(out):
        daily = pd.DataFrame(out.daily["attacks"], index=pd.date_range("2021-01-01",
                                                                        "2022-12-31"))
        monthly = daily.resample("MS").sum().to_numpy()
        return np.median(monthly.var(axis=0, ddof=1) / np.maximum(monthly.mean(axis=0), 1e-9))

    assert hot.summary["attacks"].mean() > 1.5 * calm.summary["attacks"].mean()
    assert dispersion(hot) > dispersion(calm) + 0.5


def test_fewer_troops_fewer_attacks():
    full = run(scenario(us={"exposure_elasticity": 1.0}))
    half = run(scenario(us={"exposure_elasticity": 1.0},
                        shocks=[{"date": "2023-01-01", "kind": "us_troops_iraq", "size": 1250},
                                {"date": "2023-01-01", "kind": "us_troops_syria",
                                 "size": 450}]))
    ratio = half.summary["attacks"].mean() / full.summary["attacks"].mean()
    assert 0.3 < ratio < 0.75
    deaf = run(scenario(us={"exposure_elasticity": 0.0},
                        shocks=[{"date": "2023-01-01", "kind": "us_troops_iraq", "size": 1250}]))
    assert deaf.summary["attacks"].mean() == pytest.approx(full.summary["attacks"].mean(),
                                                           rel=0.15)


def test_baghdad_raids_under_pressure_and_never_without_effort():
    busy = {"militias": {"attack_rate_scale": 4.0}}
    raids = run(scenario(iraq={"raid_rate": 0.2, "restraint": 0.5}, **busy), n=50, events=True)
    assert raids.summary["raids"].sum() > 0
    ev = raids.events
    rows = ev["action"] == dyn.A["raid"]
    assert (ev["actor"][rows] == dyn.IRAQ_GOV).all()
    none = run(scenario(iraq={"raid_rate": 0.0, "restraint": 0.5}, **busy), n=50)
    assert none.summary["raids"].sum() == 0


def test_a_strike_in_iraq_can_bring_a_storming():
    sc = scenario(start="2019-12-01", end="2020-01-31",
                  militias={"storming_probability": 1.0, "storming_grievance": 0.0},
                  us={"rule": "tit_for_tat", "syria_share": 0.0})
    out = run(sc, n=40, events=True)
    assert out.summary["stormings"].sum() > 0
    ev = out.events
    storm = ev["action"] == dyn.A["storming"]
    assert (ev["country"][storm] == dyn.IRAQ).all()
    no = run(scenario(start="2019-12-01", end="2020-01-31",
                      militias={"storming_probability": 0.0},
                      us={"rule": "tit_for_tat", "syria_share": 0.0}), n=40)
    assert no.summary["stormings"].sum() == 0


def obs(**kw):
    n = 3
    base = dict(day=0, attacks_today=np.ones(n), killed_today=np.zeros(n),
                wounded_today=np.zeros(n), attacks_since_strike=np.ones(n),
                killed_since_strike=np.zeros(n), wounded_since_strike=np.zeros(n),
                harm=np.full(n, 20.0), days_since_strike=np.ones(n),
                strikes_so_far=np.zeros(n), iraq_sovereignty=np.zeros(n),
                harm_long=np.full(n, 20.0))
    base.update({k: None if v is None else np.asarray(v, dtype=float) for k, v in kw.items()})
    return Observation(**base)


def test_the_ladder_climbs_from_facilities_to_leaders_to_a_large_round():
    rule = make_rule("ladder", {"level": 10, "size": 2, "leader_level": 100,
                                "large_deaths": 3, "large_size": 20})
    r = rule.respond(obs(harm=[5, 20, 20], harm_long=[5, 150, 150],
                         killed_since_strike=[0, 0, 3]), np.zeros(3))
    assert r.strike.tolist() == [False, True, True]
    assert r.leaders.tolist() == [False, True, False]
    assert r.size.tolist() == [0.0, 2.0, 20.0]
    # Without a long memory in the observation it reads the harm since the last strike.
    r = rule.respond(obs(harm=[20, 120, 120], harm_long=None,
                         killed_since_strike=[0, 0, 0]), np.zeros(3))
    assert r.leaders.tolist() == [False, True, True]


def test_the_history_rule_reaches_leader_strikes():
    from sim.scenario import load_scenario
    sc = load_scenario(ROOT / "scenarios" / "history.toml")
    assert sc.params.us.rule == "ladder"
    out = run(sc, n=100)
    assert out.summary["leader_strikes"].sum() > 0


def test_the_fallback_target_is_the_faction_the_record_names_most():
    record = pd.read_csv(ROOT / "calibration" / "data" / "events.csv")
    militia = record[(record["actor_kind"] == "militia") & record["actor"].isin(FACTIONS)]
    assert militia["actor"].value_counts().idxmax() == FACTIONS[dyn.FALLBACK_FACTION]


def test_unattributed_harm_is_blamed_on_the_fallback_faction():
    sc = scenario(us={"attribution_accuracy": 0.0, "misattribution": 1.0},
                  militias={"kataib_hezbollah": {"base_attack_rate": 0.0}})
    s, p = state_after(sc, n=1)
    P = dyn.param_record(p)
    dyn.record_attack(s.rec[0], P[0], 0, 0, NUJABA, 0, 0, dyn.IRAQ, 0, 0, 0, 0, 0.5, 0,
                      dyn.ATTACK, dyn._NO_ROWS, dyn._NO_COUNT)
    assert s.harm_by_faction[0, KH] > 0 and s.harm_by_faction[0, NUJABA] == 0


def test_a_truce_suspends_the_wars_tension():
    sc = scenario(shocks=[{"date": "2023-10-07", "kind": "regional_war", "size": 2.0},
                          {"date": "2023-11-24", "kind": "truce", "size": 1.0,
                           "end": "2023-11-30"}])
    tl = Timeline(sc.start, sc.end)
    tension, _ = shock_series(sc.params, tl)
    assert tension[tl.day_of("2023-11-23")] > 1.0
    assert tension[tl.day_of("2023-11-24"):tl.day_of("2023-11-30") + 1].max() == 0.0
    assert tension[tl.day_of("2023-12-01")] > 1.0


def test_a_us_death_during_a_regional_war_weighs_more_in_irans_risk():
    """iran.war_risk_weight: a death the proxies cause adds risk x (1 + weight x tension);
    with the weight at 0 (the default) a war changes nothing."""
    from sim.replay import _prepare

    def risk_after_one_death(weight, war):
        shocks = ([{"date": "2023-01-01", "kind": "regional_war", "size": 1.0}] if war else [])
        sc = scenario(iran={"war_risk_weight": weight, "risk_half_life_days": 2000.0},
                      shocks=shocks)
        s, p = state_after(sc, n=2)
        for t in range(3):
            dyn.iran_phase(s, p, t, None)
        before = s.risk.copy()
        death = _prepare({"action": "attack", "actor": "kataib_hezbollah", "weapon": "drone",
                          "site": "al_asad", "country": "iraq", "us_killed": 1}, p.sites)
        dyn.documented_attacks(s, p, 2, None, [death])
        return float((s.risk - before)[0]), float(s.tension[0])

    peace, no_tension = risk_after_one_death(1.0, war=False)
    war, tension = risk_after_one_death(1.0, war=True)
    assert no_tension == 0 and tension > 0
    assert peace == pytest.approx(1.0) and war == pytest.approx(1.0 + tension)
    assert risk_after_one_death(0.0, war=True)[0] == pytest.approx(1.0)


def test_the_announced_end_of_the_combat_mission_calms_by_its_share_from_its_date():
    """militias.mission_end_calm with the scenario's combat_mission_end input: 0 changes
    nothing (the default), 1 stops the militias' attacks from the date on."""
    end = [{"date": "2023-07-01", "kind": "combat_mission_end", "size": 1.0}]
    day = (pd.Timestamp("2023-07-01") - pd.Timestamp("2023-01-01")).days
    base = run(scenario())
    off = run(scenario(shocks=end))
    for k in base.summary:
        np.testing.assert_array_equal(base.summary[k], off.summary[k])
    full = run(scenario(militias={"mission_end_calm": 1.0}, shocks=end))
    attacks = np.asarray(full.daily["attacks"])           # days x replicates
    assert attacks[:day].sum() > 50 and attacks[day:].sum() == 0
    half = run(scenario(militias={"mission_end_calm": 0.5}, shocks=end))
    ratio = (np.asarray(half.daily["attacks"])[day:].sum()
             / np.asarray(base.daily["attacks"])[day:].sum())
    assert 0.3 < ratio < 0.75


def test_reinforced_force_protection_prevents_deaths_from_its_date_not_wounds():
    """us.force_protection with the scenario's force_protection input (documented posture):
    0 changes nothing (the default); 1 leaves no militia attack lethal from the date on, while
    the attacks and their wounded go on."""
    shield = [{"date": "2023-07-01", "kind": "force_protection", "size": 1.0}]
    day = (pd.Timestamp("2023-07-01") - pd.Timestamp("2023-01-01")).days
    lethal = {"rocket": {"lethal_probability": 0.3}}
    base = run(scenario(weapons=lethal))
    off = run(scenario(weapons=lethal, shocks=shield))
    for k in base.summary:
        np.testing.assert_array_equal(base.summary[k], off.summary[k])
    on = run(scenario(weapons=lethal, us={"force_protection": 1.0}, shocks=shield))
    killed = np.asarray(on.daily["us_killed"]) + np.asarray(on.daily["coalition_killed"])
    before = np.asarray(base.daily["us_killed"]) + np.asarray(base.daily["coalition_killed"])
    assert killed[:day].sum() == before[:day].sum() > 0
    assert killed[day:].sum() == 0 and before[day:].sum() > 0
    assert np.asarray(on.daily["attacks"])[day:].sum() > 50
    assert np.asarray(on.daily["us_wounded"])[day:].sum() > 0


def test_a_replayed_state_attack_raises_irans_exchange_risk_as_its_own_does():
    """Under history replay Iran's missiles of 2020-01-08 come from the record; the risk of a
    direct exchange that Iran then runs (iran.risk_per_own_attack) must follow, as it does
    when the model's Iran decides the attack itself; the risk that orders the proxies down
    does not move (Iran stepped back from direct exchange, the militias went on)."""
    sc = scenario(iran={"risk_per_own_attack": 2.5, "risk_half_life_days": 2000.0})
    s, p = state_after(sc, n=3)
    dyn.iran_phase(s, p, 0, None)
    before, proxies = s.exchange_risk.copy(), s.risk.copy()
    from sim.replay import _prepare
    missiles = {"action": "state_attack", "actor": "iran", "weapon": "ballistic_missile",
                "site": "al_asad", "country": "iraq", "us_wounded": 0}
    dyn.iran_phase(s, p, 1, None, [_prepare(missiles, p.sites)])
    decay = 0.5 ** (1 / 2000.0)
    np.testing.assert_allclose(s.exchange_risk, before * decay + 2.5)
    np.testing.assert_allclose(s.risk, proxies * decay)


def test_iran_answers_its_commanders_killing_itself_less_soon_after_its_own_attack():
    """A commander killed (the strike of 2020-01-03, replayed) is answered by Iran's own attack
    with probability retaliation_probability x exp(-exchange risk): always with no risk,
    never with a large one."""
    from sim.replay import _prepare
    sc = scenario(iran={"retaliation_probability": 1.0})
    strike = {"action": "leader_strike", "actor": "us", "target": "iran", "country": "iraq"}
    for risk, answered in ((0.0, True), (50.0, False)):
        s, p = state_after(sc, n=20)
        s.rec["exchange_risk"] = risk
        dyn.us_phase(s, p, 0, None, [_prepare(strike, p.sites)])
        assert ((s.retaliation_day != dyn.NEVER) == answered).all(), risk


def test_a_replayed_raid_does_what_baghdads_own_raid_does():
    """Under history replay a documented raid (Kataib Hezbollah's base, 2020-06-25) seizes
    the raided faction's arsenal, frightens and aggrieves it and spends Baghdad's standing,
    as a raid Baghdad decides does; the other factions are untouched."""
    from sim.replay import _prepare
    sc = scenario(iraq={"raid_capacity_loss": 0.5, "raid_fear": 2.0, "raid_grievance": 1.0,
                        "raid_standing_cost": 0.25})
    s, p = state_after(sc, n=3)
    arsenal, fear, grievance = s.arsenal.copy(), s.fear.copy(), s.grievance.copy()
    standing = s.standing.copy()
    raid = {"action": "raid", "actor": "iraq", "target": "harakat_al_nujaba", "country": "iraq"}
    dyn.iraq_phase(s, p, 0, None, [_prepare(raid, p.sites)])
    np.testing.assert_allclose(s.arsenal[:, NUJABA], arsenal[:, NUJABA] * 0.5)
    np.testing.assert_allclose(s.arsenal[:, KH], arsenal[:, KH])
    np.testing.assert_allclose(s.fear[:, NUJABA], fear[:, NUJABA] + 2.0)
    np.testing.assert_allclose(s.grievance[:, NUJABA], grievance[:, NUJABA] + 1.0)
    assert (s.standing < standing).all()
    assert (s.acc_raids == 1).all()


def test_a_replayed_negotiation_opens_the_exit_talks_that_calm_the_factions():
    """A documented negotiation (the talks on the coalition's end of 2024-01-27) opens the
    exit talks in every replayed run, as Baghdad's own decision does; a condemnation does
    not."""
    from sim.replay import _prepare
    s, p = state_after(scenario(), n=3)
    assert not s.negotiating.any()
    talk = {"action": "condemnation", "actor": "iraq", "target": "us"}
    dyn.iraq_phase(s, p, 0, None, [_prepare(talk, p.sites)])
    assert not s.negotiating.any()
    talk = {"action": "negotiation", "actor": "iraq", "target": "us"}
    dyn.iraq_phase(s, p, 1, None, [_prepare(talk, p.sites)])
    assert s.negotiating.all()
