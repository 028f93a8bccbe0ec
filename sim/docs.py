"""Generated references: docs/scenarios.md and docs/cli.md, regenerated from the code.

What lives here: one function per generated block (the parameter tables of docs/scenarios.md
from ``sim.params``, ``sim.rules`` and ``sim.schema``; each command's usage and options in
docs/cli.md from ``sim.cli``'s parsers), :func:`regenerate` that rewrites the blocks of a
document, and :func:`main` (``python -m sim.docs`` or ``escalation docs``; ``--check`` fails
when a committed file differs, as ``tests/sim/test_docs.py`` does).

A generated block sits between two markers, and everything outside them is prose that
people write::

    <!-- generated: iran -->
    | key | default | allowed | meaning | source |
    ...
    <!-- end generated -->

docs/cli.md gets a section (usage and options, to be described by hand) for every command in
``sim.cli.COMMANDS`` that it does not have yet, so a new command shows up after a rerun.
This module belongs to the top layer (it builds the command line's parsers).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
import sys
from pathlib import Path
from typing import Any, Callable

from sim import events as ev
from sim import params as P

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
_BLOCK = re.compile(r"<!-- generated: (?P<name>[\w.:-]+) -->\n(?P<body>.*?)<!-- end generated -->",
                    re.S)
#: Width of the generated usage lines (argparse wraps at the terminal's width otherwise).
USAGE_WIDTH = 96


# --- Formatting --------------------------------------------------------------------------------

def _num(x: Any) -> str:
    if isinstance(x, str):
        return x if x else '""'
    return f"{x:g}"


def _allowed(lo: Any, hi: Any, integer: bool = False) -> str:
    if lo is None and hi is None:
        return ""
    return f"{_num(lo)} to {_num(hi)}" + (" (whole)" if integer else "")


def _codes(names: Any, last: str = ", ") -> str:
    return ", ".join(f"`{n}`" for n in names)


def _rows(header: list[str], rows: list[list[str]]) -> str:
    def line(cells: list[str]) -> str:
        return "|" + "|".join(f" {c} " if c else " " for c in cells) + "|"
    lines = [line(header), "|" + "---|" * len(header)] + [line(r) for r in rows]
    return "\n".join(lines) + "\n"


def _declared(cls: type) -> list[dataclasses.Field]:
    return [f for f in dataclasses.fields(cls) if "doc" in f.metadata]


#: What a text parameter may hold (sim.schema checks the same).
_TEXT_ALLOWED = {("SiteParams", "country"): "`iraq`, `syria`, `jordan`",
                 ("SiteParams", "until"): 'a date, or ""',
                 ("USParams", "rule"): "a registered rule"}


def param_table(cls: type) -> str:
    """key, default, allowed, meaning, source of a parameter dataclass."""
    rows = []
    for f in _declared(cls):
        m = f.metadata
        allowed = _TEXT_ALLOWED.get((cls.__name__, f.name), "text") \
            if isinstance(f.default, str) else _allowed(m["lo"], m["hi"], m["integer"])
        rows.append([f"`{f.name}`", _num(f.default), allowed, m["doc"], m["source"]])
    return _rows(["key", "default", "allowed", "meaning", "source"], rows)


def defaults_table(cls: type, defaults: dict[str, dict[str, Any]]) -> str:
    """Each named instance's defaults (factions, weapons, sites), one row each."""
    names = [f.name for f in _declared(cls)]
    rows = []
    for key, values in defaults.items():
        obj = cls(**values)
        rows.append([f"`{key}`"] + [_num(getattr(obj, n)) for n in names])
    return _rows([""] + [f"`{n}`" for n in names], rows)


# --- docs/scenarios.md -------------------------------------------------------------------------

_TOP = [
    ("name", "the file's name", "text", "the scenario's name in results and figures (not "
                                        "inherited through `extends`)"),
    ("description", '""', "text", "the question the scenario asks (not inherited)"),
    ("start", P.DEFAULT_START, 'a date (TOML date or "YYYY-MM-DD")', "first simulated day"),
    ("end", P.DEFAULT_END, "a date, not before `start`", "last simulated day"),
    ("seed", str(P.DEFAULT_SEED), f"{P.SEED_BOUNDS[0]} to 2^63-1 (whole)",
     "randomness: replicate *i* of seed *s* is always the same run"),
    ("extends", "none", "a path, relative to this file",
     "a scenario this one inherits from (see below)"),
    ("shock_scale", _num(P.ModelParams.shock_scale), _allowed(*P.SHOCK_SCALE_BOUNDS),
     "multiplies the size of every shock"),
]


def top_table() -> str:
    rows = [[f"`{k}`", d, a, m] for k, d, a, m in _TOP]
    rows += [["`[iran]`, `[militias]`, `[weapons]`, `[sites]`, `[us]`, `[iraq]`, "
              "`[observation]`", "", "tables", "below"],
             ["`[[shocks]]`", "none", "array of tables", "dated exogenous drivers"],
             ["`[replay]`", "none", "table", "history replay: force, remove, add documented "
                                              "events"]]
    return (_rows(["key", "default", "allowed", "meaning"], rows)
            + f"\nDates of the run must lie within {P.DATE_MIN} to {P.DATE_MAX}.\n")


