"""Jitted sweep of ``sca-collapsed``: SCA whose conditional leaves out the token's own current
assignment, as collapsed Gibbs does (arrays in, arrays out; layout as in ``_kernels``).

Every token still moves at once from the frozen statistics (no locking, no order dependence);
only its own count is removed: for a token of word ``w`` in document ``d`` now at topic ``j``,

    p(k) ∝ (n_dk + alpha)(n_wk + beta)/(n_k + V beta)                  for k != j,
    p(j) ∝ (n_dj - 1 + alpha)(max(n_wj - 1, 0) + beta)/(n_j - 1 + V beta).

Why: plain SCA counts the token itself, so the only token of a word sees its current topic
with weight ``(1 + beta)/beta`` (101 at beta = 0.01) against every other and rarely moves: the
vocabulary's long tail stays near where the initial draw put it (docs/SAMPLER.md §1).

Per (doc, word) pair the sparse sum ``S`` and its running sums are computed once; per token only
the old topic's term changes, so ``S_j = S - delta`` and the running sums from the old topic's
position on are shifted by ``delta``. The dense part ``alpha * phi_w`` is drawn from the word's
alias table; a draw of the old topic is accepted with probability ``phi1_wj / phi_wj`` (else
redrawn from the table), which makes the dense law ``alpha * phi_w`` with ``phi_wj`` replaced by
``phi1_wj``. Exact; every uniform is a pure function of the token's global index.
"""
from __future__ import annotations

import numba
import numpy as np
from numba import njit, prange

from ..rng import bits, substream_bits, to_uniform
from ._kernels import _build_alias


@njit(cache=True, inline="always")
def _alias_draw(v, prob, alias, K):
    """Topic of the alias table for ``v`` uniform on ``[0, K)``."""
    idx = int(v)
    if idx >= K:
        idx = K - 1
    if v - idx < prob[idx]:
        return idx
    return alias[idx]


@njit(cache=True, parallel=True)
def sca_sweep_words_collapsed(w_lo, est, inv_nk, inv_nk1, alpha, beta, word_pair_ptr, pair_doc,
                              pair_tok_ptr, tok_perm, dk_ptr, dk_len, dk_topic, dk_count, key,
                              token_offset, z, scratch_f, scratch_i):
    """Collapsed SCA draws for distinct words ``w_lo .. w_lo + est.shape[0] - 1``, in place in ``z``.

    ``est`` (n, K) float64 frozen estimates (negative clipped to 0); ``inv_nk`` (K,)
    ``1/(n_k + V beta)`` and ``inv_nk1`` (K,) ``1/(max(n_k - 1, 0) + V beta)``. ``z`` holds the
    frozen assignments on entry (each slot is read, then overwritten) and the sparse n_dk must
    be those of that z. ``scratch_f`` (n_threads, 4, K) float64, ``scratch_i`` (n_threads, 4, K)
    int64.
    """
    n = est.shape[0]
    K = est.shape[1]
    for ii in prange(n):
        tid = numba.get_thread_id()
        phi = scratch_f[tid, 0]
        prob = scratch_f[tid, 1]
        cum = scratch_f[tid, 2]
        phi1 = scratch_f[tid, 3]
        alias = scratch_i[tid, 0]
        small = scratch_i[tid, 1]
        large = scratch_i[tid, 2]
        pos = scratch_i[tid, 3]  # topic -> its index in the current document's list
        row = est[ii]
        for k in range(K):
            e = row[k]
            if e < 0.0:
                e = 0.0
            phi[k] = (e + beta) * inv_nk[k]
            e1 = e - 1.0
            if e1 < 0.0:
                e1 = 0.0
            phi1[k] = (e1 + beta) * inv_nk1[k]
            cum[k] = alpha * phi[k]
        Q = _build_alias(cum, prob, alias, small, large)
        w = w_lo + ii
        for p in range(word_pair_ptr[w], word_pair_ptr[w + 1]):
            d = pair_doc[p]
            base = dk_ptr[d]
            nz = dk_len[d]
            S = 0.0
            for j in range(nz):
                t = dk_topic[base + j]
                S += dk_count[base + j] * phi[t]
                cum[j] = S
                pos[t] = j
            for slot in range(pair_tok_ptr[p], pair_tok_ptr[p + 1]):
                old = np.int64(z[slot])
                jo = pos[old]
                if jo < nz and dk_topic[base + jo] == old:  # always, when n_dk is that of z
                    c = dk_count[base + jo]
                    delta = c * phi[old] - (c - 1) * phi1[old]
                    dq = alpha * (phi[old] - phi1[old])
                else:  # a stale table entry: old is not in the list, nothing to leave out
                    jo = nz
                    delta = 0.0
                    dq = 0.0
                Sj = S - delta
                if Sj < 0.0:
                    Sj = 0.0
                Qj = Q - dq
                b = bits(key, np.uint64(token_offset + tok_perm[slot]))
                u = to_uniform(b) * (Sj + Qj)
                if u < Sj:
                    j = 0
                    while j < nz - 1 and cum[j] - (delta if j >= jo else 0.0) <= u:
                        j += 1
                    z[slot] = dk_topic[base + j]
                else:
                    k = _alias_draw((u - Sj) / Qj * K, prob, alias, K)
                    m = np.uint64(0)
                    while k == old and jo < nz:
                        m += np.uint64(1)
                        if to_uniform(substream_bits(b, m)) * phi[old] < phi1[old]:
                            break
                        m += np.uint64(1)
                        k = _alias_draw(to_uniform(substream_bits(b, m)) * K, prob, alias, K)
                    z[slot] = k
