"""The one door every file reader goes through: bounded, typed, regular files only.

Every reader of the package (model, checkpoint, corpus, ``stats.bin``, vocabulary, TOML configs)
reads through these functions, so each file is checked the same way before it is used:

* **regular files only**: the file is opened non-blocking and ``fstat``-ed before a byte is read,
  so a FIFO never blocks and a device (``/dev/zero``) is refused;
* **sizes before reading**: the size is compared with a stated maximum (``lda_sketch.limits``)
  before anything is allocated, and exactly that many bytes are read;
* **bounded JSON and TOML**: nesting deeper than :data:`~lda_sketch.limits.MAX_NESTING` is refused,
  the top-level type is checked, and :func:`field` fetches typed keys with a message naming the
  file and key;
* **``.npy`` and ``.npz``**: the array header's ``shape × itemsize`` is compared with the bytes
  that are actually there before the array is allocated; only plain numeric dtypes load; a bad
  zip archive is a :class:`~lda_sketch.exceptions.CorruptDataError`.

Every error is ``error(f"{path}: {what is wrong}; {remedy}")``: the caller states the error type
(``CorruptDataError`` for data files, ``InputFormatError`` for inputs the user writes) and the
remedy (the ``REMEDY_*`` constants).
"""
from __future__ import annotations

import json
import os
import stat
import tomllib
import zipfile

import numpy as np

from .._version import __version__
from ..exceptions import CorruptDataError
from ..limits import MAX_JSON_BYTES, MAX_NESTING, MAX_NPY_HEADER, MAX_ZIP_MEMBERS

REMEDY_CORPUS = "rebuild the corpus with `lda-sketch prep`"
REMEDY_CHECKPOINT = ("resume from an older checkpoint (move this iter-* directory away) or start "
                     "a new run")
REMEDY_MODEL = ("rewrite the model with `lda-sketch train --resume RUN_DIR` (from the run's newest "
                "checkpoint) or start a new run")
REMEDY_CONFIG = "fix the file"

_NUMERIC_KINDS = "biuf"
_MISSING = object()


def _fail(error, path, what: str, remedy: str):
    return error(f"{path}: {what.rstrip('.')}" + (f"; {remedy}." if remedy else ""))


