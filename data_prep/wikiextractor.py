"""Reader for WikiExtractor output: ``<doc id=".." url=".." title="..">`` blocks of plain text.

Inputs are files or directory trees (``AA/wiki_00`` ...), plain or bzip2/gzip-compressed (by
magic bytes), read in sorted path order; one work unit per file. The text of a block starts with
the title line, as WikiExtractor writes it; it is kept (the title is part of the article).
"""
from __future__ import annotations

import html
import re
from pathlib import Path

from lda_sketch.exceptions import InputFormatError

from ._io import decode_utf8, expand_inputs, file_size, read_bytes
from .source import Document, WorkUnit, count

_DOC_RE = re.compile(r"<doc\b([^>]*)>\n?(.*?)</doc>", re.S)
_ATTR_RE = re.compile(r'(\w+)="([^"]*)"')


def units(inputs):
    for path in expand_inputs(inputs, what="WikiExtractor"):
        yield WorkUnit(path, n_bytes=file_size(path))


def documents(unit: WorkUnit, dropped: dict):
    path = Path(unit.payload)
    text = decode_utf8(path, read_bytes(path))
    pos = 0
    n_found = 0
    for m in _DOC_RE.finditer(text):
        _check_gap(path, text, pos, m.start())
        pos = m.end()
        n_found += 1
        attrs = dict(_ATTR_RE.findall(m.group(1)))
        if "id" not in attrs:
            raise InputFormatError(f"{path}:{_line(text, m.start())}: <doc> without an id "
                                   f"attribute.")
        body = m.group(2)
        if not body.strip():
            count(dropped, "empty_text")
            continue
        yield Document(attrs["id"], html.unescape(attrs.get("title", "")), text=body,
                       meta={"url": attrs.get("url", "")})
    _check_gap(path, text, pos, len(text))
    if n_found == 0:
        raise InputFormatError(f"{path}: no <doc id=...>...</doc> block found; expected "
                               f"WikiExtractor output (plain or .bz2).")


def _check_gap(path, text, a, b):
    """Only whitespace may lie between blocks; an unclosed ``<doc`` is a truncated file."""
    gap = text[a:b]
    if gap.strip():
        at = a + (len(gap) - len(gap.lstrip()))
        what = ("an unclosed <doc> block (truncated file?)" if gap.lstrip().startswith("<doc")
                else "text outside <doc>...</doc>")
        raise InputFormatError(f"{path}:{_line(text, at)}: {what}.")


def _line(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1
