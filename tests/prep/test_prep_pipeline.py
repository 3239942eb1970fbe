"""`lda-sketch prep` end to end on the fixtures: counts, splits, vocabularies, hashing, writes."""
from __future__ import annotations

import json

import numpy as np
import pytest

import data_prep
from data_prep import PrepOptions, make_source, prepare
from lda_sketch.cli.main import main
from lda_sketch.io.corpus import Corpus


def _prep(*args) -> int:
    return main(["prep", *map(str, args), "--quiet"])


def test_wikiextractor_corpus_counts_and_manifest(data_dir, tmp_path, capsys):
    out = tmp_path / "wiki"
    assert _prep("wikiextractor", data_dir / "wikiextractor", "--out", out, "--min-df", "1",
                 "--max-df-frac", "1.0") == 0
    c = Corpus.open(out, verify=True)
    assert c.doc_ids == ["12", "25", "39", "290"]
    assert c.titles[2] == "Albedo & reflection"
    words = [[c.vocab[i] for i in c.document(d)] for d in range(c.n_docs)]
    assert words[0][:4] == ["anarchism", "anarchism", "political", "philosophy"]
    assert "zürich" in words[2] and "snow" in words[2]
    assert words[3] == ["letter", "alphabet", "latin", "script"]  # 'first' is a stop word
    m = c.manifest
    assert m["n_tokens"] == sum(len(w) for w in words)
    assert m["source"]["reader"] == "wikiextractor" and m["source"]["documents_read"] == 4
    assert m["preprocessing"]["min_df"] == 1 and m["preprocessing"]["min_token_length"] == 3
    # every raw token is either kept or counted by reason
    raw = sum(len(data_prep.tokenize._TOKEN_RE.findall(d.text.lower()))
              for u in make_source("wikiextractor").iter_units([str(data_dir / "wikiextractor")])
              for d in make_source("wikiextractor").iter_documents(u, {}))
    assert m["n_tokens"] + sum(m["dropped"]["tokens"].values()) == raw
    # vocabulary ids by decreasing frequency
    tf = np.bincount(np.asarray(c.word_ids), minlength=c.n_vocab)
    assert np.all(np.diff(tf) <= 0)
    summary = capsys.readouterr().out
    assert "documents   4" in summary and "dropped tokens" in summary and "doc length" in summary


def test_min_df_pruning_counts_dropped_tokens(data_dir, tmp_path):
    out = tmp_path / "c"
    assert _prep("uci", data_dir / "uci" / "docword.mini.txt", "--out", out, "--min-df", "2",
                 "--max-df-frac", "1.0", "--min-token-length", "3") == 0
    c = Corpus.open(out)
    # apple (docs 1,4) and cherry (2,4) survive min-df 2; banana (1 doc) is pruned; 'the' is
    # a stop word; 'xy' is short; document 3 had no entries
    assert sorted(c.vocab) == ["apple", "cherry"]
    assert c.manifest["dropped"]["tokens"] == {"min_df": 1, "short": 1, "stopword": 4}
    assert c.manifest["dropped"]["documents"] == {"empty_text": 1}
    assert c.n_tokens == 2 + 3 + 3


def test_heldout_uses_training_vocabulary_only(tmp_path):
    # 'shared' is in every document; 'heldonly' appears only in the held-out document
    texts = tmp_path / "texts"
    texts.mkdir()
    for i in range(6):
        (texts / f"d{i}.txt").write_text(f"shared common{i % 2} " * 3, "utf-8")
    held_idx = None
    with prepare(make_source("text"), [texts],
                 options=PrepOptions(min_df=1, max_df_frac=1.0, heldout=1, heldout_seed=3)) as r:
        held_idx = r.heldout.doc_ids[0]
        r.write(tmp_path / "train", tmp_path / "held")
    held_file = texts / held_idx
    tr, ho = Corpus.open(tmp_path / "train"), Corpus.open(tmp_path / "held")
    assert held_idx not in tr.doc_ids and tr.n_docs == 5 and ho.n_docs == 1
    assert ho.vocab == tr.vocab
    assert ho.manifest["source"]["part"] == "heldout"
    assert held_file.exists()


def test_vocab_from_maps_into_given_vocabulary_and_counts_oov(data_dir, tmp_path):
    texts = tmp_path / "texts"
    texts.mkdir()
    (texts / "t.txt").write_text("cocoa wheat exports bahia drought", "utf-8")
    train = tmp_path / "train"
    assert _prep("text", texts, "--out", train, "--min-df", "1", "--max-df-frac", "1.0") == 0
    held = tmp_path / "reuters"
    assert _prep("reuters", data_dir / "reuters", "--vocab-from", train, "--out", held) == 0
    h, t = Corpus.open(held), Corpus.open(train)
    assert h.vocab == t.vocab and h.doc_ids == ["1", "2"]
    words = [[h.vocab[i] for i in h.document(d)] for d in range(h.n_docs)]
    assert sorted(words[0]) == ["bahia", "bahia", "bahia", "cocoa", "cocoa", "cocoa", "drought"]
    assert sorted(words[1]) == ["exports", "exports", "wheat", "wheat", "wheat"]
    tok = data_prep.Tokenizer()
    docs = [d for u in make_source("reuters").iter_units([str(data_dir / "reuters")])
            for d in make_source("reuters").iter_documents(u, {})]
    n_filtered = sum(len(tok.tokenize(d.text, {})) for d in docs)
    assert h.manifest["dropped"]["tokens"]["oov"] == n_filtered - h.n_tokens
    assert h.manifest["preprocessing"]["vocab_from"] == str(train.resolve())
    assert h.manifest["source"]["part"] == "mapped"
    assert h.manifest["dropped"]["documents"] == {"brief": 1, "unprocessed": 1}


