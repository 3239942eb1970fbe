"""Dense exact backend: ``int32`` counts of shape (n_vocab, n_topics). The oracle (paper: SSCA)."""
from __future__ import annotations

import numpy as np

from .._validation import check_int
from ..limits import MAX_SEED, MAX_TOPICS, MAX_VOCAB_DENSE
from ..exceptions import CorruptDataError
from . import register, serialization
from ._dense_kernels import dense_add, dense_estimate, dense_merge_saturating
from .base import TopicWordStats


@register
class DenseStats(TopicWordStats):
    """Exact word-topic counts. Memory ``4 * n_vocab * n_topics`` bytes."""

    backend_id = "dense"
    guarantees = frozenset({"exact", "never_underestimates", "exact_merge"})

    def __init__(self, n_topics: int, n_vocab: int, seed: int = 0):
        self.check_params(n_topics=n_topics, n_vocab=n_vocab, seed=seed)
        super().__init__(n_topics, n_vocab, seed)
        self._cells = np.zeros((self.n_vocab, self.n_topics), np.int32)

    @classmethod
    def check_params(cls, *, n_topics, n_vocab, seed=0) -> dict:
        owner = cls.__name__
        return {"n_topics": check_int(n_topics, "n_topics", owner, lo=1, hi=MAX_TOPICS),
                "n_vocab": check_int(n_vocab, "n_vocab", owner, lo=1, hi=MAX_VOCAB_DENSE),
                "seed": check_int(seed, "seed", owner, lo=0, hi=MAX_SEED)}

    @classmethod
    def nbytes_for(cls, **params) -> int:
        p = cls.check_params(**params)
        return 4 * p["n_vocab"] * p["n_topics"] + 8 * p["n_topics"]

    def empty_like(self) -> "DenseStats":
        return DenseStats(self.n_topics, self.n_vocab, self.seed)

    def params(self) -> dict:
        return {"n_topics": self.n_topics, "n_vocab": self.n_vocab, "seed": self.seed}

    @property
    def cells(self) -> np.ndarray:
        return self._cells

    def add(self, words, topics, counts, *, key=0) -> None:
        words, topics = np.asarray(words, np.int64), np.asarray(topics, np.int64)
        counts = np.asarray(counts, np.int64)
        if not words.shape == topics.shape == counts.shape:
            raise ValueError(f"words, topics and counts must have one shape; got {words.shape}, "
                             f"{topics.shape}, {counts.shape}.")
        if words.size:
            if words.min() < 0 or words.max() >= self.n_vocab:
                raise ValueError(f"word ids must lie in [0, {self.n_vocab}); got "
                                 f"[{words.min()}, {words.max()}].")
            if topics.min() < 0 or topics.max() >= self.n_topics:
                raise ValueError(f"topic ids must lie in [0, {self.n_topics}); got "
                                 f"[{topics.min()}, {topics.max()}].")
            if counts.min() < 0:
                raise ValueError("counts must be >= 0.")
        dense_add(self._cells, self.n_k, words, topics, counts)

    def estimate_into(self, words, out):
        return dense_estimate(self._cells, np.asarray(words, np.int64), out)

    def estimate_column_sums(self, chunk: int = 65536) -> np.ndarray:
        return self._cells.sum(axis=0, dtype=np.int64).astype(np.float64)

    def merge(self, other, *, key=0) -> None:
        self.check_compatible(other)
        dense_merge_saturating(self._cells, other._cells)
        self.n_k += other.n_k

    def serialize(self) -> bytes:
        return self.packed().to_bytearray()

    def packed(self) -> serialization.Packed:
        return serialization.packed(self.backend_id, self.params(), 0,
                                    {"cells": self._cells, "n_k": self.n_k})

    deserializes_in_place = True

    @classmethod
    def deserialize(cls, data: bytes, *, copy: bool = True) -> "DenseStats":
        """Inverse of :meth:`serialize`; ``copy=False`` keeps the cells as a view into ``data``
        (which the caller hands over: no second V x K copy while loading a checkpoint)."""
        _, params, _, arrays = serialization.unpack(data, expect_backend=cls.backend_id,
                                                    copy=copy)
        try:  # parameters and shapes are checked before the V x K array is allocated
            p = cls.check_params(**params)
            cells, n_k = arrays["cells"], arrays["n_k"]
        except (TypeError, KeyError, ValueError) as exc:
            raise CorruptDataError(f"Bad dense statistics: {exc}.") from None
        if (cells.shape != (p["n_vocab"], p["n_topics"]) or cells.dtype != np.int32
                or n_k.shape != (p["n_topics"],) or n_k.dtype != np.int64):
            raise CorruptDataError("Dense statistics arrays do not match their parameters.")
        # min() reduces without the V x K boolean temporary that (cells < 0).any() makes
        if (cells.size and int(cells.min()) < 0) or (n_k < 0).any():
            raise CorruptDataError("Dense statistics hold negative counts.")
        obj = cls(**p)  # its zeros are replaced, never touched
        obj._cells = np.ascontiguousarray(cells)  # unpack's copy, or the caller's buffer
        obj.n_k = np.ascontiguousarray(n_k)
        return obj
