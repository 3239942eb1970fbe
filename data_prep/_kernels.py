"""Jitted kernels of the vocabulary passes: arrays in, arrays out, one pass over the tokens."""
from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def count_df_tf(doc_ptr, ids, docs, df, tf):
    """Add document and token frequencies of ``docs`` to ``df``/``tf`` (int64, (n_ids,)).

    ``doc_ptr`` int64 (n_docs+1,), ``ids`` int32 (n_tokens,), ``docs`` int64 document indices.
    """
    last = np.full(df.shape[0], -1, np.int64)
    for d in docs:
        for i in range(doc_ptr[d], doc_ptr[d + 1]):
            w = ids[i]
            tf[w] += 1
            if last[w] != d:
                last[w] = d
                df[w] += 1


@njit(cache=True)
def remap_documents(doc_ptr, ids, docs, remap, out_ids, out_len, n_dropped):
    """Copy the tokens of ``docs`` through ``remap`` into ``out_ids``; return tokens written.

    ``remap[w] >= 0`` is the new id of ``w``; ``remap[w] = -r`` drops the token and counts it in
    ``n_dropped[r]`` (int64). ``out_len[j]`` (int64) receives the kept length of ``docs[j]``.
    """
    pos = 0
    for j in range(docs.shape[0]):
        d = docs[j]
        n = 0
        for i in range(doc_ptr[d], doc_ptr[d + 1]):
            v = remap[ids[i]]
            if v >= 0:
                out_ids[pos] = v
                pos += 1
                n += 1
            else:
                n_dropped[-v] += 1
        out_len[j] = n
    return pos
