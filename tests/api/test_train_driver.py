"""The training driver: run directory contents, checkpoints, bitwise resume, sharding."""
from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from lda_sketch import config as config_mod
from lda_sketch.exceptions import CorruptDataError, InputFormatError
from lda_sketch.io.checkpoint import latest_checkpoint, list_checkpoints, load_checkpoint
from lda_sketch.distributed.checkpoint import save_checkpoint
from lda_sketch.distributed.partition import shard_of
from lda_sketch.api.estimator import LDASketch
from lda_sketch.run.loop import METRIC_KEYS, TIMING_KEYS
from lda_sketch.run.train import train_run


def metrics(run):
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def without_timings(recs):
    return [{k: v for k, v in r.items() if k not in TIMING_KEYS} for r in recs]


def final_state(run):
    state, driver = load_checkpoint(latest_checkpoint(run))
    return state, driver


@pytest.fixture(scope="module")
def straight(small_config_module, tmp_path_factory):
    run = tmp_path_factory.mktemp("runs") / "straight"
    train_run(small_config_module, run, progress=False)
    return run


@pytest.fixture(scope="module")
def small_config_module(corpus_dir):
    return config_mod.from_dict({
        "model": {"n_topics": 6},
        "sketch": {"n_buckets": 256},
        "sampler": {"n_iter": 6, "seed": 3},
        "data": {"train": str(corpus_dir), "n_heldout": 40},
        "eval": {"evaluate_every": 1, "fold_in_iters": 20},
        "output": {"checkpoint_every": 2, "keep_checkpoints": 5},
    }, source="test.toml")


def test_run_directory_contents(straight, small_config_module):
    assert sorted(p.name for p in straight.iterdir()) == [
        "checkpoints", "heldout_docs.json", "metrics.jsonl", "model", "provenance.json",
        "resolved_config.toml"]
    recs = metrics(straight)
    assert [r["iteration"] for r in recs] == [1, 2, 3, 4, 5, 6]
    assert all(tuple(r) == METRIC_KEYS for r in recs)
    assert all(r["n_scored"] > 0 and r["perplexity"] > 0 for r in recs)
    # the resolved config is the given one with its unset [sketch] keys filled in (plain
    # defaults: the config names n_buckets, so no budget applies)
    filled = dataclasses.replace(small_config_module.sketch, n_hashes=3, conservative=False,
                                 counter_base=1.08, support="none", rescale=False, head_words=0)
    assert (config_mod.load(straight / "resolved_config.toml")
            == small_config_module.replace(sketch=filled))
    prov = json.loads((straight / "provenance.json").read_text())
    assert prov["n_ranks"] == 1 and len(prov["corpus_manifest_sha256"]) == 64
    assert [p.name for p in list_checkpoints(straight)] == [
        "iter-000002", "iter-000004", "iter-000006"]
    model = LDASketch.load(straight / "model")
    assert model.n_iter_ == 6 and model.history_ == recs


def test_resume_after_finishing_is_bitwise_identical(straight, small_config_module, tmp_path):
    run = tmp_path / "split"
    short = small_config_module.with_overrides(["sampler.n_iter=3"])
    train_run(short, run, progress=False)
    train_run(small_config_module, run, resume=True, progress=False)
    a, _ = final_state(straight)
    b, _ = final_state(run)
    assert a["iteration"] == b["iteration"] == 6
    np.testing.assert_array_equal(a["z"], b["z"])
    np.testing.assert_array_equal(a["stats"], b["stats"])
    assert without_timings(metrics(run)) == without_timings(metrics(straight))
    assert (run / "model" / "stats.bin").read_bytes() == \
        (straight / "model" / "stats.bin").read_bytes()


def test_resume_after_interruption_is_bitwise_identical(straight, small_config_module, tmp_path):
    run = tmp_path / "killed"

    def crash(it):
        if it == 5:  # after the iteration-5 metrics line, before any iteration-6 checkpoint
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train_run(small_config_module, run, progress=False, after_step=crash)
    assert [r["iteration"] for r in metrics(run)] == [1, 2, 3, 4, 5]
    assert latest_checkpoint(run).name == "iter-000004"
    train_run(small_config_module, run, resume=True, progress=False)
    # The iteration-5 line written before the crash is replaced, not duplicated.
    assert without_timings(metrics(run)) == without_timings(metrics(straight))
    np.testing.assert_array_equal(final_state(run)[0]["z"], final_state(straight)[0]["z"])
    assert final_state(run)[0]["stats"].tobytes() == final_state(straight)[0]["stats"].tobytes()


