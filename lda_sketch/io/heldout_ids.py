"""The held-out documents of a run, by id: ``RUN_DIR/heldout_docs.json``.

Written atomically by ``train_run`` (rank 0) whenever the run has held-out documents; read by
``lda-sketch evaluate RUN_DIR``, which scores exactly these documents and refuses to score others
(a corpus rebuilt or edited since training)::

    format         1
    source         "split"      n_heldout documents split off [data].train by split_seed
                   "directory"  the corpus directory [data].heldout
                   "embedded"   the built-in corpus's held-out documents
    n_docs         number of held-out documents
    doc_index      "split": their indices in [data].train (sorted); otherwise null
    doc_ids        their external ids (the corpus's docs.tsv), or null when it has none
    tokens_sha256  sha256 of their lengths (int64) and word ids (int32), in order
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from .._validation import param_error
from ..exceptions import InputFormatError
from .atomic import write_text_atomic
from .safe_read import field, read_json

FILENAME = "heldout_docs.json"
FORMAT = 1
SOURCES = ("split", "directory", "embedded")
_REMEDY = ("the corpus changed since training: restore it, or score other documents with "
           "--heldout CORPUS_DIR")


def tokens_sha256(corpus) -> str:
    """sha256 of a corpus's document lengths (int64) and word ids (int32), in order."""
    h = hashlib.sha256(np.ascontiguousarray(corpus.doc_lengths(), np.int64).tobytes())
    word_ids = np.asarray(corpus.word_ids)
    step = 1 << 24
    for a in range(0, word_ids.shape[0], step):  # memory-mapped corpora stream
        h.update(np.ascontiguousarray(word_ids[a:a + step], np.int32).tobytes())
    return h.hexdigest()


def heldout_record(heldout, *, source: str, doc_index=None) -> dict:
    """The content of ``heldout_docs.json`` for the held-out ``Corpus``."""
    if source not in SOURCES:
        raise param_error("source", "heldout_record", "one of " + ", ".join(SOURCES), source)
    index = None if doc_index is None else [int(i) for i in np.asarray(doc_index).tolist()]
    if index is not None and len(index) != heldout.n_docs:
        raise param_error("doc_index", "heldout_record", f"one index per held-out document "
                          f"({heldout.n_docs})", f"{len(index)} indices")
    return {"format": FORMAT, "source": source, "n_docs": int(heldout.n_docs),
            "doc_index": index,
            "doc_ids": None if heldout.doc_ids is None else [str(i) for i in heldout.doc_ids],
            "tokens_sha256": tokens_sha256(heldout)}


def write_heldout_ids(run_dir, heldout, *, source: str, doc_index=None) -> Path:
    """Write ``RUN_DIR/heldout_docs.json`` atomically; returns its path."""
    path = Path(run_dir) / FILENAME
    write_text_atomic(path, json.dumps(heldout_record(heldout, source=source,
                                                      doc_index=doc_index)) + "\n")
    return path


def read_heldout_ids(run_dir) -> dict | None:
    """The record of ``RUN_DIR/heldout_docs.json`` (fields checked), or None when absent (a
    model directory, a run without held-out documents or from before the file existed)."""
    path = Path(run_dir) / FILENAME
    if not path.exists():
        return None
    rec = read_json(path, error=InputFormatError)
    kw = dict(error=InputFormatError)
    if field(rec, "format", int, path, **kw) != FORMAT:
        raise InputFormatError(f"{path}: format {rec['format']} is not {FORMAT}; evaluate with "
                               f"--heldout CORPUS_DIR")
    source = field(rec, "source", str, path, **kw)
    if source not in SOURCES:
        raise InputFormatError(f"{path}: 'source' must be one of {', '.join(SOURCES)}, found "
                               f"{source!r}")
    n = field(rec, "n_docs", int, path, lo=0, **kw)
    for key in ("doc_index", "doc_ids"):
        v = field(rec, key, (list, type(None)), path, **kw)
        if v is not None and len(v) != n:
            raise InputFormatError(f"{path}: '{key}' has {len(v)} entries for n_docs = {n}")
    if rec["doc_index"] is not None and not all(
            isinstance(i, int) and not isinstance(i, bool) and i >= 0 for i in rec["doc_index"]):
        raise InputFormatError(f"{path}: 'doc_index' must hold non-negative integers")
    field(rec, "tokens_sha256", str, path, **kw)
    return rec


def check_heldout(record: dict, heldout, where) -> None:
    """Refuse ``heldout`` unless it is the run's held-out documents: same count, ids and
    tokens as ``record``. ``where`` names the record's file (messages)."""
    n = record["n_docs"]
    if heldout is None or heldout.n_docs != n:
        got = "none" if heldout is None else f"{heldout.n_docs}"
        raise InputFormatError(f"{where}: the run held out {n} documents; its config gives "
                               f"{got} now; {_REMEDY}")
    ids = None if heldout.doc_ids is None else [str(i) for i in heldout.doc_ids]
    if record["doc_ids"] is not None and ids is not None and ids != record["doc_ids"]:
        bad = next(i for i, (a, b) in enumerate(zip(ids, record["doc_ids"])) if a != b)
        raise InputFormatError(f"{where}: held-out document {bad} is {ids[bad]!r} now, "
                               f"{record['doc_ids'][bad]!r} in the run; {_REMEDY}")
    if tokens_sha256(heldout) != record["tokens_sha256"]:
        raise InputFormatError(f"{where}: the held-out documents' tokens differ from the "
                               f"run's (tokens_sha256); {_REMEDY}")
