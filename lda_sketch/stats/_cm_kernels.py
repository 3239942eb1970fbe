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

from ..rng import derive
from .hashing import bucket
from .morris import morris_advance, uniform_small

INT32_MAX = np.int64(2**31 - 1)
ESTIMATE_BLOCK = 64  # words per parallel work item of the estimate kernels


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
@njit(cache=True)
def cm_add(cells, n_k, a, c, shift, words, topics, counts):
    """Plain count-min: every row's cell += count (saturating at 2**31 - 1); n_k += count."""
    d = cells.shape[0]
    for i in range(words.shape[0]):
        n = counts[i]
        if n == 0:
            continue
        w, t = words[i], topics[i]
        for r in range(d):
            b = bucket(a[r], c[r], shift, w)
            v = np.int64(cells[r, b, t]) + n
            cells[r, b, t] = v if v < INT32_MAX else INT32_MAX
        n_k[t] += n


@njit(cache=True)
def cm_add_conservative(cells, n_k, a, c, shift, words, topics, counts):
    """Conservative (weighted) update: ``cell = max(cell, min_r cell_r + count)`` per row."""
    d = cells.shape[0]
    bk = np.empty(d, np.int64)
    for i in range(words.shape[0]):
        n = counts[i]
        if n == 0:
            continue
        w, t = words[i], topics[i]
        m = INT32_MAX
        for r in range(d):
            bk[r] = bucket(a[r], c[r], shift, w)
            v = np.int64(cells[r, bk[r], t])
            if v < m:
                m = v
        target = m + n
        if target > INT32_MAX:
            target = INT32_MAX
        for r in range(d):
            if cells[r, bk[r], t] < target:
                cells[r, bk[r], t] = target
        n_k[t] += n


@njit(cache=True, parallel=True)
def cm_estimate(cells, a, c, shift, words, out):
    """out[i, k] = min_r cells[r, bucket_r(words[i]), k] as float64. out (n, K); returns out.

    ``prange`` over blocks of ``ESTIMATE_BLOCK`` words; each word's row of ``out`` is written by
    one thread only, so the result is the same for any thread count.
    """
    d, _, K = cells.shape
    n = words.shape[0]
    for blk in prange((n + ESTIMATE_BLOCK - 1) // ESTIMATE_BLOCK):
        for i in range(blk * ESTIMATE_BLOCK, min(n, (blk + 1) * ESTIMATE_BLOCK)):
            w = words[i]
            row = cells[0, bucket(a[0], c[0], shift, w)]
            o = out[i]
            for k in range(K):
                o[k] = row[k]
            for r in range(1, d):
                row = cells[r, bucket(a[r], c[r], shift, w)]
                for k in range(K):
                    o[k] = min(o[k], np.float64(row[k]))
    return out


# ----------------------------------------------------------------------------- Morris cells
@njit(cache=True, parallel=True)
def cmm_estimate(cells, read, a, c, shift, words, out):
    """out[i, k] = read[min_r code_r] (the read is monotone, so min of codes = min of reads).

    Minimum taken on the narrow codes (vectorises), one table read per (word, topic); blocks of
    words in ``prange`` as in :func:`cm_estimate`.
    """
    d, _, K = cells.shape
    n = words.shape[0]
    for blk in prange((n + ESTIMATE_BLOCK - 1) // ESTIMATE_BLOCK):
        tmp = np.empty(K, cells.dtype)  # one small buffer per block, not per word
        for i in range(blk * ESTIMATE_BLOCK, min(n, (blk + 1) * ESTIMATE_BLOCK)):
            w = words[i]
            row = cells[0, bucket(a[0], c[0], shift, w)]
            for k in range(K):
                tmp[k] = row[k]
            for r in range(1, d):
                row = cells[r, bucket(a[r], c[r], shift, w)]
                for k in range(K):
                    if row[k] < tmp[k]:
                        tmp[k] = row[k]
            for k in range(K):
                out[i, k] = read[tmp[k]]
    return out


@njit(cache=True)
def cmm_add_independent(cells, n_k, a, c, shift, prob, log1m, key, words, topics, counts):
    """Each of the record's ``d`` cells is its own Morris counter receiving ``count`` increments.

    Row ``r`` of record ``i`` draws with ``derive(derive(key, i), r)``.
    """
    d = cells.shape[0]
    for i in range(words.shape[0]):
        n = counts[i]
        if n == 0:
            continue
        w, t = words[i], topics[i]
        rkey = derive(key, np.uint64(i))
        for r in range(d):
            b = bucket(a[r], c[r], shift, w)
            cells[r, b, t] = morris_advance(cells[r, b, t], n, prob, log1m,
                                            derive(rkey, np.uint64(r)))
        n_k[t] += n


@njit(cache=True)
def cmm_add_correlated(cells, n_k, a, c, shift, prob, log1m, key, words, topics, counts,
                       conservative):
    """Correlated counters (one uniform per increment shared by the ``d`` cells), ``count`` at once.

    Per increment the rule is: draw ``u``; row ``r`` moves iff ``u < b**-c_r`` (correlated), or,
    with ``conservative``, iff ``c_r == c_min`` and ``u < b**-c_min``. Nothing moves unless
    ``u < p = b**-c_min``, so the increments up to the next move are skipped as one
    ``Geometric(p)`` draw; given a move, ``u`` is uniform on ``[0, p)`` and row ``r`` moves with
    the conditional probability ``b**-c_r / p``. The last pending increment applies the plain
    rule to one uniform on [0, 1). Exact in distribution; draws ``uniform(derive(key, i), j)``
    for ``j = 0, 1, ...``.
    """
    d = cells.shape[0]
    bk = np.empty(d, np.int64)
    cur = np.empty(d, np.int64)
    for i in range(words.shape[0]):
        n = counts[i]
        if n == 0:
            continue
        w, t = words[i], topics[i]
        rkey = derive(key, np.uint64(i))
        cmin = np.int64(1 << 62)
        for r in range(d):
            bk[r] = bucket(a[r], c[r], shift, w)
            cur[r] = cells[r, bk[r], t]
            if cur[r] < cmin:
                cmin = cur[r]
        remaining = n
        j = 0
        while remaining > 0:
            p = prob[cmin]
            if p == 0.0:  # the minimum is saturated: no row can move under either rule
                break
            if remaining == 1:  # last increment: the plain rule with one uniform on [0, 1)
                u = uniform_small(rkey, j)
                if u < p:
                    for r in range(d):
                        if (cur[r] == cmin) if conservative else (u < prob[cur[r]]):
                            cur[r] += 1
                break
            if p < 1.0:
                u = uniform_small(rkey, j)
                j += 1
                g = np.floor(np.log1p(-u) / log1m[cmin])
                if g >= remaining:
                    break
                remaining -= np.int64(g) + 1
            else:
                remaining -= 1
            if conservative:
                for r in range(d):
                    if cur[r] == cmin:
                        cur[r] += 1
            else:
                v = uniform_small(rkey, j) * p
                j += 1
                for r in range(d):
                    if v < prob[cur[r]]:
                        cur[r] += 1
            cmin += 1  # every row at the minimum moved (v < p), so the minimum rose by one
        for r in range(d):
            cells[r, bk[r], t] = cur[r]
        n_k[t] += n


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
