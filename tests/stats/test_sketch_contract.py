"""One contract suite over every registered backend and variant, driven by ``guarantees``.

Each test states the guarantee it checks and is skipped for backends that do not claim it, so a
new backend (or variant listed in CASES) gets the whole suite.
"""
from __future__ import annotations

import inspect
import re

import numpy as np
import pytest

from lda_sketch import rng
from lda_sketch.exceptions import IncompatibleStatsError
from lda_sketch.stats import BACKENDS, base, make_stats
from lda_sketch.stats.base import GUARANTEES
from lda_sketch.stats._hash_kernels import buckets
from test_morris_counter import exact_pmf  # the exact code distribution, written once
from lda_sketch.stats._morris_kernels import morris_tables

K, V = 6, 200
SKETCH = {"n_hashes": 3, "n_buckets": 64}  # small: many collisions
CASES = {
    "dense": ("dense", {}),
    "countmin": ("countmin", SKETCH),
    "countmin-cu": ("countmin", dict(SKETCH, conservative=True)),
    "cmm-independent": ("countmin-morris", dict(SKETCH, increment="independent")),
    "cmm-correlated": ("countmin-morris", dict(SKETCH, increment="correlated")),
    "cmm-conservative": ("countmin-morris", dict(SKETCH, increment="correlated",
                                                 conservative=True)),
    "cmm-correlated-16bit": ("countmin-morris", dict(SKETCH, increment="correlated",
                                                     counter_bits=16, counter_base=1.002)),
    "countmin-meanmin": ("countmin", dict(SKETCH, estimator="mean-min")),
    "countmin-support": ("countmin", dict(SKETCH, support="exact")),
    "cmm-correlated-support": ("countmin-morris", dict(SKETCH, increment="correlated",
                                                       support="exact")),
    "countmin-head-support": ("countmin", dict(SKETCH, head_words=20, support="exact")),
    "cmm-correlated-head": ("countmin-morris", dict(SKETCH, increment="correlated",
                                                    head_words=20)),
    "cmm-conservative-head-support": ("countmin-morris", dict(SKETCH, increment="correlated",
                                                              conservative=True, head_words=20,
                                                              support="exact")),
    "cmm-correlated-meanmin": ("countmin-morris", dict(SKETCH, increment="correlated",
                                                       estimator="mean-min")),
}


def test_every_registered_backend_has_a_case():
    assert {b for b, _ in CASES.values()} == set(BACKENDS)


def make(case, seed=0, **over):
    backend, params = CASES[case]
    return make_stats(backend, n_topics=K, n_vocab=V, seed=seed, **dict(params, **over))


def stream(seed, n=3000, zipf=True):
    """Aggregated records (word, topic, count) with Zipf-like word frequencies."""
    g = np.random.default_rng(seed)
    w = (g.zipf(1.3, n) - 1) % V if zipf else g.integers(0, V, n)
    return w.astype(np.int64), g.integers(0, K, n), g.integers(1, 6, n)


def truth(w, t, c):
    out = np.zeros((V, K), np.int64)
    np.add.at(out, (w, t), c)
    return out


def key(i):
    return rng.key_for(7, rng.STREAM_COUNTER, i)


def needs(stats, flag):
    if flag not in stats.guarantees:
        pytest.skip(f"{stats!r} does not claim {flag!r}")


@pytest.fixture(params=sorted(CASES))
def case(request):
    return request.param


# --------------------------------------------------------------------------- all backends
def test_topic_totals_are_exact(case, seed):
    s = make(case, seed)
    w, t, c = stream(seed)
    s.add(w, t, c, key=key(0))
    assert s.n_k.dtype == np.int64
    assert np.array_equal(s.topic_totals(), np.bincount(t, weights=c, minlength=K).astype(np.int64))


