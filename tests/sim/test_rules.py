"""Tests of the deterrence rules (``sim.rules``), after Axelrod's strategy tests.

One base class, :class:`RuleTestBase`, holds the checks every rule must pass (metadata,
registry, parameter validation, determinism given the uniforms, statelessness, replicates that
do not mix, response shape, and Hypothesis properties that hold the classifier to its word).
Each rule's test class subclasses it, declares ``rule_name`` and ``expected_classifier``, and
plays the rule against scripted attack sequences with :func:`play`, a small harness that keeps
the U.S. harm ledger the way ``sim.dynamics.us_phase`` does (minus lag, attribution and
targeting, which are not the rule's business).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.errors import InputError
from sim.params import USParams
from sim.rules import REGISTRY, Observation, Response, Rule, make_rule, register, rules_table

# --- The harness -------------------------------------------------------------------------------

#: The harm ledger's weights and half-life: the defaults of ``USParams`` (checked below), stated
#: as numbers so that the known answers in the rule tests can be worked out by hand.
HARM_PER_ATTACK, HARM_PER_WOUNDED, HARM_PER_KILLED = 1.0, 2.0, 10.0
HALF_LIFE_DAYS = 30.0
DECAY = 0.5 ** (1.0 / HALF_LIFE_DAYS)

#: A day of a script: (attacks, U.S./coalition killed, U.S. wounded).
Day = tuple[int, int, int]
QUIET: Day = (0, 0, 0)


def days(n: int, attacks: int = 1, killed: int = 0, wounded: int = 0) -> list[Day]:
    """``n`` identical days."""
    return [(attacks, killed, wounded)] * n


def every(period: int, n: int, attacks: int = 1, killed: int = 0, wounded: int = 0) -> list[Day]:
    """``n`` attack days, one every ``period`` days (quiet days between)."""
    return ([QUIET] * (period - 1) + [(attacks, killed, wounded)]) * n


@dataclasses.dataclass
class Play:
    """What a rule did over a script, one column per replicate (arrays are days x replicates)."""

    asked: np.ndarray     # the rule was consulted (an attack day)
    strike: np.ndarray
    size: np.ndarray
    leaders: np.ndarray
    harm: np.ndarray      # the harm the rule saw on the days it was asked (0 elsewhere)

    def strikes(self, r: int = 0) -> list[tuple[int, float, bool]]:
        """(day, size, leaders) of replicate ``r``'s strikes."""
        return [(int(t), float(self.size[t, r]), bool(self.leaders[t, r]))
                for t in np.flatnonzero(self.strike[:, r])]

    def strike_days(self, r: int = 0) -> list[int]:
        return [t for t, _size, _leaders in self.strikes(r)]

    def column(self, r: int) -> tuple:
        return tuple(a[:, r].tolist() for a in (self.asked, self.strike, self.size, self.leaders))


def keyed_uniforms(seed: int, n_days: int, n_rep: int) -> np.ndarray:
    """Uniforms keyed by (seed, day): one row per day, one column per replicate."""
    return np.stack([np.random.default_rng([seed, t]).random(n_rep) for t in range(n_days)])


def play(rule: Rule, scripts: list[list[Day]], u: np.ndarray | float | None = None,
         seed: int = 0) -> Play:
    """Play ``rule`` against one script per replicate, the way U.S. forces use a rule.

    Each day: the day's attacks add to the decayed harm ledger and the since-last-strike
    counters; on days with at least one attack the rule is asked (the contract of
    ``sim.rules``); a strike lands at once (no lag) and resets harm and counters; harm then
    decays with a 30-day half-life. Shorter scripts end in quiet days. ``u``: uniforms as a
    days x replicates array or a constant; by default keyed by (seed, day).
    """
    longest = max(len(s) for s in scripts)
    script = np.asarray([list(s) + [QUIET] * (longest - len(s)) for s in scripts],
                        dtype=np.int64).reshape(len(scripts), longest, 3).transpose(1, 0, 2)
    n_days, n_rep, _ = script.shape
    if u is None:
        u = keyed_uniforms(seed, n_days, n_rep)
    u = np.broadcast_to(np.asarray(u, dtype=float), (n_days, n_rep))
    zi, zf = np.zeros(n_rep, np.int64), np.zeros(n_rep)
    attacks_since, killed_since, wounded_since = zi.copy(), zi.copy(), zi.copy()
    harm, strikes_so_far = zf.copy(), zi.copy()
    days_since = np.full(n_rep, 10 ** 6, np.int64)
    out = Play(*(np.zeros((n_days, n_rep), bool) for _ in range(2)), np.zeros((n_days, n_rep)),
               np.zeros((n_days, n_rep), bool), np.zeros((n_days, n_rep)))
    for t in range(n_days):
        attacks, killed, wounded = script[t, :, 0], script[t, :, 1], script[t, :, 2]
        harm += HARM_PER_ATTACK * attacks + HARM_PER_WOUNDED * wounded + HARM_PER_KILLED * killed
        attacks_since += attacks
        killed_since += killed
        wounded_since += wounded
        days_since += 1
        ask = attacks > 0
        if ask.any():
            obs = Observation(
                day=t, attacks_today=attacks.copy(), killed_today=killed.copy(),
                wounded_today=wounded.copy(), attacks_since_strike=attacks_since.copy(),
                killed_since_strike=killed_since.copy(),
                wounded_since_strike=wounded_since.copy(), harm=harm.copy(),
                days_since_strike=days_since.copy(), strikes_so_far=strikes_so_far.copy(),
                iraq_sovereignty=zf.copy())
            resp = rule.respond(obs, u[t].copy())
            go = ask & resp.strike
            out.asked[t] = ask
            out.harm[t] = np.where(ask, harm, 0.0)
            out.strike[t] = go
            out.size[t] = np.where(go, resp.size, 0.0)
            out.leaders[t] = go & resp.leaders
            harm[go] = 0.0
            attacks_since[go] = killed_since[go] = wounded_since[go] = 0
            days_since[go] = 0
            strikes_so_far[go] += 1
        harm *= DECAY
    return out


