"""Paper-style figures of one or more sweep directories (``lda-sketch plot SWEEP_DIR...``).

For an output prefix ``OUT`` (PNG and PDF each)::

    OUT_perplexity_iter   held-out perplexity vs iteration; one panel per sketch variant
                          (backend, increment rule, base; or ``panel_by``), one colour per bucket
                          count (or ``color_by``), one marker per hash count, mean over trials
                          with a ±sd band; dense dashed black in every panel
    OUT_perplexity_time   the same against wall-clock seconds (mean elapsed)
    OUT_frontier          bytes of the statistics vs final perplexity (mean ± sd), dense
                          marked: the memory-quality frontier

Only finished trials are used (``unfinished=True`` includes partial runs while a sweep runs).
matplotlib is imported lazily (:func:`lda_sketch.run.plots.pyplot`).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .._validation import param_error
from ..exceptions import InputFormatError
from ..run.plots import COLORS, MARKERS, pyplot, save
from ..stats import BACKENDS
from .summary import load_results

#: Sketch keys a panel or a colour may be chosen by ('rule': independent/correlated/conservative).
PANEL_KEYS = ("counter_base", "rule", "increment", "backend", "n_hashes")
COLOR_KEYS = ("n_buckets", "counter_base", "n_hashes")


def is_sweep_dir(path) -> bool:
    """A directory written by ``lda-sketch sweep`` (it holds ``plan.json``)."""
    return (Path(path) / "plan.json").is_file()


def variant(cfg) -> str:
    """The panel a point belongs to: everything about its sketch except d and w (the backend's
    :meth:`~lda_sketch.stats.base.TopicWordStats.variant_label`)."""
    return BACKENDS[cfg.sketch.backend].variant_label(cfg.sketch)


def _exact(point) -> bool:
    """Whether a point's backend keeps exact counts (the dense oracle): drawn as the reference."""
    return "exact" in BACKENDS[point["config"].sketch.backend].guarantees


def sketch_key(cfg, key: str):
    """A sketch setting by name; 'rule' is the increment rule (conservative counts as its own)."""
    sk = cfg.sketch
    if key == "rule":
        return "conservative" if sk.conservative else sk.increment
    return getattr(sk, key)


def curves(records_per_trial, x_key="iteration"):
    """Mean and sd of perplexity per evaluation, over trials (iterations common to all)."""
    common = None
    for recs in records_per_trial:
        its = {r["iteration"] for r in recs if r.get("perplexity") is not None}
        common = its if common is None else common & its
    its = sorted(common or [])
    ys, xs = [], []
    for recs in records_per_trial:
        by = {r["iteration"]: r for r in recs}
        ys.append([by[i]["perplexity"] for i in its])
        xs.append([by[i][x_key] if x_key != "iteration" else i for i in its])
    ys, xs = np.array(ys, float), np.array(xs, float)
    sd = ys.std(axis=0, ddof=1) if len(ys) > 1 else np.zeros(len(its))
    return xs.mean(axis=0), ys.mean(axis=0), sd


def load_points(dirs, *, unfinished: bool = False) -> list[dict]:
    """The points of every sweep directory with a config and evaluated trials
    (:func:`~lda_sketch.sweep.summary.load_results`)."""
    points = []
    for d in dirs:
        for p in load_results(d, unfinished=unfinished):
            if p["config"] is not None and p["records"] and any(
                    r.get("perplexity") is not None for recs in p["records"] for r in recs):
                points.append(p)
    if not points:
        raise InputFormatError(f"{', '.join(map(str, dirs))}: no finished run with a held-out "
                               f"evaluation (--unfinished to include partial ones)")
    return points


def _value_label(key: str, v) -> str:
    if key == "n_buckets":
        return f"w = $2^{{{int(v).bit_length() - 1}}}$"
    if key == "n_hashes":
        return f"d = {v}"
    return f"{key} {v:g}" if isinstance(v, float) else f"{key} {v}"


def legend_key(sketched, color_by, colors, hashes, with_dense):
    """Legend entries: one per colour (``color_by`` value), one per marker (d), dense, and the
    dotted style of mean-min estimators when present: a key rather than one entry per curve."""
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], color=COLORS[i % len(COLORS)], label=_value_label(color_by, v))
               for i, v in enumerate(colors)]
    if color_by != "n_hashes":
        handles += [Line2D([], [], color="grey", linestyle="none",
                           marker=MARKERS[i % len(MARKERS)], label=f"d = {d}")
                    for i, d in enumerate(hashes)]
    if any(getattr(p["config"].sketch, "estimator", "min") != "min" for p in sketched):
        handles.append(Line2D([], [], color="grey", linestyle=":", label="mean-min estimator"))
    if with_dense:
        handles.append(Line2D([], [], color="black", linestyle="--", label="dense"))
    return handles


