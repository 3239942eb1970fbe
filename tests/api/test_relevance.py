"""Relevance ranking of top words (pyLDAvis, Sievert & Shirley 2014; issue 25, item 5):
``TopicModel.top_words(relevance=lam)``, ``LDASketch.top_words`` and ``lda-sketch topics
--relevance``."""
from __future__ import annotations

import numpy as np
import pytest

from lda_sketch.api.estimator import LDASketch
from lda_sketch.cli.main import main as cli_main
from lda_sketch.exceptions import InvalidParameterError
from lda_sketch.io.corpus import Corpus
from data_prep.synthetic import planted_corpus

K, V = 4, 400
GENERIC, UNSEEN = V, V + 1   # a word in every document; a vocabulary word with no tokens


@pytest.fixture(scope="module")
def fitted():
    """K = 4 planted topics over 400 words (blocks of 100), plus ``generic`` 8 times in each of
    the 200 documents (1/6 of the tokens: the most probable word of every topic) and ``unseen``,
    in the vocabulary but never in a document (the sketch still estimates it above zero)."""
    planted, _ = planted_corpus(200, K, V, 40, seed=11)
    ptr, ids = planted.doc_ptr, planted.word_ids
    docs = [np.concatenate([ids[ptr[d]:ptr[d + 1]], np.full(8, GENERIC)]).astype(np.int64)
            for d in range(planted.n_docs)]
    corpus = Corpus.from_documents(docs, V + 2, planted.vocab + ["generic", "unseen"])
    return LDASketch(K, n_iter=30, seed=2).fit(corpus)


def _reference(model, lam):
    """Dense relevance ranking from phi (K x V) and the word counts: ids (K, V)."""
    phi = model.topic_word()
    counts = model.word_counts
    with np.errstate(divide="ignore"):
        log_p = np.log(counts / counts.sum())
    score = lam * np.log(phi) + (1 - lam) * (np.log(phi) - log_p)
    score[:, counts == 0] = -np.inf
    word = np.broadcast_to(np.arange(model.n_vocab), phi.shape)
    return np.lexsort((word, -score), axis=1)


def test_lambda_one_is_todays_probability_ranking(fitted):
    model = fitted.model_
    today = model.top_words(10)
    assert model.top_words(10, relevance=1) == today
    assert model.top_words(10, relevance=1.0) == today
    assert fitted.top_words(10, relevance=1.0) == fitted.top_words(10) == today
    ids, probs = model.top_word_ids(10, relevance=1.0)
    ids0, probs0 = model.top_word_ids(10)
    np.testing.assert_array_equal(ids, ids0)
    np.testing.assert_array_equal(probs, probs0)
    # today's ranking: phi descending, ties by word id
    phi = model.topic_word()
    want = np.argsort(-phi, axis=1, kind="stable")[:, :10]
    np.testing.assert_array_equal(ids0, want)


@pytest.mark.parametrize("lam", [0.0, 0.3, 0.6])
def test_relevance_ranks_by_the_score_and_returns_phi(fitted, lam):
    model = fitted.model_
    ids, probs = model.top_word_ids(12, relevance=lam)
    assert ids.shape == probs.shape == (K, 12)
    np.testing.assert_array_equal(ids, _reference(model, lam)[:, :12])
    phi = model.topic_word()
    np.testing.assert_array_equal(probs, np.take_along_axis(phi, ids, 1))
    table = model.top_words(12, relevance=lam)
    assert [[w for w, _ in row] for row in table] == [[model.word(int(i)) for i in row]
                                                      for row in ids]
    assert all(model.get_topic_words(k, 12, relevance=lam) == table[k] for k in range(K))


def test_a_word_frequent_in_every_topic_drops(fitted):
    # The lift phi_kw / p_w of the generic word is about 1 in every topic, a planted word's about
    # K: at lam = 0.3 it falls far out of the top 10 (rank > 200 with this seed; > 15 at 0.6)
    by_prob = fitted.top_words(10)
    by_rel = fitted.top_words(10, relevance=0.3)
    for k in range(K):
        assert by_prob[k][0][0] == "generic"
        rel_words = [w for w, _ in by_rel[k]]
        assert "generic" not in rel_words[:5], (k, rel_words)
        # the probability reported is still phi, the same number as at lam = 1
        if "generic" in rel_words:
            assert by_rel[k][rel_words.index("generic")][1] == by_prob[k][0][1]


def test_words_never_seen_in_training_are_never_ranked_first(fitted):
    model = fitted.model_
    assert model.word_counts[UNSEEN] == 0
    for lam in (0.0, 0.5, 0.99):
        ids, _ = model.top_word_ids(model.n_vocab, relevance=lam)
        assert (ids[:, -1] == UNSEEN).all()   # -inf and the largest id: last
        assert (ids[:, 0] != UNSEEN).all()


@pytest.mark.parametrize("bad", [2, -0.1, 1.5, float("nan"), float("inf"), "0.6", True, None])
def test_bad_lambda_is_refused_with_the_parameter_message(fitted, bad):
    if bad is None:   # None is the default: the probability ranking
        assert fitted.top_words(3, relevance=None) == fitted.top_words(3)
        return
    msg = (f"The 'relevance' parameter of TopicModel.top_words must be a float in the range "
           f"[0, 1]. Got {bad!r}.")
    with pytest.raises(InvalidParameterError) as exc:
        fitted.top_words(3, relevance=bad)
    assert str(exc.value) == msg
    with pytest.raises(InvalidParameterError):
        fitted.model_.top_word_ids(3, relevance=bad)


@pytest.fixture(scope="module")
def model_dir(fitted, tmp_path_factory):
    return fitted.model_.save(tmp_path_factory.mktemp("relevance") / "model")


def test_cli_relevance_flag(fitted, model_dir, capsys):
    assert cli_main(["topics", str(model_dir), "--relevance", "0.6"]) == 0
    lines = capsys.readouterr().out.splitlines()
    want = fitted.top_words(10, relevance=0.6)
    assert lines == [f"topic {k}: " + " ".join(w for w, _ in want[k]) for k in range(K)]
    assert cli_main(["topics", str(model_dir), "--relevance", "1"]) == 0
    plain = capsys.readouterr().out
    assert cli_main(["topics", str(model_dir)]) == 0
    assert capsys.readouterr().out == plain != "\n".join(lines) + "\n"
    # --topic and --probs: the relevance ranking, phi printed
    assert cli_main(["topics", str(model_dir), "--relevance", "0.3", "--topic", "1", "--probs",
                     "--top-n", "3"]) == 0
    out = capsys.readouterr().out
    row = fitted.top_words(3, relevance=0.3)[1]
    assert out == "topic 1: " + "  ".join(f"{w} {p:.4f}" for w, p in row) + "\n"


@pytest.mark.parametrize("value", ["2", "-0.5", "nan"])
def test_cli_relevance_out_of_range_is_one_line(model_dir, capsys, value):
    assert cli_main(["topics", str(model_dir), "--relevance", value]) == 1
    cap = capsys.readouterr()
    assert cap.out == ""
    err = cap.err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("lda-sketch topics: error: The 'relevance' parameter of "
                             "--relevance must be a float in the range [0, 1]. Got ")


def test_cli_relevance_not_a_number_is_refused_by_argparse(model_dir, capsys):
    with pytest.raises(SystemExit) as exc:
        cli_main(["topics", str(model_dir), "--relevance", "high"])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == "lda-sketch topics: error: argument --relevance: invalid float value: 'high'"
