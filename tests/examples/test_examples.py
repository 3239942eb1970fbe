"""Every example under examples/ (the workflows of docs/USAGE.md) runs to completion."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

pytestmark = pytest.mark.slow  # each runs a subprocess that trains on the embedded corpus


def _run(name, *args, tmp_path):
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    r = subprocess.run([sys.executable, str(EXAMPLES / name), *map(str, args)], cwd=tmp_path,
                       capture_output=True, text=True, timeout=300, env=env)
    assert r.returncode == 0, r.stderr[-3000:]
    return r.stdout


def test_every_example_is_tested():
    tested = {"sklearn_pipeline.py", "pretokenized.py", "gensim_corpus.py",
              "export_pyldavis.py", "coherence.py", "slurm_job.py", "infer_new_documents.py"}
    assert {p.name for p in EXAMPLES.glob("*.py") if not p.name.startswith("_")} == tested


def test_sklearn_pipeline(tmp_path):
    pytest.importorskip("sklearn")
    out = _run("sklearn_pipeline.py", tmp_path=tmp_path)
    assert "theta (2936, 10)" in out and "best {" in out


def test_pretokenized(tmp_path):
    out = _run("pretokenized.py", tmp_path=tmp_path)
    assert "held-out perplexity" in out and "theta of new documents" in out


def test_gensim_corpus(tmp_path):
    pytest.importorskip("gensim")
    out = _run("gensim_corpus.py", tmp_path=tmp_path)
    assert "same ids as the Dictionary: True" in out


def test_export_pyldavis(tmp_path):
    out = _run("export_pyldavis.py", tmp_path / "out", tmp_path=tmp_path)
    assert "doc_topic_dists" in out and "x dense" in out
    assert (tmp_path / "out" / "export" / "pyldavis.npz").is_file()


def test_coherence(tmp_path):
    out = _run("coherence.py", tmp_path=tmp_path)
    assert "K=20: UMass" in out and "NPMI on held-out documents" in out


def test_slurm_job(tmp_path):
    """The job script runs without Slurm (a stand-in srun), stops on SIGUSR1 with a checkpoint
    and exit status 130, and the same script submitted again resumes and finishes."""
    out = _run("slurm_job.py", tmp_path / "out", tmp_path=tmp_path)
    assert "#SBATCH --signal=USR1@300" in out
    assert "first job: exit status 130; interrupted at iteration" in out
    assert "second job: exit status 0, resumed; trained 300 iterations" in out
    job = (tmp_path / "out" / "train.sbatch").read_text()
    assert job.startswith("#!/bin/bash") and "lda-sketch train" in job


def test_infer_new_documents(tmp_path):
    out = _run("infer_new_documents.py", tmp_path / "out", tmp_path=tmp_path)
    assert "theta (20, " in out and "text files and the prepared corpus agree: True" in out
