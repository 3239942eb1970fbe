"""Jitted kernels of the dense backend (arrays in, arrays out)."""
import numpy as np
from numba import njit


@njit(cache=True)
def dense_add(cells, n_k, words, topics, counts):
    """cells (V, K) int32 += counts at (words, topics), saturating at 2**31 - 1; n_k (K,) int64."""
    top = np.int64(2147483647)
    for i in range(words.shape[0]):
        s = np.int64(cells[words[i], topics[i]]) + counts[i]
        cells[words[i], topics[i]] = s if s < top else top
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


@njit(cache=True)
def dense_merge_saturating(dst, src):
    """dst += src elementwise for int32 arrays, saturating at 2**31 - 1 (never wrapping)."""
    a = dst.reshape(-1)
    b = src.reshape(-1)
    top = np.int64(2147483647)
    for i in range(a.shape[0]):
        s = np.int64(a[i]) + np.int64(b[i])
        a[i] = s if s < top else top
