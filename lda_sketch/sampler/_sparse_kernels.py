"""Jitted exact SCA sweep whose per-pair cost is the size of (document topics ∩ word topics).

Same transition as :func:`~lda_sketch.sampler._kernels.sca_sweep_words`: a token of (doc ``d``,
word ``w``) draws ``k ~ (n_dk + alpha) phi_wk`` with ``phi_wk = (e_wk + beta) inv_k``, ``e`` the
frozen estimates clipped at 0 and ``inv_k = 1/(n_k + V beta)``. The mass is split in three
nonnegative parts (SparseLDA's buckets, Yao, Mimno & McCallum 2009):

* ``A(d, w) = sum n_dk e_wk inv_k`` over the topics with ``n_dk > 0`` and ``e_wk > 0``;
* ``B(d) = beta sum_k n_dk inv_k``: the document alone, prefix sums built once per sweep;
* ``C(w) = alpha sum_k phi_wk``: the word alone, running sums over blocks of 64 topics built
  once per word per sweep (a draw bisects the blocks and walks one).

``A`` is the only per-pair sum. A document that can hold at least ``K/64`` topics keeps a bitset
of its topics (``K/64`` uint64 words, ``bits``), the start of each word of it in its topic-sorted
list (``rank``) and its counts in topic order (``t_count``) (:func:`build_doc_index`, once per
sweep); a word keeps the bitset of its nonzero estimates, the list of its nonzero bitset words,
and ``e_wk inv_k`` of those topics in topic order (:func:`word_index`, once per chunk of
words). ``A``'s terms are the set bits of ``doc_bits & word_bits`` over the word's nonzero
bitset words (found by one branch-free pass, then walked), each count found at
``rank + popcount(doc bits below)`` and each ``e_wk inv_k`` likewise in the word's row.
Shorter documents walk their list and skip the word's zero estimates. At large K the shared
topics are far fewer than either set (docs/SAMPLER.md has the measured sizes).

The chunk's pairs are visited by blocks of documents (:func:`sca_sweep_tiles`), which keeps
a block's document index in cache while the chunk's words visit it.

A token's uniform ``u = uniform(key, g) * (A + B + C)`` (``g`` its global token index) picks a
part and, within it, a topic by search: the intersection's running sums (linear below 16
entries, else bisection), the document's prefix (bisection), or the word's block sums.
"""
from __future__ import annotations

import numba
import numpy as np
from numba import njit, prange

from ..rng import uniform
from ._bitops_kernels import popcount, trailing_zeros

_U0 = np.uint64(0)
_U1 = np.uint64(1)

# counters (per thread) columns
C_TOKENS = 0      # tokens drawn
C_PAIRS = 1       # (doc, word) pairs
C_TERMS = 2       # intersection terms summed (over pairs)
C_BITWORDS = 3    # bitset words ANDed (over pairs)
C_LISTED = 4      # list entries walked by pairs of short documents
N_COUNTERS = 5


@njit(cache=True, parallel=True)
def build_doc_index(dk_ptr, dk_len, dk_topic, dk_count, inv_nk, beta, bit_ptr, bits, rank,
                    t_topic, t_count, bcum, dense):
    """Per doc ``d``: ``t_topic``/``t_count`` at ``dk_ptr[d]:`` (topic ascending for bitset docs,
    the state's order otherwise), ``bcum`` the running sums of ``beta n_dk inv_k`` in that
    order, and for bitset docs (``bit_ptr[d + 1] > bit_ptr[d]``) the bitset and ranks at
    ``bit_ptr[d]:``. ``dense`` (n_threads, K) int32 scratch, all zero on entry and exit."""
    for d in prange(dk_len.shape[0]):
        base = dk_ptr[d]
        nz = dk_len[d]
        blo = bit_ptr[d]
        nbw = bit_ptr[d + 1] - blo
        acc = 0.0
        if nbw == 0:
            for j in range(nz):
                k = dk_topic[base + j]
                c = dk_count[base + j]
                t_topic[base + j] = k
                t_count[base + j] = c
                acc += beta * (c * inv_nk[k])
                bcum[base + j] = acc
            continue
        cnt = dense[numba.get_thread_id()]
        for i in range(nbw):
            bits[blo + i] = _U0
        for j in range(nz):
            k = np.int64(dk_topic[base + j])
            cnt[k] = dk_count[base + j]
            bits[blo + (k >> 6)] |= _U1 << np.uint64(k & 63)
        pos = 0
        for i in range(nbw):
            rank[blo + i] = pos
            m = bits[blo + i]
            while m != _U0:
                k = (i << 6) + trailing_zeros(m)
                c = cnt[k]
                cnt[k] = 0
                t_topic[base + pos] = k
                t_count[base + pos] = c
                acc += beta * (c * inv_nk[k])
                bcum[base + pos] = acc
                pos += 1
                m &= m - _U1


