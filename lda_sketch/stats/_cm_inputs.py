"""Input checks of the count-min backends' ``add``, ``add_runs`` and ``estimate_into``."""
from __future__ import annotations

import numpy as np

from ._cm_kernels import first_bad_record


def records(owner: str, words, topics, counts, n_vocab: int, n_topics: int):
    """Records as contiguous int64 arrays, checked against the sketch's ranges."""
    w = np.ascontiguousarray(words, dtype=np.int64)
    t = np.ascontiguousarray(topics, dtype=np.int64)
    n = np.ascontiguousarray(counts, dtype=np.int64)
    if not (w.ndim == t.ndim == n.ndim == 1 and w.shape == t.shape == n.shape):
        raise ValueError(f"{owner}.add needs words, topics and counts of one "
                         f"shape (n,). Got {w.shape}, {t.shape}, {n.shape}.")
    bad = first_bad_record(w, t, n, n_vocab, n_topics)
    if bad >= 0:
        raise ValueError(
            f"{owner}.add: record {bad} (word={w[bad]}, topic={t[bad]}, "
            f"count={n[bad]}) is out of range; need 0 <= word < {n_vocab}, "
            f"0 <= topic < {n_topics}, count >= 0.")
    return w, t, n


def word_ids(owner: str, words, n_vocab: int):
    """Word ids as contiguous int64, checked to lie in ``[0, n_vocab)``."""
    w = np.ascontiguousarray(words, dtype=np.int64)
    if w.size and (w.min() < 0 or w.max() >= n_vocab):
        raise ValueError(f"{owner}.estimate: word ids must be in "
                         f"[0, {n_vocab}). Got range [{w.min()}, {w.max()}].")
    return w


def runs(owner: str, words, tok_ptr, z, n_vocab: int):
    """Topic runs (``add_runs``) as contiguous arrays: word ids int64, ``tok_ptr`` int64 of
    ``len(words) + 1`` non-decreasing offsets into ``z`` (1-d, any unsigned or int dtype)."""
    w = word_ids(owner, words, n_vocab)
    p = np.ascontiguousarray(tok_ptr, dtype=np.int64)
    z = np.ascontiguousarray(z)
    if (w.ndim != 1 or p.shape != (w.shape[0] + 1,) or z.ndim != 1
            or z.dtype.kind not in "ui"):
        raise ValueError(f"{owner}.add_runs needs words (n,), tok_ptr (n + 1,) and integer "
                         f"z. Got {w.shape}, {p.shape}, {z.dtype}{z.shape}.")
    if w.size and (p[0] < 0 or p[-1] > z.shape[0] or (np.diff(p) < 0).any()):
        raise ValueError(f"{owner}.add_runs: tok_ptr must be non-decreasing offsets into z.")
    if z.dtype.kind == "i" and z.size and z.min() < 0:
        raise ValueError(f"{owner}.add_runs: z holds a negative topic.")
    return w, p, z


def check_out(out, n, K):
    if (not isinstance(out, np.ndarray) or out.dtype != np.float64 or out.shape != (n, K)
            or not out.flags.c_contiguous):
        raise ValueError(f"estimate_into needs a C-contiguous float64 out of shape {(n, K)}.")