def observation(n: int = 1, **fields) -> Observation:
    """An observation with every field zero but those given (broadcast to ``n`` replicates)."""
    names = [f.name for f in dataclasses.fields(Observation) if f.name != "day"]
    unknown = set(fields) - set(names) - {"day"}
    if unknown:
        raise TypeError(f"no such fields: {unknown}")
    return Observation(day=fields.get("day", 0), **{
        k: np.broadcast_to(np.asarray(fields.get(k, 0)), (n,)).copy() for k in names})


def campaign_day(t: int) -> Day:
    """An irregular campaign: 0-4 attacks a day, some wounding, a lethal one now and then."""
    attacks = (7 * t) % 5
    return (attacks, int(attacks > 0 and t % 13 == 4), (3 * t) % 4 if attacks and t % 3 else 0)


#: Scripted opponents every rule plays in the base checks (40 days each).
OPPONENTS: dict[str, list[Day]] = {
    "quiet": [QUIET] * 40,
    "steady": days(40),
    "trickle": every(10, 4),
    "burst": [QUIET] * 3 + [(25, 0, 3)] + [QUIET] * 36,
    "lethal": days(5) + [(1, 1, 4)] + days(10) + [(2, 2, 0)] + [QUIET] * 23,
    "campaign": [campaign_day(t) for t in range(40)],
}

HISTORY_FIELDS = ("attacks_since_strike", "killed_since_strike", "wounded_since_strike",
                  "harm", "days_since_strike", "strikes_so_far")
CLASSIFIER_KEYS = {"responds_to", "proportional", "escalatory", "targets", "memory_days",
                   "stochastic"}
BUILTIN = ("restraint", "tit_for_tat", "red_line", "threshold", "proportional", "escalatory",
           "decapitation", "ladder")


@st.composite
def observations(draw, n: int | None = None) -> Observation:
    """Random, internally consistent observations: since-counters at least today's counts."""
    n = n or draw(st.integers(1, 5))
    ints = lambda hi: draw(st.lists(st.integers(0, hi), min_size=n, max_size=n))  # noqa: E731
    attacks, killed, wounded = np.array(ints(60)), np.array(ints(5)), np.array(ints(20))
    return Observation(
        day=draw(st.integers(0, 2000)), attacks_today=attacks, killed_today=killed,
        wounded_today=wounded, attacks_since_strike=attacks + np.array(ints(500)),
        killed_since_strike=killed + np.array(ints(20)),
        wounded_since_strike=wounded + np.array(ints(100)),
        harm=np.array(draw(st.lists(st.floats(0, 1e4), min_size=n, max_size=n))),
        days_since_strike=np.array(ints(10 ** 6)), strikes_so_far=np.array(ints(300)),
        iraq_sovereignty=np.array(draw(st.lists(st.floats(0, 100), min_size=n, max_size=n))))


def uniforms(n: int):
    return st.lists(st.floats(0, 1, exclude_max=True), min_size=n, max_size=n).map(np.array)


def parameter_values(name: str):
    """Any parameters within the declared bounds of rule ``name``."""
    return st.fixed_dictionaries({
        key: st.floats(lo, hi) for key, (_d, lo, hi, _m) in REGISTRY[name].parameters.items()})


#: The base class's property tests run once per rule class, each with that rule's own
#: strategies: the "differing executors" that Hypothesis warns of are on purpose here.
HYPOTHESIS = settings(max_examples=60, deadline=None,
                      suppress_health_check=[HealthCheck.too_slow,
                                             HealthCheck.differing_executors])


# --- The shared checks ---------------------------------------------------------------------

