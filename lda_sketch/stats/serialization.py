"""Versioned binary container for statistics backends (no pickle).

Layout (all integers little-endian)::

    offset  size       field
    0       4          magic  b"LDSK"
    4       2          format_version (uint16): 1, or 2 for a sketch with a topic support
                       array (``"support"``); a reader refuses versions it does not know
    6       2          flags (uint16, reserved = 0)
    8       8          seed_hash (uint64) of the hash functions (0 for hash-free backends)
    16      4          header_len H (uint32): bytes of the JSON header
    20      H          JSON header: {"backend": str, "params": {...},
                                     "arrays": [{"name", "dtype", "shape"}, ...]}
    20+H    sum(nbytes) the arrays' raw bytes, C order, in header order
    end-4   4          CRC-32 of every byte before it

``unpack`` validates the magic, version, declared sizes (before allocating anything), dtypes
(only plain numeric little-endian dtypes are accepted) and checksum, and raises
:class:`~lda_sketch.exceptions.CorruptDataError` naming what is wrong.
"""
from __future__ import annotations

import json
import struct
import zlib

import numpy as np

from ..exceptions import CorruptDataError
from ..io.safe_read import loads_json

MAGIC = b"LDSK"
FORMAT_VERSION = 2  # the newest this module reads and writes
_FIXED = struct.Struct("<4sHHQI")
_ALLOWED_DTYPES = {"<i4", "<i8", "<u1", "<u2", "<u4", "<u8", "<f8", "|u1", "|i1"}
_MAX_HEADER = 1 << 20


def pack(backend: str, params: dict, seed_hash: int, arrays: dict[str, np.ndarray], *,
         version: int = 1) -> bytearray:
    """Serialize ``arrays`` (name -> ndarray) with ``params`` under ``backend``; ``version`` is
    the lowest format version that describes them (1 keeps older files byte-identical).

    Returns a ``bytearray`` (bytes-like; compare, write or ``np.frombuffer`` it without a copy).
    """
    return packed(backend, params, seed_hash, arrays, version=version).to_bytearray()


def packed(backend: str, params: dict, seed_hash: int, arrays: dict[str, np.ndarray], *,
           version: int = 1) -> "Packed":
    """:func:`pack`'s bytes, laid out but not copied: a :class:`Packed` over the arrays."""
    descr, parts = [], []
    for name, arr in arrays.items():
        a = np.ascontiguousarray(arr)
        a = a.astype(a.dtype.newbyteorder("<"), copy=False)
        descr.append({"name": name, "dtype": a.dtype.str, "shape": list(a.shape)})
        parts.append(a)
    header = json.dumps({"backend": backend, "params": params, "arrays": descr},
                        sort_keys=True).encode()
    if not 1 <= version <= FORMAT_VERSION:
        raise ValueError(f"The 'version' parameter of pack must be in [1, {FORMAT_VERSION}]. "
                         f"Got {version}.")
    return Packed(_FIXED.pack(MAGIC, version, 0, int(seed_hash), len(header)) + header, parts)


class Packed:
    """A serialization whose array bytes are the live arrays (views, no copy): :attr:`nbytes`,
    :meth:`write_to` (streams to a file in 64 MiB pieces, CRC computed on the way) and
    :meth:`to_bytearray` (:func:`pack`'s result). A 4 GB dense matrix is written to disk without
    a 4 GB buffer. ``Packed.of_bytes(data)`` wraps bytes that are already serialized.
    Read it before the arrays change: it reflects their contents when it is written."""

    CHUNK = 1 << 26

    def __init__(self, head: bytes, parts: list, *, raw=None):
        self._head, self._parts, self._raw = head, parts, raw
        self.nbytes = (len(raw) if raw is not None
                       else len(head) + sum(int(a.nbytes) for a in parts) + 4)

    @classmethod
    def of_bytes(cls, data) -> "Packed":
        return cls(b"", [], raw=memoryview(data).cast("B"))

    def chunks(self):
        """The serialized bytes, in order, as bytes-like pieces of at most 64 MiB."""
        if self._raw is not None:
            for lo in range(0, len(self._raw), self.CHUNK):
                yield self._raw[lo:lo + self.CHUNK]
            return
        crc = zlib.crc32(self._head)
        yield self._head
        for a in self._parts:
            flat = memoryview(a.reshape(-1).view(np.uint8)).cast("B")
            for lo in range(0, len(flat), self.CHUNK):
                piece = flat[lo:lo + self.CHUNK]
                crc = zlib.crc32(piece, crc)
                yield piece
        yield struct.pack("<I", crc)

    def write_to(self, f) -> int:
        """Write the bytes to binary file ``f``; returns :attr:`nbytes`."""
        for piece in self.chunks():
            f.write(piece)
        return self.nbytes

    def to_bytearray(self) -> bytearray:
        out = bytearray(self.nbytes)
        view, pos = memoryview(out), 0
        for piece in self.chunks():
            view[pos:pos + len(piece)] = piece
            pos += len(piece)
        return out