# --------------------------------------------------------------------------- raw bytes
def open_regular(path, *, max_bytes: int, error=CorruptDataError, remedy: str = ""):
    """Open ``path`` for reading if it is a regular file of at most ``max_bytes`` bytes.

    Returns ``(file, size)``. Opened with ``O_NONBLOCK`` and checked with ``fstat`` on the open
    descriptor, so a FIFO cannot block and a file swapped after a check is still caught.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise _fail(error, path, "is missing", remedy) from None
    except IsADirectoryError:
        raise _fail(error, path, "is a directory, not a file", remedy) from None
    except OSError as exc:
        raise _fail(error, path, f"cannot be opened ({exc.strerror})", remedy) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            kind = ("a directory" if stat.S_ISDIR(st.st_mode) else
                    "a FIFO" if stat.S_ISFIFO(st.st_mode) else
                    "a device" if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode) else
                    "a socket" if stat.S_ISSOCK(st.st_mode) else "not a plain file")
            raise _fail(error, path, f"is {kind}, not a regular file", remedy)
        if st.st_size > max_bytes:
            raise _fail(error, path, f"is {st.st_size:,} bytes, more than the {max_bytes:,} "
                                     f"this reader accepts", remedy)
        f = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    return f, int(st.st_size)


def read_exactly(f, n: int, path, *, error=CorruptDataError, remedy: str = "") -> bytes:
    """``n`` bytes from ``f``; a short read (a file truncated while read) raises ``error``."""
    data = f.read(n)
    if len(data) != n:
        raise _fail(error, path, f"truncated: expected {n:,} bytes, read {len(data):,}", remedy)
    return data


def read_bytes(path, *, max_bytes: int, error=CorruptDataError, remedy: str = "",
               check_prefix=None, prefix_bytes: int = 0) -> bytes:
    """The whole content of regular file ``path`` (at most ``max_bytes``).

    ``check_prefix(head) -> int`` (optional) is given the first ``prefix_bytes`` bytes (fewer if
    the file is shorter) and returns the file size the format declares (or raises
    ``CorruptDataError``); a mismatch with the real size is refused before the body is read.
    """
    f, size = open_regular(path, max_bytes=max_bytes, error=error, remedy=remedy)
    with f:
        if check_prefix is not None:
            head = f.read(min(prefix_bytes, size))
            try:
                declared = check_prefix(head)
            except CorruptDataError as exc:
                raise _fail(error, path, str(exc), remedy) from None
            if declared != size:
                raise _fail(error, path, f"the header declares {declared:,} bytes, the file has "
                                         f"{size:,} (truncated or extended)", remedy)
            return head + read_exactly(f, size - len(head), path, error=error, remedy=remedy)
        return read_exactly(f, size, path, error=error, remedy=remedy)


def read_text(path, *, max_bytes: int, error=CorruptDataError, remedy: str = "") -> str:
    """UTF-8 text of ``path`` (at most ``max_bytes``)."""
    raw = read_bytes(path, max_bytes=max_bytes, error=error, remedy=remedy)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _fail(error, path, f"not UTF-8 text (bad byte at offset {exc.start})",
                    remedy) from None


def read_lines(path, *, max_bytes: int, error=CorruptDataError, remedy: str = "") -> list[str]:
    """Lines of a UTF-8 text file, split on ``\\n`` only (a final newline ends the last line)."""
    lines = read_text(path, max_bytes=max_bytes, error=error, remedy=remedy).split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


# --------------------------------------------------------------------------- JSON and TOML
def _depth(obj) -> int:
    """Nesting depth of parsed JSON/TOML (iterative: no recursion of its own)."""
    deepest, stack = 0, [(obj, 1)]
    while stack:
        node, d = stack.pop()
        if isinstance(node, dict):
            deepest = max(deepest, d)
            stack.extend((v, d + 1) for v in node.values())
        elif isinstance(node, list):
            deepest = max(deepest, d)
            stack.extend((v, d + 1) for v in node)
    return deepest


def _bounded(parse, text, path, error, remedy, what: str):
    try:
        obj = parse(text)
    except RecursionError:
        raise _fail(error, path, f"{what} nested deeper than {MAX_NESTING} levels",
                    remedy) from None
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        raise _fail(error, path, f"not valid {what} ({exc})", remedy) from None
    if _depth(obj) > MAX_NESTING:
        raise _fail(error, path, f"{what} nested deeper than {MAX_NESTING} levels", remedy)
    return obj


def loads_json(text, path, *, error=CorruptDataError, remedy: str = "", kind=dict):
    """Parse JSON ``text`` (from ``path``, for messages) with bounded nesting; the top-level value
    must be a ``kind`` (``dict``, ``list``, or ``None`` for any)."""
    obj = _bounded(json.loads, text, path, error, remedy, "JSON")
    if kind is not None and not isinstance(obj, kind):
        raise _fail(error, path, f"expected a JSON {_type_name(kind)}, found "
                                 f"{_type_name(type(obj))}", remedy)
    return obj


def read_json(path, *, max_bytes: int = MAX_JSON_BYTES, error=CorruptDataError, remedy: str = "",
              kind=dict):
    """Read and parse a JSON file (see :func:`loads_json`)."""
    return loads_json(read_text(path, max_bytes=max_bytes, error=error, remedy=remedy), path,
                      error=error, remedy=remedy, kind=kind)


def loads_toml(text: str, path, *, error=CorruptDataError, remedy: str = "") -> dict:
    """Parse TOML ``text`` with bounded nesting."""
    return _bounded(tomllib.loads, text, path, error, remedy, "TOML")


def read_toml(path, *, max_bytes: int, error=CorruptDataError, remedy: str = "") -> dict:
    """Read and parse a TOML file (bounded size and nesting)."""
    return loads_toml(read_text(path, max_bytes=max_bytes, error=error, remedy=remedy), path,
                      error=error, remedy=remedy)


_TYPE_NAMES = {dict: "object", list: "array", str: "string", int: "integer", float: "number",
               bool: "boolean", type(None): "null"}


def _type_name(t) -> str:
    if isinstance(t, tuple):
        return " or ".join(_type_name(x) for x in t)
    return _TYPE_NAMES.get(t, getattr(t, "__name__", str(t)))


def field(obj: dict, key: str, kind, path, *, error=CorruptDataError, remedy: str = "",
          default=_MISSING, lo=None, where: str = ""):
    """``obj[key]`` checked to be a ``kind`` (a type or tuple; ``int`` excludes ``bool``,
    ``float`` accepts ints) and, for numbers, ``>= lo``. ``where`` prefixes the key in messages
    (e.g. ``"fitted."``). Missing keys give ``default`` if one is given."""
    name = f"'{where}{key}'"
    if not isinstance(obj, dict):
        raise _fail(error, path, f"{name}: its parent is a {_type_name(type(obj))}, not an object",
                    remedy)
    if key not in obj:
        if default is not _MISSING:
            return default
        raise _fail(error, path, f"key {name} is missing", remedy)
    v = obj[key]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    ok = any((isinstance(v, k) and not (k is int and isinstance(v, bool)))
             or (k is float and isinstance(v, int) and not isinstance(v, bool)) for k in kinds)
    if not ok:
        raise _fail(error, path, f"key {name} must be a JSON {_type_name(kind)}, found "
                                 f"{_type_name(type(v))}", remedy)
    if lo is not None and isinstance(v, (int, float)) and not isinstance(v, bool) and v < lo:
        raise _fail(error, path, f"key {name} must be >= {lo}, found {v}", remedy)
    if kinds == (float,):
        v = float(v)
    return v


def check_format(meta: dict, path, *, fmt: str, version: int, kind: str, remedy: str) -> int:
    """The ``format`` and ``format_version`` keys of a metadata file: ``fmt`` exactly and a
    version from 1 to ``version`` (a newer one asks for a newer lda_sketch). ``kind`` names the
    file's kind in messages ("corpus", "model", ...). Returns the version."""
    found = meta.get("format") if isinstance(meta, dict) else None
    if found != fmt:
        raise _fail(CorruptDataError, path, f"'format' is {str(found)[:80]!r}, expected {fmt!r}",
                    remedy)
    v = field(meta, "format_version", int, path, remedy=remedy, lo=1)
    if v > version:
        raise CorruptDataError(f"{path}: {kind} format version {v} is newer than this "
                               f"lda_sketch ({__version__}) reads (<= {version}); upgrade "
                               f"lda_sketch to read it.")
    return v