class RuleTestBase:
    """Checks every deterrence rule passes. Subclasses set ``rule_name`` and
    ``expected_classifier`` and add the rule's own behaviour."""

    rule_name: str = ""
    expected_classifier: dict = {}
    #: Parameters under which a stochastic rule's answers depend on ``u``.
    stochastic_params: dict = {}
    #: A rule with default parameters does not strike when nothing was observed.
    strikes_on_nothing: bool = False
    opponents: dict[str, list[Day]] = OPPONENTS

    @property
    def rule_class(self) -> type[Rule]:
        return REGISTRY[self.rule_name]

    def rule(self, **params) -> Rule:
        return make_rule(self.rule_name, params)

    # Metadata and registry.

    def test_classifier(self):
        assert self.rule_class.classifier == self.expected_classifier
        assert set(self.rule_class.classifier) == CLASSIFIER_KEYS

    def test_classifier_values_are_well_formed(self):
        c = self.rule_class.classifier
        assert isinstance(c["responds_to"], str) and c["responds_to"]
        assert isinstance(c["targets"], str) and c["targets"]
        for key in ("proportional", "escalatory", "stochastic"):
            assert isinstance(c[key], bool), key
        assert c["memory_days"] is None or (isinstance(c["memory_days"], int)
                                            and c["memory_days"] >= 0)

    def test_registered_and_built_with_defaults(self):
        assert REGISTRY[self.rule_name].name == self.rule_name
        rule = make_rule(self.rule_name)
        assert isinstance(rule, self.rule_class)
        for key, (default, *_rest) in rule.parameters.items():
            assert float(getattr(rule, key)) == default

    def test_listed_in_rules_table(self):
        rows = {row["name"]: row for row in rules_table()}
        row = rows[self.rule_name]
        assert row["classifier"] == self.expected_classifier
        assert row["parameters"] == self.rule_class.parameters
        assert row["description"] == make_rule(self.rule_name).describe()

    def test_description_and_docstring(self):
        description = make_rule(self.rule_name).describe()
        assert description and description.endswith(".")
        # Below the one-line summary the docstring names the doctrine or its source.
        assert len(self.rule_class.__doc__.strip().splitlines()) > 1

    def test_parameters_are_declared_with_default_inside_bounds(self):
        for key, spec in self.rule_class.parameters.items():
            default, lo, hi, meaning = spec
            assert lo <= default <= hi, key
            assert isinstance(meaning, str) and meaning, key

    # Parameter validation.

    def test_bounds_are_accepted(self):
        for key, (_default, lo, hi, _m) in self.rule_class.parameters.items():
            assert float(getattr(self.rule(**{key: lo}), key)) == lo
            assert float(getattr(self.rule(**{key: hi}), key)) == hi

    @pytest.mark.parametrize("where", ["below", "above", "nan", "one_of_an_array"])
    def test_out_of_bounds_parameter_is_an_input_error(self, where):
        for key, (default, lo, hi, _m) in self.rule_class.parameters.items():
            bad = {"below": lo - max(1.0, abs(lo)), "above": hi + max(1.0, abs(hi)),
                   "nan": math.nan, "one_of_an_array": [default, hi * 2 + 1, default]}[where]
            with pytest.raises(InputError) as err:
                self.rule(**{key: bad})
            assert err.value.field == f"us.{key}"
            assert self.rule_name in str(err.value)

    def test_unknown_parameter_is_an_input_error(self):
        with pytest.raises(InputError) as err:
            self.rule(no_such_parameter=1.0)
        assert err.value.field == "us.no_such_parameter"
        for key in self.rule_class.parameters:
            assert key in str(err.value)  # the message lists what the rule takes

    # Playing scripts.

    def test_consulted_on_attack_days_only(self):
        result = play(self.rule(), [OPPONENTS["trickle"]])
        attack_days = [t for t, d in enumerate(OPPONENTS["trickle"]) if d[0] > 0]
        assert np.flatnonzero(result.asked[:, 0]).tolist() == attack_days
        assert set(result.strike_days()) <= set(attack_days)

    def test_identical_replicates_agree(self):
        for name, script in self.opponents.items():
            result = play(self.rule(), [script] * 3, u=0.5)
            assert result.column(0) == result.column(1) == result.column(2), name

    def test_replicates_do_not_mix(self):
        """Playing the opponents side by side equals playing each alone."""
        scripts = list(self.opponents.values())
        u = keyed_uniforms(7, len(scripts[0]), len(scripts))
        together = play(self.rule(), scripts, u=u)
        for r, script in enumerate(scripts):
            alone = play(self.rule(), [script], u=u[:, [r]])
            assert together.column(r) == alone.column(0), list(self.opponents)[r]

    def test_same_uniforms_same_actions(self):
        scripts = list(self.opponents.values())
        first = play(self.rule(), scripts, seed=3)
        second = play(self.rule(), scripts, seed=3)
        for r in range(len(scripts)):
            assert first.column(r) == second.column(r)

    def test_reused_rule_equals_fresh_rule(self):
        """Rules are stateless: a rule that played A first plays B as a fresh one does."""
        scripts = list(self.opponents.values())
        reused = self.rule()
        play(reused, scripts[::-1], seed=1)
        again = play(reused, scripts, seed=2)
        fresh = play(self.rule(), scripts, seed=2)
        for r in range(len(scripts)):
            assert again.column(r) == fresh.column(r)

    def test_respond_does_not_change_the_observation(self):
        obs = observation(3, attacks_today=[0, 2, 30], killed_today=[0, 0, 3],
                          wounded_today=[0, 1, 5], attacks_since_strike=[4, 2, 90],
                          killed_since_strike=[0, 0, 3], wounded_since_strike=[0, 1, 9],
                          harm=[0.5, 4.0, 400.0], days_since_strike=[10, 3, 50],
                          strikes_so_far=[0, 1, 4])
        before = {k: v.copy() for k, v in vars(obs).items() if isinstance(v, np.ndarray)}
        self.rule().respond(obs, np.array([0.1, 0.5, 0.9]))
        for key, value in before.items():
            np.testing.assert_array_equal(getattr(obs, key), value, err_msg=key)

    def test_nothing_observed(self):
        resp = self.rule().respond(observation(4), np.array([0.0, 0.25, 0.5, 0.99]))
        assert resp.strike.tolist() == [self.strikes_on_nothing] * 4

    def test_sizes_and_leaders_only_where_striking(self):
        result = play(self.rule(), list(self.opponents.values()), seed=5)
        assert np.all(result.size[result.strike] >= 1.0)
        assert np.all(result.size[~result.strike] == 0.0)
        assert not np.any(result.leaders & ~result.strike)

    def test_targets_leaders_as_declared(self):
        result = play(self.rule(), list(self.opponents.values()), seed=5)
        leaders = self.rule_class.classifier["targets"] == "leaders"
        np.testing.assert_array_equal(result.leaders, result.strike & leaders)

    def test_parameter_arrays_act_per_replicate(self):
        """A sweep passes parameters as arrays over replicates: each replicate plays as if it
        had the scalar value."""
        params = self.rule_class.parameters
        choices = {k: [d, lo, hi] for k, (d, lo, hi, _m) in params.items()}
        scripts = [OPPONENTS["lethal"], OPPONENTS["burst"], OPPONENTS["campaign"]]
        u = keyed_uniforms(11, len(scripts[0]), 3)
        together = play(self.rule(**choices), scripts, u=u)
        for r in range(3):
            alone = play(self.rule(**{k: v[r] for k, v in choices.items()}), [scripts[r]],
                         u=u[:, [r]])
            assert together.column(r) == alone.column(0)

    # Properties (Hypothesis): the classifier's claims hold for any observation.

    @HYPOTHESIS
    @given(data=st.data())
    def test_response_shape_and_sizes(self, data):
        obs = data.draw(observations())
        rule = self.rule(**data.draw(parameter_values(self.rule_name)))
        resp = rule.respond(obs, data.draw(uniforms(obs.n)))
        assert isinstance(resp, Response)
        for name, array, dtype in (("strike", resp.strike, np.bool_),
                                   ("size", resp.size, np.floating),
                                   ("leaders", resp.leaders, np.bool_)):
            assert array.shape == (obs.n,), name
            assert np.issubdtype(array.dtype, dtype), name
        assert np.array_equal(resp.size >= 1.0, resp.strike)
        assert np.all(resp.size[~resp.strike] == 0.0)
        assert not np.any(resp.leaders & ~resp.strike)

    @HYPOTHESIS
    @given(data=st.data())
    def test_deterministic_rules_ignore_the_uniforms(self, data):
        if self.rule_class.classifier["stochastic"]:
            return
        obs = data.draw(observations())
        rule = self.rule(**data.draw(parameter_values(self.rule_name)))
        a = rule.respond(obs, data.draw(uniforms(obs.n)))
        b = rule.respond(obs, data.draw(uniforms(obs.n)))
        for key in ("strike", "size", "leaders"):
            np.testing.assert_array_equal(getattr(a, key), getattr(b, key))

    def test_stochastic_rules_use_the_uniforms(self):
        if not self.rule_class.classifier["stochastic"]:
            return
        rule = self.rule(**self.stochastic_params)
        obs = observation(200, attacks_today=3, killed_today=1, wounded_today=2,
                          attacks_since_strike=10, killed_since_strike=1,
                          wounded_since_strike=2, harm=100.0, days_since_strike=5)
        strike = rule.respond(obs, np.linspace(0, 1, 200, endpoint=False)).strike
        assert 0 < strike.sum() < 200

    @HYPOTHESIS
    @given(data=st.data())
    def test_declared_memory_is_an_upper_bound(self, data):
        """A rule with ``memory_days`` 0 sees nothing; with 1 only today's counts: changing
        what happened before today (since-last-strike counters, harm, days since the last
        strike, strikes so far) does not change its answer."""
        memory = self.rule_class.classifier["memory_days"]
        if memory is None:
            return
        obs = data.draw(observations())
        other = data.draw(observations(obs.n))
        u = data.draw(uniforms(obs.n))
        rule = self.rule(**data.draw(parameter_values(self.rule_name)))
        mixed = dataclasses.replace(obs, **{k: getattr(other, k) for k in HISTORY_FIELDS})
        if memory == 0:
            mixed = other
        a, b = rule.respond(obs, u), rule.respond(mixed, u)
        for key in ("strike", "size", "leaders"):
            np.testing.assert_array_equal(getattr(a, key), getattr(b, key))

    @HYPOTHESIS
    @given(data=st.data())
    def test_size_depends_on_harm_only_if_proportional(self, data):
        """Where a non-proportional rule strikes, its size does not depend on the harm."""
        if self.rule_class.classifier["proportional"]:
            return
        obs = data.draw(observations())
        rule = self.rule(**data.draw(parameter_values(self.rule_name)))
        u = data.draw(uniforms(obs.n))
        other = dataclasses.replace(obs, harm=data.draw(
            st.lists(st.floats(0, 1e4), min_size=obs.n, max_size=obs.n).map(np.array)))
        a, b = rule.respond(obs, u), rule.respond(other, u)
        both = a.strike & b.strike
        np.testing.assert_array_equal(a.size[both], b.size[both])

    def test_size_grows_with_strikes_so_far_only_if_escalatory(self):
        rule = self.rule(**self.stochastic_params)
        strikes = np.arange(6)
        obs = observation(6, attacks_today=5, killed_today=2, wounded_today=5,
                          attacks_since_strike=20, killed_since_strike=2,
                          wounded_since_strike=5, harm=200.0, days_since_strike=5,
                          strikes_so_far=strikes)
        resp = rule.respond(obs, np.zeros(6))
        if not resp.strike.all():
            assert not self.rule_class.classifier["escalatory"]
            return
        if self.rule_class.classifier["escalatory"]:
            assert np.all(np.diff(resp.size) > 0)
        else:
            assert np.all(resp.size == resp.size[0])


