"""Topic support: which (word, topic) cells are nonzero, kept exactly beside a sketch.

A count-min query of a cell whose true count is 0 reads the minimum of d bucket sums, which is
often positive; normalising phi over the vocabulary then takes that phantom mass from the words
a topic really uses. The support structures below answer "is n[w, k] > 0?" so the sketch's
estimate can be forced to 0 off the support (``[sketch].support``):

* ``"none"``: no support structure (the paper's sketches).
* ``"exact"``: :class:`ExactSupport`, one bit per (word, topic), ``V * ceil(K/8)`` bytes. Rebuilt
  with the statistics every iteration from the current assignments and merged across ranks by
  bitwise OR, so it is byte-identical on every rank and for every rank count.
* ``"filter"``: :class:`WordFilter`, a Bloom filter of the words that have tokens at all (about
  1.25 bytes a word), for hashed id spaces where most ids hold nothing.

A support object is owned by a count-min backend (``stats/countmin.py``); the sampler never
sees it: it only reads estimates that are 0 off the support.
"""
from __future__ import annotations

import numpy as np

from ._support_kernels import (add_word_totals, bloom_add, bloom_mask, rescale_rows,
                               support_count, support_mask, support_set, support_set_runs)


class ExactSupport:
    """One bit per (word, topic): ``bits`` uint8 (n_vocab, ceil(n_topics / 8))."""

    name = "exact"
    #: Names of the arrays :meth:`arrays` returns (serialized, and OR-merged across ranks).
    ARRAYS = ("support",)

    def __init__(self, n_vocab: int, n_topics: int):
        self.n_vocab = int(n_vocab)
        self.n_topics = int(n_topics)
        self.bits = np.zeros((self.n_vocab, (self.n_topics + 7) // 8), np.uint8)

    @staticmethod
    def nbytes_for(n_vocab: int, n_topics: int) -> int:
        """Bytes of the bitmap for a vocabulary of ``n_vocab`` words and ``n_topics`` topics."""
        return int(n_vocab) * ((int(n_topics) + 7) // 8)

    @property
    def nbytes(self) -> int:
        return int(self.bits.nbytes)

    def adapt(self, word_counts) -> None:
        """Nothing: the bitmap is rebuilt from the assignments every iteration."""

    def clear(self) -> None:
        self.bits[...] = 0

    def add(self, words: np.ndarray, topics: np.ndarray, counts: np.ndarray) -> None:
        """Mark ``(words[i], topics[i])`` wherever ``counts[i] > 0`` (int64 arrays, checked)."""
        support_set(self.bits, words, topics, counts)

    def add_runs(self, words: np.ndarray, tok_ptr: np.ndarray, z: np.ndarray) -> None:
        """Mark every (word, topic) of the topic runs (``add_runs``; z checked below K)."""
        support_set_runs(self.bits, words, tok_ptr, z)

    def mask(self, words: np.ndarray, out: np.ndarray) -> np.ndarray:
        """Zero ``out`` (n, n_topics) off the support of ``words`` and raise it to >= 1 on the
        support; returns ``out``."""
        support_mask(self.bits, words, out)
        return out

    def merge(self, other: "ExactSupport") -> None:
        """Bitwise OR (the union of two streams' supports): exact and order-free."""
        np.bitwise_or(self.bits, other.bits, out=self.bits)

    def n_nonzero(self) -> int:
        """Number of (word, topic) cells on the support."""
        return int(support_count(self.bits, self.n_topics))

    def arrays(self) -> dict:
        """Arrays to serialize (and to merge across ranks by bitwise OR)."""
        return {"support": self.bits}

    def load_arrays(self, arrays: dict) -> None:
        """Adopt serialized arrays; raises ValueError on a bad shape or dtype."""
        bits = arrays.get("support")
        if bits is None or bits.shape != self.bits.shape or bits.dtype != np.uint8:
            got = None if bits is None else f"{bits.dtype}{bits.shape}"
            raise ValueError(f"support must be uint8{self.bits.shape}, got {got}")
        self.bits = np.ascontiguousarray(bits)


class WordTotals:
    """Exact per-word token counts ``n_w`` (int32, n_vocab), to rescale each word's estimates
    so they sum to its true count (``[sketch].rescale``). Merged across ranks by summation."""

    def __init__(self, n_vocab: int):
        self.totals = np.zeros(int(n_vocab), np.int32)

    @property
    def nbytes(self) -> int:
        return int(self.totals.nbytes)

    def clear(self) -> None:
        self.totals[:] = 0

    def add(self, words: np.ndarray, counts: np.ndarray) -> None:
        add_word_totals(self.totals, words, counts)

    def rescale(self, words: np.ndarray, out: np.ndarray) -> np.ndarray:
        rescale_rows(self.totals, words, out)
        return out

    def merge(self, other: "WordTotals") -> None:
        self.totals += other.totals

    def load(self, totals) -> None:
        if totals is None or totals.shape != self.totals.shape or totals.dtype != np.int32 \
                or (totals < 0).any():
            got = None if totals is None else f"{totals.dtype}{totals.shape}"
            raise ValueError(f"word_totals must be non-negative int32{self.totals.shape}, "
                             f"got {got}")
        self.totals = np.ascontiguousarray(totals)


class WordFilter:
    """A Bloom filter of the words that have training tokens (``[sketch].support = "filter"``).

    For hashed, vocabulary-free corpora: of ``2**20`` ids only ~75,000 hold tokens, and the
    count-min query gives every other id the phantom mass of its buckets, which the
    normalisation of phi over the whole id space takes from the real words. The filter is built
    once, in :meth:`adapt`, from the global word counts (the same on every rank, never cleared by
    the per-iteration rebuild); a word it rejects reads 0 for every topic. No false negatives; a
    word without tokens passes with probability at most ``FPR`` (10 bits and 7 probes per word:
    ``(1 - exp(-7 n / m))**7 <= 0.82 %`` with ``m >= 10 n`` bits). The filter acts on whole
    words, not (word, topic) cells: cell-level support holds a word to the topics it already
    has in training (docs/RESULTS.md), the word level does not.
    """

    name = "filter"
    ARRAYS = ("word_filter",)
    BITS_PER_WORD = 10
    N_PROBES = 7
    FPR = 0.0082
    KEY = np.uint64(0x9E3779B97F4A7C15)  # fixed: the filter is a function of the word set only

    def __init__(self, n_vocab: int, n_topics: int):
        self.n_vocab = int(n_vocab)
        self.n_topics = int(n_topics)
        self.filt = np.zeros(0, np.uint64)  # empty until adapt: every word passes

    @classmethod
    def n_bits_for(cls, n_words: int) -> int:
        """Filter bits for ``n_words`` members: the power of two >= 10 per member, >= 64."""
        return max(64, 1 << max(0, int(cls.BITS_PER_WORD * max(int(n_words), 1) - 1).bit_length()))

    @classmethod
    def nbytes_for(cls, n_vocab: int, n_topics: int) -> int:
        """An upper bound for planning: every id of the vocabulary holding tokens."""
        return cls.n_bits_for(n_vocab) // 8

    @property
    def nbytes(self) -> int:
        return int(self.filt.nbytes)

    def adapt(self, word_counts) -> None:
        """Build the filter of the words with a positive count in ``word_counts`` (n_vocab,)."""
        words = np.flatnonzero(np.asarray(word_counts) > 0).astype(np.int64)
        self.filt = np.zeros(self.n_bits_for(words.size) // 64, np.uint64)
        bloom_add(self.filt, self.KEY, self.N_PROBES, words)

    def clear(self) -> None:
        """Nothing: the filter describes the corpus, not one iteration's assignments."""

    def add(self, words: np.ndarray, topics: np.ndarray, counts: np.ndarray) -> None:
        """Nothing: the filter is built once, by :meth:`adapt`."""

    def add_runs(self, words: np.ndarray, tok_ptr: np.ndarray, z: np.ndarray) -> None:
        """Nothing, as :meth:`add`."""

    def mask(self, words: np.ndarray, out: np.ndarray) -> np.ndarray:
        """Zero the rows of ``out`` (n, n_topics) of words the filter rejects; returns ``out``."""
        if self.filt.size:
            bloom_mask(self.filt, self.KEY, self.N_PROBES, words, out)
        return out

    def contains(self, words: np.ndarray) -> np.ndarray:
        """bool (n,): which ``words`` pass (members always do)."""
        probe = np.ones((len(words), 1), np.float64)
        self.mask(np.ascontiguousarray(words, np.int64), probe)
        return probe[:, 0] > 0

    def merge(self, other: "WordFilter") -> None:
        """Bitwise OR (both ranks built it from the same global counts, so this is a no-op)."""
        if other.filt.shape == self.filt.shape:
            np.bitwise_or(self.filt, other.filt, out=self.filt)

    def arrays(self) -> dict:
        return {"word_filter": self.filt}

    def load_arrays(self, arrays: dict) -> None:
        f = arrays.get("word_filter")
        n = 0 if f is None else f.shape[0]
        if f is None or f.dtype != np.uint64 or f.ndim != 1 or (n & (n - 1)):
            got = None if f is None else f"{f.dtype}{f.shape}"
            raise ValueError(f"word_filter must be uint64 of a power-of-two length, got {got}")
        self.filt = np.ascontiguousarray(f)


#: ``[sketch].support`` name -> support class (None: no support structure).
SUPPORTS = {"none": None, "exact": ExactSupport, "filter": WordFilter}
