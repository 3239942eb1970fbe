"""Reader for pre-tokenized text (``lda-sketch prep tokens``): one document per non-blank line,
tokens separated by whitespace, taken as they are (no regex, no lowercasing).

Use it for lemmas, n-grams joined into one token, or a CJK segmenter's output. Files are UTF-8
(plain, ``.gz`` or ``.bz2``), read in sorted path order; a document's id is ``path:line``. The
``prep`` defaults for this reader keep every token (minimum length 1, no stop words); the usual
vocabulary pruning (``--min-df``, ``--max-df-frac``, ``--max-vocab``) applies.
"""
from __future__ import annotations

from pathlib import Path

from ._io import decode_utf8, read_bytes
from .source import Document, WorkUnit, count
from .text import units as text_units


def units(inputs):
    return text_units(inputs)


def documents(unit: WorkUnit, dropped: dict):
    for path, rel in unit.payload:
        path = Path(path)
        text = decode_utf8(path, read_bytes(path))
        stem = path.name.split(".", 1)[0]
        for lineno, line in enumerate(text.splitlines(), 1):
            tokens = line.split()
            if tokens:
                yield Document(f"{rel}:{lineno}", stem, tokens=tokens)
            else:
                count(dropped, "blank_line")
