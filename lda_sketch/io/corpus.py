"""The binary corpus directory that training reads (DESIGN §6).

Layout of a corpus directory::

    manifest.json   format, version, counts, vocabulary size, hashing, source, preprocessing
                    settings, dropped-token/document counts, sha256 of every file
    vocab.txt       one word per line; line i is word id i (absent in feature-hashing mode)
    reverse_map.tsv feature-hashing mode only: ``id<TAB>word<TAB>count``, the most frequent
                    strings seen per hashed id (for displaying topics)
    docs.tsv        one line per document: ``external_id<TAB>title``
    doc_ptr.npy     int64, shape (n_docs + 1,): document d is word_ids[doc_ptr[d]:doc_ptr[d+1]]
    word_ids.npy    int32, shape (n_tokens,)

The ``.npy`` files are memory-mapped, so a rank touches only its token-balanced document range
(:mod:`lda_sketch.distributed.partition`). The directory is written atomically (temporary
directory, then rename): an interrupted write never leaves a corpus that looks complete.
"""
from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import rng
from .._version import __version__
from ..exceptions import CorruptDataError, InputFormatError
from ..limits import MAX_ARRAY_FILE_BYTES, MAX_TEXT_BYTES
from . import safe_read
from .atomic import atomic_directory
from .safe_read import REMEDY_CORPUS

CORPUS_FORMAT = "lda_sketch.corpus"
CORPUS_FORMAT_VERSION = 1


