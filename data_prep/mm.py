"""Reader for gensim's ``MmCorpus`` (Matrix Market coordinate file) with the dictionary saved by
``Dictionary.save_as_text`` (``lda-sketch prep mm CORPUS.mm --dictionary DICT.txt``).

The ``.mm`` file: a ``%%MatrixMarket matrix coordinate ...`` header, ``%`` comment lines, the
line ``n_docs n_terms n_entries``, then one ``doc term count`` line per entry, 1-based (gensim
writes them grouped by document). The dictionary: a first line with the number of documents,
then ``id<TAB>word<TAB>document frequency`` per word, ids 0-based. Each document becomes the
tokens ``word`` repeated ``count`` times, by increasing term id (a bag of words has no order);
its id is its 0-based number in the ``.mm`` file. Documents without entries are counted as
``empty_document``. Counts must be non-negative integers (a tf-idf corpus is refused).
"""
from __future__ import annotations

from pathlib import Path

from lda_sketch.exceptions import InputFormatError

from ._io import decode_utf8, file_size, read_bytes
from .source import Document, WorkUnit, count


def units(inputs, *, dictionary=None):
    if dictionary is None:
        raise InputFormatError("prep mm needs --dictionary DICT.txt (gensim "
                               "Dictionary.save_as_text output)")
    for p in map(Path, inputs):
        yield WorkUnit(str(p), n_bytes=file_size(p))


def read_dictionary(path) -> dict[int, str]:
    """``Dictionary.save_as_text`` output -> {id: word}."""
    path = Path(path)
    lines = decode_utf8(path, read_bytes(path)).splitlines()
    words = {}
    for lineno, line in enumerate(lines[1:], 2):
        parts = line.split("\t")
        if len(parts) != 3 or not parts[0].strip().isdigit():
            raise InputFormatError(f"{path}:{lineno}: expected 'id<TAB>word<TAB>docfreq' (gensim "
                                   f"Dictionary.save_as_text format)")
        words[int(parts[0])] = parts[1]
    return words


def documents(unit: WorkUnit, dropped: dict, *, dictionary=None):
    words = read_dictionary(dictionary)
    path = Path(unit.payload)
    lines = iter(enumerate(decode_utf8(path, read_bytes(path)).splitlines(), 1))
    header = next(lines, (1, ""))[1]
    if not header.startswith("%%MatrixMarket matrix coordinate"):
        raise InputFormatError(f"{path}:1: not a Matrix Market coordinate file (gensim MmCorpus "
                               f"starts with '%%MatrixMarket matrix coordinate')")
    n_docs = None
    doc, tokens = None, []
    for lineno, line in lines:
        if not line.strip() or line.startswith("%"):
            continue
        parts = line.split()
        if n_docs is None:
            n_docs = _ints(parts, 3, path, lineno, "n_docs n_terms n_entries")[0]
            seen = 0
            continue
        d, t, c = _ints(parts, 3, path, lineno, "doc term count (1-based, integer count)")
        word = words.get(t - 1)
        if word is None or not 1 <= d <= n_docs:
            raise InputFormatError(f"{path}:{lineno}: document {d} / term {t} is outside the "
                                   f"header's {n_docs} documents or the dictionary's ids; use "
                                   f"the dictionary the corpus was built with")
        if d != doc:
            if doc is not None:
                yield Document(str(doc - 1), "", tokens=tokens)
                seen += 1
            doc, tokens = d, []
        tokens.extend([word] * c)
    if doc is not None:
        yield Document(str(doc - 1), "", tokens=tokens)
        seen += 1
    if n_docs is not None and n_docs > seen:
        count(dropped, "empty_document", n_docs - seen)


def _ints(parts, n, path, lineno, what) -> list[int]:
    try:
        vals = [float(x) for x in parts]
    except ValueError:
        vals = []
    if len(vals) != n or any(v != int(v) or v < 0 for v in vals):
        raise InputFormatError(f"{path}:{lineno}: expected '{what}', got {' '.join(parts)!r}"
                               + ("; counts must be integers (a tf-idf corpus is refused)"
                                  if len(vals) == n else ""))
    return [int(v) for v in vals]