# --- The harness itself ----------------------------------------------------------------------

def test_harness_ledger_matches_model_defaults():
    """The harness keeps the U.S. harm ledger with the model's default weights."""
    assert (USParams.harm_per_attack, USParams.harm_per_wounded, USParams.harm_per_killed,
            USParams.harm_half_life_days) == (HARM_PER_ATTACK, HARM_PER_WOUNDED,
                                             HARM_PER_KILLED, HALF_LIFE_DAYS)


def test_harness_harm_decays_and_resets():
    never = play(make_rule("restraint"), [[(3, 1, 2)] + [QUIET] * 29 + [(1, 0, 0)]])
    assert never.harm[0, 0] == pytest.approx(3 + 2 * 2 + 10)
    # 30 days later the first day's harm is halved (one half-life) and one attack is added.
    assert never.harm[30, 0] == pytest.approx(17 / 2 + 1)
    always = play(make_rule("tit_for_tat"), [[(3, 1, 2), QUIET, (1, 0, 0)]])
    assert always.harm[2, 0] == pytest.approx(1.0)  # reset by the strike on day 0


# --- The rules ---------------------------------------------------------------------------------

class TestRestraint(RuleTestBase):
    rule_name = "restraint"
    expected_classifier = dict(responds_to="nothing", proportional=False, escalatory=False,
                               targets="none", memory_days=0, stochastic=False)

    def test_never_strikes_whatever_the_attacks(self):
        massacre = days(100, attacks=20, killed=5, wounded=30)
        result = play(self.rule(), [massacre, days(100, attacks=1, killed=1)])
        assert result.asked.sum() > 100   # it was asked, and said no every time
        assert not result.strike.any()
        assert result.harm.max() > 1000

    @HYPOTHESIS
    @given(data=st.data())
    def test_never_strikes_any_observation(self, data):
        obs = data.draw(observations())
        assert not self.rule().respond(obs, data.draw(uniforms(obs.n))).strike.any()


