"""Topic coherence (UMass, NPMI) over document co-occurrence, and topic diversity.

For each topic's top-N words ``w_1..w_N`` (most probable first), with ``D`` documents,
``D(w)`` the documents containing ``w`` and ``D(w, w')`` those containing both:

* **UMass** (Mimno et al. 2011, gensim's ``u_mass`` convention): the mean over the pairs
  ``i > j`` of ``log((D(w_i, w_j)/D + eps) / (D(w_j)/D))`` (gensim's ``s_one_pre``
  segmentation; ``eps`` = 1e-12 as gensim, not Mimno's ``+1``). Higher (closer to 0) is better.
* **NPMI** (Bouma 2009; Aletras & Stevenson 2013): the mean over the pairs ``i != j`` of
  ``log((P(w_i, w_j) + eps) / (P(w_i) P(w_j))) / -log(P(w_i, w_j) + eps)``, probabilities
  ``D(.)/D``. In [-1, 1], higher is better. The window is the whole **document** (boolean
  document); gensim's ``c_npmi`` uses a sliding window of 10 tokens by default and equals this
  with ``window_size`` >= the longest document.
* **Diversity**: the share of unique words among all topics' top-N words (1 = no overlap).

A pair with a word that occurs in no document counts as 0 (gensim would give -inf or nan).
The score of a model is the mean over its topics, as gensim's ``get_coherence()``.

Distributed: each rank counts its own documents (only the top words' document frequencies and
their pairs within each topic: ``K (N + N^2)`` integers, never a V x V matrix) and one
``comm.allreduce_sum`` adds them, so a corpus sharded over ranks is never gathered.
Documents are read in chunks of about ``chunk_tokens`` tokens (memory-mapped corpora stream).
"""
from __future__ import annotations

import numpy as np

from .._validation import check_int, param_error

EPS = 1e-12
#: Below this many documents coherence is noisy and biased low: many top-word pairs co-occur in
#: no document (scored ``eps``). Over random samples of the built-in corpus (K = 8) UMass is
#: -8.0 +- 2.4 at 50 documents, -2.32 +- 0.13 at 1,000, -2.04 over all 3,186. A rule of thumb,
#: not a bound: the literature scores against large reference corpora (Röder et al. 2015).
MIN_COHERENCE_DOCS = 1000
#: What ``documents`` may name in :func:`coherence_line`.
DOCUMENT_SETS = ("held-out", "training", "given")


