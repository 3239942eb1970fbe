"""Held-out log-likelihood by word-frequency band: ranks, names, and sums that add up."""
import math

import numpy as np
import pytest

from lda_sketch.evaluation.bands import (band_gaps_pct, band_names, frequency_bands,
                                         parse_edges)
from lda_sketch.evaluation.perplexity import completion_loglik
from lda_sketch.exceptions import InvalidParameterError
from lda_sketch.io.corpus import Corpus


def test_bands_follow_frequency_rank_not_id():
    counts = np.array([5, 50, 0, 7, 50, 1])
    # ranks: id 1 (50), id 4 (50, tie by id), id 3, id 0, id 5, id 2
    assert frequency_bands(counts, (2, 4)).tolist() == [1, 0, 2, 1, 0, 2]
    assert band_names((1000, 10000, 60000)) == ["1-1k", "1k-10k", "10k-60k", "60k+"]
    assert band_names((2, 4)) == ["1-2", "2-4", "4+"]


@pytest.mark.parametrize("bad", ["", "10,5", "0,3", "a,b", "3,3"])
def test_bad_edges_are_refused_with_the_parameter_shape(bad):
    with pytest.raises(InvalidParameterError, match="The 'bands' parameter"):
        parse_edges(bad)


def _phi(rng, K, V):
    phi = rng.random((K, V)) ** 3 + 1e-3
    return phi / phi.sum(1, keepdims=True)


def test_band_sums_equal_the_total_and_match_a_per_token_reference():
    rng = np.random.default_rng(3)
    K, V = 6, 40
    phi = _phi(rng, K, V)
    docs = [rng.integers(0, V, rng.integers(2, 30)) for _ in range(25)]
    held = Corpus.from_documents(docs, V)
    counts = rng.integers(0, 100, V)
    edges = (5, 20)
    wb = frequency_bands(counts, edges)
    names = band_names(edges)
    res = completion_loglik(lambda w: phi[:, w], V, 0.1, held, n_iter=15, word_band=wb,
                            band_names=names)
    bands = res["bands"]
    assert list(bands) == names
    assert sum(b["loglik"] for b in bands.values()) == pytest.approx(res["loglik"], rel=1e-12)
    assert sum(b["n_scored"] for b in bands.values()) == res["n_scored"]
    # small blocks (one document each) give the same per-band sums
    small = completion_loglik(lambda w: phi[:, w], V, 0.1, held, n_iter=15, word_band=wb,
                              band_names=names, block_bytes=8 * K)
    for n in names:
        assert small["bands"][n]["loglik"] == pytest.approx(bands[n]["loglik"], rel=1e-12)
    # the scored-token count of each band, by hand
    want = np.zeros(len(names), int)
    for d in docs:
        for w in d[1::2]:
            want[wb[w]] += 1
    assert [bands[n]["n_scored"] for n in names] == want.tolist()
    for b in bands.values():
        assert b["perplexity"] == pytest.approx(math.exp(-b["loglik"] / b["n_scored"]))


def test_band_gaps_compare_the_same_tokens():
    a = {"x": {"loglik": -20.0, "n_scored": 10, "perplexity": math.exp(2.0)},
         "y": {"loglik": 0.0, "n_scored": 0, "perplexity": float("nan")}}
    b = {"x": {"loglik": -10.0, "n_scored": 10, "perplexity": math.exp(1.0)},
         "y": {"loglik": 0.0, "n_scored": 0, "perplexity": float("nan")}}
    g = band_gaps_pct(a, b)
    assert g["x"] == pytest.approx(100 * (math.e - 1))
    assert math.isnan(g["y"])
