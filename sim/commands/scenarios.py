"""``escalation scenarios``: the scenario library shipped with the package, and a copy to edit.

What lives here: the command's arguments, the listing (each scenario's name and question,
its ``description``; each sweep spec's) and the copy. What does not: where the library is and
how a name is resolved (``sim.scenario.LIBRARY``, :func:`sim.scenario.scenario_path`).

Why a copy: the library is package data, so an installed package runs ``escalation run
history`` by name from any folder, but its files are not for editing in place (a reinstall
replaces them). ``escalation scenarios copy DIR`` writes them, the parameter file
``calibrated.toml`` and ``sweeps/`` included, so that ``extends`` and a sweep's
``scenario = "../history.toml"`` keep working in the copy. It refuses to overwrite a file
already there (exit 2, nothing written) unless given ``--force``.
"""

from __future__ import annotations

import argparse
import shutil
import textwrap
from pathlib import Path

from sim.errors import InputError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", nargs="?", choices=("list", "copy"), default="list",
                        help="list (default): names and questions; copy: write the files to DIR")
    parser.add_argument("dir", nargs="?", metavar="DIR", help="where `copy` writes the files")
    parser.add_argument("--force", action="store_true",
                        help="copy: replace files of the same name already in DIR")


def main(args: argparse.Namespace) -> int:
    if args.action == "copy":
        return _copy(args.dir, args.force)
    if args.dir is not None:
        raise InputError(None, "DIR", "only with `copy` (escalation scenarios copy DIR)")
    print(listing())
    return 0


def listing(width: int = 92) -> str:
    """The library as text: each scenario's and sweep spec's name with its question."""
    from sim.scenario import library

    def block(title: str, items: list) -> list[str]:
        lines = [title]
        for name, _file, description in items:
            lines.append(f"  {name}")
            lines += textwrap.wrap(description or "(no description)", width,
                                   initial_indent="      ", subsequent_indent="      ")
        return lines

    lines = block("Scenarios (escalation run NAME, escalation compare NAME NAME ...):",
                  library("scenario"))
    lines += [""] + block("Sweep specs (escalation sweep NAME):", library("sweep"))
    lines += ["", "To edit them: escalation scenarios copy DIR, then escalation run "
                  "DIR/history.toml."]
    return "\n".join(lines)


def _copy(target: str | None, force: bool) -> int:
    from sim.scenario import LIBRARY

    if not target:
        raise InputError(None, "DIR", "copy needs a folder: escalation scenarios copy DIR")
    out = Path(target)
    if out.exists() and not out.is_dir():
        raise InputError(target, "DIR", "is a file, not a folder")
    files = sorted(LIBRARY.glob("*.toml")) + sorted((LIBRARY / "sweeps").glob("*.toml"))
    pairs = [(f, out / f.relative_to(LIBRARY)) for f in files]
    there = [dst for _src, dst in pairs if dst.exists()]
    if there and not force:
        raise InputError(str(there[0]), None, f"already exists ({len(there)} of the "
                                              f"{len(pairs)} files are there); pass --force "
                                              "to replace them or choose another DIR")
    for src, dst in pairs:
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)
    print(f"copied {len(pairs)} files to {out}/ (sweeps in {out / 'sweeps'}/); run one with "
          f"escalation run {out / 'history.toml'}")
    return 0
