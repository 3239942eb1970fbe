"""Morris counter kernels: tables, unbiasedness, exact variance, geometric skipping, addition.

Margins: means within 6 standard errors; distribution tests at alpha = 1e-6 (fixed seeds, so each
test is a deterministic regression test; LDA_SKETCH_TEST_SEEDS sweeps seeds).
"""
from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from lda_sketch import rng
from lda_sketch.stats._morris_kernels import (morris_add_codes, morris_advance_many, morris_increment_many,
                                     morris_merge_into, morris_tables)

B = 1.08


def exact_pmf(n: int, prob: np.ndarray) -> np.ndarray:
    """Exact distribution of the code after n single increments from 0 (dynamic programming)."""
    p = np.zeros(prob.shape[0])
    p[0] = 1.0
    for _ in range(n):
        moved = p * prob
        p = p - moved
        p[1:] += moved[:-1]
    return p


def pooled_chisquare(codes: np.ndarray, pmf: np.ndarray, min_expected: float = 5.0) -> float:
    """Chi-square goodness-of-fit p-value, pooling neighbouring codes until expected >= 5."""
    R = codes.shape[0]
    obs = np.bincount(codes.astype(np.int64), minlength=pmf.shape[0]).astype(float)
    exp_ = pmf * R
    o_bins, e_bins, o_acc, e_acc = [], [], 0.0, 0.0
    for o, e in zip(obs, exp_):
        o_acc += o
        e_acc += e
        if e_acc >= min_expected:
            o_bins.append(o_acc)
            e_bins.append(e_acc)
            o_acc = e_acc = 0.0
    o_bins[-1] += o_acc
    e_bins[-1] += e_acc
    return stats.chisquare(o_bins, e_bins).pvalue


def test_tables():
    read, prob, log1m = morris_tables(B, 8)
    c = np.arange(256)
    assert read.shape == prob.shape == log1m.shape == (256,)
    np.testing.assert_allclose(read, (B**c - 1) / (B - 1), rtol=1e-12)
    np.testing.assert_allclose(np.diff(read), B ** c[:-1], rtol=1e-12)  # n̂(c+1) - n̂(c) = b**c
    assert read[0] == 0.0 and read[1] == 1.0 and prob[0] == 1.0 and prob[-1] == 0.0
    np.testing.assert_allclose(prob[:-1], B ** -c[:-1], rtol=1e-12)
    # 16 bits with a small base: finite, monotone read table
    read16, _, _ = morris_tables(1.0105, 16)
    assert np.isfinite(read16).all() and (np.diff(read16) > 0).all()


def test_exact_pmf_matches_the_variance_formula():
    """The documented moments, checked exactly: E = n, Var = (b - 1) n (n - 1) / 2."""
    read, prob, _ = morris_tables(B, 8)
    for n in (1, 2, 10, 300):
        p = exact_pmf(n, prob)
        mean = p @ read
        var = p @ read**2 - mean**2
        assert mean == pytest.approx(n, rel=1e-9)
        assert var == pytest.approx((B - 1) * n * (n - 1) / 2, rel=1e-7, abs=1e-9)


def test_advance_is_unbiased_with_the_formula_variance(seed):
    read, prob, log1m = morris_tables(B, 8)
    R, n = 200_000, 1000
    codes = np.zeros(R, np.uint8)
    morris_advance_many(codes, np.full(R, n, np.int64), prob, log1m,
                        rng.key_for(seed, rng.STREAM_COUNTER, 0))
    est = read[codes]
    var = (B - 1) * n * (n - 1) / 2
    assert abs(est.mean() - n) <= 6 * np.sqrt(var / R)
    # sample variance: its standard error from the exact fourth central moment
    p = exact_pmf(n, prob)
    mu4 = p @ (read - n) ** 4
    assert abs(est.var(ddof=1) - var) <= 6 * np.sqrt((mu4 - var**2) / R)


@pytest.mark.parametrize("n", [1, 2, 7, 200])
def test_advance_matches_single_increments_in_distribution(seed, n):
    """n increments at once (geometric skipping) == n single increments, in distribution."""
    read, prob, log1m = morris_tables(B, 8)
    R = 40_000
    fast = np.zeros(R, np.uint8)
    slow = np.zeros(R, np.uint8)
    morris_advance_many(fast, np.full(R, n, np.int64), prob, log1m,
                        rng.key_for(seed, rng.STREAM_COUNTER, 1))
    morris_increment_many(slow, n, prob, rng.key_for(seed, rng.STREAM_COUNTER, 2))
    if n == 1:  # the first increment always moves code 0
        assert (fast == 1).all() and (slow == 1).all()
        return
    pmf = exact_pmf(n, prob)
    assert pooled_chisquare(fast, pmf) > 1e-6
    assert pooled_chisquare(slow, pmf) > 1e-6
    assert stats.ks_2samp(read[fast], read[slow], method="asymp").pvalue > 1e-6


