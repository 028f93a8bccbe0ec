"""``escalation import``: an ACLED or PLOVER/POLECAT export into the record's format.

Writes ``--out`` (an ``events.csv``-shaped file that ``escalation record --record`` and
``escalation calibrate --record`` read) and, beside it, ``<out>.unmapped.csv``: every row
that was not mapped, with its line and reason. Prints "kept N, unmapped M: reasons". The
whole export is read and checked before anything is written: bad input (a missing column, a
bad date, a row of the wrong width) writes nothing and exits 2 with one line naming the file,
the line and the column. The mapping itself lives in ``calibration.importers``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sim.errors import InputError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", type=Path, help="the export (CSV or TSV)")
    parser.add_argument("--format", required=True, choices=("acled", "plover"),
                        help="acled (an ACLED export) or plover (PLOVER-coded data such as "
                             "POLECAT)")
    parser.add_argument("--out", required=True, metavar="FILE.csv", type=Path,
                        help="the record file to write (events.csv columns)")
    parser.add_argument("--force", action="store_true",
                        help="replace --out if it exists")


def main(args: argparse.Namespace) -> int:
    from calibration.importers import import_events, unmapped_path, write_import
    out: Path = args.out
    if out.resolve() == args.file.resolve():
        raise InputError(None, "--out", "must not be the file being imported")
    if out.suffix.lower() != ".csv":
        raise InputError(None, "--out", f"{str(out)!r} must end in .csv")
    if out.exists() and not args.force:
        raise InputError(str(out), None, "exists; give --force to replace it")
    result = import_events(args.file, args.format)
    out, report = write_import(result, out)
    print(f"{args.file}: {result.summary()}")
    def rows(n: int) -> str:
        return f"{n} row{'s' if n != 1 else ''}"
    print(f"wrote {out} ({rows(len(result.rows))}) and {report} "
          f"({rows(len(result.unmapped))}, with reasons)")
    return 0