@njit(cache=True, inline="always")
def _first_above(cum, lo, n, u):
    """Smallest ``j`` in ``[0, n)`` with ``cum[lo + j] > u`` (``n - 1`` if none: rounding)."""
    if n <= 16:
        j = 0
        while j < n - 1 and cum[lo + j] <= u:
            j += 1
        return j
    a = 0
    b = n - 1
    while a < b:
        mid = (a + b) >> 1
        if cum[lo + mid] > u:
            b = mid
        else:
            a = mid + 1
    return a


@njit(cache=True)
def block_inv_sums(inv_nk, beta, out):
    """``out[i] = beta * sum(inv_nk[64 i : 64 i + 64])`` (nbw,): the beta part of phi per
    64-topic block, the same for every word."""
    K = inv_nk.shape[0]
    for i in range(out.shape[0]):
        acc = 0.0
        for k in range(i << 6, min((i + 1) << 6, K)):
            acc += inv_nk[k]
        out[i] = beta * acc


@njit(cache=True, parallel=True)
def word_index(est, inv_nk, binv, wbits, wrank, wl, nwl, wcum):
    """Per word ``ii`` of the chunk: ``est[ii, :nq]`` becomes ``e_wk inv_k`` of its topics with
    ``e_wk > 0``, topic order (compacted in place; the rest of the row is garbage);
    ``wbits[ii]`` (nbw,) their bitset, ``wrank[ii, i]`` the position in the compacted row of
    the first topic of bitset word ``i``, ``wl[ii, :nwl[ii]]`` the nonzero bitset words,
    ``wcum[ii]`` (nbw,) the running sums of ``phi_w`` over 64-topic blocks (last = Phi_w),
    from ``binv`` of :func:`block_inv_sums`."""
    n, K = est.shape
    nbw = (K + 63) >> 6
    for ii in prange(n):
        row = est[ii]
        Phi = 0.0
        nq = 0
        m = 0
        for i in range(nbw):
            lo = i << 6
            hi = min(lo + 64, K)
            wb = _U0
            for k in range(lo, hi):  # compare-and-or only: vectorisable
                wb |= np.uint64(row[k] > 0.0) << np.uint64(k - lo)
            r0 = nq
            acc = 0.0
            bw = wb
            while bw != _U0:  # compact in place: nq <= k, and row[k] is read first
                k = lo + trailing_zeros(bw)
                bw &= bw - _U1
                v = row[k] * inv_nk[k]
                row[nq] = v
                acc += v
                nq += 1
            Phi += acc + binv[i]
            wcum[ii, i] = Phi
            wrank[ii, i] = r0
            wbits[ii, i] = wb
            wl[ii, m] = i
            m += np.int64(wb != _U0)
        nwl[ii] = m


@njit(cache=True, inline="always")
def _word_draw(x, qs, wb, wr, wcum, inv_nk, beta, K):
    """``k ~ phi_w`` given ``x`` uniform on ``[0, Phi_w)``: bisection over the 64-topic blocks'
    running sums ``wcum``, then a walk inside the block (``phi_wk = beta inv_k`` plus the
    word's compacted ``e_wk inv_k`` where its bit is set)."""
    nbw = wcum.shape[0]
    b = _first_above(wcum, 0, nbw, x)
    acc = wcum[b - 1] if b > 0 else 0.0
    lo = b << 6
    hi = min(lo + 64, K)
    bw = wb[b]
    r = wr[b]
    for k in range(lo, hi):
        f = beta * inv_nk[k]
        if (bw >> np.uint64(k - lo)) & _U1:
            f += qs[r]
            r += 1
        acc += f
        if acc > x:
            return k
    return hi - 1


