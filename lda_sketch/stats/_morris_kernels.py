"""Morris approximate counters of base ``b > 1``: jitted kernels on integer codes (arrays in/out).

A counter stores a code ``c`` in ``[0, top]`` with ``top = 2**counter_bits - 1`` (uint8 or uint16).

* read:       ``n̂(c) = (b**c - 1) / (b - 1)``; ``n̂(c + 1) - n̂(c) = b**c``.
* increment:  ``c += 1`` with probability ``b**-c``. Unbiased: ``E[n̂] = n`` after ``n`` increments,
  ``Var[n̂] = (b - 1) n (n - 1) / 2``.
* saturation: the top code never increments (``prob[top] = 0``), so codes never wrap; a
  saturated counter underestimates. With ``b = 1.08`` and 8 bits the top reads ~4.1e9.
* n increments at once (:func:`morris_advance`): at code ``c`` the number of increments until the
  next level-up is ``Geometric(b**-c)``, drawn by inversion from one uniform,
  ``G = 1 + floor(log(1 - u) / log(1 - p))``. Exact in distribution, O(levels) work.
* addition (:func:`morris_add_codes`, Steele & Tristan 2016): ``r = max(x, y)``, ``s = min(x, y)``;
  for ``j = 0 .. s-1``: with probability ``b**(j - r)`` (current ``r``) ``r += 1``. Step ``j`` of
  the smaller counter is worth ``b**j`` events and raises ``n̂(r)`` by ``b**r`` with probability
  ``b**(j-r)``, so ``E[n̂(result)] = n̂(x) + n̂(y)``. Symmetric in ``x, y``.

The kernels take the tables of :func:`morris_tables` instead of ``b``, so every rank evaluates the
same float64 numbers. All draws come from :mod:`lda_sketch.rng` keyed by the caller.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from ..rng import derive, mix64, uniform

_ONE = np.uint64(1)
MERGE_BLOCK = 4096  # cells per parallel work item of the merge
# mix64(j) for small draw indices: uniform(key, j) = top 53 bits of mix64(key ^ mix64(j)), so a
# table lookup halves the hashing of the merge's draws and gives bit-identical uniforms.
_MIX_SMALL = np.array([mix64(np.uint64(j)) for j in range(256)], dtype=np.uint64)
_S11 = np.uint64(11)
_INV53 = 1.0 / 9007199254740992.0


def morris_tables(base: float, counter_bits: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Tables indexed by code ``c in [0, 2**counter_bits)``, each float64 of that size.

    Returns ``(read, prob, log1m)``: ``read[c] = (b**c - 1)/(b - 1)``; ``prob[c] = b**-c`` except
    ``prob[top] = 0`` (saturation); ``log1m[c] = log(1 - prob[c])`` (``-inf`` at ``c = 0``).
    """
    n = 1 << int(counter_bits)
    c = np.arange(n, dtype=np.float64)
    lb = math.log1p(base - 1.0)  # log(b), accurate for b close to 1
    read = np.expm1(c * lb) / (base - 1.0)
    read[0], read[1] = 0.0, 1.0
    prob = np.exp(-c * lb)
    prob[0] = 1.0
    prob[-1] = 0.0
    with np.errstate(divide="ignore"):
        log1m = np.log1p(-prob)
    return read, prob, log1m


def max_base(counter_bits: int) -> float:
    """Largest base whose top code reads as a finite float64 with headroom (``b**top < 1e300``)."""
    return math.exp(690.0 / ((1 << int(counter_bits)) - 1))


# ----------------------------------------------------------------------------- scalar kernels
@njit(cache=True, inline="always")
def uniform_small(key, j):
    """Equal to ``rng.uniform(key, j)`` (tested); one hash instead of two for ``0 <= j < 256``."""
    jj = np.int64(j)
    h = _MIX_SMALL[jj] if jj < 256 else mix64(np.uint64(jj))
    return float(mix64(key ^ h) >> _S11) * _INV53


@njit(cache=True, inline="always")
def morris_increment(code, prob, u):
    """Code after one increment decided by the uniform ``u`` in [0, 1)."""
    c = np.int64(code)
    if u < prob[c]:
        c += 1
    return c


@njit(cache=True, inline="always")
def morris_advance(code, n, prob, log1m, key):
    """Code after ``n >= 0`` increments, exact in distribution, O(levels gained + 1) draws.

    Draw ``j`` (one per level-up attempt) is ``uniform(key, j)``. The last pending increment uses
    the plain rule ``u < b**-c`` (the same law as a Geometric skip, without the logarithm).
    """
    c = np.int64(code)
    remaining = np.int64(n)
    j = 0
    while remaining > 0:
        p = prob[c]
        if p == 0.0:  # saturated
            break
        if remaining == 1:  # one increment left: the plain rule needs no logarithm
            if uniform_small(key, j) < p:
                c += 1
            break
        if p < 1.0:
            u = uniform_small(key, j)
            j += 1
            # failures before the next level-up; compared as float so huge skips cannot overflow
            g = np.floor(np.log1p(-u) / log1m[c])
            if g >= remaining:
                break
            remaining -= np.int64(g) + 1
        else:  # code 0 always moves on the first increment
            remaining -= 1
        c += 1
    return c


