"""Jitted add kernels of the count-min sketch of Morris counters (arrays in, arrays out).

Layout as in :mod:`._cm_kernels`: ``cells[r, b, k]`` of uint8/uint16 codes. Two ways in:

* records ``(words[i], topics[i], counts[i])`` (:func:`cmm_add_correlated`,
  :func:`cmm_add_independent`);
* *topic runs*, the fused build (:func:`cmm_add_runs`): word ``words[i]`` owns the topic
  assignments ``z[tok_ptr[i]:tok_ptr[i + 1]]``; their histogram gives the records
  ``(words[i], k, count)`` for every topic ``k`` with a nonzero count, topic ascending, numbered
  in that order across the words. The result is the records path's, bit for bit, without
  materialising the records.

Record ``i`` draws with ``derive(key, i)`` only, so results depend on the records and the key,
never on the thread count.

The correlated rule (Pitel & Fouquier; :func:`_correlated_record`): per increment one uniform
``u`` shared by the ``d`` cells; row ``r`` moves iff ``u < b**-c_r`` (or, conservative, iff
``c_r == c_min`` and ``u < b**-c_min``). Nothing moves unless ``u < p = b**-c_min``, so the
increments up to the next move are skipped as one ``Geometric(p)`` draw
``floor(log(1 - u) / log(1 - p))`` (``u < p`` means no failure: no logarithm needed); given a
move, ``u`` is uniform on ``[0, p)`` and row ``r`` moves with probability ``b**-c_r / p``. The
last pending increment applies the plain rule to one uniform on [0, 1). Exact in distribution;
draws ``uniform(derive(key, i), j)`` for ``j = 0, 1, ...``. Row updates are branch-free
(``c += u < prob[c]``), and ``d = 3`` keeps the three codes in registers.
"""
import numpy as np
from numba import njit, prange

from ..rng import derive
from ._cm_kernels import AHEAD, ESTIMATE_BLOCK, prefetch_next, prefetch_word, row_min
from ._hash_kernels import bucket
from ._morris_kernels import morris_advance, morris_round_one, uniform_small

INDEPENDENT, CORRELATED, CONSERVATIVE = 0, 1, 2  # the ``rule`` argument


@njit(cache=True, inline="always")
def _skip(u, remaining, p, log1m_c):
    """Increments consumed up to and including the next move at probability ``p`` (uniform
    ``u``), or ``-1`` if no move happens within ``remaining``."""
    if u < p:  # floor(log(1 - u) / log(1 - p)) = 0: no failure before the move
        return np.int64(1)
    g = np.floor(np.log(1.0 - u) / log1m_c)  # compared as float: huge skips cannot overflow
    if g >= remaining:
        return np.int64(-1)
    return np.int64(g) + 1


@njit(cache=True, inline="always")
def _correlated3(cells, b0, b1, b2, t, n, prob, log1m, rkey):
    """The correlated rule for ``d = 3``: ``n`` increments to ``cells[r, b_r, t]``."""
    x0 = np.int64(cells[0, b0, t])
    x1 = np.int64(cells[1, b1, t])
    x2 = np.int64(cells[2, b2, t])
    cmin = min(x0, min(x1, x2))
    remaining = n
    j = 0
    while remaining > 0:
        p = prob[cmin]
        if p == 0.0:  # the minimum is saturated: no row can move
            break
        if remaining == 1:  # last increment: the plain rule with one uniform on [0, 1)
            u = uniform_small(rkey, j)
            x0 += np.int64(u < prob[x0])
            x1 += np.int64(u < prob[x1])
            x2 += np.int64(u < prob[x2])
            break
        if p < 1.0:
            s = _skip(uniform_small(rkey, j), remaining, p, log1m[cmin])
            j += 1
            if s < 0:
                break
            remaining -= s
        else:  # code 0 always moves
            remaining -= 1
        v = uniform_small(rkey, j) * p
        j += 1
        x0 += np.int64(v < prob[x0])
        x1 += np.int64(v < prob[x1])
        x2 += np.int64(v < prob[x2])
        cmin += 1  # every row at the minimum moved (v < p), so the minimum rose by one
    cells[0, b0, t] = x0
    cells[1, b1, t] = x1
    cells[2, b2, t] = x2


