"""The SCA sweep drivers: read frozen statistics once per distinct word, draw every token.

Each driver loops in Python over chunks of distinct words (``chunk_words``), asks the backend for
their ``K`` estimates with one ``estimate_into`` call, and hands the chunk to a jitted ``prange``
kernel. Three drivers share that loop: :class:`SCAAliasSampler` (sparse + alias draws,
:mod:`._kernels`), :class:`SCASparseSampler` (``sca-sparse``, exact over document topics ∩ word
topics, :mod:`._sparse_kernels`), both of the ``sca`` law, and :class:`SCACollapsedSampler`
(``sca-collapsed``, the token's own assignment left out, :mod:`._collapsed_kernels`).
:class:`SCASampler` (``sca``, the default) draws the ``sca`` law by the faster of the first two
for its K (:data:`SPARSE_MIN_TOPICS`). The backend is only ever read through the
:class:`~lda_sketch.stats.base.TopicWordStats` contract.
"""
from __future__ import annotations

import numba
import numpy as np

from ._collapsed_kernels import sca_sweep_words_collapsed
from ._kernels import sca_sweep_words
from . import _sparse_kernels as _sp
from . import register
from .base import Sampler
from .state import ShardState

# Zipfian word frequencies make per-word work very uneven; small dynamic chunks balance threads.
_PRANGE_CHUNK = 4


class SCAAliasSampler(Sampler):
    """Fast word-major SCA transition (sparse + alias draws). Buffers are allocated once. The
    ``sca`` sampler's path below :data:`SPARSE_MIN_TOPICS` (not registered on its own)."""

    name = "sca-alias"
    law = "sca"

    def __init__(self, state: ShardState, alpha: float, beta: float, *, chunk_words: int = 4096):
        super().__init__(state, alpha, beta)
        K = state.n_topics
        self.chunk_words = int(chunk_words)
        self._est = np.empty((min(self.chunk_words, max(state.n_words, 1)), K), np.float64)
        nt = numba.config.NUMBA_NUM_THREADS
        self._scratch_f = np.empty((nt, 3, K), np.float64)
        self._scratch_i = np.empty((nt, 3, K), np.int64)

    def _inv_nk(self, stats, minus: float = 0.0) -> np.ndarray:
        """(K,) ``1/(max(n_k - minus, 0) + V beta)`` of the frozen exact totals."""
        n_k = stats.topic_totals().astype(np.float64)
        return 1.0 / (np.maximum(n_k - minus, 0.0) + self.state.n_vocab * self.beta)

    def _chunks(self, stats):
        """``(lo, est)`` per chunk of ``chunk_words`` distinct words: the first word's index and
        the backend's (n, K) estimates of the chunk's words (a view of a reused buffer)."""
        s = self.state
        for lo in range(0, s.n_words, self.chunk_words):
            hi = min(lo + self.chunk_words, s.n_words)
            yield lo, stats.estimate_into(s.words[lo:hi], self._est[: hi - lo])

    def sweep(self, stats, key) -> None:
        """Draw a new z for every token from the frozen ``stats`` and the state's n_dk.

        Reads ``stats.topic_totals()`` as the exact global n_k. ``key``: the iteration's
        ``make_key(seed, STREAM_SAMPLER, iteration)``.
        """
        s = self.state
        inv_nk = self._inv_nk(stats)
        key = np.uint64(key)
        with numba.parallel_chunksize(_PRANGE_CHUNK):
            for lo, est in self._chunks(stats):
                sca_sweep_words(lo, est, inv_nk, self.alpha, self.beta, s.word_pair_ptr,
                                s.pair_doc, s.pair_tok_ptr, s.tok_perm, s.dk_ptr, s.dk_len,
                                s.dk_topic, s.dk_count, key, s.token_offset, s.z,
                                self._scratch_f, self._scratch_i)


@register
class SCACollapsedSampler(SCAAliasSampler):
    """SCA leaving out each token's own current assignment, as collapsed Gibbs does; all tokens
    still move at once from the frozen statistics (``_collapsed_kernels``, docs/SAMPLER.md).
    The sweep reads ``state.z`` as the frozen assignments, so n_dk must be those of z."""

    name = "sca-collapsed"
    law = "sca-collapsed"

    def __init__(self, state: ShardState, alpha: float, beta: float, *, chunk_words: int = 4096):
        super().__init__(state, alpha, beta, chunk_words=chunk_words)
        nt, K = numba.config.NUMBA_NUM_THREADS, state.n_topics
        self._scratch_f = np.empty((nt, 4, K), np.float64)
        self._scratch_i = np.zeros((nt, 4, K), np.int64)

    def sweep(self, stats, key) -> None:
        s = self.state
        inv_nk, inv_nk1 = self._inv_nk(stats), self._inv_nk(stats, 1.0)
        key = np.uint64(key)
        with numba.parallel_chunksize(_PRANGE_CHUNK):
            for lo, est in self._chunks(stats):
                sca_sweep_words_collapsed(lo, est, inv_nk, inv_nk1, self.alpha, self.beta,
                                          s.word_pair_ptr, s.pair_doc, s.pair_tok_ptr,
                                          s.tok_perm, s.dk_ptr, s.dk_len, s.dk_topic,
                                          s.dk_count, key, s.token_offset, s.z,
                                          self._scratch_f, self._scratch_i)


