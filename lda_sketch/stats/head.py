"""Which words own the count-min head's collision-free counters: the H most frequent.

:class:`WordHead` maps word ids to head slots. Until :meth:`WordHead.choose` sees the corpus's
word counts, the head is the id prefix ``0 .. H-1``, which is right for ``lda-sketch prep``
corpora (numbered by decreasing frequency). :meth:`~WordHead.choose` takes the H words with the
largest counts (ties: the smaller id), so a vocabulary in any other order still gives its
heaviest words the exact counters: a ``CountVectorizer`` vocabulary (alphabetical), gensim
dictionary ids, or feature-hashed ids. On a frequency-ordered vocabulary it returns the prefix
again and stores nothing.

A chosen head keeps its ids sorted ascending (uint32, 4 bytes a word); slot ``j`` of the head
cells belongs to word ``ids[j]``. The choice is a pure function of the global word counts, so
every rank makes the same one.
"""
from __future__ import annotations

import numpy as np


class WordHead:
    """The head's words: the prefix ``0 .. n_words-1`` or a sorted id list ``ids``."""

    def __init__(self, n_words: int, n_vocab: int):
        self.n_words = int(n_words)
        self.n_vocab = int(n_vocab)
        self.ids: np.ndarray | None = None  # None: the id prefix (nothing stored)

    @property
    def is_prefix(self) -> bool:
        return self.ids is None

    @property
    def nbytes(self) -> int:
        """Bytes stored: 0 for the prefix, 4 per head word otherwise."""
        return 0 if self.ids is None else int(self.ids.nbytes)

    def choose(self, word_counts) -> None:
        """Make the head the ``n_words`` ids of largest ``word_counts`` (n_vocab,) (ties: the
        smaller id first)."""
        counts = np.asarray(word_counts)
        if counts.shape != (self.n_vocab,):
            raise ValueError(f"word_counts must have shape ({self.n_vocab},), got {counts.shape}")
        H = self.n_words
        if H == 0 or H >= self.n_vocab:
            self.ids = None
            return
        # Stable sort of -count: equal counts keep ascending id order.
        top = np.argsort(-counts.astype(np.int64), kind="stable")[:H]
        top.sort()
        self.ids = None if top[-1] == H - 1 else top.astype(np.uint32)

    def split(self, words: np.ndarray):
        """``(mask, slots)`` for int64 ``words``: which are head words, and their head slots."""
        if self.ids is None:
            mask = words < self.n_words
            return mask, words[mask]
        pos = np.searchsorted(self.ids, words)
        np.minimum(pos, self.n_words - 1, out=pos)
        mask = self.ids[pos] == words
        return mask, pos[mask].astype(np.int64)

    def same(self, other: "WordHead") -> bool:
        if self.ids is None or other.ids is None:
            return self.ids is None and other.ids is None
        return bool(np.array_equal(self.ids, other.ids))

    def copy_from(self, other: "WordHead") -> None:
        self.ids = None if other.ids is None else other.ids.copy()

    def load(self, ids) -> None:
        """Adopt serialized ids; raises ValueError unless they are ``n_words`` distinct sorted
        uint32 ids below ``n_vocab``."""
        ok = (isinstance(ids, np.ndarray) and ids.dtype == np.uint32
              and ids.shape == (self.n_words,) and self.n_words > 0)
        if ok:
            ok = bool((np.diff(ids.astype(np.int64)) > 0).all()) and int(ids[-1]) < self.n_vocab
        if not ok:
            got = f"{ids.dtype}{ids.shape}" if isinstance(ids, np.ndarray) else type(ids).__name__
            raise ValueError(f"head_ids must be {self.n_words} distinct sorted uint32 word ids "
                             f"below {self.n_vocab}, got {got}")
        self.ids = np.ascontiguousarray(ids)
