"""Count-min sketch of the word-topic counts with exact ``int32`` cells (``countmin``).

Cells are laid out ``[n_hashes, n_buckets, n_topics]``: the same ``n_hashes`` hash functions serve
every topic, so the estimate of word ``w`` for all ``K`` topics is the elementwise minimum of
``n_hashes`` contiguous K-vectors. Memory ``4 * n_hashes * n_buckets * n_topics`` bytes plus the
exact topic totals ``n_k`` (int64).

Guarantees (integer cells, non-negative counts):

* ``true <= estimate`` always; ``estimate <= true + (e / n_buckets) * n_k[k]`` with probability
  ``>= 1 - exp(-n_hashes)`` per query (:meth:`CountMinStats.error_bound`). Exact when the word
  has a collision-free row.
* ``merge`` is elementwise integer addition (``exact_merge``); without conservative update the
  sketch is linear, so the merge equals the sketch of the concatenated stream bit for bit.
* Cells saturate at ``2**31 - 1`` instead of wrapping; a cell can only get there if one topic
  receives more than 2**31 - 1 tokens in one sketch (an ``Allreduce(SUM)`` of such cells in the
  distributed layer would wrap, so keep per-iteration topic totals below that).

:class:`CountMinLayout` holds what the integer and the Morris sketches share: parameters,
hash functions, compatibility check and (de)serialization.
"""
from __future__ import annotations

import math
from typing import ClassVar

import numpy as np

from .._validation import check_int, check_power_of_two
from ..limits import (MAX_BUCKETS, MAX_CELL_BYTES, MAX_HASHES, MAX_SEED, MAX_TOPICS,
                      MAX_VOCAB_SKETCH, MIN_BUCKETS)
from ..exceptions import CorruptDataError, IncompatibleStatsError, InvalidParameterError
from . import register, serialization
from ._cm_kernels import (cm_add, cm_add_conservative, cm_estimate, first_bad_record,
                          mean_min_estimate, row_totals, saturating_add_into)
from .base import TopicWordStats
from .hashing import hash_params, seed_hash
from .suggest import suggest_n_buckets, suggest_n_hashes, suggest_sketch

ESTIMATORS = ("min", "mean-min")
_NO_READ = np.zeros(1, np.float64)


