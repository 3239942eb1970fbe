"""Paper-style figures of one or more sweep directories (PNG + PDF) into docs/figures/.

    python scripts/plot_sweep.py runs/exp1 --name exp1              # Fig. 2 analogue
    python scripts/plot_sweep.py runs/exp2 --name exp2              # Fig. 3 analogue
    python scripts/plot_sweep.py runs/appE-grid --name appE-grid    # Fig. 10 analogue
    python scripts/plot_sweep.py runs/appE-base --name appE-base --panel-by rule \
        --color-by counter_base                                     # Figs. 11-13 analogue

Writes, for NAME:
  NAME_perplexity_iter.{png,pdf}   held-out perplexity vs iteration; one panel per sketch variant
                                   (backend, increment rule, base; or --panel-by KEY), one
                                   colour per bucket count (or --color-by KEY), one marker per
                                   hash count, mean over trials with a ±sd band;
                                   dense dashed black in every panel
  NAME_perplexity_time.{png,pdf}   the same against wall-clock seconds (mean elapsed)
  NAME_frontier.{png,pdf}          bytes of the statistics vs final perplexity (mean ± sd),
                                   dense marked: the memory-quality frontier
Only finished trials are used (``--unfinished`` to include partial runs while a sweep runs).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from lda_sketch.plots import COLORS, MARKERS, pyplot, save
from lda_sketch.sweep.summary import load_results


def variant(cfg) -> str:
    """The panel a point belongs to: everything about its sketch except d and w."""
    sk = cfg.sketch
    if sk.backend == "dense":
        return "dense"
    if sk.backend == "countmin":
        return "CM (32-bit)" + (" + CU" if sk.conservative else "")
    rule = "conservative" if sk.conservative else sk.increment
    return f"CM+A {sk.counter_bits}-bit, base {sk.counter_base:g}, {rule}"


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


def load(dirs, unfinished):
    points = []
    for d in dirs:
        for p in load_results(d, unfinished=unfinished):
            if p["config"] is not None and p["records"]:
                points.append(p)
    if not points:
        sys.exit(f"no finished runs in {', '.join(map(str, dirs))} (--unfinished to include "
                 f"partial ones)")
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


def plot_curves(points, x_key, xlabel, path, panel_by, color_by="n_buckets"):
    plt = pyplot()
    dense = [p for p in points if p["config"].sketch.backend == "dense"]
    sketched = [p for p in points if p["config"].sketch.backend != "dense"]
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
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(4.6, 3.2))
    variants = list(dict.fromkeys(variant(p["config"]) for p in points))
    for p in points:
        finals = [[r["perplexity"] for r in recs if r.get("perplexity") is not None][-1]
                  for recs in p["records"]]
        nbytes = p["records"][0][-1]["stats_nbytes"]
        v = variant(p["config"])
        y, sd = float(np.mean(finals)), float(np.std(finals, ddof=1)) if len(finals) > 1 else 0.0
        if v == "dense":
            ax.errorbar(nbytes, y, yerr=sd, color="black", marker="*", markersize=9,
                        linestyle="none", label="dense")
            ax.annotate("dense", (nbytes, y), textcoords="offset points", xytext=(5, 5),
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


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("sweep_dirs", nargs="+", type=Path, metavar="SWEEP_DIR")
    ap.add_argument("--name", required=True, help="figure file prefix, e.g. exp1")
    ap.add_argument("--out", type=Path, default=Path("docs/figures"), help="figure folder")
    ap.add_argument("--panel-by", choices=("counter_base", "rule", "increment", "backend",
                                            "n_hashes"),
                    help="one panel per value of this sketch key (default: per variant; 'rule' "
                         "is independent / correlated / conservative)")
    ap.add_argument("--color-by", choices=("n_buckets", "counter_base", "n_hashes"),
                    default="n_buckets", help="one colour per value of this key (default "
                                              "n_buckets)")
    ap.add_argument("--unfinished", action="store_true",
                    help="include trials without a done marker")
    args = ap.parse_args(argv)
    points = load(args.sweep_dirs, args.unfinished)
    written = []
    written += plot_curves(points, "iteration", "iteration",
                           args.out / f"{args.name}_perplexity_iter", args.panel_by,
                           args.color_by)
    written += plot_curves(points, "elapsed", "seconds (wall clock, mean over trials)",
                           args.out / f"{args.name}_perplexity_time", args.panel_by,
                           args.color_by)
    written += plot_frontier(points, args.out / f"{args.name}_frontier")
    for f in written:
        print(f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
