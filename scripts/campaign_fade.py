"""When does the model's 2023-24 campaign end? Month by month, beside the record.

    .venv/bin/python scripts/campaign_fade.py [scenario] [--replicates 300] [--set path=value ...]

Runs the scenario (default ``history``, the calibrated point) from its start to 2024-03-31 with
daily tables and prints, for each period from the war's start to the lull, attacks a week:
the median run's documented attacks (those the record would list) and all its attacks, beside
the record's documented attacks; and the share of run-days on which the model's Iran is
ordering its proxies to stand down. The record kept
up its campaign until Tower 22 (2024-01-28) and then stopped; a model whose Iran steps back
months before meets the lull bar with a campaign that fades too early. The README quotes its
output.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
import pandas as pd

from calibration import targets as tg
from calibration.record import load_record
from calibration.simulator import simulate_events
from sim.batch import simulate
from sim.scenario import load_scenario, scenario_path

#: The periods of the table: the war's first weeks, its months, Tower 22's week, the lull.
PERIODS = (("2023-10-07", "2023-10-31"), ("2023-11-01", "2023-11-30"),
           ("2023-12-01", "2023-12-31"), ("2024-01-01", "2024-01-27"),
           ("2024-01-28", "2024-02-04"), ("2024-02-05", "2024-03-31"))
END = "2024-03-31"


def fade_table(sc, replicates: int) -> pd.DataFrame:
    """One row per period: the median run's documented attacks a week (the attacks the record
    would list, ``calibration.observation``) and all its attacks a week, the record's
    documented attacks a week, and the share of run-days with Iran ordering a stand-down."""
    reps = np.arange(replicates)
    out = simulate(sc.params, sc.start, pd.Timestamp(END), sc.seed, reps,
                   record_events=False, record_daily=True)
    days = pd.date_range(sc.start, END)
    attacks = np.asarray(out.daily["attacks"], dtype=np.float64)     # days x replicates
    directive = np.asarray(out.daily["directive"])
    listed = tg.daily_series(simulate_events(sc.params, sc.start, pd.Timestamp(END), sc.seed,
                                             reps), sc.start, END, reps)
    record = tg.daily_series(load_record(), sc.start, END)
    rows = []
    for first, last in PERIODS:
        weeks = ((pd.Timestamp(last) - pd.Timestamp(first)).days + 1) / 7
        m = (days >= first) & (days <= last)
        window = ("attacks", record.day(first), record.day(last))
        rows.append(dict(period=f"{first}..{last}",
                         model_documented=np.median(listed.window(*window)) / weeks,
                         model_all=np.median(attacks[m].sum(axis=0)) / weeks,
                         record_documented=record.window(*window)[0] / weeks,
                         iran_restrains=float((directive[m] == 0).mean())))
    return pd.DataFrame(rows)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenario", nargs="?", default="history")
    ap.add_argument("--replicates", type=int, default=300)
    ap.add_argument("--set", nargs="*", default=[], metavar="PATH=VALUE")
    a = ap.parse_args(argv)
    if a.replicates < 1:
        print("campaign_fade: --replicates: at least 1", file=sys.stderr)
        return 2
    sc = load_scenario(scenario_path(a.scenario), overrides=a.set)
    print(fade_table(sc, a.replicates).to_string(index=False, float_format=lambda x: f"{x:.2f}"))
    return 0


if __name__ == "__main__":
    from sim.errors import run_script
    run_script(main, "campaign_fade")
