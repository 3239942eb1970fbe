"""Jitted exact SCA sweep: the document's head topics summed exactly, the rest by rejection.

Same transition and layout as :func:`~lda_sketch.sampler._kernels.sca_sweep_words`, plus a
per-document open-addressing table (:func:`build_doc_hash`) giving each nonzero topic's count
and position in the document's sorted sparse list.

A token of (doc ``d``, word ``w``) must draw ``k ~ f(k) = (n_dk + alpha) phi_k`` with
``phi_k = (est_wk + beta)/(n_k + V beta)`` frozen. The document's topics are sorted by count
(largest first). For each (doc, word) pair the kernel walks the first ``m`` of them, summing
``S_m = sum_{j<m} n_dj phi_j`` (prefix sums kept), and stops at the first ``m`` (a multiple of
``block``, or ``k_d``) with ``c_m Phi <= eps (S_m + alpha Phi)``, where ``c_m`` is the count of
topic ``m`` (0 past the end) and ``Phi = sum_k phi_k``. Then ``f = f_head + f_rest`` with

* ``f_head(k) = n_dk phi_k`` on the ``m`` head topics (mass ``S_m``, drawn exactly by search);
* ``f_rest(k) = (n_dk [k not in head] + alpha) phi_k <= (c_m + alpha) phi_k`` (every tail count
  is at most ``c_m``), drawn by rejection: ``k ~ phi_w`` (alias table for words with at least
  ``alias_min_tokens`` tokens, bisection of a prefix sum otherwise), accepted with probability
  ``(n_dk [k not in head] + alpha)/(c_m + alpha)`` (n_dk from the table; always 1 when
  ``c_m = 0``).

An attempt picks the head with probability ``S_m / E``, ``E = S_m + (c_m + alpha) Phi``, and
restarts from the top on a rejection, so an accepted draw has law ``f`` exactly. The stopping rule
bounds the acceptance below by ``1/(1 + eps)``. ``eps = 0`` is the reference decomposition
(``m = k_d``, never a rejection); larger ``eps`` walks fewer topics per pair.

Randomness: the token with global index ``g`` uses ``b_0 = bits(key, g)`` for its first attempt
and ``substream_bits(b_0, j)``, ``j = 1, 2, ...`` for acceptance tests and later attempts: a pure
function of ``(seed, iteration, g)``, identical for every thread count and sharding.
"""
from __future__ import annotations

import numba
import numpy as np
from numba import njit, prange

from ..rng import bits, substream_bits, to_uniform
from ._kernels import _build_alias

_S16 = np.uint64(16)
_S32 = np.uint64(32)
_S7 = np.uint64(7)
_M16 = np.uint64(0xFFFF)
_HMUL = np.uint64(0x9E3779B1)

# counters (per thread) columns
C_TOKENS = 0      # tokens drawn
C_HEAD = 1        # head topics summed (over pairs)
C_PAIRS = 2       # pairs
C_ATTEMPTS = 3    # attempts (>= tokens)
C_TAIL = 4        # attempts that proposed from the word (phi_w)
N_COUNTERS = 5


@njit(cache=True, parallel=True)
def build_doc_hash(dk_ptr, dk_len, dk_topic, dk_count, h_ptr, h_tab, h_mask):
    """Per doc ``d`` an open-addressing table at ``h_tab[h_ptr[d]:]`` of power-of-two size
    ``h_mask[d] + 1 >= 2 k_d`` (``h_ptr`` reserves room for ``k_d = min(L_d, K)``). Entries are
    uint64 ``count << 32 | position << 16 | topic`` (position in the sorted sparse list);
    0 marks an empty slot."""
    for d in prange(dk_len.shape[0]):
        lo = h_ptr[d]
        nz = dk_len[d]
        size = 2
        while size < 2 * nz:
            size *= 2
        h_mask[d] = size - 1
        mask = np.uint64(size - 1)
        for i in range(lo, lo + size):
            h_tab[i] = 0
        base = dk_ptr[d]
        for j in range(nz):
            t = np.uint64(dk_topic[base + j])
            i = ((t * _HMUL) >> _S7) & mask
            while h_tab[lo + i] != 0:
                i = (i + np.uint64(1)) & mask
            h_tab[lo + i] = ((np.uint64(dk_count[base + j]) << _S32) | (np.uint64(j) << _S16)
                             | t)


@njit(cache=True, inline="always")
def _lookup(h_tab, lo, mask, k):
    """The table entry of topic ``k`` (0 when n_dk = 0)."""
    t = np.uint64(k)
    i = ((t * _HMUL) >> _S7) & mask
    while True:
        e = h_tab[lo + i]
        if e == 0 or (e & _M16) == t:
            return e
        i = (i + np.uint64(1)) & mask


@njit(cache=True, inline="always")
def _word_draw(v, K, use_alias, prob, alias, cum):
    """``k ~ phi_w`` from ``v`` uniform on [0, 1): alias table, or bisection of the prefix sum
    ``cum`` (whose last entry is ``Phi_w``)."""
    if use_alias:
        x = v * K
        k = int(x)
        if k >= K:
            k = K - 1
        if x - k >= prob[k]:
            k = alias[k]
        return k
    x = v * cum[K - 1]
    lo = 0
    hi = K - 1
    while lo < hi:
        mid = (lo + hi) >> 1
        if cum[mid] > x:
            hi = mid
        else:
            lo = mid + 1
    return lo