def test_estimate_shapes_and_estimate_into(case, seed):
    s = make(case, seed)
    s.add(*stream(seed), key=key(0))
    words = np.array([5, 0, 199, 5], np.int64)
    est = s.estimate(words)
    assert est.shape == (4, K) and est.dtype == np.float64
    out = np.full((4, K), -1.0)
    assert s.estimate_into(words, out) is out
    assert np.array_equal(out, est) and np.array_equal(est[0], est[3])
    assert s.estimate(np.zeros(0, np.int64)).shape == (0, K)


def test_empty_like_and_clear(case, seed):
    s = make(case, seed)
    s.add(*stream(seed), key=key(0))
    e = s.empty_like()
    assert type(e) is type(s) and e.params() == s.params()
    assert not e.cells.any() and not e.n_k.any() and e.cells.shape == s.cells.shape
    aux = sum(a.nbytes for a in s.or_arrays())  # e.g. a support bitmap: counted, never hidden
    assert s.nbytes == e.nbytes == s.cells.nbytes + s.n_k.nbytes + aux
    s.clear()
    assert not s.cells.any() and not s.n_k.any() and not any(a.any() for a in s.or_arrays())
    assert not s.estimate(np.arange(V)).any()


def test_same_key_same_bytes_and_merge_is_a_pure_function(case, seed):
    a, b = make(case, seed), make(case, seed)
    w, t, c = stream(seed)
    a.add(w, t, c, key=key(1))
    b.add(w, t, c, key=key(1))
    assert a.serialize() == b.serialize()
    o = make(case, seed)
    o.add(*stream(seed + 100), key=key(2))
    a.merge(o, key=rng.key_for(7, rng.STREAM_MERGE, 0))
    b.merge(o, key=rng.key_for(7, rng.STREAM_MERGE, 0))
    assert a.serialize() == b.serialize()


def test_serialize_round_trip_is_byte_exact(case, seed):
    s = make(case, seed)
    for filled in (False, True):
        if filled:
            s.add(*stream(seed), key=key(0))
        data = s.serialize()
        r = type(s).deserialize(data)
        assert r.serialize() == data
        assert r.params() == s.params() and np.array_equal(r.n_k, s.n_k)
        assert np.array_equal(r.cells, s.cells) and r.cells.dtype == s.cells.dtype
        assert np.array_equal(r.estimate(np.arange(V)), s.estimate(np.arange(V)))


def test_column_sums_equal_summed_estimates(case, seed):
    s = make(case, seed)
    s.add(*stream(seed), key=key(0))
    np.testing.assert_allclose(s.estimate_column_sums(chunk=37),
                               s.estimate(np.arange(V)).sum(axis=0), rtol=1e-12)


# --------------------------------------------------------------------------- by guarantee
def test_exact_backends_equal_the_truth(case, seed):
    s = make(case, seed)
    needs(s, "exact")
    w, t, c = stream(seed)
    s.add(w, t, c, key=key(0))
    assert np.array_equal(s.estimate(np.arange(V)), truth(w, t, c))


def test_never_underestimates(case, seed):
    s = make(case, seed)
    needs(s, "never_underestimates")
    w, t, c = stream(seed)
    s.add(w, t, c, key=key(0))
    est = s.estimate(np.arange(V))
    assert (est >= truth(w, t, c)).all()
    if "exact" not in s.guarantees:
        assert (est > truth(w, t, c)).any()  # the small sketch does collide


def test_exact_merge_sums_cells_commutes_and_associates(case, seed):
    parts = [make(case, seed) for _ in range(3)]
    needs(parts[0], "exact_merge")
    for i, p in enumerate(parts):
        p.add(*stream(seed + i), key=key(i))
    cells_sum = sum(p.cells.astype(np.int64) for p in parts)

    def merged(order, grouping):
        s = [make(case, seed) for _ in range(3)]
        for x, p in zip(s, parts):
            x.merge(p)
        a, b, c = (s[i] for i in order)
        if grouping == "left":
            a.merge(b)
            a.merge(c)
            return a
        b.merge(c)
        a.merge(b)
        return a

    ref = merged((0, 1, 2), "left")
    assert np.array_equal(ref.cells, cells_sum)
    assert np.array_equal(ref.n_k, sum(p.n_k for p in parts))
    for order in ((2, 0, 1), (1, 2, 0)):
        for grouping in ("left", "right"):
            assert merged(order, grouping).serialize() == ref.serialize()


