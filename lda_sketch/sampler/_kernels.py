"""Jitted SCA / SEM sweeps and the per-iteration rebuild kernels (arrays in, arrays out).

Shared layout (built once per shard by :class:`lda_sketch.sampler.state.ShardState`):

* distinct words ``i = 0..n_words-1``; word ``i`` owns the pairs
  ``word_pair_ptr[i]:word_pair_ptr[i+1]``;
* pair ``p`` = one (document, word) with ``c`` occurrences: ``pair_doc[p]`` (local doc index) and
  token slots ``pair_tok_ptr[p]:pair_tok_ptr[p+1]`` of ``z`` (uint16, word-major order);
* ``tok_perm[slot]`` = local doc-major index of the token in that slot, so its global index is
  ``token_offset + tok_perm[slot]`` -- the RNG counter of its draw;
* sparse doc-topic counts: doc ``d`` has ``dk_len[d]`` nonzero topics ``dk_topic[dk_ptr[d] + j]``
  with counts ``dk_count[...]``, sorted by count descending (ties: topic ascending).

Per-thread scratch rows are indexed by ``numba.get_thread_id()``, so every prange body writes
only memory owned by its iteration (z slots of one word, n_dk rows of one document) or its thread.
"""
from __future__ import annotations

import numba
import numpy as np
from numba import njit, prange

from ..rng import bits, derive, uniform

_U0 = np.uint64(0)
_U1 = np.uint64(1)


@njit(cache=True, inline="always")
def _build_alias(q, prob, alias, small, large):
    """Vose alias table of weights ``q`` (K,) into ``prob`` (K,) float64 / ``alias`` (K,) int64.

    ``small``/``large`` are (K,) int64 scratch stacks. Returns ``sum(q)``. Exact: a draw
    ``idx = floor(v*K)``, ``idx if frac(v*K) < prob[idx] else alias[idx]`` has law ``q/sum(q)``.
    """
    K = q.shape[0]
    total = 0.0
    for k in range(K):
        total += q[k]
    scale = K / total
    ns = 0
    nl = 0
    for k in range(K):
        prob[k] = q[k] * scale
        alias[k] = k
        if prob[k] < 1.0:
            small[ns] = k
            ns += 1
        else:
            large[nl] = k
            nl += 1
    while ns > 0 and nl > 0:
        ns -= 1
        s = small[ns]
        nl -= 1
        big = large[nl]
        alias[s] = big
        prob[big] = (prob[big] + prob[s]) - 1.0
        if prob[big] < 1.0:
            small[ns] = big
            ns += 1
        else:
            large[nl] = big
            nl += 1
    # Leftovers are 1 up to rounding; pin them so they never alias.
    while nl > 0:
        nl -= 1
        prob[large[nl]] = 1.0
    while ns > 0:
        ns -= 1
        prob[small[ns]] = 1.0
    return total


@njit(cache=True, parallel=True)
def sca_sweep_words(w_lo, est, inv_nk, alpha, beta, word_pair_ptr, pair_doc, pair_tok_ptr,
                    tok_perm, dk_ptr, dk_len, dk_topic, dk_count, key, token_offset, z,
                    scratch_f, scratch_i):
    """SCA draws for distinct words ``w_lo .. w_lo + est.shape[0] - 1``.

    ``est`` (n, K) float64: frozen backend estimates of those words (negative values clipped to 0).
    ``inv_nk`` (K,) = 1/(n_k + V*beta) of the frozen exact totals. Every token of pair (d, w) gets
    ``k ~ (n_dk + alpha)(est_wk + beta) inv_nk[k]``, split into the sparse part over the doc's
    nonzero topics (linear search, largest first) and the dense part ``alpha*phi_w`` (alias table,
    built once per word). The uniform of a token is ``uniform(key, token_offset + tok_perm[slot])``.
    ``scratch_f`` (n_threads, 3, K) float64, ``scratch_i`` (n_threads, 3, K) int64.
    """
    n = est.shape[0]
    K = est.shape[1]
    for ii in prange(n):
        tid = numba.get_thread_id()
        phi = scratch_f[tid, 0]
        prob = scratch_f[tid, 1]
        cum = scratch_f[tid, 2]
        alias = scratch_i[tid, 0]
        small = scratch_i[tid, 1]
        large = scratch_i[tid, 2]
        row = est[ii]
        for k in range(K):
            e = row[k]
            if e < 0.0:
                e = 0.0
            phi[k] = (e + beta) * inv_nk[k]
            cum[k] = alpha * phi[k]
        Q = _build_alias(cum, prob, alias, small, large)
        w = w_lo + ii
        for p in range(word_pair_ptr[w], word_pair_ptr[w + 1]):
            d = pair_doc[p]
            base = dk_ptr[d]
            nz = dk_len[d]
            S = 0.0
            for j in range(nz):
                S += dk_count[base + j] * phi[dk_topic[base + j]]
                cum[j] = S
            T = S + Q
            for slot in range(pair_tok_ptr[p], pair_tok_ptr[p + 1]):
                u = uniform(key, np.uint64(token_offset + tok_perm[slot])) * T
                if u < S:
                    j = 0
                    while j < nz - 1 and cum[j] <= u:
                        j += 1
                    z[slot] = dk_topic[base + j]
                else:
                    v = (u - S) / Q * K
                    idx = int(v)
                    if idx >= K:
                        idx = K - 1
                    if v - idx < prob[idx]:
                        z[slot] = idx
                    else:
                        z[slot] = alias[idx]


