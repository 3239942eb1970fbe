"""Reader for a folder of plain-text files (UTF-8; plain, ``.gz`` or ``.bz2`` by magic bytes).

One document per file (id: the path relative to the named input, title: the file name without
suffix), or with ``one_per_line`` one document per non-blank line (id ``path:line``). Files are
read in sorted path order. UTF-16 and binary files are refused with an error naming the file.
"""
from __future__ import annotations

from pathlib import Path

from ._io import decode_utf8, expand_inputs, file_size, read_bytes
from .source import Document, WorkUnit, count

FILES_PER_UNIT = 64


def units(inputs, *, one_per_line=False):
    batch, n_bytes = [], 0
    for p in map(Path, inputs):
        base = p if p.is_dir() else p.parent
        for f in expand_inputs([p], what="text"):
            batch.append((str(f), str(f.relative_to(base))))
            n_bytes += file_size(f)
            if len(batch) >= FILES_PER_UNIT:
                yield WorkUnit(batch, n_bytes=n_bytes)
                batch, n_bytes = [], 0
    if batch:
        yield WorkUnit(batch, n_bytes=n_bytes)


def documents(unit: WorkUnit, dropped: dict, *, one_per_line=False):
    for path, rel in unit.payload:
        path = Path(path)
        text = decode_utf8(path, read_bytes(path))
        stem = path.name.split(".", 1)[0]
        if not one_per_line:
            if not text.strip():
                count(dropped, "empty_text")
                continue
            yield Document(rel, stem, text=text)
            continue
        for lineno, line in enumerate(text.splitlines(), 1):
            if line.strip():
                yield Document(f"{rel}:{lineno}", stem, text=line)
            else:
                count(dropped, "blank_line")
