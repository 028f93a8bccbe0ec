"""``escalation analyze SWEEP_DIR``: sensitivity indices, response surfaces and a report.

The work is in ``sim.sensitivity``; this module parses flags and prints the report.
"""

from __future__ import annotations


def add_arguments(p) -> None:
    p.add_argument("sweep_dir", metavar="SWEEP_DIR",
                   help="a finished sweep folder (holding runs.parquet and manifest.json)")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="where to write (default SWEEP_DIR/analysis)")
    p.add_argument("--seed", type=int, default=0, help="seed of the bootstrap intervals")
    p.add_argument("--no-figures", action="store_true", help="tables and report only")


def main(args) -> int:
    from sim.sensitivity import analyze

    result = analyze(args.sweep_dir, args.out, seed=args.seed, figures=not args.no_figures)
    print(result.report)
    print(f"wrote {result.out}/ (report.md, "
          + ", ".join(sorted(f"{k}.csv" for k in result.tables))
          + (f", {len(result.figures)} figures" if result.figures else "") + ")")
    return 0
