"""The done-when checks of the model revision (issue 10) on one scenario, in about a minute.

    .venv/bin/python scripts/model_check.py [scenario] [--replicates 200] [--set path=value ...]

Prints the pattern table (record vs the ensemble's median and 90% band), every target's
coverage, the turning points (``calibration.responses``), and issue 10's bars
(``calibration.patterns.BARS``): the share of runs reaching rung 6+ in 2019-10..2020-06, the
median lull attacks, the median dispersion, the share of targets and patterns whose record
value lies inside the band.
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

from calibration import targets as tg
from calibration.patterns import BARS, COVERAGE_BAR, pattern_table
from calibration.record import load_record, load_tallies
from calibration.simulator import simulate_events
from sim.scenario import load_scenario, scenario_path


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("scenario", nargs="?", default="history")
    ap.add_argument("--replicates", type=int, default=200)
    ap.add_argument("--set", nargs="*", default=[])
    a = ap.parse_args(argv)
    sc = load_scenario(scenario_path(a.scenario), overrides=a.set)
    record, tallies = load_record(), load_tallies()
    reps = np.arange(a.replicates)
    events = simulate_events(sc.params, sc.start, sc.end, sc.seed, reps)
    pats = pattern_table(record, events, sc.start, sc.end, reps)
    pd.set_option("display.width", 160)
    print(pats[["pattern", "record", "median", "lo90", "hi90", "inside"]].to_string(index=False))
    targets = tg.default_targets(tallies, str(sc.start.date()), str(sc.end.date()))
    obs = tg.observed(targets, record, str(sc.start.date()), str(sc.end.date()))
    sim = tg.simulated(targets, events, sc.start, sc.end, reps)
    lo, med, hi = np.nanquantile(sim, [0.05, 0.5, 0.95], axis=0)
    inside = np.array([tg.inside(t, a, b, y) for t, a, b, y in zip(targets, lo, hi, obs)])
    rows = pd.DataFrame(dict(target=[t.name for t in targets], fit=[t.fit for t in targets],
                             record=obs, median=med, lo90=lo, hi90=hi, inside=inside))
    print(rows.to_string(index=False))
    from calibration.responses import response_table
    resp = response_table(sc.params, record, sc.seed, reps, start=sc.start)
    print("\nturning points (runs replaying the record up to each):")
    print(resp[["turning_point", "window", "record", "median", "lo90", "hi90", "inside",
                "iran_restrains", "median_if_restraining", "agree",
                "median_if_agree"]].to_string(index=False))
    p = pats.set_index("pattern")
    n_in = int(inside.sum()) + int(pats["inside"].sum())
    n_all = len(targets) + len(pats)
    print()
    for name, stat, side, bar in BARS:      # issue 10's bars (calibration.patterns.BARS)
        print(f"{name} {stat}: {p.loc[name, stat]:.3g} ({side} {bar:g})")
    print(f"inside band: {n_in}/{n_all} = {n_in / n_all:.0%} (>= {COVERAGE_BAR:.0%})")
    print(f"fitted targets inside: {int(inside[rows.fit].sum())}/{int(rows.fit.sum())}")
    return 0


if __name__ == "__main__":
    from sim.errors import run_script
    run_script(main, "model_check")
