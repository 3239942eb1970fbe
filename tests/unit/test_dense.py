import pytest

from lda_sketch.stats.dense import DenseStats


def test_out_of_range_ids_are_refused():
    s = DenseStats(n_topics=3, n_vocab=5)
    with pytest.raises(ValueError, match=r"word ids must lie in \[0, 5\)"):
        s.add([5], [0], [1])
    with pytest.raises(ValueError, match=r"topic ids must lie in \[0, 3\)"):
        s.add([0], [-1], [1])
    assert s.cells.sum() == 0 and s.n_k.sum() == 0


def test_adds_and_merges_saturate_instead_of_wrapping():
    top = 2**31 - 1
    s = DenseStats(n_topics=2, n_vocab=2)
    s.add([1], [1], [top - 1])
    s.add([1], [1], [5])
    assert s.cells[1, 1] == top
    t = s.empty_like()
    t.add([1], [1], [7])
    s.merge(t)
    assert s.cells[1, 1] == top
    assert s.n_k[1] == top - 1 + 5 + 7  # totals are int64 and exact
