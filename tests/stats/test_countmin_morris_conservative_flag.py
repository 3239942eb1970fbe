"""The config spelling `conservative = true` selects the correlated + conservative-update rule."""
import pytest

from lda_sketch.exceptions import InvalidParameterError
from lda_sketch.stats import make_stats
from lda_sketch.config import SketchConfig
from lda_sketch.run.engine import EngineParams
from lda_sketch.stats.countmin_morris import CountMinMorrisStats


def test_conservative_flag_selects_the_conservative_rule():
    s = make_stats("countmin-morris", n_topics=2, n_vocab=10, n_buckets=16,
                   **{"increment": "correlated", "conservative": True})
    assert s.rule == "conservative" and s.file_params()["increment"] == "conservative"
    # and the config -> backend translation passes the flag through (it used to be dropped)
    section = SketchConfig(backend="countmin-morris", increment="correlated", conservative=True,
                           n_buckets=16, n_hashes=3)
    s = CountMinMorrisStats.from_config(section, n_topics=2, n_vocab=10, seed=0)
    assert s.rule == "conservative"
    p = EngineParams(n_topics=2, sketch=section)
    assert p.check_backend(10)["conservative"] is True


def test_conservative_with_independent_counters_is_refused():
    with pytest.raises(InvalidParameterError, match="'conservative' parameter of CountMinMorrisStats"):
        make_stats("countmin-morris", n_topics=2, n_vocab=10, n_buckets=16,
                   increment="independent", conservative=True)
