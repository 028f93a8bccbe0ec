"""When does the model's 2023-24 campaign end? Month by month, beside the record.

    .venv/bin/python scripts/campaign_fade.py [scenario] [--replicates 300] [--set path=value ...]
        [--posterior DIR]

Runs the scenario (default ``history``, the calibrated point; with ``--posterior`` one draw of
that posterior per run, and ``--set`` then replaces the drawn value, so the same draws can be
compared with and without a mechanism) from its start to 2024-03-31 with
daily tables and prints, for each period from the war's start to the lull, attacks a week:
the median run's documented attacks (those the record would list) and all its attacks, beside
the record's documented attacks; and the share of run-days on which the model's Iran is
ordering its proxies to stand down. Then the share of runs with a lethal attack before Tower
22 (2023-10-07..2024-01-27; the record has none) and the median day of the first. The record
kept up its campaign until Tower 22 (2024-01-28) and then stopped; a model whose Iran steps
back months before meets the lull bar with a campaign that fades too early. The README and
docs/experiments.md quote its output.
"""

from __future__ import annotations

import argparse
import dataclasses
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
#: The campaign before Tower 22, in which the record has no lethal attack.
BEFORE_TOWER_22 = ("2023-10-07", "2024-01-27")
#: Replicate numbers of runs from a posterior (apart from calibration's and validation's).
POSTERIOR_REPLICATE = 7 * 10 ** 9


def fade_table(sc, replicates: int, overrides=None, reps=None
               ) -> tuple[pd.DataFrame, dict[str, float]]:
    """One row per period: the median run's documented attacks a week (the attacks the record
    would list, ``calibration.observation``) and all its attacks a week, the record's
    documented attacks a week, and the share of run-days with Iran ordering a stand-down.
    Also the runs' lethal attacks before Tower 22 (:func:`lethal_before_tower_22`).
    ``overrides``: parameter values per run (e.g. posterior draws)."""
    reps = np.arange(replicates) if reps is None else np.asarray(reps)
    engine = None
    if overrides is not None:
        from calibration.observation import split_overrides
        engine, _ = split_overrides(overrides)
    out = simulate(sc.params, sc.start, pd.Timestamp(END), sc.seed, reps, overrides=engine,
                   record_events=False, record_daily=True)
    days = pd.date_range(sc.start, END)
    attacks = np.asarray(out.daily["attacks"], dtype=np.float64)     # days x replicates
    directive = np.asarray(out.daily["directive"])
    events = simulate_events(sc.params, sc.start, pd.Timestamp(END), sc.seed, reps, overrides)
    listed = tg.daily_series(events, sc.start, END, reps)
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
    return pd.DataFrame(rows), lethal_before_tower_22(events, reps)


def lethal_before_tower_22(events: pd.DataFrame, reps) -> dict[str, float]:
    """Share of runs with a lethal militia attack (U.S. or coalition dead) from the war's start
    to the eve of Tower 22, and the median day (of the war) of each such run's first."""
    first, last = BEFORE_TOWER_22
    d = pd.to_datetime(events["date"])
    w = events[(d >= first) & (d <= last) & (events["action"].astype(str) == "attack")
               & ((events["us_killed"] + events["coalition_killed"]) > 0)]
    day = (pd.to_datetime(w["date"]) - pd.Timestamp(first)).dt.days
    firsts = day.groupby(w["replicate"]).min()
    return dict(share=len(firsts) / len(reps),
                median_first_day=float(firsts.median()) if len(firsts) else float("nan"))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenario", nargs="?", default="history")
    ap.add_argument("--replicates", type=int, default=300)
    ap.add_argument("--set", nargs="*", default=[], metavar="PATH=VALUE")
    ap.add_argument("--posterior", default=None, metavar="DIR",
                    help="one draw of this posterior per run (calibrate's folder); --set "
                         "values replace the drawn ones, path by path (a value tied to a "
                         "fitted one, e.g. the drone's lethality, is not derived again)")
    a = ap.parse_args(argv)
    if a.replicates < 1:
        print("campaign_fade: --replicates: at least 1", file=sys.stderr)
        return 2
    sc = load_scenario(scenario_path(a.scenario), overrides=a.set)
    overrides, reps = None, None
    if a.posterior is not None:
        from calibration import posterior as pm
        from calibration.posterior import draw_from
        from calibration.simulator import params_for_rule
        post = pm.read(a.posterior)
        overrides = draw_from(post, a.replicates, int(post.meta["seed"]))
        for spec in a.set:      # the scenario's value, not the draw's
            path = spec.split("=", 1)[0].strip()
            if path in overrides:
                overrides[path] = np.full(a.replicates, float(spec.split("=", 1)[1]))
        sc = dataclasses.replace(sc, params=params_for_rule(sc.params, post.best_rule))
        reps = POSTERIOR_REPLICATE + np.arange(a.replicates)
    table, lethal = fade_table(sc, a.replicates, overrides, reps)
    print(table.to_string(index=False, float_format=lambda x: f"{x:.2f}"))
    first, last = BEFORE_TOWER_22
    print(f"runs with a lethal attack {first}..{last} (the record: none): "
          f"{lethal['share']:.0%}; the first a median {lethal['median_first_day']:.0f} days "
          f"into the war")
    return 0


if __name__ == "__main__":
    from sim.errors import run_script
    run_script(main, "campaign_fade")
