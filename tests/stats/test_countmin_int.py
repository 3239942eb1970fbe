"""Integer count-min: exact invariants (hypothesis), conservative update, error-bound rate,
parameter helpers and parameter errors."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lda_sketch.exceptions import InvalidParameterError
from lda_sketch.stats import make_stats
from lda_sketch.stats.countmin import CountMinStats
from lda_sketch.stats.countmin_morris import CountMinMorrisStats
from lda_sketch.stats.suggest import (min_buckets, suggest_n_buckets, suggest_n_hashes,
                                      suggest_sketch)

K, V = 3, 50

records = st.lists(st.tuples(st.integers(0, V - 1), st.integers(0, K - 1), st.integers(0, 40)),
                   min_size=1, max_size=120)


def as_arrays(recs):
    a = np.array(recs, np.int64)
    return a[:, 0], a[:, 1], a[:, 2]


def truth(w, t, c):
    out = np.zeros((V, K), np.int64)
    np.add.at(out, (w, t), c)
    return out


@settings(max_examples=60, deadline=None, derandomize=True)
@given(recs=records, seed=st.integers(0, 2**20), log2w=st.integers(4, 6), d=st.integers(1, 4))
def test_never_underestimates_and_conservative_is_tighter(recs, seed, log2w, d):
    w, t, c = as_arrays(recs)
    plain = CountMinStats(K, V, n_hashes=d, n_buckets=2**log2w, seed=seed)
    cu = CountMinStats(K, V, n_hashes=d, n_buckets=2**log2w, seed=seed, conservative=True)
    plain.add(w, t, c)
    cu.add(w, t, c)
    true = truth(w, t, c)
    e_plain, e_cu = plain.estimate(np.arange(V)), cu.estimate(np.arange(V))
    assert (true <= e_cu).all() and (e_cu <= e_plain).all()
    # an estimate never exceeds the topic total
    assert (e_plain <= plain.n_k[None, :]).all()


@settings(max_examples=40, deadline=None, derandomize=True)
@given(recs=records, perm_seed=st.integers(0, 1000))
def test_plain_count_min_is_update_order_invariant(recs, perm_seed):
    w, t, c = as_arrays(recs)
    p = np.random.default_rng(perm_seed).permutation(w.shape[0])
    a, b = CountMinStats(K, V, n_buckets=16), CountMinStats(K, V, n_buckets=16)
    a.add(w, t, c)
    b.add(w[p], t[p], c[p])
    assert a.serialize() == b.serialize()


def test_cells_saturate_instead_of_wrapping():
    s = CountMinStats(1, 10, n_hashes=2, n_buckets=16)
    big = np.array([2**31 - 10, 100, 2**40], np.int64)
    s.add(np.array([3, 3, 3]), np.zeros(3, np.int64), big)
    assert (s.estimate(np.array([3])) == 2**31 - 1).all()
    assert s.n_k[0] == big.sum()  # totals are int64 and exact
    cu = CountMinStats(1, 10, n_hashes=2, n_buckets=16, conservative=True)
    cu.add(np.array([3, 3, 3]), np.zeros(3, np.int64), big)
    assert (cu.estimate(np.array([3])) == 2**31 - 1).all()
    twin = s.empty_like()
    twin.add(np.array([3]), np.zeros(1, np.int64), np.array([5]))
    s.merge(twin)
    assert s.cells.max() == 2**31 - 1 and s.cells.min() >= 0


def test_error_bound_holds_at_its_rate(seed):
    """P(est - true > (e/w) n_k) <= exp(-d) per query: check the violation *rate* over all keys."""
    eps, conf = 0.02, 0.9
    w_, d = suggest_n_buckets(eps), suggest_n_hashes(conf)
    g = np.random.default_rng(seed)
    Vz, n = 20_000, 200_000
    words = (g.zipf(1.2, n) - 1) % Vz
    s = CountMinStats(1, Vz, n_hashes=d, n_buckets=w_, seed=seed)
    s.add(words, np.zeros(n, np.int64), np.ones(n, np.int64))
    true = np.bincount(words, minlength=Vz)
    over = s.estimate(np.arange(Vz))[:, 0] - true
    assert (over >= 0).all()
    delta = math.exp(-d)
    rate = np.mean(over > s.error_bound()[0])
    assert rate <= delta + 6 * math.sqrt(delta * (1 - delta) / Vz)
    assert s.bound_confidence() == pytest.approx(1 - delta)


def test_suggestions_match_the_datasketches_formulas():
    assert [min_buckets(e) for e in (0.2, 0.1, 0.05, 0.01)] == [14, 28, 55, 272]
    assert [suggest_n_buckets(e) for e in (0.2, 0.1, 0.05, 0.01)] == [16, 32, 64, 512]
    one, two, three = (math.erf(k / math.sqrt(2)) for k in (1, 2, 3))
    assert [suggest_n_hashes(c) for c in (one, two, three)] == [2, 4, 6]
    # the paper's sketch: 3 x 2**15 8-bit cells for K = 100 fits ~1/3 of a 75k-word dense matrix
    assert suggest_sketch(75_000 * 100 * 4 // 3, 100, 1) == (3, 2**15)
    d, w = suggest_sketch(10**6, 10, 4)
    assert d * w * 10 * 4 + 80 <= 10**6 < d * 2 * w * 10 * 4 + 80
    with pytest.raises(InvalidParameterError,
                       match="The 'byte_budget' parameter of suggest_sketch"):
        suggest_sketch(1000, 100, 1)


@pytest.mark.parametrize("kwargs,msg", [
    ({"n_buckets": 1000}, "The 'n_buckets' parameter of CountMinStats must be a power of two >= 16"
                          " and <= 2147483648. Got 1000."),
    ({"n_buckets": 8}, "The 'n_buckets' parameter of CountMinStats must be a power of two >= 16"),
    ({"n_hashes": 0}, "The 'n_hashes' parameter of CountMinStats must be an int in the range "
                      "[1, 32]. Got 0."),
    ({"n_topics": 0}, "The 'n_topics' parameter of CountMinStats must be an int"),
    ({"seed": -1}, "The 'seed' parameter of CountMinStats must be an int"),
    ({"conservative": "yes"}, "The 'conservative' parameter of CountMinStats must be a bool. "
                              "Got 'yes'."),
])
def test_parameter_errors_have_the_standard_message(kwargs, msg):
    params = dict({"n_topics": 4, "n_vocab": 10}, **kwargs)
    with pytest.raises(InvalidParameterError) as exc:
        CountMinStats(**params)
    assert str(exc.value).startswith(msg)


@pytest.mark.parametrize("kwargs,msg", [
    ({"increment": "shared"}, "The 'increment' parameter of CountMinMorrisStats must be one of "
                              "'independent', 'correlated'. Got 'shared'."),
    # one vocabulary with the config: the third rule is correlated + conservative=True
    ({"increment": "conservative"}, "The 'increment' parameter of CountMinMorrisStats must be "
                                    "one of 'independent', 'correlated'. Got 'conservative'."),
    ({"counter_bits": 12}, "The 'counter_bits' parameter of CountMinMorrisStats must be one of 8, "
                           "16. Got 12."),
    ({"counter_base": 1.0}, "The 'counter_base' parameter of CountMinMorrisStats must be a float "
                            "in the range (1.0, 2.0]. Got 1.0."),
    ({"counter_bits": 16, "counter_base": 1.08}, "The 'counter_base' parameter of "
     "CountMinMorrisStats must be a float in the range (1.0, 1.0105]. Got 1.08."),
])
def test_morris_parameter_errors_have_the_standard_message(kwargs, msg):
    with pytest.raises(InvalidParameterError) as exc:
        CountMinMorrisStats(4, 10, **kwargs)
    assert str(exc.value) == msg


def test_oversized_sketch_is_refused_before_allocating():
    with pytest.raises(InvalidParameterError, match="Try reducing n_buckets or n_hashes"):
        make_stats("countmin", n_topics=65535, n_vocab=10, n_hashes=32, n_buckets=2**31)


def test_suggest_sketch_splits_the_budget_between_support_and_cells():
    V, K = 74_829, 100
    budget = int(0.085 * 4 * V * K)
    d, w = suggest_sketch(budget, K, 1, n_vocab=V, support="exact")
    s = CountMinMorrisStats(K, V, n_hashes=d, n_buckets=w, support="exact")
    assert (d, w) == (3, 2**12) and s.nbytes <= budget < s.nbytes + d * w * K  # largest that fits
    assert suggest_sketch(budget, K, 1) == (3, 2**13)
    with pytest.raises(InvalidParameterError, match="plus the support"):
        suggest_sketch(V * 13 + 1000, K, 1, n_vocab=V, support="exact")
    with pytest.raises(InvalidParameterError, match="'n_vocab' parameter of suggest_sketch"):
        suggest_sketch(budget, K, 1, support="exact")


def test_suggest_head_sketch_fills_the_budget_with_a_head():
    from lda_sketch.stats.suggest import suggest_head_sketch

    V, K = 74_829, 100
    budget = int(0.085 * 4 * V * K)
    d, w, head = suggest_head_sketch(budget, K, V)
    assert (d, w) == (3, 2**12) and 13_000 <= head <= 13_300
    s = CountMinMorrisStats(K, V, n_hashes=d, n_buckets=w, head_words=head)
    assert s.nbytes <= budget < s.nbytes + K  # one more head word would not fit
    assert suggest_head_sketch(10**9, K, V)[2] == V  # never more head words than words
    # Ids not in frequency order: the head's ids are stored too (4 bytes a word), and counted.
    d, w, head = suggest_head_sketch(budget, K, V, frequency_ordered=False)
    s = CountMinMorrisStats(K, V, n_hashes=d, n_buckets=w, head_words=head)
    s.adapt(np.arange(V) % 7)  # any order but the ids' own
    assert not s._head_index.is_prefix
    assert s.nbytes <= budget < s.nbytes + K + 4


def test_suggest_counter_base_reads_past_the_largest_count():
    from lda_sketch.stats._morris_kernels import morris_tables
    from lda_sketch.stats.suggest import suggest_counter_base

    for n, bits in ((36_029, 8), (10**9, 8), (10**6, 16)):
        b = suggest_counter_base(n, bits)
        top_read = morris_tables(b, bits)[0][-1]
        assert top_read >= 2 * n  # the default headroom
        if b - 1e-4 > 1.00005:  # and it is the smallest such base (to 1e-4)
            assert morris_tables(b - 1e-4, bits)[0][-1] < 2 * n
    with pytest.raises(InvalidParameterError, match="'max_count' parameter"):
        suggest_counter_base(10**300, 8)
