"""``escalation bench [--quick] [--table] [--json FILE]``: benchmark the engines, runs,
sweeps and calibration (issue 12's table, with ratios to ``bench/baseline.json``).

The benchmark lives in ``bench/bench.py`` of the source checkout (it is a development tool,
not part of the installed package); this command loads and runs it.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from sim.errors import InputError

BENCH = Path(__file__).resolve().parents[2] / "bench" / "bench.py"


def add_arguments(p) -> None:
    p.add_argument("--quick", action="store_true",
                   help="tiny sizes and a 90-day window: a smoke test in seconds")
    p.add_argument("--table", action="store_true",
                   help="only the table (engines, run(), sweep command, calibration)")
    p.add_argument("--json", default=None, metavar="FILE",
                   help="also write the table's figures to FILE (bench/baseline.json on a "
                        "release)")


def load_bench():
    """The ``bench/bench.py`` module of this checkout."""
    if not BENCH.is_file():
        raise InputError(str(BENCH), None, "not found: escalation bench runs from a source "
                                           "checkout of escalation-sim")
    spec = importlib.util.spec_from_file_location("escalation_bench", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(args) -> int:
    return load_bench().run(quick=args.quick, table_only=args.table, json_out=args.json)
