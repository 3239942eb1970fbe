"""Compile every hot kernel once on tiny inputs (uses numba's on-disk cache after the first run)."""
from __future__ import annotations

import numpy as np

from ..config import DENSE_SKETCH


def run() -> None:
    """Call each jitted kernel once. Safe to call repeatedly."""
    from .. import rng
    from ..stats import BACKENDS

    rng.uniforms(rng.key_for(0, 1, 0), 0, 4)
    words = np.array([0, 1, 1], np.int64)
    topics = np.array([0, 1, 1], np.int64)
    counts = np.array([1, 2, 3], np.int64)
    for cls in BACKENDS.values():
        # a backend may list parameter sets that compile different kernels or dtypes
        for extra in getattr(cls, "warmup_variants", ({},)):
            s = cls(n_topics=2, n_vocab=4, seed=0, **extra)
            s.add(words, topics, counts, key=np.uint64(1))
            s.add_runs(words[:2], np.array([0, 1, 3], np.int64), topics.astype(np.uint16),
                       key=np.uint64(1))  # the fused build (where the backend has one)
            s.estimate(words)
            s.merge(s.empty_like(), key=np.uint64(2))
    _sampler_and_evaluation()


def _sampler_and_evaluation() -> None:
    """Compile every registered sampler's kernels, the rebuild and the evaluation kernels on a
    2-document corpus."""
    from .engine import Engine, EngineParams
    from ..io.corpus import Corpus
    from ..sampler import SAMPLERS

    corpus = Corpus.from_documents([np.array([0, 1, 1, 2]), np.array([3, 0])], 4)
    for sampler in SAMPLERS:
        eng = Engine(EngineParams(n_topics=2, sketch=DENSE_SKETCH, sampler=sampler,
                                  fold_in_iters=2), corpus, 4,
                     heldout=corpus)
        eng.initialize()
        eng.step()
    eng.evaluate()
    eng.model().transform(corpus, n_iter=1)
