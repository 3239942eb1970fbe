"""Golden serialized sketches (format version 1): old bytes must keep loading, and the same stream
must keep producing the same bytes (pins hashing, RNG keying and the increment kernels).

Regenerate only on an intentional change, and then bump the format version or say why:
``LDA_SKETCH_REGEN_GOLDEN=1 python -m pytest tests/stats/test_sketch_golden.py``.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from lda_sketch import rng
from lda_sketch.stats import BACKENDS, make_stats

GOLDEN = Path(__file__).parent / "golden"
K, V = 3, 50
CASES = {
    "countmin": ("countmin", {}),
    "countmin-cu": ("countmin", {"conservative": True}),
    "cmm-independent": ("countmin-morris", {"increment": "independent"}),
    "cmm-correlated": ("countmin-morris", {"increment": "correlated"}),
    "cmm-conservative": ("countmin-morris", {"increment": "correlated", "conservative": True}),
    "cmm-correlated-16bit": ("countmin-morris", {"counter_bits": 16, "counter_base": 1.01}),
}


def build(case: str):
    """A deterministic sketch: arithmetic stream, fixed seed and key (no numpy RNG involved)."""
    backend, extra = CASES[case]
    s = make_stats(backend, n_topics=K, n_vocab=V, n_hashes=2, n_buckets=16, seed=12345, **extra)
    i = np.arange(400, dtype=np.int64)
    s.add((i * 7919) % V, (i * 31) % K, 1 + (i * i) % 97,
          key=rng.key_for(12345, rng.STREAM_COUNTER, 1))
    return s


@pytest.mark.parametrize("case", sorted(CASES))
def test_golden_bytes(case):
    path = GOLDEN / f"stats_v1_{case}.bin"
    s = build(case)
    if os.environ.get("LDA_SKETCH_REGEN_GOLDEN"):
        GOLDEN.mkdir(exist_ok=True)
        path.write_bytes(s.serialize())
    data = path.read_bytes()
    loaded = BACKENDS[CASES[case][0]].deserialize(data)
    assert loaded.serialize() == data
    assert loaded.params() == s.params()
    assert int(loaded.n_k.sum()) == int((1 + (np.arange(400) ** 2) % 97).sum())
    assert s.serialize() == data, "same stream, same key: the sketch bytes changed"


def test_golden_merge_bytes():
    """A Morris merge of two golden-stream sketches is pinned too (Steele–Tristan draws)."""
    path = GOLDEN / "stats_v1_cmm-correlated-merged.bin"
    a, b = build("cmm-correlated"), build("cmm-correlated")
    b.clear()
    i = np.arange(300, dtype=np.int64)
    b.add((i * 13) % V, (i * 5) % K, 1 + (i * 3) % 41,
          key=rng.key_for(12345, rng.STREAM_COUNTER, 2))
    a.merge(b, key=rng.key_for(12345, rng.STREAM_MERGE, 1))
    if os.environ.get("LDA_SKETCH_REGEN_GOLDEN"):
        path.write_bytes(a.serialize())
    assert a.serialize() == path.read_bytes()
