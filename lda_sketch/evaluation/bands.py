"""Held-out log-likelihood by word-frequency band: where a model's loss sits.

A word's band is set by its rank in the training word counts (most frequent first, ties by id):
with edges ``(1000, 10000, 60000)`` the bands are ranks ``[0, 1000)``, ``[1000, 10000)``,
``[10000, 60000)`` and the rest. Bands are named by their rank range (``"1-1k"``, ``"1k-10k"``,
``"10k-60k"``, ``"60k+"``); empty bands are kept, so two models over one vocabulary always report
the same names.
"""
from __future__ import annotations

import math

import numpy as np

from .._validation import param_error

#: The default rank edges: the head that a sketch's collision-free part holds at 1/12 of the
#: dense bytes (a few thousand words), the next tens of thousands, and the long tail.
DEFAULT_EDGES = (1000, 10000, 60000)


def _short(n: int) -> str:
    if n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n % 1000 == 0:
        return f"{n // 1000}k"
    return str(n)


def band_names(edges) -> list[str]:
    """``["1-1k", "1k-10k", ..., "60k+"]`` for rank ``edges``."""
    names, lo = [], 0
    for e in edges:
        names.append(f"{_short(lo) if lo else '1'}-{_short(e)}")
        lo = e
    names.append(f"{_short(lo)}+")
    return names


def parse_edges(text: str, owner: str = "--bands") -> tuple[int, ...]:
    """``"1000,10000,60000"`` -> ``(1000, 10000, 60000)``: strictly increasing positive ints."""
    try:
        edges = tuple(int(x) for x in str(text).split(",") if x.strip())
    except ValueError:
        edges = ()
    if not edges or any(e <= 0 for e in edges) or any(b <= a for a, b in zip(edges, edges[1:])):
        raise param_error("bands", owner, "comma-separated, strictly increasing word ranks "
                          "> 0, e.g. 1000,10000,60000", text)
    return edges


def frequency_bands(word_counts, edges=DEFAULT_EDGES) -> np.ndarray:
    """int64 (n_vocab,): the band of each word id by its training-frequency rank."""
    c = np.asarray(word_counts, np.int64)
    order = np.lexsort((np.arange(c.shape[0]), -c))  # count desc, id asc
    rank = np.empty(c.shape[0], np.int64)
    rank[order] = np.arange(c.shape[0], dtype=np.int64)
    return np.searchsorted(np.asarray(edges, np.int64), rank, side="right").astype(np.int64)


def band_report(loglik, n_scored, names) -> dict:
    """``{name: {"loglik", "n_scored", "perplexity"}}`` from per-band sums."""
    return {name: {"loglik": float(ll), "n_scored": int(n),
                   "perplexity": math.exp(-ll / n) if n else float("nan")}
            for name, ll, n in zip(names, loglik, n_scored)}


def band_gaps_pct(bands: dict, reference: dict) -> dict:
    """``{name: 100 * (perplexity / reference perplexity - 1)}`` over the same scored tokens
    (two models evaluated on one held-out set; NaN for an empty band)."""
    out = {}
    for name, b in bands.items():
        r = reference[name]
        ok = b["n_scored"] and r["n_scored"] == b["n_scored"]
        out[name] = 100.0 * (b["perplexity"] / r["perplexity"] - 1.0) if ok else float("nan")
    return out