def cooccurrence_counts(top_ids, corpus, *, comm=None, chunk_tokens: int = 1 << 22
                        ) -> tuple[int, np.ndarray, np.ndarray]:
    """``(n_docs, df, co)``: documents, int64 (K, N) document frequencies of ``top_ids`` (K, N)
    and int64 (K, N, N) co-document frequencies of each topic's word pairs (diagonal = df),
    summed over ranks. Collective when ``comm`` is given."""
    import scipy.sparse as sp

    top = _check_top(top_ids)
    K, N = top.shape
    uniq, cols = np.unique(top, return_inverse=True)
    cols = cols.reshape(K, N)
    if uniq.size and uniq[-1] >= corpus.n_vocab:
        raise param_error("top_ids", "coherence", f"word ids < the corpus's n_vocab = "
                          f"{corpus.n_vocab}", int(uniq[-1]))
    n_u = max(uniq.shape[0], 1)
    lut = np.full(int(corpus.n_vocab), -1, np.int32)  # word id -> column, -1: not a top word
    lut[uniq] = np.arange(uniq.shape[0])
    df = np.zeros((K, N), np.int64)
    co = np.zeros((K, N, N), np.int64)
    doc_ptr = np.asarray(corpus.doc_ptr, np.int64)
    base = int(doc_ptr[0])
    n_docs = doc_ptr.shape[0] - 1
    a = 0
    while a < n_docs:
        b = int(np.searchsorted(doc_ptr, doc_ptr[a] + max(int(chunk_tokens), 1), "right")) - 1
        b = min(max(b, a + 1), n_docs)
        idx = lut[np.asarray(corpus.word_ids[doc_ptr[a] - base:doc_ptr[b] - base])].astype(
            np.int64)
        doc = np.repeat(np.arange(b - a, dtype=np.int64), np.diff(doc_ptr[a:b + 1]))
        keep = idx >= 0
        pairs = np.sort(doc[keep] * n_u + idx[keep])  # (document, top word) present
        pairs = pairs[np.concatenate(([True], pairs[1:] != pairs[:-1]))] if pairs.size else pairs
        present = sp.csc_matrix((np.ones(pairs.shape[0], np.float64),
                                 (pairs // n_u, pairs % n_u)), shape=(b - a, n_u))
        for k in range(K):
            pk = present[:, cols[k]]
            co[k] += np.rint((pk.T @ pk).toarray()).astype(np.int64)
        a = b
    df[:] = np.diagonal(co, axis1=1, axis2=2)
    if comm is not None:
        buf = np.concatenate([[n_docs], df.ravel(), co.ravel()]).astype(np.int64)
        comm.allreduce_sum(buf)
        n_docs, df, co = int(buf[0]), buf[1:1 + K * N].reshape(K, N), buf[1 + K * N:].reshape(
            K, N, N)
    return int(n_docs), df, co


def umass(n_docs: int, df: np.ndarray, co: np.ndarray, eps: float = EPS) -> np.ndarray:
    """Per-topic UMass, float64 (K,), from :func:`cooccurrence_counts`."""
    K, N = df.shape
    out = np.zeros(K, np.float64)
    if N < 2 or n_docs == 0:
        return out
    i, j = np.tril_indices(N, -1)          # i > j: w_i conditioned on the earlier w_j
    order = np.lexsort((j, i))             # gensim's s_one_pre order (pairs by i, then j)
    i, j = i[order], j[order]
    dj = df[:, j].astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        v = np.log((co[:, i, j] / n_docs + eps) / (dj / n_docs))
    v[dj == 0] = 0.0
    return v.mean(axis=1)


def npmi(n_docs: int, df: np.ndarray, co: np.ndarray, eps: float = EPS) -> np.ndarray:
    """Per-topic NPMI (boolean document), float64 (K,), from :func:`cooccurrence_counts`."""
    K, N = df.shape
    out = np.zeros(K, np.float64)
    if N < 2 or n_docs == 0:
        return out
    i, j = np.nonzero(~np.eye(N, dtype=bool))
    pi, pj = df[:, i] / n_docs, df[:, j] / n_docs
    pij = co[:, i, j] / n_docs
    with np.errstate(divide="ignore", invalid="ignore"):
        v = np.log((pij + eps) / (pi * pj)) / -np.log(pij + eps)
    v[(pi == 0) | (pj == 0)] = 0.0
    return v.mean(axis=1)


def diversity(top_ids) -> float:
    """Share of unique words among all topics' top words (Dieng et al. 2020); 1 = no overlap."""
    top = _check_top(top_ids)
    return float(np.unique(top).shape[0] / top.size) if top.size else float("nan")


def coherence(top_ids, corpus, *, comm=None, eps: float = EPS) -> dict:
    """Every measure at once: ``{"umass", "npmi"}`` (means over topics), ``"umass_per_topic"``,
    ``"npmi_per_topic"`` (lists of K floats), ``"diversity"``, ``"top_n"``, ``"n_docs"``.
    ``top_ids`` int (K, N): word ids, most probable first. Collective when ``comm`` is given."""
    top = _check_top(top_ids)
    n_docs, df, co = cooccurrence_counts(top, corpus, comm=comm)
    um, nm = umass(n_docs, df, co, eps), npmi(n_docs, df, co, eps)
    return {"umass": float(um.mean()) if um.size else float("nan"),
            "npmi": float(nm.mean()) if nm.size else float("nan"),
            "umass_per_topic": um.tolist(), "npmi_per_topic": nm.tolist(),
            "diversity": diversity(top), "top_n": int(top.shape[1]), "n_docs": n_docs}


def coherence_line(coh: dict, documents: str) -> str:
    """``over 50 held-out documents: UMass -9.7416, NPMI -0.0518 (top 10 words per topic)`` from a
    :func:`coherence` dict (or one with its ``umass``, ``npmi``, ``top_n``, ``n_docs``)."""
    if documents not in DOCUMENT_SETS:
        raise param_error("documents", "coherence_line", f"one of {DOCUMENT_SETS}", documents)
    return (f"over {coh['n_docs']:,} {documents} documents: UMass {coh['umass']:.4f}, NPMI "
            f"{coh['npmi']:.4f} (top {coh['top_n']} words per topic)")


def coherence_warning(n_docs: int, option: str) -> str | None:
    """The warning line when ``n_docs`` < :data:`MIN_COHERENCE_DOCS` (else None); ``option`` is
    how to pass more documents (``--corpus``, ``--heldout``, ``X``)."""
    if n_docs >= MIN_COHERENCE_DOCS:
        return None
    return (f"warning: coherence over only {n_docs:,} documents is noisy (fewer than "
            f"{MIN_COHERENCE_DOCS:,}); pass {option} with more documents")


def _check_top(top_ids) -> np.ndarray:
    top = np.asarray(top_ids, np.int64)
    if top.ndim != 2:
        raise param_error("top_ids", "coherence", "a 2-d (n_topics, top_n) array of word ids",
                          f"shape {top.shape}")
    check_int(top.shape[1], "top_n", "coherence", lo=1)
    if top.size and top.min() < 0:
        raise param_error("top_ids", "coherence", "non-negative word ids", int(top.min()))
    return top


#: Keys :func:`record_coherence` adds to a ``metrics.jsonl`` record (``[eval] coherence``).
RECORD_KEYS = ("coherence_umass", "coherence_npmi", "coherence_diversity", "t_coherence")
#: Top words per topic of the coherence in each record (as ``lda-sketch evaluate --coherence``).
RECORD_TOP_N = 10


def record_coherence(model, corpus, *, comm=None, top_n: int = RECORD_TOP_N) -> dict:
    """The :data:`RECORD_KEYS` of ``model`` (anything with ``top_word_ids``, e.g. a
    ``TopicModel``) over ``corpus`` (this rank's documents): mean UMass and NPMI of each topic's
    top ``top_n`` words, topic diversity, and the seconds it took (``t_coherence``: the top
    words, one pass over the documents, one allreduce). Collective when ``comm`` is given."""
    import time

    t0 = time.perf_counter()
    c = coherence(model.top_word_ids(top_n)[0], corpus, comm=comm)
    return {"coherence_umass": c["umass"], "coherence_npmi": c["npmi"],
            "coherence_diversity": c["diversity"], "t_coherence": time.perf_counter() - t0}
