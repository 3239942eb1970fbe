"""SCA (sparse + alias kernel) and SEM (plain inverse CDF) are the same transition.

From a fixed frozen state, both samplers are run R times with independent iteration keys; each
token's topic frequencies are compared by a pooled chi-square goodness-of-fit test with the exact
SCA law ``p(k) ∝ (n_dk + alpha)(n_wk + beta)/(n_k + V beta)`` computed here in numpy. Under the
null the test fails with probability 1e-6; the seeds are fixed, so the outcome is deterministic.
A power check shows the same test rejects the collapsed-Gibbs law (own topic subtracted).
"""
import numba
import numpy as np
import pytest
from scipy.stats import chi2

from lda_sketch.config import DENSE_SKETCH, SketchConfig
from lda_sketch.run.engine import Engine, EngineParams
from lda_sketch.rng import STREAM_SAMPLER, key_for
from lda_sketch.sampler import SCASampler, SEMSampler
from data_prep.synthetic import planted_corpus

R = 1500
P_MIN = 1e-6


@pytest.fixture(autouse=True)
def one_thread():
    """Thousands of tiny sweeps: on a loaded machine every 2-thread kernel launch waits for a
    core (ms each). Draws do not depend on the thread count (test_engine checks that)."""
    before = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        yield
    finally:
        numba.set_num_threads(before)


def exact_law(engine, gibbs=False):
    """(n_tokens_wordmajor, K) transition probabilities of every z slot."""
    s, p = engine.state, engine.params
    n_dk = engine.doc_topic().astype(np.float64)
    n_wk = engine.stats.estimate(s.words)
    n_k = engine.stats.topic_totals().astype(np.float64)
    word_of_pair = np.repeat(np.arange(s.n_words), np.diff(s.word_pair_ptr))
    counts = np.diff(s.pair_tok_ptr)
    d = np.repeat(s.pair_doc, counts)
    w = np.repeat(word_of_pair, counts)
    a, b, c = n_dk[d], n_wk[w], np.broadcast_to(n_k, n_dk[d].shape).copy()
    if gibbs:  # collapsed Gibbs: remove the token's own current assignment
        rows = np.arange(s.n_tokens)
        a[rows, s.z] -= 1
        b[rows, s.z] -= 1
        c[rows, s.z] -= 1
    prob = (a + p.alpha) * (b + p.beta) / (c + engine.n_vocab * p.beta)
    return prob / prob.sum(axis=1, keepdims=True)


def pooled_chi2(obs, prob, n):
    """Chi-square p-value; per token, cells with expectation < 5 are pooled (and the pool is
    merged into the smallest kept cell when it is itself < 5)."""
    stat, df = 0.0, 0
    for o, pr in zip(obs, prob):
        e = pr * n
        order = np.argsort(-e)
        e, o = e[order], o[order]
        big = e >= 5
        eo = list(e[big]) + [e[~big].sum()]
        oo = list(o[big]) + [o[~big].sum()]
        if eo[-1] < 5 and len(eo) > 1:
            e_rest, o_rest = eo.pop(), oo.pop()
            eo[-1] += e_rest
            oo[-1] += o_rest
        if len(eo) < 2:
            continue
        eo, oo = np.array(eo), np.array(oo)
        stat += float(((oo - eo) ** 2 / eo).sum())
        df += len(eo) - 1
    return chi2.sf(stat, df), df


def frequencies(sampler, engine, seed, *, reset=False):
    """(n_tokens, K) topic counts of every z slot over R sweeps with independent keys.
    ``reset``: restore the frozen z before every sweep (for samplers whose law reads z)."""
    s = engine.state
    z0 = s.z.copy()
    obs = np.zeros((s.n_tokens, engine.params.n_topics), np.int64)
    rows = np.arange(s.n_tokens)
    for r in range(R):
        if reset:
            s.z[:] = z0
        sampler.sweep(engine.stats, key_for(seed, STREAM_SAMPLER, 10_000 + r))
        np.add.at(obs, (rows, s.z.astype(np.int64)), 1)
    s.z[:] = z0  # the engine's chain continues from its own z
    return obs


