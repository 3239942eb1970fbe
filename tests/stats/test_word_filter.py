"""support = "filter": a Bloom filter of the words with tokens, for hashed id spaces."""
from __future__ import annotations

import math

import numpy as np
import pytest

from lda_sketch import rng
from lda_sketch.exceptions import CorruptDataError
from lda_sketch.stats import make_stats
from lda_sketch.stats.support import WordFilter

K = 4


def test_members_always_pass_and_the_false_positive_rate_is_within_its_bound():
    """No false negatives; on 200,000 non-members the observed rate is at most the filter's
    exact rate for its size, (1 - exp(-k n / m))**k, plus 5 binomial standard deviations (the
    stated FPR bounds that rate)."""
    V = 2**22
    g = np.random.default_rng(0)
    members = g.choice(V, 60_000, replace=False)
    counts = np.zeros(V, np.int64)
    counts[members] = 1
    f = WordFilter(V, K)
    f.adapt(counts)
    m, n, k = f.filt.size * 64, members.size, f.N_PROBES
    assert m >= f.BITS_PER_WORD * n and f.nbytes == m // 8
    assert f.contains(members).all()
    others = np.setdiff1d(g.choice(V, 220_000, replace=False), members)[:200_000]
    rate = f.contains(others).mean()
    p = (1 - math.exp(-k * n / m)) ** k
    assert p <= f.FPR
    assert rate <= p + 5 * math.sqrt(p * (1 - p) / others.size)


@pytest.mark.parametrize("backend", ["countmin", "countmin-morris"])
def test_words_without_tokens_read_zero_and_the_filter_survives_the_rebuild(backend):
    V = 5000
    s = make_stats(backend, n_topics=K, n_vocab=V, seed=1, n_hashes=3, n_buckets=16,
                   support="filter")
    g = np.random.default_rng(1)
    used = g.choice(V, 300, replace=False)
    w = np.repeat(used, 3).astype(np.int64)
    t, c = g.integers(0, K, w.size), np.ones(w.size, np.int64)
    s.adapt(np.bincount(w, minlength=V))
    for it in range(2):  # the per-iteration rebuild clears the cells, not the filter
        s.clear()
        s.add(w, t, c, key=rng.key_for(1, rng.STREAM_COUNTER, it))
    est = s.estimate(np.arange(V))
    unused = np.setdiff1d(np.arange(V), used)
    passed = s._support.contains(unused)
    assert (est[unused[~passed]] == 0).all() and passed.mean() < 0.05
    assert est[used].sum(axis=1).min() > 0  # members keep their (sketched) estimates
    assert "exact_zeros" not in s.guarantees  # zero cells of words with tokens are not exact
    back = type(s).deserialize(s.serialize())
    assert np.array_equal(back.estimate(np.arange(V)), est) and back.nbytes == s.nbytes


def test_bad_filter_arrays_are_refused():
    s = make_stats("countmin", n_topics=K, n_vocab=100, seed=0, n_buckets=16, support="filter")
    s.adapt(np.ones(100, np.int64))
    s._support.filt = s._support.filt[:3].copy()  # not a power-of-two length
    with pytest.raises(CorruptDataError, match="word_filter"):
        type(s).deserialize(s.serialize())
