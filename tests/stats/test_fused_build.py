"""The fused build (``add_runs``: topic assignments straight to the cells) equals ``add`` of the
word-topic records bit for bit, for every count-min rule and row count, with a head (the id
prefix or chosen ids), a support and the word totals; the per-record kernels equal the reference
loops they replaced."""
from __future__ import annotations

import numpy as np
import pytest

from lda_sketch import rng
from lda_sketch.stats import make_stats

K, V = 7, 300
VARIANTS = [
    ("countmin", {}),
    ("countmin", {"conservative": True}),
    ("countmin", {"n_hashes": 5}),
    ("countmin-morris", {"increment": "correlated"}),
    ("countmin-morris", {"increment": "correlated", "n_hashes": 1}),
    ("countmin-morris", {"increment": "correlated", "n_hashes": 5}),
    ("countmin-morris", {"increment": "correlated", "conservative": True}),
    ("countmin-morris", {"increment": "correlated", "conservative": True, "n_hashes": 5}),
    ("countmin-morris", {"increment": "correlated", "conservative": True, "counter_bits": 16,
                         "counter_base": 1.002}),
    ("countmin-morris", {"increment": "independent"}),
    ("countmin-morris", {"counter_bits": 16, "counter_base": 1.002}),
]


def runs(seed=0):
    """Distinct ascending words, each with a run of topic assignments (heavy and light words)."""
    g = np.random.default_rng(seed)
    words = np.sort(g.choice(V, 120, replace=False)).astype(np.int64)
    lengths = g.zipf(1.6, words.shape[0]).clip(1, 3000)
    tok_ptr = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    z = g.integers(0, K, int(tok_ptr[-1])).astype(np.uint16)
    return words, tok_ptr, z


def records(words, tok_ptr, z):
    """The (word, topic, count) histogram records, word-major and topic ascending."""
    w, t, c = [], [], []
    for i, word in enumerate(words):
        h = np.bincount(z[tok_ptr[i]:tok_ptr[i + 1]], minlength=K)
        for k in np.flatnonzero(h):
            w.append(word), t.append(k), c.append(h[k])
    return np.array(w, np.int64), np.array(t, np.int64), np.array(c, np.int64)


def sketch(backend, extra):
    return make_stats(backend, n_topics=K, n_vocab=V, seed=5, **dict({"n_buckets": 16}, **extra))


def build_both(backend, extra, word_counts=None, seed=0):
    """Two calls (the second on non-empty cells) of ``add`` of the records into one sketch and
    ``add_runs`` into the other; returns both and the last ``add_runs`` result."""
    words, tok_ptr, z = runs(seed)
    key = rng.key_for(3, rng.STREAM_COUNTER, 4)
    a, b = sketch(backend, extra), sketch(backend, extra)
    if word_counts is not None:
        a.adapt(word_counts)
        b.adapt(word_counts)
    n_k = None
    for part in (slice(0, 60), slice(60, None)):
        p = tok_ptr[part.start:(part.stop + 1 if part.stop else None)]
        a.add(*records(words[part], p, z), key=key)
        n_k = b.add_runs(words[part], p, z, key=key)
        key = rng.derive(key, np.uint64(1))
    return a, b, n_k


@pytest.mark.parametrize("backend,extra", VARIANTS)
def test_add_runs_equals_add_of_the_records(backend, extra):
    a, b, n_k = build_both(backend, extra)
    assert a.serialize() == b.serialize()
    assert n_k is not None and n_k.dtype == np.int64


RULES = [("countmin", {}), ("countmin", {"conservative": True}),
         ("countmin-morris", {"increment": "independent"}),
         ("countmin-morris", {"increment": "correlated"}),
         ("countmin-morris", {"increment": "correlated", "conservative": True})]


def shuffled_counts(seed=2):
    """Word counts whose most frequent words are scattered ids (not the id prefix)."""
    return np.random.default_rng(seed).permutation(V).astype(np.int64) * 3


@pytest.mark.parametrize("backend,extra", RULES)
@pytest.mark.parametrize("head", [10, 40, 0])
@pytest.mark.parametrize("chosen", [False, True])
def test_add_runs_equals_add_with_a_head(backend, extra, head, chosen):
    """Prefix head, and a head chosen by ``adapt`` from counts that are not in id order (a
    sorted id list): the head's records rounded/added apart, keyed and numbered as ``add``."""
    counts = shuffled_counts() if chosen else None
    extra = dict(extra, head_words=head)
    a, b, n_k = build_both(backend, extra, counts, seed=3)
    if chosen and head:
        assert not b._head_index.is_prefix
    words, tok_ptr, _ = runs(3)
    h, _ = b._head_index.split(words) if head else (np.zeros(len(words), bool), None)
    assert 0 < h.sum() < len(words) or not head  # both kinds of words in each build
    assert a.serialize() == b.serialize()
    assert np.array_equal(a.n_k, b.n_k) and n_k is not None


@pytest.mark.parametrize("backend", ["countmin", "countmin-morris"])
@pytest.mark.parametrize("extra", [
    {"support": "filter"}, {"support": "filter", "head_words": 25},
    {"support": "exact"}, {"rescale": True},
    {"support": "exact", "rescale": True, "head_words": 25, "n_hashes": 5}])
def test_add_runs_equals_add_with_support_and_rescale(backend, extra):
    a, b, n_k = build_both(backend, extra, shuffled_counts(4), seed=5)
    assert a.serialize() == b.serialize()
    words = np.arange(V)
    assert np.array_equal(a.estimate(words), b.estimate(words))


def test_add_runs_head_covers_the_whole_vocabulary():
    a, b, _ = build_both("countmin-morris", {"head_words": V, "increment": "correlated",
                                             "conservative": True})
    assert a.serialize() == b.serialize()


def test_dense_has_no_fused_build():
    assert make_stats("dense", n_topics=K, n_vocab=V).add_runs(*runs(), key=1) is None


def test_add_runs_rejects_bad_input():
    words, tok_ptr, z = runs()
    s = sketch("countmin-morris", {})
    bad = z.copy()
    bad[5] = K
    with pytest.raises(ValueError, match=r"z\[5\]"):
        s.add_runs(words, tok_ptr, bad, key=1)
    with pytest.raises(ValueError, match="tok_ptr"):
        s.add_runs(words, tok_ptr[::-1].copy(), z, key=1)
    with pytest.raises(ValueError, match="word ids"):
        s.add_runs(words + V, tok_ptr, z, key=1)


def test_fast_correlated_path_equals_the_generic_rule():
    """d = 3 (registers, written out) and the generic-d rule give the same bytes: a 3-row sketch
    against a 4-row one whose fourth row repeats the first (same codes, same draws)."""
    from lda_sketch.stats._cmm_kernels import CORRELATED, cmm_add_records

    words, tok_ptr, z = runs(1)
    w, t, c = records(words, tok_ptr, z)
    s = sketch("countmin-morris", {})
    key = np.uint64(rng.key_for(1, rng.STREAM_COUNTER, 1))
    s.add(w, t, c, key=key)
    cells4 = np.zeros((4,) + s._cells.shape[1:], s._cells.dtype)
    a4 = np.append(s._a, s._a[0])
    c4 = np.append(s._c, s._c[0])
    cmm_add_records(cells4, np.zeros(K, np.int64), a4, c4, s._shift, s._prob, s._log1m, key,
                    w, t, c, CORRELATED)
    assert np.array_equal(cells4[:3], s._cells) and np.array_equal(cells4[3], cells4[0])
