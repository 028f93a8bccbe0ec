"""Can the record's targets tell the deterrence rules apart? A confusion matrix of ABC model
choice on pseudo-records whose rule is known.

What lives here: :func:`confusion_matrix`, which, for each rule R of a comparison, simulates K
pseudo-records of the scenario with U.S. forces following R, runs the comparison's model
choice (:func:`calibration.fit.calibrate` with all the rules and ``observed=`` the
pseudo-record's targets) on each, and tallies which rule wins; :class:`Confusion`, its
result (matrix, shares, the figure and the paragraph of the comparison's report). What does
not: the comparison on the record itself (``calibration.compare``), files and the CLI
(``sim.commands.calibrate``).

Why: ABC model choice is only as good as the targets are at telling the models apart
(Robert, Cornuet, Marin & Pillai 2011, "Lack of confidence in approximate Bayesian
computation model choice", PNAS 108). Posterior rule probabilities on the record say which
rule fits best, not whether a different rule would have been recognised had it been the
truth; the confusion matrix measures that, with the same targets, priors, budget and
algorithm (a frequentist check of the Bayesian procedure; cf. the prior error rate and
confusion matrices of Pudlo et al. 2016, "Reliable ABC model choice via random forests",
Bioinformatics 32).

How a pseudo-record is made (:func:`truth_for`, :func:`pseudo_records`):

* the shared parameters (``calibration.priors.SHARED``) at the scenario's values (for
  ``scenarios/history.toml``, the calibrated values of ``calibrated.toml``), the drone's and
  ballistic missile's lethal probabilities tied to the rocket's as in a calibration;
* the rule's fitted trigger parameters (``calibration.priors.RULE_PARAMETERS``) at their
  **prior medians** (e.g. ``us.level`` 31 for the harm rules, SciPy's ``uniform(1, 60)``
  being U[1, 61]; ``respond_probability`` 0.0707 for ``tit_for_tat``; ``deaths`` 3.5 and
  ``wounded`` 17.3 for ``red_line``): the values the comparison's priors make typical; its other parameters (sizes, growth) at the rule's
  defaults, as in the comparison;
* its targets are those of the comparison (the fitted targets plus
  ``calibration.targets.MODEL_CHOICE_TARGETS``), computed by the same code as a synthetic
  record (:func:`calibration.fit.synthetic_observation`): tallies become the run's own
  counts over the same periods and scopes, record targets are computed from its events.

Randomness: pseudo-record k (k = 0..K-1) of every rule is replicate
``SYNTHETIC_REPLICATE + CONFUSION_REPLICATE + k`` (1,001,000,000 + k) of the seed, so the K
pseudo-records of two rules share their random numbers (common random numbers: rows differ
by the rule, not by the noise), and none shares random numbers with a calibration's own runs
(replicates 0, 1, 2, ...) or a recovery test's synthetic records (1,000,000,000 + small k).
The model choice on pseudo-record k runs with seed ``seed + k``, as repeat k of the
comparison does. So the matrix is a function of the seed, the rules, K, the budget and the
population only.

The winner of a pseudo-record is the rule with the highest posterior probability in the
final population (a tie goes to the rule listed first).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd

from calibration.defaults import DEFAULT_BUDGET, DEFAULT_POPULATION
from calibration.fit import (SYNTHETIC_REPLICATE, calibrate, parse_until,
                             synthetic_observation)
from calibration.priors import model_for, rule_parameters

#: Offset of the pseudo-records' replicate indices past ``calibration.fit.SYNTHETIC_REPLICATE``.
CONFUSION_REPLICATE = 10 ** 6

#: A rule counts as identified when its pseudo-records choose it at least this often.
IDENTIFIED_SHARE = 0.8


def scenario_value(params, path: str) -> float:
    """The value of a dotted parameter path (``militias.fear_weight``,
    ``weapons.rocket.lethal_probability``) in resolved scenario parameters."""
    node = params
    for part in path.split("."):
        node = node[part] if isinstance(node, dict) else getattr(node, part)
    return float(node)


def truth_for(scenario, rule: str) -> dict[str, float]:
    """The parameters of a pseudo-record of ``rule``: the shared ones at the scenario's
    values, the rule's fitted trigger parameters at their prior medians."""
    model = model_for(rule)
    own = {p.name for p in rule_parameters(rule)}
    return {p.name: (float(p.prior.median()) if p.name in own
                     else scenario_value(scenario.params, p.name))
            for p in model.parameters}


def pseudo_records(scenario, rule: str, k: int, *, until=None, seed: int | None = None,
                   tallies: pd.DataFrame | None = None,
                   truth: dict[str, float] | None = None) -> np.ndarray:
    """The comparison's target values of ``k`` pseudo-records of ``rule`` (k x targets)."""
    truth = truth_for(scenario, rule) if truth is None else truth
    return synthetic_observation(scenario, rule, truth, until=until, seed=seed,
                                 replicate=CONFUSION_REPLICATE + np.arange(int(k)),
                                 tallies=tallies, model_choice=True)


