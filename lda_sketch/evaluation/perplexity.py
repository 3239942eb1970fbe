"""Held-out perplexity by document completion (DESIGN §4), and the unigram baseline.

Protocol (stated in the README and in every result):

* token ``i`` of a held-out document (its stored order) is *observed* if ``i`` is even and
  *scored* if ``i`` is odd; tokens whose id lies outside ``[0, V)`` are dropped from both halves
  and counted as ``n_oov``;
* with phi fixed, ``theta_d`` is folded in on the observed tokens by ``n_iter`` EM steps
  ``theta_d <- normalize(alpha + sum_i resp_i)``, ``resp_ik ∝ theta_dk phi_k,w_i``, from uniform;
* ``perplexity = exp(-sum_scored log sum_k theta_dk phi_kw / n_scored)``.

phi must be a distribution over the whole vocabulary for every topic. For sketches the engine
normalises ``(est_wk + beta)`` by ``sum_w' est_w'k + V*beta`` (the column sums of the estimates),
never by ``n_k + V*beta``, which would understate perplexity.

Distributed: each rank scores its own held-out documents; per-rank sums (float64, documents
added in order) are allgathered and added in rank order, so every rank reports the identical
number, independent of the thread count; for a fixed rank count it is bitwise reproducible.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numba
import numpy as np

from .._validation import check_float, check_int, param_error
from ..io.corpus import Corpus
from ._kernels import fold_in, score_docs, score_docs_by_band


@dataclass
class CompletionSplit:
    """A held-out corpus split for document completion, as per-document (row, count) CSR lists.

    ``words`` (n_words,) int64: distinct in-vocabulary word ids; ``rows`` index into ``words``.
    """

    words: np.ndarray
    obs_ptr: np.ndarray
    obs_rows: np.ndarray
    obs_counts: np.ndarray
    sc_ptr: np.ndarray
    sc_rows: np.ndarray
    sc_counts: np.ndarray
    n_observed: int
    n_scored: int
    n_oov: int


def doc_row_counts(doc, rows, n_docs, n_rows):
    """Aggregate tokens (doc, row) into per-document CSR ``(ptr, rows, counts)``, rows ascending."""
    keys = doc * max(n_rows, 1) + rows
    uniq, counts = np.unique(keys, return_counts=True)
    udoc = uniq // max(n_rows, 1)
    ptr = np.zeros(n_docs + 1, np.int64)
    np.cumsum(np.bincount(udoc, minlength=n_docs), out=ptr[1:])
    return ptr, (uniq % max(n_rows, 1)).astype(np.int64), counts.astype(np.int64)


def completion_split(heldout: Corpus, n_vocab: int) -> CompletionSplit:
    """Split ``heldout`` into observed (even positions) and scored (odd positions) halves."""
    doc_ptr = np.asarray(heldout.doc_ptr, np.int64)
    lengths = np.diff(doc_ptr)
    n_docs = lengths.shape[0]
    w = np.asarray(heldout.word_ids, np.int64)
    doc = np.repeat(np.arange(n_docs, dtype=np.int64), lengths)
    pos = np.arange(w.shape[0], dtype=np.int64) - np.repeat(doc_ptr[:-1] - doc_ptr[0], lengths)
    ok = (w >= 0) & (w < n_vocab)
    n_oov = int(w.shape[0] - ok.sum())
    w, doc, pos = w[ok], doc[ok], pos[ok]
    words, rows = np.unique(w, return_inverse=True)
    odd = (pos & 1).astype(bool)
    n_rows = words.shape[0]
    obs = doc_row_counts(doc[~odd], rows[~odd], n_docs, n_rows)
    sc = doc_row_counts(doc[odd], rows[odd], n_docs, n_rows)
    return CompletionSplit(words.astype(np.int64), *obs, *sc, n_observed=int((~odd).sum()),
                           n_scored=int(odd.sum()), n_oov=n_oov)


def fold_in_theta(ptr, rows, counts, phi_rows, alpha: float, n_iter: int) -> np.ndarray:
    """(n_docs, K) theta by EM fold-in; ``phi_rows`` (n_words, K) float64 indexed by ``rows``."""
    phi_rows = np.ascontiguousarray(phi_rows, np.float64)
    K = phi_rows.shape[1]
    theta = np.empty((ptr.shape[0] - 1, K), np.float64)
    scratch = np.empty((numba.config.NUMBA_NUM_THREADS, K), np.float64)
    with numba.parallel_chunksize(16):
        fold_in(ptr, rows, counts, phi_rows, float(alpha), int(n_iter), theta, scratch)
    return theta


#: Bytes of phi rows held at once by :func:`completion_loglik`: held-out documents are scored
#: in blocks whose distinct words' rows fit (float64, K per word), never all words at once.
BLOCK_BYTES = 64 << 20


def completion_loglik(phi_columns, n_vocab: int, alpha: float, heldout: Corpus, *,
                      n_iter: int = 100, comm=None, split: CompletionSplit | None = None,
                      phi_rows=None, block_bytes: int = BLOCK_BYTES,
                      word_band=None, band_names=None) -> dict:
    """Document-completion log-likelihood with phi given as a function ``words -> (K, n)`` columns
    (or ``phi_rows``: ``words -> (n, K)`` float64 rows, word-major, which saves a transpose).

    Only the held-out's distinct words' columns are requested (sketches never materialise
    ``K x V``), and only a block of documents' words at a time: about ``block_bytes`` of phi
    rows are held at once, whatever the held-out size. Every document is folded in and scored
    exactly as in one block, so the result does not depend on the blocking. Returns global
    ``{"loglik", "n_scored", "n_observed", "n_oov", "perplexity"}``. ``split``:
    ``completion_split(heldout, n_vocab)`` if the caller already has it. ``word_band``
    (n_vocab,) int64 with ``band_names``: also ``"bands"``, the scored log-likelihood split by
    the band of each scored token's word (:mod:`lda_sketch.evaluation.bands`).
    """
    t0 = time.perf_counter()
    sp = completion_split(heldout, n_vocab) if split is None else split
    if phi_rows is None:
        def phi_rows(words):
            return np.ascontiguousarray(np.asarray(phi_columns(words), np.float64).T)
    n_docs = sp.obs_ptr.shape[0] - 1
    per_doc = np.empty(n_docs, np.float64)
    if word_band is not None:
        row_band = np.ascontiguousarray(np.asarray(word_band, np.int64)[sp.words])
        n_bands = len(band_names)
        per_band = np.zeros((n_docs, n_bands), np.float64)
    K = phi_rows(sp.words[:0]).shape[1]
    for a, b in doc_blocks(sp, max(1, int(block_bytes) // (8 * max(K, 1)))):
        o0, o1, s0, s1 = sp.obs_ptr[a], sp.obs_ptr[b], sp.sc_ptr[a], sp.sc_ptr[b]
        used = np.union1d(sp.obs_rows[o0:o1], sp.sc_rows[s0:s1])  # sorted distinct rows
        ph = np.ascontiguousarray(phi_rows(sp.words[used]), np.float64)
        theta = fold_in_theta(sp.obs_ptr[a:b + 1] - o0, np.searchsorted(used, sp.obs_rows[o0:o1]),
                              sp.obs_counts[o0:o1], ph, alpha, n_iter)
        score_docs(sp.sc_ptr[a:b + 1] - s0, np.searchsorted(used, sp.sc_rows[s0:s1]),
                   sp.sc_counts[s0:s1], ph, theta, per_doc[a:b])
        if word_band is not None:
            score_docs_by_band(sp.sc_ptr[a:b + 1] - s0, np.searchsorted(used, sp.sc_rows[s0:s1]),
                               sp.sc_counts[s0:s1], ph, theta, row_band[used], per_band[a:b])
        del ph, theta
    local = (_ordered_sum(per_doc),
             sp.n_scored, sp.n_observed, sp.n_oov)
    if word_band is not None:
        band_n = np.bincount(row_band[sp.sc_rows], weights=sp.sc_counts, minlength=n_bands)
        local += ([_ordered_sum(per_band[:, b]) for b in range(n_bands)],
                  [int(x) for x in band_n])
    parts = comm.allgather(local) if comm is not None else [local]
    loglik = 0.0
    for p in parts:  # rank order: the same float sum on every rank
        loglik += p[0]
    n_scored = sum(p[1] for p in parts)
    out = {"loglik": loglik, "n_scored": n_scored, "n_observed": sum(p[2] for p in parts),
           "n_oov": sum(p[3] for p in parts),
           "perplexity": math.exp(-loglik / n_scored) if n_scored else float("nan"),
           "t_eval": time.perf_counter() - t0}
    if word_band is not None:
        from .bands import band_report

        ll_b = [0.0] * n_bands
        for p in parts:  # rank order, as above
            ll_b = [x + y for x, y in zip(ll_b, p[4])]
        n_b = [sum(p[5][b] for p in parts) for b in range(n_bands)]
        out["bands"] = band_report(ll_b, n_b, band_names)
    return out


def doc_blocks(sp: CompletionSplit, max_rows: int) -> list[tuple[int, int]]:
    """Contiguous document ranges ``[a, b)`` whose (doc, word) entries, an upper bound on their
    distinct words, number at most ``max_rows`` (a longer document is a block of its own)."""
    n_docs = sp.obs_ptr.shape[0] - 1
    ends = sp.obs_ptr[1:] + sp.sc_ptr[1:]  # cumulative entries after each document
    out, a = [], 0
    while a < n_docs:
        start = sp.obs_ptr[a] + sp.sc_ptr[a]
        b = max(a + 1, int(np.searchsorted(ends, start + max_rows, side="right")))
        out.append((a, min(b, n_docs)))
        a = min(b, n_docs)
    return out or [(0, 0)]


def _ordered_sum(x: np.ndarray) -> float:
    """Left-to-right float64 sum (numpy's pairwise sum is also deterministic; this is explicit)."""
    s = 0.0
    for v in x.tolist():
        s += v
    return s


def heldout_perplexity(phi: np.ndarray, alpha: float, heldout: Corpus, *, n_iter: int = 100,
                       comm=None) -> dict:
    """Document-completion perplexity of any (K, V) topic-word matrix ``phi`` (rows sum to 1).

    Works for other libraries' models too. Returns ``{"perplexity", "loglik", "n_scored",
    "n_observed", "n_oov", "t_eval"}``; collective when ``comm`` is given.
    """
    phi = np.asarray(phi, np.float64)
    if phi.ndim != 2:
        raise param_error("phi", "heldout_perplexity", "a 2-d (n_topics, n_vocab) array",
                          f"shape {phi.shape}")
    check_float(alpha, "alpha", "heldout_perplexity", lo=0.0, lo_open=True)
    check_int(n_iter, "n_iter", "heldout_perplexity", lo=0)
    sums = phi.sum(axis=1)
    if phi.size and (phi.min() < 0 or np.max(np.abs(sums - 1.0)) > 1e-6):
        raise param_error("phi", "heldout_perplexity",
                          "non-negative with every row summing to 1 over the whole vocabulary "
                          "(normalise est+beta by its column sum, not by n_k + V*beta)",
                          f"row sums in [{sums.min():.6g}, {sums.max():.6g}]")
    return completion_loglik(lambda w: phi[:, w], phi.shape[1], alpha, heldout, n_iter=n_iter,
                             comm=comm)


def unigram_perplexity(train_word_counts: np.ndarray, heldout: Corpus, beta: float, *,
                       comm=None, split: CompletionSplit | None = None) -> float:
    """Perplexity of the smoothed unigram model ``(c_w + beta)/(sum c + V beta)`` on the scored
    tokens of the same document-completion split (V = ``len(train_word_counts)``)."""
    c = np.asarray(train_word_counts, np.float64)
    V = c.shape[0]
    sp = completion_split(heldout, V) if split is None else split
    logp = np.log((c[sp.words] + beta) / (c.sum() + V * beta))
    local = (_ordered_sum(logp[sp.sc_rows] * sp.sc_counts), sp.n_scored)
    parts = comm.allgather(local) if comm is not None else [local]
    ll = 0.0
    for p in parts:
        ll += p[0]
    n = sum(p[1] for p in parts)
    return math.exp(-ll / n) if n else float("nan")
