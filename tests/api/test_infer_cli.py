"""`lda-sketch infer`: new documents' topic proportions under a trained model, from text files
or a corpus directory, unknown words dropped and counted."""
from __future__ import annotations

import json

import numpy as np
import pytest

from lda_sketch import config as config_mod
from lda_sketch.cli.main import main as cli_main
from lda_sketch.model import TopicModel
from lda_sketch.run.train import train_run
from data_prep.synthetic import planted_corpus


def _word(i: int) -> str:
    """A vocabulary of letter words the tokenizer keeps ('xbaa', 'xbab', ...)."""
    return "xb" + chr(97 + i // 26) + chr(97 + i % 26)


@pytest.fixture(scope="module")
def words_corpus_dir(tmp_path_factory):
    corpus = planted_corpus(120, 4, 200, 40, seed=5)[0]
    corpus.vocab = [_word(i) for i in range(corpus.n_vocab)]
    path = tmp_path_factory.mktemp("infer") / "corpus"
    corpus.write(path)
    return path


@pytest.fixture(scope="module")
def trained(words_corpus_dir, tmp_path_factory):
    cfg = config_mod.from_dict({
        "model": {"n_topics": 4}, "sketch": {"n_buckets": 256}, "sampler": {"n_iter": 4},
        "data": {"train": str(words_corpus_dir), "n_heldout": 20},
        "eval": {"evaluate_every": 0, "fold_in_iters": 20}}, source="test.toml")
    run = tmp_path_factory.mktemp("infer") / "run"
    train_run(cfg, run, progress=False)
    return run


def test_text_files_are_folded_into_the_models_topics(trained, tmp_path, capsys):
    model = TopicModel.load(trained / "model")
    words = [model.word(i) for i in range(model.n_vocab)]
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text(" ".join(words[:30] * 3) + " zzzunknownword qqqnotaword")
    (docs / "b.txt").write_text(" ".join(words[-30:] * 2))
    out = tmp_path / "out"
    assert cli_main(["infer", str(trained), str(docs), "--out", str(out)]) == 0
    assert "2 documents" in capsys.readouterr().out
    theta = np.load(out / "doc_topics.npy")
    assert theta.shape == (2, model.n_topics) and np.allclose(theta.sum(axis=1), 1.0)
    info = json.loads((out / "infer.json").read_text())
    assert info["n_docs"] == 2 and info["n_oov_tokens"] == 2
    assert info["n_tokens"] == 30 * 3 + 30 * 2
    rows = (out / "doc-topics.txt").read_text().splitlines()
    assert [r.split("\t")[1] for r in rows] == ["a.txt", "b.txt"]
    # the same documents through the Python API give the same proportions
    from lda_sketch import LDASketch
    est = LDASketch.load(trained / "model")
    api = est.transform([words[:30] * 3 + ["zzzunknownword"], words[-30:] * 2])
    np.testing.assert_allclose(api, theta, rtol=1e-12)
    # refused: an existing output without --overwrite; with it, replaced
    capsys.readouterr()
    assert cli_main(["infer", str(trained), str(docs), "--out", str(out)]) != 0
    assert "already exists" in capsys.readouterr().err
    assert cli_main(["infer", str(trained), str(docs), "--out", str(out), "--lines",
                     "--overwrite"]) == 0


def test_a_corpus_directory_over_the_models_vocabulary(trained, words_corpus_dir, tmp_path):
    out = tmp_path / "out"
    assert cli_main(["infer", str(trained), str(words_corpus_dir), "--out", str(out)]) == 0
    info = json.loads((out / "infer.json").read_text())
    assert info["n_docs"] == 120 and info["n_oov_tokens"] == 0


def test_prep_takes_the_vocabulary_of_a_run_then_infer_reads_the_corpus(trained, tmp_path):
    model = TopicModel.load(trained / "model")
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "one.txt").write_text(" ".join([model.word(i) for i in range(40)] + ["zzzword"]))
    (docs / "two.txt").write_text(" ".join(model.word(i) for i in range(100, 160)))
    corpus = tmp_path / "new"
    assert cli_main(["prep", "text", str(docs), "--vocab-from", str(trained), "--out",
                     str(corpus), "--heldout", "0", "--quiet"]) == 0
    manifest = json.loads((corpus / "manifest.json").read_text())
    assert manifest["n_vocab"] == model.n_vocab and manifest["n_tokens"] == 100
    out = tmp_path / "out"
    assert cli_main(["infer", str(trained / "model"), str(corpus), "--out", str(out)]) == 0
    assert np.load(out / "doc_topics.npy").shape == (2, model.n_topics)
