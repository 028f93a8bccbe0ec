"""Tests of ``escalation rules``: every registered rule with its description, metadata and
parameters; filters by metadata; a filter value no rule declares is exit 2 with one line, a
valid combination that matches nothing is exit 0 with a line saying so (called in-process)."""

from __future__ import annotations

import re

import pytest

from sim.cli import main
from sim.rules import REGISTRY, Rule, make_rule, register


def blocks(out: str) -> dict[str, str]:
    """The printed rules by name: each block starts with the rule's name at column 0."""
    parts = out.strip().split("\n\n")[1:]
    return {part.splitlines()[0].split()[0]: part for part in parts}


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["rules", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_lists_every_rule_with_description_metadata_and_parameters(capsys):
    code, out, err = run(capsys)
    assert code == 0 and err == ""
    assert out.startswith(f"{len(REGISTRY)} deterrence rules.")
    listed = blocks(out)
    assert sorted(listed) == sorted(REGISTRY)
    for name, cls in REGISTRY.items():
        block = listed[name]
        assert make_rule(name).describe() in block
        c = cls.classifier
        assert f"responds to: {c['responds_to']}" in block
        assert f"targets: {c['targets']}" in block
        for key in ("proportional", "escalatory", "stochastic"):
            assert f"{key}: {'yes' if c[key] else 'no'}" in block
        for param, (default, lo, hi, meaning) in cls.parameters.items():
            row = next(line for line in block.splitlines() if line.split()[:1] == [param])
            assert f"{default:.10g}" in row and f"[{lo:.10g}, {hi:.10g}]" in row
            assert row.rstrip().endswith(meaning)
        if not cls.parameters:
            assert "parameters: none" in block


def test_known_values_in_the_output(capsys):
    _code, out, _err = run(capsys)
    listed = blocks(out)
    assert "targets: leaders" in listed["decapitation"]
    assert "memory: 1 day" in listed["tit_for_tat"]
    assert "memory: since the last strike" in listed["threshold"]
    assert re.search(r"^  level\s+12\s+\[0, 1000\]\s+decayed harm", listed["threshold"], re.M)
    assert re.search(r"^  wounded\s+1000000\s+\[1, 1000000\]", listed["red_line"], re.M)
    assert "(default rule)" in listed["threshold"].splitlines()[0]
    assert "us.harm_per_*" in out and "us.rule=" in out
    assert max(len(line) for line in out.splitlines()) <= 100


def test_targets_leaders_lists_only_decapitation(capsys):
    code, out, _err = run(capsys, "--targets", "leaders")
    assert code == 0
    assert out.startswith("1 deterrence rule (targets=leaders).")
    assert list(blocks(out)) == ["decapitation"]


def test_filters_combine(capsys):
    code, out, _err = run(capsys, "--responds-to", "harm", "--targets", "facilities")
    assert code == 0
    assert sorted(blocks(out)) == ["escalatory", "proportional", "threshold"]
    code, out, _err = run(capsys, "--responds-to", "deaths")
    assert list(blocks(out)) == ["red_line"]


def test_known_values_that_match_nothing_say_so(capsys):
    code, out, err = run(capsys, "--responds-to", "deaths", "--targets", "leaders")
    assert code == 0 and err == ""
    assert out.strip() == "No registered rule has responds_to=deaths and targets=leaders."


@pytest.mark.parametrize("argv, option", [(["--targets", "leader"], "--targets"),
                                          (["--responds-to", "Harm"], "--responds-to")])
def test_unknown_filter_value_is_one_line_exit_2(capsys, argv, option):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1
    assert err.startswith(f"escalation rules: {option}: unknown value")
    assert "known:" in err


def test_user_rule_is_listed_and_filterable(capsys):
    @register
    class Sometimes(Rule):
        """Strike on one attack day in ten."""

        name = "sometimes_test_rule"
        parameters = {"chance": (0.1, 0.0, 1.0, "chance an attack day is answered")}
        classifier = dict(responds_to="attacks", proportional=False, escalatory=False,
                          targets="embassies", memory_days=1, stochastic=True)

        def decide(self, obs, u):
            return (obs.attacks_today > 0) & (u < self.chance), 1.0

    try:
        code, out, _err = run(capsys, "--targets", "embassies")
        assert code == 0
        block = blocks(out)["sometimes_test_rule"]
        assert "Strike on one attack day in ten." in block
        assert re.search(r"^  chance\s+0.1\s+\[0, 1\]\s+chance an attack", block, re.M)
    finally:
        REGISTRY.pop("sometimes_test_rule", None)
    code, _out, err = run(capsys, "--targets", "embassies")
    assert code == 2 and "unknown value 'embassies'" in err


def test_help_names_the_filters(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["rules", "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "--responds-to" in out and "--targets" in out