class TestTitForTat(RuleTestBase):
    rule_name = "tit_for_tat"
    expected_classifier = dict(responds_to="attacks", proportional=False, escalatory=False,
                               targets="facilities", memory_days=1, stochastic=True)
    stochastic_params = {"respond_probability": 0.5}
    script = [QUIET, (1, 0, 0), QUIET, QUIET, (4, 0, 1), (1, 0, 0), (2, 1, 3), QUIET,
              (1, 0, 0)] + every(7, 5)

    def attack_days(self):
        return [t for t, d in enumerate(self.script) if d[0] > 0]

    def test_answers_every_attack_day_when_certain(self):
        result = play(self.rule(respond_probability=1.0), [self.script] * 3, seed=4)
        for r in range(3):
            assert result.strike_days(r) == self.attack_days()
            assert {size for _t, size, _l in result.strikes(r)} == {1.0}

    def test_never_answers_when_probability_zero(self):
        result = play(self.rule(respond_probability=0.0), [self.script] * 3, seed=4)
        assert result.asked.any() and not result.strike.any()

    def test_answers_about_p_of_attack_days(self):
        p, n_rep = 0.3, 2000
        result = play(self.rule(respond_probability=p), [self.script] * n_rep, seed=9)
        share = result.strike.sum() / result.asked.sum()
        # 2000 x 10 attack days: the binomial standard error is about 0.003.
        assert share == pytest.approx(p, abs=0.02)
        per_day = result.strike[self.attack_days()].mean(axis=1)
        assert np.all(np.abs(per_day - p) < 0.06)  # every attack day, not just on average

    def test_size_parameter(self):
        result = play(self.rule(size=3.0), [self.script])
        assert [s for _t, s, _l in result.strikes()] == [3.0] * len(self.attack_days())

    def test_probability_per_replicate(self):
        result = play(self.rule(respond_probability=[0.0, 1.0]), [self.script] * 2, seed=2)
        assert result.strike_days(0) == []
        assert result.strike_days(1) == self.attack_days()

    @HYPOTHESIS
    @given(data=st.data())
    def test_never_strikes_without_an_attack_today(self, data):
        obs = data.draw(observations())
        obs.attacks_today = np.zeros(obs.n, np.int64)
        rule = self.rule(**data.draw(parameter_values(self.rule_name)))
        assert not rule.respond(obs, data.draw(uniforms(obs.n))).strike.any()


