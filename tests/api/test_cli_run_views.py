"""`lda-sketch evaluate RUN_DIR` scores the run's own held-out split; `lda-sketch plot` draws it."""
import json

import pytest

from lda_sketch.cli.main import main as cli_main
from lda_sketch.run.train import train_run


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
    from lda_sketch.model.topic_model import TopicModel
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


# --------------------------------------------------------------------------- heldout_docs.json
def test_the_run_records_its_heldout_document_ids(run_dir, corpus_dir):
    from lda_sketch.io.corpus import Corpus, heldout_split
    from lda_sketch.io.heldout_ids import read_heldout_ids, tokens_sha256

    rec = read_heldout_ids(run_dir)
    n_docs = Corpus.open(corpus_dir).n_docs
    held = heldout_split(n_docs, 40, 0)[1]
    assert (rec["source"], rec["n_docs"]) == ("split", 40)
    assert rec["doc_index"] == held.tolist()
    assert rec["tokens_sha256"] == tokens_sha256(Corpus.open(corpus_dir).subset(held))
    assert not list(run_dir.glob(".heldout_docs.json.*"))  # atomic: no temporary left


def test_evaluate_takes_the_recorded_documents_not_a_new_split(run_dir, capsys, monkeypatch):
    import lda_sketch.run.data

    def no_split(*a, **k):
        raise AssertionError("evaluate re-split the corpus")

    monkeypatch.setattr(lda_sketch.run.data, "heldout_split", no_split)
    assert cli_main(["evaluate", str(run_dir / "model"), "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    last = json.loads((run_dir / "metrics.jsonl").read_text().splitlines()[-1])
    assert res["perplexity"] == pytest.approx(last["perplexity"], rel=1e-12)
    assert "checked against" in res["heldout"] and "heldout_docs.json" in res["heldout"]


def test_evaluate_refuses_documents_other_than_the_runs(run_dir, tmp_path, capsys):
    import shutil

    from lda_sketch.io.heldout_ids import FILENAME

    bad = tmp_path / "r"
    shutil.copytree(run_dir, bad)
    rec = json.loads((bad / FILENAME).read_text())
    (bad / FILENAME).write_text(json.dumps(dict(rec, tokens_sha256="0" * 64)))
    assert cli_main(["evaluate", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "tokens differ from the run's" in err and "--heldout CORPUS_DIR" in err
    (bad / FILENAME).write_text(json.dumps(dict(rec, n_docs=41, doc_index=None)))
    assert cli_main(["evaluate", str(bad)]) == 1
    assert "the run held out 41 documents" in capsys.readouterr().err
    (bad / FILENAME).write_text(json.dumps(dict(rec, doc_index=None)))   # a 'split' without it
    assert cli_main(["evaluate", str(bad)]) == 0


def test_check_heldout_compares_ids_then_tokens():
    import numpy as np

    from lda_sketch.exceptions import InputFormatError
    from lda_sketch.io.corpus import Corpus
    from lda_sketch.io.heldout_ids import check_heldout, heldout_record

    docs = Corpus.from_documents([np.array([1, 2]), np.array([3])], 5, doc_ids=["a", "b"])
    rec = heldout_record(docs, source="directory")
    check_heldout(rec, docs, "r.json")
    other = Corpus.from_documents([np.array([1, 2]), np.array([3])], 5, doc_ids=["a", "c"])
    with pytest.raises(InputFormatError, match=r"document 1 is 'c' now, 'b' in the run"):
        check_heldout(rec, other, "r.json")
    changed = Corpus.from_documents([np.array([1, 2]), np.array([4])], 5, doc_ids=["a", "b"])
    with pytest.raises(InputFormatError, match="tokens differ"):
        check_heldout(rec, changed, "r.json")
    with pytest.raises(ValueError, match=r"The 'source' parameter of heldout_record must be"):
        heldout_record(docs, source="elsewhere")
