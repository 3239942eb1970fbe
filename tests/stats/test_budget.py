"""The byte budget: parsing, the layout it chooses, and that every layout fits its bytes."""
import dataclasses

import numpy as np
import pytest

from lda_sketch.config import SketchConfig
from lda_sketch.exceptions import InvalidParameterError
from lda_sketch.stats import BACKENDS
from lda_sketch.stats.budget import (Budget, choose_layout, dense_bytes, describe_layout,
                                     parse_budget, resolve_sketch, uses_budget)


@pytest.mark.parametrize("text,want", [
    ("1/12", Budget(fraction=1 / 12)), (0.085, Budget(fraction=0.085)),
    ("0.045", Budget(fraction=0.045)), ("64MiB", Budget(nbytes=64 * 2**20)),
    ("2.5MB", Budget(nbytes=2_500_000)), (3_000_000, Budget(nbytes=3_000_000)),
    ("3000000", Budget(nbytes=3_000_000)), ("1 GiB", Budget(nbytes=2**30)),
])
def test_budgets_parse(text, want):
    assert parse_budget(text) == want


@pytest.mark.parametrize("bad", ["0", "0/12", "12/1", "1/0", "abc", "1.5", "-1", "5 parsecs",
                                 True, None, 0.0, float("nan")])
def test_bad_budgets_are_refused_with_the_parameter_shape(bad):
    with pytest.raises(InvalidParameterError, match="The 'budget' parameter of SketchConfig"):
        parse_budget(bad)


def _nbytes(layout, K, V, extra=None):
    """The backend's own byte count of a chosen layout (8-bit Morris)."""
    p = dict(layout, **(extra or {}))
    return BACKENDS["countmin-morris"].nbytes_for(n_topics=K, n_vocab=V, seed=0,
                                                  increment="correlated", conservative=True,
                                                  counter_base=1.08, counter_bits=8, **p)


def test_wikipedia_split_at_a_twelfth():
    """The recommended layout (docs/RESULTS.md): exact support, 3 x 4096, the rest head."""
    K, V = 100, 71_669
    budget = parse_budget("1/12").bytes_for(K, V)
    lay = choose_layout(budget, K, V, V)
    assert lay == {"n_hashes": 3, "n_buckets": 4096, "head_words": 2277, "support": "exact",
                   "rescale": False}
    assert budget - 100 * K < _nbytes(lay, K, V) <= budget  # the head takes up the slack


def test_small_budget_drops_the_support():
    """At 0.045x the bitmap would take 69 % of the bytes: the head and rows get them."""
    K, V = 100, 71_669
    lay = choose_layout(parse_budget(0.045).bytes_for(K, V), K, V, V)
    assert lay["support"] == "none" and lay["n_hashes"] == 3 and lay["head_words"] > 5000


def test_hashed_ids_get_the_word_filter_and_are_sized_by_the_ids_with_tokens():
    K, V, v_eff = 100, 2**20, 297_162
    budget = parse_budget("1/12").bytes_for(K, v_eff)
    assert budget == int(dense_bytes(K, v_eff) / 12)
    lay = choose_layout(budget, K, V, v_eff)
    assert lay["support"] == "filter"


@pytest.mark.parametrize("seed", range(40))
def test_every_chosen_layout_fits_its_budget(seed):
    """Random vocabularies, topic counts, budgets and fixed keys: the backend's own byte count
    of the chosen layout never exceeds the budget."""
    rng = np.random.default_rng(seed)
    K = int(rng.integers(2, 400))
    V = int(rng.integers(1_000, 400_000))
    frac = float(rng.uniform(0.02, 0.5))
    budget = int(frac * dense_bytes(K, V))
    fixed = {}
    if rng.random() < 0.3:
        fixed["head_words"] = int(rng.integers(0, V // 20))
    if rng.random() < 0.3:
        fixed["n_hashes"] = int(rng.integers(1, 6))
    try:
        lay = choose_layout(budget, K, V, V, fixed=fixed)
    except InvalidParameterError:
        return  # the fixed keys alone exceed the budget: refused, checked below
    for k, v in fixed.items():
        assert lay[k] == v
    assert _nbytes(lay, K, V) <= budget


def test_explicit_keys_are_kept_and_an_overfull_layout_is_refused():
    K, V = 100, 71_669
    budget = parse_budget("1/12").bytes_for(K, V)
    lay = choose_layout(budget, K, V, V, fixed={"head_words": 5000})
    assert lay["head_words"] == 5000 and _nbytes(lay, K, V) <= budget
    with pytest.raises(InvalidParameterError, match="raise the budget or drop an explicit"):
        choose_layout(budget, K, V, V, fixed={"n_buckets": 2**16})


def test_which_configs_use_a_budget():
    assert uses_budget(SketchConfig())  # nothing named: the default 1/12
    assert not uses_budget(SketchConfig(n_buckets=4096))  # an explicit layout, as before
    assert uses_budget(SketchConfig(budget="1/12", head_words=100))
    assert not uses_budget(SketchConfig(backend="dense"))


def test_resolve_fills_every_unset_key_and_reports_the_choice():
    counts = np.arange(1, 71_670)[::-1]
    sec, info = resolve_sketch(SketchConfig(), 100, counts)
    assert None not in dataclasses.astuple(sec)[2:]  # every key but the budget is set
    assert (sec.conservative, sec.counter_base, sec.support) == (True, 1.08, "exact")
    assert info["budget"] == "1/12" and info["stats_bytes"] <= info["budget_bytes"]
    assert "2,277 collision-free head words + exact support" in describe_layout(sec)
    # the resolved section resolves to itself (a resumed run gets the same layout)
    again = resolve_sketch(dataclasses.replace(sec, budget="1/12"), 100, counts)[0]
    assert dataclasses.replace(again, budget=None) == sec
    # explicit layout: the plain sketch's defaults, no budget info
    plain, none = resolve_sketch(SketchConfig(n_buckets=1024), 100, counts)
    assert none is None and (plain.n_hashes, plain.support, plain.conservative) == (3, "none",
                                                                                   False)


def test_a_tiny_vocabulary_under_the_default_budget_gets_the_smallest_sketch():
    sec, info = resolve_sketch(SketchConfig(), 50, np.ones(30, np.int64))
    assert (sec.n_hashes, sec.n_buckets, sec.head_words) == (1, 16, 0)
    with pytest.raises(InvalidParameterError, match="'budget'"):
        resolve_sketch(SketchConfig(budget="1/12"), 50, np.ones(30, np.int64))


@pytest.mark.parametrize("kw", [{}, {"budget": "1/12"}, {"budget": "1/6", "head_words": 10}])
def test_the_estimator_fits_under_a_budget_and_keeps_the_layout(kw):
    """LDASketch with no layout key, a budget, or a budget and a key: fitted, the chosen layout
    in model_.config, within the budget's bytes."""
    from lda_sketch import LDASketch
    from data_prep.synthetic import planted_corpus

    corpus, _ = planted_corpus(300, 4, 3000, 60, seed=2)
    est = LDASketch(4, n_iter=3, seed=0, **kw).fit(corpus)
    sec = est.model_.config.sketch
    assert None not in (sec.n_hashes, sec.n_buckets, sec.head_words, sec.support)
    frac = parse_budget(kw.get("budget", "1/12")).fraction
    v_eff = int(np.count_nonzero(corpus.word_counts()))
    assert est.stats_.nbytes <= frac * dense_bytes(4, v_eff)
    if "head_words" in kw:
        assert sec.head_words == 10