@dataclass
class Confusion:
    """The result of :func:`confusion_matrix`.

    Attributes:
        rules: the compared rules, in order (rows and columns of the matrix).
        runs: one row per pseudo-record: ``true_rule``, ``k``, ``replicate`` (the engine's
            replicate index of the pseudo-record), ``seed`` (of its model choice),
            ``chosen``, ``p_true`` (posterior probability of the true rule), ``seconds``,
            and ``p:<rule>`` for every rule.
        truths: the parameters of each rule's pseudo-records.
        settings: seed, K, budget, population, until.
    """

    rules: list[str]
    runs: pd.DataFrame
    truths: dict[str, dict[str, float]]
    settings: dict = field(default_factory=dict)
    runtime_s: float = 0.0

    @property
    def k(self) -> int:
        return int(self.settings["k"])

    @property
    def matrix(self) -> pd.DataFrame:
        """Counts: rows the true rule, columns the chosen rule (each row sums to K)."""
        m = pd.crosstab(pd.Categorical(self.runs["true_rule"], categories=self.rules),
                        pd.Categorical(self.runs["chosen"], categories=self.rules),
                        dropna=False)
        m.index.name, m.columns.name = "true_rule", "chosen_rule"
        return m.reindex(index=self.rules, columns=self.rules, fill_value=0).astype(int)

    def per_rule(self) -> pd.DataFrame:
        """Per true rule: pseudo-records, correct choices, their share, mean p(true rule)."""
        g = self.runs.assign(correct=self.runs["chosen"] == self.runs["true_rule"]) \
            .groupby("true_rule", sort=False)
        out = pd.DataFrame({"pseudo_records": g.size(), "correct": g["correct"].sum(),
                            "share_correct": g["correct"].mean(),
                            "mean_p_true": g["p_true"].mean()}).reindex(self.rules)
        out.index.name = "true_rule"
        return out

    @property
    def share_correct(self) -> float:
        return float((self.runs["chosen"] == self.runs["true_rule"]).mean())

    @property
    def mean_p_true(self) -> float:
        return float(self.runs["p_true"].mean())

    def table(self) -> pd.DataFrame:
        """``confusion.csv``: the matrix (one column per chosen rule) with the per-rule
        shares, and a last row ``all`` with the column totals and the overall shares."""
        m = self.matrix
        per = self.per_rule()
        out = m.copy()
        for c in per.columns:
            out[c] = per[c]
        total = m.sum(axis=0).to_dict() | dict(
            pseudo_records=len(self.runs), correct=int(per["correct"].sum()),
            share_correct=self.share_correct, mean_p_true=self.mean_p_true)
        out.loc["all"] = pd.Series(total)
        out.index.name = "true_rule"
        return out.reset_index()

    def confused_pairs(self, top: int = 3) -> list[tuple[str, str, int]]:
        """Pairs of rules most often taken for one another: (a, b, a->b + b->a), largest
        first, only pairs confused at least once."""
        m = self.matrix.to_numpy()
        pairs = []
        for i in range(len(self.rules)):
            for j in range(i + 1, len(self.rules)):
                n = int(m[i, j] + m[j, i])
                if n > 0:
                    pairs.append((self.rules[i], self.rules[j], n))
        pairs.sort(key=lambda p: -p[2])
        return pairs[:top]

    def verdict(self) -> str:
        """``can``, ``partly`` or ``cannot`` (see :meth:`text`)."""
        per = self.per_rule()["share_correct"]
        if (per >= IDENTIFIED_SHARE).all():
            return "can"
        if self.share_correct < 0.5:
            return "cannot"
        return "partly"

    def text(self) -> str:
        """The paragraph of the comparison's report."""
        per = self.per_rule()
        n, total = int(per["correct"].sum()), len(self.runs)
        s = self.settings
        each = "; ".join(f"`{r}` {int(row.correct)}/{int(row.pseudo_records)}"
                         for r, row in per.iterrows())
        text = (f"Confusion matrix ({self.k} pseudo-records per rule, each fitted by the same "
                f"model choice with budget {s['budget']} and {s['population']} particles; "
                f"shared parameters at the scenario's values, each rule's trigger parameters "
                f"at their prior medians; seed {s['seed']}): the true rule wins in {n} of "
                f"{total} pseudo-records ({n / total:.0%}; chance {1 / len(self.rules):.0%}): "
                f"{each}. The mean posterior probability of the true rule is "
                f"{self.mean_p_true:.2f}.")
        pairs = self.confused_pairs()
        if pairs:
            text += " Rules confused with one another: " + ", ".join(
                f"`{a}` and `{b}` ({c} of {2 * self.k})" for a, b, c in pairs) + "."
        else:
            text += " No two rules were confused."
        verdict = self.verdict()
        if verdict == "can":
            text += (f" So the record's targets can tell these rules apart: each is "
                     f"identified in at least {IDENTIFIED_SHARE:.0%} of its pseudo-records.")
        elif verdict == "cannot":
            text += (" So the record's targets cannot tell these rules apart: the true rule "
                     "wins in fewer than half of the pseudo-records, and posterior rule "
                     "probabilities on the record should not be read as evidence for one rule.")
        else:
            good = [r for r, v in per["share_correct"].items() if v >= IDENTIFIED_SHARE]
            bad = [r for r in self.rules if r not in good]
            text += (" So the record's targets can tell apart only some of these rules: "
                     + (", ".join(f"`{r}`" for r in good) if good else "none")
                     + f" identified in at least {IDENTIFIED_SHARE:.0%} of pseudo-records, "
                     + ", ".join(f"`{r}`" for r in bad) + " not; the comparison's "
                     "probabilities among the latter say little.")
        return text

    def figure(self):
        """A heatmap of the counts: rows the true rule, columns the chosen rule."""
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        m = self.matrix
        per = self.per_rule()
        n = len(self.rules)
        fig, ax = plt.subplots(figsize=(1.6 + 0.95 * n, 1.4 + 0.75 * n))
        ax.imshow(m.to_numpy() / max(self.k, 1), cmap="Blues", vmin=0, vmax=1)
        for i in range(n):
            for j in range(n):
                v = int(m.iat[i, j])
                ax.text(j, i, str(v), ha="center", va="center", fontsize=11,
                        color="white" if v / max(self.k, 1) > 0.6 else "black",
                        fontweight="bold" if i == j else "normal")
        ax.set_xticks(range(n), self.rules, rotation=35, ha="right")
        ax.set_yticks(range(n), [f"{r} ({int(per.loc[r, 'correct'])}/{self.k})"
                                 for r in self.rules])
        ax.set_xlabel("rule chosen by ABC model choice")
        ax.set_ylabel("true rule of the pseudo-record (correct/K)")
        ax.set_title(f"True rule chosen in {int(per['correct'].sum())} of {len(self.runs)} "
                     f"pseudo-records\n(K = {self.k}, budget {self.settings['budget']}, "
                     f"mean p(true) {self.mean_p_true:.2f})", fontsize=10)
        ax.set_xticks(np.arange(n + 1) - 0.5, minor=True)
        ax.set_yticks(np.arange(n + 1) - 0.5, minor=True)
        ax.grid(which="minor", color="white", linewidth=1.5)
        ax.tick_params(which="minor", length=0)
        fig.tight_layout()
        return fig