def test_resume_refuses_changed_config(straight, small_config_module, tmp_path):
    changed = small_config_module.with_overrides(["model.n_topics=5"])
    with pytest.raises(InputFormatError, match=r"\[model\]\.n_topics \(6 in the run, 5 now\)"):
        train_run(changed, straight, resume=True, progress=False)
    with pytest.raises(InputFormatError, match="resolved_config.toml not found"):
        train_run(small_config_module, tmp_path / "nothing", resume=True, progress=False)


def test_refuses_to_overwrite_run_without_flag(straight, small_config_module):
    with pytest.raises(FileExistsError, match="--resume"):
        train_run(small_config_module, straight, progress=False)


def test_keep_checkpoints_prunes_oldest(small_config_module, tmp_path):
    cfg = small_config_module.with_overrides(["output.checkpoint_every=1",
                                              "output.keep_checkpoints=2", "sampler.n_iter=4"])
    train_run(cfg, tmp_path / "r", progress=False)
    assert [p.name for p in list_checkpoints(tmp_path / "r")] == ["iter-000003", "iter-000004"]


def test_checkpoint_state_round_trip_and_version_check(tmp_path):
    state = {"z": np.arange(5, dtype=np.uint16), "iteration": 7, "nested": {"x": 1.5},
             "blob": b"\x00\x01", "name": "s"}
    path = save_checkpoint(tmp_path, 7, state, {"history": [], "elapsed": 0.0})
    got, driver = load_checkpoint(path)
    assert got["iteration"] == 7 and got["nested"] == {"x": 1.5} and got["blob"] == b"\x00\x01"
    assert got["z"].dtype == np.uint16 and got["z"].tolist() == [0, 1, 2, 3, 4]
    with pytest.raises(CorruptDataError, match="written by 1 rank"):
        load_checkpoint(path, n_ranks=2)
    meta = json.loads((path / "checkpoint.json").read_text())
    meta["format_version"] = 9
    (path / "checkpoint.json").write_text(json.dumps(meta))
    with pytest.raises(CorruptDataError, match="newer"):
        load_checkpoint(path)


def test_shards_keep_global_offsets(planted):
    corpus = planted[0]
    shards = [shard_of(corpus, r, 3) for r in range(3)]
    assert shards[0].doc_offset == 0 and int(shards[0].doc_ptr[0]) == 0
    for a, b in zip(shards, shards[1:]):
        assert b.doc_offset == a.doc_offset + a.n_docs
        assert int(b.doc_ptr[0]) == int(a.doc_ptr[-1])
    np.testing.assert_array_equal(np.concatenate([s.word_ids for s in shards]), corpus.word_ids)


def test_overwrite_drops_stale_checkpoints(small_config_module, tmp_path):
    run = tmp_path / "r"
    train_run(small_config_module.with_overrides(["sampler.n_iter=4"]), run, progress=False)
    assert latest_checkpoint(run).name == "iter-000004"
    train_run(small_config_module.with_overrides(["sampler.n_iter=2", "sampler.seed=9"]), run,
              overwrite=True, progress=False)
    # A later --resume must never pick up the old run's iteration-4 state.
    assert [p.name for p in list_checkpoints(run)] == ["iter-000002"]
    assert config_mod.load(run / "resolved_config.toml").sampler.seed == 9


def test_an_empty_training_corpus_is_refused_naming_its_directory(tmp_path):
    import numpy as np

    from lda_sketch import config as config_mod
    from lda_sketch.exceptions import InputFormatError
    from lda_sketch.io.corpus import Corpus
    from lda_sketch.run.train import train_run

    empty = tmp_path / "empty-corpus"
    Corpus(np.zeros(1, np.int64), np.zeros(0, np.int32), 5, vocab=list("abcde")).write(empty)
    cfg = config_mod.from_dict({"model": {"n_topics": 4}, "data": {"train": str(empty)}},
                               source="run.toml")
    with pytest.raises(InputFormatError, match=rf"run.toml: the training corpus {empty} has no "
                                               r"tokens \(0 documents\)"):
        train_run(cfg, tmp_path / "run", progress=False)