@njit(cache=True)
def sem_sweep(theta, phi_words, word_pair_ptr, pair_doc, pair_tok_ptr, tok_perm, key,
              token_offset, z, cdf):
    """Reference SEM draws: ``k ~ theta[d, k] * phi_words[i, k]`` by inverse CDF, O(K) per token.

    ``theta`` (n_docs, K) and ``phi_words`` (n_words, K) are materialised point estimates;
    ``cdf`` (K,) scratch. Sequential on purpose: this is the plain oracle, not the fast path.
    """
    K = theta.shape[1]
    for w in range(word_pair_ptr.shape[0] - 1):
        for p in range(word_pair_ptr[w], word_pair_ptr[w + 1]):
            d = pair_doc[p]
            acc = 0.0
            for k in range(K):
                acc += theta[d, k] * phi_words[w, k]
                cdf[k] = acc
            for slot in range(pair_tok_ptr[p], pair_tok_ptr[p + 1]):
                u = uniform(key, np.uint64(token_offset + tok_perm[slot])) * acc
                k = 0
                while k < K - 1 and cdf[k] <= u:
                    k += 1
                z[slot] = k


@njit(cache=True, parallel=True)
def init_topics(pair_doc, pair_tok_ptr, tok_perm, doc_offset, token_offset, key, n_topics,
                window, scatter, z):
    """Initial z: every token of global doc g picks slot ``r = floor(u * window)`` of its doc.

    ``scatter=False``: topic ``(h(g) + r) % K`` (a window of consecutive topics; ``window = K``
    is uniform random init). ``scatter=True``: topic ``h_r(g) % K``, ``window`` independent
    random topics per document. ``h`` are 64-bit draws under ``derive(key, 0)`` at ``g`` (and
    ``r``); ``u`` is the token's uniform under ``derive(key, 1)`` at its global token index.
    """
    kdoc = derive(key, _U0)
    ktok = derive(key, _U1)
    K = np.uint64(n_topics)
    for p in prange(pair_doc.shape[0]):
        kd = derive(kdoc, np.uint64(doc_offset + pair_doc[p]))
        h = bits(kd, _U0) % K
        for slot in range(pair_tok_ptr[p], pair_tok_ptr[p + 1]):
            r = np.uint64(uniform(ktok, np.uint64(token_offset + tok_perm[slot])) * window)
            if scatter:
                z[slot] = bits(kd, r + _U1) % K
            else:
                z[slot] = (h + r) % K


@njit(cache=True, parallel=True)
def rebuild_doc_topics(doc_pair_ptr, doc_pair_slot, doc_pair_cnt, z, dk_ptr, dk_len, dk_topic,
                       dk_count, hist, packed):
    """Sparse n_dk from z: per doc, nonzero topics sorted by count desc (ties topic asc).

    Doc ``d``'s pairs are ``doc_pair_ptr[d]:doc_pair_ptr[d+1]`` of ``doc_pair_slot`` (first z
    slot) / ``doc_pair_cnt`` (occurrences): one random access into z per pair.
    ``hist`` (n_threads, K) int64 scratch, all zero on entry and on exit; ``packed``
    (n_threads, K) int64 scratch. The order is by insertion for short lists and by a stable
    counting sort on the count otherwise (the same result, O(K + k_d) instead of O(k_d^2)).
    """
    n_docs = doc_pair_ptr.shape[0] - 1
    K = hist.shape[1]
    for d in prange(n_docs):
        tid = numba.get_thread_id()
        h = hist[tid]
        tmp = packed[tid]
        for q in range(doc_pair_ptr[d], doc_pair_ptr[d + 1]):
            a = doc_pair_slot[q]
            for slot in range(a, a + doc_pair_cnt[q]):
                h[z[slot]] += 1
        m = 0
        cmax = 0
        for k in range(K):  # topic ascending
            c = h[k]
            if c > 0:
                h[k] = 0
                tmp[m] = (c << 16) | k
                m += 1
                cmax = max(cmax, c)
        base = dk_ptr[d]
        dk_len[d] = m
        if m <= 32 or cmax >= K:
            for i in range(m):
                c = tmp[i] >> 16
                k = tmp[i] & 0xFFFF
                # insertion by count desc; equal counts keep ascending topic order
                j = i
                while j > 0 and dk_count[base + j - 1] < c:
                    dk_count[base + j] = dk_count[base + j - 1]
                    dk_topic[base + j] = dk_topic[base + j - 1]
                    j -= 1
                dk_count[base + j] = c
                dk_topic[base + j] = k
            continue
        for i in range(m):  # counting sort, h[c] = entries with count c
            h[tmp[i] >> 16] += 1
        start = 0
        for c in range(cmax, 0, -1):  # h[c] becomes the first slot of count c
            n_c = h[c]
            h[c] = start
            start += n_c
        for i in range(m):  # stable: topic ascending within a count
            c = tmp[i] >> 16
            j = h[c]
            h[c] = j + 1
            dk_count[base + j] = c
            dk_topic[base + j] = tmp[i] & 0xFFFF
        for c in range(cmax + 1):
            h[c] = 0


