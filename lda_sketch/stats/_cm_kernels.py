"""Jitted cell kernels of the count-min backends (arrays in, arrays out; no Python objects).

Layout shared by every kernel: ``cells[r, b, k]`` of shape ``(n_hashes, n_buckets, n_topics)``;
word ``w`` lives in bucket ``bucket(a[r], c[r], shift, w)`` of row ``r`` for **every** topic, so
the estimate of a word for all topics is the elementwise minimum of ``n_hashes`` contiguous
K-vectors. Records are ``(words[i], topics[i], counts[i])`` (int64 arrays of shape (n,)).

Randomized kernels draw for record ``i`` with ``derive(key, i)`` only, so the result depends on
the batch and the key, never on the thread count.
"""
import numpy as np
from numba import njit, prange

from ._prefetch_kernels import prefetch_row
from ._hash_kernels import bucket

INT32_MAX = np.int64(2**31 - 1)
ESTIMATE_BLOCK = 64  # words per parallel work item of the estimate kernels
AHEAD = 4  # the estimate kernels prefetch the rows of the word this many places ahead


@njit(cache=True)
def first_bad_record(words, topics, counts, n_vocab, n_topics):
    """Index of the first record with a word, topic or count out of range, or -1."""
    for i in range(words.shape[0]):
        if (words[i] < 0 or words[i] >= n_vocab or topics[i] < 0 or topics[i] >= n_topics
                or counts[i] < 0):
            return i
    return -1


@njit(cache=True)
def saturating_add_into(dst, src):
    """``dst += src`` for flat int32 arrays of non-negative counts, clamped at 2**31 - 1."""
    for i in range(dst.shape[0]):
        v = np.int64(dst[i]) + np.int64(src[i])
        dst[i] = v if v < INT32_MAX else INT32_MAX


# ----------------------------------------------------------------------------- integer cells
@njit(cache=True, inline="always")
def _cm_record(cells, bk, t, n, conservative):
    """``n`` more of topic ``t`` in the cells ``cells[r, bk[r], t]``: every row += n (plain), or
    ``cell = max(cell, min_r cell_r + n)`` (conservative); saturating at 2**31 - 1."""
    d = cells.shape[0]
    if conservative:
        m = INT32_MAX
        for r in range(d):
            m = min(m, np.int64(cells[r, bk[r], t]))
        target = min(m + n, INT32_MAX)
        for r in range(d):
            if cells[r, bk[r], t] < target:
                cells[r, bk[r], t] = target
    else:
        for r in range(d):
            v = np.int64(cells[r, bk[r], t]) + n
            cells[r, bk[r], t] = v if v < INT32_MAX else INT32_MAX


@njit(cache=True)
def cm_add_records(cells, n_k, a, c, shift, words, topics, counts, conservative):
    """Records ``(words[i], topics[i], counts[i])`` into integer cells; ``n_k[t] += count``.
    Buckets are hashed once per run of one word."""
    d = cells.shape[0]
    bk = np.empty(d, np.int64)
    last = np.int64(-1)
    for i in range(words.shape[0]):
        n = counts[i]
        if n == 0:
            continue
        w, t = words[i], topics[i]
        if w != last:
            for r in range(d):
                bk[r] = bucket(a[r], c[r], shift, w)
            last = w
        _cm_record(cells, bk, t, n, conservative)
        n_k[t] += n


@njit(cache=True, inline="always")
def head_slot(head_ids, n_head, w):
    """Head slot of word ``w`` (:meth:`.head.WordHead.split`), or -1: ``w`` itself below
    ``n_head`` when ``head_ids`` is empty (the id prefix), else its index in the sorted ids."""
    if head_ids.shape[0] == 0:
        return w if w < n_head else np.int64(-1)
    lo, hi = np.int64(0), np.int64(head_ids.shape[0])
    while lo < hi:  # the first id >= w
        mid = (lo + hi) >> 1
        if np.int64(head_ids[mid]) < w:
            lo = mid + 1
        else:
            hi = mid
    return lo if lo < head_ids.shape[0] and np.int64(head_ids[lo]) == w else np.int64(-1)


@njit(cache=True, inline="always")
def prefetch_next(cells, head, a, c, shift, head_ids, words, i):
    """Head slot of ``words[i]`` (-1: hashed; -2: past the end), its cells prefetched."""
    if i >= words.shape[0]:
        return np.int64(-2)
    slot = head_slot(head_ids, head.shape[1], words[i])
    if slot >= 0:
        prefetch_row(head, 0, slot)
    else:
        prefetch_word(cells, a, c, shift, words[i])
    return slot


