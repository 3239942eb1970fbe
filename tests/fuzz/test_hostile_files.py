"""Files that are not what they claim: FIFOs, devices, directories, sparse giants, headers that
declare 10^12 elements. Each reader refuses them with the documented error naming the file,
without blocking and without allocating what the header declares."""
from __future__ import annotations

import io
import json
import os
import shutil
import struct
import time
import tracemalloc
import zipfile
import zlib

import numpy as np
import pytest

import _fuzzlib as fl
from _cases import all_cases
from lda_sketch.exceptions import CorruptDataError, InputFormatError
from lda_sketch.io import safe_read

DOCUMENTED = (CorruptDataError, InputFormatError)
# One target per reader: the file replaced, and the case whose loader reads it.
TARGETS = ["stats.bin[dense]", "model.json", "model word_counts.npy", "model vocab.txt",
           "checkpoint.json", "checkpoint rank-0000.npz", "corpus manifest.json",
           "corpus doc_ptr.npy", "corpus word_ids.npy", "corpus vocab.txt", "corpus docs.tsv",
           "hashed reverse_map.tsv", "config TOML"]


def _case(files, name):
    return next(c for c in all_cases(files) if c.fmt == name)


def _refused(case, *, max_peak=16 << 20, max_seconds=10.0):
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        with pytest.raises(DOCUMENTED) as info:
            case.loader()
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert time.perf_counter() - t0 < max_seconds
    assert peak < max_peak, f"{peak:,} bytes allocated"
    assert str(case.target.parent) in str(info.value)
    return str(info.value)


@pytest.fixture
def swapped(fuzz_files):
    """Replace a case's file by something else for the duration of a test."""
    saved = []

    def swap(name, make):
        case = _case(fuzz_files, name)
        backup = case.target.with_name(case.target.name + ".orig")
        os.replace(case.target, backup)
        saved.append((case.target, backup))
        make(case.target)
        return case

    yield swap
    for target, backup in saved:
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        elif target.exists() or target.is_symlink():
            target.unlink()
        os.replace(backup, target)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name", TARGETS)
@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "directory", "sparse-16GiB"])
def test_special_and_giant_files_are_refused_without_blocking(swapped, name, kind):
    def make(p):
        if kind == "fifo":
            os.mkfifo(p)
        elif kind == "dev-zero":
            os.symlink("/dev/zero", p)
        elif kind == "directory":
            p.mkdir()
        else:
            with open(p, "wb") as f:
                f.truncate(16 << 30)
    case = swapped(name, make)
    msg = _refused(case)
    if kind in ("fifo", "dev-zero", "directory"):
        assert "regular file" in msg or "directory" in msg


def _npy_declaring(shape, dtype="<i8") -> bytes:
    header = f"{{'descr': '{dtype}', 'fortran_order': False, 'shape': {shape}, }}"
    header += " " * (63 - (len(header) + 10) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + bytes(64)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name", ["model word_counts.npy", "corpus doc_ptr.npy",
                                  "corpus word_ids.npy"])
def test_npy_header_declaring_10e12_elements_is_refused_before_allocating(swapped, name):
    case = swapped(name, lambda p: p.write_bytes(_npy_declaring("(1000000000000,)")))
    assert "header declares" in _refused(case, max_peak=1 << 20)


@pytest.mark.timeout(60)
def test_npz_member_declaring_10e12_elements_is_refused_before_allocating(swapped):
    def make(p):
        src = p.with_name(p.name + ".orig").read_bytes()
        out = io.BytesIO()
        with zipfile.ZipFile(io.BytesIO(src)) as zin, zipfile.ZipFile(out, "w") as zout:
            for i, info in enumerate(zin.infolist()):
                zout.writestr(info.filename, _npy_declaring("(1000000000000,)") if i == 0
                              else zin.read(info))
        p.write_bytes(out.getvalue())
    case = swapped("checkpoint rank-0000.npz", make)
    assert "header declares" in _refused(case, max_peak=4 << 20)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name", ["stats.bin[dense]", "stats.bin[countmin]", "stats.bin[cmm-8]"])
def test_stats_header_declaring_10e12_elements_is_refused_before_allocating(swapped, name):
    def make(p):
        data = p.with_name(p.name + ".orig").read_bytes()
        hlen = struct.unpack_from("<I", data, 16)[0]
        h = json.loads(data[20:20 + hlen])
        h["arrays"][0]["shape"] = [10**6, 10**6]
        h["params"]["n_vocab"] = 10**6
        new = json.dumps(h).encode()
        body = data[:16] + struct.pack("<I", len(new)) + new + data[20 + hlen:-4]
        p.write_bytes(body + struct.pack("<I", zlib.crc32(body)))
    case = swapped(name, make)
    _refused(case, max_peak=4 << 20)


def test_dense_statistics_with_negative_counts_are_refused(swapped):
    def make(p):
        data = bytearray(p.with_name(p.name + ".orig").read_bytes())
        hlen = struct.unpack_from("<I", data, 16)[0]
        struct.pack_into("<i", data, 20 + hlen, -5)  # the first cell
        body = bytes(data[:-4])
        p.write_bytes(body + struct.pack("<I", zlib.crc32(body)))
    case = swapped("stats.bin[dense]", make)
    assert "negative" in _refused(case)


def test_deeply_nested_json_and_toml_are_refused():
    with pytest.raises(CorruptDataError, match="nested deeper"):
        safe_read.loads_json(fl.DEEP, "x.json")
    with pytest.raises(CorruptDataError, match="nested deeper"):
        safe_read.loads_json("[" * 65 + "]" * 65, "x.json")
    with pytest.raises(InputFormatError, match="x.toml: TOML nested deeper"):
        safe_read.loads_toml("a = " + "[" * 5000 + "]" * 5000, "x.toml", error=InputFormatError)


def test_typed_keys_name_file_and_key():
    with pytest.raises(CorruptDataError, match=r"m.json: key 'fitted.n_vocab' must be a JSON "
                                               r"integer, found string; fix it"):
        safe_read.field({"n_vocab": "7"}, "n_vocab", int, "m.json", where="fitted.",
                        remedy="fix it")
    with pytest.raises(CorruptDataError, match="key 'x' is missing"):
        safe_read.field({}, "x", int, "m.json")
    assert safe_read.field({"a": 2}, "a", float, "m.json") == 2.0
    with pytest.raises(CorruptDataError, match="must be a JSON integer, found boolean"):
        safe_read.field({"a": True}, "a", int, "m.json")


def test_npy_reader_round_trips_and_maps(tmp_path):
    for a in (np.arange(7, dtype=np.int64), np.zeros((3, 0), np.int32),
              np.asfortranarray(np.arange(6.0).reshape(2, 3)), np.array(5, np.uint8)):
        p = tmp_path / "a.npy"
        np.save(p, a)
        for mmap in (False, True):
            b = safe_read.load_npy(p, max_bytes=1 << 20, mmap=mmap)
            assert b.dtype == a.dtype and b.shape == a.shape and (np.asarray(b) == a).all()
    np.save(tmp_path / "o.npy", np.array([1, "a"], object), allow_pickle=True)
    with pytest.raises(CorruptDataError, match="not a plain numeric type"):
        safe_read.load_npy(tmp_path / "o.npy", max_bytes=1 << 20)
