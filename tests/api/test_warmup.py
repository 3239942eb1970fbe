"""A first run says it is compiling and keeps the compile time out of its timings."""
from __future__ import annotations

import json
import logging
import time

from lda_sketch.run import warmup
from lda_sketch.run.train import train_run
from lda_sketch.sampler import SAMPLERS, SCAAliasSampler, SCASparseSampler
from lda_sketch.sampler.sca import SPARSE_MIN_TOPICS


def test_a_slow_warm_up_is_announced_and_timed(monkeypatch, caplog):
    monkeypatch.setattr(warmup, "ANNOUNCE_AFTER_S", 0.05)
    monkeypatch.setattr(warmup, "for_config", lambda cfg: time.sleep(0.3))
    with caplog.at_level(logging.INFO, logger="lda_sketch.run.warmup"):
        seconds = warmup.prepare(None)
    assert seconds >= 0.3
    assert "compiling kernels (first run only" in caplog.text
    assert "kernels ready in 0.3 s" in caplog.text or "kernels ready in 0.4 s" in caplog.text


def test_a_warm_cache_says_nothing(monkeypatch, caplog):
    monkeypatch.setattr(warmup, "for_config", lambda cfg: None)
    with caplog.at_level(logging.INFO, logger="lda_sketch.run.warmup"):
        assert warmup.prepare(None) < warmup.ANNOUNCE_AFTER_S
    assert caplog.text == ""


def test_the_warm_up_compiles_the_path_the_sampler_takes():
    assert SAMPLERS["sca"].kernels_for(SPARSE_MIN_TOPICS - 1) == (SCAAliasSampler,)
    assert SAMPLERS["sca"].kernels_for(SPARSE_MIN_TOPICS) == (SCASparseSampler,)
    assert SAMPLERS["sca-collapsed"].kernels_for(10**4) == (SAMPLERS["sca-collapsed"],)


def test_a_run_records_its_compile_seconds(small_config, tmp_path):
    run = tmp_path / "run"
    train_run(small_config, run, progress=False)
    prov = json.loads((run / "provenance.json").read_text())
    assert 0 <= prov["compile_s"] < 60


def test_the_warmup_command_compiles_a_configs_kernels(small_config, tmp_path, capsys):
    from lda_sketch.cli.main import main as cli_main

    cfg = tmp_path / "c.toml"
    small_config.save(cfg)
    assert cli_main(["warmup", "--config", str(cfg), "--set", "model.n_topics=700"]) == 0
    assert f"compiled the kernels of {cfg}" in capsys.readouterr().out
