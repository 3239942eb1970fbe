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


def test_tokens_and_matrix_market_inputs_give_the_same_proportions(trained, tmp_path):
    """The same two documents as pre-tokenized lines and as a gensim MmCorpus with its
    dictionary: the same theta as the text route (bag of words: order does not matter)."""
    model = TopicModel.load(trained / "model")
    words = [model.word(i) for i in range(model.n_vocab)]
    docs = [words[:30] * 2 + ["zzzunknown"], words[-20:] * 3]
    (tmp_path / "docs.txt").write_text("\n".join(" ".join(d) for d in docs) + "\n")
    vocab = sorted(set(w for d in docs for w in d))
    (tmp_path / "dict.txt").write_text("2\n" + "".join(f"{i}\t{w}\t1\n"
                                                      for i, w in enumerate(vocab)))
    entries = [(d + 1, vocab.index(w) + 1, doc.count(w)) for d, doc in enumerate(docs)
               for w in sorted(set(doc), key=vocab.index)]
    (tmp_path / "c.mm").write_text("%%MatrixMarket matrix coordinate real general\n"
                                   f"2 {len(vocab)} {len(entries)}\n"
                                   + "".join(f"{d} {t} {c}\n" for d, t, c in entries))
    thetas = []
    for args in (["--format", "tokens", str(tmp_path / "docs.txt")],
                 [str(tmp_path / "c.mm"), "--dictionary", str(tmp_path / "dict.txt")]):
        out = tmp_path / f"out{len(thetas)}"
        assert cli_main(["infer", str(trained), *args, "--out", str(out)]) == 0
        thetas.append(np.load(out / "doc_topics.npy"))
        info = json.loads((out / "infer.json").read_text())
        assert info["n_docs"] == 2 and info["n_oov_tokens"] == 1
    assert np.array_equal(thetas[0], thetas[1])


@pytest.mark.slow
def test_two_ranks_fold_in_the_same_proportions_as_one(trained, tmp_path):
    import os
    import subprocess
    import sys

    from lda_sketch.distributed.launch import find_mpiexec

    if find_mpiexec() is None:
        pytest.skip("no mpiexec found (install the 'mpich' extra)")
    model = TopicModel.load(trained / "model")
    words = [model.word(i) for i in range(model.n_vocab)]
    rng = np.random.default_rng(0)
    lines = [" ".join(rng.choice(words, 25)) for _ in range(41)]
    (tmp_path / "docs.txt").write_text("\n".join(lines) + "\n")
    outs = []
    for ranks in (1, 2):
        out = tmp_path / f"out{ranks}"
        cmd = [sys.executable, "-m", "lda_sketch", "infer", str(trained),
               str(tmp_path / "docs.txt"), "--lines", "--out", str(out)]
        if ranks > 1:
            cmd = [find_mpiexec(), "-n", str(ranks), *cmd]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=300,
                           env={**os.environ, "NUMBA_NUM_THREADS": "1"})
        assert r.returncode == 0, r.stderr[-3000:]
        outs.append(out)
    assert (outs[0] / "doc_topics.npy").read_bytes() == (outs[1] / "doc_topics.npy").read_bytes()
    assert json.loads((outs[1] / "infer.json").read_text())["n_ranks"] == 2