@dataclass
class Corpus:
    """Documents as CSR arrays of word ids.

    ``doc_ptr`` int64 (n_docs+1,), ``word_ids`` int32 (n_tokens,), ids in ``[0, n_vocab)``.
    ``vocab`` maps id -> word (None under feature hashing, where ``reverse_map`` gives display
    strings). ``doc_offset`` is the global index of the first document (non-zero for a shard).
    """

    doc_ptr: np.ndarray
    word_ids: np.ndarray
    n_vocab: int
    vocab: list[str] | None = None
    doc_ids: list[str] | None = None
    titles: list[str] | None = None
    reverse_map: dict[int, list[tuple[str, int]]] | None = None
    manifest: dict = field(default_factory=dict)
    doc_offset: int = 0
    token_offset: int = 0

    @property
    def n_docs(self) -> int:
        return int(self.doc_ptr.shape[0] - 1)

    @property
    def n_tokens(self) -> int:
        return int(self.doc_ptr[-1] - self.doc_ptr[0])

    @property
    def hashed(self) -> bool:
        return bool(self.manifest.get("hashed", False))

    def word_counts(self, chunk: int = 1 << 24) -> np.ndarray:
        """int64 (n_vocab,): tokens per word id over the corpus's tokens, read in chunks of
        ``chunk`` tokens (bounded memory for a memory-mapped corpus). Ids outside
        ``[0, n_vocab)`` are not counted."""
        out = np.zeros(self.n_vocab, np.int64)
        w = self.word_ids
        for lo in range(0, int(w.shape[0]), chunk):
            part = np.asarray(w[lo:lo + chunk], np.int64)
            part = part[(part >= 0) & (part < self.n_vocab)]
            out += np.bincount(part, minlength=self.n_vocab)[: self.n_vocab]
        return out

    def doc_lengths(self) -> np.ndarray:
        """int64 (n_docs,)."""
        return np.diff(self.doc_ptr)

    def document(self, d: int) -> np.ndarray:
        """Word ids of document ``d`` (local index)."""
        return self.word_ids[self.doc_ptr[d] - self.doc_ptr[0]:self.doc_ptr[d + 1] - self.doc_ptr[0]]

    def word(self, i: int) -> str:
        """Display string of word id ``i``."""
        if self.vocab is not None:
            return self.vocab[i]
        return hashed_word(self.reverse_map, i)

    @classmethod
    def from_documents(cls, docs, n_vocab: int, vocab=None, **kw) -> "Corpus":
        """Build from a sequence of int arrays (one per document)."""
        lengths = np.array([len(d) for d in docs], np.int64)
        doc_ptr = np.zeros(len(docs) + 1, np.int64)
        np.cumsum(lengths, out=doc_ptr[1:])
        word_ids = (np.concatenate([np.asarray(d, np.int32) for d in docs])
                    if len(docs) else np.zeros(0, np.int32))
        return cls(doc_ptr, word_ids.astype(np.int32), int(n_vocab), vocab, **kw)

    def subset(self, docs: np.ndarray) -> "Corpus":
        """In-memory corpus of the given local document indices (in the given order)."""
        docs = np.asarray(docs, np.int64)
        base = self.doc_ptr[0]
        starts, stops = self.doc_ptr[docs] - base, self.doc_ptr[docs + 1] - base
        doc_ptr = np.zeros(len(docs) + 1, np.int64)
        np.cumsum(stops - starts, out=doc_ptr[1:])
        word_ids = np.empty(doc_ptr[-1], np.int32)
        for i, (a, b) in enumerate(zip(starts, stops)):
            word_ids[doc_ptr[i]:doc_ptr[i + 1]] = self.word_ids[a:b]
        def pick(xs):
            return [xs[i] for i in docs]

        return Corpus(doc_ptr, word_ids, self.n_vocab, self.vocab,
                      pick(self.doc_ids) if self.doc_ids else None,
                      pick(self.titles) if self.titles else None,
                      self.reverse_map, dict(self.manifest))

    @classmethod
    def from_sparse(cls, X, vocab=None) -> "Corpus":
        """From a (n_docs, n_vocab) count matrix, e.g. ``CountVectorizer`` output
        (:func:`lda_sketch.io.convert.from_sparse`)."""
        from .convert import from_sparse
        return cls(**from_sparse(X, vocab))

    @classmethod
    def from_tokens(cls, docs, vocab=None, **pruning) -> "Corpus":
        """From token lists, building or mapping into a vocabulary
        (:func:`lda_sketch.io.convert.from_tokens`)."""
        from .convert import from_tokens
        return cls(**from_tokens(docs, vocab, **pruning))

    @classmethod
    def from_bow(cls, bow_docs, id2word) -> "Corpus":
        """From gensim-style ``[(id, count), ...]`` documents and an id -> word map
        (:func:`lda_sketch.io.convert.from_bow`)."""
        from .convert import from_bow
        return cls(**from_bow(bow_docs, id2word))

    # ------------------------------------------------------------------ disk
    def write(self, path, *, overwrite: bool = False, source=None, preprocessing=None,
              dropped=None) -> Path:
        """Write atomically to directory ``path``; see the module docstring for the layout."""
        return write_corpus(path, self, overwrite=overwrite, source=source,
                            preprocessing=preprocessing, dropped=dropped)

    @classmethod
    def open(cls, path, *, doc_range: tuple[int, int] | None = None, verify: bool = False) -> "Corpus":
        """Memory-map the corpus at ``path``; with ``doc_range=(a, b)`` only documents a..b-1.

        ``verify=True`` also checks the sha256 of every file (reads everything).
        """
        return cls(**_read_corpus_dir(Path(path), doc_range, verify))