class TestRedLine(RuleTestBase):
    rule_name = "red_line"
    expected_classifier = dict(responds_to="deaths", proportional=False, escalatory=False,
                               targets="facilities", memory_days=None, stochastic=False)

    def test_harmless_attacks_do_not_cross_the_line_a_death_does(self):
        script = days(50) + [(1, 1, 0)] + days(5)
        result = play(self.rule(), [script])
        assert result.asked[:50].all() and not result.strike[:50].any()
        assert result.strikes() == [(50, 2.0, False)]

    def test_harmless_burst_does_not_cross_the_line(self):
        result = play(self.rule(), [[(50, 0, 10)] + days(10, 3, 0, 2)])
        assert not result.strike.any()

    def test_wounded_line(self):
        script = days(5, attacks=1, wounded=1) + days(5, attacks=1, wounded=1)
        result = play(self.rule(wounded=3), [script])
        # 3 wounded on day 2 cross the line; counters reset; 3 more by day 5, and day 8.
        assert result.strike_days() == [2, 5, 8]

    def test_deaths_are_remembered_until_a_strike(self):
        """Unlike harm, deaths since the last strike do not decay: the second death, 200 days
        after the first, crosses a two-death line."""
        script = [(1, 1, 0)] + [QUIET] * 199 + [(1, 1, 0), (1, 1, 0)]
        result = play(self.rule(deaths=2), [script])
        assert result.strike_days() == [200]
        # Meanwhile the first attack's harm all but decayed: 11 * 2 ** (-200 / 30) is 0.11.
        assert result.harm[200, 0] == pytest.approx(11 + 11 * 0.5 ** (200 / 30))

    def test_size_parameter(self):
        result = play(self.rule(size=5.0), [[(1, 1, 0)]])
        assert result.strikes() == [(0, 5.0, False)]


class TestThreshold(RuleTestBase):
    rule_name = "threshold"
    expected_classifier = dict(responds_to="harm", proportional=False, escalatory=False,
                               targets="facilities", memory_days=None, stochastic=False)

    def test_strikes_once_harm_passes_the_level_not_before(self):
        result = play(self.rule(level=12.0), [[(11, 0, 0)], [(12, 0, 0)], [(1, 1, 0)],
                                              [(1, 1, 1)]])
        assert [bool(result.strike[0, r]) for r in range(4)] == [False, True, False, True]

    def test_daily_attacks_strike_later_than_without_decay(self):
        """One attack a day: without decay 12 attacks would reach 12; with a 30-day half-life
        harm first reaches 12 on the 14th attack (day 13)."""
        result = play(self.rule(), [days(30)])
        assert result.strike_days()[0] == 13
        assert result.harm[12, 0] < 12.0 <= result.harm[13, 0]

    def test_trickle_never_triggers_the_same_attacks_in_a_burst_do(self):
        trickle = every(10, 100)                          # 100 attacks over 1000 days
        burst = [(100, 0, 0)] + [QUIET] * 999             # the same 100 on one day
        result = play(self.rule(), [trickle, burst])
        assert result.asked[:, 0].sum() == 100
        assert result.strike_days(0) == []
        assert result.harm[:, 0].max() < 12.0             # settles near 1 / (1 - DECAY**10)
        assert result.strike_days(1) == [0]

    def test_level_per_replicate(self):
        result = play(self.rule(level=[5.0, 50.0]), [days(60)] * 2)
        # 1 + d + ... + d**5 = 5.67 (d = 2 ** (-1 / 30)) is the first partial sum past 5.
        assert result.strike_days(0)[0] == 5
        assert result.strike_days(1) == []                # 1 / (1 - DECAY) < 50: never

    def test_fixed_size(self):
        result = play(self.rule(size=4.0), [[(12, 0, 0)], [(500, 5, 50)]])
        assert result.size[0].tolist() == [4.0, 4.0]


class TestProportional(RuleTestBase):
    rule_name = "proportional"
    expected_classifier = dict(responds_to="harm", proportional=True, escalatory=False,
                               targets="facilities", memory_days=None, stochastic=False)

    def test_size_grows_with_harm(self):
        bursts = [[(n, 0, 0)] for n in (10, 20, 40, 80)] + [[(10, 3, 0)]]
        result = play(self.rule(), bursts)
        sizes = result.size[0]
        assert result.strike[0].all()
        assert sizes.tolist() == pytest.approx([10 / 8, 20 / 8, 40 / 8, 80 / 8, 40 / 8])
        assert np.all(np.diff(sizes[:4]) > 0)

    def test_no_strike_below_the_level(self):
        result = play(self.rule(), [[(9, 0, 0)], [(1, 0, 4)]])
        assert not result.strike.any()

    def test_size_at_least_one(self):
        result = play(self.rule(level=1.0, harm_per_target=100.0), [[(2, 0, 0)]])
        assert result.strikes() == [(0, 1.0, False)]

    def test_harm_per_target(self):
        result = play(self.rule(harm_per_target=2.0), [[(30, 0, 0)]])
        assert result.strikes() == [(0, 15.0, False)]


