"""Paper-style matplotlib figures of training curves (used by ``lda-sketch demo``, ``lda-sketch
plot`` and ``sweep/figures.py``). matplotlib is an optional dependency (``lda_sketch[plot]``):
it is imported lazily, with the non-interactive Agg backend, and its absence raises
:class:`~lda_sketch.exceptions.MissingDependencyError` naming the remedy.
"""
from __future__ import annotations

from pathlib import Path

from ..exceptions import MissingDependencyError

# One colour per bucket size / series, one marker per number of hashes (colour-blind safe).
COLORS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442",
          "#000000")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")


def pyplot():
    """matplotlib.pyplot on the Agg backend, with a compact paper style."""
    try:
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt
    except ImportError as exc:
        why = ("is not installed" if exc.name == "matplotlib"
               else f"failed to import ({' '.join(str(exc).split())})")  # one line
        raise MissingDependencyError(
            f"figures need matplotlib, which {why}: pip install 'lda_sketch[plot]'") from None

    plt.rcParams.update({"font.size": 9, "axes.titlesize": 9, "axes.labelsize": 9,
                         "legend.fontsize": 7, "xtick.labelsize": 8, "ytick.labelsize": 8,
                         "axes.spines.top": False, "axes.spines.right": False,
                         "lines.linewidth": 1.2, "lines.markersize": 3.5,
                         "figure.dpi": 150, "savefig.bbox": "tight"})
    return plt


def save(fig, path, formats=("png", "pdf")) -> list[Path]:
    """Save ``fig`` as ``path`` with each suffix in ``formats``; returns the files written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    out = []
    for fmt in formats:
        p = path.with_suffix("." + fmt)
        fig.savefig(p)
        out.append(p)
    return out


def perplexity_curves(series, path, *, title=None, baseline=None, formats=("png",),
                      xlabel="iteration"):
    """Held-out perplexity vs iteration (or what ``xlabel`` names) of a few runs in one figure.

    ``series``: ``[(label, records), ...]`` with ``records`` as in ``metrics.jsonl``;
    ``baseline``: an optional horizontal line (e.g. the unigram perplexity).
    """
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(4.2, 2.8))
    for i, (label, recs) in enumerate(series):
        pts = [(r["iteration"], r["perplexity"]) for r in recs if r.get("perplexity")]
        if pts:
            x, y = zip(*pts)
            ax.plot(x, y, marker=MARKERS[i % len(MARKERS)], color=COLORS[i % len(COLORS)],
                    label=label)
    if baseline:
        ax.axhline(baseline, color="grey", linestyle=":", linewidth=1, label="unigram")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("held-out perplexity")
    if title:
        ax.set_title(title)
    ax.legend(frameon=False)
    files = save(fig, path, formats)
    plt.close(fig)
    return files