def _read_corpus_dir(path: Path, doc_range, verify: bool) -> dict:
    """:meth:`Corpus.open`'s fields, every file read through :mod:`~lda_sketch.io.safe_read`:
    typed manifest keys, ``.npy`` headers checked against the file sizes, the shard's ``doc_ptr``
    monotone and its word ids inside ``[0, n_vocab)``."""
    mpath, rem = path / "manifest.json", REMEDY_CORPUS
    if not mpath.exists():
        raise InputFormatError(
            f"{path} is not an lda_sketch corpus: {mpath.name} is missing. "
            f"Build one with `lda-sketch prep`.")
    manifest = safe_read.read_json(mpath, remedy=rem)
    safe_read.check_format(manifest, mpath, fmt=CORPUS_FORMAT, version=CORPUS_FORMAT_VERSION,
                           kind="corpus", remedy=rem)
    n_docs = safe_read.field(manifest, "n_docs", int, mpath, remedy=rem, lo=0)
    n_vocab = safe_read.field(manifest, "n_vocab", int, mpath, remedy=rem, lo=1)
    if verify:
        files = safe_read.field(manifest, "files", dict, mpath, remedy=rem, default={})
        for name, info in files.items():
            digest = safe_read.field(info, "sha256", str, mpath, remedy=rem, where=f"files.{name}.")
            if Path(name).name != name or _sha256(path / name) != digest:
                raise CorruptDataError(f"{path / name}: sha256 does not match manifest.json; "
                                       f"{rem}.")
    ptr_path, ids_path = path / "doc_ptr.npy", path / "word_ids.npy"
    doc_ptr_all = safe_read.load_npy(ptr_path, max_bytes=MAX_ARRAY_FILE_BYTES, remedy=rem,
                                     mmap=True)
    word_ids_all = safe_read.load_npy(ids_path, max_bytes=MAX_ARRAY_FILE_BYTES, remedy=rem,
                                      mmap=True)
    if doc_ptr_all.shape != (n_docs + 1,) or doc_ptr_all.dtype != np.int64:
        raise CorruptDataError(f"{ptr_path}: expected int64 of shape ({n_docs + 1},) "
                               f"(manifest.json n_docs), got {doc_ptr_all.dtype} "
                               f"{doc_ptr_all.shape}; {rem}.")
    if (word_ids_all.dtype != np.int32 or word_ids_all.ndim != 1 or doc_ptr_all[0] != 0
            or word_ids_all.shape[0] != int(doc_ptr_all[-1])):
        raise CorruptDataError(f"{ids_path}: expected int32 of length doc_ptr[-1] = "
                               f"{int(doc_ptr_all[-1])}, got {word_ids_all.dtype} "
                               f"{word_ids_all.shape}; {rem}.")
    a, b = (0, n_docs) if doc_range is None else (int(doc_range[0]), int(doc_range[1]))
    if not 0 <= a <= b <= n_docs:
        raise ValueError(f"doc_range {doc_range} is outside [0, {n_docs}].")
    doc_ptr = np.array(doc_ptr_all[a:b + 1])
    if (np.diff(doc_ptr) < 0).any():
        raise CorruptDataError(f"{ptr_path}: offsets decrease (documents {a}..{b}); {rem}.")
    word_ids = word_ids_all[doc_ptr[0]:doc_ptr[-1]]
    if word_ids.size and (int(word_ids.min()) < 0 or int(word_ids.max()) >= n_vocab):
        raise CorruptDataError(f"{ids_path}: word ids outside [0, {n_vocab}) (manifest.json "
                               f"n_vocab); {rem}.")
    vocab = None
    if (path / "vocab.txt").exists():
        vocab = safe_read.read_lines(path / "vocab.txt", max_bytes=MAX_TEXT_BYTES, remedy=rem)
        if len(vocab) != n_vocab:
            raise CorruptDataError(f"{path / 'vocab.txt'}: {len(vocab)} words, manifest.json "
                                   f"says n_vocab = {n_vocab}; {rem}.")
    reverse_map = _read_reverse_map(path / "reverse_map.tsv")
    doc_ids = titles = None
    if (path / "docs.tsv").exists():
        lines = safe_read.read_lines(path / "docs.tsv", max_bytes=MAX_TEXT_BYTES,
                                     remedy=rem)[a:b]
        parts = [ln.split("\t", 1) for ln in lines]
        doc_ids = [p[0] for p in parts]
        titles = [p[1] if len(p) > 1 else "" for p in parts]
    return dict(doc_ptr=doc_ptr, word_ids=word_ids, n_vocab=n_vocab, vocab=vocab,
                doc_ids=doc_ids, titles=titles, reverse_map=reverse_map, manifest=manifest,
                doc_offset=a, token_offset=int(doc_ptr[0]))


def hashed_word(reverse_map, i: int) -> str:
    """Display string of hashed id ``i``: its most frequent string, plus the second one joined by
    ``|`` when that is at least a quarter as frequent (a visible collision); ``#i`` if unseen."""
    entries = (reverse_map or {}).get(i)
    if not entries:
        return f"#{i}"
    top = entries[0][1]
    return "|".join(w for w, c in entries[:2] if c * 4 >= top)


