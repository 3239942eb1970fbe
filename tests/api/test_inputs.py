"""Data in: Corpus.from_sparse / from_tokens / from_bow, and every input LDASketch accepts,
mapped through the model's vocabulary (issue 15, section 1; bug 5)."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

import lda_sketch
from lda_sketch import Corpus, LDASketch
from lda_sketch.exceptions import InputFormatError


def _tokens(corpus):
    return [[corpus.vocab[i] for i in corpus.document(d)] for d in range(corpus.n_docs)]


def _matrix(corpus):
    rows = np.repeat(np.arange(corpus.n_docs), corpus.doc_lengths())
    return sp.csr_matrix((np.ones(corpus.n_tokens, np.int64), (rows, corpus.word_ids)),
                         shape=(corpus.n_docs, corpus.n_vocab))


def test_corpus_is_exported_at_the_top_level():
    assert lda_sketch.Corpus is Corpus and "Corpus" in lda_sketch.__all__


def test_from_sparse_repeats_each_column_by_its_count():
    X = sp.csr_matrix(np.array([[0, 2, 1], [0, 0, 0], [3, 0, 1]]))
    c = Corpus.from_sparse(X, vocab=np.array(["a", "b", "c"], dtype=object))
    assert c.doc_ptr.tolist() == [0, 3, 3, 7]
    assert c.word_ids.tolist() == [1, 1, 2, 0, 0, 0, 2]
    assert c.vocab == ["a", "b", "c"] and c.n_vocab == 3
    # a dense array gives the same corpus; no vocab shows words as #id
    d = Corpus.from_sparse(X.toarray())
    assert d.word_ids.tolist() == c.word_ids.tolist() and d.vocab is None


@pytest.mark.parametrize("X, match", [
    (sp.csr_matrix([[0.5, 1.0]]), "non-negative integers.*tf-idf"),
    (sp.csr_matrix([[-1, 1]]), "non-negative integers"),
])
def test_from_sparse_refuses_weights_and_negatives(X, match):
    with pytest.raises(InputFormatError, match=match):
        Corpus.from_sparse(X)


def test_from_sparse_refuses_a_vocab_of_the_wrong_length():
    with pytest.raises(InputFormatError, match="vocab has 2 words but X has 3 columns"):
        Corpus.from_sparse(sp.csr_matrix(np.ones((2, 3))), vocab=["a", "b"])


def test_from_tokens_prunes_like_prep_and_counts_the_dropped_tokens():
    docs = [["x", "y", "x", "the"], ["y", "z", "the"], ["q", "y", "the"]]
    # y: df 3 > 0.9 * 3 -> max_df; the: df 3 -> max_df; x, z, q: df 1 -> min_df
    with pytest.raises(InputFormatError, match="no word is left"):
        Corpus.from_tokens(docs, min_df=2, max_df_frac=0.9)
    c = Corpus.from_tokens(docs, min_df=2)
    assert c.vocab == ["the", "y"]            # decreasing frequency, ties by the word
    assert c.word_ids.tolist() == [1, 0, 1, 0, 1, 0]
    assert c.doc_ptr.tolist() == [0, 2, 4, 6]  # token order kept, dropped tokens removed
    assert c.manifest["dropped"]["tokens"] == {"min_df": 4}
    c = Corpus.from_tokens(docs, stopwords={"the"})
    assert "the" not in c.vocab and c.manifest["dropped"]["tokens"] == {"stopword": 3}


def test_from_tokens_maps_into_a_given_vocabulary_and_counts_unknown_words():
    c = Corpus.from_tokens([["b", "zz", "a"], ["a"]], vocab=["a", "b"])
    assert c.word_ids.tolist() == [1, 0, 0] and c.doc_ptr.tolist() == [0, 2, 3]
    assert c.manifest["dropped"]["tokens"] == {"oov": 1}


def test_from_tokens_refuses_untokenized_text():
    with pytest.raises(InputFormatError, match="document 1 is a string.*text.split"):
        Corpus.from_tokens([["a"], "a b c"])


class _Dictionary:
    """What Corpus.from_bow needs of a gensim Dictionary (duck-typed: items())."""

    def __init__(self, words):
        self.id2token = dict(enumerate(words))

    def items(self):
        return self.id2token.items()


def test_from_bow_reads_gensim_style_documents():
    bow = [[(1, 2), (0, 1)], [], [(2, 1.0)]]
    for id2word in (_Dictionary(["a", "b", "c"]), {2: "c", 0: "a", 1: "b"}, ["a", "b", "c"]):
        c = Corpus.from_bow(bow, id2word)
        assert c.vocab == ["a", "b", "c"]
        assert c.word_ids.tolist() == [0, 1, 1, 2] and c.doc_ptr.tolist() == [0, 3, 3, 4]
    with pytest.raises(InputFormatError, match="document 0 has word id 5"):
        Corpus.from_bow([[(5, 1)]], ["a"])
    with pytest.raises(InputFormatError, match="compactify"):
        Corpus.from_bow([[(0, 1)]], {1: "a"})
    with pytest.raises(InputFormatError, match="not tf-idf"):
        Corpus.from_bow([[(0, 0.3)]], ["a"])


def test_gensim_dictionary_and_corpus_if_installed():
    corpora = pytest.importorskip("gensim.corpora")
    texts = [["apple", "pie", "apple"], ["pie", "crust"], ["crust", "apple"]]
    d = corpora.Dictionary(texts)
    c = Corpus.from_bow([d.doc2bow(t) for t in texts], d)
    assert [[c.vocab[i] for i in c.document(k)] for k in range(3)] == [
        sorted(t, key=d.token2id.get) for t in texts]


@pytest.fixture(scope="module")
def model(split):
    return LDASketch(6, backend="dense", n_iter=20, seed=1, fold_in_iters=20).fit(split[0])


def test_every_input_kind_gives_the_same_fit(split):
    train = split[0]
    kw = dict(backend="dense", n_iter=3, seed=2)
    ref = LDASketch(6, **kw).fit(train)
    # from a matrix the tokens come sorted by word id: the same counts, another order
    by_matrix = LDASketch(6, **kw).fit(_matrix(train), vocab=train.vocab)
    by_tokens = LDASketch(6, **kw).fit(_tokens(train))
    assert by_matrix.vocab_ == train.vocab
    assert by_matrix.word_counts_.tolist() == ref.word_counts_.tolist()
    # from_tokens renumbers by frequency: compare through the words
    # (words that never occur in these documents are not in it)
    counts = dict(zip(by_tokens.vocab_, by_tokens.word_counts_.tolist()))
    assert counts == {w: n for w, n in zip(train.vocab, ref.word_counts_.tolist()) if n}
    tok = _tokens(train)
    assert LDASketch(6, **kw).fit(tok).stats_.serialize() == by_tokens.stats_.serialize()


def test_transform_maps_tokens_and_matrices_through_the_models_vocabulary(model, split):
    held = split[1]
    theta = model.transform(held)
    np.testing.assert_array_equal(model.transform(_tokens(held)), theta)
    np.testing.assert_array_equal(model.transform(_matrix(held)), model.transform(
        Corpus.from_sparse(_matrix(held))))
    # a matrix over shuffled columns, named: mapped back by its column names
    perm = np.random.default_rng(0).permutation(held.n_vocab)
    X = _matrix(held)[:, perm]
    names = [held.vocab[i] for i in perm]
    np.testing.assert_allclose(model.transform(X, vocab=names),
                               model.transform(_matrix(held)), rtol=1e-12)
    # unknown words are dropped (and counted by evaluate)
    extra = [doc + ["never-seen"] for doc in _tokens(held)]
    np.testing.assert_array_equal(model.transform(extra), theta)
    base, more = model.evaluate(_tokens(held)), model.evaluate(extra)
    assert more["n_oov"] == base["n_oov"] + held.n_docs
    assert model.perplexity(_tokens(held)) == model.perplexity(held)


def test_a_corpus_over_another_vocabulary_is_refused(model, split):
    held = split[1]
    other = Corpus(held.doc_ptr, held.word_ids, held.n_vocab, list(reversed(held.vocab)))
    for call in (model.transform, model.evaluate, model.perplexity, model.score):
        with pytest.raises(InputFormatError, match="not the training vocabulary"):
            call(other)
    with pytest.raises(InputFormatError, match="not the training vocabulary"):
        LDASketch(6, backend="dense", n_iter=1).fit(split[0], heldout=other)


def test_transform_refuses_ids_outside_the_vocabulary(model):
    # bug: transform(corpus) used to drop ids >= n_vocab silently
    c = Corpus(np.array([0, 3], np.int64), np.array([1, 2, 700], np.int32), 800)
    with pytest.raises(InputFormatError, match="outside \\[0, 600\\)"):
        model.model_.transform(c)
    with pytest.raises(InputFormatError, match="not the training vocabulary"):
        model.transform(c)
    with pytest.raises(InputFormatError, match="3 columns but the model's vocabulary has 600"):
        model.transform(sp.csr_matrix(np.ones((1, 3))))


def test_unsupported_inputs_and_a_positional_heldout_are_refused(split):
    with pytest.raises(TypeError, match="must be a Corpus"):
        LDASketch(6).fit(42)
    with pytest.raises(TypeError, match="heldout="):
        LDASketch(6).fit(split[0], split[1])
