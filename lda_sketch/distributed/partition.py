"""Sharding: documents split across ranks into contiguous, token-balanced ranges. Pure functions.

Rank ``r`` of ``P`` trains documents ``b[r]..b[r+1]-1`` of ``partition_by_tokens(doc_ptr, P)``;
its shard keeps GLOBAL token offsets and document indices, so every draw is keyed by the same
global index whatever ``P`` is (bitwise-identical results for exact backends at any rank count).
"""
from __future__ import annotations

import numpy as np

from ..io.corpus import Corpus


def partition_by_tokens(doc_ptr: np.ndarray, n_parts: int) -> np.ndarray:
    """Split documents into ``n_parts`` contiguous ranges of nearly equal token counts.

    Returns int64 boundaries of shape (n_parts+1,): part p is documents ``b[p]..b[p+1]-1``.
    Part p ends at the first document boundary at or after ``p/n_parts`` of the tokens, so each
    part's token count is within one document length of ``n_tokens / n_parts``.
    """
    doc_ptr = np.asarray(doc_ptr, np.int64)
    if isinstance(n_parts, bool) or not isinstance(n_parts, (int, np.integer)) or n_parts < 1:
        raise ValueError(f"The 'n_parts' parameter of partition_by_tokens must be an int >= 1. "
                         f"Got {n_parts!r}.")
    n_docs = doc_ptr.shape[0] - 1
    total = doc_ptr[-1] - doc_ptr[0]
    targets = doc_ptr[0] + (total * np.arange(n_parts + 1, dtype=np.int64)) // n_parts
    b = np.searchsorted(doc_ptr, targets, side="left").astype(np.int64)
    b[0], b[-1] = 0, n_docs
    return np.maximum.accumulate(np.minimum(b, n_docs))


def shard_of(corpus: Corpus, rank: int, size: int) -> Corpus:
    """Rank ``rank``'s token-balanced contiguous slice of ``corpus`` with GLOBAL offsets.

    ``doc_ptr`` keeps global token offsets and ``doc_offset`` is the global index of the first
    document, as the Engine requires. Memory-mapped corpora stay mapped (no copy).
    """
    if not 0 <= rank < size:
        raise ValueError(f"The 'rank' parameter of shard_of must be in [0, {size}). Got {rank}.")
    bounds = partition_by_tokens(corpus.doc_ptr, size)
    a, b = int(bounds[rank]), int(bounds[rank + 1])
    base = int(corpus.doc_ptr[0])
    doc_ptr = np.asarray(corpus.doc_ptr[a:b + 1], np.int64)
    word_ids = corpus.word_ids[int(doc_ptr[0]) - base:int(doc_ptr[-1]) - base]
    pick = (lambda xs: xs[a:b] if xs is not None else None)
    return Corpus(doc_ptr, word_ids, corpus.n_vocab, corpus.vocab, pick(corpus.doc_ids),
                  pick(corpus.titles), corpus.reverse_map, corpus.manifest,
                  doc_offset=corpus.doc_offset + a, token_offset=int(doc_ptr[0]))
