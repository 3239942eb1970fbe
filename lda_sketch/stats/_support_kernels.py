"""Kernels of the topic support: the bitmap, one bit per (word, topic), packed 8 topics a byte;
the word filter (a Bloom filter of the words that have tokens); the per-word totals.

``bits`` is uint8 of shape (n_vocab, ceil(K / 8)); bit ``k & 7`` of byte ``bits[w, k >> 3]``
says "some token of word w holds topic k". Arrays in, arrays out.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from ..rng import bits as mix_bits


@njit(cache=True)
def support_set(bits, words, topics, counts):
    """Set the bit of every record with a positive count."""
    for i in range(words.shape[0]):
        if counts[i] > 0:
            k = topics[i]
            bits[words[i], k >> 3] |= np.uint8(1 << (k & 7))


@njit(cache=True)
def support_set_runs(bits, words, tok_ptr, z):
    """Set the bit of every topic ``z[tok_ptr[i]:tok_ptr[i + 1]]`` of word ``words[i]`` (the
    records of the runs' histograms, as :func:`support_set`; z below K)."""
    for i in range(words.shape[0]):
        row = bits[words[i]]
        for s in range(tok_ptr[i], tok_ptr[i + 1]):
            k = np.int64(z[s])
            row[k >> 3] |= np.uint8(1 << (k & 7))


@njit(cache=True, parallel=True)
def support_mask(bits, words, out):
    """Zero ``out[i, k]`` wherever word ``words[i]`` does not hold topic ``k``, and raise it to
    at least 1 where it does (a held topic has a count >= 1, whatever a noise-corrected query
    such as count-mean-min says). out (n, K)."""
    K = out.shape[1]
    for i in prange(words.shape[0]):
        row = bits[words[i]]
        for k in range(K):
            if (row[k >> 3] >> (k & 7)) & 1:
                if out[i, k] < 1.0:
                    out[i, k] = 1.0
            else:
                out[i, k] = 0.0


@njit(cache=True)
def support_count(bits, n_topics):
    """Number of set bits among the first ``n_topics`` of every row (the nonzero cells)."""
    total = 0
    for w in range(bits.shape[0]):
        for k in range(n_topics):
            total += (bits[w, k >> 3] >> (k & 7)) & 1
    return total


@njit(cache=True)
def add_word_totals(totals, words, counts):
    """``totals[words[i]] += counts[i]`` (exact per-word token counts)."""
    for i in range(words.shape[0]):
        totals[words[i]] += counts[i]


@njit(cache=True, parallel=True)
def rescale_rows(totals, words, out):
    """Scale each row of ``out`` (n, K) to sum to ``totals[words[i]]`` (rows summing to 0 stay)."""
    K = out.shape[1]
    for i in prange(words.shape[0]):
        s = 0.0
        for k in range(K):
            s += out[i, k]
        if s > 0.0:
            f = totals[words[i]] / s
            for k in range(K):
                out[i, k] *= f


# ----------------------------------------------------------------------------- word filter
@njit(cache=True, inline="always")
def _probe(key, w, i, mask):
    h = mix_bits(key, np.uint64(w))
    h1 = h & np.uint64(0xFFFFFFFF)
    h2 = (h >> np.uint64(32)) | np.uint64(1)
    return np.int64((h1 + np.uint64(i) * h2) & mask)


@njit(cache=True)
def bloom_add(filt, key, n_probes, words):
    """Insert every word of ``words`` (int64) into the Bloom filter ``filt`` (uint64 words,
    a power-of-two count): ``n_probes`` bits by double hashing of ``bits(key, w)``."""
    mask = np.uint64(filt.shape[0] * 64 - 1)
    for j in range(words.shape[0]):
        for i in range(n_probes):
            b = _probe(key, words[j], i, mask)
            filt[b >> 6] |= np.uint64(1) << np.uint64(b & 63)


@njit(cache=True, parallel=True)
def bloom_mask(filt, key, n_probes, words, out):
    """Zero row ``i`` of ``out`` (n, K) when ``words[i]`` is not in the filter (no false
    negatives: a member's row is never touched)."""
    mask = np.uint64(filt.shape[0] * 64 - 1)
    for j in prange(words.shape[0]):
        for i in range(n_probes):
            b = _probe(key, words[j], i, mask)
            if (filt[b >> 6] >> np.uint64(b & 63)) & np.uint64(1) == 0:
                out[j, :] = 0.0
                break
