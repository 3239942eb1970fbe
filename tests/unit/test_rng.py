import numpy as np
import pytest
from scipy import stats

from lda_sketch import rng


def test_same_inputs_same_draws():
    k = rng.key_for(42, rng.STREAM_SAMPLER, 3)
    assert np.array_equal(rng.uniforms(k, 10, 100), rng.uniforms(k, 10, 100))
    # A draw depends only on its index, not on which batch produced it.
    assert rng.uniforms(k, 0, 50)[17] == rng.uniforms(k, 17, 1)[0]


def test_uniformity_ks():
    u = rng.uniforms(rng.key_for(1, rng.STREAM_SAMPLER, 0), 0, 200_000)
    assert 0.0 <= u.min() and u.max() < 1.0
    assert stats.kstest(u, "uniform").pvalue > 1e-6


@pytest.mark.parametrize("coords", [(0, 1, 0, 0, 2, 0), (0, 1, 0, 0, 1, 1), (0, 1, 0, 1, 1, 0)])
def test_streams_independent(coords):
    s1, st1, it1, s2, st2, it2 = coords
    n = 100_000
    a = rng.uniforms(rng.key_for(s1, st1, it1), 0, n)
    b = rng.uniforms(rng.key_for(s2, st2, it2), 0, n)
    assert not np.array_equal(a, b)
    # Correlation of independent uniforms: |r| < 6/sqrt(n).
    r = np.corrcoef(a, b)[0, 1]
    assert abs(r) < 6 / np.sqrt(n)
    # Neighbouring indices are uncorrelated too.
    assert abs(np.corrcoef(a[:-1], a[1:])[0, 1]) < 6 / np.sqrt(n)


def test_bad_seed_message():
    with pytest.raises(ValueError, match="'seed'"):
        rng.key_for(-1, 1, 0)
