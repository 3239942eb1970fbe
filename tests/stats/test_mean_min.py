"""Count-mean-min estimator: bounded by the plain estimate, and far less biased on collisions."""
import numpy as np
import pytest

from lda_sketch.exceptions import InvalidParameterError
from lda_sketch.stats import make_stats

VARIANTS = [("countmin", {}), ("countmin-morris", {"increment": "correlated"}),
            ("countmin-morris", {"increment": "independent"})]


@pytest.fixture(scope="module")
def stream():
    g = np.random.default_rng(0)
    V, K = 20000, 10
    truth = np.zeros((V, K), np.int64)
    w = (g.zipf(1.2, size=300_000) - 1) % V
    np.add.at(truth, (w, g.integers(0, K, size=w.size)), 1)
    return truth


def _pair(backend, extra, truth):
    out = []
    ws, ts = np.nonzero(truth)
    for est in ("min", "mean-min"):
        s = make_stats(backend, n_topics=truth.shape[1], n_vocab=truth.shape[0], n_hashes=3,
                       n_buckets=1024, seed=1, estimator=est, **extra)
        s.add(ws, ts, truth[ws, ts], key=np.uint64(5))
        out.append(s)
    return out


@pytest.mark.parametrize("backend,extra", VARIANTS)
def test_mean_min_is_clipped_plain_estimate(stream, backend, extra):
    plain, mm = _pair(backend, extra, stream)
    words = np.arange(stream.shape[0])
    e_min, e_mm = plain.estimate(words), mm.estimate(words)
    assert np.all(e_mm >= 0) and np.all(e_mm <= e_min)


@pytest.mark.parametrize("backend,extra", VARIANTS)
def test_mean_min_cuts_collision_bias(stream, backend, extra):
    # 20k keys x 10 topics in 1024 buckets: the min estimate overcounts the column sums ~5x.
    plain, mm = _pair(backend, extra, stream)
    words = np.arange(stream.shape[0])
    e_min, e_mm = plain.estimate(words), mm.estimate(words)
    ratio_min = e_min.sum(0) / plain.n_k
    ratio_mm = e_mm.sum(0) / mm.n_k
    assert np.all(ratio_min > 3.0)
    assert np.all(np.abs(ratio_mm - 1.0) < 0.3)
    assert np.abs(e_mm - stream).mean() < 0.25 * np.abs(e_min - stream).mean()


def test_estimate_follows_in_place_cell_writes(stream):
    _, mm = _pair("countmin", {}, stream)
    words = np.arange(100)
    before = mm.estimate(words)
    mm.cells[...] *= 2          # e.g. an Allreduce into the cells
    mm.n_k *= 2
    mm.cells_changed()          # what the distributed merge calls
    np.testing.assert_allclose(mm.estimate(words), 2 * before)


def test_mean_min_refused_with_conservative_update():
    with pytest.raises(InvalidParameterError, match="'estimator' parameter of CountMinStats"):
        make_stats("countmin", n_topics=2, n_vocab=10, n_buckets=16, conservative=True,
                   estimator="mean-min")
    with pytest.raises(InvalidParameterError, match="'estimator' parameter of CountMinMorrisStats"):
        make_stats("countmin-morris", n_topics=2, n_vocab=10, n_buckets=16,
                   increment="correlated", conservative=True, estimator="mean-min")
