"""Reading a finished sweep for analysis: its manifest, design and runs, and point means.

What lives here: :class:`SweepData`, :func:`load_sweep`, :func:`point_stats` and the metrics'
labels. What does not: the indices (``sim.sensitivity.indices``), the report and figures.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sim.errors import InputError


#: Axis labels (with units) of the metrics of sim.dynamics.SUMMARY_COLUMNS.
METRIC_LABELS = {
    "attacks": "militia attacks on U.S. forces (count)",
    "lethal_attacks": "lethal attacks (count)",
    "us_killed": "U.S. personnel killed (count)",
    "coalition_killed": "coalition personnel killed (count)",
    "us_wounded": "U.S. personnel wounded (count)",
    "militia_killed": "militia fighters killed (count)",
    "iraqi_killed": "Iraqis killed by U.S. strikes (count)",
    "strike_rounds": "U.S. strike rounds (count)",
    "leader_strikes": "U.S. leader strikes (count)",
    "condemnations": "Iraqi condemnations (count)",
    "highest_rung": "highest escalation rung reached (0-9)",
    "highest_rung_day": "day the highest rung was first reached (days from start)",
    "days_at_rung5plus": "days at escalation level 5+ (days)",
    "us_left_iraq": "chance the U.S. leaves Iraq (share of runs)",
    "us_left_iraq_day": "day the U.S. left Iraq (days from start, runs where it left)",
    "iran_direct_attack": "chance Iran attacks U.S. forces itself (share of runs)",
    # outcomes per day of U.S. presence (sim.outcomes): deterrence apart from expulsion
    "us_left_syria": "chance the U.S. leaves Syria (share of runs)",
    "presence_days_iraq": "days of U.S. presence in Iraq (days)",
    "presence_days_syria": "days of U.S. presence in Syria (days)",
    "attacks_iraq": "attacks in Iraq while the U.S. is there (count)",
    "attacks_syria": "attacks in Syria while the U.S. is there (count)",
    "attacks_per_100_presence_days_iraq": "attacks per 100 days of U.S. presence in Iraq",
    "attacks_per_100_presence_days_syria": "attacks per 100 days of U.S. presence in Syria",
}


BINARY = ("us_left_iraq", "iran_direct_attack", "us_left_syria")


@dataclass
class SweepData:
    dir: Path
    manifest: dict[str, Any]
    runs: pd.DataFrame
    design: pd.DataFrame
    kind: str
    names: list[str]
    params: list[dict[str, Any]]
    metrics: list[str]
    replicates: int


def sweep_files(sweep_dir: Path) -> tuple[Path, Path]:
    """A finished sweep's ``manifest.json`` and ``runs.parquet``; one line naming what is
    missing otherwise (analysis and discovery read the same two files)."""
    sweep_dir = Path(sweep_dir)
    man_path, runs_path = sweep_dir / "manifest.json", sweep_dir / "runs.parquet"
    if not sweep_dir.is_dir():
        raise InputError(str(sweep_dir), None, "no such sweep folder")
    for p in (man_path, runs_path):
        if not p.is_file():
            raise InputError(str(sweep_dir), p.name, "missing: not a finished sweep (run "
                                                     "`escalation sweep SPEC.toml` first, or "
                                                     "--resume it)")
    return man_path, runs_path


def load_sweep(sweep_dir: Path) -> SweepData:
    """The sweep's manifest, design and runs (the point, replicate and metric columns)."""
    import pyarrow.parquet as pq

    man_path, runs_path = sweep_files(sweep_dir)
    try:
        manifest = json.loads(man_path.read_text())
        design_info = manifest["design"]
        metrics = list(manifest["metrics"])
    except (ValueError, KeyError) as err:
        raise InputError(str(man_path), None, f"not a sweep manifest ({err})") from None
    names = [p["path"] for p in design_info["parameters"]]
    runs = pq.read_table(runs_path, columns=["point", "replicate", *metrics]).to_pandas()
    design = pq.read_table(sweep_dir / "design.parquet").to_pandas()
    for m in metrics:
        runs[m] = runs[m].astype(float)
    return SweepData(sweep_dir, manifest, runs, design, design_info["kind"], names,
                     design_info["parameters"], metrics, int(manifest["replicates"]))


def point_stats(data: SweepData) -> pd.DataFrame:
    """Per design point and metric: mean, sd, 5% and 95% over replicates, the number of runs
    ``n`` (for a day metric: the runs where the event happened) and the 95% interval of the
    mean (``lo``, ``hi``: Wilson for a share, with ``k`` the runs where it happened; Student t
    otherwise); joined to the point's parameter values."""
    from sim.sensitivity.intervals import t_interval, wilson

    g = data.runs.groupby("point", sort=True)[data.metrics]
    parts = {"mean": g.mean(), "sd": g.std(ddof=1), "q05": g.quantile(0.05),
             "q95": g.quantile(0.95), "n": g.count()}
    lo, hi = t_interval(parts["mean"], parts["sd"], parts["n"])
    parts["lo"] = pd.DataFrame(lo, index=parts["mean"].index, columns=parts["mean"].columns)
    parts["hi"] = pd.DataFrame(hi, index=parts["mean"].index, columns=parts["mean"].columns)
    parts["k"] = g.sum()
    for m in data.metrics:
        if m in BINARY:
            parts["lo"][m], parts["hi"][m] = wilson(parts["k"][m], parts["n"][m])
    parts["k"] = parts["k"][[m for m in data.metrics if m in BINARY]]
    frame = pd.concat({k: v for k, v in parts.items()}, axis=1)
    frame.columns = [f"{m}:{stat}" for stat, m in frame.columns]
    design = data.design.set_index("point")[data.names]
    return design.join(frame, how="inner").reset_index()


def _label(m: str) -> str:
    return METRIC_LABELS.get(m, m)


def _fmtv(v) -> str:
    if isinstance(v, str):
        return v
    return f"{float(v):g}"
