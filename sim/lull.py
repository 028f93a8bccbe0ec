"""The 2024 lull (issue 10, item 11): did the U.S. strikes or Iran's order to stand down end
the 2023-2024 campaign?

After Tower 22 (2024-01-28) Kataib Hezbollah announced a suspension (2024-01-30, after the
Quds Force chief Qaani visited Baghdad), the U.S. struck 85 targets on 2024-02-02 and a KH
commander on 2024-02-07, and attacks on U.S. forces nearly stopped until mid-July. The model
asks it with three what-ifs of ``history`` (docs/lull.md): ``lull_no_feb_strikes`` (no U.S.
strike round from 2024-02-02 on), ``lull_no_stand_down`` (Iran never orders a stand-down),
``lull_neither`` (both). Each runs on history's seed, so replicate ``i`` of every scenario
shares its random numbers with history's replicate ``i`` (common random numbers) and the
differences are paired.

What lives here: :func:`run_lull` (the four scenarios, one seed, one replicate count),
:func:`lull_table` (per what-if: the median lull attacks, the median paired difference from
history and the share of the lull it explains, each with a 90% bootstrap interval),
:func:`record_lull` (the record's attacks in the window, counted the same way) and
:func:`weekly_attacks` (attacks per week per replicate, for the figure of
``sim.plots.lull``). The lull outcome itself, ``lull_attacks``, is counted in
``sim.outcomes`` (:data:`sim.outcomes.WINDOWS`), so ``escalation compare`` has it too.

Nothing here names the model's mechanisms: the functions run whatever the scenario files
and the model say, so the table can be made again after the model changes.
"""

from __future__ import annotations

from typing import Iterable

import numpy as np
import pandas as pd

from sim.comparison import comparison_table
from sim.errors import InputError
from sim.outcomes import ATTACK_ACTIONS, WINDOWS, window_attacks

#: The outcome: attacks (militias' and Iran's) 2024-02-05..2024-07-15, per run.
METRIC = "lull_attacks"
FIRST, LAST = WINDOWS[METRIC]
#: The reference and the what-ifs, in the table's order; the last is the one in which
#: neither the strikes nor the stand-down happen (the denominator of the shares).
REFERENCE = "history"
WHAT_IFS = ("lull_no_feb_strikes", "lull_no_stand_down", "lull_neither")
SCENARIOS = (REFERENCE, *WHAT_IFS)
#: The intervals: 90%, from 2000 bootstrap resamples of the replicates.
LEVEL = 0.90
BOOT = 2000
#: The figure's window: January to August 2024.
FIGURE_WINDOW = ("2024-01-01", "2024-08-31")

#: The columns of :func:`lull_table`, in order.
TABLE_COLUMNS = ("scenario", "runs", "median", "q05", "q95", "mean", "diff", "diff_lo",
                 "diff_hi", "diff_mean", "share", "share_lo", "share_hi", "share_mean",
                 "changed_runs")


def run_lull(replicates: int = 100, seed: int | None = None, *,
             scenarios: Iterable = SCENARIOS, record=None, engine: str = "batch",
             daily: str = "none", progress: bool = False) -> dict:
    """Run the reference and the what-ifs on one seed and replicate count.

    Args:
        replicates: paired runs per scenario.
        seed: the common seed (default: the first scenario's, history's).
        scenarios: names in the library or paths to scenario files, or loaded
            :class:`sim.scenario.Scenario` objects; the first is the reference, the last the
            "neither" scenario of the shares.
        record: the documented record (``calibration.documented()``), carried to figures;
            not needed for the numbers.
        daily: the daily table each run keeps (``sim.run.run``); the table needs none.

    Returns:
        scenario name -> :class:`sim.run.RunResult`, in the given order.

    Raises:
        InputError: a scenario that cannot be loaded, or whose window does not hold the whole
            lull (2024-02-05..2024-07-15).
    """
    from sim.comparison import check_windows
    from sim.run import run
    from sim.scenario import Scenario, load_scenario

    loaded = [s if isinstance(s, Scenario) else load_scenario(s, record=record)
              for s in scenarios]
    if len(loaded) < 2:
        raise InputError(None, "scenarios", "give the reference and at least one what-if")
    check_windows([METRIC], loaded, field=None)
    seed = loaded[0].seed if seed is None else int(seed)
    results = {}
    for sc in loaded:
        name = sc.name if sc.name not in results else f"{sc.name} ({len(results)})"
        results[name] = run(sc, replicates=replicates, engine=engine, seed=seed,
                            progress=progress, daily=daily)
    return results