@njit(cache=True, parallel=True)
def sca_sweep_tiles(est, inv_nk, alpha, beta, wbits, wrank, wl, nwl, wcum, tiles, tile_pair,
                    tile_word, pair_doc, pair_tok_ptr, tok_perm, dk_ptr, dk_len,
                    t_topic, t_count, bcum, bit_ptr, bits, rank, key, token_offset, z,
                    scratch_f, scratch_i, scratch_b, counters):
    """Exact SCA draws for the pairs of a chunk of words (prepared by :func:`word_index`), tile
    by tile: ``tile_pair[tiles[b]:tiles[b + 1]]`` are the chunk's pairs whose documents are in
    block ``b``, word by word (``tile_word``: the pair's chunk-local word), so a block's
    document index stays in cache while the chunk's words visit it.

    ``scratch_f`` (n_threads, 1, K) float64, ``scratch_i`` (n_threads, 3, K) int64,
    ``scratch_b`` (n_threads, 2, ceil(K/64)) uint64, ``counters`` (n_threads, N_COUNTERS)
    int64, accumulated.
    """
    K = est.shape[1]
    for b in prange(tiles.shape[0] - 1):
        tid = numba.get_thread_id()
        acum = scratch_f[tid, 0]   # running sums of the pair's intersection
        atop = scratch_i[tid, 0]   # the intersection's topics
        dpos = scratch_i[tid, 1]   # ... their positions in the document's counts
        qpos = scratch_i[tid, 2]   # ... and in the word's compacted row
        mm = scratch_b[tid, 0]     # doc_bits & word_bits per nonzero word of the word
        summ = scratch_b[tid, 1]   # bit jj set iff mm[jj] != 0
        n_tok = 0
        n_terms = 0
        n_bw = 0
        n_list = 0
        for t in range(tiles[b], tiles[b + 1]):
            p = tile_pair[t]
            d = pair_doc[p]
            ii = tile_word[t]
            qs = est[ii]
            wb = wbits[ii]
            wr = wrank[ii]
            nw = nwl[ii]
            base = dk_ptr[d]
            nz = dk_len[d]
            blo = bit_ptr[d]
            A = 0.0
            m_int = 0
            if bit_ptr[d + 1] > blo:
                n_bw += nw
                nsw = (nw + 63) >> 6
                for j in range(nsw):  # branch-free: the ANDs, and which are nonzero
                    acc_bits = _U0
                    for jj in range(j << 6, min((j + 1) << 6, nw)):
                        i = wl[ii, jj]
                        m = bits[blo + i] & wb[i]
                        mm[jj] = m
                        acc_bits |= np.uint64(m != _U0) << np.uint64(jj & 63)
                    summ[j] = acc_bits
                for j in range(nsw):  # the terms' topics and positions, one bit at a time
                    sm = summ[j]
                    while sm != _U0:
                        jj = (j << 6) + trailing_zeros(sm)
                        m = mm[jj]
                        tz = np.uint64(trailing_zeros(m))
                        i = wl[ii, jj]
                        below = (_U1 << tz) - _U1
                        atop[m_int] = (i << 6) + np.int64(tz)
                        dpos[m_int] = base + rank[blo + i] + popcount(bits[blo + i] & below)
                        qpos[m_int] = wr[i] + popcount(wb[i] & below)
                        m_int += 1
                        m &= m - _U1
                        mm[jj] = m
                        if m == _U0:
                            sm &= sm - _U1
                for j in range(m_int):  # independent loads
                    A += t_count[dpos[j]] * qs[qpos[j]]
                    acum[j] = A
            else:
                n_list += nz
                for j in range(nz):
                    k = np.int64(t_topic[base + j])
                    i = k >> 6
                    tz = np.uint64(k & 63)
                    wbi = wb[i]
                    if (wbi >> tz) & _U1:
                        A += t_count[base + j] * qs[wr[i] + popcount(wbi & ((_U1 << tz) - _U1))]
                        acum[m_int] = A
                        atop[m_int] = k
                        m_int += 1
            n_terms += m_int
            AB = A + bcum[base + nz - 1]
            E = AB + alpha * wcum[ii, wcum.shape[1] - 1]
            t_lo = pair_tok_ptr[p]
            t_hi = pair_tok_ptr[p + 1]
            n_tok += t_hi - t_lo
            for slot in range(t_lo, t_hi):
                u = uniform(key, np.uint64(token_offset + tok_perm[slot])) * E
                if u < A:
                    z[slot] = atop[_first_above(acum, 0, m_int, u)]
                elif u < AB:
                    z[slot] = t_topic[base + _first_above(bcum, base, nz, u - A)]
                else:
                    z[slot] = _word_draw((u - AB) / alpha, qs, wb, wr, wcum[ii], inv_nk, beta,
                                         K)
        cnt = counters[tid]
        cnt[C_TOKENS] += n_tok
        cnt[C_PAIRS] += tiles[b + 1] - tiles[b]
        cnt[C_TERMS] += n_terms
        cnt[C_BITWORDS] += n_bw
        cnt[C_LISTED] += n_list
