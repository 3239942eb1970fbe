"""``sca-collapsed``: every token draws the collapsed-Gibbs law of the frozen state (its own
assignment left out), all tokens at once.

* Chi-square: from fixed frozen states, R sweeps with independent keys, z reset to the frozen
  assignments before each; every token's topic frequencies against the exact law (the pooled
  chi-square of ``test_sca_vs_sem``: under the null a failure has probability 1e-6, seeds fixed),
  and the power check that plain SCA's law is rejected.
* Determinism: bitwise the same z for one and two threads (dense and Morris count-min).
* Training: lower held-out perplexity than plain SCA on the embedded corpus (paired, 5 seeds).
"""
import numpy as np
import pytest

from lda_sketch.config import DENSE_SKETCH
from lda_sketch.run.engine import Engine, EngineParams
from lda_sketch.sampler import SAMPLERS, SCACollapsedSampler
from data_prep.synthetic import planted_corpus
from test_sca_vs_sem import (P_MIN, R, embedded_perplexities, exact_law, frequencies,
                             pooled_chi2, z_for_one_and_two_threads)
from test_sca_vs_sem import one_thread  # noqa: F401  (autouse: one numba thread here too)


def test_registered():
    assert SAMPLERS["sca-collapsed"] is SCACollapsedSampler


@pytest.mark.statistical
@pytest.mark.parametrize("alpha", [0.01, 0.5])
def test_collapsed_kernel_draws_the_collapsed_gibbs_law(alpha, seed):
    corpus, _ = planted_corpus(24, 5, 40, 18, alpha=0.2, seed=seed + 11)
    eng = Engine(EngineParams(n_topics=5, sketch=DENSE_SKETCH, alpha=alpha, beta=0.05,
                              seed=seed), corpus, 40)
    eng.initialize()
    smp = SCACollapsedSampler(eng.state, alpha, 0.05, chunk_words=7)  # several chunks
    for it in range(3):  # three different frozen states of the chain
        obs = frequencies(smp, eng, seed, reset=True)
        pval, df = pooled_chi2(obs, exact_law(eng, gibbs=True), R)
        assert df > 100
        assert pval > P_MIN, f"iteration {it}: p = {pval:.3g} (df {df})"
        # power: the same draws reject plain SCA's law (own assignment counted)
        assert pooled_chi2(obs, exact_law(eng), R)[0] < P_MIN
        eng.step()


@pytest.mark.parametrize("backend", ["dense", "countmin-morris"])
def test_bitwise_identical_for_one_and_two_threads(backend):
    runs = z_for_one_and_two_threads("sca-collapsed", backend, 6)
    np.testing.assert_array_equal(runs[0], runs[1])
    assert np.unique(runs[0]).size > 1


@pytest.mark.slow  # builds (or opens) the embedded corpus; ~10 s of training
@pytest.mark.statistical
def test_lower_heldout_perplexity_than_plain_sca():
    """5 seeds x 30 iterations, K = 20, on the embedded corpus, each seed's two runs from the
    same initial state: the paired differences (collapsed - plain) must be negative by a
    one-sided paired t-test at level 1% (t < -3.747 with 4 degrees of freedom)."""
    from scipy.stats import t as student_t

    ppl = embedded_perplexities(("sca", "sca-collapsed"), range(5))
    d = np.array(ppl["sca-collapsed"]) - np.array(ppl["sca"])
    t = d.mean() / (d.std(ddof=1) / np.sqrt(d.size))
    assert t < student_t.ppf(0.01, d.size - 1), ppl