def lull_table(summaries: dict, boot: int = BOOT, seed: int = 0,
               neither: str | None = None) -> pd.DataFrame:
    """The paired table of the lull: one row per scenario, the reference first.

    Args:
        summaries: scenario name -> per-replicate summary with ``lull_attacks`` (or a
            :class:`sim.run.RunResult`), all on one seed and the same replicates; the first
            is the reference (history).
        boot: bootstrap resamples; ``seed`` seeds them, so the table is the same for the
            same runs.
        neither: the scenario with neither the strikes nor the stand-down, the denominator
            of the shares (default: the last).

    Returns:
        Columns :data:`TABLE_COLUMNS`: ``runs``; ``median``, ``q05``, ``q95``, ``mean`` of
        the lull attacks over the runs (the 5%-95% range is the spread of single runs, not
        an interval of the median); ``diff`` (median of the paired differences from the
        reference, run ``i`` minus the reference's run ``i``) with ``diff_lo``/``diff_hi``
        (its 90% bootstrap interval), ``diff_mean`` (their mean); ``share`` (the share of
        the lull this what-if explains: ``diff`` / the ``neither`` scenario's ``diff``) with
        ``share_lo``/``share_hi``, and ``share_mean`` (the same on mean differences);
        ``changed_runs`` (runs whose lull attacks differ from the reference's).

    The intervals resample the replicates (the same resampled replicates for every
    scenario, so that the pairing across scenarios is kept) and take the 5% and 95%
    quantiles of the statistic over the resamples: they say how well ``replicates`` runs pin
    down the median, and narrow as runs are added. A share's resample is undefined when the
    ``neither`` difference resamples to 0; when more than 5% of resamples are, the interval
    is not given (NaN), else it is taken over the resamples where it is defined; when the ``neither`` difference itself is 0 the share is NaN:
    there is no lull to explain.
    """
    names = list(summaries)
    if not names:
        raise ValueError("no scenarios")
    frames = {n: getattr(s, "summary", s) for n, s in summaries.items()}
    for n, s in frames.items():
        if METRIC not in s:
            raise InputError(None, n, f"its runs have no {METRIC} (their window does not hold "
                                      f"{FIRST}..{LAST})")
    neither = names[-1] if neither is None else neither
    n = len(frames[names[0]])
    # Runs, spread and the paired differences with their intervals: compare's table, on the
    # same resamples (same seed and size), so the two commands agree to the digit.
    paired = comparison_table(frames, [METRIC], boot=boot, seed=seed).set_index("scenario")
    # The shares need the resampled medians themselves, scenario by scenario.
    idx = np.random.default_rng(seed).integers(0, n, size=(boot, n))
    lo_q, hi_q = (1 - LEVEL) / 2, 1 - (1 - LEVEL) / 2
    ref = frames[names[0]][METRIC].to_numpy(float)
    diffs = {name: s[METRIC].to_numpy(float) - ref for name, s in frames.items()}
    boots = {name: np.median(d[idx], axis=1) for name, d in diffs.items()}
    den, den_boot = float(np.median(diffs[neither])), boots[neither]
    den_mean = float(diffs[neither].mean())
    rows = []
    for name in names:
        c = paired.loc[name]
        row = dict(scenario=name, runs=int(c["runs"]), median=float(c["value"]),
                   q05=float(c["q05"]), q95=float(c["q95"]), mean=float(c["mean"]),
                   diff=float(c["diff"]), diff_lo=float(c["diff_lo"]),
                   diff_hi=float(c["diff_hi"]), diff_mean=float(c["diff_mean"]),
                   changed_runs=int(c["changed_runs"]))
        row.update(_share(row["diff"], den, boots[name], den_boot, lo_q, hi_q))
        row["share_mean"] = row["diff_mean"] / den_mean if den_mean else np.nan
        rows.append(row)
    return pd.DataFrame(rows).reindex(columns=list(TABLE_COLUMNS))


