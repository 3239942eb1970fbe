"""Readers on the real files in ../shared/data (skipped when absent): published counts."""
from __future__ import annotations

import pytest

from data_prep import make_source

REUTERS = "reuters21578"
XML = "wikipedia/enwiki-mediawiki-xml"
WIKIEXTRACTOR = "wikipedia/enwiki-wikiextractor-2015"


def _count(source, inputs):
    n, dropped = 0, {}
    for unit in source.iter_units([str(p) for p in inputs]):
        for k, v in unit.dropped.items():
            dropped[k] = dropped.get(k, 0) + v
        n += sum(1 for _ in source.iter_documents(unit, dropped))
    return n, dropped


def test_reuters_story_counts(shared_data, read_all):
    # one pass with every story kept; the split/bodyless options are checked on the fixture
    docs, dropped = read_all(make_source("reuters", keep_bodyless=True), [shared_data / REUTERS])
    assert dropped == {}
    assert sorted(int(x.doc_id) for x in docs) == list(range(1, 21579))
    types = [x.meta["text_type"] for x in docs]
    assert (types.count("NORM"), types.count("BRIEF"), types.count("UNPROC")) == (19043, 1798, 737)
    split = [(x.meta["lewissplit"], x.meta["topics"]) for x in docs]
    assert (split.count(("TRAIN", "YES")), split.count(("TEST", "YES"))) == (9603, 3299)
    labelled = [x for x in docs if x.meta["topic_labels"]]
    assert sum(1 for x in labelled if x.meta["lewissplit"] == "TRAIN"
               and x.meta["topics"] == "YES") == 7775


def test_reuters_modapte_test_option(shared_data):
    n, dropped = _count(make_source("reuters", split="modapte-test"), [shared_data / REUTERS])
    # ModApte test stories with a <BODY>; the others are counted, not lost
    assert n + dropped.get("brief", 0) + dropped.get("unprocessed", 0) == 3299
    assert n + sum(dropped.values()) == 21578


def test_xml_excerpt_articles_and_redirects(shared_data):
    src = make_source("wikipedia-xml")
    units = list(src.iter_units([str(shared_data / XML)]))
    dropped = {}
    for u in units:
        for k, v in u.dropped.items():
            dropped[k] = dropped.get(k, 0) + v
    assert sum(len(u.payload) for u in units) == 106
    assert dropped == {"redirect": 100}
    titles = [t for u in units for _, t, _ in u.payload]
    assert titles[0] == "Anarchism" and "Algorithm" in titles


def test_xml_excerpt_markup_is_stripped(shared_data):
    src = make_source("wikipedia-xml")
    unit = next(iter(src.iter_units([str(shared_data / XML)])))
    docs = list(src.iter_documents(unit, {}))
    text = "\n".join(d.text for d in docs)
    assert docs[0].title == "Anarchism" and "political philosophy" in docs[0].text
    for leftover in ("{{", "}}", "[[", "]]", "<ref", "{|", "|-", "Category:"):
        assert leftover not in text, leftover


def test_wikiextractor_subset_counts(shared_data):
    # Reading all 200 files takes ~10 s on one core; the full 12,980 is checked by the
    # acceptance build (docs/DATA_PREP.md). The first file holds ids 12...; files are disjoint.
    root = shared_data / WIKIEXTRACTOR
    files = sorted((root / "AA").glob("wiki_0*.bz2"))
    src = make_source("wikiextractor")
    n, dropped = _count(src, files)
    assert dropped == {}
    assert 500 <= n <= 800  # ten ~1 MB chunks of ~65 long articles each
    first = next(iter(src.iter_documents(next(iter(src.iter_units([str(files[0])]))), {})))
    assert (first.doc_id, first.title) == ("12", "Anarchism")


@pytest.mark.slow
def test_wikiextractor_full_count(shared_data):
    n, dropped = _count(make_source("wikiextractor"), [shared_data / WIKIEXTRACTOR])
    assert (n, dropped) == (12980, {})
