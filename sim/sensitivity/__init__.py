"""Sensitivity analysis of a finished sweep: the analyses apart from their report and figures.

    data.py      the sweep read back: manifest, design, runs, point means (load_sweep)
    indices.py   the analyses, one per design: Sobol, Morris, rank correlations, grid effects
    report.py    report.md, in words
    figures.py   the PNG figures
    analysis.py  analyze(SWEEP_DIR): all of the above, written to SWEEP_DIR/analysis at once

What does not live here: running sweeps (``sim.sweep``), the command line
(``sim.commands.analyze``). Everything importable from ``sim.sensitivity`` before it became
a package still is (the names below).
"""

from sim.sensitivity.analysis import Analysis, analyze
from sim.sensitivity.data import BINARY, METRIC_LABELS, SweepData, load_sweep, point_stats
from sim.sensitivity.indices import (CONF_LEVEL, NUM_RESAMPLES, grid_effects, morris_indices,
                                     sample_indices, sobol_indices)
from sim.sensitivity.report import ST_MATTERS, ST_NEGLIGIBLE

__all__ = ["analyze", "Analysis", "load_sweep", "SweepData", "point_stats", "sobol_indices",
           "morris_indices", "sample_indices", "grid_effects", "METRIC_LABELS", "BINARY",
           "CONF_LEVEL", "NUM_RESAMPLES", "ST_MATTERS", "ST_NEGLIGIBLE"]
