"""``escalation docs``: regenerate docs/scenarios.md, docs/cli.md and docs/schemas/ from the code.

The work is in ``sim.docs`` (also ``python -m sim.docs``); ``--check`` writes nothing and
exits 1 when a committed file is out of date, as ``tests/sim/test_docs.py`` checks.
"""

from __future__ import annotations


def add_arguments(p) -> None:
    p.add_argument("--check", action="store_true",
                   help="write nothing; exit 1 if a generated file is out of date")


def main(args) -> int:
    from sim.docs import write
    return write(check=args.check)
