"""Statistics computed the same way on the documented record and on simulated events.

What lives here: daily measures from any event table in the shared schema (attacks, U.S.
strike rounds, U.S./coalition deaths, highest rung, escalation level) as arrays of
(days x replicates), and their ensemble quantiles. The record is one "replicate".
Calibration targets (issue 5) build on these.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.dynamics import LEVEL_WINDOW_DAYS

MEASURES = ("attacks", "strike_rounds", "deaths", "rung")
STRIKE_ACTIONS = ("strike", "leader_strike")


def daily_measures(events: pd.DataFrame, start, end,
                   replicates: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Daily counts (days x replicates) of attacks (militia attacks and Iran's state
    attacks), U.S. strike rounds (days with at least one strike), U.S. and coalition deaths,
    and the day's highest rung."""
    dates = pd.date_range(pd.Timestamp(start), pd.Timestamp(end), freq="D")
    if replicates is None:
        reps = np.zeros(len(events), dtype=np.int64)
        replicates = np.array([0])
    else:
        reps = events["replicate"].to_numpy()
    col = {r: i for i, r in enumerate(np.asarray(replicates))}
    day = ((pd.to_datetime(events["date"]) - dates[0]).dt.days).to_numpy()
    ok = (day >= 0) & (day < len(dates)) & np.isin(reps, list(col))
    ev, day = events[ok], day[ok]
    j = np.array([col[r] for r in reps[ok]], dtype=np.int64)
    shape = (len(dates), len(replicates))
    out = {m: np.zeros(shape) for m in MEASURES}
    action = ev["action"].astype(str).to_numpy()
    attack = np.isin(action, ("attack", "state_attack"))
    np.add.at(out["attacks"], (day[attack], j[attack]), 1)
    strike = np.isin(action, STRIKE_ACTIONS) & (ev["actor_kind"].astype(str).to_numpy() == "us")
    out["strike_rounds"][day[strike], j[strike]] = 1  # several rows on one day: one round
    deaths = (ev["us_killed"].fillna(0).to_numpy(dtype=float)
              + ev["coalition_killed"].fillna(0).to_numpy(dtype=float))
    np.add.at(out["deaths"], (day, j), deaths)
    np.maximum.at(out["rung"], (day, j), ev["rung"].to_numpy(dtype=float))
    return out


def escalation_level(rung: np.ndarray, window: int = LEVEL_WINDOW_DAYS) -> np.ndarray:
    """Highest rung of the last ``window`` days (days x replicates), as the engines keep it."""
    frame = pd.DataFrame(rung)
    return frame.rolling(window, min_periods=1).max().to_numpy()


def bands(values: np.ndarray, quantiles=(0.05, 0.25, 0.5, 0.75, 0.95)) -> dict[float, np.ndarray]:
    """Quantiles across replicates (axis 1) for each day."""
    q = np.quantile(values, quantiles, axis=1)
    return dict(zip(quantiles, q))
