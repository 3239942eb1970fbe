"""Results out: `lda-sketch export` (topic_word.npy, Mallet files, pyLDAvis arrays) and
`lda-sketch summary` / `LDASketch.summary()` (issue 15, section 2), run in-process."""
from __future__ import annotations

import json

import numpy as np
import pytest

from lda_sketch import LDASketch
from lda_sketch import config as config_mod
from lda_sketch.cli.main import main
from lda_sketch.evaluation.coherence import coherence
from lda_sketch.io.corpus import Corpus
from lda_sketch.model.summary import format_report
from data_prep.synthetic import planted_corpus
from lda_sketch.model.topic_model import TopicModel
from lda_sketch.run.train import train_run


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("results")
    corpus, _ = planted_corpus(160, 5, 300, 40, seed=4)
    corpus.doc_ids = [f"doc-{i}" for i in range(corpus.n_docs)]
    corpus.write(root / "train")
    cfg = config_mod.from_dict({
        "model": {"n_topics": 5}, "sketch": {"backend": "countmin", "n_buckets": 256},
        "sampler": {"n_iter": 8, "seed": 1}, "data": {"train": str(root / "train"),
                                                      "n_heldout": 20},
        "eval": {"evaluate_every": 4, "fold_in_iters": 10}}, source="test.toml")
    train_run(cfg, root / "run", progress=False)
    return root