def write_corpus(path, corpus: Corpus, *, overwrite=False, source=None, preprocessing=None,
                 dropped=None) -> Path:
    """Write ``corpus`` to the directory ``path`` atomically. Returns the path."""
    path = Path(path)
    doc_ptr = np.ascontiguousarray(corpus.doc_ptr, np.int64)
    doc_ptr = doc_ptr - doc_ptr[0]
    word_ids = np.ascontiguousarray(corpus.word_ids, np.int32)
    if word_ids.shape[0] != doc_ptr[-1]:
        raise ValueError("word_ids length does not match doc_ptr[-1].")
    if word_ids.size and (word_ids.min() < 0 or word_ids.max() >= corpus.n_vocab):
        raise ValueError(f"word ids must lie in [0, {corpus.n_vocab}).")
    with atomic_directory(path, overwrite=overwrite) as tmp:
        np.save(tmp / "doc_ptr.npy", doc_ptr)
        np.save(tmp / "word_ids.npy", word_ids)
        if corpus.vocab is not None:
            (tmp / "vocab.txt").write_text("".join(w + "\n" for w in corpus.vocab), "utf-8")
        if corpus.reverse_map:
            with open(tmp / "reverse_map.tsv", "w", encoding="utf-8") as f:
                for i in sorted(corpus.reverse_map):
                    for w, c in corpus.reverse_map[i]:
                        f.write(f"{i}\t{w}\t{c}\n")
        if corpus.doc_ids is not None or corpus.titles is not None:
            ids = corpus.doc_ids or [str(i) for i in range(corpus.n_docs)]
            titles = corpus.titles or [""] * corpus.n_docs
            with open(tmp / "docs.tsv", "w", encoding="utf-8") as f:
                for i, t in zip(ids, titles):
                    f.write(f"{_clean_field(i)}\t{_clean_field(t)}\n")
        manifest = dict(corpus.manifest)
        manifest.update({
            "format": CORPUS_FORMAT, "format_version": CORPUS_FORMAT_VERSION,
            "n_docs": int(doc_ptr.shape[0] - 1), "n_tokens": int(doc_ptr[-1]),
            "n_vocab": int(corpus.n_vocab),
            "hashed": bool(manifest.get("hashed", corpus.vocab is None)),
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "lda_sketch_version": __version__,
        })
        for k, v in (("source", source), ("preprocessing", preprocessing), ("dropped", dropped)):
            if v is not None:
                manifest[k] = v
        manifest["files"] = {p.name: {"sha256": _sha256(p), "bytes": p.stat().st_size}
                             for p in sorted(tmp.iterdir())}
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True), "utf-8")
    return path


def heldout_split(n_docs: int, n_heldout: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Random split by seed: (train_docs, heldout_docs), both sorted int64 index arrays."""
    if not 0 <= n_heldout <= n_docs:
        raise ValueError(f"The 'n_heldout' parameter must be in [0, {n_docs}]. Got {n_heldout}.")
    key = rng.key_for(seed, rng.STREAM_SPLIT, 0)
    order = np.argsort(rng.uniforms(key, 0, n_docs), kind="stable")
    held = np.sort(order[:n_heldout])
    train = np.sort(order[n_heldout:])
    return train.astype(np.int64), held.astype(np.int64)


def _clean_field(s: str) -> str:
    return str(s).replace("\t", " ").replace("\n", " ").replace("\r", " ")


def _sha256(p: Path) -> str:
    h = hashlib.sha256()
    with open(p, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _read_reverse_map(p: Path):
    if not p.exists():
        return None
    out: dict[int, list[tuple[str, int]]] = {}
    lines = safe_read.read_lines(p, max_bytes=MAX_TEXT_BYTES, remedy=REMEDY_CORPUS)
    for lineno, line in enumerate(lines, 1):
        parts = line.split("\t")
        if len(parts) != 3 or not parts[0].isdigit() or not parts[2].isdigit():
            raise CorruptDataError(f"{p}:{lineno}: expected 'id<TAB>word<TAB>count'; "
                                   f"{REMEDY_CORPUS}.")
        out.setdefault(int(parts[0]), []).append((parts[1], int(parts[2])))
    return out
