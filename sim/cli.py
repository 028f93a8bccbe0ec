"""The ``escalation`` command line: argument parsing and error handling, nothing else.

Each subcommand lives in its own module under ``sim/commands/`` with two functions,
``add_arguments(parser)`` and ``main(args) -> int``; this file only wires them together and
turns :class:`sim.errors.InputError` into one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from sim.errors import InputError

#: Subcommand name -> (module under sim.commands, one-line help).
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("run", "run a scenario's ensemble and write events, daily series, summary, figure"),
    "compare": ("compare", "run several scenarios and set their outcomes side by side"),
    "lull": ("lull", "the 2024 lull: U.S. strikes or Iran's stand-down? paired what-ifs"),
    "sweep": ("sweep", "run a parameter sweep (local processes or a Dask cluster)"),
    "analyze": ("analyze", "sensitivity indices and response surfaces of a sweep"),
    "discover": ("discover", "scenario discovery: the parameter boxes where an outcome happens"),
    "calibrate": ("calibrate", "fit the model to the documented record (ABC-SMC)"),
    "validate": ("validate", "posterior predictive checks and out-of-sample scores"),
    "backtest": ("backtest", "rolling-origin forecasts of the record against baselines"),
    "record": ("record", "the documented 2019-2024 record: summary and timeline"),
    "import": ("import_", "ACLED or PLOVER/POLECAT event data into the record's format"),
    "scenarios": ("scenarios", "list the scenario library and its questions, or copy it"),
    "rules": ("rules", "list the deterrence rules and their parameters"),
    "schema": ("schema", "print the JSON Schema of the scenario or sweep file format"),
    "docs": ("docs", "regenerate docs/scenarios.md, docs/cli.md and docs/schemas/ from the code"),
    "bench": ("bench", "benchmark the engines and sweeps"),
    "viz": ("viz", "open the interactive model page (Solara)"),
}


def _available(names=None) -> dict[str, object]:
    mods = {}
    for name, (module, _help) in COMMANDS.items():
        if names is not None and name not in names:
            continue
        try:
            mods[name] = importlib.import_module(f"sim.commands.{module}")
        except ModuleNotFoundError as err:
            if err.name != f"sim.commands.{module}":
                raise
    return mods


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole parser; with ``only``, that command's module alone is imported (the others
    are listed by name and help), so that a command does not pay for the imports of all
    the others (the record command's pandas and pydantic cost a sweep ~0.45 s)."""
    parser = argparse.ArgumentParser(
        prog="escalation",
        description="Simulate escalation between Iran-backed Iraqi militias, U.S. forces "
                    "and the Iraqi government, 2019-2024.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    mods = _available(None if only is None else {only})
    for name in COMMANDS:
        if only is not None and name != only:
            sub.add_parser(name, help=COMMANDS[name][1], description=COMMANDS[name][1])
        elif name in mods:
            p = sub.add_parser(name, help=COMMANDS[name][1], description=COMMANDS[name][1])
            mods[name].add_arguments(p)
            p.set_defaults(_handler=mods[name].main)
    return parser


def _command_in(argv: list[str]) -> str | None:
    """The subcommand, if it is the first argument and its module loads (else the whole
    parser is built, and argparse explains the command line)."""
    first = argv[0] if argv else None
    return first if first in COMMANDS and _available({first}) else None


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(only=_command_in(argv))
    args = parser.parse_args(argv)
    if not getattr(args, "_handler", None):
        parser.print_help()
        return 2
    try:
        return int(args._handler(args) or 0)
    except InputError as err:
        print(f"escalation {args.command}: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print(f"escalation {args.command}: interrupted", file=sys.stderr)
        return 130


def command() -> None:
    """The ``escalation`` console script: :func:`main`, then exit without the garbage
    collector's last passes over everything the command loaded (``gc.freeze``): they took
    about 0.25 s of a 5 s sweep, after its output was written. :func:`main` itself (which
    tests call in-process) leaves the collector alone."""
    import gc
    code = main()
    gc.freeze()
    sys.exit(code)


if __name__ == "__main__":
    command()
