"""Every registered sampler keeps the contract of :class:`lda_sketch.sampler.base.Sampler`.

Over ``SAMPLERS`` (a new sampler is checked by registering it): it subclasses ``Sampler`` and names
a law of ``LAWS``; from a frozen state its draws follow that law (pooled chi-square over R sweeps
with independent keys, level P_MIN = 1e-6 at fixed seeds, as test_sca_vs_sem); 1 and 2 threads
give bitwise the same z; its planned index bytes (``planned_nbytes``, used by the memory plan)
are within 25 % of what it allocates. Resume bitwise is in test_engine and 1 rank against 2 and 3
in tests/mpi/test_engine_mpi, both parametrised over ``SAMPLERS`` too.
"""
import numba
import numpy as np
import pytest

from data_prep.synthetic import planted_corpus
from lda_sketch.config import DENSE_SKETCH
from lda_sketch.run.engine import Engine, EngineParams
from lda_sketch.sampler import LAWS, SAMPLERS, Sampler
from test_sca_vs_sem import P_MIN, R, exact_law, frequencies, one_thread, pooled_chi2  # noqa: F401

NAMES = sorted(SAMPLERS)


def _engine(name, corpus, n_vocab, seed, n_topics=5, alpha=0.1):
    eng = Engine(EngineParams(n_topics=n_topics, sketch=DENSE_SKETCH, alpha=alpha, beta=0.05,
                              seed=seed, sampler=name), corpus, n_vocab)
    eng.initialize()
    return eng


def test_every_sampler_is_registered_and_names_its_law():
    assert NAMES and all(issubclass(SAMPLERS[n], Sampler) for n in NAMES)
    assert {n: SAMPLERS[n].name for n in NAMES} == {n: n for n in NAMES}
    assert all(SAMPLERS[n].law in LAWS for n in NAMES)


@pytest.mark.statistical
@pytest.mark.parametrize("name", NAMES)
def test_draws_follow_the_law_the_sampler_claims(name, seed):
    corpus, _ = planted_corpus(24, 5, 40, 18, alpha=0.2, seed=seed + 11)
    eng = _engine(name, corpus, 40, seed)
    eng.step()
    collapsed = SAMPLERS[name].law == "sca-collapsed"
    prob = exact_law(eng, gibbs=collapsed)
    obs = frequencies(eng._sampler, eng, seed, reset=collapsed)
    p, df = pooled_chi2(obs, prob, R)
    assert df > 100 and p > P_MIN, (name, p, df)


@pytest.mark.parametrize("name", NAMES)
def test_one_and_two_threads_draw_bitwise_the_same(name):
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("numba has one thread here")
    corpus, _ = planted_corpus(60, 6, 120, 30, seed=4)
    zs = []
    for threads in (1, 2):
        numba.set_num_threads(threads)
        eng = _engine(name, corpus, 120, 7, n_topics=6)
        for _ in range(3):
            eng.step()
        zs.append(eng.state.z_doc_major().copy())
    np.testing.assert_array_equal(zs[0], zs[1])


@pytest.mark.parametrize("name", NAMES)
def test_planned_index_bytes_match_what_the_sampler_allocates(name):
    corpus, _ = planted_corpus(80, 6, 300, 40, seed=2)
    for n_topics in (8, 200, 600):  # 600: the sca sampler's sparse path
        eng = _engine(name, corpus, 300, 1, n_topics=n_topics)
        s, held = eng.state, eng._sampler.nbytes
        planned = SAMPLERS[name].planned_nbytes(
            n_tokens=s.n_tokens, n_docs=s.n_docs, n_topics=n_topics,
            doc_len=s.n_tokens / s.n_docs, pairs_per_token=s.n_pairs / s.n_tokens,
            chunk_words=min(4096, s.n_words))
        if held == 0:
            assert planned == 0, (name, n_topics)
        else:
            assert 0.75 * held <= planned <= 1.25 * held, (name, n_topics, planned, held)


def test_the_default_sampler_takes_the_faster_path_for_its_k():
    """``sca`` is its alias path below SPARSE_MIN_TOPICS and its sparse path from there, bit for
    bit (the two paths draw the same law with different bits)."""
    from lda_sketch.sampler import SCAAliasSampler, SCASampler, SCASparseSampler
    from lda_sketch.sampler.sca import SPARSE_MIN_TOPICS

    corpus, _ = planted_corpus(30, 4, 200, 20, seed=3)
    for n_topics, path in ((SPARSE_MIN_TOPICS - 1, SCAAliasSampler),
                           (SPARSE_MIN_TOPICS, SCASparseSampler)):
        eng = _engine("sca", corpus, 200, 5, n_topics=n_topics)
        assert eng._sampler.path == path.name and eng._sampler.diagnostics()["path"] == path.name
        z0 = eng.state.z.copy()
        eng._sampler.sweep(eng.stats, 99)
        z_auto = eng.state.z.copy()
        eng.state.z[:] = z0
        path(eng.state, eng.params.alpha, eng.params.beta).sweep(eng.stats, 99)
        np.testing.assert_array_equal(z_auto, eng.state.z)
        assert SCASampler.planned_nbytes(
            n_tokens=600, n_docs=30, n_topics=n_topics, doc_len=20, pairs_per_token=0.8,
            chunk_words=200) == path.planned_nbytes(
            n_tokens=600, n_docs=30, n_topics=n_topics, doc_len=20, pairs_per_token=0.8,
            chunk_words=200)