@pytest.mark.statistical
@pytest.mark.parametrize("alpha", [0.01, 0.5])
def test_sca_and_sem_draw_the_exact_sca_law(alpha, seed):
    corpus, _ = planted_corpus(24, 5, 40, 18, alpha=0.2, seed=seed + 11)
    eng = Engine(EngineParams(n_topics=5, sketch=DENSE_SKETCH, alpha=alpha, beta=0.05,
                              seed=seed), corpus, 40)
    eng.initialize()
    samplers = [SCASampler(eng.state, alpha, 0.05, chunk_words=7),  # several chunks
                SEMSampler(eng.state, alpha, 0.05)]
    for it in range(3):  # three different frozen states of the chain
        law = exact_law(eng)
        for smp in samplers:
            pval, df = pooled_chi2(frequencies(smp, eng, seed), law, R)
            assert df > 100
            assert pval > P_MIN, f"{smp.name} at iteration {it}: p = {pval:.3g} (df {df})"
        eng.step()


@pytest.mark.statistical
def test_chi_square_has_power_against_gibbs_law(seed):
    corpus, _ = planted_corpus(24, 5, 40, 18, alpha=0.2, seed=seed + 11)
    eng = Engine(EngineParams(n_topics=5, sketch=DENSE_SKETCH, alpha=0.01, beta=0.05,
                              seed=seed), corpus, 40)
    eng.initialize()
    eng.step()
    obs = frequencies(SCASampler(eng.state, 0.01, 0.05), eng, seed)
    assert pooled_chi2(obs, exact_law(eng), R)[0] > P_MIN
    assert pooled_chi2(obs, exact_law(eng, gibbs=True), R)[0] < P_MIN


def z_for_one_and_two_threads(sampler, backend, n_topics, configure=None):
    """z (doc-major) after 3 iterations on the planted test corpus with 1 and then 2 numba
    threads; ``configure(engine)`` may adjust the sampler before initialisation."""
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("numba has fewer than 2 threads (NUMBA_NUM_THREADS)")
    corpus, _ = planted_corpus(60, 6, 120, 40, seed=5)
    bp = {"n_hashes": 3, "n_buckets": 256} if backend != "dense" else {}
    runs = []
    for nt in (1, 2):
        numba.set_num_threads(nt)
        eng = Engine(EngineParams(n_topics=n_topics, sketch=SketchConfig(backend=backend, **bp),
                                  seed=3, sampler=sampler), corpus, 120)
        if configure is not None:
            configure(eng)
        eng.initialize()
        for _ in range(3):
            eng.step()
        runs.append(eng.state.z_doc_major())
    return runs


def embedded_perplexities(samplers, seeds, n_iter=30):
    """{sampler: [held-out perplexity per seed]} after ``n_iter`` iterations at K = 20 on the
    embedded corpus (30 fold-in steps)."""
    from data_prep.embedded import build_embedded_corpus

    train, held = build_embedded_corpus()
    ppl = {}
    for seed in seeds:
        for sampler in samplers:
            eng = Engine(EngineParams(n_topics=20, sketch=DENSE_SKETCH, sampler=sampler, seed=seed,
                                      fold_in_iters=30),
                         train, train.n_vocab, heldout=held)
            eng.initialize()
            for _ in range(n_iter):
                eng.step()
            ppl.setdefault(sampler, []).append(eng.evaluate()["perplexity"])
    return ppl


def steps_drawing_the_exact_law(engine, sampler, seed, label, steps=2):
    """Yields after each of ``steps`` engine steps, once ``sampler`` (whose ``counters`` are
    zeroed first) has drawn the exact SCA law of that frozen state by the pooled chi-square."""
    for it in range(steps):
        engine.step()
        sampler.counters[:] = 0
        pval, df = pooled_chi2(frequencies(sampler, engine, seed), exact_law(engine), R)
        assert df > 100
        assert pval > P_MIN, f"{label}, step {it}: p = {pval:.3g} (df {df})"
        yield it
