"""Counter-based random numbers: every draw is a pure function of ``(seed, stream, iteration, index)``.

Nothing here has state. A *key* is a ``uint64`` made from ``(seed, stream, iteration)`` by
:func:`make_key`; :func:`derive` extends a key by one more coordinate (a cell, a token, a
sub-draw number); :func:`uniform` turns ``(key, index)`` into a float64 in ``[0, 1)``.
The mixing function is the SplitMix64 finaliser (Steele, Lea & Flood 2014), applied twice
per draw so that nearby keys and nearby indices give unrelated outputs.

Because draws do not depend on the order in which they are made, results are identical for
any number of threads or ranks (the reproducibility contract in the README).

All arithmetic is ``uint64`` with explicit ``np.uint64`` constants: numba promotes a mix of
``uint64`` and plain int literals to float64, which would silently break the hash.
"""
from __future__ import annotations

import numpy as np
from numba import njit

# Stream identifiers: one per kind of randomness, so no two uses ever share draws.
STREAM_INIT = 1  # initial topic assignment
STREAM_SAMPLER = 2  # SCA / SEM token draws
STREAM_COUNTER = 3  # approximate-counter increments
STREAM_MERGE = 4  # approximate-counter merges
STREAM_HASH = 5  # count-min hash-function parameters
STREAM_SPLIT = 6  # random corpus splits

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_INV53 = 1.0 / 9007199254740992.0  # 2**-53


@njit(cache=True, inline="always")
def mix64(x):
    """SplitMix64 output function of ``x + golden``: a bijection on uint64."""
    z = np.uint64(x) + _GOLDEN
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@njit(cache=True, inline="always")
def derive(key, x):
    """Key for coordinate ``x`` under ``key`` (uint64, uint64 -> uint64)."""
    return mix64(np.uint64(key) ^ mix64(np.uint64(x)))


@njit(cache=True)
def make_key(seed, stream, iteration):
    """Key of ``(seed, stream, iteration)``; all three are non-negative ints < 2**63."""
    return derive(derive(mix64(np.uint64(seed)), np.uint64(stream)), np.uint64(iteration))


@njit(cache=True, inline="always")
def bits(key, index):
    """64 random bits for draw ``index`` under ``key``."""
    return derive(key, np.uint64(index))


@njit(cache=True, inline="always")
def to_uniform(b):
    """The float64 uniform on ``[0, 1)`` made of the top 53 of the 64 bits ``b``."""
    return float(np.uint64(b) >> _S11) * _INV53


@njit(cache=True, inline="always")
def uniform(key, index):
    """A float64 uniform on ``[0, 1)`` (53 random bits) for draw ``index`` under ``key``."""
    return to_uniform(bits(key, index))


@njit(cache=True, inline="always")
def substream_bits(b, j):
    """Draw ``j >= 1`` of the SplitMix64 sequence seeded by the 64 bits ``b``: ``mix64(b + j g)``
    (``g`` the golden-ratio increment).

    A token whose draw may need several uniforms takes ``b = bits(key, index)`` as its first and
    ``substream_bits(b, j)`` as its ``j``-th: one mix per extra draw, still a pure function of
    ``(key, index, j)``.
    """
    return mix64(np.uint64(b) + np.uint64(j) * _GOLDEN)


@njit(cache=True)
def uniforms(key, start, n):
    """Array of ``n`` uniforms for indices ``start .. start+n-1`` under ``key``. Shape (n,)."""
    out = np.empty(n, np.float64)
    for i in range(n):
        out[i] = uniform(key, np.uint64(start + i))
    return out


def key_for(seed: int, stream: int, iteration: int = 0) -> np.uint64:
    """Python-side :func:`make_key` with argument checks."""
    for name, v in (("seed", seed), ("stream", stream), ("iteration", iteration)):
        if not (0 <= int(v) < 2**63):
            raise ValueError(f"The '{name}' of an RNG key must be an int in [0, 2**63). Got {v!r}.")
    return np.uint64(make_key(np.uint64(seed), np.uint64(stream), np.uint64(iteration)))