def confusion_matrix(scenario, rules: Sequence[str], k: int, *, until=None,
                     seed: int | None = None, population: int = DEFAULT_POPULATION,
                     budget: int = DEFAULT_BUDGET, tallies: pd.DataFrame | None = None,
                     progress: bool = False, **calibrate_kwargs) -> Confusion:
    """ABC model choice among ``rules`` on ``k`` pseudo-records of each rule.

    ``calibrate_kwargs`` go to every :func:`calibration.fit.calibrate` (``workers``,
    ``scheduler``, ``chunk``); its ``progress`` bar is off, a bar over pseudo-records is
    shown with ``progress``.
    """
    rules = list(rules)
    if len(rules) < 2:
        raise ValueError("a confusion matrix needs at least two rules")
    if int(k) != k or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    k = int(k)
    parse_until(until, scenario)
    seed = scenario.seed if seed is None else int(seed)
    truths = {r: truth_for(scenario, r) for r in rules}
    t0 = time.perf_counter()
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=len(rules) * k, unit="pseudo-record", desc="confusion")
    rows = []
    try:
        for rule in rules:
            obs = pseudo_records(scenario, rule, k, until=until, seed=seed, tallies=tallies,
                                 truth=truths[rule])
            for j in range(k):
                if bar is not None:
                    bar.set_postfix(rule=rule, k=j, refresh=True)
                t1 = time.perf_counter()
                post = calibrate(scenario, rules, until=until, population=population,
                                 budget=budget, seed=seed + j, tallies=tallies,
                                 observed=obs[j], **calibrate_kwargs)
                probs = post.rule_probabilities().reindex(rules, fill_value=0.0)
                rows.append(dict(true_rule=rule, k=j,
                                 replicate=SYNTHETIC_REPLICATE + CONFUSION_REPLICATE + j,
                                 seed=seed + j, chosen=rules[int(np.argmax(probs.to_numpy()))],
                                 p_true=float(probs[rule]),
                                 seconds=round(time.perf_counter() - t1, 1),
                                 **{f"p:{r}": float(probs[r]) for r in rules}))
                if bar is not None:
                    bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    runs = pd.DataFrame(rows)
    return Confusion(rules, runs, truths,
                     settings=dict(seed=seed, k=k, budget=int(budget),
                                   population=int(population),
                                   until=None if until is None else str(until)),
                     runtime_s=round(time.perf_counter() - t0, 1))
