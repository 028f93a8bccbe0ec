"""``escalation bench [--quick]``: benchmark the engines and sweeps.

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
    return load_bench().run(quick=args.quick)
