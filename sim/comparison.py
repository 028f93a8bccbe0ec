"""Several scenarios' ensembles compared with the first: statistics, paired differences, words.

Every scenario of a comparison runs with one seed, so replicate i of each shares its random
numbers (common random numbers) and the per-replicate differences from the reference are
paired: their spread is what the scenarios change, not the luck of the draw. What lives here:
:func:`comparison_table` (per scenario and outcome: the statistic that fits the outcome
(median of counts, share of yes/no outcomes, median date), and the median (or mean, for
shares) of the paired differences with a 90% bootstrap interval), :func:`plain_words` (those
differences as sentences, with the U.S. exit said where it explains fewer attacks),
:func:`check_metrics` (the ``--metrics`` names, with "did you mean") and
:func:`check_windows` (an outcome counted in fixed dates needs runs that hold them).

What does not live here: running the scenarios (``sim.run``), figures
(``sim.plots.compare``), the CLI (``sim.commands.compare``).
"""

from __future__ import annotations

import difflib

import numpy as np
import pandas as pd

from sim.errors import InputError
from sim.outcomes import LABELS, OUTCOMES, WINDOWS, covers

#: The interval of the paired differences: 90% (5% and 95% bootstrap quantiles).
LEVEL = 0.90
#: Outcomes whose relative difference means nothing (a rung is a rank, not an amount).
NO_PERCENT = {"highest_rung"}
STAT_WORD = {"median": "median", "share": "share", "date": "median date"}


def check_metrics(names: list[str] | None, available=None) -> list[str]:
    """The outcomes to compare: all of :data:`OUTCOMES` when ``names`` is empty, else the
    given ones in the given order; an unknown name is an :class:`InputError` listing the
    known ones, with the closest as "did you mean"."""
    known = list(available or OUTCOMES)
    if not names:
        return known
    for n in names:
        if n not in known:
            near = difflib.get_close_matches(n, known, n=1)
            hint = f"did you mean {near[0]!r}? " if near else ""
            raise InputError(None, "--metrics", f"unknown outcome {n!r}; {hint}known: "
                                                + ", ".join(known))
    return list(dict.fromkeys(names))


def check_windows(metrics: list[str], scenarios, field: str | None = "--metrics") -> None:
    """An outcome counted in a fixed window of dates (:data:`sim.outcomes.WINDOWS`, e.g.
    ``lull_attacks``) needs every scenario's run to hold that window whole: an
    :class:`InputError` naming the first scenario that does not (checked before running)."""
    for m in metrics:
        if m not in WINDOWS:
            continue
        for sc in scenarios:
            if not covers(m, sc.start, sc.end):
                first, last = WINDOWS[m]
                raise InputError(sc.path or sc.name, field,
                                 f"{m} counts attacks {first}..{last}, outside this "
                                 f"scenario's window {sc.start.date()}..{sc.end.date()}")


def _values(summary: pd.DataFrame, metric: str) -> np.ndarray:
    v = summary[metric]
    if OUTCOMES.get(metric) == "date":
        return pd.to_datetime(v).to_numpy()
    return v.to_numpy(dtype=float)


