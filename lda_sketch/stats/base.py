"""The word-topic statistics contract shared by every backend.

A backend holds approximate or exact counts ``n[w, k]`` for ``w in [0, n_vocab)`` (the vocabulary,
or the hash space under feature hashing) and ``k in [0, n_topics)``, plus **exact** topic totals
``n_k`` (int64, shape (n_topics,)). The sampler and the evaluator use only this interface and never
branch on which backend they hold.

Guarantee flags (``guarantees``) drive the contract tests:

* ``"exact"``                 -- estimates equal true counts.
* ``"never_underestimates"``  -- every estimate >= its true count (integer count-min).
* ``"exact_merge"``           -- ``merge`` is elementwise integer addition of :attr:`cells`
                                 (exact, commutative, associative); the distributed layer may use
                                 ``Allreduce(SUM)`` on :attr:`cells`.
* ``"linear"``                -- additionally the sketch is linear: the merge is bitwise equal to
                                 the sketch of the concatenated stream (not so under conservative
                                 update).
* ``"unbiased_cells"``        -- each cell is an unbiased (randomized) counter of its stream.
* ``"mean_overestimates"``    -- ``E[estimate] >= true count`` (correlated Morris counters).
* ``"exact_zeros"``           -- the estimate is exactly 0 wherever the true count is 0 (a
                                 count-min sketch with ``support = "exact"``).
"""
from __future__ import annotations

import abc
from typing import ClassVar

import numpy as np

from ..exceptions import IncompatibleStatsError

#: Every guarantee flag a backend may claim (documented above; the contract tests check each).
GUARANTEES = frozenset({"exact", "never_underestimates", "exact_merge", "linear",
                        "unbiased_cells", "mean_overestimates", "exact_zeros"})