def test_linear_merge_equals_the_sketch_of_the_concatenated_stream(case, seed):
    s = make(case, seed)
    if "exact" not in s.guarantees:
        needs(s, "linear")
    A, B = stream(seed), stream(seed + 1)
    a, b, ab = make(case, seed), make(case, seed), make(case, seed)
    a.add(*A)
    b.add(*B)
    a.merge(b)
    ab.add(*(np.concatenate(x) for x in zip(A, B)))
    assert a.serialize() == ab.serialize()
    # aggregated records == one record per unit increment
    unit = make(case, seed)
    w, t, c = B
    unit.add(np.repeat(w, c), np.repeat(t, c), np.ones(c.sum(), np.int64))
    assert unit.serialize() == b.serialize()


def collision_free(s, words):
    """True if every word in ``words`` has a row whose bucket no other of those words uses."""
    log2w = s.n_buckets.bit_length() - 1
    bk = buckets(s._a, s._c, log2w, words)
    free = np.zeros(words.shape[0], bool)
    for r in range(s.n_hashes):
        cnt = np.bincount(bk[r], minlength=s.n_buckets)
        free |= cnt[bk[r]] == 1
    return free.all()


def test_integer_sketches_are_exact_without_collisions(case, seed):
    """Integer cells and a collision-free row for every word: estimates equal the truth."""
    needs(make(case, seed), "never_underestimates")
    if "exact" in make(case, seed).guarantees:
        pytest.skip("exact backends are covered by test_exact_backends_equal_the_truth")
    s = make(case, seed, n_buckets=2**16)
    w, t, c = stream(seed)
    assert collision_free(s, np.unique(w))
    s.add(w, t, c, key=key(0))
    assert np.array_equal(s.estimate(np.arange(V)), truth(w, t, c))


def test_morris_without_collisions_is_a_morris_counter_per_key(case, seed):
    """With a collision-free row for every key, correlated and conservative sketches hold one
    exact-in-distribution Morris counter per key: check the summed error against its exact mean
    and the summed squared error against its exact mean and variance (6 sigma)."""
    needs(make(case, seed), "mean_overestimates")
    s = make(case, seed, n_buckets=2**16)
    w, t, c = stream(seed)
    # every used word has a row it shares with no other used word
    assert collision_free(s, np.unique(w))
    s.add(w, t, c, key=key(3))
    true = truth(w, t, c)
    err = s.estimate(np.arange(V)) - true
    read, prob, _ = morris_tables(s.counter_base, s.counter_bits)
    var = m4 = 0.0
    for n, mult in zip(*np.unique(true, return_counts=True)):
        p = exact_pmf(int(n), prob)
        v = p @ (read - n) ** 2
        var += mult * v
        m4 += mult * (p @ (read - n) ** 4 - v * v)
    assert abs(err.sum()) <= 6 * np.sqrt(var)
    assert abs((err**2).sum() - var) <= 6 * np.sqrt(m4)
    assert (err[true <= 1] == 0).all()  # 0 and 1 are read exactly


