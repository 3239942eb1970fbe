"""One shard's sampler state: the word-major token layout, topic assignments z and sparse n_dk.

Built once per shard (``O(n_tokens log n_tokens)``). Memory per token: 2 bytes of ``z`` plus
4 bytes of ``tok_perm``; per (doc, word) pair: 16 bytes (doc, token pointer, doc-major slot
and count); per document: ``min(K, L_d)`` sparse n_dk entries of 6 bytes; per distinct word: buffers for
``min(K, T_w)`` (word, topic, count) triples of 24 bytes. No ``V x K`` array exists here.
"""
from __future__ import annotations

import numba
import numpy as np

from .._validation import param_error
from ..limits import MAX_TOPICS
from ..io.corpus import Corpus
from ._kernels import compact_triples, rebuild_doc_topics, word_topic_triples



class ShardState:
    """Word-major layout of a shard's tokens plus z (uint16) and sparse n_dk.

    Attributes (see :mod:`lda_sketch.sampler._kernels` for their meaning): ``words`` (n_words,)
    int64 global ids of the distinct words, ``word_pair_ptr``, ``pair_doc``, ``pair_tok_ptr``,
    ``tok_perm``, ``doc_pair_ptr``, ``doc_pair_slot``, ``doc_pair_cnt``, ``dk_ptr``, ``dk_len``, ``dk_topic``,
    ``dk_count``, ``z``; ``doc_offset``/``token_offset`` are the shard's global offsets.
    """

    def __init__(self, shard: Corpus, n_topics: int, n_vocab: int | None = None):
        K = int(n_topics)
        V = int(shard.n_vocab if n_vocab is None else n_vocab)
        if not 1 <= K <= MAX_TOPICS:
            raise param_error("n_topics", "ShardState", f"an int in [1, {MAX_TOPICS}]", n_topics)
        doc_ptr = np.asarray(shard.doc_ptr, np.int64)
        n_tokens = int(doc_ptr[-1] - doc_ptr[0])
        if n_tokens >= 2**31:
            raise ValueError(f"A shard holds {n_tokens} tokens; at most 2**31 - 1 per rank are "
                             "supported. Use more ranks.")
        word_ids = np.asarray(shard.word_ids)
        if n_tokens and (int(word_ids.min()) < 0 or int(word_ids.max()) >= V):
            raise ValueError(f"The shard has word ids outside [0, {V}) (n_vocab); the corpus is "
                             "corrupt or was built for another vocabulary.")
        self.n_topics = K
        self.n_vocab = V
        self.n_docs = shard.n_docs
        self.n_tokens = n_tokens
        self.doc_offset = int(shard.doc_offset)
        self.token_offset = int(doc_ptr[0])
        self.doc_len = np.diff(doc_ptr).astype(np.int64)

        # Stable sort by word keeps doc-major order inside each word: pairs come out grouped.
        order = np.argsort(word_ids, kind="stable").astype(np.int32)
        ws = word_ids[order]
        ds = np.repeat(np.arange(self.n_docs, dtype=np.int32), self.doc_len)[order]
        new_pair = np.ones(n_tokens, bool)
        if n_tokens:
            new_pair[1:] = (ws[1:] != ws[:-1]) | (ds[1:] != ds[:-1])
        starts = np.flatnonzero(new_pair)
        self.tok_perm = order
        self.pair_tok_ptr = np.append(starts, n_tokens).astype(np.int32)  # < 2**31 tokens
        self.pair_doc = ds[starts].astype(np.int32)
        pair_word = ws[starts]
        del ws, ds, new_pair
        n_pairs = starts.shape[0]
        new_word = np.ones(n_pairs, bool)
        if n_pairs:
            new_word[1:] = pair_word[1:] != pair_word[:-1]
        wstarts = np.flatnonzero(new_word)
        self.words = pair_word[wstarts].astype(np.int64)
        self.word_pair_ptr = np.append(wstarts, n_pairs).astype(np.int64)
        doc_pairs = np.argsort(self.pair_doc, kind="stable")
        self.doc_pair_slot = self.pair_tok_ptr[doc_pairs].astype(np.int32)
        self.doc_pair_cnt = np.diff(self.pair_tok_ptr)[doc_pairs].astype(np.int32)
        del doc_pairs
        self.doc_pair_ptr = np.zeros(self.n_docs + 1, np.int64)
        np.cumsum(np.bincount(self.pair_doc, minlength=self.n_docs), out=self.doc_pair_ptr[1:])

        self.dk_ptr = np.zeros(self.n_docs + 1, np.int64)
        np.cumsum(np.minimum(self.doc_len, K), out=self.dk_ptr[1:])
        self.dk_len = np.zeros(self.n_docs, np.int64)
        self.dk_topic = np.zeros(int(self.dk_ptr[-1]), np.uint16)
        self.dk_count = np.zeros(int(self.dk_ptr[-1]), np.int32)
        self.z = np.zeros(n_tokens, np.uint16)

        tok_of_word = self.pair_tok_ptr[self.word_pair_ptr]
        word_tokens = np.diff(tok_of_word)
        self.word_tokens = word_tokens.astype(np.int64)
        self.trip_ptr = np.zeros(self.n_words + 1, np.int64)
        np.cumsum(np.minimum(word_tokens, K), out=self.trip_ptr[1:])
        cap = int(self.trip_ptr[-1])
        self._trip_w = np.empty(cap, np.int64)
        self._trip_t = np.empty(cap, np.int64)
        self._trip_c = np.empty(cap, np.int64)
        self._nnz = np.zeros(self.n_words, np.int64)
        self._hist = np.zeros((numba.config.NUMBA_NUM_THREADS, K), np.int64)
        self._sort = np.zeros((numba.config.NUMBA_NUM_THREADS, K), np.int64)

    @property
    def n_words(self) -> int:
        return int(self.words.shape[0])

    @property
    def n_pairs(self) -> int:
        return int(self.pair_doc.shape[0])

    @property
    def nbytes(self) -> int:
        """Bytes held by this state (layout, z, sparse n_dk, triple buffers)."""
        return int(sum(a.nbytes for a in vars(self).values() if isinstance(a, np.ndarray)))

    # ------------------------------------------------------------------ derived counts
    def rebuild_doc_topics(self) -> None:
        """Recompute the sparse n_dk from z (after every sweep or load)."""
        rebuild_doc_topics(self.doc_pair_ptr, self.doc_pair_slot, self.doc_pair_cnt, self.z,
                           self.dk_ptr, self.dk_len, self.dk_topic, self.dk_count, self._hist,
                           self._sort)

    def word_topic_triples(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(words, topics, counts)`` int64 views: the shard's nonzero n_wk from z (word-major).

        The views are into buffers reused by the next call.
        """
        word_topic_triples(self.word_pair_ptr, self.pair_tok_ptr, self.z, self.words,
                           self.trip_ptr, self._trip_w, self._trip_t, self._trip_c, self._nnz,
                           self._hist)
        n = compact_triples(self.trip_ptr, self._nnz, self._trip_w, self._trip_t, self._trip_c)
        return self._trip_w[:n], self._trip_t[:n], self._trip_c[:n]

    def doc_topic_dense(self) -> np.ndarray:
        """(n_docs, K) int32 n_dk."""
        out = np.zeros((self.n_docs, self.n_topics), np.int32)
        rows = np.repeat(np.arange(self.n_docs), self.dk_len)
        mask = np.zeros(self.dk_topic.shape[0], bool)
        offs = np.arange(self.dk_topic.shape[0]) - np.repeat(self.dk_ptr[:-1], np.diff(self.dk_ptr))
        mask[:] = offs < np.repeat(self.dk_len, np.diff(self.dk_ptr))
        out[rows, self.dk_topic[mask].astype(np.int64)] = self.dk_count[mask]
        return out

    # ------------------------------------------------------------------ z in doc-major order
    def z_doc_major(self) -> np.ndarray:
        """z as uint16 in the shard's doc-major token order (the portable form)."""
        out = np.empty(self.n_tokens, np.uint16)
        out[self.tok_perm] = self.z
        return out

    def set_z_doc_major(self, z: np.ndarray) -> None:
        """Inverse of :meth:`z_doc_major`; then rebuilds n_dk."""
        z = np.asarray(z)
        if z.shape != (self.n_tokens,):
            raise ValueError(f"z has shape {z.shape}; this shard has {self.n_tokens} tokens.")
        if z.size and int(z.max()) >= self.n_topics:
            raise ValueError(f"z holds topic {int(z.max())} >= n_topics={self.n_topics}.")
        self.z[:] = z[self.tok_perm]
        self.rebuild_doc_topics()
