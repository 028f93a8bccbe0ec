"""The figures of an analysis: indices, Morris, scatter plots, grid lines, heatmaps, response
curves and interaction plots.

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
            lo, hi = s[f"{m}:lo"].to_numpy(float), s[f"{m}:hi"].to_numpy(float)
            if m in BINARY:
                band = "95% interval of the share (Wilson)"
                ax.set_ylim(0, max(0.05, float(np.nanmax(hi)) * 1.1))
            else:
                ax.fill_between(x, s[f"{m}:q05"], s[f"{m}:q95"], alpha=0.12, color="grey",
                                label="5-95% of replicates")
                band = "95% interval of the mean (t)"
            ax.fill_between(x, lo, hi, alpha=0.3, color="#0072B2", label=band)
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
        suffix = "" if len(pairs) == 1 else f"_{_slug(a)}_x_{_slug(b)}"
        for m in data.metrics:
            path = out / f"heatmap_{m}{suffix}.png"
            _fig_heatmap(data, stats, m, a, b, path, marginal=len(names) > 2)
            figs.append(path)
        figs.append(_fig_interaction(data, a, b, out / f"interaction{suffix or ''}.png"))
    figs.append(_fig_response(data, out / "response_curves.png"))
    return figs


def _runs_with_values(data: SweepData) -> pd.DataFrame:
    return data.runs.join(data.design.set_index("point")[data.names], on="point")


def _cell_stats(runs: pd.DataFrame, keys: list[str], m: str) -> pd.DataFrame:
    """Mean, runs, and the 95% interval of the mean of ``m`` per combination of ``keys``
    (pooled over the runs of every design point in the cell): Wilson for a share, t
    otherwise."""
    from sim.sensitivity.intervals import t_interval, wilson

    g = runs.groupby(keys, sort=True)[m]
    t = pd.DataFrame({"mean": g.mean(), "sd": g.std(ddof=1), "n": g.count(), "k": g.sum()})
    if m in BINARY:
        t["lo"], t["hi"] = wilson(t["k"], t["n"])
    else:
        t["lo"], t["hi"] = t_interval(t["mean"], t["sd"], t["n"])
    return t


def _fig_response(data: SweepData, path: Path) -> Path:
    """Response curves: each metric against each swept parameter (pooled over the others),
    with the 95% interval of the mean (Wilson for shares)."""
    import matplotlib.pyplot as plt

    runs = _runs_with_values(data)
    nrow, ncol = len(data.metrics), len(data.names)
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.2 * ncol, 3.2 * nrow), squeeze=False)
    for i, m in enumerate(data.metrics):
        for j, name in enumerate(data.names):
            ax = axes[i, j]
            t = _cell_stats(runs, [name], m)
            numeric = pd.api.types.is_numeric_dtype(runs[name])
            x = t.index.to_numpy(float) if numeric else np.arange(len(t))
            ax.fill_between(x, t["lo"], t["hi"], color="#0072B2", alpha=0.25,
                            label="95% interval" + (" (Wilson)" if m in BINARY else ""))
            ax.plot(x, t["mean"], "o-", color="#0072B2", ms=3, label="mean")
            if not numeric:
                ax.set_xticks(x, [str(v) for v in t.index])
            if i == nrow - 1:
                ax.set_xlabel(_param_label(data, name), fontsize=8)
            if j == 0:
                ax.set_ylabel(_short(_label(m), 40), fontsize=8)
            ax.grid(alpha=0.3)
            ax.tick_params(labelsize=7)
    axes[0, 0].legend(fontsize=7)
    fig.suptitle(_title(data, "response curves (each parameter, averaged over the others)"),
                 fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _fig_interaction(data: SweepData, a: str, b: str, path: Path) -> Path:
    """Two-way interaction plot: each metric against ``a``, one line per value of ``b``
    (parallel lines: no interaction), with 95% intervals."""
    import matplotlib.pyplot as plt

    runs = _runs_with_values(data)
    ncol = min(3, len(data.metrics))
    nrow = math.ceil(len(data.metrics) / ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.8 * ncol, 3.8 * nrow), squeeze=False)
    levels = _ordered(runs[b])
    if len(levels) > 6:           # many levels: every other one keeps the lines readable
        levels = levels[::math.ceil(len(levels) / 6)]
    colours = plt.get_cmap("viridis")(np.linspace(0, 0.9, len(levels)))
    numeric = pd.api.types.is_numeric_dtype(runs[a])
    for ax, m in zip(axes.flat, data.metrics):
        t = _cell_stats(runs, [b, a], m)
        for c, v in zip(colours, levels):
            row = t.loc[v]
            x = row.index.to_numpy(float) if numeric else np.arange(len(row))
            ax.fill_between(x, row["lo"], row["hi"], color=c, alpha=0.15)
            ax.plot(x, row["mean"], "o-", color=c, ms=3, label=f"{b} = {_fmtv(v)}")
            if not numeric:
                ax.set_xticks(x, [str(u) for u in row.index])
        ax.set_xlabel(_param_label(data, a), fontsize=8)
        ax.set_ylabel(_short(_label(m), 40), fontsize=8)
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=7)
    axes.flat[0].legend(fontsize=6)
    for ax in list(axes.flat)[len(data.metrics):]:
        ax.axis("off")
    fig.suptitle(_title(data, f"interaction of {a} and {b}: parallel lines mean none "
                              "(bands: 95% intervals)"), fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _slug(name: str) -> str:
    return name.replace(".", "-")


def _fig_heatmap(data: SweepData, stats: pd.DataFrame, m: str, a: str, b: str, path: Path,
                 marginal: bool) -> None:
    """Mean of ``m`` over (a, b) on a diverging scale centred on the baseline, the median of
    the cells' means; a cell whose 95% interval holds the baseline is hatched grey (its
    difference is within the replicate noise). Cells note the count or mean and interval."""
    import matplotlib.pyplot as plt
    from matplotlib.colors import CenteredNorm
    from matplotlib.patches import Rectangle

    from sim.sensitivity.intervals import fmt_share

    ys, xs = _ordered(stats[b]), _ordered(stats[a])
    t = _cell_stats(_runs_with_values(data), [b, a], m)

    def grid(col: str) -> np.ndarray:
        return t[col].unstack(a).reindex(index=ys, columns=xs).to_numpy(float)

    vals, lo, hi, n, k, sd = (grid(c) for c in ("mean", "lo", "hi", "n", "k", "sd"))
    # the baseline: the cell whose mean is nearest the median of the cells' means
    flat = np.where(np.isfinite(vals), vals, np.inf)
    bi, bj = np.unravel_index(np.argmin(np.abs(flat - np.nanmedian(vals))), vals.shape)
    baseline = float(vals[bi, bj])
    span = float(np.nanmax(np.abs(vals - baseline))) if np.isfinite(vals).any() else 0.0
    noise = _diff_holds_zero(m, vals, lo, hi, sd, n, (bi, bj))
    fig, ax = plt.subplots(figsize=(max(5.8, 1.3 * len(xs) + 3), max(4.4, 0.8 * len(ys) + 2.6)))
    im = ax.imshow(vals, origin="lower", aspect="auto", cmap="RdBu_r",
                   norm=CenteredNorm(vcenter=baseline, halfrange=span or 1.0))
    cbar = fig.colorbar(im, ax=ax)
    cbar.set_label(("mean " if m not in BINARY else "share: ") + _label(m), fontsize=9)
    ax.set_xticks(range(len(xs)), [_fmtv(v) for v in xs])
    ax.set_yticks(range(len(ys)), [_fmtv(v) for v in ys])
    ax.set_xlabel(_param_label(data, a), fontsize=9)
    ax.set_ylabel(_param_label(data, b), fontsize=9)
    small = len(xs) * len(ys) > 42
    for i in range(len(ys)):
        for j in range(len(xs)):
            v = vals[i, j]
            if not np.isfinite(v):
                continue
            if noise[i, j]:
                ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, facecolor="#d9d9d9",
                                       edgecolor="#999999", hatch="///", lw=0))
            if m in BINARY:
                text = fmt_share(k[i, j], n[i, j], lo[i, j], hi[i, j])
                text = text if small else text.replace(" (", "\n(")
            else:
                text = f"{v:.3g}" + ("" if small else f"\n({lo[i, j]:.3g} to {hi[i, j]:.3g})")
            ax.text(j, i, text, ha="center", va="center", fontsize=6 if small else 7.5,
                    color="white" if not noise[i, j] and abs(v - baseline) > 0.6 * (span or 1)
                    else "black")
    over = f" (averaged over {', '.join(n for n in data.names if n not in (a, b))})" \
        if marginal else ""
    ax.add_patch(Rectangle((bj - 0.5, bi - 0.5), 1, 1, fill=False, edgecolor="black", lw=2))
    ax.set_title(_title(data, f"{m}: {data.replicates} replicates per point{over}\n"
                              f"colour: difference from the median cell (framed, {baseline:.3g});"
                              " hatched grey: 95% interval of the difference holds 0 (noise)"),
                 fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _diff_holds_zero(m: str, vals, lo, hi, sd, n, base: tuple[int, int]) -> np.ndarray:
    """Per cell: does the 95% interval of its difference from the baseline cell hold 0?

    Shares: Newcombe's hybrid score interval of a difference of two proportions, built from
    the two Wilson intervals (Newcombe 1998, Statistics in Medicine 17(8), method 10). Means:
    Welch's interval (normal quantile). Both ignore that replicate j of every cell shares its
    random numbers, so they are conservative: a cell shown in colour differs for sure."""
    b = base
    if m in BINARY:
        d = vals - vals[b]
        below = np.sqrt((vals - lo) ** 2 + (hi[b] - vals[b]) ** 2)
        above = np.sqrt((hi - vals) ** 2 + (vals[b] - lo[b]) ** 2)
        out = (d - below <= 0) & (0 <= d + above)
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            se = np.sqrt(sd ** 2 / n + sd[b] ** 2 / n[b])
        d = vals - vals[b]
        out = ~(np.abs(d) > 1.96 * np.where(np.isfinite(se), se, np.inf))
    out[b] = True
    return out


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
