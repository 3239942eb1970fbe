"""Seeded 2-universal hash family for count-min sketches (jitted, 64-bit arithmetic).

Row ``i`` maps a key ``x`` (a word id, ``0 <= x < 2**32``) to a bucket in ``[0, 2**log2_buckets)``
by multiply-add-shift (Dietzfelbinger 1996)::

    h_i(x) = ((a_i * x + c_i) mod 2**64) >> (64 - log2_buckets)

with ``a_i`` odd and ``c_i`` uniform 64-bit. For 32-bit keys this family is strongly
2-universal. The parameters are a pure function of the run's seed (:func:`hash_params`),
so every rank builds identical hash functions; :func:`seed_hash` is a 64-bit fingerprint of
them that is stored with every sketch and checked on merge and load.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from .. import rng

_ONE = np.uint64(1)
_SIXTYFOUR = np.uint64(64)


def hash_params(seed: int, n_hashes: int) -> tuple[np.ndarray, np.ndarray]:
    """Multipliers ``a`` (odd) and offsets ``c`` of the ``n_hashes`` rows. Shapes (n_hashes,) uint64."""
    key = rng.key_for(seed, rng.STREAM_HASH, 0)
    a = np.empty(n_hashes, np.uint64)
    c = np.empty(n_hashes, np.uint64)
    for i in range(n_hashes):
        a[i] = np.uint64(rng.bits(key, np.uint64(2 * i))) | _ONE
        c[i] = np.uint64(rng.bits(key, np.uint64(2 * i + 1)))
    return a, c


def seed_hash(seed: int) -> int:
    """64-bit fingerprint of the hash functions derived from ``seed`` (as a Python int)."""
    return int(rng.bits(rng.key_for(seed, rng.STREAM_HASH, 1), np.uint64(0)))


@njit(cache=True, inline="always")
def bucket(a_i, c_i, shift, x):
    """Bucket of key ``x`` in one row; ``shift = 64 - log2(n_buckets)``. Returns int64."""
    return np.int64((a_i * np.uint64(x) + c_i) >> shift)


@njit(cache=True)
def buckets(a, c, log2_buckets, keys):
    """Buckets of every key in every row. keys (n,) int -> (n_hashes, n) int64."""
    shift = _SIXTYFOUR - np.uint64(log2_buckets)
    d = a.shape[0]
    out = np.empty((d, keys.shape[0]), np.int64)
    for j in range(keys.shape[0]):
        for i in range(d):
            out[i, j] = bucket(a[i], c[i], shift, keys[j])
    return out