def factions_intro() -> str:
    return (f"One table per faction; `<faction>` is one of {_codes(ev.FACTIONS)}.\n\n"
            + param_table(P.FactionParams))


def rules_table() -> str:
    from sim.rules import REGISTRY
    rows = []
    for name, cls in sorted(REGISTRY.items()):
        if not cls.parameters:
            doc = (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else ""
            rows.append([f"`{name}`", "(none)", "", "", doc])
        for key, (default, lo, hi, doc) in cls.parameters.items():
            rows.append([f"`{name}`", f"`{key}`", _num(default), _allowed(lo, hi), doc])
    return _rows(["rule", "parameter", "default", "allowed", "meaning"], rows)


def shocks_table() -> str:
    half = {f.name: f for f in dataclasses.fields(P.Shock)}["half_life_days"].metadata
    rows = []
    for kind, doc in P.SHOCK_KINDS.items():
        keys = []
        for key in P.SHOCK_FIELDS[kind]:
            if key == "size":
                keys.append(f"`size` ({_allowed(*P.SHOCK_SIZE_BOUNDS[kind])})")
            elif key == "half_life_days":
                keys.append(f"`half_life_days` ({_allowed(half['lo'], half['hi'])})")
            else:
                keys.append(f"`{key}`")
        rows.append([f"`{kind}`", doc, ", ".join(keys)])
    return _rows(["kind", "what it does", "keys (size bounds)"], rows)


def replay_table() -> str:
    from sim.schema import REPLAY_FORCEABLE
    rows = [["`force`", f"a list of {_codes(REPLAY_FORCEABLE)}",
             "actor kinds whose documented actions happen on their dates instead of being "
             "decided by the model"],
            ["`remove`", "a list of `event_id`s of `calibration/data/events.csv`",
             "documented events that do not happen; each must belong to a forced actor kind"],
            ["`until`", "a date inside the window",
             "the record is forced up to and including this day only; after it the forced "
             "actors decide for themselves (a forecast conditioned on the documented history; "
             "default: the whole window)"],
            ["`[[replay.add]]`", "tables of event columns",
             "events that happen whatever is forced"]]
    return _rows(["key", "allowed", "meaning"], rows)


def replay_add_table() -> str:
    actions = "; ".join(f"{kind}: {_codes(acts)}" for kind, acts in ev.ACTIONS.items())
    casualties = ", ".join(f"`{c}`" for c in ev.CASUALTY_COLUMNS)
    rows = [["`date`", "a date"],
            ["`actor_kind`", _codes(ev.ACTOR_KINDS)],
            ["`actor`", f"for a militia event, one of {_codes(ev.MILITIA_ACTORS)}; otherwise "
                        "the actor kind"],
            ["`action`", f"by actor kind: {actions}"],
            ["`target`", "a militia actor, `us`, `iraq` or `iran`"],
            ["`weapon`", _codes(w for w in ev.WEAPONS if w)],
            ["`site`", "a site of the table above"],
            ["`country`", _codes(c for c in ev.COUNTRIES if c)],
            ["`intercepted`", "true or false"],
            [casualties, f"whole numbers, 0 to {P.MAX_CASUALTIES}"],
            ["`description`", "text"]]
    return _rows(["key", "allowed"], rows)


SCENARIO_BLOCKS: dict[str, Callable[[], str]] = {
    "top": top_table,
    "iran": lambda: param_table(P.IranParams),
    "militias": lambda: param_table(P.MilitiaCommon),
    "faction": factions_intro,
    "faction-defaults": lambda: defaults_table(P.FactionParams, P.FACTION_DEFAULTS),
    "weapon": lambda: param_table(P.WeaponParams),
    "weapon-defaults": lambda: defaults_table(P.WeaponParams, P.WEAPON_DEFAULTS),
    "site": lambda: param_table(P.SiteParams),
    "site-defaults": lambda: defaults_table(P.SiteParams, P.SITE_DEFAULTS),
    "us": lambda: param_table(P.USParams),
    "rules": rules_table,
    "iraq": lambda: param_table(P.IraqParams),
    "observation": lambda: param_table(P.ObservationParams),
    "shocks": shocks_table,
    "replay": replay_table,
    "replay-add": replay_add_table,
}


# --- docs/cli.md -------------------------------------------------------------------------------

def _subparsers() -> dict[str, argparse.ArgumentParser]:
    from sim.cli import build_parser
    old = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(USAGE_WIDTH + 2)     # argparse wraps at COLUMNS - 2
    try:
        parser = build_parser()
    finally:
        if old is None:
            os.environ.pop("COLUMNS")
        else:
            os.environ["COLUMNS"] = old
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def usage(name: str) -> str:
    text = _subparsers()[name].format_usage().removeprefix("usage: ").rstrip()
    lines = text.split("\n")
    lines[1:] = [line[len("usage: "):] if line.startswith(" " * 7) else line
                 for line in lines[1:]]
    return "```\n" + "\n".join(lines) + "\n```\n"


def options(name: str) -> str:
    rows = []
    for a in _subparsers()[name]._actions:
        if isinstance(a, argparse._HelpAction):
            continue
        if a.option_strings:
            flag = ", ".join(a.option_strings)
            if a.nargs != 0:
                shown = a.metavar or ("{" + ",".join(map(str, a.choices)) + "}" if a.choices
                                      else a.dest.upper())
                flag += f" {shown}"
        else:
            flag = a.metavar or a.dest
        help_text = (a.help or "").replace("%(default)s", str(a.default)).replace("|", "\\|")
        rows.append([f"`{flag}`", help_text])
    return _rows(["argument", "meaning"], rows) if rows else "No options.\n"


def commands_table() -> str:
    from sim.cli import COMMANDS
    names = _subparsers()
    return _rows(["command", "what it does"],
                 [[f"[`{n}`](#escalation-{n})", help_] for n, (_m, help_) in COMMANDS.items()
                  if n in names])


def cli_blocks() -> dict[str, Callable[[], str]]:
    blocks: dict[str, Callable[[], str]] = {"commands": commands_table}
    for name in _subparsers():
        blocks[f"usage:{name}"] = lambda n=name: usage(n)
        blocks[f"options:{name}"] = lambda n=name: options(n)
    return blocks


def _new_sections(text: str) -> str:
    """Usage and options for every command: under its own heading when docs/cli.md has one
    without them (written by hand), else in a new section before "From Python"."""
    new = ""
    for n in _subparsers():
        if f"<!-- generated: usage:{n} -->" in text:
            continue
        blocks = (f"<!-- generated: usage:{n} -->\n<!-- end generated -->\n\n"
                  f"<!-- generated: options:{n} -->\n<!-- end generated -->\n\n")
        heading = f"## `escalation {n}`\n\n"
        if heading in text:
            at = text.index(heading) + len(heading)
            if text.startswith("```\n", at):          # a hand-written usage block: replaced
                end = text.index("```\n", at + 4) + 4
                text = text[:at] + blocks + text[end:].lstrip("\n")
            else:
                text = text[:at] + blocks + text[at:]
        else:
            new += heading + blocks
    if not new:
        return text
    at = text.find("## From Python")
    return text + "\n" + new if at < 0 else text[:at] + new + text[at:]


# --- Regeneration ------------------------------------------------------------------------------

def regenerate(text: str, blocks: dict[str, Callable[[], str]], file: str = "") -> str:
    """``text`` with every generated block rewritten; an unknown block name is an error."""
    def fill(m: re.Match) -> str:
        name = m.group("name")
        if name not in blocks:
            raise SystemExit(f"{file}: unknown generated block {name!r}; known: "
                             f"{', '.join(blocks)}")
        return f"<!-- generated: {name} -->\n{blocks[name]()}<!-- end generated -->"
    return _BLOCK.sub(fill, text)


def generated(docs: Path = DOCS) -> dict[Path, str]:
    """What the generated references should hold: path -> text (docs/scenarios.md,
    docs/cli.md, and the JSON Schemas in docs/schemas/ that editors are pointed at)."""
    import json

    from sim.schema import json_schema
    scenarios, cli = docs / "scenarios.md", docs / "cli.md"
    out = {scenarios: regenerate(scenarios.read_text(), SCENARIO_BLOCKS, str(scenarios)),
           cli: regenerate(_new_sections(cli.read_text()), cli_blocks(), str(cli))}
    for kind in ("scenario", "sweep"):
        out[docs / "schemas" / f"{kind}.schema.json"] = json.dumps(json_schema(kind),
                                                                   indent=2) + "\n"
    return out


def main(argv: list[str] | None = None) -> int:
    """``python -m sim.docs [--check]``: rewrite the generated references, or (``--check``)
    list the stale ones and fail."""
    parser = argparse.ArgumentParser(prog="python -m sim.docs", description=__doc__.split(
        "\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if a generated file is out of date")
    args = parser.parse_args(argv)
    return write(check=args.check)


def write(check: bool = False, docs: Path = DOCS) -> int:
    stale = []
    for path, text in generated(docs).items():
        if not path.is_file() or path.read_text() != text:
            stale.append(path)
            if not check:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text)
    for path in stale:
        rel = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
        print(f"{rel}: {'out of date; run `escalation docs`' if check else 'regenerated'}")
    if not stale:
        print("docs/scenarios.md, docs/cli.md and docs/schemas/ are up to date")
    return 1 if (check and stale) else 0


if __name__ == "__main__":
    sys.exit(main())
