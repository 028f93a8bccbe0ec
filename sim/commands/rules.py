"""``escalation rules``: the registered deterrence rules, their metadata and parameters.

What lives here: the command's arguments, the filter check and the text rendering. What does
not: the rules, their registry and the filtering itself (``sim.rules.rules_table``, which a
notebook can call directly).

Filters (``--responds-to``, ``--targets``) match a classifier value exactly and combine with
AND. A value that no registered rule declares (a typo such as ``--targets leader``) is bad
input: one line naming the option and the values known, exit code 2. A known value that no
rule matches in combination (``--responds-to deaths --targets leaders``) is a valid question
with an empty answer: a line saying so, exit code 0.
"""

from __future__ import annotations

import argparse
import textwrap
from typing import Any

from sim.errors import InputError
from sim.params import USParams
from sim.rules import REGISTRY, rules_table

#: Classifier keys the command filters on (option ``--responds-to`` for ``responds_to``).
FILTERS: tuple[str, ...] = ("responds_to", "targets")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--responds-to", metavar="X", dest="responds_to",
                        help="only rules that respond to X (e.g. attacks, deaths, harm)")
    parser.add_argument("--targets", metavar="X",
                        help="only rules that strike X (e.g. facilities, leaders)")


def main(args: argparse.Namespace) -> int:
    filters = {key: getattr(args, key) for key in FILTERS if getattr(args, key) is not None}
    for key, value in filters.items():
        known = known_values(key)
        if value not in known:
            raise InputError(None, f"--{key.replace('_', '-')}",
                             f"unknown value {value!r}; known: {', '.join(known)}")
    print(render(rules_table(**filters), filters))
    return 0


def known_values(key: str) -> list[str]:
    """The values registered rules declare for classifier ``key``, sorted."""
    return sorted({str(cls.classifier.get(key)) for cls in REGISTRY.values()})


# --- Text ---------------------------------------------------------------------------------

def _number(value: float) -> str:
    return f"{value:.10g}"


def _yes(value: Any) -> str:
    return "yes" if value else "no"


def _memory(days: int | None) -> str:
    if days is None:
        return "since the last strike"
    return f"{days} day" + ("" if days == 1 else "s")


def render_rule(row: dict[str, Any]) -> str:
    """One rule: name, description, metadata line and parameter table."""
    c = row["classifier"]
    default = "  (default rule)" if row["name"] == USParams.rule else ""
    lines = [
        f"{row['name']}{default}",
        f"  {row['description']}",
        f"  responds to: {c.get('responds_to')}   targets: {c.get('targets')}   "
        f"memory: {_memory(c.get('memory_days'))}",
        f"  proportional: {_yes(c.get('proportional'))}   escalatory: {_yes(c.get('escalatory'))}"
        f"   stochastic: {_yes(c.get('stochastic'))}",
    ]
    params = row["parameters"]
    if not params:
        lines.append("  parameters: none")
        return "\n".join(lines)
    table = [("parameter", "default", "bounds", "meaning")] + [
        (name, _number(default), f"[{_number(lo)}, {_number(hi)}]", meaning)
        for name, (default, lo, hi, meaning) in params.items()]
    widths = [max(len(r[i]) for r in table) for i in range(3)]
    for name, default, bounds, meaning in table:
        lines.append(f"  {name:<{widths[0]}}  {default:>{widths[1]}}  "
                     f"{bounds:<{widths[2]}}  {meaning}")
    return "\n".join(lines)


def render(rows: list[dict[str, Any]], filters: dict[str, str] | None = None) -> str:
    """The text the command prints for the rules in ``rows``."""
    filters = filters or {}
    where = ", ".join(f"{key}={value}" for key, value in filters.items())
    if not rows:
        return f"No registered rule has {where.replace(', ', ' and ')}." if where \
            else "No rules are registered."
    head = (f"{len(rows)} deterrence rule{'s' if len(rows) != 1 else ''}"
            f"{f' ({where})' if where else ''}.\n" + textwrap.fill(
                'A scenario picks one with [us] rule = "NAME" (or --set us.rule=NAME) and sets '
                "its parameters in [us] (e.g. --set us.rule=red_line --set us.deaths=2). "
                '"harm" is the U.S. harm ledger: '
                f"{_number(USParams.harm_per_attack)} per attack, "
                f"{_number(USParams.harm_per_wounded)} per wounded, "
                f"{_number(USParams.harm_per_killed)} per death (us.harm_per_*), halving every "
                f"{_number(USParams.harm_half_life_days)} days (us.harm_half_life_days) and "
                "reset by a strike.", width=90))
    return "\n\n".join([head] + [render_rule(row) for row in rows])
