"""`[eval] coherence = true`: every metrics record carries UMass/NPMI coherence and topic
diversity of the current model (over the held-out documents), the same numbers as `lda-sketch
evaluate --coherence` gives for the final model."""
import json

import pytest

from lda_sketch import config as config_mod
from lda_sketch.cli.main import main as cli_main
from lda_sketch.evaluation.coherence import RECORD_KEYS
from lda_sketch.run.loop import METRIC_KEYS
from lda_sketch.run.train import train_run


def _cfg(corpus_dir, **eval_):
    return config_mod.from_dict({
        "model": {"n_topics": 6}, "sketch": {"backend": "countmin", "n_buckets": 256},
        "sampler": {"n_iter": 4, "seed": 3},
        "data": {"train": str(corpus_dir), "n_heldout": 40},
        "eval": {"evaluate_every": 2, "fold_in_iters": 20, **eval_},
        "output": {"checkpoint_every": 2}}, source="t.toml")


def _records(run):
    return [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]


def test_records_carry_coherence_equal_to_evaluate_of_the_final_model(corpus_dir, tmp_path,
                                                                      capsys):
    run = tmp_path / "r"
    train_run(_cfg(corpus_dir, coherence=True), run, progress=False)
    recs = _records(run)
    assert [r["iteration"] for r in recs] == [2, 4]
    assert all(tuple(r) == METRIC_KEYS + RECORD_KEYS for r in recs)
    for r in recs:
        assert -1 <= r["coherence_npmi"] <= 1 and r["coherence_umass"] <= 0
        assert 0 < r["coherence_diversity"] <= 1 and r["t_coherence"] >= 0
    assert cli_main(["evaluate", str(run), "--coherence", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    for k in ("umass", "npmi", "diversity"):
        assert recs[-1][f"coherence_{k}"] == pytest.approx(res[f"coherence_{k}"], rel=1e-12)


def test_off_by_default_and_may_change_on_resume(corpus_dir, tmp_path):
    run = tmp_path / "r"
    cfg = _cfg(corpus_dir)
    assert cfg.eval.coherence is False
    train_run(cfg.replace(sampler=config_mod.SamplerConfig(n_iter=2, seed=3)), run,
              progress=False)
    assert tuple(_records(run)[0]) == METRIC_KEYS
    train_run(_cfg(corpus_dir, coherence=True), run, resume=True, progress=False)
    recs = _records(run)
    assert tuple(recs[0]) == METRIC_KEYS and tuple(recs[1]) == METRIC_KEYS + RECORD_KEYS
