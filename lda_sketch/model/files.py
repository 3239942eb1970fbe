"""Model files: a directory written atomically, readable without pickle.

Layout of a model directory (format ``lda_sketch.model``, version :data:`MODEL_FORMAT_VERSION`)::

    model.json    {"format", "format_version", "params" (estimator parameters), "config"
                   (resolved run config, if trained from one), "fitted" (n_topics, n_vocab,
                   iteration, n_train_tokens, ...), "arrays" (name -> dtype/shape),
                   "provenance" (versions, git describe, date, corpus manifest sha256),
                   "history" (one dict per evaluation)}
    stats.bin     the statistics backend's LDSK serialization (``stats/serialization.py``)
    vocab.txt     one word per line (absent under feature hashing)
    <name>.npy    plain numeric arrays (e.g. ``word_counts.npy``, ``topic_word.npy``),
                  loaded with ``allow_pickle=False``

A reader refuses a newer ``format_version`` (upgrade lda_sketch) and checks array shapes and
dtypes against ``model.json`` before returning anything.
"""
from __future__ import annotations

import datetime
import hashlib
import json
import platform
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .._version import __version__
from ..exceptions import CorruptDataError
from ..limits import MAX_ARRAY_FILE_BYTES, MAX_TEXT_BYTES
from ..stats.serialization import HEAD_BYTES, declared_size
from ..io import safe_read
from ..io.atomic import atomic_directory
from ..io.safe_read import REMEDY_MODEL

MODEL_FORMAT = "lda_sketch.model"
MODEL_FORMAT_VERSION = 1


@dataclass
class ModelFiles:
    """The parts of a model directory, as plain data."""

    meta: dict
    stats_bytes: bytes  # or, to save, anything with ``write_to(file)`` (a stats ``Packed``)
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    vocab: list[str] | None = None


def save_model_dir(path, files: ModelFiles, *, overwrite: bool = False) -> Path:
    """Write ``files`` to directory ``path`` atomically (see the module docstring)."""
    path = Path(path)
    meta = dict(files.meta)
    meta["format"] = MODEL_FORMAT
    meta["format_version"] = MODEL_FORMAT_VERSION
    meta["arrays"] = {}
    with atomic_directory(path, overwrite=overwrite, what="save") as tmp:
        if hasattr(files.stats_bytes, "write_to"):  # streamed: no copy of the statistics
            with open(tmp / "stats.bin", "wb") as f:
                files.stats_bytes.write_to(f)
        else:
            (tmp / "stats.bin").write_bytes(files.stats_bytes)
        for name, arr in files.arrays.items():
            if not name.isidentifier():
                raise ValueError(f"array name {name!r} is not a plain identifier")
            a = np.ascontiguousarray(arr)
            if a.dtype.kind not in "biuf":
                raise TypeError(f"array {name!r} has dtype {a.dtype}; only numeric arrays "
                                "are stored")
            np.save(tmp / f"{name}.npy", a, allow_pickle=False)
            meta["arrays"][name] = {"dtype": a.dtype.str, "shape": list(a.shape)}
        if files.vocab is not None:
            (tmp / "vocab.txt").write_text("".join(w + "\n" for w in files.vocab), "utf-8")
        (tmp / "model.json").write_text(json.dumps(_jsonable(meta), indent=2), "utf-8")
    return path


def load_model_dir(path) -> ModelFiles:
    """Read a model directory; raises :class:`CorruptDataError` naming the file at fault.

    Every file goes through :mod:`~lda_sketch.io.safe_read` (regular files, sizes before reads,
    typed JSON keys); ``stats.bin``'s header is checked against its size before it is read."""
    path = Path(path)
    mpath = path / "model.json"
    if not mpath.is_file() and not mpath.exists():
        hint = " (a run directory? its model is in RUN_DIR/model)" if (path / "model").is_dir() \
            else ""
        raise CorruptDataError(f"{path} is not an lda_sketch model: {mpath.name} is missing{hint}.")
    meta = safe_read.read_json(mpath, remedy=REMEDY_MODEL)
    safe_read.check_format(meta, mpath, fmt=MODEL_FORMAT, version=MODEL_FORMAT_VERSION,
                           kind="model", remedy=REMEDY_MODEL)
    stats_bytes = safe_read.read_bytes(path / "stats.bin", max_bytes=MAX_ARRAY_FILE_BYTES,
                                       remedy=REMEDY_MODEL, check_prefix=declared_size,
                                       prefix_bytes=HEAD_BYTES)
    arrays = {}
    listed = safe_read.field(meta, "arrays", dict, mpath, remedy=REMEDY_MODEL, default={})
    for name, info in listed.items():
        p = path / f"{name}.npy"
        if not name.isidentifier():
            raise CorruptDataError(f"{mpath}: array name {name!r} is not a plain identifier; "
                                   f"{REMEDY_MODEL}.")
        dtype = safe_read.field(info, "dtype", str, mpath, remedy=REMEDY_MODEL,
                                where=f"arrays.{name}.")
        shape = safe_read.field(info, "shape", list, mpath, remedy=REMEDY_MODEL,
                                where=f"arrays.{name}.")
        a = safe_read.load_npy(p, max_bytes=MAX_ARRAY_FILE_BYTES, remedy=REMEDY_MODEL)
        if a.dtype.str != dtype or list(a.shape) != shape:
            raise CorruptDataError(f"{p}: expected {dtype} {shape} (model.json), found "
                                   f"{a.dtype.str} {list(a.shape)}; {REMEDY_MODEL}.")
        arrays[name] = a
    vocab = None
    if (path / "vocab.txt").exists():
        vocab = safe_read.read_lines(path / "vocab.txt", max_bytes=MAX_TEXT_BYTES,
                                     remedy=REMEDY_MODEL)
    return ModelFiles(meta, stats_bytes, arrays, vocab)


# --------------------------------------------------------------------------- provenance
def provenance(corpus_manifest: dict | None = None) -> dict:
    """Versions, git describe of the source tree (if any), UTC date and corpus checksum."""
    import numba

    out = {"lda_sketch": __version__, "numpy": np.__version__, "numba": numba.__version__,
           "python": platform.python_version(), "platform": platform.platform(),
           "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
           "git": git_describe()}
    if corpus_manifest is not None:
        out["corpus_manifest_sha256"] = manifest_checksum(corpus_manifest)
        src = corpus_manifest.get("source")
        if src is not None:
            out["corpus_source"] = src
    return out


def manifest_checksum(manifest: dict) -> str:
    """sha256 of a corpus manifest's canonical JSON (its file checksums pin the data)."""
    canon = {k: v for k, v in manifest.items() if k != "created"}
    return hashlib.sha256(json.dumps(_jsonable(canon), sort_keys=True).encode()).hexdigest()


def git_describe() -> str | None:
    """``git describe --always --dirty`` of the package's source tree, or None (installed copy)."""
    here = Path(__file__).resolve().parent
    try:
        r = subprocess.run(["git", "-C", str(here), "describe", "--always", "--dirty", "--tags"],
                           capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return r.stdout.strip() or None if r.returncode == 0 else None


def _jsonable(x):
    """Convert numpy scalars/arrays inside nested containers to JSON types."""
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return x.tolist()
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, Path):
        return str(x)
    if isinstance(x, float) and x != x:
        return None  # JSON has no NaN
    return x
