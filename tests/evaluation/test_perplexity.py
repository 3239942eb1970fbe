"""Document-completion perplexity: exact small cases, normalisation, OOV accounting, engine path."""
import math

import numpy as np
import pytest

from lda_sketch.config import DENSE_SKETCH
from lda_sketch.run.engine import Engine, EngineParams
from lda_sketch.evaluation import completion_split, heldout_perplexity, unigram_perplexity
from lda_sketch.exceptions import InvalidParameterError
from lda_sketch.io.corpus import Corpus
from data_prep.synthetic import planted_corpus


def test_uniform_phi_gives_perplexity_v():
    held = Corpus.from_documents([np.array([0, 3, 3, 1, 2]), np.array([4, 4])], 7)
    phi = np.full((3, 7), 1 / 7)
    res = heldout_perplexity(phi, 0.1, held, n_iter=20)
    assert res["perplexity"] == pytest.approx(7.0, rel=1e-12)
    assert (res["n_observed"], res["n_scored"], res["n_oov"]) == (4, 3, 0)


def test_hand_computed_case():
    # one document [0, 1, 0, 2]: observed words 0, 0 (positions 0, 2), scored 1, 2.
    phi = np.array([[0.6, 0.3, 0.1],
                    [0.1, 0.2, 0.7]])
    alpha = 0.5
    held = Corpus.from_documents([np.array([0, 1, 0, 2])], 3)
    # one EM step from theta = (1/2, 1/2): resp(word 0) = (0.6, 0.1)/0.7, counted twice
    resp = np.array([0.6, 0.1]) / 0.7
    theta = (alpha + 2 * resp) / (2 * alpha + 2)
    ll = math.log(theta @ phi[:, 1]) + math.log(theta @ phi[:, 2])
    res = heldout_perplexity(phi, alpha, held, n_iter=1)
    assert res["perplexity"] == pytest.approx(math.exp(-ll / 2), rel=1e-12)
    assert res["loglik"] == pytest.approx(ll, rel=1e-12)


def _reference_perplexity(phi, alpha, docs, n_iter):
    """Plain numpy document completion: EM on even positions, log-likelihood of odd ones."""
    K = phi.shape[0]
    ll, n = 0.0, 0
    for doc in docs:
        obs, sc = doc[0::2], doc[1::2]
        theta = np.full(K, 1.0 / K)
        if obs.size:
            for _ in range(n_iter):
                resp = theta[:, None] * phi[:, obs]            # (K, tokens)
                theta = alpha + (resp / resp.sum(0)).sum(1)
                theta /= theta.sum()
        ll += np.log(theta @ phi[:, sc]).sum()
        n += sc.size
    return math.exp(-ll / n)


@pytest.mark.parametrize("n_threads", [1, 2])
def test_fold_in_matches_plain_em_reference(n_threads):
    """The vectorised kernel is the EM of the docstring, to ~1e-12, on ragged random documents."""
    import numba

    rng = np.random.default_rng(7)
    K, V = 13, 60
    phi = rng.dirichlet(np.full(V, 0.3), size=K)
    docs = [rng.integers(0, V, size=int(n)) for n in rng.integers(0, 40, size=25)]
    held = Corpus.from_documents(docs, V)
    old = numba.get_num_threads()
    numba.set_num_threads(min(n_threads, numba.config.NUMBA_NUM_THREADS))
    try:
        got = heldout_perplexity(phi, 0.2, held, n_iter=30)["perplexity"]
    finally:
        numba.set_num_threads(old)
    assert got == pytest.approx(_reference_perplexity(phi, 0.2, docs, 30), rel=1e-12)


def test_phi_must_be_normalised_over_the_vocabulary():
    held = Corpus.from_documents([np.array([0, 1])], 3)
    phi = np.array([[0.5, 0.4, 0.05]])  # sums to 0.95: e.g. normalised by n_k + V*beta of a sketch
    with pytest.raises(InvalidParameterError, match="summing to 1 over the whole vocabulary"):
        heldout_perplexity(phi, 0.1, held)


def test_out_of_vocabulary_ids_are_dropped_and_counted():
    held = Corpus(np.array([0, 6], np.int64), np.array([0, 9, 1, -1, 2, 2], np.int32), 10)
    sp = completion_split(held, 3)
    assert sp.n_oov == 2  # positions 1 and 3
    assert (sp.n_observed, sp.n_scored) == (3, 1)  # positions 0, 2, 4 observed; 5 scored
    res = heldout_perplexity(np.full((2, 3), 1 / 3), 0.1, held)
    assert res["n_oov"] == 2 and res["perplexity"] == pytest.approx(3.0)


def test_unigram_perplexity():
    held = Corpus.from_documents([np.array([0, 1, 2, 1])], 3)
    assert unigram_perplexity(np.array([5, 5, 5]), held, 0.01) == pytest.approx(3.0)
    # scored tokens are words 1 and 1: p = (c1 + beta)/(sum + V beta)
    p1 = (2 + 0.5) / (10 + 1.5)
    assert unigram_perplexity(np.array([4, 2, 4]), held, 0.5) == pytest.approx(1 / p1)


@pytest.fixture(scope="module")
def trained():
    full, phi = planted_corpus(360, 6, 300, 100, seed=3)
    return full.subset(np.arange(300)), full.subset(np.arange(300, 360)), phi


def test_engine_evaluate_matches_public_evaluator_and_decreases(trained):
    corpus, held, phi = trained
    eng = Engine(EngineParams(n_topics=6, sketch=DENSE_SKETCH, seed=1,
                              fold_in_iters=30), corpus, 300, heldout=held)
    eng.initialize()
    ppl = []
    for it in range(30):
        eng.step()
        if it in (0, 3, 29):
            res = eng.evaluate()
            ppl.append(res["perplexity"])
    direct = heldout_perplexity(eng.model().topic_word(), 0.1, held, n_iter=30)
    assert res["perplexity"] == pytest.approx(direct["perplexity"], rel=1e-12)
    assert ppl[0] > ppl[1] > ppl[2]
    assert res["perplexity"] < res["unigram_perplexity"]
    true_ppl = heldout_perplexity(phi, 0.1, held, n_iter=30)["perplexity"]
    # seeds 0-3 reach 1.03-1.16x the generating model's perplexity by iteration 30
    assert res["perplexity"] < 1.25 * true_ppl
    assert res["n_scored"] + res["n_observed"] == held.n_tokens
    assert res["train_loglik_per_token"] < 0


def test_transform_recovers_dominant_topic(trained):
    corpus, held, _ = trained
    eng = Engine(EngineParams(n_topics=6, sketch=DENSE_SKETCH, seed=1), corpus, 300)
    eng.initialize()
    for _ in range(15):
        eng.step()
    theta = eng.model().transform(held, n_iter=50)
    np.testing.assert_allclose(theta.sum(axis=1), 1.0, rtol=1e-12)
    # every held-out doc's best topic explains its words better than the average topic
    phi = eng.model().topic_word()
    for d in range(10):
        w = held.document(d)
        ll_best = np.log(phi[theta[d].argmax(), w]).sum()
        assert ll_best > np.log(phi[:, w]).sum(axis=1).mean()