def test_advance_from_a_nonzero_code_and_zero_count(seed):
    read, prob, log1m = morris_tables(B, 8)
    R, c0, n = 50_000, 40, 500
    codes = np.full(R, c0, np.uint8)
    morris_advance_many(codes, np.zeros(R, np.int64), prob, log1m, rng.key_for(seed, 3, 0))
    assert (codes == c0).all()
    morris_advance_many(codes, np.full(R, n, np.int64), prob, log1m, rng.key_for(seed, 3, 1))
    # from value m = read[c0], n increments: unbiased for m + n, Var = (b-1)(n m + n(n-1)/2)
    est, m = read[codes], read[c0]
    var = (B - 1) * (n * m + n * (n - 1) / 2)
    assert abs(est.mean() - (m + n)) <= 6 * np.sqrt(var / R)


def test_saturated_counters_stay_at_the_top_code(seed):
    read, prob, log1m = morris_tables(B, 8)
    codes = np.full(1000, 250, np.uint8)  # b**-250 ~ 4e-9: 2**62 increments reach the top
    morris_advance_many(codes, np.full(1000, 2**62, np.int64), prob, log1m, rng.key_for(seed, 3, 0))
    assert (codes == 255).all()
    morris_increment_many(codes, 100, prob, rng.key_for(seed, 3, 1))
    assert (codes == 255).all()
    dst = np.full(10, 255, np.uint8)
    morris_merge_into(dst, np.full(10, 255, np.uint8), prob, np.uint64(7), 0)
    assert (dst == 255).all()
    _, p16, l16 = morris_tables(1.0105, 16)
    c16 = np.full(5, 65535, np.uint16)
    morris_advance_many(c16, np.full(5, 2**62, np.int64), p16, l16, rng.key_for(seed, 3, 2))
    morris_merge_into(c16, np.full(5, 65535, np.uint16), p16, np.uint64(7), 0)
    assert (c16 == 65535).all()


@pytest.mark.parametrize("x,y", [(0, 17), (1, 1), (12, 30), (60, 60), (3, 90)])
def test_addition_is_unbiased(seed, x, y):
    """E[read(x ⊕ y)] = read(x) + read(y), Monte Carlo over many keys."""
    read, prob, _ = morris_tables(B, 8)
    R = 100_000
    dst = np.full(R, x, np.uint8)
    morris_merge_into(dst, np.full(R, y, np.uint8), prob, rng.key_for(seed, rng.STREAM_MERGE, 0), 0)
    est = read[dst]
    target = read[x] + read[y]
    assert dst.min() >= max(x, y) and dst.max() <= max(x, y) + min(x, y)
    if min(x, y) == 0:
        assert (dst == max(x, y)).all()
        return
    se = est.std(ddof=1) / np.sqrt(R)
    assert abs(est.mean() - target) <= 6 * se + 1e-12 * target


def test_addition_is_symmetric_and_a_pure_function_of_inputs_and_key(seed):
    _, prob, _ = morris_tables(B, 8)
    g = np.random.default_rng(seed)
    x = g.integers(0, 120, 5000).astype(np.uint8)
    y = g.integers(0, 120, 5000).astype(np.uint8)
    key = rng.key_for(seed, rng.STREAM_MERGE, 3)
    a, b, c = x.copy(), y.copy(), x.copy()
    morris_merge_into(a, y, prob, key, 0)
    morris_merge_into(b, x, prob, key, 0)
    morris_merge_into(c, y, prob, key, 0)
    assert np.array_equal(a, b) and np.array_equal(a, c)
    d = x.copy()
    morris_merge_into(d, y, prob, rng.key_for(seed, rng.STREAM_MERGE, 4), 0)
    assert not np.array_equal(a, d)
    # slices keyed by their global offset reproduce the whole-array merge
    e = x.copy()
    for lo in range(0, 5000, 1237):
        morris_merge_into(e[lo:lo + 1237], y[lo:lo + 1237], prob, key, lo)
    assert np.array_equal(a, e)
    # scalar kernel agrees with the array kernel for one cell
    i = int(np.argmax((x > 0) & (y > 0)))
    assert morris_add_codes(x[i], y[i], prob, np.uint64(rng.derive(key, np.uint64(i)))) == a[i]


def test_merge_uniforms_equal_the_rng_uniforms():
    from numba import njit

    from lda_sketch.stats._morris_kernels import uniform_small

    @njit
    def both(k, n):
        out = np.empty((n, 2))
        for j in range(n):
            out[j, 0] = uniform_small(k, j)
            out[j, 1] = rng.uniform(k, np.uint64(j))
        return out

    o = both(np.uint64(rng.key_for(3, rng.STREAM_MERGE, 5)), 600)
    assert np.array_equal(o[:, 0], o[:, 1])
