"""The count-min layout shared by the integer and the Morris sketches.

:class:`CountMinLayout` holds cells ``[n_hashes, n_buckets, n_topics]`` (the same ``n_hashes``
hash functions serve every topic, so a word's K estimates are the elementwise minimum of
``n_hashes`` contiguous K-vectors), the parameters and their checks, the hash functions, the
compatibility check, (de)serialization, and the optional exact parts beside the cells: the topic
support (:mod:`.support`, ``support = "exact"``) and the per-word totals (``rescale = True``).
``head_words = H`` gives the H most frequent words one collision-free counter per (word, topic),
so the heaviest words neither collide nor pollute the hashed cells; :mod:`.head` says which words
those are (the id prefix until :meth:`CountMinLayout.adapt` sees the corpus's word counts).
Subclasses supply their cells' kernels, called from here and never calling back: ``_add_into``
(records into given cells and hash), ``_add_runs_into`` (the fused build, hashed and head cells),
``_estimate_cells`` (the min over rows of given cells and hash: the head is cells with the
identity hash), ``_mean_min_read``, ``fold_cells`` and ``merge``; and their parameters'
checks, ``_check_extra`` and ``_conservative_rule``. Input checks live in :mod:`._cm_inputs`.
"""
from __future__ import annotations

import math
from typing import ClassVar

import numpy as np

from .._validation import check_choice, check_int, check_power_of_two, param_error
from ..limits import (MAX_BUCKETS, MAX_CELL_BYTES, MAX_HASHES, MAX_SEED, MAX_TOPICS,
                      MAX_VOCAB_SKETCH, MIN_BUCKETS)
from ..exceptions import IncompatibleStatsError, InvalidParameterError
from .. import rng
from . import countmin_io
from . import _cm_inputs as _inputs
from ._cm_kernels import mean_min_estimate, row_totals
from .base import TopicWordStats
from .budget import PLAIN
from ._hash_kernels import hash_params, seed_hash
from .head import WordHead
from .support import SUPPORTS, WordTotals
from .suggest import suggest_n_buckets, suggest_n_hashes, suggest_sketch

ESTIMATORS = ("min", "mean-min")


# The head's "hash": bucket = word id (a = 1, c = 0, no shift), one row.
_ID_A = np.ones(1, np.uint64)
_ID_C = np.zeros(1, np.uint64)
_ID_SHIFT = np.uint64(0)
_NO_IDS = np.zeros(0, np.uint32)  # the head's ids when it is the id prefix
_NO_BITS = np.zeros((0, 1), np.uint8)  # no support bitmap for a fused build to set


