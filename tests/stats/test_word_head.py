"""The count-min head goes to the most frequent words, whatever their ids (stats/head.py)."""
from __future__ import annotations

import numpy as np
import pytest

from lda_sketch import rng
from lda_sketch.exceptions import CorruptDataError, IncompatibleStatsError
from lda_sketch.stats import make_stats
from lda_sketch.stats.head import WordHead

K, V, H = 5, 300, 25
CASES = {
    "countmin": ("countmin", {"n_hashes": 3, "n_buckets": 32, "head_words": H}),
    "cmm": ("countmin-morris", {"n_hashes": 3, "n_buckets": 32, "head_words": H}),
    "cmm-support": ("countmin-morris", {"n_hashes": 3, "n_buckets": 32, "head_words": H,
                                        "support": "exact"}),
}


def permuted_stream(seed, n=4000):
    """Zipf records whose frequent words have scattered ids (a random relabelling)."""
    g = np.random.default_rng(seed)
    rank = (g.zipf(1.2, n) - 1) % V
    perm = g.permutation(V)
    w = perm[rank].astype(np.int64)
    return w, g.integers(0, K, n), g.integers(1, 6, n)


def truth(w, t, c):
    out = np.zeros((V, K), np.int64)
    np.add.at(out, (w, t), c)
    return out


def test_choose_takes_the_largest_counts_ties_by_smaller_id():
    head = WordHead(3, 8)
    head.choose(np.array([5, 9, 1, 9, 0, 5, 7, 2]))
    assert head.ids.tolist() == [1, 3, 6]  # 9, 9, 7
    head.choose(np.array([4, 4, 4, 4, 1, 1, 1, 1]))  # ties: smaller ids, which is the prefix
    assert head.is_prefix and head.nbytes == 0
    head.choose(np.array([1, 1, 1, 1, 1, 1, 1, 5]))
    assert head.ids.tolist() == [0, 1, 7] and head.nbytes == 12
    mask, slots = head.split(np.array([7, 2, 0, 1, 6], np.int64))
    assert mask.tolist() == [True, False, True, True, False] and slots.tolist() == [2, 0, 1]


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("seed", [0, 1])
def test_adapted_head_gives_the_frequent_words_exact_counters(case, seed):
    backend, params = CASES[case]
    s = make_stats(backend, n_topics=K, n_vocab=V, seed=seed, **params)
    w, t, c = permuted_stream(seed)
    counts = np.bincount(w, weights=c, minlength=V).astype(np.int64)
    s.adapt(counts)
    s.add(w, t, c, key=rng.key_for(seed, rng.STREAM_COUNTER, 0))
    top = np.argsort(-counts, kind="stable")[:H]
    assert not s._head_index.is_prefix and sorted(top.tolist()) == s._head_index.ids.tolist()
    tr = truth(w, t, c)
    est = s.estimate(top)
    if backend == "countmin":  # integer cells: exact
        assert np.array_equal(est, tr[top])
    else:  # Morris: zero exactly where the truth is zero (no collision mass)
        assert np.array_equal(est == 0, tr[top] == 0)
    # The head's ids are stored, counted and read back; the estimates survive the round trip.
    back = type(s).deserialize(s.serialize())
    assert back._head_index.same(s._head_index)
    assert np.array_equal(back.estimate(np.arange(V)), s.estimate(np.arange(V)))
    assert s.nbytes == back.nbytes and s.nbytes >= s.cells.nbytes + 4 * H
    back.check_compatible(s)
    # A fresh backend has not seen the corpus: same config, different head.
    fresh = make_stats(backend, n_topics=K, n_vocab=V, seed=seed, **params)
    fresh.check_same_config(s)
    with pytest.raises(IncompatibleStatsError, match="head words differ"):
        fresh.check_compatible(s)
    assert s.empty_like()._head_index.same(s._head_index)


def test_frequency_ordered_counts_keep_the_prefix_and_the_bytes():
    s = make_stats("countmin-morris", n_topics=K, n_vocab=V, seed=0, head_words=H)
    before = s.serialize()
    s.adapt(np.arange(V, 0, -1))  # already by decreasing frequency
    assert s._head_index.is_prefix and s.serialize() == before


def test_corrupt_head_ids_are_refused():
    backend, params = CASES["cmm"]
    s = make_stats(backend, n_topics=K, n_vocab=V, seed=0, **params)
    w, t, c = permuted_stream(0)
    s.adapt(np.bincount(w, weights=c, minlength=V))
    good = s._head_index.ids
    s._head_index.ids = good[::-1].copy()  # not sorted
    with pytest.raises(CorruptDataError, match="head_ids"):
        type(s).deserialize(s.serialize())
    s._head_index.ids = good
    assert type(s).deserialize(s.serialize())._head_index.same(s._head_index)