@njit(cache=True, inline="always")
def _correlated_record(cells, bk, cur, t, n, prob, log1m, rkey, conservative):
    """The correlated (or conservative) rule for any ``d``: ``n`` increments to
    ``cells[r, bk[r], t]``; ``cur`` (d,) int64 scratch. Same draws as :func:`_correlated3`."""
    d = cells.shape[0]
    cmin = np.int64(1 << 62)
    for r in range(d):
        cur[r] = cells[r, bk[r], t]
        if cur[r] < cmin:
            cmin = cur[r]
    remaining = n
    j = 0
    while remaining > 0:
        p = prob[cmin]
        if p == 0.0:
            break
        if remaining == 1:
            u = uniform_small(rkey, j)
            if u < p:
                for r in range(d):
                    cur[r] += np.int64((cur[r] == cmin) if conservative else (u < prob[cur[r]]))
            break
        if p < 1.0:
            s = _skip(uniform_small(rkey, j), remaining, p, log1m[cmin])
            j += 1
            if s < 0:
                break
            remaining -= s
        else:
            remaining -= 1
        if conservative:
            for r in range(d):
                cur[r] += np.int64(cur[r] == cmin)
        else:
            v = uniform_small(rkey, j) * p
            j += 1
            for r in range(d):
                cur[r] += np.int64(v < prob[cur[r]])
        cmin += 1
    for r in range(d):
        cells[r, bk[r], t] = cur[r]


@njit(cache=True, inline="always")
def _apply(cells, bk, cur, t, n, prob, log1m, rkey, rule):
    """Record ``(·, t, n)`` with buckets ``bk`` under ``rule``, keyed by ``rkey``."""
    if rule == CORRELATED and cells.shape[0] == 3:
        _correlated3(cells, bk[0], bk[1], bk[2], t, n, prob, log1m, rkey)
    elif rule == INDEPENDENT:  # every cell is its own counter; row r draws derive(rkey, r)
        for r in range(cells.shape[0]):
            cells[r, bk[r], t] = morris_advance(cells[r, bk[r], t], n, prob, log1m,
                                                derive(rkey, np.uint64(r)))
    else:
        _correlated_record(cells, bk, cur, t, n, prob, log1m, rkey, rule == CONSERVATIVE)


@njit(cache=True)
def cmm_add_records(cells, n_k, a, c, shift, prob, log1m, key, words, topics, counts, rule):
    """Records under ``rule`` (INDEPENDENT, CORRELATED, CONSERVATIVE); record ``i`` keyed by
    ``derive(key, i)``; ``n_k[t] += count``. Buckets are hashed once per run of one word."""
    d = cells.shape[0]
    bk = np.empty(d, np.int64)
    cur = np.empty(d, np.int64)
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
        _apply(cells, bk, cur, t, n, prob, log1m, derive(key, np.uint64(i)), rule)
        n_k[t] += n


def cmm_add_correlated(cells, n_k, a, c, shift, prob, log1m, key, words, topics, counts,
                       conservative):
    """Correlated (or conservative) records; see the module docstring."""
    cmm_add_records(cells, n_k, a, c, shift, prob, log1m, key, words, topics, counts,
                    CONSERVATIVE if conservative else CORRELATED)


def cmm_add_independent(cells, n_k, a, c, shift, prob, log1m, key, words, topics, counts):
    """Each of the record's ``d`` cells is its own Morris counter receiving ``count``
    increments; row ``r`` of record ``i`` draws with ``derive(derive(key, i), r)``."""
    cmm_add_records(cells, n_k, a, c, shift, prob, log1m, key, words, topics, counts,
                    INDEPENDENT)


