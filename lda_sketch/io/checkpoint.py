"""Training checkpoints: everything needed to continue a run bitwise, without pickle.

Layout (inside a run directory)::

    checkpoints/iter-000030/
        checkpoint.json    {"format", "format_version", "iteration", "n_ranks", "driver": {...},
                            "ranks": {"0": {"scalars": {...}, "arrays": [...]}, ...}}
        rank-0000.npz      rank r's Engine.state_dict arrays (np.savez's layout, the statistics
                           streamed in; loaded allow_pickle=False)

``state_dict`` values may be numpy arrays, bytes (stored as uint8), Python ints/floats/bools/str
and nested dicts of those (flattened with ``/``). A checkpoint directory appears under its final
name only once every rank has written its file (temporary directory, barrier, rename by rank 0),
so the newest ``iter-*`` directory is always complete: the collective write is
:func:`lda_sketch.distributed.checkpoint.save_checkpoint`; this module holds the format, the
per-rank file and the reader.
"""
from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from ..exceptions import CorruptDataError
from ..limits import MAX_ARRAY_FILE_BYTES
from . import safe_read
from .safe_read import REMEDY_CHECKPOINT

CHECKPOINT_FORMAT = "lda_sketch.checkpoint"
CHECKPOINT_FORMAT_VERSION = 1
CHECKPOINT_DIR = "checkpoints"


def checkpoint_name(iteration: int) -> str:
    return f"iter-{iteration:06d}"


def list_checkpoints(run_dir) -> list[Path]:
    """Complete checkpoint directories of ``run_dir``, oldest first."""
    d = Path(run_dir) / CHECKPOINT_DIR
    if not d.is_dir():
        return []
    return sorted(p for p in d.iterdir()
                  if p.is_dir() and p.name.startswith("iter-") and (p / "checkpoint.json").exists())


def latest_checkpoint(run_dir) -> Path | None:
    cks = list_checkpoints(run_dir)
    return cks[-1] if cks else None


def load_checkpoint(path, *, rank: int = 0, n_ranks: int = 1) -> tuple[dict, dict]:
    """Return ``(engine_state, driver_state)`` of ``rank`` from checkpoint directory ``path``.

    Every file is read through :mod:`~lda_sketch.io.safe_read`; errors are
    :class:`CorruptDataError` naming the file and the remedy."""
    path = Path(path)
    mpath = path / "checkpoint.json"
    rem = REMEDY_CHECKPOINT
    meta = safe_read.read_json(mpath, remedy=rem)
    safe_read.check_format(meta, mpath, fmt=CHECKPOINT_FORMAT, version=CHECKPOINT_FORMAT_VERSION,
                           kind="checkpoint", remedy=rem)
    written = safe_read.field(meta, "n_ranks", int, mpath, remedy=rem, lo=1)
    if written != n_ranks:
        raise CorruptDataError(
            f"{path}: written by {written} rank(s), resuming with {n_ranks}; resume with "
            f"`mpirun -n {written}` (each rank's topic assignments are in its own file).")
    driver = safe_read.field(meta, "driver", dict, mpath, remedy=rem)
    safe_read.field(driver, "history", list, mpath, remedy=rem, where="driver.")
    safe_read.field(driver, "elapsed", float, mpath, remedy=rem, where="driver.")
    ranks = safe_read.field(meta, "ranks", dict, mpath, remedy=rem)
    info = safe_read.field(ranks, str(rank), dict, mpath, remedy=rem, where="ranks.")
    scalars = safe_read.field(info, "scalars", dict, mpath, remedy=rem, where=f"ranks.{rank}.")
    names = safe_read.field(info, "arrays", list, mpath, remedy=rem, where=f"ranks.{rank}.")
    for name, sc in scalars.items():
        if not isinstance(sc, dict):
            raise CorruptDataError(f"{mpath}: 'ranks.{rank}.scalars.{name}' must be an object; "
                                   f"{rem}.")
    npz_path = path / f"rank-{rank:04d}.npz"
    arrays = safe_read.load_npz(npz_path, max_bytes=MAX_ARRAY_FILE_BYTES, remedy=rem)
    if sorted(arrays) != sorted(str(n) for n in names):
        raise CorruptDataError(f"{npz_path}: arrays {sorted(arrays)} do not match "
                               f"checkpoint.json {sorted(str(n) for n in names)}; {rem}.")
    try:
        return _unflatten(arrays, scalars), driver
    except (TypeError, AttributeError, ValueError):
        raise CorruptDataError(f"{mpath}: the state keys of rank {rank} do not nest; "
                               f"{rem}.") from None


def flatten_state(d: dict, prefix: str = ""):
    arrays, scalars = {}, {}
    for k, v in d.items():
        if "/" in str(k):
            raise ValueError(f"state key {k!r} must not contain '/'")
        name = f"{prefix}{k}"
        if isinstance(v, dict):
            a, s = flatten_state(v, name + "/")
            arrays.update(a)
            scalars.update(s)
        elif hasattr(v, "write_to") and hasattr(v, "nbytes"):  # a stats Packed: streamed
            arrays[name] = v
        elif isinstance(v, np.ndarray):
            if v.dtype.kind not in "biuf":
                raise TypeError(f"state {name!r}: dtype {v.dtype} cannot be stored without pickle")
            arrays[name] = v
        elif isinstance(v, (bytes, bytearray, memoryview)):
            arrays[name] = np.frombuffer(bytes(v), np.uint8)
            scalars[name] = {"type": "bytes"}
        elif isinstance(v, (bool, int, float, str, np.generic)) or v is None:
            scalars[name] = {"value": v.item() if isinstance(v, np.generic) else v}
        else:
            raise TypeError(f"state {name!r}: cannot checkpoint a {type(v).__name__}")
    return arrays, scalars


def write_npz(path, arrays: dict) -> None:
    """``np.savez(path, **arrays)``'s layout (one stored ``.npy`` member per array, zip64), with
    a value that has ``write_to(file)`` and ``nbytes`` (a statistics ``Packed``) written as a
    uint8 array by streaming it: no in-memory copy of multi-GB statistics. ``np.load`` reads
    the file as it reads ``np.savez`` output."""
    with zipfile.ZipFile(path, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for name, val in arrays.items():
            with zf.open(f"{name}.npy", "w", force_zip64=True) as f:
                if isinstance(val, np.ndarray):
                    np.lib.format.write_array(f, val, allow_pickle=False)
                else:
                    np.lib.format.write_array_header_1_0(
                        f, {"descr": "|u1", "fortran_order": False, "shape": (int(val.nbytes),)})
                    val.write_to(f)


def _unflatten(arrays: dict, scalars: dict) -> dict:
    out: dict = {}

    def put(name, value):
        parts = name.split("/")
        node = out
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        node[parts[-1]] = value

    for name, a in arrays.items():
        if scalars.get(name, {}).get("type") == "bytes":
            put(name, a.tobytes())
        else:
            put(name, a)
    for name, s in scalars.items():
        if "value" in s:
            put(name, s["value"])
    return out
