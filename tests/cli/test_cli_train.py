"""End-to-end CLI: `lda-sketch train/topics/evaluate` in subprocesses on configs/tiny.toml."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lda_sketch.io.corpus import heldout_split
from data_prep.synthetic import planted_corpus

REPO = Path(__file__).resolve().parents[2]
TINY = REPO / "configs" / "tiny.toml"

pytestmark = pytest.mark.slow  # every test runs the CLI in a subprocess


def cli(*args, cwd=None, timeout=60):
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return subprocess.run([sys.executable, "-m", "lda_sketch", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout, env=env)


@pytest.fixture(scope="module")
def corpora(tmp_path_factory):
    """A planted corpus split into train/ and heldout/ directories (same vocabulary)."""
    root = tmp_path_factory.mktemp("cli")
    corpus, _ = planted_corpus(200, 8, 400, 40, seed=11)
    keep, held = heldout_split(corpus.n_docs, 30, 0)
    corpus.subset(keep).write(root / "train")
    corpus.subset(held).write(root / "heldout")
    return root


@pytest.fixture(scope="module")
def run_dir(corpora):
    run = corpora / "run"
    r = cli("train", "--config", TINY, "--set", "data.embedded=false",
            "--set", f"data.train={corpora / 'train'}",
            "--set", f"data.heldout={corpora / 'heldout'}",
            "--out", run)
    assert r.returncode == 0, r.stderr
    assert "trained 20 iterations" in r.stdout and "held-out perplexity" in r.stdout
    return run


def test_train_writes_a_complete_run(run_dir):
    recs = [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [r["iteration"] for r in recs] == [5, 10, 15, 20]  # tiny.toml: evaluate_every = 5
    assert recs[-1]["perplexity"] < recs[-1]["unigram_perplexity"]
    assert (run_dir / "model" / "model.json").is_file()
    assert (run_dir / "checkpoints" / "iter-000020" / "checkpoint.json").is_file()
    resolved = (run_dir / "resolved_config.toml").read_text()
    assert "embedded = false" in resolved and str(run_dir.parent / "train") in resolved


def test_topics_prints_one_line_per_topic(run_dir):
    r = cli("topics", run_dir, "--top-n", "4")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) == 8
    for k, line in enumerate(lines):
        head, words = line.split(": ")
        assert head == f"topic {k}"
        assert len(words.split()) == 4 and all(w.startswith("w") for w in words.split())
    r = cli("topics", run_dir / "model", "--top-n", "3", "--topic", "2", "--probs")
    assert r.returncode == 0 and r.stdout.startswith("topic 2: ")
    assert len(r.stdout.split()) == 2 + 2 * 3


def test_evaluate_matches_training_metrics(run_dir, corpora):
    r = cli("evaluate", run_dir, "--heldout", corpora / "heldout", "--json")
    assert r.returncode == 0, r.stderr
    res = json.loads(r.stdout)
    last = json.loads((run_dir / "metrics.jsonl").read_text().splitlines()[-1])
    assert res["perplexity"] == last["perplexity"]  # same phi, same protocol, bitwise
    assert res["unigram_perplexity"] == pytest.approx(last["unigram_perplexity"], rel=1e-12)
    assert res["n_scored"] == last["n_scored"]


def test_resume_extends_a_finished_run(run_dir, corpora, tmp_path):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(run_dir, run)
    r = cli("train", "--resume", run, "--set", "sampler.n_iter=22", "--no-progress")
    assert r.returncode == 0, r.stderr
    recs = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    assert [x["iteration"] for x in recs] == [5, 10, 15, 20, 22]


@pytest.mark.parametrize("args, message", [
    (["--set", "sketch.n_buckets=1000"],
     "--set sketch.n_buckets=1000: [sketch].n_buckets must be a power of two"),
    (["--set", "sketch.n_bucket=1024"], "did you mean 'n_buckets'?"),
    (["--set", "data.embedded=false", "--set", "data.train=/nonexistent/corpus"],
     "[data].train = '/nonexistent/corpus' is not a directory"),
])
def test_bad_config_is_one_line_error_without_traceback(args, message, tmp_path):
    r = cli("train", "--config", TINY, *args, "--out", tmp_path / "run")
    assert r.returncode == 1
    assert message in r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "run").exists()


def test_bad_config_file_names_file_and_key(tmp_path):
    bad = tmp_path / "wiki.toml"
    bad.write_text("[sketch]\nn_buckets = 1000\n")
    r = cli("train", "--config", bad, "--out", tmp_path / "run")
    assert r.returncode == 1
    assert r.stderr.strip() == (f"lda-sketch train: error: {bad}: [sketch].n_buckets must be a "
                                f"power of two >= 16 and <= 2**31 (or unset), got 1000")


def test_help_explains_every_option_and_key():
    r = cli("train", "--help")
    assert r.returncode == 0
    for opt in ("--config", "--set", "--out", "--resume", "--overwrite", "--no-progress"):
        assert opt in r.stdout
    from lda_sketch.config import FIELDS
    for section, key in FIELDS:
        assert f"{section}.{key}" in r.stdout
    for cmd in ("topics", "evaluate"):
        assert cli(cmd, "--help").returncode == 0


def test_tiny_config_as_shipped(tmp_path):
    """configs/tiny.toml unmodified (the built-in corpus), as in the README quick start."""
    r = cli("train", "--config", TINY, "--out", tmp_path / "run", timeout=120)
    assert r.returncode == 0, r.stderr
    last = json.loads((tmp_path / "run" / "metrics.jsonl").read_text().splitlines()[-1])
    assert last["iteration"] == 20 and last["n_scored"] > 1000
    assert last["perplexity"] < last["unigram_perplexity"]  # the quick start must learn something
    r = cli("topics", tmp_path / "run")
    assert r.returncode == 0 and len(r.stdout.splitlines()) == 8


def test_mpi_train_and_resume_bitwise(corpora, tmp_path):
    """Two ranks: 10 iterations straight == 5 + `--resume` to 10 (each rank's z, stats, metrics)."""
    import numpy as np

    from lda_sketch.distributed.launch import find_mpiexec

    mpiexec = find_mpiexec()   # the venv's (mpich extra) even when the venv is not activated
    if mpiexec is None:
        pytest.skip("no mpiexec found (install the 'mpich' extra)")
    base = [mpiexec, "-n", "2", sys.executable, "-m", "lda_sketch", "train", "--config", TINY,
            "--set", "data.embedded=false", "--set", f"data.train={corpora / 'train'}",
            "--set", f"data.heldout={corpora / 'heldout'}", "--no-progress"]

    def run(*extra):
        r = subprocess.run([*base, *map(str, extra)], capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr

    run("--set", "sampler.n_iter=10", "--out", tmp_path / "a")
    run("--set", "sampler.n_iter=5", "--out", tmp_path / "b")
    run("--resume", tmp_path / "b", "--set", "sampler.n_iter=10")
    for r in range(2):
        za = np.load(tmp_path / "a" / "checkpoints" / "iter-000010" / f"rank-{r:04d}.npz")["z"]
        zb = np.load(tmp_path / "b" / "checkpoints" / "iter-000010" / f"rank-{r:04d}.npz")["z"]
        np.testing.assert_array_equal(za, zb)
    assert (tmp_path / "a" / "model" / "stats.bin").read_bytes() == \
        (tmp_path / "b" / "model" / "stats.bin").read_bytes()

    def ppl(d):
        return [(x["iteration"], x["perplexity"]) for x in
                map(json.loads, (d / "metrics.jsonl").read_text().splitlines())]
    assert ppl(tmp_path / "a") == ppl(tmp_path / "b")
    prov = json.loads((tmp_path / "b" / "provenance.json").read_text())
    assert prov["n_ranks"] == 2 and len(prov["resumed"]) == 1
