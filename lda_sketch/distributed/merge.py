"""Per-iteration merge of the ranks' word-topic statistics (DESIGN §3, Merging).

Two strategies, chosen by the backend's declared capability (never by its name):

* ``exact_merge`` backends (dense, integer count-min): ``Allreduce(SUM)`` of the cells — exact,
  so every rank holds the same bytes and the result does not depend on the number of ranks.
* randomized cells (Morris): **owner computes**. The flat cell array is cut into ``P`` contiguous
  slices; rank ``q`` receives slice ``q`` from every rank (``Alltoallv``), folds the ``P`` copies
  in rank order with :meth:`TopicWordStats.fold_cells` keyed by ``derive(key, r)`` and the global
  cell index, and the merged slices are ``Allgatherv``-ed. Every rank then holds byte-identical
  cells; about ``2·(P−1)/P`` of the cell bytes leave each rank, as in a ring allreduce.

Both go through the cells in rounds of :data:`ROUND_BYTES` (in place), so the merge's buffers
are bounded by a round, not by the statistics (the result is the same for any round size).

Topic totals ``n_k`` are always summed exactly (int64 ``Allreduce``); the backend's
``or_arrays()`` (e.g. a topic-support bitmap) are combined by bitwise OR and its ``sum_arrays()``
(per-word totals) by integer summation, both exact and order-free, so they too are
byte-identical on every rank for every rank count.
"""
from __future__ import annotations

import numpy as np

from .. import rng
from .comm import Comm


def slice_counts(n_cells: int, size: int) -> np.ndarray:
    """Cells owned by each rank: contiguous, sizes differing by at most one. int64 (size,)."""
    base, extra = divmod(int(n_cells), size)
    return np.array([base + (r < extra) for r in range(size)], np.int64)


#: Bytes of cells exchanged per round of a merge: the cells go through in rounds of at most
#: this much, so the receive buffer of the owner-computes merge (and any reduction buffer the
#: MPI library allocates) stays this size, not the size of the statistics. Every cell is
#: combined exactly as in one round (keyed by its global index), so results do not change.
ROUND_BYTES = 64 << 20


def fold_slices(stats, slices: np.ndarray, *, key, cell_offset: int) -> np.ndarray:
    """Fold ``slices`` (P, n) of one cell range in rank order, into ``slices[0]`` (the caller's
    receive buffer: no copy). Returns the merged (n,) slice."""
    merged = slices[0]
    for r in range(1, slices.shape[0]):
        stats.fold_cells(merged, slices[r], key=rng.derive(np.uint64(key), np.uint64(r)),
                         cell_offset=cell_offset)
    return merged


def merge_stats(stats, comm: Comm, *, key) -> dict:
    """Combine every rank's ``stats`` in place so all ranks hold the identical merged statistics.

    ``key`` (uint64) keys the randomness of approximate-counter merges. Returns
    ``{"bytes_sent": int}``: payload bytes this rank sent for the cells and totals.
    """
    P = comm.size
    if P == 1:
        return {"bytes_sent": 0}
    comm.allreduce_sum(stats.n_k)
    ring = 2 * (P - 1) / P
    or_bytes = 0
    for arr in stats.or_arrays():
        comm.allreduce_or(arr.reshape(-1))
        or_bytes += arr.nbytes
    for arr in stats.sum_arrays():
        comm.allreduce_sum(arr.reshape(-1))
        or_bytes += arr.nbytes
    cells = stats.cells
    flat = cells.reshape(-1)
    step = max(P, ROUND_BYTES // max(flat.itemsize, 1))
    exact = "exact_merge" in stats.guarantees
    for lo in range(0, flat.shape[0], step):
        part = flat[lo:lo + step]  # a view: merged in place
        if exact:
            comm.allreduce_sum(part)
            continue
        counts = slice_counts(part.shape[0], P)
        mine = comm.alltoallv(part, counts)
        merged = fold_slices(stats, mine, key=key,
                             cell_offset=lo + int(counts[: comm.rank].sum()))
        comm.allgatherv(merged, counts, part)
    stats.cells_changed()
    return {"bytes_sent": int(ring * (cells.nbytes + stats.n_k.nbytes + or_bytes))}
