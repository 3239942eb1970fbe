"""Alpha optimisation in a run directory ([model] optimize_alpha_every): metrics record alpha,
the saved model and doc_topics carry the last one, ``--resume`` is bitwise identical to an
uninterrupted run, and the keys cannot change on resume."""
from __future__ import annotations

import json

import numpy as np
import pytest

from lda_sketch import config as config_mod
from lda_sketch.exceptions import InputFormatError
from lda_sketch.io.checkpoint import latest_checkpoint, load_checkpoint
from lda_sketch.model.topic_model import TopicModel
from lda_sketch.run.loop import ALPHA_KEYS, METRIC_KEYS, TIMING_KEYS
from lda_sketch.run.train import train_run


def _metrics(run):
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def _without_timings(recs):
    return [{k: v for k, v in r.items() if k not in TIMING_KEYS} for r in recs]


@pytest.fixture(scope="module")
def cfg(corpus_dir):
    return config_mod.from_dict({
        "model": {"n_topics": 6, "alpha": 0.8, "optimize_alpha_every": 1,
                  "optimize_alpha_burnin": 2},
        "sketch": {"backend": "dense"},
        "sampler": {"n_iter": 6, "seed": 3},
        "data": {"train": str(corpus_dir), "n_heldout": 40},
        "eval": {"evaluate_every": 1, "fold_in_iters": 20},
        "output": {"checkpoint_every": 2, "keep_checkpoints": 5, "doc_topics": True},
    }, source="test.toml")


@pytest.fixture(scope="module")
def straight(cfg, tmp_path_factory):
    run = tmp_path_factory.mktemp("runs") / "straight"
    train_run(cfg, run, progress=False)
    return run


def test_metrics_and_model_carry_the_optimised_alpha(straight):
    recs = _metrics(straight)
    assert all(tuple(r) == METRIC_KEYS + ALPHA_KEYS for r in recs)
    alphas = [r["alpha"] for r in recs]
    assert alphas[0] == 0.8 and len(set(alphas[1:])) == 5 and alphas[-1] < 0.8
    model = TopicModel.load(straight / "model")
    assert model.alpha == alphas[-1]
    assert model.config.model.alpha == 0.8  # the configured start
    with np.load(next((straight / "doc_topics").glob("rank-*.npz"))) as f:
        assert float(f["alpha"]) == alphas[-1]
    state, _ = load_checkpoint(latest_checkpoint(straight))
    assert float(state["alpha"]) == alphas[-1]


def test_resume_is_bitwise_identical_with_alpha_optimisation(straight, cfg, tmp_path):
    run = tmp_path / "split"
    train_run(cfg.with_overrides(["sampler.n_iter=3"]), run, progress=False)
    train_run(cfg, run, resume=True, progress=False)
    a, _ = load_checkpoint(latest_checkpoint(straight))
    b, _ = load_checkpoint(latest_checkpoint(run))
    np.testing.assert_array_equal(a["z"], b["z"])
    assert a["stats"].tobytes() == b["stats"].tobytes() and float(a["alpha"]) == float(b["alpha"])
    assert _without_timings(_metrics(run)) == _without_timings(_metrics(straight))
    assert (run / "model" / "stats.bin").read_bytes() == \
        (straight / "model" / "stats.bin").read_bytes()
    assert TopicModel.load(run / "model").alpha == TopicModel.load(straight / "model").alpha


def test_the_schedule_cannot_change_on_resume(straight, cfg):
    with pytest.raises(InputFormatError, match="optimize_alpha_every"):
        train_run(cfg.with_overrides(["model.optimize_alpha_every=2"]), straight, resume=True,
                  progress=False)


def test_the_estimator_carries_the_optimised_alpha_into_model_and_save(cfg, planted, tmp_path):
    """LDASketch.from_config of a config that optimises alpha: model_ and the saved model hold
    the alpha the engine found, not the starting one."""
    from lda_sketch import LDASketch

    est = LDASketch.from_config(cfg).fit(planted[0])
    assert est.model_.alpha == est._engine.alpha != cfg.model.alpha
    est.save(tmp_path / "m")
    assert TopicModel.load(tmp_path / "m").alpha == est.model_.alpha
