"""Hyperparameter optimisation: the symmetric doc-topic prior alpha by Minka's fixed point.

For a symmetric Dirichlet(alpha) over K topics and documents with topic counts ``n_dk``
(``n_d = sum_k n_dk``), the fixed point of the Dirichlet-multinomial likelihood is (Minka 2000,
"Estimating a Dirichlet distribution", eq. 55 with all parameters equal)::

    alpha <- alpha * sum_d sum_k [psi(n_dk + alpha) - psi(alpha)]
                   / (K * sum_d [psi(n_d + K alpha) - psi(K alpha)])

Both sums depend on the counts only through two integer histograms (Wallach's trick, as in
Mallet's ``--optimize-interval``): ``cells[c]``, the (d, k) cells with ``n_dk = c``, and
``lengths[c]``, the documents of length ``c``. The digamma differences are accumulated by
``psi(x + 1) = psi(x) + 1/x`` over ``c``. A rank histograms its shard (:func:`shard_histograms`);
the engine sums the int64 histograms across ranks, exactly, and every rank then runs
:func:`optimize_symmetric_alpha` on the same integers in the same order: the same alpha, bit for
bit, on every rank and for any sharding.
"""
from __future__ import annotations

import math

import numpy as np

from ._kernels import dirichlet_digamma_sums, doc_topic_histograms

#: Fixed-point steps per update at most, and the relative change that ends an update earlier.
MAX_STEPS = 20
TOLERANCE = 1e-5


def shard_histograms(state, size: int) -> np.ndarray:
    """int64 ``(2, size)``: row 0 the shard's ``n_dk`` histogram, row 1 its document-length
    histogram (index ``c`` = count ``c``; ``size`` must exceed the longest document)."""
    out = np.zeros((2, int(size)), np.int64)
    if state.n_docs:
        if int(state.doc_len.max()) >= size:
            raise ValueError(f"a document of {int(state.doc_len.max())} tokens does not fit a "
                             f"histogram of size {size}")
        doc_topic_histograms(state.dk_ptr, state.dk_len, state.dk_count, state.doc_len, out[0],
                             out[1])
    return out


def fixed_point_step(alpha: float, n_topics: int, cells: np.ndarray,
                     lengths: np.ndarray) -> float:
    """One step of Minka's fixed point from the histograms (returns ``alpha`` unchanged when
    there is nothing to learn from: no tokens)."""
    cells = np.ascontiguousarray(cells, np.int64)
    lengths = np.ascontiguousarray(lengths, np.int64)
    num = dirichlet_digamma_sums(float(alpha), cells)
    den = n_topics * dirichlet_digamma_sums(n_topics * float(alpha), lengths)
    if not (num > 0.0 and den > 0.0):
        return float(alpha)
    return float(alpha) * num / den


def optimize_symmetric_alpha(alpha: float, n_topics: int, cells: np.ndarray,
                             lengths: np.ndarray, *, max_steps: int = MAX_STEPS,
                             tol: float = TOLERANCE) -> float:
    """Iterate :func:`fixed_point_step` from ``alpha`` up to ``max_steps`` times, stopping once
    the relative change is below ``tol``. The histograms are trimmed to their last nonzero
    entry first (the sums do not change). A non-finite or non-positive step keeps the last
    good value."""
    cells = _trim(cells)
    lengths = _trim(lengths)
    a = float(alpha)
    for _ in range(int(max_steps)):
        new = fixed_point_step(a, n_topics, cells, lengths)
        if not (math.isfinite(new) and new > 0.0):
            break
        change = abs(new - a) / a
        a = new
        if change < tol:
            break
    return a


class AlphaSchedule:
    """``[model] optimize_alpha_every`` / ``optimize_alpha_burnin`` of one engine: an update
    ends every iteration ``t >= burnin`` with ``t % every == 0`` (never when ``every`` is 0)."""

    def __init__(self, every: int, burnin: int):
        self.every = int(every)
        self.burnin = int(burnin)
        self._size = None  # 1 + the longest document of any rank, found at the first update

    @property
    def enabled(self) -> bool:
        return self.every > 0

    def due(self, iteration: int) -> bool:
        return self.enabled and iteration >= self.burnin and iteration % self.every == 0

    def update(self, alpha: float, state, comm) -> float:
        """Collective over ``comm`` (``allreduce_max``, ``allreduce_sum``): the new alpha from
        this rank's ``state`` (a :class:`~.state.ShardState`) and the other ranks'. Every rank
        gets the same bits."""
        if self._size is None:
            longest = int(state.doc_len.max()) if state.n_docs else 0
            self._size = int(comm.allreduce_max(longest)) + 1
        hist = comm.allreduce_sum(shard_histograms(state, self._size))
        return optimize_symmetric_alpha(alpha, state.n_topics, hist[0], hist[1])


def _trim(hist) -> np.ndarray:
    hist = np.ascontiguousarray(hist, np.int64)
    nz = np.flatnonzero(hist)
    return hist[: int(nz[-1]) + 1] if nz.size else hist[:1]


__all__ = ["AlphaSchedule", "MAX_STEPS", "TOLERANCE", "fixed_point_step",
           "optimize_symmetric_alpha", "shard_histograms"]