def _share(num: float, den: float, num_boot: np.ndarray, den_boot: np.ndarray,
           lo_q: float, hi_q: float) -> dict[str, float]:
    share = num / den if den else np.nan
    ok = den_boot != 0
    if not den or ok.mean() < 1 - (1 - LEVEL) / 2:
        return dict(share=share, share_lo=np.nan, share_hi=np.nan)
    ratio = num_boot[ok] / den_boot[ok]
    return dict(share=share, share_lo=float(np.quantile(ratio, lo_q)),
                share_hi=float(np.quantile(ratio, hi_q)))


def format_table(table: pd.DataFrame) -> str:
    """The paired table as text: one line per scenario."""
    head = (f"{'scenario':<22}{'runs':>6}{'median':>8}{'5-95% of runs':>16}"
            f"{'paired diff (90% CI)':>24}{'share of lull (90% CI)':>26}{'mean-based':>12}")
    lines = [head]
    for r in table.itertuples():
        spread = f"{r.q05:.0f}-{r.q95:.0f}"
        if r.Index == 0:
            diff = share = mean_share = "(reference)"
        else:
            diff = f"{_n(r.diff)} ({_n(r.diff_lo)} to {_n(r.diff_hi)})"
            share = (f"{_p(r.share)} ({_p(r.share_lo)} to {_p(r.share_hi)})"
                     if np.isfinite(r.share) else "- (no gap)")
            mean_share = _p(r.share_mean) if np.isfinite(r.share_mean) else "-"
        lines.append(f"{r.scenario[:21]:<22}{r.runs:>6}{_n(r.median, False):>8}{spread:>16}"
                     f"{diff:>24}{share:>26}{mean_share:>12}")
    return "\n".join(lines)


def _n(x: float, sign: bool = True) -> str:
    if not np.isfinite(x):
        return "-"
    x = float(x) + 0.0
    s = f"{x:+.1f}" if sign else f"{x:.1f}"
    s = s.removesuffix(".0")
    return {"-0": "+0"}.get(s, s).replace("-", "\u2212")


def _p(x: float) -> str:
    return "-" if not np.isfinite(x) else f"{round(100 * x) + 0:.0f}%".replace("-", "\u2212")


def record_lull(record) -> dict[str, int]:
    """The documented record's attacks in the lull window, counted as the model's are.

    Args:
        record: ``calibration.documented()`` (or its events table).

    Returns:
        ``attacks`` (every attack row of the record in 2024-02-05..2024-07-15) and
        ``confirmed`` (those not marked as estimates, e.g. attacks reported by one source
        that U.S. officials did not confirm).
    """
    events = getattr(record, "events", record)
    out = {"attacks": int(window_attacks(events, FIRST, LAST, [0])[0])}
    if "estimate" in events:
        est = events["estimate"].fillna(False).astype(bool).to_numpy()
        out["confirmed"] = int(window_attacks(events[~est], FIRST, LAST, [0])[0])
    return out


def weekly_attacks(events: pd.DataFrame, replicates, first: str = FIGURE_WINDOW[0],
                   last: str = FIGURE_WINDOW[1]) -> tuple[pd.DatetimeIndex, np.ndarray]:
    """Attacks per week (weeks x replicates) from ``first`` (a week is 7 days from it).

    ``events`` without a ``replicate`` column is one run (the record; ``replicates=[0]``).
    A last, shorter week is dropped so that every week counts 7 days.
    """
    first, last = pd.Timestamp(first), pd.Timestamp(last)
    weeks = ((last - first).days + 1) // 7
    reps = pd.Index(np.asarray(replicates))
    pos = (reps.get_indexer(events["replicate"].to_numpy()) if "replicate" in events
           else np.zeros(len(events), dtype=np.int64))
    day = (pd.to_datetime(events["date"]).to_numpy().astype("datetime64[D]")
           - np.datetime64(first.date(), "D")).astype(np.int64)
    week = day // 7
    m = (events["action"].isin(ATTACK_ACTIONS).to_numpy() & (pos >= 0) & (day >= 0)
         & (week < weeks))
    counts = np.zeros((weeks, len(reps)), dtype=np.int64)
    np.add.at(counts, (week[m], pos[m]), 1)
    return first + pd.to_timedelta(7 * np.arange(weeks), unit="D"), counts