# --------------------------------------------------------------------------- .npy and .npz
def _npy_header(f, path, error, remedy):
    """(dtype, shape, fortran_order, header_bytes) of the .npy stream ``f`` at its start."""
    try:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(
                f, max_header_size=MAX_NPY_HEADER)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(
                f, max_header_size=MAX_NPY_HEADER)
        else:
            raise ValueError(f"unsupported .npy format version {version}")
    except Exception as exc:  # noqa: BLE001 - numpy's header parser (ast, tokenize) may raise
        # ValueError, SyntaxError, tokenize.TokenError, RecursionError...: all a bad header
        raise _fail(error, path, f"not a readable .npy array ({type(exc).__name__}: "
                                 f"{str(exc)[:200]})", remedy) from None
    if dtype.hasobject or dtype.kind not in _NUMERIC_KINDS or dtype.subdtype is not None:
        raise _fail(error, path, f"array dtype {dtype} is not a plain numeric type", remedy)
    return dtype, tuple(int(s) for s in shape), bool(fortran)


def _npy_nbytes(dtype, shape) -> int:
    n = dtype.itemsize
    for s in shape:
        n *= s
    return n


def _read_npy_stream(f, size: int, path, error, remedy, mmap: bool = False):
    dtype, shape, fortran = _npy_header(f, path, error, remedy)
    start = f.tell()
    nbytes = _npy_nbytes(dtype, shape)
    if start + nbytes != size:
        raise _fail(error, path, f"the header declares {dtype} {shape} ({nbytes:,} bytes of "
                                 f"data), the file holds {size - start:,}", remedy)
    order = "F" if fortran else "C"
    if mmap:
        if nbytes == 0:
            return np.zeros(shape, dtype, order=order)
        return np.memmap(path, dtype=dtype, mode="r", offset=start, shape=shape, order=order)
    out = np.empty(shape, dtype, order=order)
    view = memoryview(out.reshape(-1, order="A")).cast("B") if nbytes else memoryview(b"")
    got = 0
    while got < nbytes:  # in pieces: a zip member's readinto reads through a temporary
        n = f.readinto(view[got:got + (1 << 26)])
        if not n:
            break
        got += n
    if got != nbytes:
        raise _fail(error, path, f"truncated: expected {nbytes:,} bytes of data, read {got:,}",
                    remedy)
    return out


def load_npy(path, *, max_bytes: int, error=CorruptDataError, remedy: str = "",
             mmap: bool = False) -> np.ndarray:
    """A numeric ``.npy`` array, its declared size checked against the file before allocating;
    ``mmap=True`` maps it read-only instead of reading it."""
    f, size = open_regular(path, max_bytes=max_bytes, error=error, remedy=remedy)
    with f:
        return _read_npy_stream(f, size, path, error, remedy, mmap=mmap)


def load_npz(path, *, max_bytes: int, error=CorruptDataError, remedy: str = "") -> dict:
    """Every member of a ``.npz`` archive as a numeric array (no pickle). Each member's declared
    size is checked against the archive before it is read; a bad archive raises ``error``."""
    f, size = open_regular(path, max_bytes=max_bytes, error=error, remedy=remedy)
    out = {}
    with f:
        try:
            with zipfile.ZipFile(f) as zf:
                infos = zf.infolist()
                if len(infos) > MAX_ZIP_MEMBERS:
                    raise _fail(error, path, f"{len(infos)} members, more than "
                                             f"{MAX_ZIP_MEMBERS}", remedy)
                total = 0
                for info in infos:
                    name = info.filename
                    if not name.endswith(".npy") or name[:-4] in out:
                        raise _fail(error, path, f"unexpected or duplicate member {name!r}", remedy)
                    total += info.file_size
                    if info.compress_type != zipfile.ZIP_STORED or total > size:
                        raise _fail(error, path, f"member {name!r} declares {info.file_size:,} "
                                                 f"bytes (compressed or larger than the archive)",
                                    remedy)
                    member = f"{path}[{name}]"
                    with zf.open(info) as mf:  # read into the array: no bytes copy
                        out[name[:-4]] = _read_npy_stream(mf, info.file_size, member, error,
                                                          remedy)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError,
                NotImplementedError, UnicodeDecodeError, OverflowError) as exc:
            if isinstance(exc, error):
                raise
            raise _fail(error, path, f"not a readable .npz archive ({type(exc).__name__}: "
                                     f"{exc})", remedy) from None
    return out
