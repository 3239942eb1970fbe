"""The ``sca-sparse`` kernel draws the exact SCA law.

* Chi-square: from fixed frozen states, R sweeps with independent keys; every token's topic
  frequencies are tested against the exact law (pooled chi-square of ``test_sca_vs_sem``; under
  the null a test fails with probability 1e-6, seeds fixed). The settings cover both document
  paths (topic bitsets, and the list walk of short documents), and K = 150, whose bitsets span
  three 64-bit words and whose word draws bisect three 64-topic blocks, and K = 4,200, whose
  words have more than 64 nonzero bitset words (a multi-word summary).
* Determinism: bitwise the same z for one and two threads, dense and Morris sketch.
* Training: the same held-out perplexity as the reference kernel, within seed noise.
"""
import numba
import numpy as np
import pytest

from lda_sketch.config import DENSE_SKETCH
from lda_sketch.run.engine import Engine, EngineParams
from lda_sketch.sampler import SAMPLERS, SCASparseSampler
from lda_sketch.sampler._bitops_kernels import popcount, trailing_zeros
from data_prep.synthetic import planted_corpus
from test_sca_vs_sem import (embedded_perplexities, steps_drawing_the_exact_law,
                             z_for_one_and_two_threads)
from test_sca_vs_sem import one_thread  # noqa: F401  (autouse: one numba thread here too)


def test_registered():
    assert SAMPLERS["sca-sparse"] is SCASparseSampler


def test_bit_intrinsics_match_python():
    @numba.njit
    def both(x):
        return popcount(x), trailing_zeros(x)

    rng = np.random.default_rng(0)
    values = [0, 1, 2**63, 2**64 - 1] + [int(v) for v in rng.integers(0, 2**63, 50)] + \
        [1 << i for i in range(64)]
    for v in values:
        tz = (v & -v).bit_length() - 1 if v else 64
        assert both(np.uint64(v)) == (bin(v).count("1"), tz), v


@pytest.mark.statistical
@pytest.mark.parametrize("n_topics,bitset_min", [(5, 1), (5, 10**9), (150, 1), (150, 10**9),
                                                  (4200, 1)])
def test_sparse_kernel_draws_the_exact_sca_law(n_topics, bitset_min, seed):
    big = n_topics > 4096  # then words with hundreds of tokens, spread over > 64 bitset words
    n_vocab, doc_len = (3, 36) if big else (40, 18)
    corpus, _ = planted_corpus(48 if big else 24, 5, n_vocab, doc_len, alpha=0.2, seed=seed + 11)
    alpha = 0.01 if big else 0.3  # a law not spread below 5 expected draws a cell
    eng = Engine(EngineParams(n_topics=n_topics, sketch=DENSE_SKETCH, alpha=alpha, beta=0.05,
                              seed=seed), corpus,
                 n_vocab)
    eng.initialize()
    smp = SCASparseSampler(eng.state, alpha, 0.05, chunk_words=7, bitset_min_topics=bitset_min)
    for _ in steps_drawing_the_exact_law(eng, smp, seed, f"K={n_topics}"):
        work = smp.diagnostics()
        if bitset_min == 1:  # every document through its bitset
            assert work["bitset_words_per_pair"] >= 1 and work["list_entries_per_pair"] == 0
        else:
            assert work["bitset_words_per_pair"] == 0 and work["list_entries_per_pair"] >= 1
        # the intersection is never more than the document's topics, and not empty everywhere
        assert 0 < work["intersection_per_pair"] <= doc_len
        if big:
            assert work["bitset_words_per_pair"] > 64  # the summary spans two uint64


@pytest.mark.parametrize("backend", ["dense", "countmin-morris"])
def test_bitwise_identical_for_one_and_two_threads(backend):
    runs = z_for_one_and_two_threads("sca-sparse", backend, 70)
    np.testing.assert_array_equal(runs[0], runs[1])


@pytest.mark.slow  # builds (or opens) the embedded corpus; ~20 s of training
@pytest.mark.statistical
def test_same_heldout_perplexity_as_the_reference_kernel():
    """3 seeds x 30 iterations, K = 20, on the embedded corpus. The kernels' mean perplexities
    must agree within 3 standard errors of their difference (pooled between-seed variance)."""
    ppl = embedded_perplexities(("sca", "sca-sparse"), range(3))
    a, b = np.array(ppl["sca"]), np.array(ppl["sca-sparse"])
    se = np.sqrt((a.var(ddof=1) + b.var(ddof=1)) / 2 * (2 / a.size))
    assert abs(a.mean() - b.mean()) < 3 * se + 1e-9, ppl