def test_export_writes_every_file_consistently(run, capsys):
    assert main(["export", str(run / "run"), "--out", str(run / "exp"), "--top-n", "7"]) == 0
    assert "pyldavis.npz" in capsys.readouterr().out
    model = TopicModel.load(run / "run" / "model")
    phi = np.load(run / "exp" / "topic_word.npy")
    np.testing.assert_array_equal(phi, model.topic_word())
    keys = (run / "exp" / "topic-keys.txt").read_text().splitlines()
    assert len(keys) == 5
    k, alpha, words = keys[2].split("\t")
    assert (k, float(alpha)) == ("2", model.alpha)
    assert words.split() == [w for w, _ in model.top_words(7)[2]]
    # the documents folded in are the run's training documents (140 after the 20 held out)
    train = Corpus.open(run / "train")
    npz = np.load(run / "exp" / "pyldavis.npz")  # no pickle needed
    assert sorted(npz.files) == ["doc_lengths", "doc_topic_dists", "term_frequency",
                                 "topic_term_dists", "vocab"]
    theta = npz["doc_topic_dists"]
    assert theta.shape == (140, 5) and npz["doc_lengths"].shape == (140,)
    np.testing.assert_allclose(theta.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(npz["topic_term_dists"], phi)
    assert npz["vocab"].tolist() == train.vocab
    np.testing.assert_array_equal(npz["term_frequency"], model.word_counts)
    assert npz["doc_lengths"].sum() == model.word_counts.sum()
    np.testing.assert_array_equal(np.load(run / "exp" / "doc_topics.npy"), theta)
    rows = (run / "exp" / "doc-topics.txt").read_text().splitlines()
    assert len(rows) == 140 and rows[0].split("\t")[1].startswith("doc-")
    np.testing.assert_allclose([float(x) for x in rows[3].split("\t")[2:]], theta[3], rtol=1e-5)
    # atomic and refusing to overwrite by default
    assert main(["export", str(run / "run"), "--out", str(run / "exp")]) == 1
    assert "already exists" in capsys.readouterr().err


def test_export_refuses_a_corpus_over_another_vocabulary(run, capsys):
    other = planted_corpus(10, 2, 50, 10, seed=0)[0]
    other.write(run / "other")
    assert main(["export", str(run / "run"), "--out", str(run / "x"),
                 "--corpus", str(run / "other")]) == 1
    assert "not the training vocabulary" in capsys.readouterr().err
    assert not (run / "x").exists()


def test_summary_reports_sizes_perplexity_and_coherence(run, capsys):
    assert main(["summary", str(run / "run"), "--json", "--top-n", "5"]) == 0
    s = json.loads(capsys.readouterr().out)
    model = TopicModel.load(run / "run" / "model")
    assert s["iterations"] == 8 and s["n_topics"] == 5
    assert s["backend"]["name"] == "countmin"
    assert s["backend"]["dense_bytes"] == 4 * 5 * 300
    assert s["backend"]["stats_bytes"] == model.stats.nbytes
    assert [t["n_k"] for t in s["topics"]] == model.stats.topic_totals().tolist()
    assert sum(t["n_k"] for t in s["topics"]) == model.word_counts.sum()
    last = model.history[-1]
    assert s["last_evaluation"]["perplexity"] == last["perplexity"]
    ids, _ = model.top_word_ids(5)
    expect = coherence(ids, _train_docs(run))
    assert s["coherence"]["npmi"] == pytest.approx(expect["npmi"], rel=1e-12)
    assert s["topics"][0]["top_words"] == [w for w, _ in model.top_words(5)[0]]
    assert s["coherence"]["n_docs"] == 140 and s["coherence"]["documents"] == "training"
    assert main(["summary", str(run / "run")]) == 0
    text = capsys.readouterr().out
    assert "x dense" in text and "unigram" in text and "NPMI" in text
    assert main(["summary", str(run / "run"), "--no-coherence"]) == 0
    assert "NPMI" not in capsys.readouterr().out


def test_summary_says_over_which_documents_and_warns_below_the_threshold(run, capsys):
    assert main(["summary", str(run / "run"), "--top-n", "5"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[4].startswith("coherence   over 140 training documents: UMass ")
    assert lines[4].endswith("(top 5 words per topic); diversity " + lines[4].split()[-1])
    assert lines[5] == ("warning: coherence over only 140 documents is noisy (fewer than "
                        "1,000); pass --corpus with more documents")
    assert main(["summary", str(run / "run"), "--corpus", str(run / "train")]) == 0
    assert "over 160 given documents" in capsys.readouterr().out
    assert main(["summary", str(run / "run"), "--json"]) == 0  # JSON on stdout, warning on stderr
    out, err = capsys.readouterr()
    assert json.loads(out)["coherence"]["n_docs"] == 140
    assert err.startswith("warning: coherence over only 140 documents")


def test_no_coherence_warning_at_the_threshold(run, capsys, monkeypatch):
    from lda_sketch.evaluation import coherence as coherence_mod

    monkeypatch.setattr(coherence_mod, "MIN_COHERENCE_DOCS", 140)
    for cmd in (["summary", str(run / "run")], ["topics", str(run / "run"), "--coherence"],
                ["evaluate", str(run / "run"), "--coherence", "--heldout", str(run / "train")]):
        assert main(cmd) == 0
        out, err = capsys.readouterr()
        assert "documents: UMass" in out and "warning" not in out + err


def _train_docs(run):
    from lda_sketch.run.data import load_data

    return load_data(TopicModel.load(run / "run" / "model").config)[0]


def test_estimator_summary_returns_an_object_whose_repr_is_the_report(capsys):
    import io

    corpus, _ = planted_corpus(100, 4, 200, 30, seed=2)
    m = LDASketch(4, backend="dense", n_iter=5, seed=0).fit(corpus)
    s = m.summary(top_n=4)
    assert capsys.readouterr().out == ""  # prints nothing: a notebook shows the repr once
    text = repr(s)
    assert text == str(s) == format_report(s)
    assert text.splitlines()[0].startswith("model       K = 4, V = 200")
    assert "backend     dense" in text and "not evaluated" in text
    assert " ".join(s["topics"][0]["top_words"]) in text
    assert "over 100 training documents" in text
    assert "pass X with more documents" in text  # 100 < MIN_COHERENCE_DOCS
    assert s._repr_html_().startswith("<pre>model ")
    d = s.to_dict()
    assert type(d) is dict and json.loads(json.dumps(d)) == d == s
    assert s["coherence"]["n_docs"] == 100 and s["coherence"]["documents"] == "training"
    assert list(s.keys())[0] == "params"
    assert s["coherence"]["umass"] == pytest.approx(m.coherence(top_n=4)["umass"])
    buf = io.StringIO()
    assert m.summary(corpus.subset(np.arange(30)), top_n=4, file=buf)["coherence"]["n_docs"] == 30
    assert "over 30 given documents" in buf.getvalue() and capsys.readouterr().out == ""
    assert LDASketch.from_model(m.model_).summary(top_n=4)["coherence"] is None


def test_topics_and_evaluate_report_coherence(run, capsys):
    model = TopicModel.load(run / "run" / "model")
    ids, _ = model.top_word_ids(6)
    expect = coherence(ids, _train_docs(run))
    assert main(["topics", str(run / "run"), "--top-n", "6", "--coherence"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 7
    assert f"NPMI {expect['npmi_per_topic'][1]:+.3f})" in lines[1]
    assert lines[5] == (f"coherence over 140 training documents: UMass {expect['umass']:.4f}, "
                        f"NPMI {expect['npmi']:.4f} (top 6 words per topic); diversity "
                        f"{expect['diversity']:.3f}")
    assert lines[6] == ("warning: coherence over only 140 documents is noisy (fewer than "
                        "1,000); pass --corpus with more documents")
    held = Corpus.open(run / "train").subset(np.arange(30))
    held.write(run / "held")
    assert main(["evaluate", str(run / "run"), "--heldout", str(run / "held"), "--json",
                 "--coherence"]) == 0
    out, err = capsys.readouterr()
    res = json.loads(out)
    want = coherence(model.top_word_ids(10)[0], held)
    assert res["coherence_npmi"] == pytest.approx(want["npmi"], rel=1e-12)
    assert res["coherence_umass"] == pytest.approx(want["umass"], rel=1e-12)
    assert (res["coherence_n_docs"], res["coherence_documents"]) == (30, "held-out")
    assert err.strip().endswith("pass --heldout with more documents")
    assert main(["evaluate", str(run / "run"), "--heldout", str(run / "held"),
                 "--coherence"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[-2] == (f"coherence            over 30 held-out documents: UMass "
                         f"{want['umass']:.4f}, NPMI {want['npmi']:.4f} (top 10 words per "
                         f"topic); diversity {want['diversity']:.3f}")
    assert lines[-1] == ("warning: coherence over only 30 documents is noisy (fewer than "
                         "1,000); pass --heldout with more documents")


def test_doc_topics_output_and_export_of_the_samplers_theta(run, capsys):
    from lda_sketch.run.data import load_data
    from lda_sketch.io.doc_topics import read_doc_topics

    cfg = TopicModel.load(run / "run" / "model").config
    cfg = cfg.replace(output=type(cfg.output)(doc_topics=True))
    model = train_run(cfg, run / "run-dt", progress=False)
    train = load_data(cfg)[0]
    index, ids, theta, lengths = read_doc_topics(run / "run-dt")
    assert index.tolist() == list(range(train.n_docs)) and ids == train.doc_ids
    np.testing.assert_array_equal(lengths, train.doc_lengths())
    # theta = (n_dk + alpha) / (n_d + K alpha); the n_dk add up to the exact topic totals
    n_dk = theta * (lengths[:, None] + 5 * cfg.model.alpha) - cfg.model.alpha
    np.testing.assert_allclose(n_dk.sum(axis=0), model.stats.topic_totals(), rtol=1e-9)
    np.testing.assert_allclose(n_dk, np.rint(n_dk), atol=1e-8)
    assert main(["export", str(run / "run-dt"), "--out", str(run / "exp-dt")]) == 0
    assert "theta the sampler's n_dk" in capsys.readouterr().out
    npz = np.load(run / "exp-dt" / "pyldavis.npz")
    np.testing.assert_array_equal(npz["doc_topic_dists"], theta)
    np.testing.assert_array_equal(npz["doc_lengths"], lengths)
    assert main(["export", str(run / "run-dt"), "--out", str(run / "exp-fi"),
                 "--theta", "fold-in"]) == 0
    assert "folded in" in capsys.readouterr().out
    # a run without the files: --theta sampler says how to get them
    assert main(["export", str(run / "run"), "--out", str(run / "exp-x"),
                 "--theta", "sampler"]) == 1
    assert "doc_topics = true" in capsys.readouterr().err
