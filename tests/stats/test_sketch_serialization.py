"""Serialized sketches: truncated, bit-flipped, re-sealed or foreign bytes raise CorruptDataError,
never crash and never allocate more than the bytes at hand."""
from __future__ import annotations

import json
import struct
import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lda_sketch import rng
from lda_sketch.exceptions import CorruptDataError
from lda_sketch.stats import serialization
from lda_sketch.stats.countmin import CountMinStats
from lda_sketch.stats.countmin_morris import CountMinMorrisStats
from lda_sketch.stats._hash_kernels import seed_hash

SKETCHES = {
    "countmin": lambda: CountMinStats(3, 50, n_hashes=2, n_buckets=16, seed=9),
    "countmin-cu": lambda: CountMinStats(3, 50, n_hashes=2, n_buckets=16, seed=9,
                                         conservative=True),
    "cmm": lambda: CountMinMorrisStats(3, 50, n_hashes=2, n_buckets=16, seed=9),
    "cmm-16": lambda: CountMinMorrisStats(3, 50, n_hashes=2, n_buckets=16, seed=9, counter_bits=16,
                                          counter_base=1.001),
}


def filled(name):
    s = SKETCHES[name]()
    g = np.random.default_rng(1)
    s.add(g.integers(0, 50, 200), g.integers(0, 3, 200), g.integers(1, 30, 200),
          key=rng.key_for(1, rng.STREAM_COUNTER, 0))
    return s


def reseal(body: bytes) -> bytes:
    """Append a valid CRC, so the checks behind the checksum are exercised too."""
    return body + struct.pack("<I", zlib.crc32(body))


def with_header(data: bytes, edit) -> bytes:
    """Re-encode the JSON header through ``edit(header) -> header`` and reseal."""
    _, _, _, seedh, hlen = struct.unpack_from("<4sHHQI", data, 0)
    header = json.loads(data[20:20 + hlen])
    new = json.dumps(edit(header), sort_keys=True).encode()
    fixed = struct.pack("<4sHHQI", b"LDSK", 1, 0, seedh, len(new))
    return reseal(fixed + new + data[20 + hlen:-4])


@pytest.mark.parametrize("name", sorted(SKETCHES))
def test_round_trip_and_expected_seed(name):
    s = filled(name)
    data = s.serialize()
    assert type(s).deserialize(data, seed=9).serialize() == data
    with pytest.raises(CorruptDataError, match="expected seed 10"):
        type(s).deserialize(data, seed=10)
    with pytest.raises(CorruptDataError, match="for backend"):
        (CountMinMorrisStats if isinstance(s, CountMinStats) else CountMinStats).deserialize(data)


@pytest.mark.parametrize("name", sorted(SKETCHES))
def test_structured_corruptions_are_named(name):
    s = filled(name)
    data = s.serialize()
    cls = type(s)
    cases = [
        ("seed_hash", reseal(data[:8] + struct.pack("<Q", seed_hash(9) ^ 1) + data[16:-4])),
        ("seed_hash", with_header(data, lambda h: {**h, "params": {**h["params"], "seed": 10}})),
        ("'n_buckets' parameter", with_header(
            data, lambda h: {**h, "params": {**h["params"], "n_buckets": 1000}})),
        ("unexpected", with_header(data, lambda h: {**h, "params": {**h["params"], "x": 1}})),
        ("parameters need", with_header(
            data, lambda h: {**h, "params": {**h["params"], "n_buckets": 2**30}})),
        ("arrays 'cells' and 'n_k'", with_header(
            data, lambda h: {**h, "arrays": [{**a, "name": "z" + a["name"]}
                                             for a in h["arrays"]]})),
    ]
    for what, bad in cases:
        with pytest.raises(CorruptDataError, match=what):
            cls.deserialize(bad)
    # negative totals (and negative int32 cells) are not counts
    n_k_at = len(data) - 4 - s.n_k.nbytes
    neg = reseal(data[:n_k_at] + np.full(3, -1, np.int64).tobytes())
    with pytest.raises(CorruptDataError, match="n_k must be non-negative"):
        cls.deserialize(neg)


@pytest.mark.parametrize("name", sorted(SKETCHES))
@settings(max_examples=40, deadline=None, derandomize=True)
@given(cut=st.integers(0, 10**6), pos=st.integers(0, 10**6), bit=st.integers(0, 7),
       sealed=st.booleans())
def test_truncated_or_flipped_bytes_raise_corrupt_data(name, cut, pos, bit, sealed):
    data = filled(name).serialize()
    cls = CountMinStats if name.startswith("countmin") else CountMinMorrisStats
    with pytest.raises(CorruptDataError):
        cls.deserialize(data[: cut % len(data)])
    i = pos % len(data)
    flipped = bytearray(data)
    flipped[i] ^= 1 << bit
    flipped = bytes(flipped)
    if sealed and i < len(data) - 4:
        flipped = reseal(flipped[:-4])  # defeat the CRC: deeper checks must still hold
    try:
        obj = cls.deserialize(flipped)
    except CorruptDataError:
        return
    # a flip the format cannot detect (a cell value, a code) yields a valid, same-sized sketch
    assert sealed and obj.cells.nbytes == filled(name).cells.nbytes
    assert obj.params() == filled(name).params()


@settings(max_examples=60, deadline=None, derandomize=True)
@given(blob=st.binary(min_size=0, max_size=300))
def test_foreign_bytes_raise_corrupt_data(blob):
    for cls in (CountMinStats, CountMinMorrisStats):
        with pytest.raises(CorruptDataError):
            cls.deserialize(blob)
        with pytest.raises(CorruptDataError):
            cls.deserialize(b"LDSK" + blob)
        with pytest.raises(CorruptDataError):
            cls.deserialize(reseal(b"LDSK\x01\x00\x00\x00" + blob))


def test_huge_declared_arrays_are_refused_without_allocating():
    s = filled("cmm")
    data = s.serialize()
    huge = with_header(data, lambda h: {**h, "params": {**h["params"], "n_buckets": 2**31,
                                                        "n_topics": 65535, "n_hashes": 32},
                                        "arrays": [{**a, "shape": [32, 2**31, 65535]}
                                                   if a["name"] == "cells" else a
                                                   for a in h["arrays"]]})
    with pytest.raises(CorruptDataError):
        CountMinMorrisStats.deserialize(huge)
    assert serialization.FORMAT_VERSION == 2


def test_format_version_is_the_lowest_that_describes_the_sketch():
    """Sketches without a support structure keep writing version 1 (byte-identical to older
    files); a support array needs version 2, which older readers refuse by version."""
    import struct

    plain = CountMinMorrisStats(4, 10, n_buckets=16)
    with_support = CountMinMorrisStats(4, 10, n_buckets=16, support="exact")
    assert struct.unpack_from("<H", plain.serialize(), 4)[0] == 1
    assert struct.unpack_from("<H", with_support.serialize(), 4)[0] == 2
    data = bytearray(with_support.serialize())
    struct.pack_into("<H", data, 4, 3)
    data[-4:] = struct.pack("<I", zlib.crc32(bytes(data[:-4])))
    with pytest.raises(CorruptDataError, match="version 3 is newer"):
        CountMinMorrisStats.deserialize(bytes(data))