@njit(cache=True, inline="always")
def morris_add_codes(x, y, prob, key):
    """Steele–Tristan sum of codes ``x``, ``y`` (int64); draw ``j`` is ``uniform(key, j)``."""
    r = np.int64(max(x, y))
    s = np.int64(min(x, y))
    for j in range(s):
        pr = prob[r]
        if pr == 0.0:  # saturated
            break
        # u < b**(j - r) = prob[r] / prob[j], without the division
        if uniform_small(key, j) * prob[j] < pr:
            r += 1
    return r


# ----------------------------------------------------------------------------- array kernels
@njit(cache=True, parallel=True)
def morris_merge_into(dst, src, prob, key, cell_offset):
    """``dst[i] = add(dst[i], src[i])`` for flat code arrays of one dtype, keyed per global cell.

    Cell ``i`` draws with ``derive(key, cell_offset + i)``, so merging a slice gives the same bytes
    as merging the whole array, for any thread count (``prange`` over blocks of cells). A zero
    operand needs no draws (the sum is the other code).
    """
    off = np.uint64(cell_offset)
    n = dst.shape[0]
    for blk in prange((n + MERGE_BLOCK - 1) // MERGE_BLOCK):
        for i in range(blk * MERGE_BLOCK, min(n, (blk + 1) * MERGE_BLOCK)):
            y = src[i]
            if y == 0:
                continue
            x = dst[i]
            if x == 0:
                dst[i] = y
                continue
            dst[i] = morris_add_codes(x, y, prob, derive(key, off + np.uint64(i)))


@njit(cache=True)
def morris_advance_many(codes, counts, prob, log1m, key):
    """Independent counters: ``codes[i]`` gets ``counts[i]`` increments (key ``derive(key, i)``)."""
    for i in range(codes.shape[0]):
        codes[i] = morris_advance(codes[i], counts[i], prob, log1m, derive(key, np.uint64(i)))


@njit(cache=True)
def morris_increment_many(codes, n, prob, key):
    """Independent counters, one increment at a time: ``n`` single increments to every code.

    Reference implementation of the definition (O(n) draws per counter), used to test
    :func:`morris_advance`.
    """
    for i in range(codes.shape[0]):
        k = derive(key, np.uint64(i))
        c = np.int64(codes[i])
        for t in range(n):
            c = morris_increment(c, prob, uniform(k, np.uint64(t)))
        codes[i] = c


@njit(cache=True)
def morris_round_add(cells, n_k, read, key, words, topics, counts):
    """``cells[0, w, k] <- code of read(cell) + n``, rounded to one of the two neighbouring codes
    with the probability that keeps the read unbiased (``E[read] = read(cell) + n``).

    For a collision-free cell that receives a whole count at once (a head word's aggregated
    records): the variance is that of one rounding, at most ``((b - 1) v)**2 / 4`` for a value
    ``v``, instead of Morris's ``(b - 1) n (n - 1) / 2`` from ``n`` single increments. Above the
    top code's read the cell saturates. Record ``i`` draws ``uniform(key, i)``; adds ``n_k``.
    """
    for i in range(words.shape[0]):
        n = counts[i]
        if n <= 0:
            continue
        k = topics[i]
        n_k[k] += n
        morris_round_one(cells, read, key, i, words[i], k, n)


@njit(cache=True)
def morris_round_one(cells, read, key, i, w, k, n):
    """Record ``i`` of :func:`morris_round_add`: ``n > 0`` more of topic ``k`` in the head cell
    ``cells[0, w, k]`` (``n_k`` is the caller's)."""
    top = read.shape[0] - 1
    v = read[cells[0, w, k]] + n
    lo, hi = np.int64(cells[0, w, k]), np.int64(top)
    if read[hi] <= v:
        lo = hi
    while hi - lo > 1:  # the largest code whose read is <= v (read is increasing)
        mid = (lo + hi) // 2
        if read[mid] <= v:
            lo = mid
        else:
            hi = mid
    if lo >= top:
        cells[0, w, k] = top
        return
    p = (v - read[lo]) / (read[lo + 1] - read[lo])
    if uniform(key, np.uint64(i)) < p:
        lo += 1
    cells[0, w, k] = lo
