"""Would fitting the turning points (``calibration.responses``) let the model forecast the lull?

    .venv/bin/python scripts/turning_point_probe.py [POSTERIOR_DIR] [--draws 1000] [--keep 0.1]

Draws from a posterior (default ``results/calibration_2024-01-31``). For each draw it runs the
model from the state the record left at each turning point before 2024 (the record replayed
up to the act, the model after it), and scores how far the draw's documented attacks in the
next 60 days are from the record's. The score is a sum over the points of the squared
difference of square roots, each divided by its median over the draws. Then it runs the lull
(2024-02-05..07-15) from the state of 2024-01-31. It prints the lull's median for all draws
and for the best ``--keep`` share by that score, the share of draws with a quiet 2024
(≤ 20 documented attacks), how those draws rank on the 2020-21 answers, and which drawn
parameters set the quiet draws apart from the loud ones (AUC). It also keeps the draws whose
own Iran orders the stand-down by 2024-01-31, as the record's did (Qaani in Baghdad on
2024-01-29; the replay forces acts, not Iran's directive), and prints their lull; and the
draws that agree with the stand-downs known on the origin (Kataib Hezbollah's suspension of
2024-01-30, ``calibration.responses.agreeing_at_origin``): the forecast filtered on what
was documented that day. This is a probe
of what a calibration on the turning points could learn, not a calibration. The README
quotes its output.
"""

from __future__ import annotations

import argparse

import numpy as np

from calibration import load_record
from calibration import posterior as pm
from calibration.posterior import draw_from
from calibration.responses import (TURNING_POINTS, agreeing, conditioned_attacks,
                                  documented_stand_downs, restraining, state_at_origin)
from calibration.simulator import params_for_rule
from sim.scenario import load_scenario

#: Replicate numbers of the probe's runs (apart from calibration's and validation's).
PROBE_REPLICATE = 3 * 10 ** 9


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("posterior", nargs="?", default="results/calibration_2024-01-31")
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--keep", type=float, default=0.1)
    ap.add_argument("--top", type=int, default=6,
                    help="how many parameters each AUC list shows")
    a = ap.parse_args(argv)
    record = load_record()
    sc = load_scenario("scenarios/history.toml")
    post = pm.read(a.posterior)
    seed = int(post.meta["seed"])
    overrides = draw_from(post, a.draws, seed)
    params = params_for_rule(sc.params, post.best_rule)
    reps = PROBE_REPLICATE + np.arange(a.draws)

    def attacks(tp) -> tuple[np.ndarray, float]:
        return conditioned_attacks(params, record, tp, seed, reps, overrides, sc.start)

    score = np.zeros(a.draws)
    for tp in TURNING_POINTS:
        if tp.name == "lull_2024":
            continue
        x, y = attacks(tp)
        d = (np.sqrt(x) - np.sqrt(y)) ** 2
        score += d / max(float(np.median(d)), 1e-9)
        print(f"{tp.name}: record {y:g}, median {np.median(x):g}")
    lull, y = attacks(TURNING_POINTS[-1])
    best = np.argsort(score)[: max(1, int(a.keep * a.draws))]
    quiet = lull <= 20
    rank = np.argsort(np.argsort(score)) / a.draws
    print(f"lull from the state of 2024-01-31 (record {y:g}): all draws median "
          f"{np.median(lull):g}; best {a.keep:.0%} by the pre-2024 turning points median "
          f"{np.median(lull[best]):g}")
    print(f"draws with a quiet 2024 (<= 20): {quiet.mean():.0%} of all, "
          f"{quiet[best].mean():.0%} of the best; their median rank on the pre-2024 points "
          f"{np.median(rank[quiet]) if quiet.any() else float('nan'):.2f} (0 best, 0.5 chance)")
    lull_tp = TURNING_POINTS[-1]
    state = state_at_origin(params, record, lull_tp.origin, seed, reps, overrides, sc.start)
    ordered = restraining(state)            # the model's own Iran: a diagnostic
    stances = documented_stand_downs(record, lull_tp.origin)
    agree = agreeing(state, stances)        # what was documented by the origin: the forecast
    print(f"draws whose own Iran orders the stand-down on {lull_tp.origin} (as Qaani did on "
          f"2024-01-29): {ordered.mean():.0%}; their lull median "
          f"{np.median(lull[ordered]) if ordered.any() else float('nan'):g}, "
          f"quiet (<= 20) in {quiet[ordered].mean() if ordered.any() else float('nan'):.0%}; "
          f"the others' median "
          f"{np.median(lull[~ordered]) if (~ordered).any() else float('nan'):g}")
    print(f"draws that agree with the stand-downs documented by {lull_tp.origin} "
          f"({', '.join(stances) or 'none'}): "
          f"{agree.mean():.0%}; their lull median "
          f"{np.median(lull[agree]) if agree.any() else float('nan'):g}, quiet (<= 20) in "
          f"{quiet[agree].mean() if agree.any() else float('nan'):.0%}")
    print("AUC below: the chance that a draw of the group has a higher value than a draw "
          "outside it (0.5 = no difference)")
    for group, what, inside, outside in (
            (ordered, "the draws whose Iran orders the stand-down", "where Iran orders it",
             "where not"),
            (quiet, "the quiet draws", "in quiet draws", "in loud")):
        if group.any() and not group.all():
            print(f"what sets {what} apart:")
            for name, auc, q, lo in separating(overrides, group)[:a.top]:
                print(f"  {name}: AUC {auc:.2f}, median {q:.3g} {inside}, {lo:.3g} {outside}")
    return 0


def separating(overrides, group) -> list[tuple[str, float, float, float]]:
    """Each drawn parameter's AUC between the draws in ``group`` (a boolean mask) and the
    others (Mann-Whitney U / n1 n2), with its median in both; most separating first."""
    from scipy.stats import mannwhitneyu

    rows = []
    for name, values in overrides.items():
        v = np.asarray(values, dtype=float)
        if np.ptp(v) == 0:
            continue
        u = mannwhitneyu(v[group], v[~group]).statistic
        rows.append((name, float(u / (group.sum() * (~group).sum())),
                     float(np.median(v[group])), float(np.median(v[~group]))))
    return sorted(rows, key=lambda row: -abs(row[1] - 0.5))

if __name__ == "__main__":
    from sim.errors import run_script
    run_script(main, "turning_point_probe")
