"""Fixtures for the API tests: a small planted-topic corpus on disk, and a config over it."""
from __future__ import annotations

import pytest

from lda_sketch import config as config_mod
from lda_sketch.stats import BACKENDS
from data_prep.synthetic import planted_corpus

# The default backend once registered; until then the integer count-min sketch.
SKETCH = "countmin-morris" if "countmin-morris" in BACKENDS else "countmin"


@pytest.fixture(scope="session")
def planted():
    """(corpus, phi): 240 docs, K=6, V=600, ~50 tokens per doc (about 12k tokens)."""
    return planted_corpus(240, 6, 600, 50, seed=7)


@pytest.fixture(scope="session")
def split(planted):
    """(train, heldout): the planted corpus with 40 random documents held out (seed 0)."""
    from lda_sketch.io.corpus import heldout_split

    corpus = planted[0]
    keep, held = heldout_split(corpus.n_docs, 40, 0)
    return corpus.subset(keep), corpus.subset(held)


@pytest.fixture(scope="session")
def corpus_dir(planted, tmp_path_factory):
    path = tmp_path_factory.mktemp("corpus") / "planted"
    planted[0].write(path)
    return path


@pytest.fixture
def small_config(corpus_dir):
    """A config training K=6 on the planted corpus, 40 docs held out, evaluating every iter."""
    return config_mod.from_dict({
        "model": {"n_topics": 6},
        "sketch": {"backend": SKETCH, "n_buckets": 256},
        "sampler": {"n_iter": 6, "seed": 3},
        "data": {"train": str(corpus_dir), "n_heldout": 40},
        "eval": {"evaluate_every": 1, "fold_in_iters": 20},
        "output": {"checkpoint_every": 3, "keep_checkpoints": 5},
    }, source="test.toml")
