"""Topic support: which (word, topic) cells are nonzero, kept exactly beside a sketch.

A count-min query of a cell whose true count is 0 reads the minimum of d bucket sums, which is
often positive; normalising phi over the vocabulary then takes that phantom mass from the words
a topic really uses. The support structures below answer "is n[w, k] > 0?" so the sketch's
estimate can be forced to 0 off the support (``[sketch].support``):

* ``"none"``: no support structure (the paper's sketches).
* ``"exact"``: :class:`ExactSupport`, one bit per (word, topic), ``V * ceil(K/8)`` bytes. Rebuilt
  with the statistics every iteration from the current assignments and merged across ranks by
  bitwise OR, so it is byte-identical on every rank and for every rank count.

A support object is owned by a count-min backend (``stats/countmin.py``); the sampler never
sees it: it only reads estimates that are 0 off the support.
"""
from __future__ import annotations

import numpy as np

from ._support_kernels import (add_word_totals, rescale_rows, support_count, support_mask,
                               support_set)


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

    def clear(self) -> None:
        self.bits[...] = 0

    def add(self, words: np.ndarray, topics: np.ndarray, counts: np.ndarray) -> None:
        """Mark ``(words[i], topics[i])`` wherever ``counts[i] > 0`` (int64 arrays, checked)."""
        support_set(self.bits, words, topics, counts)

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


#: ``[sketch].support`` name -> support class (None: no support structure).
SUPPORTS = {"none": None, "exact": ExactSupport}