class TestEscalatory(RuleTestBase):
    rule_name = "escalatory"
    expected_classifier = dict(responds_to="harm", proportional=False, escalatory=True,
                               targets="facilities", memory_days=None, stochastic=False)
    rounds = ([(10, 0, 0)] + [QUIET] * 4) * 4

    def test_each_round_grows_by_growth(self):
        result = play(self.rule(), [self.rounds])
        assert result.strikes() == [(0, 1.0, False), (5, 1.5, False), (10, 2.25, False),
                                    (15, 3.375, False)]

    @pytest.mark.parametrize("size, growth", [(2.0, 2.0), (1.0, 1.0), (3.0, 1.25)])
    def test_successive_sizes(self, size, growth):
        result = play(self.rule(size=size, growth=growth), [self.rounds])
        sizes = [s for _t, s, _l in result.strikes()]
        assert sizes == pytest.approx([size * growth ** k for k in range(4)])

    def test_no_strike_below_the_level(self):
        result = play(self.rule(), [[(9, 0, 0)] + [QUIET] * 4 + [(1, 0, 0)]])
        assert not result.strike.any()


class TestDecapitation(RuleTestBase):
    rule_name = "decapitation"
    expected_classifier = dict(responds_to="harm", proportional=False, escalatory=False,
                               targets="leaders", memory_days=None, stochastic=False)

    def test_strikes_leaders_when_harm_passes_the_level(self):
        result = play(self.rule(), [[(14, 0, 0), QUIET], [(15, 0, 0), QUIET],
                                    [(1, 1, 2), QUIET], [(14, 0, 0), (1, 0, 0)],
                                    [(14, 0, 0), (2, 0, 0)]])
        assert result.strikes(0) == []
        assert result.strikes(1) == [(0, 1.0, True)]
        assert result.strikes(2) == [(0, 1.0, True)]    # 1 + 10 + 2 x 2: a lethal attack
        assert result.strikes(3) == []                  # 14 x 0.977 + 1 = 14.7: decayed below
        assert result.strikes(4) == [(1, 1.0, True)]    # 14 x 0.977 + 2 = 15.7

    def test_leaders_only_on_strike_days(self):
        result = play(self.rule(), [OPPONENTS["campaign"], OPPONENTS["lethal"]])
        assert result.strike.any()
        np.testing.assert_array_equal(result.leaders, result.strike)

    def test_threshold_does_not_strike_leaders(self):
        result = play(make_rule("threshold", {"level": 15.0}), [[(15, 0, 0)]])
        assert result.strikes() == [(0, 1.0, False)]


class TestLadder(RuleTestBase):
    rule_name = "ladder"
    expected_classifier = dict(responds_to="harm", proportional=False, escalatory=False,
                               targets="ladder", memory_days=None, stochastic=False)

    def test_strikes_facilities_when_harm_passes_the_level(self):
        result = play(self.rule(), [[(11, 0, 0), QUIET], [(12, 0, 0), QUIET]])
        assert result.strikes(0) == []
        assert result.strikes(1) == [(0, 2.0, False)]

    def test_climbs_to_leaders_on_accumulated_harm_and_to_a_large_round_after_deaths(self):
        rule = self.rule(leader_level=100.0, large_deaths=3.0, large_size=20.0)
        obs = observation(3, attacks_today=1, harm=[20.0, 20.0, 20.0],
                          harm_long=[20.0, 150.0, 150.0], killed_since_strike=[0, 0, 3],
                          days_since_leader_strike=999)
        resp = rule.respond(obs, np.zeros(3))
        assert resp.strike.all()
        assert resp.leaders.tolist() == [False, True, False]
        assert resp.size.tolist() == [2.0, 2.0, 20.0]
        # A leader strike 10 days ago: this round is a facility round again.
        recent = dataclasses.replace(obs, days_since_leader_strike=np.full(3, 10))
        assert not rule.respond(recent, np.zeros(3)).leaders.any()

    def test_targets_leaders_as_declared(self):
        """The ladder chooses leaders per replicate: only in rounds it strikes, and some."""
        result = play(self.rule(), list(self.opponents.values()), seed=5)
        assert not np.any(result.leaders & ~result.strike)
        assert result.leaders.any()

    def test_defiance_soon_after_a_round_calls_for_leaders(self):
        """Harm soon after a strike round (a storming two days after the strikes, as on
        2019-12-31) means the round did not deter: the next answer goes to leaders, even
        below the facility level; the same harm later, or with defiance off, does not."""
        rule = self.rule(level=12.0, defiance_level=10.0, defiance_days=7.0)
        obs = observation(3, attacks_today=1, harm=[11.0, 11.0, 11.0],
                          harm_long=[11.0, 11.0, 11.0], days_since_strike=[2, 20, 2],
                          strikes_so_far=[1, 1, 0], days_since_leader_strike=999)
        resp = rule.respond(obs, np.zeros(3))
        assert resp.strike.tolist() == [True, False, False]
        assert resp.leaders.tolist() == [True, False, False]
        off = self.rule(level=12.0, defiance_level=10.0, defiance_days=0.0)
        assert not off.respond(obs, np.zeros(3)).strike.any()

    def test_the_other_rules_ignore_the_long_memory(self):
        obs = observation(2, attacks_today=1, harm=[5.0, 5.0], harm_long=[0.0, 1e4])
        for name in ("threshold", "decapitation", "proportional", "escalatory"):
            resp = make_rule(name).respond(obs, np.zeros(2))
            assert resp.strike[0] == resp.strike[1] and resp.leaders[0] == resp.leaders[1]


