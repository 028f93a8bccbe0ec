"""The figures of an analysis: indices, Morris, scatter plots, grid lines and heatmaps.

What lives here: one function per figure, each writing a PNG and returning its path. What
does not: computing what they show (``sim.sensitivity.indices``).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from sim.sensitivity.data import BINARY, SweepData, _fmtv, _label
from sim.sensitivity.indices import CONF_LEVEL


def _param_label(data: SweepData, name: str) -> str:
    doc = _param_doc(data, name)
    return f"{name}\n({doc})" if doc else name


def _param_doc(data: SweepData, name: str) -> str:
    from sim.params import ModelParams, describe
    from sim.rules import REGISTRY
    for row in describe(ModelParams()):
        if row["path"] == name:
            return _short(row["doc"])
    key = name.rsplit(".", 1)[-1]
    rule = data.manifest["sweep"]["scenario"]["resolved"].get("us", {}).get("rule")
    for r in ([rule] if rule in REGISTRY else []) + sorted(REGISTRY):
        if key in REGISTRY[r].parameters and name.startswith("us."):
            return _short(REGISTRY[r].parameters[key][3])
    return ""


def _short(text: str, width: int = 48) -> str:
    return text if len(text) <= width else text[:width - 1].rsplit(" ", 1)[0] + "..."


def _title(data: SweepData, text: str) -> str:
    return f"{data.manifest['sweep']['name']}: {text}"


def _fig_grid(data: SweepData, stats: pd.DataFrame, out: Path) -> list[Path]:
    import matplotlib.pyplot as plt

    names = data.names
    figs = []
    if len(names) == 1:
        name = names[0]
        ncol = min(3, len(data.metrics))
        nrow = math.ceil(len(data.metrics) / ncol)
        fig, axes = plt.subplots(nrow, ncol, figsize=(5.2 * ncol, 3.9 * nrow), squeeze=False)
        numeric = pd.api.types.is_numeric_dtype(stats[name])
        s = stats.sort_values(name) if numeric else stats
        x = s[name].to_numpy(float) if numeric else np.arange(len(s))
        for ax, m in zip(axes.flat, data.metrics):
            mean = s[f"{m}:mean"].to_numpy(float)
            if m in BINARY:
                half = 1.645 * np.sqrt(mean * (1 - mean) / np.maximum(s[f"{m}:n"], 1))
                lo, hi = np.clip(mean - half, 0, 1), np.clip(mean + half, 0, 1)
                band = "90% CI of the share"
                ax.set_ylim(0, max(0.05, float(np.max(hi)) * 1.1))
            else:
                lo, hi = s[f"{m}:q05"], s[f"{m}:q95"]
                band = "5-95% of replicates"
            ax.fill_between(x, lo, hi, alpha=0.25, color="#0072B2", label=band)
            ax.plot(x, mean, "o-", color="#0072B2", label=f"mean of {data.replicates} "
                                                           "replicates")
            if not numeric:
                ax.set_xticks(x, s[name])
            ax.set_xlabel(_param_label(data, name), fontsize=9)
            ax.set_ylabel(_label(m), fontsize=9)
            ax.set_title(m, fontsize=10)
            ax.grid(alpha=0.3)
            ax.legend(fontsize=7)
        for ax in list(axes.flat)[len(data.metrics):]:
            ax.axis("off")
        fig.suptitle(_title(data, "response to " + name), fontsize=11)
        fig.tight_layout()
        path = out / "lines.png"
        fig.savefig(path, dpi=120)
        plt.close(fig)
        return [path]
    pairs = [(names[i], names[j]) for i in range(len(names)) for j in range(i + 1, len(names))]
    for a, b in pairs[:3]:
        for m in data.metrics:
            suffix = "" if len(pairs) == 1 else f"_{_slug(a)}_x_{_slug(b)}"
            path = out / f"heatmap_{m}{suffix}.png"
            _fig_heatmap(data, stats, m, a, b, path, marginal=len(names) > 2)
            figs.append(path)
    return figs


def _slug(name: str) -> str:
    return name.replace(".", "-")


def _fig_heatmap(data: SweepData, stats: pd.DataFrame, m: str, a: str, b: str, path: Path,
                 marginal: bool) -> None:
    """Mean of ``m`` over (a, b) with the replicate spread written in each cell."""
    import matplotlib.pyplot as plt

    g = stats.groupby([b, a], sort=False)
    mean = g[f"{m}:mean"].mean().unstack(a)
    ys = _ordered(stats[b])
    xs = _ordered(stats[a])
    mean = mean.reindex(index=ys, columns=xs)
    if m in BINARY:
        n = g[f"{m}:n"].sum().unstack(a).reindex(index=ys, columns=xs)
        spread = 1.96 * np.sqrt(mean * (1 - mean) / n.clip(lower=1))
        note = "cell: share of runs +- 95% CI"
    else:
        lo = g[f"{m}:q05"].mean().unstack(a).reindex(index=ys, columns=xs)
        hi = g[f"{m}:q95"].mean().unstack(a).reindex(index=ys, columns=xs)
        note = "cell: mean [5%-95% of replicates]"
    fig, ax = plt.subplots(figsize=(max(5.5, 1.15 * len(xs) + 3), max(4.2, 0.75 * len(ys) + 2.4)))
    im = ax.imshow(mean.to_numpy(float), origin="lower", aspect="auto", cmap="viridis")
    cbar = fig.colorbar(im, ax=ax)
    cbar.set_label(("mean " if m not in BINARY else "") + _label(m), fontsize=9)
    ax.set_xticks(range(len(xs)), [_fmtv(v) for v in xs])
    ax.set_yticks(range(len(ys)), [_fmtv(v) for v in ys])
    ax.set_xlabel(_param_label(data, a), fontsize=9)
    ax.set_ylabel(_param_label(data, b), fontsize=9)
    vals = mean.to_numpy(float)
    mid = np.nanmin(vals) + 0.5 * (np.nanmax(vals) - np.nanmin(vals))
    small = len(xs) * len(ys) > 42
    for i in range(len(ys)):
        for j in range(len(xs)):
            v = vals[i, j]
            if not np.isfinite(v):
                continue
            if m in BINARY:
                text = f"{v:.2f}" + ("" if small else f"\n+-{spread.iloc[i, j]:.2f}")
            else:
                text = f"{v:.3g}" + ("" if small else
                                     f"\n[{lo.iloc[i, j]:.3g}-{hi.iloc[i, j]:.3g}]")
            ax.text(j, i, text, ha="center", va="center", fontsize=7 if small else 8,
                    color="black" if v > mid else "white")
    over = f" (averaged over {', '.join(n for n in data.names if n not in (a, b))})" \
        if marginal else ""
    ax.set_title(_title(data, f"{m}, mean of {data.replicates} replicates{over}\n{note}"),
                 fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _ordered(col: pd.Series) -> list:
    vals = list(dict.fromkeys(col.tolist()))
    return sorted(vals) if pd.api.types.is_numeric_dtype(col) else vals


def _fig_indices(data: SweepData, t: pd.DataFrame, path: Path) -> Path:
    import matplotlib.pyplot as plt

    metrics = list(dict.fromkeys(t.metric))
    ncol = min(3, len(metrics))
    nrow = math.ceil(len(metrics) / ncol)
    names = list(dict.fromkeys(t.parameter))
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.6 * ncol + 1.5, 0.45 * len(names) * nrow
                                                  + 2.2 * nrow), squeeze=False)
    y = np.arange(len(names))
    for ax, m in zip(axes.flat, metrics):
        g = t[t.metric == m].set_index("parameter").reindex(names)
        ax.barh(y - 0.2, g.S1, 0.4, xerr=g.S1_conf, label="S1 (first order)", color="#56B4E9",
                capsize=2)
        ax.barh(y + 0.2, g.ST, 0.4, xerr=g.ST_conf, label="ST (total)", color="#D55E00",
                capsize=2)
        ax.set_yticks(y, names if ax in axes[:, 0] else [""] * len(names), fontsize=8)
        ax.set_xlim(min(-0.05, float(np.nanmin(g.S1 - g.S1_conf)) - 0.02),
                    max(1.05, float(np.nanmax(g.ST + g.ST_conf)) + 0.02))
        ax.axvline(0, color="grey", lw=0.8)
        ax.set_xlabel("Sobol index (share of variance)", fontsize=9)
        ax.set_title(_short(f"{m}: {_label(m)}", 60), fontsize=9)
        ax.grid(axis="x", alpha=0.3)
    axes.flat[0].legend(fontsize=7, loc="lower right")
    for ax in list(axes.flat)[len(metrics):]:
        ax.axis("off")
    fig.suptitle(_title(data, f"Sobol indices with {CONF_LEVEL:.0%} bootstrap intervals"),
                 fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def _fig_morris(data: SweepData, t: pd.DataFrame, path: Path) -> Path:
    import matplotlib.pyplot as plt

    metrics = list(dict.fromkeys(t.metric))
    ncol = min(3, len(metrics))
    nrow = math.ceil(len(metrics) / ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(5 * ncol, 4.2 * nrow), squeeze=False)
    for ax, m in zip(axes.flat, metrics):
        g = t[t.metric == m]
        ax.errorbar(g.mu_star, g.sigma, xerr=g.mu_star_conf, fmt="o", color="#0072B2",
                    capsize=2)
        for r in g.itertuples():
            ax.annotate(r.parameter, (r.mu_star, r.sigma), fontsize=7, xytext=(3, 3),
                        textcoords="offset points")
        hi = float(max((g.mu_star + g.mu_star_conf).max(), g.sigma.max(), 1e-9)) * 1.15
        ax.plot([0, hi], [0, hi], ls="--", color="grey", lw=0.8, label="sigma = mu*")
        ax.set_xlim(0, hi)
        ax.set_ylim(0, hi)
        ax.set_xlabel(f"mu* (change in {m} per full range)", fontsize=9)
        ax.set_ylabel("sigma (non-linearity / interactions)", fontsize=9)
        ax.set_title(_short(f"{m}: {_label(m)}", 60), fontsize=9)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    for ax in list(axes.flat)[len(metrics):]:
        ax.axis("off")
    fig.suptitle(_title(data, "Morris screening (mean of replicates per point)"), fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def _fig_scatter(data: SweepData, stats: pd.DataFrame, m: str, path: Path) -> Path:
    """Point means against each parameter, with binned means (partial dependence) and 90%
    bands of those point means per bin."""
    import matplotlib.pyplot as plt
    from scipy.stats import spearmanr

    names = data.names
    ncol = min(3, len(names))
    nrow = math.ceil(len(names) / ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.8 * ncol, 3.8 * nrow), squeeze=False,
                             sharey=True)
    y = stats[f"{m}:mean"].to_numpy(float)
    for ax, name in zip(axes.flat, names):
        x = stats[name].to_numpy(float)
        ax.scatter(x, y, s=8, alpha=0.45, color="#0072B2", label="design point (mean)")
        nb = int(np.clip(len(x) // 15, 3, 12))
        edges = np.quantile(x, np.linspace(0, 1, nb + 1))
        idx = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, nb - 1)
        cx, cm, clo, chi = [], [], [], []
        for k in range(nb):
            sel = (idx == k) & np.isfinite(y)
            if sel.sum() >= 2:
                cx.append(x[sel].mean())
                cm.append(y[sel].mean())
                clo.append(np.quantile(y[sel], 0.05))
                chi.append(np.quantile(y[sel], 0.95))
        ax.fill_between(cx, clo, chi, color="#D55E00", alpha=0.15, label="90% of points in bin")
        ax.plot(cx, cm, "-", color="#D55E00", lw=2, label="binned mean (partial dependence)")
        ok = np.isfinite(y)
        rho = spearmanr(x[ok], y[ok])[0] if ok.sum() > 2 else float("nan")
        ax.set_title(f"Spearman rho = {rho:+.2f}", fontsize=9)
        ax.set_xlabel(_param_label(data, name), fontsize=9)
        ax.grid(alpha=0.3)
    for ax in axes[:, 0]:
        ax.set_ylabel(_label(m), fontsize=9)
    axes.flat[0].legend(fontsize=7, loc="best", framealpha=0.6)
    for ax in list(axes.flat)[len(names):]:
        ax.axis("off")
    fig.suptitle(_title(data, f"{m} (mean of {data.replicates} replicates per point)"),
                 fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
