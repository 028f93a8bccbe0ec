"""``analyze(SWEEP_DIR)``: the whole analysis of a sweep, written to SWEEP_DIR/analysis.

What lives here: :func:`analyze` and :class:`Analysis`, which read the sweep
(``sim.sensitivity.data``), compute the design's indices (``sim.sensitivity.indices``),
write the tables, the report (``sim.sensitivity.report``) and the figures
(``sim.sensitivity.figures``), all at once or not at all.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from sim.errors import InputError
from sim.sensitivity.data import SweepData, load_sweep, point_stats
from sim.sensitivity.figures import _fig_grid, _fig_indices, _fig_morris, _fig_scatter
from sim.sensitivity.indices import grid_effects, morris_indices, sample_indices, sobol_indices
from sim.sensitivity.report import (_report_grid, _report_head, _report_morris, _report_sample,
                                    _report_sobol)


@dataclass
class Analysis:
    """What :func:`analyze` found and wrote."""

    out: Path
    report: str
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    figures: list[Path] = field(default_factory=list)


def analyze(sweep_dir: str | os.PathLike, out: str | os.PathLike | None = None, *,
            seed: int = 0, figures: bool = True) -> Analysis:
    """Analyse the sweep in ``sweep_dir``; write CSVs, PNGs and report.md to ``out``
    (default ``sweep_dir/analysis``), replacing it whole (written aside, then moved).

    Raises:
        InputError: ``sweep_dir`` is not a finished sweep (no runs.parquet or manifest.json).
    """
    sweep_dir = Path(sweep_dir)
    data = load_sweep(sweep_dir)
    out = Path(out) if out is not None else sweep_dir / "analysis"
    from sim.run import atomic_folder
    with atomic_folder(out) as tmp:
        result = _analyze(data, tmp, seed, figures)
    result.out = out
    result.figures = [out / f.name for f in result.figures]
    return result


def _analyze(data: SweepData, out: Path, seed: int, figures: bool) -> Analysis:
    import matplotlib
    matplotlib.use("Agg")

    stats = point_stats(data)
    stats.to_csv(out / "point_means.csv", index=False)
    tables: dict[str, pd.DataFrame] = {"point_means": stats}
    figs: list[Path] = []
    notes: list[str] = []
    if data.kind == "saltelli":
        sobol, s2 = sobol_indices(data, stats, seed, notes)
        tables["sobol_indices"] = sobol
        sobol.to_csv(out / "sobol_indices.csv", index=False)
        if s2 is not None and len(s2):
            tables["sobol_s2"] = s2
            s2.to_csv(out / "sobol_s2.csv", index=False)
        body = _report_sobol(data, sobol, s2)
        if figures and len(sobol):
            figs.append(_fig_indices(data, sobol, out / "sobol_indices.png"))
    elif data.kind == "morris":
        morris = morris_indices(data, stats, seed, notes)
        tables["morris_indices"] = morris
        morris.to_csv(out / "morris_indices.csv", index=False)
        body = _report_morris(data, morris)
        if figures and len(morris):
            figs.append(_fig_morris(data, morris, out / "morris.png"))
    elif data.kind in ("lhs", "sobol"):
        corr = sample_indices(data, stats, seed, notes)
        tables["rank_correlations"] = corr
        corr.to_csv(out / "rank_correlations.csv", index=False)
        body = _report_sample(data, corr)
        if figures:
            for m in data.metrics:
                figs.append(_fig_scatter(data, stats, m, out / f"scatter_{m}.png"))
    elif data.kind == "grid":
        effects = grid_effects(data, stats)
        tables["grid_effects"] = effects
        effects.to_csv(out / "grid_effects.csv", index=False)
        body = _report_grid(data, stats, effects)
        if figures:
            figs += _fig_grid(data, stats, out)
    else:
        raise InputError(str(data.dir / "manifest.json"), "design.kind",
                         f"unknown design {data.kind!r}")
    report = _report_head(data) + body + ("\n## Notes\n\n" + "\n".join(f"- {n}" for n in notes)
                                          + "\n" if notes else "")
    if figs:
        report += "\n## Figures\n\n" + "\n".join(f"- `{f.name}`" for f in figs) + "\n"
    (out / "report.md").write_text(report)
    return Analysis(out, report, tables, figs)
