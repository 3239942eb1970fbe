"""Jitted kernels of the dense backend (arrays in, arrays out)."""
import numpy as np
from numba import njit


@njit(cache=True)
def dense_add(cells, n_k, words, topics, counts):
    """cells (V, K) int32 += counts at (words, topics); n_k (K,) int64 += counts."""
    for i in range(words.shape[0]):
        cells[words[i], topics[i]] += counts[i]
        n_k[topics[i]] += counts[i]


@njit(cache=True)
def dense_estimate(cells, words, out):
    """out (n, K) float64 = cells[words]."""
    K = cells.shape[1]
    for i in range(words.shape[0]):
        row = cells[words[i]]
        for k in range(K):
            out[i, k] = row[k]
    return out
