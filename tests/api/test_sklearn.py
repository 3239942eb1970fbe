"""The scikit-learn protocol (issue 15, section 4; bugs 4 and 9): clone, get/set_params,
fit_transform, components_, score, Pipeline(CountVectorizer, LDASketch), GridSearchCV,
continue_fit (no partial_fit), fit(verbose=, callback=)."""
from __future__ import annotations

import math

import numpy as np
import pytest

from lda_sketch import LDASketch
from lda_sketch.io.corpus import heldout_split

sklearn = pytest.importorskip("sklearn")
from sklearn.base import clone  # noqa: E402
from sklearn.feature_extraction.text import CountVectorizer  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402

FAST = dict(backend="countmin", n_buckets=1024, n_iter=15, fold_in_iters=15, seed=3)


@pytest.fixture(scope="module")
def texts(planted):
    corpus = planted[0]
    return [" ".join(corpus.vocab[i] for i in corpus.document(d)) for d in range(corpus.n_docs)]


def test_get_params_deep_false_and_clone():
    m = LDASketch(7, alpha=0.3, n_buckets=512)
    assert m.get_params(deep=False) == m.get_params(deep=True)
    c = clone(m)
    assert c is not m and c.get_params() == m.get_params() and c.model_ is None
    assert m.set_params(n_topics=4, beta=0.05) is m and (m.n_topics, m.beta) == (4, 0.05)


def test_pipeline_fit_transform_score_and_components(texts):
    pipe = Pipeline([("cv", CountVectorizer()), ("lda", LDASketch(6, **FAST))])
    theta = pipe.fit_transform(texts)
    assert theta.shape == (len(texts), 6)
    np.testing.assert_allclose(theta.sum(axis=1), 1.0, rtol=1e-12)
    lda = pipe.named_steps["lda"]
    assert lda.components_.shape == (6, len(pipe.named_steps["cv"].vocabulary_))
    np.testing.assert_array_equal(lda.components_, lda.topic_word_)
    np.testing.assert_array_equal(pipe.transform(texts), theta)
    # score: held-out log-likelihood per scored token = -log(perplexity); higher is better
    X = pipe.named_steps["cv"].transform(texts)
    assert pipe.score(texts) == pytest.approx(-math.log(lda.perplexity(X)), rel=1e-12)
    bad = LDASketch(6, **{**FAST, "n_iter": 0}).fit(X)
    assert bad.score(X) < lda.score(X)


@pytest.mark.slow  # 9 fits
def test_grid_search_over_topics_and_buckets(texts):
    pipe = Pipeline([("cv", CountVectorizer()), ("lda", LDASketch(2, **FAST))])
    gs = GridSearchCV(pipe, {"lda__n_topics": [1, 6], "lda__n_buckets": [256, 1024]}, cv=2)
    gs.fit(texts)
    # the corpus has 6 planted topics: one topic cannot score as well
    assert gs.best_params_["lda__n_topics"] == 6
    assert np.all(np.isfinite(gs.cv_results_["mean_test_score"]))


def test_no_partial_fit_attribute_and_the_feature_names_of_a_pipeline(texts):
    """Tools ask hasattr(est, "partial_fit"): it would only raise, so it is absent (more
    iterations on the fitted corpus: continue_fit). n_features_in_ and get_feature_names_out
    follow scikit-learn once fitted."""
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.pipeline import Pipeline

    assert not hasattr(LDASketch(3), "partial_fit")
    assert not hasattr(LDASketch(3), "n_features_in_")
    pipe = Pipeline([("cv", CountVectorizer()), ("lda", LDASketch(3, **FAST))]).fit(texts[:60])
    lda = pipe.named_steps["lda"]
    assert lda.n_features_in_ == len(pipe.named_steps["cv"].vocabulary_)
    assert list(pipe.get_feature_names_out()) == ["ldasketch0", "ldasketch1", "ldasketch2"]


@pytest.fixture(scope="module")
def split(planted):
    corpus = planted[0]
    keep, held = heldout_split(corpus.n_docs, 40, 0)
    return corpus.subset(keep), corpus.subset(held)


def _count_evaluations(model):
    calls = []
    real = model._engine.train_loglik_per_token
    model._engine.train_loglik_per_token = lambda: calls.append(1) or real()
    return calls


def test_continue_fit_1_in_a_loop_pays_no_evaluation_in_between(split):
    # bug 9: every partial_fit call ended with a training log-likelihood over all tokens
    m = LDASketch(6, backend="dense", n_iter=2, seed=1, evaluate_every=5).fit(split[0])
    assert [h["iteration"] for h in m.history_] == [2]  # fit() evaluates at its end
    calls = _count_evaluations(m)
    for _ in range(2):  # iterations 3 and 4
        m.continue_fit(1)
    assert calls == [] and [h["iteration"] for h in m.history_] == [2]
    m.continue_fit(1)  # iteration 5: evaluate_every is due
    assert len(calls) == 1 and [h["iteration"] for h in m.history_] == [2, 5]
    # with held-out data every call still ends with an evaluation
    h = LDASketch(6, backend="dense", n_iter=2, seed=1, evaluate_every=5).fit(
        split[0], heldout=split[1])
    h.continue_fit(1)
    assert [r["iteration"] for r in h.history_] == [2, 3]


