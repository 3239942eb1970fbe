"""Count-min of Morris counters: bias of the minimum per increment rule, weighted adds exact in
distribution, unbiased randomized merges, owner-computes consistency, large key spaces."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from lda_sketch import rng
from lda_sketch.distributed.merge import fold_slices
from lda_sketch.stats import make_stats
from lda_sketch.stats.countmin import CountMinStats
from lda_sketch.stats.countmin_morris import CountMinMorrisStats


def morris(rule, **kw):
    """A small sketch of update ``rule`` (conservative: correlated + conservative=True)."""
    spelled = ({"increment": "correlated", "conservative": True} if rule == "conservative"
               else {"increment": rule})
    return CountMinMorrisStats(**dict(dict(n_topics=1, n_vocab=40, n_hashes=3, n_buckets=64,
                                           seed=3, **spelled), **kw))


def replicate_estimates(increment, words, counts, R, stream_seed, **kw):
    """(R, V) estimates of R sketches fed the same records with R different keys."""
    V = kw.get("n_vocab", 40)
    out = np.empty((R, V))
    topics = np.zeros_like(words)
    for r in range(R):
        s = morris(increment, **kw)
        s.add(words, topics, counts, key=rng.key_for(stream_seed, rng.STREAM_COUNTER, r))
        out[r] = s.estimate(np.arange(V))[:, 0]
    return out


@pytest.fixture(scope="module")
def colliding_setup():
    """40 words with 200..1000 occurrences in a 3 x 64 sketch; the words that have a
    collision-free row (integer count-min exact) but collide in another row."""
    V = 40
    counts = np.random.default_rng(0).integers(200, 1000, V)
    words = np.arange(V, dtype=np.int64)
    cm = CountMinStats(1, V, n_hashes=3, n_buckets=64, seed=3)
    cm.add(words, np.zeros(V, np.int64), counts)
    exact_cm = cm.estimate(words)[:, 0] == counts
    cells = cm.cells[:, :, 0]
    from lda_sketch.stats._hash_kernels import buckets
    bk = buckets(cm._a, cm._c, 6, words)
    collides = np.array([(cells[np.arange(3), bk[:, w]] > counts[w]).any() for w in range(V)])
    focus = exact_cm & collides
    assert focus.sum() >= 10  # the setting is non-trivial
    return words, counts, focus


@pytest.mark.parametrize("increment", ["correlated", "conservative"])
def test_correlated_rules_never_bias_the_minimum_down(colliding_setup, increment, seed):
    """E[estimate] >= true count for every word (one-sided, 6 standard errors)."""
    words, counts, focus = colliding_setup
    R = 400
    est = replicate_estimates(increment, words, counts, R, seed)
    err = est - counts
    se = err.std(axis=0, ddof=1) / np.sqrt(R)
    assert (err.mean(axis=0) >= -6 * se).all()
    agg = err[:, focus].sum(axis=1)
    assert agg.mean() >= -6 * agg.std(ddof=1) / np.sqrt(R)


def test_independent_counters_bias_the_minimum_down(colliding_setup, seed):
    """With independent noise the minimum over a word's cells falls below the true count on
    average, even though every cell is unbiased: the mean error over words with one exact
    (collision-free) row is significantly negative."""
    words, counts, focus = colliding_setup
    R = 400
    err = replicate_estimates("independent", words, counts, R, seed)[:, focus] - counts[focus]
    agg = err.sum(axis=1)
    assert agg.mean() + 6 * agg.std(ddof=1) / np.sqrt(R) < 0


def test_independent_bias_without_any_collision(seed):
    """Even with no collisions at all the minimum of d independent counters is biased down,
    while the correlated rule keeps d identical copies (unbiased)."""
    V, R = 30, 300
    words = np.arange(V, dtype=np.int64)
    counts = np.full(V, 300)
    big = dict(n_vocab=V, n_buckets=2**14)
    ind = replicate_estimates("independent", words, counts, R, seed, **big) - 300
    cor = replicate_estimates("correlated", words, counts, R, seed, **big) - 300
    a, b = ind.sum(axis=1), cor.sum(axis=1)
    assert a.mean() + 6 * a.std(ddof=1) / np.sqrt(R) < 0
    assert abs(b.mean()) <= 6 * b.std(ddof=1) / np.sqrt(R)


@pytest.mark.parametrize("increment", ["independent", "correlated", "conservative"])
def test_weighted_records_equal_unit_increments_in_distribution(increment, seed):
    """(w, k, n) applied by geometric skipping == n single increments, on a colliding sketch."""
    V, R = 12, 1500
    g = np.random.default_rng(seed)
    words = np.arange(V, dtype=np.int64)
    counts = g.integers(1, 120, V)
    kw = dict(n_vocab=V, n_buckets=16)
    agg = replicate_estimates(increment, words, counts, R, 2 * seed, **kw)
    unit = replicate_estimates(increment, np.repeat(words, counts), np.ones(counts.sum(), np.int64),
                               R, 2 * seed + 1, **kw)
    for w in range(V):
        assert stats.ks_2samp(agg[:, w], unit[:, w], method="asymp").pvalue > 1e-6
        se = np.sqrt((agg[:, w].var(ddof=1) + unit[:, w].var(ddof=1)) / R)
        assert abs(agg[:, w].mean() - unit[:, w].mean()) <= 6 * se + 1e-9


def _filled(increment, seed, stream_id, **kw):
    s = morris(increment, n_topics=4, n_vocab=300, n_buckets=128, seed=seed, **kw)
    g = np.random.default_rng(100 * seed + stream_id)
    s.add(g.integers(0, 300, 2000), g.integers(0, 4, 2000), g.integers(1, 50, 2000),
          key=rng.key_for(seed, rng.STREAM_COUNTER, stream_id))
    return s


@pytest.mark.parametrize("increment", ["independent", "conservative"])
def test_sketch_merge_is_unbiased_per_cell(increment, seed):
    """Sum over cells of read(a ⊕ b) has mean sum read(a) + read(b), over many merge keys."""
    a, b = _filled(increment, seed, 0), _filled(increment, seed, 1)
    read = a.read_table
    target = read[a.cells].sum() + read[b.cells].sum()
    R = 300
    tot = np.empty(R)
    for r in range(R):
        m = a.empty_like()
        m.merge(a, key=0)  # a copy: merging into zeros is exact
        m.merge(b, key=rng.key_for(seed, rng.STREAM_MERGE, r))
        tot[r] = read[m.cells].sum()
    assert abs(tot.mean() - target) <= 6 * tot.std(ddof=1) / np.sqrt(R)
    assert tot.std() > 0


def test_merge_is_commutative_bitwise_and_equals_the_two_rank_fold(seed):
    a, b = _filled("correlated", seed, 0), _filled("correlated", seed, 1)
    key = rng.key_for(seed, rng.STREAM_MERGE, 5)
    ab, ba = a.empty_like(), b.empty_like()
    ab.merge(a, key=0)
    ab.merge(b, key=key)
    ba.merge(b, key=0)
    ba.merge(a, key=key)
    assert ab.serialize() == ba.serialize()
    # owner computes: rank order fold keyed by derive(key, rank), in slices with global offsets
    flat = np.stack([a.cells.reshape(-1), b.cells.reshape(-1)])
    n = flat.shape[1]
    cuts = [0, n // 3, 2 * n // 3 + 1, n]
    parts = [fold_slices(a, flat[:, lo:hi], key=key, cell_offset=lo)
             for lo, hi in zip(cuts[:-1], cuts[1:])]
    assert np.array_equal(np.concatenate(parts), ab.cells.reshape(-1))


def test_sixteen_bit_counters_count_a_large_range(seed):
    s = morris("correlated", n_vocab=10, counter_bits=16, counter_base=1.0005)
    s.add(np.array([2]), np.array([0]), np.array([10**9]), key=rng.key_for(seed, 3, 0))
    est = s.estimate(np.array([2]))[0, 0]
    assert abs(est / 1e9 - 1) < 6 * s.counter_relative_std()
    assert s.cells.dtype == np.uint16 and s.cells.max() < s.top_code


@pytest.mark.parametrize("backend,extra", [("countmin", {}), ("countmin-morris", {})])
def test_plain_key_counting_with_32_bit_keys(backend, extra):
    """n_topics=1 is plain key counting; keys up to 2**32 - 1 hash correctly."""
    s = make_stats(backend, n_topics=1, n_vocab=2**32, n_hashes=4, n_buckets=2**12, **extra)
    keys = np.array([0, 2**31 - 1, 2**31, 2**31 + 5, 2**32 - 1], np.int64)
    s.add(keys, np.zeros(5, np.int64), np.array([1, 2, 3, 4, 5]), key=rng.key_for(0, 3, 0))
    est = s.estimate(keys)[:, 0]
    if backend == "countmin":
        assert np.array_equal(est, [1, 2, 3, 4, 5])
    else:  # small counts are read nearly exactly by base-1.08 counters
        assert (np.abs(est - [1, 2, 3, 4, 5]) < 3).all() and est[0] == 1
    with pytest.raises(ValueError, match="out of range"):
        s.add(np.array([2**32]), np.zeros(1, np.int64), np.ones(1, np.int64))


def test_head_cells_encode_a_whole_count_unbiased_with_rounding_variance():
    """A head word's record is encoded at once: read(code) is n exactly in expectation, with the
    variance of one rounding between neighbouring codes (computed exactly here), at most
    ((b - 1) n)^2 / 4, 2 / (b - 1) times below the (b - 1) n (n - 1) / 2 of n Morris increments.
    Fixed keys, 6-sigma margins."""
    from lda_sketch import rng
    from lda_sketch.stats._morris_kernels import morris_round_add, morris_tables

    b, n, R = 1.08, 1000, 20_000
    read = morris_tables(b, 8)[0]
    c = int(np.searchsorted(read, n, side="right") - 1)
    g = read[c + 1] - read[c]
    p = (n - read[c]) / g
    cells = np.zeros((1, R, 1), np.uint8)
    n_k = np.zeros(1, np.int64)
    words = np.arange(R, dtype=np.int64)
    morris_round_add(cells, n_k, read, np.uint64(rng.key_for(3, rng.STREAM_COUNTER, 0)), words,
                     np.zeros(R, np.int64), np.full(R, n, np.int64))
    vals = read[cells[0, :, 0]]
    assert set(np.unique(vals)) <= {read[c], read[c + 1]} and n_k[0] == n * R
    sd = np.sqrt(p * (1 - p)) * g
    assert abs(vals.mean() - n) <= 6 * sd / np.sqrt(R)
    # rounding variance <= ((b-1) n)^2 / 4: at least 2 / (b - 1) = 25x below Morris's
    assert sd ** 2 <= ((b - 1) * n) ** 2 / 4 < (b - 1) * n * (n - 1) / 2 / 20
    s = CountMinMorrisStats(4, 50, n_buckets=16, head_words=10)
    s.add(np.array([3, 3]), np.array([1, 1]), np.array([40, 2]), key=5)  # two records, one cell
    est = s.estimate(np.array([3]))[0]
    assert est[1] > 0 and (est[[0, 2, 3]] == 0).all()