class CountMinLayout(TopicWordStats):
    """Shared part of the count-min backends: ``cells[r, b, k]`` of ``counter_dtype``."""

    counter_dtype: ClassVar[np.dtype] = np.dtype(np.int32)
    # DataSketches-style helpers, also available as functions in :mod:`.suggest`
    suggest_n_buckets = staticmethod(suggest_n_buckets)
    suggest_n_hashes = staticmethod(suggest_n_hashes)
    suggest_sketch = staticmethod(suggest_sketch)

    def __init__(self, n_topics: int, n_vocab: int, n_hashes: int, n_buckets: int, seed: int,
                 **extra):
        p = self._check_params(n_topics=n_topics, n_vocab=n_vocab, n_hashes=n_hashes,
                               n_buckets=n_buckets, seed=seed, **extra)
        super().__init__(p["n_topics"], p["n_vocab"], p["seed"])
        self.n_hashes = p["n_hashes"]
        self.n_buckets = p["n_buckets"]
        self._a, self._c = hash_params(self.seed, self.n_hashes)
        self._shift = np.uint64(64 - (self.n_buckets.bit_length() - 1))
        self.seed_hash = seed_hash(self.seed)
        for name in extra:  # backend-specific parameters become attributes of the same name
            setattr(self, name, p[name])
        self._cells = np.zeros((self.n_hashes, self.n_buckets, self.n_topics), self._dtype_for(p))
        self._totals = None  # (n_hashes, n_topics) row totals for the mean-min estimator

    # ----------------------------------------------------------------- estimators
    @classmethod
    def _check_estimator(cls, estimator, rule_is_conservative: bool) -> str:
        from .._validation import check_choice
        check_choice(estimator, "estimator", cls.__name__, ESTIMATORS)
        if estimator == "mean-min" and rule_is_conservative:
            raise InvalidParameterError(
                f"The 'estimator' parameter of {cls.__name__} must be 'min' with conservative "
                f"update. Got 'mean-min' (conservative cells undercount collisions, so the "
                f"mean-min noise correction does not apply).")
        return estimator

    def _estimator_param(self) -> dict:
        # The default is left out so that format-v1 files written before the estimator option
        # existed re-serialize to the same bytes (the golden files pin this).
        return {} if self.estimator == "min" else {"estimator": self.estimator}

    def cells_changed(self) -> None:
        """Forget values derived from the cells (call after writing :attr:`cells` in place)."""
        self._totals = None

    def _mean_min_into(self, words, out, read, use_read):
        if self._totals is None:
            self._totals = row_totals(self._cells, read, use_read)
        return mean_min_estimate(self._cells, read, use_read, self._totals, self._a, self._c,
                                 self._shift, words, out)

    def clear(self) -> None:
        super().clear()
        self.cells_changed()

    # ----------------------------------------------------------------- parameters
    @classmethod
    def _check_params(cls, *, n_topics, n_vocab, n_hashes, n_buckets, seed, **extra) -> dict:
        """Validate and normalise parameters without allocating. Returns the params dict."""
        owner = cls.__name__
        p = {
            "n_topics": check_int(n_topics, "n_topics", owner, lo=1, hi=MAX_TOPICS),
            "n_vocab": check_int(n_vocab, "n_vocab", owner, lo=1, hi=MAX_VOCAB_SKETCH),
            "n_hashes": check_int(n_hashes, "n_hashes", owner, lo=1, hi=MAX_HASHES),
            "n_buckets": check_power_of_two(n_buckets, "n_buckets", owner, lo=MIN_BUCKETS,
                                            hi=MAX_BUCKETS),
            "seed": check_int(seed, "seed", owner, lo=0, hi=MAX_SEED),
        }
        p.update(cls._check_extra(**extra))
        nbytes = (p["n_hashes"] * p["n_buckets"] * p["n_topics"]
                  * cls._dtype_for(p).itemsize)
        if nbytes > MAX_CELL_BYTES:
            raise InvalidParameterError(
                f"{owner} with n_hashes={p['n_hashes']}, n_buckets={p['n_buckets']}, "
                f"n_topics={p['n_topics']} needs {nbytes / 2**30:.0f} GiB of cells (limit "
                f"{MAX_CELL_BYTES // 2**30} GiB). Try reducing n_buckets or n_hashes.")
        return p

    @classmethod
    def check_params(cls, **params) -> dict:
        return cls._check_params(**params)

    @classmethod
    def _check_extra(cls, **extra) -> dict:
        """Validate backend-specific parameters (override)."""
        if extra:
            raise TypeError(f"{cls.__name__} got unexpected parameters: {sorted(extra)}.")
        return {}

    @classmethod
    def _dtype_for(cls, params: dict) -> np.dtype:
        return cls.counter_dtype

    def params(self) -> dict:
        return {"n_topics": self.n_topics, "n_vocab": self.n_vocab, "n_hashes": self.n_hashes,
                "n_buckets": self.n_buckets, "seed": self.seed}

    def check_compatible(self, other: TopicWordStats) -> None:
        """Raise :class:`IncompatibleStatsError` naming every differing field, seed_hash too."""
        name = type(self).__name__
        if type(other) is not type(self):
            raise IncompatibleStatsError(
                f"Cannot merge {name} with {type(other).__name__}: backends differ.")
        if other is self:
            raise IncompatibleStatsError(f"Cannot merge {name} with itself; merge a copy.")
        a = dict(self.params(), seed_hash=f"0x{self.seed_hash:016x}")
        b = dict(other.params(), seed_hash=f"0x{other.seed_hash:016x}")
        fmt = {"seed_hash": str}
        diffs = [f"{k} differ ({fmt.get(k, repr)(a.get(k))} vs {fmt.get(k, repr)(b.get(k))})"
                 for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
        if diffs:
            raise IncompatibleStatsError(f"Cannot merge {name}: " + "; ".join(diffs) + ".")

    def empty_like(self):
        return type(self)(**self.params())

    @property
    def cells(self) -> np.ndarray:
        """Counters, shape (n_hashes, n_buckets, n_topics)."""
        return self._cells

    def error_bound(self) -> np.ndarray:
        """Per-topic additive bound ``(e / n_buckets) * n_k``, float64 (n_topics,).

        For integer cells ``estimate <= true + bound[k]`` with probability
        :meth:`bound_confidence` per query; approximate counters add their own noise on top.
        """
        return (math.e / self.n_buckets) * self.n_k.astype(np.float64)

    def bound_confidence(self) -> float:
        """``1 - exp(-n_hashes)``: the per-query probability that :meth:`error_bound` holds."""
        return 1.0 - math.exp(-self.n_hashes)

    # ----------------------------------------------------------------- input checks
    def _records(self, words, topics, counts):
        """Records as contiguous int64 arrays, checked against the sketch's ranges."""
        w = np.ascontiguousarray(words, dtype=np.int64)
        t = np.ascontiguousarray(topics, dtype=np.int64)
        n = np.ascontiguousarray(counts, dtype=np.int64)
        if not (w.ndim == t.ndim == n.ndim == 1 and w.shape == t.shape == n.shape):
            raise ValueError(f"{type(self).__name__}.add needs words, topics and counts of one "
                             f"shape (n,). Got {w.shape}, {t.shape}, {n.shape}.")
        bad = first_bad_record(w, t, n, self.n_vocab, self.n_topics)
        if bad >= 0:
            raise ValueError(
                f"{type(self).__name__}.add: record {bad} (word={w[bad]}, topic={t[bad]}, "
                f"count={n[bad]}) is out of range; need 0 <= word < {self.n_vocab}, "
                f"0 <= topic < {self.n_topics}, count >= 0.")
        return w, t, n

    def _words(self, words):
        w = np.ascontiguousarray(words, dtype=np.int64)
        if w.size and (w.min() < 0 or w.max() >= self.n_vocab):
            raise ValueError(f"{type(self).__name__}.estimate: word ids must be in "
                             f"[0, {self.n_vocab}). Got range [{w.min()}, {w.max()}].")
        return w

    @staticmethod
    def _check_out(out, n, K):
        if (not isinstance(out, np.ndarray) or out.dtype != np.float64 or out.shape != (n, K)
                or not out.flags.c_contiguous):
            raise ValueError(f"estimate_into needs a C-contiguous float64 out of shape {(n, K)}.")

    # ----------------------------------------------------------------- persistence
    def serialize(self) -> bytes:
        """LDSK container (:mod:`~lda_sketch.stats.serialization`), arrays ``cells``, ``n_k``."""
        return serialization.pack(self.backend_id, self.params(), self.seed_hash,
                                  {"cells": self._cells, "n_k": self.n_k})

    @classmethod
    def deserialize(cls, data: bytes, *, seed: int | None = None):
        """Inverse of :meth:`serialize`. Recomputes the hash functions from the stored seed and
        checks the stored ``seed_hash`` against them; with ``seed`` given, also requires it to be
        the stored seed. Sizes are checked before anything is allocated. Raises
        :class:`CorruptDataError`.
        """
        _, params, stored_hash, arrays = serialization.unpack(data, expect_backend=cls.backend_id)
        name = cls.__name__
        try:
            if not isinstance(params, dict):
                raise TypeError("params is not an object")
            p = cls._check_params(**params)
        except (TypeError, ValueError) as exc:
            raise CorruptDataError(f"Serialized {name} has bad parameters: {exc}") from None
        if seed_hash(p["seed"]) != stored_hash:
            raise CorruptDataError(
                f"Serialized {name}: stored seed_hash 0x{stored_hash:016x} does not match the "
                f"hash functions of seed {p['seed']} (0x{seed_hash(p['seed']):016x}).")
        if seed is not None and int(seed) != p["seed"]:
            raise CorruptDataError(f"Serialized {name} was built with seed {p['seed']}, "
                                   f"not the expected seed {seed}.")
        shape = (p["n_hashes"], p["n_buckets"], p["n_topics"])
        dtype = cls._dtype_for(p)
        if set(arrays) != {"cells", "n_k"}:
            raise CorruptDataError(f"Serialized {name} must hold arrays 'cells' and 'n_k'. "
                                   f"Got {sorted(arrays)}.")
        cells, n_k = arrays["cells"], arrays["n_k"]
        if cells.shape != shape or cells.dtype != dtype:
            raise CorruptDataError(f"Serialized {name}: cells are {cells.dtype}{cells.shape}, "
                                   f"parameters need {dtype}{shape}.")
        if n_k.shape != (p["n_topics"],) or n_k.dtype != np.int64 or (n_k < 0).any():
            raise CorruptDataError(f"Serialized {name}: n_k must be non-negative int64 of shape "
                                   f"({p['n_topics']},).")
        obj = cls(**p)
        obj._cells = np.ascontiguousarray(cells)
        obj.n_k = np.ascontiguousarray(n_k)
        obj.cells_changed()
        obj._check_loaded()
        return obj

    def _check_loaded(self) -> None:
        """Backend-specific checks of loaded cells (override)."""


@register
class CountMinStats(CountMinLayout):
    """Count-min sketch with ``int32`` cells, optionally with conservative update.

    Parameters: ``n_topics``, ``n_vocab`` (word ids in ``[0, n_vocab)``, up to 2**32), ``n_hashes``
    (rows d, default 3), ``n_buckets`` (w, a power of two >= 16, default 2**15), ``seed`` (of the
    hash functions), ``conservative`` (weighted conservative update
    ``cell = max(cell, min_r cell_r + count)``: never underestimates, at most the plain estimate,
    but no longer linear: a merge sums cells, which never underestimates but differs from the
    sketch of the joint stream).
    """

    backend_id = "countmin"
    guarantees = frozenset({"never_underestimates", "exact_merge", "linear"})
    config_keys = ("n_hashes", "n_buckets", "conservative", "estimator")
    warmup_variants = ({"n_buckets": 16}, {"n_buckets": 16, "conservative": True},
                       {"n_buckets": 16, "estimator": "mean-min"})

    def __init__(self, n_topics: int, n_vocab: int, n_hashes: int = 3, n_buckets: int = 2**15,
                 seed: int = 0, conservative: bool = False, estimator: str = "min"):
        super().__init__(n_topics, n_vocab, n_hashes, n_buckets, seed, conservative=conservative,
                         estimator=estimator)
        if self.conservative:
            self.guarantees = frozenset({"never_underestimates", "exact_merge"})
        if self.estimator == "mean-min":  # it subtracts estimated noise: it can undercount
            self.guarantees = self.guarantees - {"never_underestimates"}
        self._add_kernel = cm_add_conservative if self.conservative else cm_add

    @classmethod
    def _check_extra(cls, *, conservative=False, estimator="min") -> dict:
        if not isinstance(conservative, (bool, np.bool_)):
            raise InvalidParameterError(
                f"The 'conservative' parameter of {cls.__name__} must be a bool. "
                f"Got {conservative!r}.")
        return {"conservative": bool(conservative),
                "estimator": cls._check_estimator(estimator, bool(conservative))}

    def params(self) -> dict:
        return dict(super().params(), conservative=self.conservative, **self._estimator_param())

    def add(self, words, topics, counts, *, key=0) -> None:
        """Add ``counts[i]`` to ``(words[i], topics[i])``; exact, ``key`` unused."""
        w, t, n = self._records(words, topics, counts)
        self._add_kernel(self._cells, self.n_k, self._a, self._c, self._shift, w, t, n)
        self.cells_changed()

    def estimate_into(self, words, out):
        """Estimates into ``out`` (n, K): the min over rows (``estimator="min"``, never below the
        true count) or the count-mean-min estimate (``"mean-min"``, nearly unbiased)."""
        w = self._words(words)
        self._check_out(out, w.shape[0], self.n_topics)
        if self.estimator == "mean-min":
            return self._mean_min_into(w, out, _NO_READ, False)
        return cm_estimate(self._cells, self._a, self._c, self._shift, w, out)

    def fold_cells(self, dst, src, *, key, cell_offset: int) -> None:
        """Saturating integer addition of a flat cell slice (``key`` unused)."""
        saturating_add_into(dst, src)
        self.cells_changed()

    def merge(self, other, *, key=0) -> None:
        """Elementwise saturating sum of cells and ``n_k``. Exact, commutative, associative."""
        self.check_compatible(other)
        saturating_add_into(self._cells.reshape(-1), other._cells.reshape(-1))
        self.n_k += other.n_k
        self.cells_changed()

    def _check_loaded(self) -> None:
        if (self._cells < 0).any():
            raise CorruptDataError("Serialized CountMinStats holds negative cells.")