def comparison_table(summaries: dict[str, pd.DataFrame], metrics: list[str] | None = None,
                     boot: int = 2000, seed: int = 0) -> pd.DataFrame:
    """One row per scenario and outcome.

    Columns: ``scenario``, ``metric``, ``statistic`` (median, share or median date),
    ``value`` (that statistic, for numbers), ``date`` (the median date, ISO), ``runs`` (replicates; for a date, those
    where it happened), ``q05``/``q95`` (5% and 95% of the runs), ``min``/``max``, ``mean``, and for numbers
    ``diff`` (median of the paired differences from the reference, or their mean for a
    share), ``diff_lo``/``diff_hi`` (its 90% bootstrap interval), ``diff_pct`` with
    ``diff_pct_lo``/``diff_pct_hi`` (the same relative to the reference's statistic, when
    that is not 0), ``diff_mean`` with ``diff_mean_lo``/``diff_mean_hi`` (the mean paired
    difference and its interval: it sees a change in a few runs that leaves the median at
    0), ``changed_runs`` (replicates whose value differs from the reference's).

    Args:
        summaries: scenario name -> its run's per-replicate summary; the first is the
            reference. All must have the same replicates (one seed).
        metrics: outcomes to compare (default: every outcome of :data:`OUTCOMES` that all
            the summaries have; an outcome in fixed dates is missing from a run that does
            not hold them).
    """
    names = list(summaries)
    metrics = check_metrics(metrics, [m for m in OUTCOMES
                                      if all(m in s for s in summaries.values())])
    ref = summaries[names[0]]
    n = len(ref)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(boot, n))
    lo_q, hi_q = (1 - LEVEL) / 2, 1 - (1 - LEVEL) / 2
    rows = []
    for metric in metrics:
        kind = OUTCOMES[metric]
        r = _values(ref, metric)
        for name in names:
            s = summaries[name]
            if len(s) != n:
                raise ValueError(f"{name}: {len(s)} replicates, the reference has {n}")
            v = _values(s, metric)
            row = dict(scenario=name, metric=metric, statistic=STAT_WORD[kind])
            if kind == "date":
                ok = ~pd.isna(v)
                row.update(runs=int(ok.sum()), date=(str(pd.Timestamp(
                    np.sort(v[ok])[(ok.sum() - 1) // 2]).date()) if ok.any() else ""))
                rows.append(row)
                continue
            fin = v[np.isfinite(v)]
            row.update(runs=len(v), value=_stat(v, kind), mean=float(np.nanmean(v)) if
                       len(fin) else np.nan,
                       q05=np.nanquantile(v, lo_q) if len(fin) else np.nan,
                       q95=np.nanquantile(v, hi_q) if len(fin) else np.nan,
                       min=fin.min() if len(fin) else np.nan,
                       max=fin.max() if len(fin) else np.nan)
            d = v - r
            both = np.isfinite(d)
            row["changed_runs"] = int((d[both] != 0).sum())
            if both.any():
                dd, rr = np.where(both, d, np.nan)[idx], np.where(both, r, np.nan)[idx]
                stat = _stat(d, kind)
                bs = _stat_rows(dd, kind)
                row.update(diff=stat, diff_lo=np.nanquantile(bs, lo_q),
                           diff_hi=np.nanquantile(bs, hi_q))
                means = _stat_rows(dd, "share")   # the mean difference, for every kind
                row.update(diff_mean=float(np.nanmean(d)), diff_mean_lo=np.nanquantile(
                    means, lo_q), diff_mean_hi=np.nanquantile(means, hi_q))
                base = _stat(np.where(both, r, np.nan), kind)
                if base and np.isfinite(base):
                    with np.errstate(divide="ignore", invalid="ignore"):
                        pct = 100 * bs / _stat_rows(rr, kind)
                    # A resample whose reference is 0 has no percent change; when more than
                    # 5% of them do, the interval is not given (as the lull's shares).
                    fine = np.isfinite(pct)
                    if fine.mean() >= 0.95:
                        lo_pct = np.quantile(pct[fine], lo_q)
                        hi_pct = np.quantile(pct[fine], hi_q)
                    else:
                        lo_pct = hi_pct = np.nan
                    row.update(diff_pct=100 * stat / base, diff_pct_lo=lo_pct,
                               diff_pct_hi=hi_pct)
            rows.append(row)
    cols = ["scenario", "metric", "statistic", "value", "date", "runs", "q05", "q95", "min", "max",
            "mean", "diff",
            "diff_lo", "diff_hi", "diff_pct", "diff_pct_lo", "diff_pct_hi", "diff_mean",
            "diff_mean_lo", "diff_mean_hi", "changed_runs"]
    return pd.DataFrame(rows).reindex(columns=cols)


def _stat(v: np.ndarray, kind: str) -> float:
    if not np.isfinite(v).any():
        return np.nan
    return float(np.nanmean(v) if kind == "share" else np.nanmedian(v))


def _stat_rows(m: np.ndarray, kind: str) -> np.ndarray:
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)   # an all-NaN resample: NaN
        return np.nanmean(m, axis=1) if kind == "share" else np.nanmedian(m, axis=1)


def _num(x: float, pct: bool = False) -> str:
    x = round(float(x), 2) + 0.0   # no "−0.0"
    if pct or (abs(x) < 10 and x != round(x)):
        s = f"{x:+.2f}" if not pct and abs(x) < 1 else f"{x:+.1f}"
    else:
        s = f"{x:+.0f}"
    s = {"-0": "+0", "-0.0": "+0.0", "-0.00": "+0.00"}.get(s, s)
    return s.replace("-", "\u2212") + ("%" if pct else "")


def _pct_range(row) -> str:
    """"−3.5% (−3.7 to −3.3%)": the relative difference and its interval."""
    return (f"{_num(row['diff_pct'], True)} ({_num(row['diff_pct_lo'], True)[:-1]} to "
            f"{_num(row['diff_pct_hi'], True)})")


def _runs(share: float, n: int) -> int:
    return int(round(share * n))


def plain_words(table: pd.DataFrame) -> list[str]:
    """The differences from the reference as sentences, one per scenario and outcome.

    "−3.5% (−3.7 to −3.3%) attacks" for a count (median paired difference, 90% interval),
    "U.S. leaves Iraq in 40 of 40 runs (reference: 0 of 40)" for a yes/no outcome, "no
    difference" where every paired run is the same, "no clear difference" where the interval
    holds 0. Where a scenario has fewer attacks and the U.S. left Iraq in more of its runs,
    the attacks' sentence says so and gives the rate per presence-day, which is what tells
    deterrence from expulsion.
    """
    names = list(dict.fromkeys(table["scenario"]))
    ref = names[0]
    lines = []
    for name in names[1:]:
        t = table[table["scenario"] == name].set_index("metric")
        r = table[table["scenario"] == ref].set_index("metric")
        n = int(t["runs"].max())
        lines.append(f"{name} against {ref}: median of the {n} paired differences (for a "
                     f"share: the mean), {LEVEL:.0%} bootstrap interval in brackets")
        for metric, row in t.iterrows():
            lines.append("  " + _sentence(metric, row, r.loc[metric], t, r, ref))
    return lines


def _sentence(metric, row, refrow, t, r, ref) -> str:
    label = LABELS.get(metric, metric.replace("_", " "))
    kind = OUTCOMES.get(metric, "median")
    if kind == "date":
        a = row["date"] if isinstance(row["date"], str) and row["date"] else "never"
        b = refrow["date"] if isinstance(refrow["date"], str) and refrow["date"] else "never"
        def when(x, k):
            return "never" if x == "never" else f"median {x} ({k} runs)"
        if a == b and row["runs"] == refrow["runs"]:
            return f"{label}: {when(a, row['runs'])}, as in {ref}"
        return f"{label}: {when(a, row['runs'])} ({ref}: {when(b, refrow['runs'])})"

    n = int(row["runs"])
    if kind == "share":
        k, k0 = _runs(row["value"], n), _runs(refrow["value"], n)
        s = f"{label} in {k} of {n} runs ({ref}: {k0} of {n})"
        if row["changed_runs"] == 0:
            return s + ": no difference"
        return s + (f": {_num(100 * row['diff'])} ({_num(100 * row['diff_lo'])} to "
                    f"{_num(100 * row['diff_hi'])}) percentage points")
    if row["changed_runs"] == 0:
        return f"{label}: no difference (the same in all {n} paired runs)"
    if pd.isna(row["diff"]):
        return f"{label}: no runs to compare"
    what = f"{_num(row['diff'])} ({_num(row['diff_lo'])} to {_num(row['diff_hi'])})"
    unclear = row["diff_lo"] <= 0 <= row["diff_hi"]
    if unclear:   # the median does not move: say what the mean of the paired runs does
        k = int(row["changed_runs"])
        mean = (f"mean difference {_num(row['diff_mean'])} ({_num(row['diff_mean_lo'])} to "
                f"{_num(row['diff_mean_hi'])})")
        if row["diff_mean_lo"] > 0 or row["diff_mean_hi"] < 0:
            return f"{label}: median difference {what}, but {k} of {n} runs differ: {mean}"
        return f"{label}: no clear difference, median {what} ({k} of {n} runs differ; {mean})"
    what = (f"{_pct_range(row)} {label}, {what}"
            if pd.notna(row["diff_pct"]) and metric not in NO_PERCENT else f"{what} {label}")
    s = f"{what}; {int(row['changed_runs'])} of {n} runs differ"
    if metric == "attacks" and row["diff_hi"] < 0 and "us_left_iraq" in t.index:
        left, left0 = t.loc["us_left_iraq"], r.loc["us_left_iraq"]
        if left["value"] > left0["value"]:
            s += (f"; but the U.S. left Iraq in {_runs(left['value'], n)} of {n} runs "
                  f"({ref}: {_runs(left0['value'], n)})")
            rate = "attacks_per_100_presence_days_iraq"
            if rate in t.index and pd.notna(t.loc[rate, "diff"]):
                q = t.loc[rate]
                s += (": attacks per 100 presence-days in Iraq "
                      + (_pct_range(q) if pd.notna(q["diff_pct"]) else _num(q["diff"])))
                s += (", so fewer attacks per day of presence too: deterrence, not only the "
                      "exit" if q["diff_hi"] < 0 else
                      ", so the drop is the exit, not deterrence")
    return s


def constant_metrics(table: pd.DataFrame) -> list[str]:
    """Outcomes that take one value in every run of every scenario (said in words, not
    drawn)."""
    num = table[table["statistic"] != "median date"]
    out = []
    for metric, g in num.groupby("metric", sort=False):
        if (g["min"] == g["max"]).all() and g["min"].nunique() == 1:
            out.append(metric)
    return out
