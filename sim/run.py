"""Running a scenario's ensemble: ``run(scenario, replicates, engine, seed)``.

What lives here: :func:`run` (chunks replicates through the batch engine, or one Mesa model
per replicate, with a progress bar), :class:`RunResult` and :func:`write_result` (the files
of DESIGN.md plus a manifest that says how to reproduce them). Replicate ``i`` of seed ``s``
is the same run whatever the engine's chunk size, so results do not depend on it.

What does not live here: the dynamics, plotting (``sim.plots``), the CLI (``sim.commands``).
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

import sim
from sim.errors import InputError

if TYPE_CHECKING:   # pandas is imported where frames are built: `import sim` stays light
    import pandas as pd

ENGINES = ("batch", "mesa")
DEFAULT_CHUNK = 1000
DAILY = ("auto", "full", "summary", "none")
#: ``daily="auto"`` keeps every replicate's days up to this many replicates (the default
#: ensemble), the summary above.
FULL_DAILY_UP_TO = 100


@dataclass
class RunResult:
    """An ensemble's tables (pandas) and how it was made.

    ``events`` may be given as a function that builds the table: it is then built on first
    use and kept (``run()`` does so: the events table's text columns are the largest part of
    its tables' cost, and many uses read only the summary).
    """

    scenario: Any
    engine: str
    seed: int
    replicates: int
    events: pd.DataFrame
    daily: pd.DataFrame
    summary: pd.DataFrame
    timings: dict[str, float] = field(default_factory=dict)
    posterior: str | None = None
    daily_kind: str = "full"

    def manifest(self, command: str | None = None) -> dict[str, Any]:
        return manifest(self.scenario, engine=self.engine, seed=self.seed,
                        replicates=self.replicates, timings=self.timings, command=command,
                        posterior=self.posterior, daily=self.daily_kind)

    def __getstate__(self) -> dict[str, Any]:   # pickled with its events table built
        self.events
        return self.__dict__


def _get_events(self) -> pd.DataFrame:
    events = self.__dict__["_events"]
    if callable(events):
        events = self.__dict__["_events"] = events()
    return events


def _set_events(self, events) -> None:
    self.__dict__["_events"] = events


RunResult.events = property(_get_events, _set_events, doc="The events table (built on first "
                                                             "use when given as a function).")


def run(scenario, replicates: int = 100, engine: str = "batch", seed: int | None = None,
        progress: bool = False, chunk_size: int = DEFAULT_CHUNK,
        overrides: dict[str, np.ndarray] | None = None,
        posterior: Any = None, daily: str = "auto") -> RunResult:
    """Run ``replicates`` replicates of ``scenario`` (a Scenario or a path to its TOML).

    Args:
        engine: ``batch`` (vectorised, fast) or ``mesa`` (one ``EscalationModel`` per replicate).
        seed: overrides the scenario's seed.
        overrides: dotted path -> one value per replicate (sweeps, calibration draws).
        posterior: where each replicate draws its parameters from: anything with
            ``draw(replicates, seed) -> overrides`` whose ``str()`` names it for the manifest,
            e.g. ``calibration.posterior.Draws(DIR)`` (the model does not import calibration).
        daily: the daily table: ``full`` (one row per replicate and date: 19 million rows at
            10,000 replicates), ``summary`` (one row per date, each column's mean over the
            replicates), ``none``, or ``auto`` (full up to 100 replicates, else summary).

    The summary's presence outcomes come from the engine's event codes; the events table
    (``result.events``) is built on first use, so ``timings["tables_s"]`` leaves it out.
    """
    from sim.output import daily_frame, presence_frame, summary_frame
    from sim.scenario import Scenario, load_scenario

    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    if engine not in ENGINES:
        raise InputError(None, "--engine", f"unknown engine {engine!r}; allowed: batch, mesa")
    if replicates < 1:
        raise InputError(None, "--replicates", f"must be at least 1, got {replicates}")
    if daily not in DAILY:
        raise InputError(None, "--daily", f"unknown {daily!r}; allowed: {', '.join(DAILY)}")
    if daily == "auto":
        daily = "full" if replicates <= FULL_DAILY_UP_TO else "summary"
    seed = scenario.seed if seed is None else int(seed)
    overrides = dict(overrides or {})
    if posterior is not None:
        overrides.update(posterior.draw(replicates, seed))
    t0 = time.perf_counter()
    outputs = []
    bar = _progress(replicates, f"{scenario.name} ({engine})", progress)
    if engine == "batch":
        from sim.batch import simulate
        for lo in range(0, replicates, chunk_size):
            hi = min(lo + chunk_size, replicates)
            part = {k: np.asarray(v)[lo:hi] if np.ndim(v) else v for k, v in overrides.items()}
            outputs.append(simulate(scenario.params, scenario.start, scenario.end, seed,
                                    range(lo, hi), overrides=part,
                                    record_daily={"full": True, "summary": "sum",
                                                  "none": False}[daily]))
            bar.update(hi - lo)
    else:
        from sim.model import EscalationModel
        for r in range(replicates):
            one = {k: (np.asarray(v)[r] if np.ndim(v) else v) for k, v in overrides.items()}
            model = EscalationModel(scenario, seed=seed, replicate=r, overrides=one).run()
            outputs.append(model.output())
            bar.update(1)
    bar.close()
    t1 = time.perf_counter()
    import pandas as pd   # here, not at the top: `import sim` (a sweep's workers) stays light
    whole = merge_outputs(outputs, daily)
    table = (daily_frame(whole) if daily == "full" else
             daily_summary_frame(whole) if daily == "summary" else pd.DataFrame())
    summary = summary_frame(whole)
    # Exits, presence-days, attacks per presence-day (sim.outcomes), from the event codes;
    # the events table itself is built on first use (RunResult.events).
    from sim.outcomes import with_presence
    summary = with_presence(summary, presence_frame(whole), scenario.start, scenario.end)
    t2 = time.perf_counter()
    events = _events_builder(whole)
    del whole
    return RunResult(scenario, engine, seed, replicates, events, table, summary,
                     {"simulate_s": round(t1 - t0, 3), "tables_s": round(t2 - t1, 3)},
                     str(posterior) if posterior else None, daily)


def _events_builder(out):
    """A function that builds ``out``'s events table once, then lets ``out`` go."""
    from sim.output import events_frame
    held = [out]

    def build() -> pd.DataFrame:
        frame = events_frame(held[0])
        held.clear()
        return frame
    return build


def merge_outputs(outputs: list, daily: str = "full"):
    """One engine output from several (chunks, or Mesa runs), so each table is built once,
    column by column. With ``daily="summary"`` the daily series are sums over replicates."""
    from sim.batch import EngineOutput

    first = outputs[0]
    if len(outputs) == 1 and (daily != "summary" or first.daily is None):
        return first
    if len(outputs) == 1:   # only the daily sums to take
        table = {c: v.sum(axis=1, keepdims=True, dtype=np.float64) for c, v in first.daily.items()}
        return EngineOutput(first.replicates, first.timeline, first.sites, first.events, table,
                            first.summary)
    reps = np.concatenate([o.replicates for o in outputs])
    offsets = np.cumsum([0] + [len(o.replicates) for o in outputs])
    events = None
    if first.events is not None:
        events = {c: np.concatenate([o.events[c] + (offsets[i] if c == "replicate" else 0)
                                     for i, o in enumerate(outputs)])
                  for c in first.events}
    table = None
    if first.daily is not None and daily == "full":
        table = {c: np.concatenate([o.daily[c] for o in outputs], axis=1) for c in first.daily}
    elif first.daily is not None and daily == "summary":
        table = {c: np.sum([o.daily[c].sum(axis=1, keepdims=True, dtype=np.float64)
                            for o in outputs], axis=0) for c in first.daily}
    summary = {c: np.concatenate([o.summary[c] for o in outputs]) for c in first.summary}
    return EngineOutput(reps, first.timeline, first.sites, events, table, summary)


def daily_summary_frame(out) -> pd.DataFrame:
    """One row per date: the number of replicates and each daily column's mean over them
    (``out.daily`` holds sums over the replicates, days x 1)."""
    import pandas as pd
    days = out.daily["attacks"].shape[0]
    n = len(out.replicates)
    columns = {"date": out.timeline.start + pd.to_timedelta(np.arange(days), unit="D"),
               "replicates": np.full(days, n, np.int64)}
    columns.update({c: v[:, 0] / n for c, v in out.daily.items()})
    return pd.DataFrame(columns)   # built at once: no column-by-column inserts


def _progress(total: int, desc: str, enabled: bool):
    from tqdm.auto import tqdm
    return tqdm(total=total, desc=desc, unit="run", disable=not enabled, leave=False)


def git_commit() -> str | None:
    """The project's git commit, or None outside a checkout."""
    try:
        root = Path(__file__).resolve().parent.parent
        out = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True,
                             text=True, timeout=5)
        if out.returncode != 0:
            return None
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--",
                                "sim", "calibration", "scenarios"],
                               capture_output=True, text=True, timeout=5).stdout.strip()
        return out.stdout.strip() + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return None