def test_sample_selects_n_documents_reproducibly(data_dir, tmp_path):
    outs = []
    for name, seed in (("a", 1), ("b", 1), ("c", 2)):
        assert _prep("wikiextractor", data_dir / "wikiextractor", "--out", tmp_path / name,
                     "--sample", "2", "--sample-seed", seed, "--min-df", "1",
                     "--max-df-frac", "1.0") == 0
        outs.append(Corpus.open(tmp_path / name))
    assert outs[0].doc_ids == outs[1].doc_ids and len(outs[0].doc_ids) == 2
    assert outs[0].manifest["dropped"]["documents"]["not_sampled"] == 2


def test_hashing_mode_reverse_map(data_dir, tmp_path):
    out = tmp_path / "h"
    assert _prep("wikiextractor", data_dir / "wikiextractor", "--out", out, "--hash-bits",
                 "12") == 0
    c = Corpus.open(out, verify=True)
    assert c.hashed and c.vocab is None and c.n_vocab == 4096
    assert (out / "reverse_map.tsv").exists()
    from data_prep.vocab import hashed_id
    i = hashed_id("anarchism", 12)
    assert ("anarchism", 2) in c.reverse_map[i]  # title line + first sentence
    assert "min_df" not in c.manifest["dropped"]["tokens"]  # no pruning under hashing


def test_workers_give_identical_corpus(data_dir, tmp_path):
    for w in ("1", "2"):
        assert _prep("wikipedia-xml", data_dir / "wiki_mini.xml", "--out", tmp_path / w,
                     "--workers", w, "--min-df", "1", "--max-df-frac", "1.0") == 0
    a, b = Corpus.open(tmp_path / "1"), Corpus.open(tmp_path / "2")
    assert a.vocab == b.vocab and a.doc_ids == b.doc_ids == ["39", "12"]
    assert np.array_equal(a.word_ids, b.word_ids) and np.array_equal(a.doc_ptr, b.doc_ptr)
    assert a.manifest["dropped"] == b.manifest["dropped"]
    assert a.manifest["dropped"]["documents"] == {"non_article_namespace": 1, "redirect": 1}


def test_refuses_existing_output_unless_overwrite(data_dir, tmp_path, capsys):
    out = tmp_path / "c"
    args = ("text", data_dir / "text", "--out", out, "--min-df", "1", "--max-df-frac", "1")
    assert _prep(*args) == 0
    before = (out / "manifest.json").read_text()
    assert _prep(*args) == 1
    err = capsys.readouterr().err
    assert f"{out} already exists and holds a corpus" in err and "--overwrite" in err
    assert (out / "manifest.json").read_text() == before
    assert _prep(*args, "--overwrite") == 0


def test_interrupted_write_leaves_nothing_complete_looking(data_dir, tmp_path, monkeypatch):
    out = tmp_path / "c"

    def disk_full(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("lda_sketch.io.corpus.np.save", disk_full)
    with pytest.raises(OSError, match="No space left"):
        with prepare(make_source("text"), [data_dir / "text"],
                     options=PrepOptions(min_df=1, max_df_frac=1.0, heldout=1)) as r:
            r.write(out)
    assert not out.exists() and not (tmp_path / "c-heldout").exists()
    assert [p.name for p in tmp_path.iterdir()] == []  # no partial temporary directories


def test_failed_heldout_write_removes_train(data_dir, tmp_path, monkeypatch):
    import lda_sketch.io.corpus as corpus_mod
    real = corpus_mod.write_corpus
    calls = []

    def second_fails(path, *a, **k):
        calls.append(path)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        return real(path, *a, **k)

    monkeypatch.setattr(corpus_mod, "write_corpus", second_fails)
    with pytest.raises(OSError):
        with prepare(make_source("text"), [data_dir / "text"],
                     options=PrepOptions(min_df=1, max_df_frac=1.0, heldout=1)) as r:
            r.write(tmp_path / "c")
    assert not (tmp_path / "c").exists() and not (tmp_path / "c-heldout").exists()


def test_corpus_stats_cli(data_dir, tmp_path, capsys):
    out = tmp_path / "c"
    assert _prep("text", data_dir / "text", "--out", out, "--min-df", "1",
                 "--max-df-frac", "1") == 0
    capsys.readouterr()
    assert main(["corpus-stats", str(out), "--verify"]) == 0
    text = capsys.readouterr().out
    # bug: "2 (of 2 read)" beside "dropped 1": the reader's drops were not counted as read
    assert "documents   2 (of 3 read)" in text and "dropped documents 1: empty_text 1" in text
    assert "min/p5/p25/median/p75/p95/max" in text
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["dropped"]["documents"] == {"empty_text": 1}


def test_help_explains_every_option(capsys):
    with pytest.raises(SystemExit):
        main(["prep", "reuters", "--help"])
    text = capsys.readouterr().out
    for opt in ("--out", "--overwrite", "--heldout", "--heldout-seed", "--heldout-out",
                "--sample", "--stopwords", "--min-token-length", "--min-df", "--max-df-frac",
                "--max-vocab", "--vocab-from", "--hash-bits", "--workers", "--split",
                "--keep-bodyless"):
        assert opt in text, opt