def plot_curves(points, x_key, xlabel, path, panel_by=None, color_by="n_buckets"):
    """Perplexity against ``x_key`` ('iteration' or 'elapsed'), panels and colours as in the
    module docstring. Returns the files written."""
    plt = pyplot()
    dense = [p for p in points if _exact(p)]  # the reference curves of every panel
    sketched = [p for p in points if not _exact(p)]
    key = (lambda p: variant(p["config"])) if panel_by is None else (
        lambda p: f"{panel_by} = {sketch_key(p['config'], panel_by)}")
    panels = list(dict.fromkeys(key(p) for p in sketched)) or ["dense"]
    colors = sorted({sketch_key(p["config"], color_by) for p in sketched})
    hashes = sorted({p["config"].sketch.n_hashes for p in sketched})
    n = len(panels)
    ncol = min(n, 3)
    nrow = (n + ncol - 1) // ncol
    fig, axes = plt.subplots(nrow, ncol, figsize=(3.3 * ncol, 2.6 * nrow), squeeze=False,
                             sharey=True)
    for ax, panel in zip(axes.flat, panels):
        for p in [q for q in sketched if key(q) == panel]:
            sk = p["config"].sketch
            x, y, sd = curves(p["records"], x_key)
            c = COLORS[colors.index(sketch_key(p["config"], color_by)) % len(COLORS)]
            m = MARKERS[hashes.index(sk.n_hashes) % len(MARKERS)]
            ax.plot(x, y, color=c, marker=m,
                    linestyle=":" if getattr(sk, "estimator", "min") != "min" else "-")
            ax.fill_between(x, y - sd, y + sd, color=c, alpha=0.15, linewidth=0)
        for p in dense:
            x, y, sd = curves(p["records"], x_key)
            ax.plot(x, y, color="black", linestyle="--", label="dense")
            ax.fill_between(x, y - sd, y + sd, color="black", alpha=0.1, linewidth=0)
        ax.set_title(panel)
        ax.set_xlabel(xlabel)
        if x_key == "elapsed":
            ax.set_xscale("log")
        ax.grid(alpha=0.3, linewidth=0.5)
    for ax in axes[:, 0]:
        ax.set_ylabel("held-out perplexity")
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    fig.legend(handles=legend_key(sketched, color_by, colors, hashes, bool(dense)),
               frameon=False, loc="center left", bbox_to_anchor=(1.0, 0.5))
    fig.tight_layout()
    lo = min(np.min(curves(p["records"])[1]) for p in points)
    # Early evaluations are far above the rest; cap the axis so the endgame stays readable.
    first = np.median([curves(p["records"])[1][0] for p in points])
    last = max(curves(p["records"])[1][-1] for p in points)
    axes.flat[0].set_ylim(lo * 0.97, max(first, last * 1.05))
    files = save(fig, path)
    plt.close(fig)
    return files


def plot_frontier(points, path):
    """Bytes of the statistics against final perplexity (mean ± sd). Returns the files."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(4.6, 3.2))
    variants = list(dict.fromkeys(variant(p["config"]) for p in points))
    for p in points:
        finals = [[r["perplexity"] for r in recs if r.get("perplexity") is not None][-1]
                  for recs in p["records"]]
        nbytes = p["records"][0][-1]["stats_nbytes"]
        v = variant(p["config"])
        y, sd = float(np.mean(finals)), float(np.std(finals, ddof=1)) if len(finals) > 1 else 0.0
        if _exact(p):
            ax.errorbar(nbytes, y, yerr=sd, color="black", marker="*", markersize=9,
                        linestyle="none", label=v)
            ax.annotate(v, (nbytes, y), textcoords="offset points", xytext=(5, 5),
                        fontsize=7)
        else:
            i = variants.index(v)
            ax.errorbar(nbytes, y, yerr=sd, color=COLORS[i % len(COLORS)],
                        marker=MARKERS[i % len(MARKERS)], linestyle="none", label=v)
    handles, labels = ax.get_legend_handles_labels()
    uniq = dict(zip(labels, handles))
    ax.legend(uniq.values(), uniq.keys(), frameon=False)
    ax.set_xscale("log")
    ax.set_xlabel("bytes of the word-topic statistics")
    ax.set_ylabel("final held-out perplexity")
    ax.grid(alpha=0.3, linewidth=0.5)
    files = save(fig, path)
    plt.close(fig)
    return files


def sweep_figures(dirs, out, *, panel_by=None, color_by="n_buckets",
                  unfinished: bool = False) -> list[Path]:
    """Every figure of the module docstring for the sweep directories ``dirs`` under the path
    prefix ``out`` (``docs/figures/exp1`` gives ``docs/figures/exp1_frontier.png``, ...).
    Returns the files written."""
    if panel_by is not None and panel_by not in PANEL_KEYS:
        raise param_error("panel_by", "sweep_figures", "None or one of " + ", ".join(PANEL_KEYS),
                          panel_by)
    if color_by not in COLOR_KEYS:
        raise param_error("color_by", "sweep_figures", "one of " + ", ".join(COLOR_KEYS),
                          color_by)
    points = load_points(dirs, unfinished=unfinished)
    out = Path(out)
    at = (lambda name: out.with_name(f"{out.name}_{name}"))
    written = plot_curves(points, "iteration", "iteration", at("perplexity_iter"), panel_by,
                          color_by)
    written += plot_curves(points, "elapsed", "seconds (wall clock, mean over trials)",
                           at("perplexity_time"), panel_by, color_by)
    written += plot_frontier(points, at("frontier"))
    return written