class CountMinLayout(TopicWordStats):
    """Shared part of the count-min backends: ``cells[r, b, k]`` of ``counter_dtype``."""

    counter_dtype: ClassVar[np.dtype] = np.dtype(np.int32)
    # DataSketches-style helpers, also available as functions in :mod:`.suggest`
    suggest_n_buckets = staticmethod(suggest_n_buckets)
    suggest_n_hashes = staticmethod(suggest_n_hashes)
    suggest_sketch = staticmethod(suggest_sketch)

    def __init__(self, n_topics: int, n_vocab: int, n_hashes: int, n_buckets: int, seed: int,
                 support: str = "none", rescale: bool = False, head_words: int = 0, **extra):
        p = self._check_params(n_topics=n_topics, n_vocab=n_vocab, n_hashes=n_hashes,
                               n_buckets=n_buckets, seed=seed, support=support, rescale=rescale,
                               head_words=head_words, **extra)
        super().__init__(p["n_topics"], p["n_vocab"], p["seed"])
        self.n_hashes = p["n_hashes"]
        self.n_buckets = p["n_buckets"]
        self._a, self._c = hash_params(self.seed, self.n_hashes)
        self._shift = np.uint64(64 - (self.n_buckets.bit_length() - 1))
        self.seed_hash = seed_hash(self.seed)
        for name in extra:  # backend-specific parameters become attributes of the same name
            setattr(self, name, p[name])
        # One flat storage: the hashed cells, then the head's collision-free cells (word ids
        # below head_words, one counter per (word, topic)). Merges and folds see it whole.
        self.head_words = p["head_words"]
        n_hashed = self.n_hashes * self.n_buckets * self.n_topics
        self._storage = np.zeros(n_hashed + self.head_words * self.n_topics, self._dtype_for(p))
        self._cells = self._storage[:n_hashed].reshape(self.n_hashes, self.n_buckets,
                                                       self.n_topics)
        self._head_cells = self._storage[n_hashed:].reshape(1, self.head_words, self.n_topics)
        self._head_index = WordHead(self.head_words, self.n_vocab)  # which words own the head
        self._totals = None  # (n_hashes, n_topics) row totals for the mean-min estimator
        self.support = p["support"]
        kind = SUPPORTS[self.support]
        self._support = kind(self.n_vocab, self.n_topics) if kind is not None else None
        self.rescale = p["rescale"]
        self._word_totals = WordTotals(self.n_vocab) if self.rescale else None

    # ----------------------------------------------------------------- estimators
    @classmethod
    def _check_estimator(cls, estimator, rule_is_conservative: bool) -> str:
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

    def _estimate_rows(self, w, out):
        """The hashed words' estimates: the min over rows (``estimator="min"``, never below the
        true count) or count-mean-min (``"mean-min"``, nearly unbiased)."""
        if self.estimator == "mean-min":
            return self._mean_min_into(w, out, *self._mean_min_read())
        return self._estimate_cells(self._cells, self._a, self._c, self._shift, w, out)

    def _mean_min_into(self, words, out, read, use_read):
        if self._totals is None:
            self._totals = row_totals(self._cells, read, use_read)
        return mean_min_estimate(self._cells, read, use_read, self._totals, self._a, self._c,
                                 self._shift, words, out)

    def clear(self) -> None:
        super().clear()
        for part in (self._support, self._word_totals):
            if part is not None:
                part.clear()
        self.cells_changed()

    # ----------------------------------------------------------------- updates and queries
    def add(self, words, topics, counts, *, key=0) -> None:
        """Add ``counts[i]`` of ``(words[i], topics[i])`` to the cells (and mark the support)."""
        w, t, n = _inputs.records(type(self).__name__, words, topics, counts, self.n_vocab,
                                  self.n_topics)
        if self.head_words:
            h, slots = self._head_index.split(w)
            self._add_head(slots, t[h], n[h], np.uint64(rng.derive(np.uint64(key), np.uint64(1))))
            self._add_into(self._cells, self._a, self._c, self._shift, w[~h], t[~h], n[~h],
                           np.uint64(key))
        else:
            self._add_into(self._cells, self._a, self._c, self._shift, w, t, n, np.uint64(key))
        if self._support is not None:
            self._support.add(w, t, n)
        if self._word_totals is not None:
            self._word_totals.add(w, n)
        self.cells_changed()

    def add_runs(self, words, tok_ptr, z, *, key=0):
        """Fused build (:meth:`TopicWordStats.add_runs`): the cells, the head, the support and
        the word totals straight from the topic runs, the bytes of :meth:`add` of the records
        (the head's records keyed by ``derive(key, 1)`` and numbered apart, as there)."""
        w, p, zz = _inputs.runs(type(self).__name__, words, tok_ptr, z, self.n_vocab)
        before = self.n_k.copy()
        ids = self._head_index.ids
        bad = self._add_runs_into(w, p, zz, np.uint64(key), _NO_IDS if ids is None else ids,
                                  np.uint64(rng.derive(np.uint64(key), np.uint64(1))),
                                  self._fused_support())
        self.cells_changed()
        if bad >= 0:
            raise ValueError(f"{type(self).__name__}.add_runs: z[{bad}] = {int(zz[bad])} is not "
                             f"a topic in [0, {self.n_topics}); the cells are partly updated.")
        if self._support is not None and self._fused_support() is _NO_BITS:
            self._support.add_runs(w, p, zz)
        if self._word_totals is not None:  # a word's records sum to its run's length
            self._word_totals.add(w, np.diff(p))
        return self.n_k - before

    #: Whether ``_add_runs_into`` sets the exact support's bits itself (one pass over z).
    fuses_support: ClassVar[bool] = False

    def _fused_support(self) -> np.ndarray:
        """The support bitmap a fused build sets, or ``_NO_BITS`` (then :meth:`add_runs` sets
        it in a pass of its own)."""
        if self.fuses_support and self._support is not None and self._support.name == "exact":
            return self._support.bits
        return _NO_BITS

    def estimate_into(self, words, out):
        """Estimates into ``out`` (n, K): the backend's query, 0 off the support (if any)."""
        w = _inputs.word_ids(type(self).__name__, words, self.n_vocab)
        _inputs.check_out(out, w.shape[0], self.n_topics)
        h, slots = self._head_index.split(w) if self.head_words else (None, None)
        if h is None or not h.any():
            self._estimate_rows(w, out)
        elif h.all():
            self._estimate_cells(self._head_cells, _ID_A, _ID_C, _ID_SHIFT, slots, out)
        else:  # a chunk of head and hashed words: estimate both parts, then scatter
            head = np.empty((int(h.sum()), self.n_topics), np.float64)
            tail = np.empty((w.shape[0] - head.shape[0], self.n_topics), np.float64)
            self._estimate_cells(self._head_cells, _ID_A, _ID_C, _ID_SHIFT, slots, head)
            self._estimate_rows(w[~h], tail)
            out[h], out[~h] = head, tail
        if self._support is not None:
            self._support.mask(w, out)
        if self._word_totals is not None:
            self._word_totals.rescale(w, out)
        return out

    def adapt(self, word_counts) -> None:
        """Give the head to the ``head_words`` most frequent words of ``word_counts`` (int
        (n_vocab,), the global training counts) and build the word filter, if any. Call before
        the first :meth:`add`."""
        if self.head_words:
            self._head_index.choose(word_counts)
        if self._support is not None:
            self._support.adapt(word_counts)

    def _add_head(self, w, t, n, key) -> None:
        """Add records of head words (``w``: head slots) to their collision-free cells
        (override to encode)."""
        self._add_into(self._head_cells, _ID_A, _ID_C, _ID_SHIFT, w, t, n, key)

    def _merge_support(self, other) -> None:
        if self._support is not None:
            self._support.merge(other._support)
        if self._word_totals is not None:
            self._word_totals.merge(other._word_totals)

    def or_arrays(self) -> list:
        return list(self._support.arrays().values()) if self._support is not None else []

    def sum_arrays(self) -> list:
        return [self._word_totals.totals] if self._word_totals is not None else []

    def _support_guarantees(self, guarantees: frozenset) -> frozenset:
        """``guarantees`` as changed by the support (exact zeros) and the rescale (estimates may
        fall below the count, in expectation too)."""
        if self.support == "exact":  # the word filter zeroes only words without tokens
            guarantees = guarantees | {"exact_zeros"}
        if self._word_totals is not None:
            guarantees = guarantees - {"never_underestimates", "mean_overestimates"}
        return guarantees

    @property
    def nbytes(self) -> int:
        """Bytes of the cells, the exact topic totals, the support, the word totals and the
        head's word ids (none for a frequency-ordered vocabulary)."""
        extra = sum(x.nbytes for x in (self._support, self._word_totals, self._head_index)
                    if x is not None)
        return int(self._storage.nbytes + self.n_k.nbytes + extra)

    # ----------------------------------------------------------------- parameters
    @classmethod
    def _check_params(cls, *, n_topics, n_vocab, n_hashes, n_buckets, seed, support="none",
                      rescale=False, head_words=0, estimator=PLAIN["estimator"], **extra) -> dict:
        """Validate and normalise parameters without allocating. Returns the params dict."""
        owner = cls.__name__
        p = {
            "n_topics": check_int(n_topics, "n_topics", owner, lo=1, hi=MAX_TOPICS),
            "n_vocab": check_int(n_vocab, "n_vocab", owner, lo=1, hi=MAX_VOCAB_SKETCH),
            "n_hashes": check_int(n_hashes, "n_hashes", owner, lo=1, hi=MAX_HASHES),
            "n_buckets": check_power_of_two(n_buckets, "n_buckets", owner, lo=MIN_BUCKETS,
                                            hi=MAX_BUCKETS),
            "seed": check_int(seed, "seed", owner, lo=0, hi=MAX_SEED),
            "support": check_choice(support, "support", owner, tuple(SUPPORTS)),
        }
        if not isinstance(rescale, (bool, np.bool_)):
            raise param_error("rescale", owner, "a bool", rescale)
        p["rescale"] = bool(rescale)
        # A head larger than the vocabulary is the whole vocabulary.
        p["head_words"] = min(check_int(head_words, "head_words", owner, lo=0,
                                        hi=MAX_VOCAB_SKETCH), p["n_vocab"])
        p.update(cls._check_extra(**extra))
        p["estimator"] = cls._check_estimator(estimator, cls._conservative_rule(p))
        nbytes = (p["n_hashes"] * p["n_buckets"] * p["n_topics"]
                  * cls._dtype_for(p).itemsize)
        if nbytes > MAX_CELL_BYTES:
            raise InvalidParameterError(
                f"{owner} with n_hashes={p['n_hashes']}, n_buckets={p['n_buckets']}, "
                f"n_topics={p['n_topics']} needs {nbytes / 2**30:.0f} GiB of cells (limit "
                f"{MAX_CELL_BYTES // 2**30} GiB). Try reducing n_buckets or n_hashes.")
        return p

    @classmethod
    def variant_label(cls, section) -> str:
        return cls._rule_label(section) + cls._layout_label(section)

    @classmethod
    def _layout_label(cls, section) -> str:
        """The parts beside the hashed rows, when set: `` + head H + exact support + rescale``
        and a non-default estimator (unset keys read as their plain defaults)."""
        def value(key):
            v = getattr(section, key)
            return PLAIN[key] if v is None else v
        parts = [f"head {value('head_words')}" if value("head_words") else "",
                 f"{value('support')} support" if value("support") != "none" else "",
                 "rescale" if value("rescale") else "",
                 value("estimator") if value("estimator") != PLAIN["estimator"] else ""]
        return "".join(f" + {p}" for p in parts if p)

    @classmethod
    def check_params(cls, **params) -> dict:
        return cls._check_params(**params)

    @classmethod
    def nbytes_for(cls, **params) -> int:
        p = cls.check_params(**params)
        K, V, item = p["n_topics"], p["n_vocab"], cls._dtype_for(p).itemsize
        kind = SUPPORTS[p["support"]]
        return int((p["n_hashes"] * p["n_buckets"] + p["head_words"]) * K * item + 8 * K
                   + (kind.nbytes_for(V, K) if kind is not None else 0)
                   + (4 * V if p["rescale"] else 0))

    @classmethod
    def _check_extra(cls, **extra) -> dict:
        """Validate backend-specific parameters (override)."""
        if extra:
            raise TypeError(f"{cls.__name__} got unexpected parameters: {sorted(extra)}.")
        return {}

    @classmethod
    def _conservative_rule(cls, params: dict) -> bool:
        """Whether checked ``params`` name conservative update."""
        return params["conservative"]

    @classmethod
    def _dtype_for(cls, params: dict) -> np.dtype:
        return cls.counter_dtype

    def params(self) -> dict:
        # "support" is left out when "none", so files written before it existed re-serialize
        # to the same bytes (the golden files pin this).
        sup = {} if self.support == "none" else {"support": self.support}
        if self.rescale:
            sup["rescale"] = True
        if self.head_words:
            sup["head_words"] = self.head_words
        return {"n_topics": self.n_topics, "n_vocab": self.n_vocab, "n_hashes": self.n_hashes,
                "n_buckets": self.n_buckets, "seed": self.seed, **sup}

    def check_compatible(self, other: TopicWordStats) -> None:
        """Raise :class:`IncompatibleStatsError` naming every differing field, seed_hash and the
        head's words too."""
        self.check_same_config(other)
        if not self._head_index.same(other._head_index):
            raise IncompatibleStatsError(
                f"Cannot merge {type(self).__name__}: the head words differ (chosen from different "
                f"word counts; build both from the same corpus).")

    def check_same_config(self, other: TopicWordStats) -> None:
        """Like :meth:`check_compatible`, but the head's words may differ (a fresh backend
        has not seen the corpus yet)."""
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
        out = type(self)(**self.params())
        out._head_index.copy_from(self._head_index)
        return out

    @property
    def cells(self) -> np.ndarray:
        """Counters, shape (n_hashes, n_buckets, n_topics); flat, the head's counters after the
        hashed ones, when ``head_words > 0``."""
        return self._storage if self.head_words else self._cells

    def error_bound(self) -> np.ndarray:
        """Per-topic additive bound ``(e / n_buckets) * n_k``, float64 (n_topics,).

        For integer cells ``estimate <= true + bound[k]`` with probability
        :meth:`bound_confidence` per query; approximate counters add their own noise on top.
        """
        return (math.e / self.n_buckets) * self.n_k.astype(np.float64)

    def bound_confidence(self) -> float:
        """``1 - exp(-n_hashes)``: the per-query probability that :meth:`error_bound` holds."""
        return 1.0 - math.exp(-self.n_hashes)

    # ----------------------------------------------------------------- persistence
    def serialize(self) -> bytearray:
        """LDSK container (:mod:`.countmin_io`), arrays ``cells``, ``n_k`` and the exact parts."""
        return countmin_io.serialize(self)

    def packed(self):
        """:meth:`serialize`'s bytes streamed from the arrays (checkpoints, model save)."""
        return countmin_io.packed(self)

    @classmethod
    def deserialize(cls, data, *, seed: int | None = None):
        """Inverse of :meth:`serialize` (:func:`.countmin_io.deserialize`); raises
        :class:`CorruptDataError`. With ``seed`` given, the stored seed must equal it."""
        return countmin_io.deserialize(cls, data, seed=seed)

    def _check_loaded(self) -> None:
        """Backend-specific checks of loaded cells (override)."""