def test_unbiased_cells_count_their_stream(case, seed):
    """Every cell is an unbiased Morris counter of the records hashed to it (collisions
    included): over R keys, each row's summed cell error is within 6 sigma of 0, with the exact
    variance ``(b - 1) n (n - 1) / 2`` of a cell that saw n increments (cells of one row are
    independent)."""
    s = make(case, seed)
    needs(s, "unbiased_cells")
    w, t, c = stream(seed)
    # the integer count-min with the same hash functions holds each cell's true stream count
    ref = make_stats("countmin", n_topics=K, n_vocab=V, seed=s.seed, n_hashes=s.n_hashes,
                     n_buckets=s.n_buckets, head_words=s.head_words)
    ref.add(w, t, c)
    shape = (s.n_hashes, s.n_buckets, K)

    def hashed(x):  # the hashed rows (a head's own counters follow them in the flat storage)
        return x.cells.reshape(-1)[:int(np.prod(shape))].reshape(shape)

    true = hashed(ref).astype(np.float64)
    R = 20
    err = np.zeros(s.n_hashes)
    for i in range(R):
        x = make(case, seed)
        x.add(w, t, c, key=key(100 + i))
        assert np.array_equal(x.cells > 0, ref.cells > 0)  # same layout as the reference
        assert (x.cells < x.top_code).all()  # no saturation: the variance formula holds
        err += (x.read_table[hashed(x)] - true).sum(axis=(1, 2))
    var = R * ((s.counter_base - 1) * true * (true - 1) / 2).sum(axis=(1, 2))
    assert (np.abs(err) <= 6 * np.sqrt(var)).all()


def test_incompatible_merge_names_every_differing_field(case):
    s = make(case, 1)
    if s.backend_id == "dense":
        other = make_stats("dense", n_topics=K + 1, n_vocab=V + 1, seed=2)
        with pytest.raises(IncompatibleStatsError, match=r"n_topics differ.*n_vocab differ"):
            s.merge(other)
        return
    other = make(case, 2, n_buckets=128)
    with pytest.raises(IncompatibleStatsError) as exc:
        s.merge(other)
    msg = str(exc.value)
    assert "n_buckets differ (64 vs 128)" in msg and "seed differ (1 vs 2)" in msg
    assert "seed_hash differ (0x" in msg
    other_type = make("dense" if case != "dense" else "countmin", 1)
    with pytest.raises(IncompatibleStatsError, match="backends differ"):
        s.merge(other_type)


def test_out_of_range_records_are_rejected_before_any_write(case):
    s = make(case, 0)
    if s.backend_id == "dense":
        pytest.skip("dense input checks belong to the dense backend")
    before = s.serialize()
    for w, t, c, what in (([1, V], [0, 0], [1, 1], f"word={V}"),
                          ([1, 2], [0, K], [1, 1], f"topic={K}"),
                          ([1, 2], [0, 1], [1, -3], "count=-3"), ([-1], [0], [1], "word=-1")):
        with pytest.raises(ValueError, match=f"record .*{what}"):
            s.add(np.array(w), np.array(t), np.array(c), key=key(0))
    with pytest.raises(ValueError, match="word ids must be in"):
        s.estimate(np.array([V]))
    assert s.serialize() == before


def test_results_do_not_depend_on_the_thread_count(case, seed):
    """The parallel estimate and merge kernels give the same bytes with 1 and 2 threads."""
    import numba
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("needs NUMBA_NUM_THREADS >= 2")
    results = []
    old = numba.get_num_threads()
    try:
        for threads in (1, 2):
            numba.set_num_threads(threads)
            a, b = make(case, seed), make(case, seed)
            a.add(*stream(seed), key=key(0))
            b.add(*stream(seed + 1), key=key(1))
            a.merge(b, key=rng.key_for(7, rng.STREAM_MERGE, 1))
            results.append((a.serialize(), a.estimate(np.arange(V)).tobytes()))
    finally:
        numba.set_num_threads(old)
    assert results[0] == results[1]