@njit(cache=True)
def cmm_add_runs(cells, head, n_k, a, c, shift, prob, log1m, read, key, head_key, head_ids,
                 words, tok_ptr, z, rule, support):
    """Fused build: the topic runs' records (module docstring) under ``rule``, without
    materialising them. Returns -1, or the first index of ``z`` holding a topic ``>= K`` (then
    the cells are partly updated). ``support``: the exact support bitmap (V, ceil(K/8)) uint8,
    each run's (word, topic) bit set in the same pass (the bits of
    :func:`._support_kernels.support_set_runs`), or a (0, 1) array for none.

    A head word's records (``head_slot``) are rounded into its ``head`` (1, H, K) row instead
    (:func:`.morris.morris_round_add`, keyed by ``head_key``); as in ``add``, the head's and the
    hashed records are numbered apart, each from 0 in the records' order.

    The correlated and conservative rules at ``d = 3`` are written out here rather than inlined
    from :func:`_correlated3` / :func:`_correlated_record` (numba's inlining costs a third of the
    kernel's time); they are tested to give the same bytes.
    """
    d, _, K = cells.shape
    bk = np.empty(d, np.int64)
    cur = np.empty(d, np.int64)
    hist = np.zeros(K, np.int64)
    fast = rule != INDEPENDENT and d == 3
    cons = rule == CONSERVATIVE
    rec = 0
    head_rec = 0
    has_support = support.shape[0] > 0
    nxt = prefetch_next(cells, head, a, c, shift, head_ids, words, 0)
    for i in range(words.shape[0]):
        slot = nxt
        nxt = prefetch_next(cells, head, a, c, shift, head_ids, words, i + 1)
        for s in range(tok_ptr[i], tok_ptr[i + 1]):
            k = np.int64(z[s])
            if k >= K:
                return s
            hist[k] += 1
        if has_support:
            row = support[words[i]]
            for t in range(K):
                if hist[t] > 0:
                    row[t >> 3] |= np.uint8(1 << (t & 7))
        if slot >= 0:
            for t in range(K):
                n = hist[t]
                if n > 0:
                    hist[t] = 0
                    n_k[t] += n
                    morris_round_one(head, read, head_key, head_rec, slot, t, n)
                    head_rec += 1
            continue
        w = words[i]
        for r in range(d):
            bk[r] = bucket(a[r], c[r], shift, w)
        b0, b1, b2 = bk[0], bk[min(1, d - 1)], bk[min(2, d - 1)]
        for t in range(K):
            n = hist[t]
            if n == 0:
                continue
            hist[t] = 0
            n_k[t] += n
            rkey = derive(key, np.uint64(rec))
            rec += 1
            if not fast:
                _apply(cells, bk, cur, t, n, prob, log1m, rkey, rule)
                continue
            # _correlated3 (or the conservative _correlated_record at d = 3), written out
            x0 = np.int64(cells[0, b0, t])
            x1 = np.int64(cells[1, b1, t])
            x2 = np.int64(cells[2, b2, t])
            cmin = min(x0, min(x1, x2))
            remaining = n
            j = 0
            while remaining > 0:
                p = prob[cmin]
                if p == 0.0:
                    break
                if remaining == 1:
                    u = uniform_small(rkey, j)
                    if cons:  # the rows at the minimum move iff u < p
                        mv = np.int64(u < p)
                        x0 += mv & np.int64(x0 == cmin)
                        x1 += mv & np.int64(x1 == cmin)
                        x2 += mv & np.int64(x2 == cmin)
                    else:
                        x0 += np.int64(u < prob[x0])
                        x1 += np.int64(u < prob[x1])
                        x2 += np.int64(u < prob[x2])
                    break
                if p < 1.0:
                    u = uniform_small(rkey, j)
                    j += 1
                    if u < p:
                        remaining -= 1
                    else:
                        g = np.floor(np.log(1.0 - u) / log1m[cmin])
                        if g >= remaining:
                            break
                        remaining -= np.int64(g) + 1
                else:
                    remaining -= 1
                if cons:  # a move raises exactly the rows at the minimum (no draw)
                    x0 += np.int64(x0 == cmin)
                    x1 += np.int64(x1 == cmin)
                    x2 += np.int64(x2 == cmin)
                else:
                    v = uniform_small(rkey, j) * p
                    j += 1
                    x0 += np.int64(v < prob[x0])
                    x1 += np.int64(v < prob[x1])
                    x2 += np.int64(v < prob[x2])
                cmin += 1
            cells[0, b0, t] = x0
            cells[1, b1, t] = x1
            cells[2, b2, t] = x2
    return -1


# ----------------------------------------------------------------------------- estimate
@njit(cache=True, parallel=True)
def cmm_estimate(cells, read, a, c, shift, words, out):
    """out[i, k] = read[min_r code_r] (the read is monotone, so min of codes = min of reads).

    Minimum taken on the narrow codes (vectorises), one table read per (word, topic); blocks of
    words in ``prange`` as in :func:`cm_estimate`.
    """
    d, _, K = cells.shape
    n = words.shape[0]
    for blk in prange((n + ESTIMATE_BLOCK - 1) // ESTIMATE_BLOCK):
        tmp = np.empty(K, cells.dtype)
        for i in range(blk * ESTIMATE_BLOCK, min(n, (blk + 1) * ESTIMATE_BLOCK)):
            if i + AHEAD < n:
                prefetch_word(cells, a, c, shift, words[i + AHEAD])
            row_min(cells, a, c, shift, words[i], tmp)
            o = out[i]
            for k in range(K):
                o[k] = read[tmp[k]]
    return out