def unpack(data: bytes, *, expect_backend: str | None = None, copy: bool = True):
    """Inverse of :func:`pack`. Returns ``(backend, params, seed_hash, arrays)``.

    ``copy=False``: arrays in native byte order are views into ``data`` (writable if ``data``
    is), not copies; for a caller that hands its buffer over (a multi-GB checkpoint)."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"Serialized statistics must be bytes. Got {type(data).__name__}.")
    data = memoryview(data).cast("B")  # no copy of a multi-GB buffer
    if len(data) < _FIXED.size + 4:
        raise CorruptDataError(f"Serialized statistics are truncated: {len(data)} bytes.")
    magic, version, _flags, seed_hash, hlen = _FIXED.unpack_from(data, 0)
    if magic != MAGIC:
        raise CorruptDataError(f"Not lda_sketch statistics: magic {magic!r}, expected {MAGIC!r}.")
    if version > FORMAT_VERSION:
        raise CorruptDataError(
            f"Statistics format version {version} is newer than this lda_sketch supports "
            f"({FORMAT_VERSION}); upgrade lda_sketch to read it.")
    if version < 1:
        raise CorruptDataError(f"Invalid statistics format version {version}.")
    (crc,) = struct.unpack_from("<I", data, len(data) - 4)
    if zlib.crc32(data[:-4]) != crc:
        raise CorruptDataError("Serialized statistics fail their CRC-32 check (corrupted or truncated).")
    backend, params, descr = _header(data, hlen, len(data))
    if expect_backend is not None and backend != expect_backend:
        raise CorruptDataError(f"Serialized statistics are for backend {backend!r}, "
                               f"not {expect_backend!r}.")
    pos, end, arrays = _FIXED.size + hlen, len(data) - 4, {}
    for name, dtype, shape, n in descr:
        if pos + n > end:
            raise CorruptDataError(f"Array {name!r} ({n} bytes) runs past the end of the data.")
        arrays[name] = np.frombuffer(data, dtype=dtype, count=n // np.dtype(dtype).itemsize,
                                     offset=pos).reshape(shape).astype(
                                         np.dtype(dtype).newbyteorder("="), copy=copy)
        pos += n
    if pos != end:
        raise CorruptDataError(f"{end - pos} unexpected trailing bytes after the arrays.")
    return backend, params, seed_hash, arrays


#: Bytes :func:`declared_size` needs at most: the fixed fields and the largest JSON header.
HEAD_BYTES = _FIXED.size + _MAX_HEADER


def declared_size(head: bytes) -> int:
    """Total bytes a serialization declares, from its first bytes (up to :data:`HEAD_BYTES`):
    lets a reader compare the header with the file size before reading the arrays."""
    head = memoryview(head).cast("B")
    if len(head) < _FIXED.size:
        raise CorruptDataError(f"Serialized statistics are truncated: {len(head)} bytes.")
    magic, version, _flags, _seed, hlen = _FIXED.unpack_from(head, 0)
    if magic != MAGIC:
        raise CorruptDataError(f"Not lda_sketch statistics: magic {magic!r}, expected {MAGIC!r}.")
    _, _, descr = _header(head, hlen, len(head) + 4)
    return _FIXED.size + hlen + sum(d[3] for d in descr) + 4


def _header(data, hlen: int, size: int):
    """``(backend, params, [(name, dtype, shape, nbytes)])`` of the JSON header, every type and
    size checked (nesting bounded, shapes non-negative ints) before anything is allocated."""
    if hlen > _MAX_HEADER or _FIXED.size + hlen > size - 4:
        raise CorruptDataError(f"Header length {hlen} exceeds the data ({size} bytes).")
    try:
        text = bytes(data[_FIXED.size:_FIXED.size + hlen]).decode()
    except UnicodeDecodeError as exc:
        raise CorruptDataError(f"Unreadable statistics header: {exc}.") from None
    header = loads_json(text, "statistics header")
    backend, params, descr = header.get("backend"), header.get("params"), header.get("arrays")
    if not isinstance(backend, str) or not isinstance(params, dict) or not isinstance(descr, list):
        raise CorruptDataError("Unreadable statistics header: needs 'backend' (string), "
                               "'params' (object) and 'arrays' (array).")
    out = []
    for d in descr:
        ok = (isinstance(d, dict) and isinstance(d.get("name"), str)
              and isinstance(d.get("dtype"), str) and d["dtype"] in _ALLOWED_DTYPES
              and isinstance(d.get("shape"), list) and len(d["shape"]) <= 8
              and all(type(s) is int and s >= 0 for s in d["shape"]))
        if not ok:
            raise CorruptDataError(f"Bad array descriptor {str(d)[:200]}.")
        n = np.dtype(d["dtype"]).itemsize
        for s in d["shape"]:
            n *= s
        out.append((d["name"], d["dtype"], tuple(d["shape"]), n))
    return backend, params, out