# --------------------------------------------------------------------------- the flags themselves
#: Each documented guarantee flag -> the contract tests that check it (each skips without it).
def test_exact_zeros_off_the_support(case, seed):
    """Zero exactly where the truth is 0, the backend's own estimate elsewhere; after a merge
    too (the support of the union is the union of the supports)."""
    s = make(case, seed)
    needs(s, "exact_zeros")
    w, t, c = stream(seed, n=400)
    s.add(w, t, c, key=key(0))
    plain = make_stats(s.backend_id, n_topics=K, n_vocab=V, seed=seed,
                       **{k: v for k, v in CASES[case][1].items() if k != "support"})
    plain.add(w, t, c, key=key(0))
    est, ref, tr = s.estimate(np.arange(V)), plain.estimate(np.arange(V)), truth(w, t, c)
    assert (est[tr == 0] == 0).all() and (ref[tr == 0] > 0).any()  # the phantom mass is gone
    assert np.array_equal(est[tr > 0], ref[tr > 0])
    o = make(case, seed)
    w2, t2, c2 = stream(seed + 1, n=400)
    o.add(w2, t2, c2, key=key(1))
    s.merge(o, key=rng.key_for(7, rng.STREAM_MERGE, 0))
    both = truth(np.concatenate([w, w2]), np.concatenate([t, t2]), np.concatenate([c, c2]))
    est = s.estimate(np.arange(V))
    assert (est[both == 0] == 0).all() and (est[both > 0] > 0).all()


def test_head_words_are_collision_free(case, seed):
    """Word ids below head_words have their own counters: integer cells read their exact
    counts, whatever the hashed part holds."""
    s = make(case, seed)
    H = s.params().get("head_words", 0)
    if not H:
        pytest.skip("no head")
    w, t, c = stream(seed)
    s.add(w, t, c, key=key(0))
    tr = truth(w, t, c)
    est = s.estimate(np.arange(H))
    if "never_underestimates" in s.guarantees:  # integer cells: exact
        assert np.array_equal(est, tr[:H])
    else:  # Morris: zero exactly where the truth is zero, and no collision mass
        assert np.array_equal(est == 0, tr[:H] == 0)
    assert s.nbytes >= H * K * s.cells.dtype.itemsize + 3 * 64 * K * s.cells.dtype.itemsize


FLAG_TESTS = {
    "exact": (test_exact_backends_equal_the_truth,),
    "never_underestimates": (test_never_underestimates,
                             test_integer_sketches_are_exact_without_collisions),
    "exact_merge": (test_exact_merge_sums_cells_commutes_and_associates,),
    "linear": (test_linear_merge_equals_the_sketch_of_the_concatenated_stream,),
    "unbiased_cells": (test_unbiased_cells_count_their_stream,),
    "mean_overestimates": (test_morris_without_collisions_is_a_morris_counter_per_key,),
    "exact_zeros": (test_exact_zeros_off_the_support,),
}


def _variants():
    """``(name, instance)`` of every contract case and every backend's warm-up variant."""
    for case in sorted(CASES):
        yield case, make(case)
    for name, cls in sorted(BACKENDS.items()):
        for extra in getattr(cls, "warmup_variants", ({},)):
            yield f"{name}{extra}", cls(n_topics=K, n_vocab=V, seed=0, **extra)


def test_guarantee_flags_are_documented_and_each_has_a_contract_test():
    documented = set(re.findall(r'^\* ``"(\w+)"``', base.__doc__, re.M))
    assert documented == GUARANTEES  # the module docstring lists exactly the constant
    for name, s in _variants():
        assert s.guarantees <= GUARANTEES, (
            f"{name} claims undocumented guarantees {sorted(s.guarantees - GUARANTEES)}")
    for name, cls in BACKENDS.items():
        assert cls.guarantees <= GUARANTEES, name
    assert set(FLAG_TESTS) == GUARANTEES, (
        f"FLAG_TESTS lacks {sorted(GUARANTEES - set(FLAG_TESTS))}, has extra "
        f"{sorted(set(FLAG_TESTS) - GUARANTEES)}")
    for flag, tests in FLAG_TESTS.items():
        assert tests, flag
        for fn in tests:
            assert fn.__name__.startswith("test_") and globals()[fn.__name__] is fn
            assert f'"{flag}"' in inspect.getsource(fn), f"{fn.__name__} does not check {flag!r}"
    # every flag is exercised: some contract case claims it
    claimed = set().union(*(make(case).guarantees for case in CASES))
    assert claimed == GUARANTEES, f"no contract case claims {sorted(GUARANTEES - claimed)}"