def manifest(scenario, **extra: Any) -> dict[str, Any]:
    """What a result folder needs to be reproduced: resolved scenario, seeds, versions."""
    from importlib.metadata import version   # not `import mesa`: 0.2-0.5 s of imports
    import pandas as pd
    derived = scenario.derived      # what the model derived from the resolved values
    return {
        "scenario": {"name": scenario.name, "path": scenario.path,
                     "resolved": scenario.resolved, **({"derived": derived} if derived else {})},
        "package": "escalation-sim", "version": sim.__version__, "git_commit": git_commit(),
        "python": platform.python_version(), "numpy": np.__version__, "mesa": version("mesa"),
        "created": pd.Timestamp.now(tz="UTC").isoformat(timespec="seconds"),
        "randomness": "replicate i uses SeedSequence(seed, spawn_key=(i,)); see sim/rng.py",
        **extra,
    }


@contextmanager
def atomic_folder(out: str | os.PathLike):
    """Yield a temporary folder beside ``out``; on success it replaces ``out``, on any error
    it is removed, so a failure leaves nothing half-written."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    tmp.chmod(0o755)
    try:
        yield tmp
        if out.exists():
            shutil.rmtree(out)
        tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_result(result: RunResult, out: str | os.PathLike, command: str | None = None,
                 figure: bool = True) -> Path:
    """Write events.parquet, daily.parquet (unless ``daily="none"``), summary.csv,
    manifest.json and timeline.png, all at once or not at all (:func:`atomic_folder`)."""
    with atomic_folder(out) as tmp:
        result.events.to_parquet(tmp / "events.parquet", index=False)
        if result.daily_kind != "none":
            result.daily.to_parquet(tmp / "daily.parquet", index=False)
        result.summary.to_csv(tmp / "summary.csv", index=False)
        if figure:
            from sim.plots.ensemble import timeline_figure
            timeline_figure(result).savefig(tmp / "timeline.png", dpi=130)
        (tmp / "manifest.json").write_text(json.dumps(result.manifest(command), indent=2,
                                                      default=str) + "\n")
    return Path(out)
