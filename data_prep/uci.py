"""Reader for UCI bag-of-words data: ``docword.NAME.txt[.gz]`` + ``vocab.NAME.txt``.

``docword`` holds three header lines ``D``, ``W``, ``NNZ`` and then ``docID wordID count``
triples (1-based ids, grouped by document); ``vocab`` holds ``W`` words, line ``i`` is word
``i``. The vocabulary file is found next to the docword file (``vocab.NAME.txt``) unless given.
Words pass through the same length and stop-word filters and the same pruning as tokenized
text, so a UCI corpus is comparable with one built from raw text. Documents with no entries
are counted as ``empty_text``.
"""
from __future__ import annotations

import re
from pathlib import Path

from lda_sketch.exceptions import InputFormatError

from ._io import compressed_error, decode_utf8, expand_inputs, open_binary, read_bytes
from .source import Document, WorkUnit, count

DOCS_PER_UNIT = 2000


def vocab_path_for(docword: Path) -> Path:
    m = re.match(r"docword\.(.+?)\.txt(\.gz|\.bz2)?$", docword.name)
    if not m:
        raise InputFormatError(f"{docword}: expected a file named docword.NAME.txt[.gz]; pass "
                               f"the vocabulary with --uci-vocab.")
    return docword.with_name(f"vocab.{m.group(1)}.txt")


def read_vocab(path: Path) -> list[str]:
    if not path.exists():
        raise InputFormatError(f"{path}: UCI vocabulary file not found; pass it with --uci-vocab.")
    words = decode_utf8(path, read_bytes(path)).split("\n")
    if words and words[-1] == "":
        words.pop()
    return [w.strip() for w in words]


def units(inputs, *, vocab=None):
    for docword in expand_inputs(inputs, what="UCI docword (docword.*.txt[.gz])",
                                 patterns=("docword.*",)):
        vpath = Path(vocab) if vocab else vocab_path_for(docword)
        words = read_vocab(vpath)
        yield from _docword_units(docword, vpath, words)


def _docword_units(path: Path, vpath: Path, words: list[str]):
    stream, raw = open_binary(path)
    reported = 0
    with stream:
        lines = _lines(path, stream)
        header = []
        for lineno, line in lines:
            if line.strip():
                header.append((lineno, line))
            if len(header) == 3:
                break
        if len(header) < 3:
            raise InputFormatError(f"{path}: expected the header lines D, W and NNZ; the file "
                                   f"has only {len(header)} non-blank lines.")
        try:
            n_docs, n_words, nnz = (int(line) for _, line in header)
        except ValueError:
            raise InputFormatError(f"{path}:{header[0][0]}-{header[2][0]}: header must be three "
                                   f"integers D, W, NNZ (is this a docword file?).") from None
        if n_words != len(words):
            raise InputFormatError(
                f"{path}: header says W = {n_words} words but {vpath} has {len(words)} lines; "
                f"the vocabulary file does not belong to this docword file.")
        batch, cur, entries, n_entries, n_distinct = [], None, [], 0, 0
        for lineno, line in lines:
            parts = line.split()
            if not parts:
                continue
            try:
                d, w, c = (int(x) for x in parts)
            except ValueError:
                raise InputFormatError(f"{path}:{lineno}: expected 'docID wordID count', got "
                                       f"{line.strip()[:60]!r}.") from None
            if not (1 <= d <= n_docs and 1 <= w <= n_words and c >= 0):
                raise InputFormatError(
                    f"{path}:{lineno}: entry ({d}, {w}, {c}) out of range (D = {n_docs}, "
                    f"W = {n_words}, counts >= 0); does {vpath.name} belong to this file?")
            n_entries += 1
            if d != cur:
                if cur is not None:
                    if d < cur:
                        raise InputFormatError(f"{path}:{lineno}: document ids must be sorted "
                                               f"(got {d} after {cur}).")
                    batch.append((cur, entries))
                cur, entries = d, []
                n_distinct += 1
                if len(batch) >= DOCS_PER_UNIT:
                    yield WorkUnit(batch, n_bytes=raw.n_read - reported)
                    reported, batch = raw.n_read, []
            entries.append((words[w - 1], c))
        if cur is not None:
            batch.append((cur, entries))
        if n_entries != nnz:
            raise InputFormatError(f"{path}: header says NNZ = {nnz} entries, found {n_entries} "
                                   f"(truncated file?).")
        missing = n_docs - n_distinct
        yield WorkUnit(batch, n_bytes=raw.n_read - reported,
                       dropped={"empty_text": missing} if missing else {})


def _lines(path, stream):
    lineno = 0
    try:
        for raw in stream:
            lineno += 1
            try:
                yield lineno, raw.decode("ascii")
            except UnicodeDecodeError:
                raise InputFormatError(f"{path}:{lineno}: non-ASCII bytes in a docword file "
                                       f"(binary or wrong file?).") from None
    except (EOFError, OSError) as exc:
        raise compressed_error(path, exc) from None


def documents(unit: WorkUnit, dropped: dict, *, vocab=None):
    for d, entries in unit.payload:
        tokens = []
        for w, c in entries:
            tokens.extend([w] * c)
        if not tokens:
            count(dropped, "empty_text")
            continue
        yield Document(str(d), "", tokens=tokens)