@njit(cache=True)
def cm_add_runs(cells, head, n_k, a, c, shift, head_ids, words, tok_ptr, z, conservative):
    """Fused build: word ``words[i]`` gets the histogram of ``z[tok_ptr[i]:tok_ptr[i + 1]]``
    (the records ``(words[i], k, count)``, topic ascending; :mod:`._cmm_kernels`), into its
    ``head`` (1, H, K) row if it is a head word (``head_slot``), else the hashed cells. Returns
    -1, or the first index of ``z`` holding a topic ``>= K``."""
    d, _, K = cells.shape
    bk = np.empty(d, np.int64)
    hb = np.empty(1, np.int64)
    hist = np.zeros(K, np.int64)
    nxt = prefetch_next(cells, head, a, c, shift, head_ids, words, 0)
    for i in range(words.shape[0]):
        slot = nxt
        nxt = prefetch_next(cells, head, a, c, shift, head_ids, words, i + 1)
        for s in range(tok_ptr[i], tok_ptr[i + 1]):
            k = np.int64(z[s])
            if k >= K:
                return s
            hist[k] += 1
        if slot >= 0:
            hb[0] = slot
        else:
            for r in range(d):
                bk[r] = bucket(a[r], c[r], shift, words[i])
        for t in range(K):
            n = hist[t]
            if n > 0:
                hist[t] = 0
                if slot >= 0:
                    _cm_record(head, hb, t, n, conservative)
                else:
                    _cm_record(cells, bk, t, n, conservative)
                n_k[t] += n
    return -1


@njit(cache=True, parallel=True)
def cm_estimate(cells, a, c, shift, words, out):
    """out[i, k] = min_r cells[r, bucket_r(words[i]), k] as float64. out (n, K); returns out.

    ``prange`` over blocks of ``ESTIMATE_BLOCK`` words; each word's row of ``out`` is written by
    one thread only, so the result is the same for any thread count. The minimum is taken on
    the integer cells into a small buffer with a branch-free ``min`` (vectorises), then
    converted once.
    """
    d, _, K = cells.shape
    n = words.shape[0]
    for blk in prange((n + ESTIMATE_BLOCK - 1) // ESTIMATE_BLOCK):
        tmp = np.empty(K, cells.dtype)  # one small buffer per block, not per word
        for i in range(blk * ESTIMATE_BLOCK, min(n, (blk + 1) * ESTIMATE_BLOCK)):
            if i + AHEAD < n:
                prefetch_word(cells, a, c, shift, words[i + AHEAD])
            row_min(cells, a, c, shift, words[i], tmp)
            o = out[i]
            for k in range(K):
                o[k] = tmp[k]
    return out


@njit(cache=True, inline="always")
def prefetch_word(cells, a, c, shift, w):
    """Prefetch the ``d`` hashed K-vectors of word ``w`` (a hint: results never change)."""
    for r in range(cells.shape[0]):
        prefetch_row(cells, r, bucket(a[r], c[r], shift, w))


@njit(cache=True, inline="always")
def row_min(cells, a, c, shift, w, tmp):
    """tmp[k] = min_r cells[r, bucket_r(w), k] (branch-free, so the loops vectorise)."""
    d, _, K = cells.shape
    row = cells[0, bucket(a[0], c[0], shift, w)]
    for k in range(K):
        tmp[k] = row[k]
    for r in range(1, d):
        row = cells[r, bucket(a[r], c[r], shift, w)]
        for k in range(K):
            tmp[k] = min(tmp[k], row[k])


# ----------------------------------------------------------------------------- count-mean-min
@njit(cache=True)
def row_totals(cells, read, use_read):
    """Per-row, per-topic sum of cell values: (d, w, K) -> (d, K) float64.

    ``use_read``: cells are Morris codes, value = ``read[code]``; else the integer cell itself.
    """
    d, w, K = cells.shape
    out = np.zeros((d, K), np.float64)
    for r in range(d):
        for b in range(w):
            row = cells[r, b]
            for k in range(K):
                out[r, k] += read[row[k]] if use_read else np.float64(row[k])
    return out


@njit(cache=True, parallel=True)
def mean_min_estimate(cells, read, use_read, totals, a, c, shift, words, out):
    """Count-mean-min estimate (Deng & Rafiei 2007) into out (n, K); returns out.

    Row r's cell value ``v_r`` minus the mean mass the other keys put into one of its
    buckets, ``(T_rk - v_r) / (w - 1)`` with ``T_rk`` the row's topic total; the median over rows,
    clipped to ``[0, min_r v_r]`` (never above the plain count-min estimate).
    """
    d, w, K = cells.shape
    n = words.shape[0]
    inv = 1.0 / (w - 1)
    for blk in prange((n + ESTIMATE_BLOCK - 1) // ESTIMATE_BLOCK):
        buckets_ = np.empty(d, np.int64)
        e = np.empty(d, np.float64)
        for i in range(blk * ESTIMATE_BLOCK, min(n, (blk + 1) * ESTIMATE_BLOCK)):
            wd = words[i]
            for r in range(d):
                buckets_[r] = bucket(a[r], c[r], shift, wd)
            for k in range(K):
                vmin = np.inf
                for r in range(d):
                    code = cells[r, buckets_[r], k]
                    v = read[code] if use_read else np.float64(code)
                    if v < vmin:
                        vmin = v
                    x = v - (totals[r, k] - v) * inv
                    j = r  # insertion sort: d is small
                    while j > 0 and e[j - 1] > x:
                        e[j] = e[j - 1]
                        j -= 1
                    e[j] = x
                med = e[d // 2] if d % 2 == 1 else 0.5 * (e[d // 2 - 1] + e[d // 2])
                if med < 0.0:
                    med = 0.0
                out[i, k] = med if med < vmin else vmin
    return out
