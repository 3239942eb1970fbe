"""Every reader on small hand-written files in the real formats (tests/data)."""
from __future__ import annotations

import bz2
import gzip
import shutil

from data_prep import make_source
from data_prep.wikipedia import wikitext_to_text


def test_reuters_all_with_bodyless(data_dir, read_all):
    docs, dropped = read_all(make_source("reuters", keep_bodyless=True), [data_dir / "reuters"])
    assert [d.doc_id for d in docs] == ["1", "2", "3", "4"]
    d1, d2, d3, d4 = docs
    assert d1.title == "BAHIA COCOA REVIEW"
    assert d1.text.startswith("BAHIA COCOA REVIEW\nShowers")
    assert "<since>" in d1.text and "&lt;" not in d1.text and "\x03" not in d1.text
    assert "Café owners & bakers" in d2.text  # Latin-1 byte and &amp;
    assert d1.meta == {"lewissplit": "TRAIN", "topics": "YES", "topic_labels": ["cocoa"],
                       "text_type": "NORM"}
    assert d2.meta["topic_labels"] == ["grain", "wheat"]
    assert (d3.meta["text_type"], d4.meta["text_type"]) == ("BRIEF", "UNPROC")
    assert d3.text.strip() == "TEXAS BANCSHARES FILES DEBT SHELF"
    assert "FEDERAL RESERVE WEEKLY REPORT" in d4.text
    assert dropped == {}


def test_reuters_default_skips_and_counts_bodyless(data_dir, read_all):
    docs, dropped = read_all(make_source("reuters"), [data_dir / "reuters"])
    assert [d.doc_id for d in docs] == ["1", "2"]
    assert dropped == {"brief": 1, "unprocessed": 1}


def test_reuters_modapte_splits(data_dir, read_all):
    train, dtr = read_all(make_source("reuters", split="modapte-train"), [data_dir / "reuters"])
    test, dte = read_all(make_source("reuters", split="modapte-test"), [data_dir / "reuters"])
    assert [d.doc_id for d in train] == ["1"] and [d.doc_id for d in test] == ["2"]
    assert dtr == {"not_in_split": 3} and dte == {"not_in_split": 3}


def test_reuters_gzip_equals_plain(data_dir, read_all, tmp_path):
    gz = tmp_path / "reut2-000.sgm.gz"
    gz.write_bytes(gzip.compress((data_dir / "reuters" / "reut2-000.sgm").read_bytes()))
    a, _ = read_all(make_source("reuters"), [data_dir / "reuters"])
    b, _ = read_all(make_source("reuters"), [tmp_path])
    assert [(d.doc_id, d.text) for d in a] == [(d.doc_id, d.text) for d in b]


def test_wikipedia_xml_keeps_articles_strips_markup(data_dir, read_all, tmp_path):
    docs, dropped = read_all(make_source("wikipedia-xml"), [data_dir / "wiki_mini.xml"])
    assert [(d.doc_id, d.title) for d in docs] == [("39", "Albedo"), ("12", "Anarchism")]
    assert dropped == {"redirect": 1, "non_article_namespace": 1}
    text = docs[0].text
    assert "Albedo is the diffuse reflectivity of a surface." in text  # link text kept
    assert "Terrestrial albedo" in text and "==" not in text
    for leftover in ("templateparamword", "refcontentword", "commentword", "tablecellword",
                     "filecaptionword", "categoryword", "interwikiword", "Category", "{{",
                     "[[", "<ref", "|"):
        assert leftover not in text, leftover
    assert "self-governed societies" in docs[1].text and "cn" not in docs[1].text.split()
    # the same dump, bzip2-compressed, streams identically
    bz = tmp_path / "pages-articles.xml.bz2"
    bz.write_bytes(bz2.compress((data_dir / "wiki_mini.xml").read_bytes()))
    docs_bz, dropped_bz = read_all(make_source("wikipedia-xml"), [bz])
    assert [d.text for d in docs_bz] == [d.text for d in docs] and dropped_bz == dropped


def test_wikitext_headings_keep_their_words():
    out = wikitext_to_text("Intro.\n\n== Early life ==\nBorn in {{city|Paris}}.")
    assert "Early life" in out and "=" not in out and "Paris" not in out


def test_wikiextractor_plain_and_bz2_tree(data_dir, read_all, tmp_path):
    docs, dropped = read_all(make_source("wikiextractor"), [data_dir / "wikiextractor"])
    assert [d.doc_id for d in docs] == ["12", "25", "39", "290"]  # sorted file order
    assert docs[2].title == "Albedo & reflection"
    assert docs[0].text.startswith("Anarchism\n\nAnarchism is a political philosophy")
    assert docs[0].meta["url"].endswith("curid=12")
    assert dropped == {}
    tree = tmp_path / "AA"
    tree.mkdir()
    for f in (data_dir / "wikiextractor" / "AA").iterdir():
        (tree / (f.name + ".bz2")).write_bytes(bz2.compress(f.read_bytes()))
    docs_bz, _ = read_all(make_source("wikiextractor"), [tmp_path])
    assert [(d.doc_id, d.text) for d in docs_bz] == [(d.doc_id, d.text) for d in docs]


def test_uci_bag_of_words(data_dir, read_all, tmp_path):
    docs, dropped = read_all(make_source("uci"), [data_dir / "uci" / "docword.mini.txt"])
    assert [(d.doc_id, sorted(d.tokens)) for d in docs] == [
        ("1", ["apple", "apple", "banana", "the", "the", "the", "the"]),
        ("2", ["cherry", "cherry", "cherry", "xy"]),
        ("4", ["apple", "cherry", "cherry"])]
    assert dropped == {"empty_text": 1}  # document 3 has no entries
    gz = tmp_path / "docword.mini.txt.gz"
    gz.write_bytes(gzip.compress((data_dir / "uci" / "docword.mini.txt").read_bytes()))
    shutil.copy(data_dir / "uci" / "vocab.mini.txt", tmp_path)
    docs_gz, _ = read_all(make_source("uci"), [tmp_path])
    assert [d.tokens for d in docs_gz] == [d.tokens for d in docs]


def test_text_folder_per_file_and_per_line(data_dir, read_all):
    docs, dropped = read_all(make_source("text"), [data_dir / "text"])
    assert [(d.doc_id, d.title) for d in docs] == [("a.txt", "a"), ("sub/b.txt", "b")]
    assert dropped == {"empty_text": 1}
    lines, dropped = read_all(make_source("text", one_per_line=True), [data_dir / "text"])
    assert [d.doc_id for d in lines] == ["a.txt:1", "a.txt:2", "sub/b.txt:1", "sub/b.txt:3"]
    assert lines[1].text == "Cherries too."
    assert dropped == {"blank_line": 2}
