"""Compile the hot kernels once on tiny inputs (numba's on-disk cache serves every later run).

:func:`run` compiles every kernel (the test suite, the demo); :func:`for_config` only what one
config uses (its backend with its update rule and parts, its sampler, evaluation), and
:func:`prepare` runs that so a first run says it is compiling instead of waiting silently, and
so the compile time stays out of the run's timings.
"""
from __future__ import annotations

import dataclasses
import logging
import threading
import time

import numpy as np

from ..config import DENSE_SKETCH

log = logging.getLogger(__name__)

#: A warm-up longer than this is a compilation (a warm cache loads in well under a second).
ANNOUNCE_AFTER_S = 1.0


def run() -> None:
    """Call each jitted kernel once. Safe to call repeatedly."""
    from ..stats import BACKENDS
    from ..sampler import SAMPLERS

    for cls in BACKENDS.values():
        # a backend may list parameter sets that compile different kernels or dtypes
        for extra in getattr(cls, "warmup_variants", ({},)):
            _backend(cls(n_topics=2, n_vocab=4, seed=0, **extra))
    _sampler_and_evaluation([k for cls in SAMPLERS.values() for k in cls.kernels_for(2)]
                            + [k for cls in SAMPLERS.values() for k in cls.kernels_for(10**4)])


def for_config(cfg) -> None:
    """Compile what ``cfg`` uses: its backend (same update rule, counter width, support, rescale
    and head, on 16 buckets), its sampler, the rebuild and evaluation kernels. A section still
    waiting for its byte budget is resolved on made-up counts: the parts the budget picks
    (support, head, rule) are what matter here, not their sizes."""
    from ..sampler import SAMPLERS
    from ..stats import BACKENDS
    from ..stats.budget import needs_counts, resolve_sketch

    sk = cfg.sketch
    if needs_counts(sk):
        sk = resolve_sketch(sk, cfg.model.n_topics, np.ones(64, np.int64))[0]
    tiny = {"n_buckets": 16, "head_words": min(sk.head_words or 0, 2)}
    section = dataclasses.replace(sk, budget=None, **tiny)
    _backend(BACKENDS[sk.backend].from_config(section, n_topics=2, n_vocab=4, seed=0))
    _sampler_and_evaluation(SAMPLERS[cfg.sampler.sampler].kernels_for(cfg.model.n_topics))


def prepare(cfg, *, announce: bool = True) -> float:
    """Compile ``cfg``'s kernels (:func:`for_config`); when that takes longer than
    :data:`ANNOUNCE_AFTER_S`, log that kernels are compiling (first run only) and how long it
    took. Returns the seconds spent (kept out of a run's timings, recorded as ``compile_s``)."""
    timer = threading.Timer(ANNOUNCE_AFTER_S, log.info,
                            ("compiling kernels (first run only; numba caches them on disk)",))
    if announce:
        timer.start()
    t0 = time.perf_counter()
    try:
        for_config(cfg)
    finally:
        timer.cancel()
    seconds = time.perf_counter() - t0
    if announce and seconds > ANNOUNCE_AFTER_S:
        log.info("kernels ready in %.1f s", seconds)
    return seconds


def _backend(s) -> None:
    words = np.array([0, 1, 1], np.int64)
    topics = np.array([0, 1, 1], np.int64)
    counts = np.array([1, 2, 3], np.int64)
    s.add(words, topics, counts, key=np.uint64(1))
    s.add_runs(words[:2], np.array([0, 1, 3], np.int64), topics.astype(np.uint16),
               key=np.uint64(1))  # the fused build (where the backend has one)
    s.estimate(words)
    s.merge(s.empty_like(), key=np.uint64(2))


def _sampler_and_evaluation(kernels) -> None:
    """Compile the sampler classes' sweeps (``kernels``), the rebuild and the evaluation kernels
    on a 2-document corpus."""
    from .engine import Engine, EngineParams
    from ..io.corpus import Corpus

    from .. import rng

    rng.uniforms(rng.key_for(0, 1, 0), 0, 4)
    corpus = Corpus.from_documents([np.array([0, 1, 1, 2]), np.array([3, 0])], 4)
    eng = Engine(EngineParams(n_topics=2, sketch=DENSE_SKETCH, fold_in_iters=2), corpus, 4,
                 heldout=corpus)
    eng.initialize()
    eng.step()
    for cls in dict.fromkeys(kernels):
        cls(eng.state, eng.params.alpha, eng.params.beta).sweep(eng.stats, np.uint64(3))
    eng.state.rebuild_doc_topics()
    eng.optimize_alpha()  # the kernels of [model] optimize_alpha_every
    eng.evaluate()
    eng.model().transform(corpus, n_iter=1)
