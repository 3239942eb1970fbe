"""Regression tests for the bugs of issue 15, section 6, found trying the tool as a new user:
1 (prep embedded --heldout 0), 2 (prep embedded ignored options), 7 (-v logged 0.0 MB),
8 (README: activate the venv, mpiexec), 10 (corpus-stats | head). Bug 6 (corpus-stats counts)
is in tests/prep/test_prep_pipeline.py::test_corpus_stats_cli, 4/5/9 in tests/api."""
from __future__ import annotations

import logging
import re
import subprocess
import sys
from pathlib import Path

import pytest

from lda_sketch.config import SketchConfig
from lda_sketch.cli.main import main
from lda_sketch.run.engine import Engine, EngineParams
from data_prep.synthetic import planted_corpus

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("option", [["--min-df", "2"], ["--max-vocab", "100"],
                                    ["--sample", "10"], ["--stopwords", "x.txt"],
                                    ["--hash-bits", "12"], ["--heldout-seed", "3"]])
def test_prep_embedded_refuses_the_options_it_cannot_honour(option, tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["prep", "embedded", "--out", str(tmp_path / "e"), *option])
    assert exc.value.code == 2
    assert f"unrecognized arguments: {option[0]}" in capsys.readouterr().err
    assert not (tmp_path / "e").exists()


def test_prep_embedded_help_lists_only_what_it_honours(capsys):
    with pytest.raises(SystemExit):
        main(["prep", "embedded", "--help"])
    text = capsys.readouterr().out
    for honoured in ("--out", "--heldout", "--heldout-out", "--seed", "--overwrite"):
        assert honoured in text
    for refused in ("--min-df", "--max-vocab", "--sample", "--stopwords", "--workers"):
        assert refused not in text
    assert "(default 300; 0: none)" in " ".join(text.split())


@pytest.mark.slow  # builds the embedded corpus (~12 s)
def test_prep_embedded_heldout_0_means_none(tmp_path, capsys):
    out = tmp_path / "emb"
    assert main(["prep", "embedded", "--out", str(out), "--heldout", "0"]) == 0
    text = capsys.readouterr().out
    assert "held-out" not in text and not (tmp_path / "emb-heldout").exists()
    from lda_sketch.io.corpus import Corpus
    m = Corpus.open(out).manifest
    assert "heldout" not in m["dropped"]["documents"]
    # counts add up (bug 6): kept + dropped = read
    assert m["n_docs"] + sum(m["dropped"]["documents"].values()) == m["source"]["documents_read"]


def test_verbose_log_shows_the_statistics_size_in_significant_digits(caplog):
    corpus = planted_corpus(50, 3, 100, 20, seed=0)[0]
    params = EngineParams(3, sketch=SketchConfig(backend="countmin", **{"n_buckets": 1024}))
    eng = Engine(params, corpus, corpus.n_vocab)
    with caplog.at_level(logging.DEBUG, logger="lda_sketch.run.engine"):
        eng.initialize()
    line = next(r.getMessage() for r in caplog.records if "sampler state" in r.getMessage())
    mb = float(re.search(r"statistics ([0-9.e+-]+) MB", line).group(1))
    assert mb > 0 and mb == pytest.approx(eng.stats.nbytes / 1e6, rel=5e-3)


def test_readme_says_to_activate_the_venv_and_uses_mpiexec():
    text = (REPO / "README.md").read_text("utf-8")
    assert "source .venv/bin/activate" in text
    commands = re.findall(r"```bash\n(.*?)```", text, re.S)
    assert not any(re.search(r"^\s*mpirun\b", c, re.M) for c in commands)
    assert "mpiexec -n 4 lda-sketch train" in text


def test_corpus_stats_into_a_closed_pipe_exits_quietly(tmp_path):
    planted_corpus(20, 2, 50, 10, seed=0)[0].write(tmp_path / "c")
    p = subprocess.Popen([sys.executable, "-m", "lda_sketch", "corpus-stats", str(tmp_path / "c")],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    p.stdout.close()  # the reader is gone before the command writes anything (like `| head`)
    err = p.stderr.read().decode()
    assert p.wait(timeout=60) == 141
    assert err == "", err
