"""Bad input: each case raises InputFormatError naming the file (and line/offset if known)."""
from __future__ import annotations

import bz2
import gzip

import pytest

from data_prep import PrepOptions, make_source, prepare
from lda_sketch.cli.main import main
from lda_sketch.exceptions import InputFormatError


def _run(source, inputs, **opts):
    with prepare(source, inputs, options=PrepOptions(min_df=1, max_df_frac=1.0, **opts)) as r:
        return r.train


def test_truncated_bz2_wikiextractor(data_dir, tmp_path):
    blob = bz2.compress((data_dir / "wikiextractor" / "AA" / "wiki_00").read_bytes())
    f = tmp_path / "wiki_00.bz2"
    f.write_bytes(blob[: len(blob) // 2])
    with pytest.raises(InputFormatError, match=rf"{f}: compressed stream ends early.*truncated"):
        _run(make_source("wikiextractor"), [f])


def test_truncated_bz2_xml_dump(data_dir, tmp_path):
    blob = bz2.compress((data_dir / "wiki_mini.xml").read_bytes())
    f = tmp_path / "pages.xml.bz2"
    f.write_bytes(blob[:-20])
    with pytest.raises(InputFormatError, match=rf"{f}: compressed stream ends early"):
        _run(make_source("wikipedia-xml"), [f])


def test_truncated_gzip_reuters(data_dir, tmp_path):
    blob = gzip.compress((data_dir / "reuters" / "reut2-000.sgm").read_bytes())
    f = tmp_path / "reut2-000.sgm.gz"
    f.write_bytes(blob[:300])
    with pytest.raises(InputFormatError, match=rf"{f}: compressed stream ends early"):
        _run(make_source("reuters"), [f])


def test_malformed_xml_names_line_and_column(data_dir, tmp_path):
    f = tmp_path / "bad.xml"
    text = (data_dir / "wiki_mini.xml").read_text("utf-8")
    f.write_text(text.replace("<title>Anarchism</title>", "<title>Anarchism</titel>"), "utf-8")
    line = text.splitlines().index("    <title>Anarchism</title>") + 1
    with pytest.raises(InputFormatError, match=rf"{f}:{line}:\d+: malformed XML"):
        _run(make_source("wikipedia-xml"), [f])


def test_xml_that_is_not_a_mediawiki_export(tmp_path):
    f = tmp_path / "other.xml"
    f.write_text("<html><body>hello</body></html>", "utf-8")
    with pytest.raises(InputFormatError,
                       match=rf"{f}: root element is <html>, expected <mediawiki>"):
        _run(make_source("wikipedia-xml"), [f])


def test_sgml_without_reuters_elements(tmp_path):
    f = tmp_path / "reut2-999.sgm"
    f.write_bytes(b'<!DOCTYPE lewis SYSTEM "lewis.dtd">\n<STORY>nothing here</STORY>\n')
    with pytest.raises(InputFormatError, match=rf"{f}: no <REUTERS .*Reuters-21578"):
        _run(make_source("reuters"), [f])


def test_binary_garbage(tmp_path):
    f = tmp_path / "wiki_00"
    f.write_bytes(bytes(range(256)) * 8)
    with pytest.raises(InputFormatError, match=rf"{f}: binary data \(NUL byte at offset 0\)"):
        _run(make_source("wikiextractor"), [f])
    g = tmp_path / "noise.txt"
    g.write_bytes(b"ok line\n\xff\xfe\xfa garbage")
    with pytest.raises(InputFormatError, match=rf"{g}:2: invalid UTF-8 at byte offset 8"):
        _run(make_source("text"), [g])


def test_utf16_file(tmp_path):
    f = tmp_path / "doc.txt"
    f.write_bytes("Some ordinary words here.".encode("utf-16"))
    with pytest.raises(InputFormatError, match=rf"{f}: looks like UTF-16.*iconv"):
        _run(make_source("text"), [f])


def test_empty_inputs(tmp_path):
    empty_dir = tmp_path / "empty"
    empty_dir.mkdir()
    with pytest.raises(InputFormatError, match=rf"{empty_dir}: directory holds no text files"):
        _run(make_source("text"), [empty_dir])
    f = tmp_path / "empty.txt"
    f.write_bytes(b"")
    with pytest.raises(InputFormatError,
                       match=r"no documents left .*\(1 read; dropped: {.empty_text.: 1}\)"):
        _run(make_source("text"), [f])
    w = tmp_path / "wiki_00"
    w.write_bytes(b"")
    with pytest.raises(InputFormatError, match=rf"{w}: no <doc id=...>"):
        _run(make_source("wikiextractor"), [w])
    with pytest.raises(InputFormatError, match=rf"{tmp_path / 'missing'}: no such file"):
        _run(make_source("text"), [tmp_path / "missing"])


def test_unclosed_wikiextractor_doc_names_line(data_dir, tmp_path):
    f = tmp_path / "wiki_00"
    text = (data_dir / "wikiextractor" / "AA" / "wiki_00").read_text("utf-8")
    f.write_text(text + '<doc id="99" url="u" title="Cut">\nCut off here', "utf-8")
    line = text.count("\n") + 1
    with pytest.raises(InputFormatError, match=rf"{f}:{line}: an unclosed <doc> block"):
        _run(make_source("wikiextractor"), [f])


def test_uci_vocabulary_mismatch(data_dir, tmp_path):
    src = data_dir / "uci" / "docword.mini.txt"
    (tmp_path / "docword.mini.txt").write_bytes(src.read_bytes())
    v = tmp_path / "vocab.mini.txt"
    v.write_text("apple\nbanana\n", "utf-8")
    with pytest.raises(InputFormatError,
                       match=r"header says W = 5 words but .*vocab.mini.txt has 2 lines"):
        _run(make_source("uci"), [tmp_path / "docword.mini.txt"])


def test_uci_entry_out_of_range_names_line(data_dir, tmp_path):
    d = tmp_path / "docword.x.txt"
    d.write_text("2\n3\n2\n1 1 1\n2 7 1\n", "utf-8")
    (tmp_path / "vocab.x.txt").write_text("a\nb\nc\n", "utf-8")
    with pytest.raises(InputFormatError, match=rf"{d}:5: entry \(2, 7, 1\) out of range"):
        _run(make_source("uci"), [d])


def test_cli_reports_errors_without_traceback(tmp_path, capsys):
    f = tmp_path / "doc.txt"
    f.write_bytes("x".encode("utf-16"))
    assert main(["prep", "text", str(f), "--out", str(tmp_path / "c"), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("lda-sketch prep: error:") and "UTF-16" in err
    assert "Traceback" not in err and not (tmp_path / "c").exists()


def test_worker_errors_reach_the_caller(data_dir, tmp_path):
    good = tmp_path / "good"
    good.mkdir()
    (good / "wiki_00").write_bytes((data_dir / "wikiextractor" / "AA" / "wiki_00").read_bytes())
    (good / "wiki_01").write_bytes(b"\x00\x01binary")
    with pytest.raises(InputFormatError, match="wiki_01: binary data"):
        _run(make_source("wikiextractor"), [good], workers=2)
