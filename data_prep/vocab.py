"""Vocabulary: pruning by document frequency on the training corpus, fixed vocabularies for
held-out corpora, and feature hashing with a bounded reverse map.

Pruning (``prune``) keeps a word if ``df >= min_df`` and ``df <= max_df_frac * n_docs``, then the
``max_vocab`` most frequent of those. Ids are assigned by decreasing corpus frequency (ties by
the word), so id 0 is the most frequent word. Dropped tokens are counted by the rule that
dropped their word: ``min_df``, ``max_df``, ``max_vocab``.

Feature hashing maps a token to ``blake2b-64(utf8(token)) mod 2**hash_bits`` — a stable hash,
identical across processes and runs (Python's ``hash()`` is salted per process).
"""
from __future__ import annotations

import functools
import hashlib
from pathlib import Path

import numpy as np

from lda_sketch.exceptions import InputFormatError
from lda_sketch.io import safe_read
from lda_sketch.io.safe_read import REMEDY_CORPUS
from lda_sketch.limits import MAX_TEXT_BYTES

#: Drop codes used in remap arrays (``remap[w] = -code``) and their reasons.
DROP_REASONS = {1: "min_df", 2: "max_df", 3: "max_vocab", 4: "oov"}
CODE_OOV = 4


def prune(words: list[str], df: np.ndarray, tf: np.ndarray, n_docs: int, *, min_df: int,
          max_df_frac: float, max_vocab: int | None) -> tuple[np.ndarray, list[str]]:
    """Prune raw ids ``0..len(words)-1``; return (remap int32 (n_raw,), kept words in id order).

    ``remap[w]`` is the new id or ``-code`` (see :data:`DROP_REASONS`).
    """
    n_raw = len(words)
    remap = np.zeros(n_raw, np.int32)
    too_rare = df < min_df
    too_common = df > max_df_frac * n_docs
    remap[too_rare] = -1
    remap[too_common & ~too_rare] = -2
    ok = np.flatnonzero(remap == 0)
    # decreasing frequency, ties by the word: deterministic for any input order
    order = sorted(ok.tolist(), key=lambda w: (-int(tf[w]), words[w]))
    if max_vocab is not None and len(order) > max_vocab:
        remap[np.asarray(order[max_vocab:], np.int64)] = -3
        order = order[:max_vocab]
    remap[np.asarray(order, np.int64)] = np.arange(len(order), dtype=np.int32)
    return remap, [words[w] for w in order]


def load_vocabulary(corpus_dir) -> tuple[list[str] | None, dict]:
    """(vocabulary, manifest) of an existing corpus, or of a trained model (a model directory,
    or a run directory's ``model/``: the vocabulary it was trained on); vocabulary is None for a
    hashed corpus."""
    corpus_dir = Path(corpus_dir)
    mpath = corpus_dir / "manifest.json"
    model_dir = next((d for d in (corpus_dir, corpus_dir / "model")
                      if (d / "model.json").is_file()), None)
    if not mpath.exists() and model_dir is not None:
        return _model_vocabulary(model_dir)
    if not mpath.exists():
        raise InputFormatError(f"--vocab-from {corpus_dir}: not an lda_sketch corpus, model or "
                               f"run directory (no manifest.json or model.json). Build the "
                               f"training corpus first.")
    manifest = safe_read.read_json(mpath, remedy=REMEDY_CORPUS)
    if manifest.get("hashed"):
        return None, manifest
    n_vocab = safe_read.field(manifest, "n_vocab", int, mpath, remedy=REMEDY_CORPUS, lo=1)
    words = safe_read.read_lines(corpus_dir / "vocab.txt", max_bytes=MAX_TEXT_BYTES,
                                 remedy=REMEDY_CORPUS)
    if len(words) != n_vocab:
        raise InputFormatError(f"{corpus_dir / 'vocab.txt'}: {len(words)} words, manifest says "
                               f"{manifest['n_vocab']}.")
    return words, manifest


def _model_vocabulary(model_dir: Path) -> tuple[list[str], dict]:
    vpath = model_dir / "vocab.txt"
    if not vpath.is_file():
        raise InputFormatError(f"--vocab-from {model_dir}: the model has no vocab.txt (it was "
                               f"trained on feature-hashed ids); prepare the documents with "
                               f"--hash-bits and the training corpus's number of bits instead.")
    raw = safe_read.read_bytes(vpath, max_bytes=MAX_TEXT_BYTES, remedy=REMEDY_CORPUS)
    words = safe_read.read_lines(vpath, max_bytes=MAX_TEXT_BYTES, remedy=REMEDY_CORPUS)
    return words, {"n_vocab": len(words),
                   "files": {"vocab.txt": {"sha256": hashlib.sha256(raw).hexdigest()}}}


def stable_hash64(token: str) -> int:
    """64-bit blake2b of the UTF-8 bytes, little-endian; stable across runs and machines."""
    return int.from_bytes(hashlib.blake2b(token.encode("utf-8"), digest_size=8).digest(), "little")


@functools.lru_cache(maxsize=1 << 20)
def _hash_cached(token: str) -> int:
    return stable_hash64(token)


def hashed_id(token: str, hash_bits: int) -> int:
    """Feature-hashing id of ``token`` in ``[0, 2**hash_bits)``."""
    return _hash_cached(token) & ((1 << hash_bits) - 1)


class ReverseMap:
    """Most frequent strings per hashed id, in bounded memory.

    Each id keeps at most ``capacity`` candidate strings with Space-Saving counts: a new string
    evicts the smallest candidate and inherits its count + 1, so a string whose true count
    exceeds ``n_id / capacity`` is always kept. Memory: ``O(distinct ids * capacity)``.
    """

    def __init__(self, capacity: int = 8, top: int = 3):
        self.capacity, self.top = capacity, top
        self._slots: dict[int, dict[str, int]] = {}

    def add(self, i: int, word: str, n: int = 1) -> None:
        slot = self._slots.get(i)
        if slot is None:
            self._slots[i] = {word: n}
        elif word in slot or len(slot) < self.capacity:
            slot[word] = slot.get(word, 0) + n
        else:
            victim = min(slot, key=slot.__getitem__)
            slot[word] = slot.pop(victim) + n

    def result(self) -> dict[int, list[tuple[str, int]]]:
        """id -> [(word, count)] of the ``top`` largest counts, count-descending then word."""
        return {i: sorted(s.items(), key=lambda kv: (-kv[1], kv[0]))[:self.top]
                for i, s in sorted(self._slots.items())}