@njit(cache=True)
def _rejection(b0, u, S, E, alpha, top_a, scale, m, base, dk_topic, scum, K, use_alias, prob,
               alias, cum, h_tab, hlo, hmask):
    """Attempts from the first one (``u`` = its point in [0, E), already past the head) until
    one is accepted. Returns (topic, attempts, word proposals)."""
    att = 1
    tail = 0
    j = 1
    while True:
        if u < S:
            q = 0
            while q < m - 1 and scum[q] <= u:
                q += 1
            return int(dk_topic[base + q]), att, tail
        tail += 1
        k = _word_draw((u - S) * scale, K, use_alias, prob, alias, cum)
        e = _lookup(h_tab, hlo, hmask, k)
        n_rest = 0
        if int((e >> _S16) & _M16) >= m:  # in the tail (absent: count 0)
            n_rest = int(e >> _S32)
        if to_uniform(substream_bits(b0, np.uint64(j))) * top_a < n_rest + alpha:
            return k, att, tail
        u = to_uniform(substream_bits(b0, np.uint64(j + 1))) * E
        j += 2
        att += 1


@njit(cache=True, parallel=True)
def sca_sweep_words_rejection(w_lo, est, inv_nk, alpha, beta, eps, block, word_pair_ptr,
                              pair_doc, pair_tok_ptr, tok_perm, dk_ptr, dk_len, dk_topic,
                              dk_count, h_ptr, h_tab, h_mask, key, token_offset, z,
                              alias_min_tokens, scratch_f, scratch_i, counters):
    """Exact SCA draws for distinct words ``w_lo .. w_lo + est.shape[0] - 1`` (module doc).

    ``scratch_f`` (n_threads, 4, K) float64, ``scratch_i`` (n_threads, 3, K) int64,
    ``counters`` (n_threads, N_COUNTERS) int64, accumulated.
    """
    n = est.shape[0]
    K = est.shape[1]
    for ii in prange(n):
        tid = numba.get_thread_id()
        phi = scratch_f[tid, 0]
        prob = scratch_f[tid, 1]
        cum = scratch_f[tid, 2]
        scum = scratch_f[tid, 3]
        alias = scratch_i[tid, 0]
        row = est[ii]
        n_tok = 0
        n_head = 0
        n_att = 0
        n_tail = 0
        w = w_lo + ii
        p_lo = word_pair_ptr[w]
        p_hi = word_pair_ptr[w + 1]
        use_alias = pair_tok_ptr[p_hi] - pair_tok_ptr[p_lo] >= alias_min_tokens
        Phi = 0.0
        for k in range(K):
            e = row[k]
            if e < 0.0:
                e = 0.0
            f = (e + beta) * inv_nk[k]
            phi[k] = f
            Phi += f
            cum[k] = f if use_alias else Phi  # alias weights, or the prefix sum
        if use_alias:
            _build_alias(cum, prob, alias, scratch_i[tid, 1], scratch_i[tid, 2])
        aPhi = alpha * Phi
        inv_phi = 1.0 / Phi
        for p in range(p_lo, p_hi):
            d = pair_doc[p]
            base = dk_ptr[d]
            nz = dk_len[d]
            S = 0.0
            m = 0
            # walk blocks of `block` topics; test the stopping rule between blocks only
            b_hi = nz if eps == 0.0 else 0  # eps > 0: the rule is tested at m = 0 too
            while True:
                for q in range(m, b_hi):
                    S += dk_count[base + q] * phi[dk_topic[base + q]]
                    scum[q] = S
                m = b_hi
                if m == nz or dk_count[base + m] * Phi <= eps * (S + aPhi):
                    break
                b_hi = min(m + block, nz)
            top = dk_count[base + m] if m < nz else 0
            E = S + (top + alpha) * Phi  # the envelope's mass: head + rest bound
            scale = inv_phi / (top + alpha)  # (u - S) * scale is uniform on [0, 1)
            hlo = h_ptr[d]
            hmask = np.uint64(h_mask[d])
            t_lo = pair_tok_ptr[p]
            t_hi = pair_tok_ptr[p + 1]
            n_tok += t_hi - t_lo
            n_head += m
            for slot in range(t_lo, t_hi):
                b0 = bits(key, np.uint64(token_offset + tok_perm[slot]))
                u = to_uniform(b0) * E
                if u < S:  # the head: exact, accepted
                    q = 0
                    while q < m - 1 and scum[q] <= u:
                        q += 1
                    z[slot] = dk_topic[base + q]
                    n_att += 1
                elif top == 0:  # no tail: the rest is alpha phi_w exactly, accepted
                    z[slot] = _word_draw((u - S) * scale, K, use_alias, prob, alias, cum)
                    n_att += 1
                    n_tail += 1
                else:
                    k, a, t = _rejection(b0, u, S, E, alpha, top + alpha, scale, m, base, dk_topic,
                                         scum, K, use_alias, prob, alias, cum, h_tab, hlo,
                                         hmask)
                    z[slot] = k
                    n_att += a
                    n_tail += t
        cnt = counters[tid]
        cnt[0] += n_tok
        cnt[1] += n_head
        cnt[2] += p_hi - p_lo
        cnt[3] += n_att
        cnt[4] += n_tail