# --- A rule a user registers ----------------------------------------------------------------

class EveryThird(Rule):
    """Strike after every third attack since the last strike.

    The module docstring's example of a user's rule, registered for these tests only.
    """

    name = "every_third"
    parameters = {"count": (3, 1, 100, "attacks since the last strike that trigger one")}
    classifier = dict(responds_to="attacks", proportional=False, escalatory=False,
                      targets="facilities", memory_days=None, stochastic=False)

    def decide(self, obs, u):
        return obs.attacks_since_strike >= self.count, 1.0


@pytest.fixture(scope="class")
def every_third():
    assert "every_third" not in REGISTRY
    register(EveryThird)
    yield EveryThird
    REGISTRY.pop("every_third", None)


@pytest.mark.usefixtures("every_third")
class TestUserRule(RuleTestBase):
    """A rule registered in a few lines gets the registry, the table and every shared check."""

    rule_name = "every_third"
    expected_classifier = EveryThird.classifier

    def test_in_registry_and_table(self):
        assert REGISTRY["every_third"] is EveryThird
        rows = rules_table(responds_to="attacks")
        assert [row["name"] for row in rows] == ["every_third", "tit_for_tat"]
        assert rows[0]["description"] == "Strike after every third attack since the last strike."

    def test_strikes_on_every_third_attack(self):
        result = play(self.rule(), [days(9), [(3, 0, 0), (2, 0, 0), (1, 0, 0)]])
        assert result.strike_days(0) == [2, 5, 8]
        assert result.strike_days(1) == [0, 2]

    def test_builtins_untouched(self):
        assert set(BUILTIN) < set(REGISTRY)


def test_user_rule_removed_after_its_tests():
    assert "every_third" not in REGISTRY


def test_rule_without_docstring_is_listed():
    """A user's rule need not have a docstring: it is listed with an empty description."""

    class Bare(Rule):
        name = "bare_test_rule"
        classifier = dict(responds_to="nothing", proportional=False, escalatory=False,
                          targets="none", memory_days=0, stochastic=False)

        def decide(self, obs, u):
            return False, 0.0

    register(Bare)
    try:
        rows = {row["name"]: row for row in rules_table()}
        assert rows["bare_test_rule"]["description"] == ""
    finally:
        REGISTRY.pop("bare_test_rule", None)


# --- The registry --------------------------------------------------------------------------

def test_the_seven_rules_of_the_design_are_registered():
    assert set(BUILTIN) <= set(REGISTRY)


def test_every_registered_rule_has_a_test_class():
    tested = {cls.rule_name for cls in RuleTestBase.__subclasses__()}
    assert set(REGISTRY) <= tested


def test_unknown_rule_is_an_input_error():
    with pytest.raises(InputError) as err:
        make_rule("tit_for_two_tats")
    assert err.value.field == "us.rule"
    assert "known rules" in str(err.value) and "red_line" in str(err.value)
    with pytest.raises(InputError) as err:
        make_rule("nope", where="us.periods[1].rule")
    assert err.value.field == "us.periods[1].rule"


def test_register_needs_a_name():
    class Nameless(Rule):
        """No name."""

    with pytest.raises(ValueError):
        register(Nameless)
    assert "" not in REGISTRY


@pytest.mark.parametrize("filters, names", [
    ({}, sorted(BUILTIN)),
    ({"targets": "leaders"}, ["decapitation"]),
    ({"targets": "facilities"}, ["escalatory", "proportional", "red_line", "threshold",
                                 "tit_for_tat"]),
    ({"responds_to": "harm"}, ["decapitation", "escalatory", "ladder", "proportional",
                               "threshold"]),
    ({"responds_to": "deaths"}, ["red_line"]),
    ({"proportional": True}, ["proportional"]),
    ({"escalatory": True}, ["escalatory"]),
    ({"stochastic": True}, ["tit_for_tat"]),
    ({"memory_days": 0}, ["restraint"]),
    ({"responds_to": "harm", "targets": "leaders"}, ["decapitation"]),
    ({"responds_to": "deaths", "targets": "leaders"}, []),
    ({"targets": "embassies"}, []),
])
def test_rules_table_filters_by_metadata(filters, names):
    rows = rules_table(**filters)
    assert [row["name"] for row in rows] == names
    for row in rows:
        assert set(row) == {"name", "description", "classifier", "parameters"}
        for key, value in filters.items():
            assert row["classifier"][key] == value
