"""Which deterrence rule best explains what the U.S. did in 2019-2024: ABC model choice.

What lives here: :func:`compare_rules`, which runs ABC-SMC with the rule as a particle
coordinate (Toni et al. 2009) several times with independent seeds, and summarises the
posterior rule probabilities with their spread across repeats. What does not: the algorithm
(``calibration.smc``), a single calibration (``calibration.fit``).

Every rule is fitted with the same shared parameters (``calibration.priors.SHARED``) and its
own trigger parameters, against the same targets, under a uniform prior over rules; the
posterior probability of a rule is then proportional to its ABC evidence (the prior
predictive probability of landing within the tolerance of the record), which penalises
rules that need finely tuned parameters as well as rules that cannot fit.

Two kinds of uncertainty are reported: the Monte Carlo spread of the probabilities across
independent repeats (standard deviation, min and max), and, in the report, the caveat that
ABC model choice is only as good as the targets are at telling the rules apart (Robert,
Cornuet, Marin & Pillai 2011, "Lack of confidence in approximate Bayesian computation model
choice", PNAS 108): rules that act alike on the targets share the probability between them.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from calibration.fit import calibrate
from calibration.posterior import Posterior
from sim.rules import REGISTRY

from calibration.defaults import DEFAULT_REPEATS  # noqa: E402,F401


def all_rules() -> list[str]:
    """The registered rules, in registry order."""
    return list(REGISTRY)


def compare_rules(scenario, rules: Sequence[str] | None = None, *, repeats: int = DEFAULT_REPEATS,
                  seed: int | None = None, **calibrate_kwargs) -> tuple[pd.DataFrame,
                                                                         list[Posterior]]:
    """ABC model choice across ``rules`` (default: all registered), ``repeats`` times.

    Returns a table (one row per rule: probability in each repeat, mean, sd, min, max, and
    the Bayes factor of the best rule against it from the mean probabilities) and the
    posteriors of the repeats (seeds ``seed``, ``seed + 1``, ...).
    """
    rules = list(rules) if rules else all_rules()
    seed = scenario.seed if seed is None else int(seed)
    posts = []
    for k in range(int(repeats)):
        posts.append(calibrate(scenario, rules, seed=seed + k, **calibrate_kwargs))
    return rule_table(posts, rules), posts


def rule_table(posts: list[Posterior], rules: list[str]) -> pd.DataFrame:
    """Posterior rule probabilities per repeat, with mean, spread and Bayes factors."""
    probs = pd.DataFrame({f"repeat_{k}": p.rule_probabilities().reindex(rules, fill_value=0.0)
                          for k, p in enumerate(posts)})
    table = probs.copy()
    table["mean"] = probs.mean(axis=1)
    table["sd"] = probs.std(axis=1, ddof=1) if probs.shape[1] > 1 else np.nan
    table["min"] = probs.min(axis=1)
    table["max"] = probs.max(axis=1)
    best = table["mean"].max()
    with np.errstate(divide="ignore"):
        table["bayes_factor_best_vs"] = np.where(table["mean"] > 0, best / table["mean"],
                                                 np.inf)
    table = table.sort_values("mean", ascending=False)
    table.index.name = "rule"
    return table.reset_index()


def summary_text(table: pd.DataFrame, repeats: int, budget: int, population: int,
                 until=None) -> str:
    """A paragraph stating the result with its uncertainty (for the README and report)."""
    top = table.iloc[0]
    second = table.iloc[1] if len(table) > 1 else None
    text = (f"ABC model choice over {len(table)} deterrence rules ({repeats} independent "
            f"repeats of {population} particles, budget {budget} simulations each"
            + (f", record up to {until}" if until else "") + "): "
            f"`{top['rule']}` has posterior probability {top['mean']:.2f} "
            f"(range {top['min']:.2f}-{top['max']:.2f} across repeats)")
    if second is not None:
        bf = top["mean"] / second["mean"] if second["mean"] > 0 else np.inf
        text += (f", then `{second['rule']}` {second['mean']:.2f} "
                 f"({second['min']:.2f}-{second['max']:.2f}); Bayes factor {bf:.1f}")
    zero = table[table["max"] == 0]["rule"].tolist()
    if zero:
        text += f". Ruled out in every repeat: {', '.join(f'`{r}`' for r in zero)}"
    return text + "."
