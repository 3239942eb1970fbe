"""Plain reference SEM sampler: materialise theta and phi, draw each token by inverse CDF.

O(K) per token and single-threaded. It exists to check the fast SCA kernel: both implement the
same transition ``p(k) ∝ (n_dk + alpha)(n_wk + beta)/(n_k + V beta)`` from frozen counts, so
their draws agree in distribution (tests/sampler/test_sca_vs_sem.py), not bitwise.
"""
from __future__ import annotations

import numpy as np

from . import register
from ._kernels import sem_sweep
from .base import Sampler
from .state import ShardState


@register
class SEMSampler(Sampler):
    """Reference transition of the ``sca`` law; same interface as the fast samplers."""

    name = "sem"
    law = "sca"

    def __init__(self, state: ShardState, alpha: float, beta: float, **_):
        super().__init__(state, alpha, beta)
        self._cdf = np.empty(state.n_topics, np.float64)

    def sweep(self, stats, key) -> None:
        s = self.state
        theta = s.doc_topic_dense().astype(np.float64) + self.alpha  # unnormalised per doc
        est = np.maximum(stats.estimate(s.words), 0.0)
        phi = (est + self.beta) / (stats.topic_totals().astype(np.float64) + s.n_vocab * self.beta)
        sem_sweep(theta, phi, s.word_pair_ptr, s.pair_doc, s.pair_tok_ptr, s.tok_perm,
                  np.uint64(key), s.token_offset, s.z, self._cdf)
