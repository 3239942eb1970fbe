"""Opening raw inputs: compression by magic bytes, byte counting, and errors that name the file."""
from __future__ import annotations

import bz2
import gzip
import io
import os
import zlib
from pathlib import Path

from lda_sketch.exceptions import InputFormatError

_BZ2_MAGIC = b"BZh"
_GZ_MAGIC = b"\x1f\x8b"


class CountingReader(io.RawIOBase):
    """Binary file wrapper that counts the (compressed) bytes read through it."""

    def __init__(self, f):
        self._f = f
        self.n_read = 0

    def readable(self):
        return True

    def readinto(self, b):
        n = self._f.readinto(b)
        self.n_read += n or 0
        return n

    def close(self):
        self._f.close()
        super().close()


def compression_of(path: Path) -> str | None:
    """``'bz2'``, ``'gzip'`` or None, by the file's magic bytes (not its name)."""
    with open(path, "rb") as f:
        head = f.read(3)
    if head.startswith(_BZ2_MAGIC):
        return "bz2"
    if head.startswith(_GZ_MAGIC):
        return "gzip"
    return None


def open_binary(path: Path) -> tuple[io.BufferedIOBase, CountingReader]:
    """Decompressing binary stream of ``path`` and the counter of raw bytes read from disk."""
    raw = CountingReader(open(path, "rb"))
    kind = compression_of(path)
    if kind == "bz2":
        return bz2.BZ2File(raw), raw
    if kind == "gzip":
        return gzip.GzipFile(fileobj=raw), raw
    return io.BufferedReader(raw, 1 << 20), raw


def read_bytes(path: Path) -> bytes:
    """Whole (decompressed) contents of ``path``; truncated or corrupt archives raise."""
    path = Path(path)
    stream, _ = open_binary(path)
    with stream:
        try:
            return stream.read()
        except Exception as exc:  # noqa: BLE001 - translated into one error naming the file
            raise compressed_error(path, exc) from None


def compressed_error(path: Path, exc: Exception) -> InputFormatError:
    """The error for a failure while decompressing ``path``."""
    if isinstance(exc, EOFError):
        return InputFormatError(
            f"{path}: compressed stream ends early ({exc}); the file is truncated. "
            f"Download or copy it again.")
    if isinstance(exc, (OSError, zlib.error, gzip.BadGzipFile)):
        return InputFormatError(f"{path}: corrupt compressed data ({exc}). "
                                f"Check the file with `bzip2 -t` / `gzip -t`.")
    raise exc


def check_text_bytes(path: Path, data: bytes) -> None:
    """Refuse UTF-16/32 and binary data with an error that says what the file looks like."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff") or (len(data) > 3 and data[1:4:2] == b"\x00\x00"
                                                   and data[0:1] != b"\x00"):
        raise InputFormatError(
            f"{path}: looks like UTF-16 text (byte-order mark or NUL every other byte). "
            f"Convert it to UTF-8, e.g. `iconv -f UTF-16 -t UTF-8 IN > OUT`.")
    nul = data.find(b"\x00", 0, 1 << 16)
    if nul >= 0:
        raise InputFormatError(f"{path}: binary data (NUL byte at offset {nul}); "
                               f"expected a text file.")


def decode_utf8(path: Path, data: bytes) -> str:
    """Strict UTF-8 decoding; errors name the line and byte offset."""
    check_text_bytes(path, data)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputFormatError(
            f"{path}:{line}: invalid UTF-8 at byte offset {exc.start} ({exc.reason}). "
            f"Re-encode the file as UTF-8.") from None


def expand_inputs(inputs, *, what: str, patterns=("*",)) -> list[Path]:
    """Files named directly, plus the non-hidden files under named directories whose names
    match one of ``patterns`` (sorted by path)."""
    out: list[Path] = []
    for p in map(Path, inputs):
        if p.is_dir():
            found = sorted({q for pat in patterns for q in p.rglob(pat)
                            if q.is_file() and not any(part.startswith(".")
                                                       for part in q.relative_to(p).parts)})
            if not found:
                raise InputFormatError(f"{p}: directory holds no {what} files.")
            out.extend(found)
        elif p.is_file():
            out.append(p)
        elif not p.exists():
            raise InputFormatError(f"{p}: no such file or directory.")
        else:
            raise InputFormatError(f"{p}: not a regular file.")
    if not out:
        raise InputFormatError(f"no {what} input given.")
    return out


def file_size(path: Path) -> int:
    return os.stat(path).st_size