class TopicWordStats(abc.ABC):
    """Word-topic sufficient statistics ``n[w, k]`` plus exact topic totals ``n_k``.

    Subclasses must set ``backend_id`` and ``guarantees`` and implement the abstract methods.
    ``add`` and ``merge`` take an RNG ``key`` (uint64, see :mod:`lda_sketch.rng`); exact backends
    ignore it, randomized backends derive every draw from it and the cell/record index, so results
    do not depend on thread or rank order.
    """

    backend_id: ClassVar[str] = ""
    guarantees: ClassVar[frozenset] = frozenset()
    #: ``deserialize(data, copy=False)`` may keep views into ``data`` (a writable buffer its
    #: caller hands over, e.g. a loaded checkpoint) instead of copying the arrays.
    deserializes_in_place: ClassVar[bool] = False
    #: The ``[sketch]`` config keys this backend reads: exactly its constructor's keywords
    #: besides ``n_topics``, ``n_vocab`` and ``seed``.
    config_keys: ClassVar[tuple[str, ...]] = ()

    def __init__(self, n_topics: int, n_vocab: int, seed: int):
        self.n_topics = int(n_topics)
        self.n_vocab = int(n_vocab)
        self.seed = int(seed)
        self.n_k = np.zeros(self.n_topics, np.int64)

    # ----------------------------------------------------------------- construction
    @classmethod
    def config_params(cls, section) -> dict:
        """The constructor keywords that ``section`` (a ``[sketch]`` SketchConfig) gives this
        backend: the values of :attr:`config_keys`, nothing else."""
        from .budget import PLAIN  # unset layout keys outside a budget: the plain sketch's

        return {k: PLAIN[k] if getattr(section, k) is None and k in PLAIN else getattr(section, k)
                for k in cls.config_keys}

    @classmethod
    def unread_settings(cls, section) -> dict:
        """``[sketch]`` keys this backend does not read whose value differs from the default
        (reported, so a setting is never dropped silently). ``{key: value}``."""
        import dataclasses

        # a count-min backend reads the budget too: it chooses the layout keys it has
        reads = set(cls.config_keys) | ({"budget"} if "n_buckets" in cls.config_keys else set())
        return {f.name: getattr(section, f.name) for f in dataclasses.fields(section)
                if f.name != "backend" and f.name not in reads
                and getattr(section, f.name) != f.default}

    @classmethod
    def variant_label(cls, section) -> str:
        """A sweep figure's panel for a ``[sketch]`` section: every setting this backend reads
        except the rows and the width, which a panel's curves vary (``lda-sketch plot``)."""
        return cls.backend_id

    @classmethod
    def check_params(cls, **params) -> dict:
        """Validate constructor parameters without allocating (raises
        :class:`~lda_sketch.exceptions.InvalidParameterError`); returns them normalised."""
        return params

    @classmethod
    def nbytes_for(cls, **params) -> int:
        """:attr:`nbytes` of an instance with these constructor parameters, without allocating
        (validated as :meth:`check_params` does)."""
        raise NotImplementedError

    @classmethod
    def from_config(cls, section, *, n_topics: int, n_vocab: int, seed: int) -> "TopicWordStats":
        """Build from a ``[sketch]`` section, reading exactly :attr:`config_keys`."""
        return cls(n_topics=n_topics, n_vocab=n_vocab, seed=seed, **cls.config_params(section))

    @classmethod
    def check_config(cls, section, *, n_topics: int, n_vocab: int, seed: int) -> dict:
        """The checks :meth:`from_config` makes, without allocating; returns the constructor's
        parameters normalised (for reports)."""
        return cls.check_params(n_topics=n_topics, n_vocab=n_vocab, seed=seed,
                         **cls.config_params(section))

    @classmethod
    def nbytes_from_config(cls, section, *, n_topics: int, n_vocab: int, seed: int) -> int:
        """:attr:`nbytes` of the backend :meth:`from_config` would build, without allocating."""
        return cls.nbytes_for(n_topics=n_topics, n_vocab=n_vocab, seed=seed,
                              **cls.config_params(section))

    @abc.abstractmethod
    def empty_like(self) -> "TopicWordStats":
        """A zeroed copy with identical parameters and hash functions."""

    @abc.abstractmethod
    def params(self) -> dict:
        """JSON-serialisable parameters (everything needed to rebuild an empty copy)."""

    def file_params(self) -> dict:
        """:meth:`params` as the file format spells them (default: the same)."""
        return self.params()

    @classmethod
    def params_from_file(cls, params: dict) -> dict:
        """Inverse of :meth:`file_params`: the constructor's keywords (default: the same)."""
        return params

    def clear(self) -> None:
        """Zero all counts in place (keeps the allocation)."""
        self.cells[...] = 0
        self.n_k[:] = 0

    # ----------------------------------------------------------------- data
    @property
    @abc.abstractmethod
    def cells(self) -> np.ndarray:
        """The raw counter array that a merge combines (dtype and shape are backend-specific)."""

    @property
    def nbytes(self) -> int:
        """Bytes of the counters plus the exact topic totals."""
        return int(self.cells.nbytes + self.n_k.nbytes)

    # ----------------------------------------------------------------- updates and queries
    @abc.abstractmethod
    def add(self, words: np.ndarray, topics: np.ndarray, counts: np.ndarray, *, key=0) -> None:
        """Add ``counts[i]`` occurrences of ``(words[i], topics[i])``; all shape (n,), counts >= 0.

        Also adds to the exact topic totals ``n_k``. Randomized backends draw with ``key``.
        """

    def add_runs(self, words: np.ndarray, tok_ptr: np.ndarray, z: np.ndarray, *,
                 key=0) -> np.ndarray | None:
        """Fused build from topic assignments: word ``words[i]`` (distinct, ascending) holds the
        topics ``z[tok_ptr[i]:tok_ptr[i + 1]]``. Adds the same records as :meth:`add` of their
        (word, topic, count) histogram (word-major, topic ascending) with the same ``key``, bit
        for bit, without materialising them. Returns the topic totals added (int64 (K,)), or
        ``None`` where the backend has no fused path for its configuration: then nothing was
        added and the caller adds the records itself. Default: ``None``."""
        return None

    @abc.abstractmethod
    def estimate_into(self, words: np.ndarray, out: np.ndarray) -> np.ndarray:
        """Write estimates of ``n[words[i], k]`` into ``out`` (float64, shape (n, n_topics))."""

    def estimate(self, words: np.ndarray) -> np.ndarray:
        """Estimates of ``n[w, k]`` for the given words. Returns float64 of shape (n, n_topics)."""
        words = np.ascontiguousarray(words, dtype=np.int64)
        out = np.empty((words.shape[0], self.n_topics), np.float64)
        return self.estimate_into(words, out)

    def topic_totals(self) -> np.ndarray:
        """Exact ``n_k``, int64 of shape (n_topics,)."""
        return self.n_k

    def estimate_column_sums(self, chunk: int = 65536) -> np.ndarray:
        """``sum_w estimate[w, k]`` over the whole vocabulary / hash space. float64 (n_topics,).

        Needed to normalise phi over the vocabulary (sketch estimates overcount, so their sum
        exceeds ``n_k``; normalising by ``n_k + V*beta`` would understate perplexity).
        """
        K = self.n_topics
        total = np.zeros(K, np.float64)
        # Estimates are read 32 MiB at a time (not chunk x K float64: 500 MB at K = 1000). A
        # (n, K >= 2) float64 sum over axis 0 adds rows in order, so carrying the partial sum
        # into the next block as its first row gives the bits of one sum over the whole chunk.
        rows = chunk if K == 1 else max(1, min(chunk, (1 << 25) // (8 * K)))
        buf = np.empty((min(rows, self.n_vocab) + 1, K), np.float64)
        for start in range(0, self.n_vocab, chunk):
            stop = min(start + chunk, self.n_vocab)
            part = None
            for lo in range(start, stop, rows):
                hi = min(lo + rows, stop)
                words = np.arange(lo, hi, dtype=np.int64)
                buf[1:hi - lo + 1] = self.estimate_into(words, buf[1:hi - lo + 1])
                if part is None:
                    part = buf[1:hi - lo + 1].sum(axis=0)
                else:
                    buf[0] = part
                    part = buf[:hi - lo + 1].sum(axis=0)
            total += part
        return total

    # ----------------------------------------------------------------- merging
    def adapt(self, word_counts: np.ndarray) -> None:
        """Hook, called once before the first :meth:`add` of a training run with the global
        training word counts (int (n_vocab,), the same on every rank): a backend whose layout
        depends on word frequencies fixes it here. Default: nothing."""

    def check_same_config(self, other: "TopicWordStats") -> None:
        """:meth:`check_compatible` minus state fixed by :meth:`adapt` (a fresh backend has not
        seen the corpus yet). Default: :meth:`check_compatible`."""
        self.check_compatible(other)

    def check_compatible(self, other: "TopicWordStats") -> None:
        """Raise :class:`IncompatibleStatsError` naming every differing field."""
        name = type(self).__name__
        if type(other) is not type(self):
            raise IncompatibleStatsError(
                f"Cannot merge {name} with {type(other).__name__}: backends differ."
            )
        a, b = self.params(), other.params()
        diffs = [f"{k} differ ({a.get(k)!r} vs {b.get(k)!r})" for k in sorted(set(a) | set(b))
                 if a.get(k) != b.get(k)]
        if diffs:
            raise IncompatibleStatsError(f"Cannot merge {name}: " + "; ".join(diffs) + ".")

    @abc.abstractmethod
    def merge(self, other: "TopicWordStats", *, key=0) -> None:
        """Add ``other``'s counts into ``self`` in place (exactly, or unbiasedly with ``key``)."""

    def cells_changed(self) -> None:
        """Hook: :attr:`cells` were written in place by a caller (e.g. the distributed merge);
        backends drop anything they derived from the cells. Default: nothing cached."""

    def or_arrays(self) -> list:
        """Arrays besides :attr:`cells` that merge across ranks by bitwise OR (in place, e.g. a
        support bitmap). Default: none."""
        return []

    def sum_arrays(self) -> list:
        """Integer arrays besides :attr:`cells` that merge across ranks by exact summation (in
        place, e.g. per-word totals). Default: none."""
        return []

    def fold_cells(self, dst: np.ndarray, src: np.ndarray, *, key, cell_offset: int) -> None:
        """Merge the flat cell slice ``src`` into ``dst`` (same shape, in place).

        ``cell_offset`` is the global flat index of ``dst[0]``; randomized backends key each cell's
        draws by ``(key, cell_offset + i)`` so the distributed owner-computes merge gives the same
        bytes as a serial fold. Default: exact integer addition.
        """
        dst += src

    # ----------------------------------------------------------------- persistence
    @abc.abstractmethod
    def serialize(self) -> bytes:
        """Versioned binary form (see :mod:`lda_sketch.stats.serialization`)."""

    def packed(self):
        """:meth:`serialize`'s bytes as a :class:`~lda_sketch.stats.serialization.Packed`, to
        stream to a file. Default: wraps :meth:`serialize` (one copy); a backend overrides it to
        stream its arrays without copying them."""
        from .serialization import Packed

        return Packed.of_bytes(self.serialize())

    @classmethod
    @abc.abstractmethod
    def deserialize(cls, data: bytes) -> "TopicWordStats":
        """Inverse of :meth:`serialize`; raises :class:`CorruptDataError` on bad bytes."""

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params().items())
        return f"{type(self).__name__}({args})"
