"""The config spelling `conservative = true` selects the correlated + conservative-update rule."""
import pytest

from lda_sketch.exceptions import InvalidParameterError
from lda_sketch.stats import make_stats
from lda_sketch.train import backend_params


def test_conservative_flag_selects_the_conservative_rule():
    s = make_stats("countmin-morris", n_topics=2, n_vocab=10, n_buckets=16,
                   **{"increment": "correlated", "conservative": True})
    assert s.increment == "conservative" and s.params()["increment"] == "conservative"
    # and the config -> backend translation passes the flag through (it used to be dropped)
    p = backend_params("countmin-morris", {"increment": "correlated", "conservative": True,
                                           "n_buckets": 16, "n_hashes": 3})
    assert make_stats("countmin-morris", n_topics=2, n_vocab=10, **p).increment == "conservative"


def test_conservative_with_independent_counters_is_refused():
    with pytest.raises(InvalidParameterError, match="'conservative' parameter of CountMinMorrisStats"):
        make_stats("countmin-morris", n_topics=2, n_vocab=10, n_buckets=16,
                   increment="independent", conservative=True)
