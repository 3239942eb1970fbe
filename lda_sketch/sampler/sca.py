"""The SCA sweep driver: read frozen statistics once per distinct word, draw every token.

Python loops over chunks of distinct words (``chunk_words``), asks the backend for their ``K``
estimates with one ``estimate_into`` call, and hands the chunk to the jitted ``prange`` kernel
:func:`~lda_sketch.sampler._kernels.sca_sweep_words`. The backend is only ever read through the
:class:`~lda_sketch.stats.base.TopicWordStats` contract.
"""
from __future__ import annotations

import numba
import numpy as np

from ._kernels import sca_sweep_words
from .state import ShardState

# Zipfian word frequencies make per-word work very uneven; small dynamic chunks balance threads.
_PRANGE_CHUNK = 4


class SCASampler:
    """Fast word-major SCA transition (sparse + alias draws). Buffers are allocated once."""

    name = "sca"

    def __init__(self, state: ShardState, alpha: float, beta: float, *, chunk_words: int = 4096):
        self.state = state
        self.alpha = float(alpha)
        self.beta = float(beta)
        K = state.n_topics
        self.chunk_words = int(chunk_words)
        self._est = np.empty((min(self.chunk_words, max(state.n_words, 1)), K), np.float64)
        nt = numba.config.NUMBA_NUM_THREADS
        self._scratch_f = np.empty((nt, 3, K), np.float64)
        self._scratch_i = np.empty((nt, 3, K), np.int64)

    def sweep(self, stats, key) -> None:
        """Draw a new z for every token from the frozen ``stats`` and the state's n_dk.

        Reads ``stats.topic_totals()`` as the exact global n_k. ``key``: the iteration's
        ``make_key(seed, STREAM_SAMPLER, iteration)``.
        """
        s = self.state
        inv_nk = 1.0 / (stats.topic_totals().astype(np.float64) + s.n_vocab * self.beta)
        key = np.uint64(key)
        with numba.parallel_chunksize(_PRANGE_CHUNK):
            for lo in range(0, s.n_words, self.chunk_words):
                hi = min(lo + self.chunk_words, s.n_words)
                est = stats.estimate_into(s.words[lo:hi], self._est[: hi - lo])
                sca_sweep_words(lo, est, inv_nk, self.alpha, self.beta, s.word_pair_ptr,
                                s.pair_doc, s.pair_tok_ptr, s.tok_perm, s.dk_ptr, s.dk_len,
                                s.dk_topic, s.dk_count, key, s.token_offset, s.z,
                                self._scratch_f, self._scratch_i)
