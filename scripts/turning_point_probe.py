"""Would fitting the turning points (``calibration.responses``) let the model forecast the lull?

    .venv/bin/python scripts/turning_point_probe.py [POSTERIOR_DIR] [--draws 1000] [--keep 0.1]

Draws from a posterior (default ``results/calibration_2024-01-31``). For each draw it runs the
model from the state the record left at each turning point before 2024 (the record replayed
up to the act, the model after it), and scores how far the draw's documented attacks in the
next 60 days are from the record's. The score is a sum over the points of the squared
difference of square roots, each divided by its median over the draws. Then it runs the lull
(2024-02-05..07-15) from the state of 2024-01-31. It prints the lull's median for all draws
and for the best ``--keep`` share by that score, the share of draws with a quiet 2024
(≤ 20 documented attacks), and how those draws rank on the 2020-21 answers. This is a probe
of what a calibration on the turning points could learn, not a calibration. The README
quotes its output.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from calibration import load_record
from calibration import posterior as pm
from calibration.posterior import draw_from
from calibration.responses import TURNING_POINTS, conditioned_attacks
from calibration.simulator import params_for_rule
from sim.scenario import load_scenario

#: Replicate numbers of the probe's runs (apart from calibration's and validation's).
PROBE_REPLICATE = 3 * 10 ** 9


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("posterior", nargs="?", default="results/calibration_2024-01-31")
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--keep", type=float, default=0.1)
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
