"""The ``sca-rejection`` kernel draws the exact SCA law, whatever its stopping rule.

* Chi-square: from fixed frozen states, R sweeps with independent keys; every token's topic
  frequencies are tested against the exact law (pooled chi-square of ``test_sca_vs_sem``; under
  the null a test fails with probability 1e-6, seeds fixed). The settings cover the three paths:
  ``eps = 0`` (every topic summed, the reference decomposition), a partial head walked one topic
  at a time (``block = 1``), and pure rejection from the word (huge ``eps``: no head at all).
* Determinism: bitwise the same z for one and two threads.
* Training: same held-out perplexity as the reference kernel after a short run on the embedded
  corpus, within seed noise.
"""
import numpy as np
import pytest

from lda_sketch.config import DENSE_SKETCH
from lda_sketch.run.engine import Engine, EngineParams
from lda_sketch.sampler import SAMPLERS, SCARejectionSampler
from data_prep.synthetic import planted_corpus
from test_sca_vs_sem import (embedded_perplexities, steps_drawing_the_exact_law,
                             z_for_one_and_two_threads)
from test_sca_vs_sem import one_thread  # noqa: F401  (autouse: one numba thread here too)


def test_registered():
    assert SAMPLERS["sca-rejection"] is SCARejectionSampler


@pytest.mark.statistical
@pytest.mark.parametrize("eps,block", [(0.0, 16), (0.5, 1), (1e9, 16)])
def test_rejection_kernel_draws_the_exact_sca_law(eps, block, seed):
    corpus, _ = planted_corpus(24, 5, 40, 18, alpha=0.2, seed=seed + 11)
    alpha = 0.3
    eng = Engine(EngineParams(n_topics=5, sketch=DENSE_SKETCH, alpha=alpha, beta=0.05,
                              seed=seed), corpus, 40)
    eng.initialize()
    smp = SCARejectionSampler(eng.state, alpha, 0.05, chunk_words=7, eps=eps, block=block,
                              alias_min_tokens=6)  # both alias tables and prefix sums
    for _ in steps_drawing_the_exact_law(eng, smp, seed, f"eps={eps}, block={block}"):
        st = smp.diagnostics()
        if eps == 0.0:
            assert st["acceptance"] == 1.0
        else:  # the rejection path really ran, and the bound 1/(1 + eps) holds on average
            assert st["word_proposals_per_token"] > 0.1
            assert st["acceptance"] < 1.0
            assert st["acceptance"] >= 1 / (1 + eps) - 0.02
        if eps > 1e6:
            assert st["head_topics_per_pair"] == 0.0


@pytest.mark.parametrize("backend", ["dense", "countmin-morris"])
def test_bitwise_identical_for_one_and_two_threads(backend):
    def rejection_on_most_pairs(eng):
        eng._sampler.eps = 0.5
        eng._sampler.alias_min_tokens = 30

    runs = z_for_one_and_two_threads("sca-rejection", backend, 6, rejection_on_most_pairs)
    np.testing.assert_array_equal(runs[0], runs[1])


@pytest.mark.slow  # builds (or opens) the embedded corpus; ~20 s of training
@pytest.mark.statistical
def test_same_heldout_perplexity_as_the_reference_kernel():
    """3 seeds x 30 iterations, K = 20, on the embedded corpus. The kernels' mean perplexities
    must agree within 3 standard errors of their difference (pooled between-seed variance):
    a two-sided level of about 0.3% if the seed noise is normal."""
    ppl = embedded_perplexities(("sca", "sca-rejection"), range(3))
    a, b = np.array(ppl["sca"]), np.array(ppl["sca-rejection"])
    se = np.sqrt((a.var(ddof=1) + b.var(ddof=1)) / 2 * (2 / a.size))
    assert abs(a.mean() - b.mean()) < 3 * se + 1e-9, ppl