def test_fit_verbose_prints_one_line_per_evaluation_and_calls_back(split, capsys):
    seen = []
    m = LDASketch(6, backend="dense", n_iter=4, seed=1, evaluate_every=2, fold_in_iters=10)
    m.fit(split[0], heldout=split[1], verbose=True, callback=seen.append)
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and err[0].startswith("lda_sketch: iteration 2, perplexity ")
    assert [r["iteration"] for r in seen] == [2, 4]
    assert seen[-1]["perplexity"] == m.history_[-1]["perplexity"]
    m.continue_fit(2, callback=seen.append)
    assert [r["iteration"] for r in seen] == [2, 4, 6] and capsys.readouterr().err == ""


# scikit-learn's estimator checks that apply. The others feed random float matrices (refused:
# LDA needs integer counts, so tf-idf input is an error by design) or expect scikit-learn's own
# error messages and exception types (e.g. NotFittedError deriving from AttributeError);
# docs/USAGE.md lists them.
APPLICABLE = ("check_estimator_cloneable", "check_estimator_repr",
              "check_no_attributes_set_in_init", "check_do_not_raise_errors_in_init_or_set_params",
              "check_estimator_sparse_matrix", "check_parameters_default_constructible",
              "check_get_params_invariance", "check_set_params", "check_fit1d",
              "check_fit_non_negative")


def test_applicable_scikit_learn_estimator_checks_pass():
    import warnings

    from sklearn.utils.estimator_checks import check_estimator

    est = LDASketch(3, backend="dense", n_iter=2, fold_in_iters=2, evaluate_every=None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = {r["check_name"]: r["status"] for r in check_estimator(est, on_fail=None)}
    assert {c: results.get(c) for c in APPLICABLE} == {c: "passed" for c in APPLICABLE}


def test_ctrl_c_in_fit_raises_keyboard_interrupt_at_an_iteration_boundary(tmp_path):
    """Not SystemError from inside a kernel: the fit stops after a whole iteration and the
    estimator holds that iteration's model."""
    import signal
    import subprocess
    import sys

    code = """if True:
        import sys
        from lda_sketch import LDASketch
        from data_prep.synthetic import planted_corpus
        corpus, _ = planted_corpus(300, 6, 400, 60, seed=1)
        model = LDASketch(6, n_iter=100000, evaluate_every=1, budget="1/6")
        try:
            model.fit(corpus, callback=lambda rec: print("it", rec["iteration"], flush=True))
        except KeyboardInterrupt:
            print("stopped at", model.n_iter_, model.model_.iteration, flush=True)
            sys.exit(3)
    """
    # SIGINT as in a terminal: a suite started in the background (`cmd &`) inherits it ignored
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    while not proc.stdout.readline().startswith("it "):
        pass
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 3, err[-2000:]
    assert "SystemError" not in err
    last = out.strip().splitlines()[-1].split()
    assert last[:2] == ["stopped", "at"] and last[2] == last[3] and int(last[2]) >= 1


def test_set_vocab_carries_the_vectorizers_words_through_a_pipeline(texts, tmp_path):
    """A Pipeline hands LDASketch a count matrix without column names: set_vocab names the
    model's words from the vectorizer, so top words, the summary and a saved model read words."""
    pipe = Pipeline([("cv", CountVectorizer()), ("lda", LDASketch(6, **FAST))]).fit(texts)
    lda, names = pipe.named_steps["lda"], pipe.named_steps["cv"].get_feature_names_out()
    assert lda.top_words(3)[0][0][0].startswith("#")
    assert lda.set_vocab(names) is lda
    words = [w for topic in lda.top_words(5) for w, _ in topic]
    assert set(words) <= set(names)
    lda.save(tmp_path / "m")
    assert LDASketch.load(tmp_path / "m").top_words(5) == lda.top_words(5)
    with pytest.raises(ValueError, match=r"set_vocab: 3 words for a model of \d+ words"):
        lda.set_vocab(["a", "b", "c"])
    with pytest.raises(AttributeError, match="needs a fitted model"):
        LDASketch(6).set_vocab(names)


def test_the_docstring_lists_every_choice_the_config_accepts():
    from lda_sketch.config import FIELDS

    for (section, key), con in FIELDS.items():
        if con.kind == "choice" and f"\n    {key} : " in LDASketch.__doc__:
            line = LDASketch.__doc__.split(f"\n    {key} : ", 1)[1].splitlines()[0]
            assert all(f'"{c}"' in line for c in con.choices), (key, line)
