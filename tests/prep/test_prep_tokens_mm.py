"""`lda-sketch prep tokens` (pre-tokenized lines) and `prep mm` (gensim MmCorpus + the
Dictionary.save_as_text file) (issue 15, section 1)."""
from __future__ import annotations

import pytest

from lda_sketch.cli.main import main
from lda_sketch.io.corpus import Corpus

LOOSE = ["--min-df", "1", "--max-df-frac", "1", "--quiet"]


def _words(c):
    return [[c.vocab[i] for i in c.document(d)] for d in range(c.n_docs)]


def test_prep_tokens_takes_tokens_as_they_are(tmp_path, capsys):
    f = tmp_path / "docs.txt"
    f.write_text("new_york 東京 The city\n\nparis's the city  city\nb\n", "utf-8")
    assert main(["prep", "tokens", str(f), "--out", str(tmp_path / "c"), *LOOSE]) == 0
    c = Corpus.open(tmp_path / "c")
    # no lowercasing, no length or stop-word filter, one document per non-blank line
    assert _words(c) == [["new_york", "東京", "The", "city"],
                         ["paris's", "the", "city", "city"], ["b"]]
    assert c.doc_ids == ["docs.txt:1", "docs.txt:3", "docs.txt:4"]
    assert "documents   3 (of 4 read)" in capsys.readouterr().out
    # the usual pruning applies
    assert main(["prep", "tokens", str(f), "--out", str(tmp_path / "p"), "--min-df", "2",
                 "--max-df-frac", "1", "--quiet"]) == 0
    assert Corpus.open(tmp_path / "p").vocab == ["city"]


MM = """%%MatrixMarket matrix coordinate real general
4 3 6
1 1 2
1 2 1
3 1 1
3 2 1
3 3 1
4 3 1
"""
DICT = "4\n0\tapple\t2\n2\tcrust\t2\n1\tpie\t2\n"


def test_prep_mm_reads_a_gensim_corpus_and_dictionary(tmp_path, capsys):
    (tmp_path / "c.mm").write_text(MM)
    (tmp_path / "d.txt").write_text(DICT)
    assert main(["prep", "mm", str(tmp_path / "c.mm"), "--dictionary", str(tmp_path / "d.txt"),
                 "--out", str(tmp_path / "c"), *LOOSE]) == 0
    c = Corpus.open(tmp_path / "c")
    assert _words(c) == [["apple", "apple", "pie"], ["apple", "pie", "crust"], ["crust"]]
    assert c.doc_ids == ["0", "2", "3"]
    assert c.manifest["dropped"]["documents"] == {"empty_document": 1}
    assert "documents   3 (of 4 read)" in capsys.readouterr().out


def test_prep_mm_refuses_weights_and_foreign_ids(tmp_path, capsys):
    (tmp_path / "d.txt").write_text(DICT)
    (tmp_path / "w.mm").write_text(MM.replace("1 1 2", "1 1 0.37"))
    assert main(["prep", "mm", str(tmp_path / "w.mm"), "--dictionary", str(tmp_path / "d.txt"),
                 "--out", str(tmp_path / "c"), *LOOSE]) == 1
    assert "w.mm:3:" in (err := capsys.readouterr().err) and "tf-idf" in err
    (tmp_path / "x.mm").write_text(MM.replace("4 3 1", "4 9 1"))
    assert main(["prep", "mm", str(tmp_path / "x.mm"), "--dictionary", str(tmp_path / "d.txt"),
                 "--out", str(tmp_path / "c"), *LOOSE]) == 1
    assert "x.mm:8:" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # --dictionary is required
        main(["prep", "mm", str(tmp_path / "x.mm"), "--out", str(tmp_path / "c")])


def test_prep_mm_of_files_gensim_wrote(tmp_path):
    corpora = pytest.importorskip("gensim.corpora")
    texts = [["apple", "pie", "apple"], [], ["pie", "crust", "apple"], ["crust"]]
    d = corpora.Dictionary(texts)
    corpora.MmCorpus.serialize(str(tmp_path / "c.mm"), [d.doc2bow(t) for t in texts])
    d.save_as_text(str(tmp_path / "d.txt"))
    assert main(["prep", "mm", str(tmp_path / "c.mm"), "--dictionary", str(tmp_path / "d.txt"),
                 "--out", str(tmp_path / "c"), *LOOSE]) == 0
    c = Corpus.open(tmp_path / "c")
    assert sorted(map(sorted, _words(c))) == sorted(sorted(t) for t in texts if t)
