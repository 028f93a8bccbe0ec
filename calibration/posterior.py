"""A calibration's posterior: the particles on disk, summaries, draws, the parameter file.

What lives here: :class:`Posterior` (particles of every generation with weights, and the
metadata needed to read them: rules, priors, targets, tolerances), :func:`read` and
:meth:`Posterior.write` (``posterior.parquet``, metadata embedded), :func:`draw_overrides`
(what ``escalation run --posterior DIR`` uses: one posterior draw per replicate), summaries
(weighted quantiles) and :func:`calibrated_toml` (the posterior medians as a scenario
parameter file that ``scenarios/history.toml`` extends). What does not: fitting
(``calibration.fit``), reports and figures (``calibration.report``).

``posterior.parquet`` columns: ``generation``, ``particle``, ``rule``, ``weight`` (sums to 1
within a generation), ``distance``, ``weight_before_decisions`` (the ABC weight, before the
record's documented decisions weighed the final particles) and ``decision:<day>`` (each
final particle's share of runs agreeing with that day's decision), both only after
``calibrate --decisions`` (``calibration.decisions``); one column per fitted parameter (dotted path; NaN when the particle's rule lacks it) and ``target:<name>`` per fitted target (the particle's simulated
value: an ABC posterior predictive sample). The final population is the highest generation.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from calibration.smc import Parameter, weighted_quantile
from sim.errors import InputError

FILE = "posterior.parquet"
META_KEY = b"escalation.calibration"
#: Quantiles reported for each parameter.
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


@dataclass
class Posterior:
    """Particles of all generations and their metadata (see the module docstring)."""

    particles: pd.DataFrame
    meta: dict[str, Any]

    # -- what was fitted ---------------------------------------------------------------------

    @property
    def parameters(self) -> list[Parameter]:
        return [Parameter(p["name"], p["dist"], tuple(p["args"]), p["log"], p.get("doc", ""))
                for p in self.meta["parameters"]]

    @property
    def names(self) -> list[str]:
        return [p["name"] for p in self.meta["parameters"]]

    @property
    def rules(self) -> list[str]:
        return list(self.meta["rules"])

    @property
    def until(self) -> pd.Timestamp | None:
        u = self.meta.get("until")
        return pd.Timestamp(u) if u else None

    @property
    def ratios(self) -> dict[str, dict[str, float]]:
        return self.meta.get("ratios", {})

    def rule_names(self, rule: str) -> list[str]:
        """The fitted parameters of one rule, in order."""
        return list(self.meta["rule_parameters"][rule])

    # -- populations ------------------------------------------------------------------------

    @property
    def final(self) -> pd.DataFrame:
        g = self.particles["generation"].max()
        return self.particles[self.particles["generation"] == g].reset_index(drop=True)

    def rule_probabilities(self, generation: int | None = None) -> pd.Series:
        """Posterior probability of each rule (model choice), from the particle weights."""
        frame = self.final if generation is None else self.particles[
            self.particles["generation"] == generation]
        probs = frame.groupby("rule")["weight"].sum()
        return probs.reindex(self.rules, fill_value=0.0)

    @property
    def best_rule(self) -> str:
        return str(self.rule_probabilities().idxmax())

    def of_rule(self, rule: str | None = None, without_decisions=()) -> pd.DataFrame:
        """Final particles of one rule (default: the most probable), weights renormalised;
        ``without_decisions``: days of documented decisions whose weighing to leave out
        (``calibration.decisions``; no effect where none was weighed)."""
        rule = rule or self.best_rule
        frame = self.final[self.final["rule"] == rule].copy()
        if frame.empty:
            raise InputError(None, "rule", f"no particle of rule {rule!r} survived")
        if len(without_decisions) and "weight_before_decisions" in frame:
            from calibration.decisions import weights_without
            frame["weight"] = weights_without(frame, without_decisions)
        frame["weight"] = frame["weight"] / frame["weight"].sum()
        return frame.reset_index(drop=True)

    def summary(self, rule: str | None = None) -> pd.DataFrame:
        """Per fitted parameter of a rule: prior, weighted mean, sd and quantiles."""
        frame = self.of_rule(rule)
        w = frame["weight"].to_numpy()
        rows = []
        by_name = {p.name: p for p in self.parameters}
        for name in self.rule_names(rule or self.best_rule):
            x = frame[name].to_numpy(dtype=float)
            mean = float(np.sum(w * x))
            q = weighted_quantile(x, w, QUANTILES)
            rows.append(dict(parameter=name, prior=by_name[name].describe(), mean=mean,
                             sd=float(np.sqrt(np.sum(w * (x - mean) ** 2))),
                             **{f"q{int(round(100 * k)):02d}": float(v)
                                for k, v in zip(QUANTILES, q)}))
        return pd.DataFrame(rows)

    def point(self, rule: str | None = None, stat: str = "median") -> dict[str, float]:
        """A point estimate per parameter: the weighted ``median`` or ``mean``."""
        s = self.summary(rule)
        col = "q50" if stat == "median" else "mean"
        return dict(zip(s["parameter"], s[col]))

    def generations(self) -> pd.DataFrame:
        return pd.DataFrame(self.meta["generations"])

    # -- files --------------------------------------------------------------------------------

    def write(self, folder: str | os.PathLike) -> Path:
        import pyarrow as pa
        import pyarrow.parquet as pq
        path = Path(folder) / FILE
        table = pa.Table.from_pandas(self.particles, preserve_index=False)
        meta = dict(table.schema.metadata or {})
        meta[META_KEY] = json.dumps(self.meta, default=_json_default).encode()
        pq.write_table(table.replace_schema_metadata(meta), path)
        return path


def _json_default(obj):
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating,)):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, pd.Timestamp):
        return obj.strftime("%Y-%m-%d")
    raise TypeError(f"not JSON serialisable: {type(obj)}")


def read(folder: str | os.PathLike) -> Posterior:
    """Read ``folder/posterior.parquet`` (written by ``escalation calibrate``)."""
    import pyarrow.parquet as pq
    folder = Path(folder)
    path = folder / FILE
    if not folder.is_dir():
        raise InputError(str(folder), "--posterior", "no such calibration folder")
    if not path.is_file():
        raise InputError(str(folder), "--posterior",
                         f"no {FILE}; write one with: escalation calibrate --out {folder}")
    table = pq.read_table(path)
    raw = (table.schema.metadata or {}).get(META_KEY)
    if raw is None:
        raise InputError(str(path), None, "not a calibration posterior (no metadata)")
    return Posterior(table.to_pandas(), json.loads(raw))


def draw_overrides(posterior_dir: str | os.PathLike, replicates: int, seed: int,
                   rule: str | None = None, without_decisions=()
                   ) -> dict[str, np.ndarray]:
    """One posterior draw per replicate, as engine overrides by dotted path.

    Draws are taken with replacement from the final population by weight, with a generator
    seeded by ``seed`` (so ``escalation run --posterior DIR --seed S`` is reproducible). Tied
    paths (the weapons' lethal probabilities) are expanded. A model-choice posterior draws
    from its most probable rule unless ``rule`` says which. ``without_decisions``: days of
    documented decisions whose weighing to leave out (``calibration.decisions``), as a
    forecast that keeps only the runs agreeing with those decisions must.
    """
    return draw_from(read(posterior_dir), replicates, seed, rule, without_decisions)


class Draws:
    """A calibration folder as ``sim.run(..., posterior=Draws(DIR))`` takes it: the model
    asks for ``draw(replicates, seed)`` and never imports calibration itself."""

    def __init__(self, folder: str | os.PathLike, rule: str | None = None):
        self.folder, self.rule = folder, rule

    def draw(self, replicates: int, seed: int) -> dict[str, np.ndarray]:
        return draw_overrides(self.folder, replicates, seed, self.rule)

    def __str__(self) -> str:
        return str(self.folder)


def draw_from(post: Posterior, replicates: int, seed: int,
              rule: str | None = None, without_decisions=()
              ) -> dict[str, np.ndarray]:
    """:func:`draw_overrides` of a posterior in memory (e.g. one just fitted)."""
    frame = post.of_rule(rule, without_decisions)
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0x706F7374]))
    idx = rng.choice(len(frame), size=int(replicates), p=frame["weight"].to_numpy())
    values = {n: frame[n].to_numpy(dtype=float)[idx] for n in
              post.rule_names(rule or post.best_rule)}
    from calibration.priors import expand
    return expand(values, post.ratios)


def posterior_rule(posterior_dir: str | os.PathLike) -> str:
    """The rule a posterior's draws belong to (its most probable rule)."""
    return read(posterior_dir).best_rule


# --- The parameter file ------------------------------------------------------------------------

def calibrated_toml(post: Posterior, rule: str | None = None, stat: str = "median",
                    header: str = "") -> str:
    """The posterior point estimate as a scenario parameter file (no name, window or seed:
    a parent for ``extends``). Tied paths are written out too."""
    rule = rule or post.best_rule
    from calibration.priors import expand
    values = expand({k: np.array([v]) for k, v in post.point(rule, stat).items()}, post.ratios)
    tables: dict[str, dict[str, float]] = {}
    top: dict[str, float] = {}       # scenario-level keys (shock_scale, war_half_life_days)
    for path, v in values.items():
        if "." not in path:
            top[path] = float(v[0])
            continue
        table, key = path.rsplit(".", 1)
        tables.setdefault(table, {})[key] = float(v[0])
    tables.setdefault("us", {})
    lines = [f"# {line}".rstrip() for line in header.strip().splitlines()] if header else []
    if top:
        lines += [""] + [f"{key} = {_fmt(v)}" for key, v in top.items()]
    for table in sorted(tables, key=_table_order):
        lines += ["", f"[{table}]"]
        if table == "us":
            lines.append(f'rule = "{rule}"')
        for key, v in tables[table].items():
            lines.append(f"{key} = {_fmt(v)}")
    return "\n".join(lines).lstrip("\n") + "\n"


def _table_order(table: str) -> tuple[int, str]:
    order = ["militias", "iran", "us", "iraq", "weapons"]
    head = table.split(".")[0]
    return (order.index(head) if head in order else len(order), table)


def _fmt(v: float) -> str:
    """Four significant digits, always a TOML float."""
    return repr(float(f"{v:.4g}"))