@register
class SCASparseSampler(SCAAliasSampler):
    """The same exact SCA transition, summing per (doc, word) pair only the topics the document
    and the word share (``_sparse_kernels``, docs/SAMPLER.md): per-pair cost follows the size of
    the intersection, not the document's topic count. For large K.

    Documents that can hold at least ``bitset_min_topics`` topics (default ``ceil(K/64)``, the
    bitset's words) keep a topic bitset (``K/64`` uint64 and int32 ranks); every document keeps
    its counts in topic order and the running sums of ``beta n_dk / (n_k + V beta)`` (14 bytes
    per sparse entry), rebuilt each sweep. A chunk's pairs are visited by blocks of
    ``doc_block`` documents (8 bytes per pair, fixed at construction).
    """

    name = "sca-sparse"

    def __init__(self, state: ShardState, alpha: float, beta: float, *, chunk_words: int = 4096,
                 bitset_min_topics: int | None = None, doc_block: int = 1024):
        super().__init__(state, alpha, beta, chunk_words=chunk_words)
        K = state.n_topics
        nt = numba.config.NUMBA_NUM_THREADS
        nbw = (K + 63) // 64
        self._scratch_f = np.empty((nt, 1, K), np.float64)
        self._scratch_b = np.zeros((nt, 2, nbw), np.uint64)
        self._dense = np.zeros((nt, K), np.int32)
        self.counters = np.zeros((nt, _sp.N_COUNTERS), np.int64)
        with_bits = np.minimum(state.doc_len, K) >= (nbw if bitset_min_topics is None
                                                     else int(bitset_min_topics))
        self._bit_ptr = np.zeros(state.n_docs + 1, np.int64)
        np.cumsum(np.where(with_bits, nbw, 0), out=self._bit_ptr[1:])
        self._bits = np.zeros(int(self._bit_ptr[-1]), np.uint64)
        self._rank = np.zeros(int(self._bit_ptr[-1]), np.int32)
        n_entries = state.dk_topic.shape[0]
        self._t_topic = np.zeros(n_entries, np.uint16)
        self._t_count = np.zeros(n_entries, np.int32)
        self._bcum = np.zeros(n_entries, np.float64)
        # The chunk's word index (_sparse_kernels.word_index): each word's topic bitset, the row
        # position of each 64-topic block, its nonzero blocks and their count, phi's running sums
        # per block; and beta * sum(1/n_k) per block, the same for every word.
        n = self._est.shape[0]
        self._word_bits = np.zeros((n, nbw), np.uint64)
        self._word_rank = np.zeros((n, nbw), np.int64)
        self._word_blocks = np.zeros((n, nbw), np.int64)
        self._word_block_cum = np.zeros((n, nbw), np.float64)
        self._word_n_blocks = np.zeros(n, np.int64)
        self._block_beta_inv = np.zeros(nbw, np.float64)
        self._tiles, self._tile_pair, self._tile_word = self._tile(int(doc_block))

    @classmethod
    def planned_nbytes(cls, *, n_tokens, n_docs, n_topics, doc_len, pairs_per_token,
                       chunk_words) -> float:
        nbw = -(-n_topics // 64)  # uint64 words of a topic bitset
        L = doc_len
        return (14 * min(L, n_topics) / max(L, 1) * n_tokens + 8 * pairs_per_token * n_tokens
                + (12 * nbw * n_docs if L >= nbw else 0) + 32 * nbw * chunk_words)

    def _tile(self, doc_block: int):
        """Per chunk, its pairs ordered by (document block, word, document)."""
        s = self.state
        n_blocks = max(-(-s.n_docs // doc_block), 1)
        tiles, pair, word = [], np.empty(s.n_pairs, np.int32), np.empty(s.n_pairs, np.int32)
        for lo in range(0, s.n_words, self.chunk_words):
            hi = min(lo + self.chunk_words, s.n_words)
            a, b = int(s.word_pair_ptr[lo]), int(s.word_pair_ptr[hi])
            blk = s.pair_doc[a:b] // doc_block
            order = np.argsort(blk, kind="stable")
            pair[a:b] = a + order
            word[a:b] = np.repeat(np.arange(hi - lo, dtype=np.int32),
                                  np.diff(s.word_pair_ptr[lo:hi + 1]))[order]
            ptr = np.zeros(n_blocks + 1, np.int64)
            np.cumsum(np.bincount(blk, minlength=n_blocks), out=ptr[1:])
            tiles.append(a + ptr)
        return tiles, pair, word

    @property
    def nbytes(self) -> int:
        """Bytes of the per-document index, the chunk's word index and the tile order."""
        arrays = (self._bit_ptr, self._bits, self._rank, self._t_topic, self._t_count, self._bcum,
                  self._word_bits, self._word_rank, self._word_blocks, self._word_block_cum,
                  self._word_n_blocks, self._tile_pair, self._tile_word, *self._tiles)
        return int(sum(a.nbytes for a in arrays))

    def sweep(self, stats, key) -> None:
        s = self.state
        inv_nk = self._inv_nk(stats)
        key = np.uint64(key)
        _sp.block_inv_sums(inv_nk, self.beta, self._block_beta_inv)
        _sp.build_doc_index(s.dk_ptr, s.dk_len, s.dk_topic, s.dk_count, inv_nk, self.beta,
                            self._bit_ptr, self._bits, self._rank, self._t_topic, self._t_count,
                            self._bcum, self._dense)
        with numba.parallel_chunksize(1):
            for c, (lo, est) in enumerate(self._chunks(stats)):
                n = est.shape[0]
                word = (self._word_bits[:n], self._word_rank[:n], self._word_blocks[:n],
                        self._word_n_blocks[:n], self._word_block_cum[:n])
                _sp.word_index(est, inv_nk, self._block_beta_inv, *word)
                _sp.sca_sweep_tiles(
                    est, inv_nk, self.alpha, self.beta, *word, self._tiles[c], self._tile_pair,
                    self._tile_word, s.pair_doc, s.pair_tok_ptr, s.tok_perm, s.dk_ptr, s.dk_len,
                    self._t_topic, self._t_count, self._bcum, self._bit_ptr, self._bits,
                    self._rank, key, s.token_offset, s.z, self._scratch_f, self._scratch_i,
                    self._scratch_b, self.counters)

    def diagnostics(self) -> dict:
        """Work per pair accumulated since construction (or ``counters[:] = 0``)."""
        c = self.counters.sum(axis=0)
        pairs = max(int(c[_sp.C_PAIRS]), 1)
        return {"tokens": int(c[_sp.C_TOKENS]), "pairs": int(c[_sp.C_PAIRS]),
                "intersection_per_pair": int(c[_sp.C_TERMS]) / pairs,
                "bitset_words_per_pair": int(c[_sp.C_BITWORDS]) / pairs,
                "list_entries_per_pair": int(c[_sp.C_LISTED]) / pairs}


#: From this many topics the ``sca`` law's sparse path (:class:`SCASparseSampler`) is faster than
#: its alias path (:class:`SCAAliasSampler`) on one frozen state of the Wikipedia corpus (one
#: thread, ``scripts/bench_kernels.py``, docs/SAMPLER.md "The sca family").
SPARSE_MIN_TOPICS = 600


@register
class SCASampler(Sampler):
    """The ``sca`` law by its fastest exact path for K: :class:`SCAAliasSampler` below
    :data:`SPARSE_MIN_TOPICS` topics, :class:`SCASparseSampler` from there (:attr:`path`)."""

    name = "sca"
    law = "sca"

    def __init__(self, state: ShardState, alpha: float, beta: float, **kwargs):
        super().__init__(state, alpha, beta)
        path = self.path_for(state.n_topics)
        self.path = path.name
        self._path = path(state, alpha, beta, **kwargs)

    @staticmethod
    def path_for(n_topics: int) -> type[Sampler]:
        return SCASparseSampler if n_topics >= SPARSE_MIN_TOPICS else SCAAliasSampler

    @classmethod
    def kernels_for(cls, n_topics: int) -> tuple[type[Sampler], ...]:
        return (cls.path_for(n_topics),)

    def set_alpha(self, alpha: float) -> None:
        super().set_alpha(alpha)
        self._path.set_alpha(alpha)

    def sweep(self, stats, key) -> None:
        self._path.sweep(stats, key)

    @property
    def nbytes(self) -> int:
        return self._path.nbytes

    @classmethod
    def planned_nbytes(cls, *, n_topics, **kwargs) -> float:
        return cls.path_for(n_topics).planned_nbytes(n_topics=n_topics, **kwargs)

    def diagnostics(self) -> dict:
        return dict(self._path.diagnostics(), path=self.path)
