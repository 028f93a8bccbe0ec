"""``escalation discover SWEEP_DIR --outcome EXPR``: scenario discovery (PRIM boxes).

The work is in ``sim.discovery``; this module parses flags and prints the chosen box.
"""

from __future__ import annotations

from sim.errors import InputError


def add_arguments(p) -> None:
    from sim.discovery import DENSITY_THRESHOLD, MIN_COVERAGE

    p.add_argument("sweep_dir", metavar="SWEEP_DIR",
                   help="a finished sweep folder (holding runs.parquet and manifest.json)")
    p.add_argument("--outcome", required=True, metavar="EXPR",
                   help="the outcome to explain: an outcome column of runs.parquet, one of "
                        ">=, >, <=, <, == and a number, e.g. 'us_killed >= 5' or "
                        "'us_left_iraq == 1'")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="where to write (default SWEEP_DIR/discovery)")
    p.add_argument("--min-coverage", type=float, default=MIN_COVERAGE, metavar="C",
                   help=f"the chosen box is the densest one covering at least this share of "
                        f"the outcome's runs (default {MIN_COVERAGE})")
    p.add_argument("--threshold", type=float, default=DENSITY_THRESHOLD, metavar="D",
                   help=f"PRIM stops peeling at this density (default {DENSITY_THRESHOLD})")
    p.add_argument("--no-figures", action="store_true", help="tables only")


def main(args) -> int:
    from sim.discovery import discover_sweep

    for flag, value in (("--min-coverage", args.min_coverage), ("--threshold", args.threshold)):
        if not 0 < value <= 1:
            raise InputError(None, flag, f"must be in (0, 1], got {value}")
    found = discover_sweep(args.sweep_dir, args.outcome, args.out,
                           figures=not args.no_figures, threshold=args.threshold,
                           min_coverage=args.min_coverage)
    print(found.words())
    print(f"wrote {found.out}/ (boxes.csv: the {len(found.boxes)} boxes of the peeling "
          f"trajectory; chosen_box.csv, discovery.json"
          + (", " + ", ".join(f.name for f in found.figures) if found.figures else "") + ")")
    return 0