@njit(cache=True, parallel=True)
def word_topic_triples(word_pair_ptr, pair_tok_ptr, z, words, trip_ptr, out_w, out_t, out_c,
                       nnz, hist):
    """Per distinct word, the histogram of its z over K as (word, topic, count) triples.

    Word i writes ``nnz[i]`` triples (topic ascending) at ``trip_ptr[i]``. ``hist`` (n_threads, K)
    int64 scratch, zero on entry and exit.
    """
    n_words = word_pair_ptr.shape[0] - 1
    K = hist.shape[1]
    for i in prange(n_words):
        h = hist[numba.get_thread_id()]
        for slot in range(pair_tok_ptr[word_pair_ptr[i]], pair_tok_ptr[word_pair_ptr[i + 1]]):
            h[z[slot]] += 1
        o = trip_ptr[i]
        m = 0
        for k in range(K):
            if h[k] > 0:
                out_w[o + m] = words[i]
                out_t[o + m] = k
                out_c[o + m] = h[k]
                h[k] = 0
                m += 1
        nnz[i] = m


@njit(cache=True)
def compact_triples(trip_ptr, nnz, out_w, out_t, out_c):
    """Move each word's ``nnz[i]`` triples to be contiguous (in place). Returns the total count."""
    o = 0
    for i in range(nnz.shape[0]):
        src = trip_ptr[i]
        for j in range(nnz[i]):
            out_w[o] = out_w[src + j]
            out_t[o] = out_t[src + j]
            out_c[o] = out_c[src + j]
            o += 1
    return o


@njit(cache=True, parallel=True)
def train_loglik_words(w_lo, est, inv_colsum, beta, alpha, word_pair_ptr, pair_doc, pair_tok_ptr,
                       dk_ptr, dk_len, dk_topic, dk_count, doc_len, out, scratch_f):
    """Per word ``w_lo + i``: ``out[i] = sum over its tokens of log sum_k theta_dk phi_kw``.

    ``theta_dk = (n_dk + alpha) / (L_d + K alpha)``, ``phi_kw = (est_wk + beta) * inv_colsum[k]``
    (normalised over the vocabulary). ``scratch_f`` (n_threads, K) float64.
    """
    n = est.shape[0]
    K = est.shape[1]
    for ii in prange(n):
        phi = scratch_f[numba.get_thread_id()]
        row = est[ii]
        tot = 0.0
        for k in range(K):
            e = row[k]
            if e < 0.0:
                e = 0.0
            phi[k] = (e + beta) * inv_colsum[k]
            tot += phi[k]
        w = w_lo + ii
        acc = 0.0
        for p in range(word_pair_ptr[w], word_pair_ptr[w + 1]):
            d = pair_doc[p]
            base = dk_ptr[d]
            s = alpha * tot
            for j in range(dk_len[d]):
                s += dk_count[base + j] * phi[dk_topic[base + j]]
            c = pair_tok_ptr[p + 1] - pair_tok_ptr[p]
            acc += c * np.log(s / (doc_len[d] + K * alpha))
        out[ii] = acc


@njit(cache=True)
def doc_topic_histograms(dk_ptr, dk_len, dk_count, doc_len, cells, lengths):
    """Add the shard's count histograms: ``cells[c]`` += the (doc, topic) cells with
    ``n_dk = c``, ``lengths[c]`` += the documents of ``n_d = c`` tokens (``c >= 1``; empty
    documents add nothing). Integer counts, so shards' histograms add up exactly."""
    for d in range(dk_len.shape[0]):
        base = dk_ptr[d]
        for j in range(dk_len[d]):
            cells[dk_count[base + j]] += 1
        if doc_len[d] > 0:
            lengths[doc_len[d]] += 1


@njit(cache=True)
def dirichlet_digamma_sums(a, cells):
    """``sum_c cells[c] (psi(c + a) - psi(a))`` by the recurrence ``psi(x + 1) = psi(x) + 1/x``,
    in a fixed order (the same bits wherever the same histogram is summed)."""
    total = 0.0
    dig = 0.0
    for c in range(1, cells.shape[0]):
        dig += 1.0 / (a + (c - 1))
        if cells[c] != 0:
            total += cells[c] * dig
    return total
