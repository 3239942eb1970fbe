"""Dense exact backend: ``int32`` counts of shape (n_vocab, n_topics). The oracle (paper: SSCA)."""
from __future__ import annotations

import numpy as np

from .._validation import check_int
from ..exceptions import CorruptDataError
from . import register, serialization
from ._dense_kernels import dense_add, dense_estimate
from .base import TopicWordStats


@register
class DenseStats(TopicWordStats):
    """Exact word-topic counts. Memory ``4 * n_vocab * n_topics`` bytes."""

    backend_id = "dense"
    guarantees = frozenset({"exact", "never_underestimates", "exact_merge"})

    def __init__(self, n_topics: int, n_vocab: int, seed: int = 0):
        owner = type(self).__name__
        check_int(n_topics, "n_topics", owner, lo=1, hi=65535)
        check_int(n_vocab, "n_vocab", owner, lo=1, hi=2**31 - 1)
        check_int(seed, "seed", owner, lo=0, hi=2**63 - 1)
        super().__init__(n_topics, n_vocab, seed)
        self._cells = np.zeros((self.n_vocab, self.n_topics), np.int32)

    def empty_like(self) -> "DenseStats":
        return DenseStats(self.n_topics, self.n_vocab, self.seed)

    def params(self) -> dict:
        return {"n_topics": self.n_topics, "n_vocab": self.n_vocab, "seed": self.seed}

    @property
    def cells(self) -> np.ndarray:
        return self._cells

    def add(self, words, topics, counts, *, key=0) -> None:
        dense_add(self._cells, self.n_k, np.asarray(words, np.int64), np.asarray(topics, np.int64),
                  np.asarray(counts, np.int64))

    def estimate_into(self, words, out):
        return dense_estimate(self._cells, np.asarray(words, np.int64), out)

    def estimate_column_sums(self, chunk: int = 65536) -> np.ndarray:
        return self._cells.sum(axis=0, dtype=np.int64).astype(np.float64)

    def merge(self, other, *, key=0) -> None:
        self.check_compatible(other)
        self._cells += other._cells
        self.n_k += other.n_k

    def serialize(self) -> bytes:
        return serialization.pack(self.backend_id, self.params(), 0,
                                  {"cells": self._cells, "n_k": self.n_k})

    @classmethod
    def deserialize(cls, data: bytes) -> "DenseStats":
        _, params, _, arrays = serialization.unpack(data, expect_backend=cls.backend_id)
        try:
            obj = cls(**params)
            cells, n_k = arrays["cells"], arrays["n_k"]
        except (TypeError, KeyError, ValueError) as exc:
            raise CorruptDataError(f"Bad dense statistics: {exc}.") from None
        if cells.shape != obj._cells.shape or cells.dtype != np.int32 or n_k.shape != obj.n_k.shape:
            raise CorruptDataError("Dense statistics arrays do not match their parameters.")
        obj._cells[...] = cells
        obj.n_k[:] = n_k
        return obj
