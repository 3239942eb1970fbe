"""Coherence (UMass, NPMI over document co-occurrence) and topic diversity: hand-computed values,
additivity over shards (one allreduce), and agreement with gensim's CoherenceModel."""
from __future__ import annotations

import math

import numpy as np
import pytest

from lda_sketch.distributed.comm import SerialComm
from lda_sketch.evaluation.coherence import coherence, cooccurrence_counts, diversity
from lda_sketch.io.corpus import Corpus

# 4 documents over 4 words: 0 in docs {0,1,2}, 1 in {0,1}, 2 in {3}, 3 nowhere
DOCS = [[0, 1, 0], [1, 0], [0], [2, 2]]


def _corpus(docs=DOCS, n_vocab=4):
    return Corpus.from_documents([np.array(d) for d in docs], n_vocab)


def test_counts_and_measures_by_hand():
    c = _corpus()
    n, df, co = cooccurrence_counts([[0, 1, 2]], c)
    assert n == 4 and df.tolist() == [[3, 2, 1]]
    assert co[0].tolist() == [[3, 2, 0], [2, 2, 0], [0, 0, 1]]
    r = coherence([[0, 1, 2]], c)
    eps = 1e-12
    # UMass pairs (w_i | w_j), i > j: (1|0), (2|0), (2|1)
    um = [math.log((2 / 4 + eps) / (3 / 4)), math.log(eps / (3 / 4)), math.log(eps / (2 / 4))]
    assert r["umass"] == pytest.approx(sum(um) / 3, rel=1e-12)

    def npmi(pi, pj, pij):
        return math.log((pij + eps) / (pi * pj)) / -math.log(pij + eps)
    nm = [npmi(3 / 4, 2 / 4, 2 / 4), npmi(3 / 4, 1 / 4, 0), npmi(2 / 4, 1 / 4, 0)]
    assert r["npmi"] == pytest.approx(sum(nm) / 3, rel=1e-12)  # symmetric: each pair twice
    assert r["top_n"] == 3 and r["n_docs"] == 4
    # a word in no document contributes 0, not -inf/nan
    assert math.isfinite(coherence([[3, 0]], c)["umass"])
    assert math.isfinite(coherence([[0, 3]], c)["npmi"])


def test_diversity_is_the_share_of_unique_top_words():
    assert diversity([[0, 1], [2, 3]]) == 1.0
    assert diversity([[0, 1], [1, 0]]) == 0.5


class _SumOverShards(SerialComm):
    """Adds the other shard's counts on allreduce_sum (and counts the calls)."""

    def __init__(self, other):
        self.other, self.calls = other, 0

    def allreduce_sum(self, arr):
        self.calls += 1
        arr += self.other
        return arr


def test_sharded_counts_with_one_allreduce_equal_the_whole():
    from data_prep.synthetic import planted_corpus

    corpus = planted_corpus(120, 5, 300, 40, seed=3)[0]
    top = np.random.default_rng(0).choice(corpus.n_vocab, size=(5, 8), replace=False)
    whole = cooccurrence_counts(top, corpus)
    half = corpus.n_docs // 2
    a = corpus.subset(np.arange(half))
    b = corpus.subset(np.arange(half, corpus.n_docs))
    nb, dfb, cob = cooccurrence_counts(top, b)
    comm = _SumOverShards(np.concatenate([[nb], dfb.ravel(), cob.ravel()]))
    merged = cooccurrence_counts(top, a, comm=comm, chunk_tokens=97)  # many small chunks
    assert comm.calls == 1
    assert merged[0] == whole[0]
    np.testing.assert_array_equal(merged[1], whole[1])
    np.testing.assert_array_equal(merged[2], whole[2])


@pytest.mark.slow
def test_matches_gensim_coherence_model_on_the_embedded_corpus():
    pytest.importorskip("gensim")
    from gensim.corpora import Dictionary
    from gensim.models.coherencemodel import CoherenceModel

    from lda_sketch import LDASketch
    from data_prep.embedded import build_embedded_corpus

    train, _ = build_embedded_corpus()
    model = LDASketch(8, backend="dense", n_iter=10, seed=0).fit(train)
    top_ids, _ = model.model_.top_word_ids(10)
    ours = coherence(top_ids, train)
    texts = [[train.vocab[i] for i in train.document(d)] for d in range(train.n_docs)]
    d = Dictionary(texts)
    topics = [[train.vocab[i] for i in row] for row in top_ids]
    bow = [d.doc2bow(t) for t in texts]
    um = CoherenceModel(topics=topics, corpus=bow, dictionary=d, coherence="u_mass", topn=10)
    # c_npmi's sliding window covers each whole document when it is >= the longest one
    nm = CoherenceModel(topics=topics, texts=texts, dictionary=d, coherence="c_npmi", topn=10,
                        window_size=int(train.doc_lengths().max()), processes=1)
    np.testing.assert_allclose(ours["umass_per_topic"], um.get_coherence_per_topic(),
                               rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ours["npmi_per_topic"], nm.get_coherence_per_topic(),
                               rtol=1e-9, atol=1e-12)
    assert ours["umass"] == pytest.approx(um.get_coherence(), rel=1e-9)
    assert ours["npmi"] == pytest.approx(nm.get_coherence(), rel=1e-9)


def test_coherence_line_names_the_documents_and_the_warning_the_remedy():
    from lda_sketch.evaluation.coherence import (MIN_COHERENCE_DOCS, coherence_line,
                                                 coherence_warning)
    from lda_sketch.exceptions import InvalidParameterError

    coh = {"umass": -11.13, "npmi": 0.042, "top_n": 10, "n_docs": 5000}
    assert coherence_line(coh, "training") == ("over 5,000 training documents: UMass -11.1300, "
                                               "NPMI 0.0420 (top 10 words per topic)")
    with pytest.raises(InvalidParameterError, match="'documents' parameter of coherence_line"):
        coherence_line(coh, "test")
    assert MIN_COHERENCE_DOCS == 1000
    assert coherence_warning(MIN_COHERENCE_DOCS, "--corpus") is None
    assert coherence_warning(50, "--heldout") == (
        "warning: coherence over only 50 documents is noisy (fewer than 1,000); pass --heldout "
        "with more documents")
