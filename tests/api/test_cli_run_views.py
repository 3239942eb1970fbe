"""`lda-sketch evaluate RUN_DIR` scores the run's own held-out split; `lda-sketch plot` draws it."""
import json

import pytest

from lda_sketch.cli.main import main as cli_main
from lda_sketch.train import train_run


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, corpus_dir):
    from lda_sketch import config as config_mod

    cfg = config_mod.from_dict({
        "model": {"n_topics": 6}, "sketch": {"backend": "dense"},
        "sampler": {"n_iter": 4, "seed": 3},
        "data": {"train": str(corpus_dir), "n_heldout": 40},
        "eval": {"evaluate_every": 2, "fold_in_iters": 20}}, source="t.toml")
    out = tmp_path_factory.mktemp("runs") / "r"
    train_run(cfg, out, progress=False)
    return out


def test_evaluate_defaults_to_the_runs_heldout_split(run_dir, capsys):
    assert cli_main(["evaluate", str(run_dir), "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    last = [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines()][-1]
    assert res["perplexity"] == pytest.approx(last["perplexity"], rel=1e-12)
    assert res["n_scored"] == last["n_scored"]


def test_evaluate_without_a_heldout_split_names_the_remedy(run_dir, tmp_path, capsys):
    from lda_sketch.topic_model import TopicModel
    from dataclasses import replace

    m = TopicModel.load(run_dir / "model")
    cfg = m.config.replace(data=replace(m.config.data, n_heldout=0))
    replace(m, config=cfg).save(tmp_path / "m")
    assert cli_main(["evaluate", str(tmp_path / "m")]) == 1
    assert "names no held-out documents; pass --heldout" in capsys.readouterr().err


def test_plot_draws_iteration_and_time(run_dir, tmp_path, capsys):
    assert cli_main(["plot", str(run_dir), str(run_dir), "--out", str(tmp_path / "p")]) == 0
    assert (tmp_path / "p_iter.png").stat().st_size > 0
    assert (tmp_path / "p_time.png").stat().st_size > 0
    empty = tmp_path / "empty"
    empty.mkdir()
    assert cli_main(["plot", str(empty)]) == 1
    assert "no held-out evaluation" in capsys.readouterr().err


def test_nbytes_for_equals_the_allocated_bytes():
    from lda_sketch.stats import BACKENDS, make_stats

    cases = [("dense", {}),
             ("countmin", dict(n_hashes=3, n_buckets=64, support="exact", head_words=7,
                               rescale=True)),
             ("countmin-morris", dict(n_hashes=2, n_buckets=64, counter_bits=16,
                                      counter_base=1.001, head_words=500)),
             ("countmin-morris", dict(n_hashes=3, n_buckets=128, conservative=True,
                                      support="exact"))]
    for backend, params in cases:
        s = make_stats(backend, n_topics=5, n_vocab=300, seed=0, **params)
        assert BACKENDS[backend].nbytes_for(n_topics=5, n_vocab=300, seed=0, **params) == s.nbytes


def test_dry_run_prints_bytes_and_a_memory_estimate_per_rank_count(capsys):
    from pathlib import Path

    cfg = Path(__file__).resolve().parents[2] / "configs" / "tiny.toml"
    assert cli_main(["train", "--config", str(cfg), "--dry-run", "--ranks", "4"]) == 0
    out = capsys.readouterr().out
    assert "# 1 rank: statistics" in out and "# 4 ranks: statistics" in out
    assert "GiB per rank" in out and "MB sent per rank per merge" in out
