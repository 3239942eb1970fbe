"""Training checkpoints: everything needed to continue a run bitwise, without pickle.

Layout (inside a run directory)::

    checkpoints/iter-000030/
        checkpoint.json    {"format", "format_version", "iteration", "n_ranks", "driver": {...},
                            "ranks": {"0": {"scalars": {...}, "arrays": [...]}, ...}}
        rank-0000.npz      rank r's Engine.state_dict arrays (np.savez, loaded allow_pickle=False)

``state_dict`` values may be numpy arrays, bytes (stored as uint8), Python ints/floats/bools/str
and nested dicts of those (flattened with ``/``). A checkpoint directory appears under its final
name only once every rank has written its file (temporary directory, barrier, rename by rank 0),
so the newest ``iter-*`` directory is always complete.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np

from ..exceptions import CorruptDataError
from .atomic import write_text_atomic

CHECKPOINT_FORMAT = "lda_sketch.checkpoint"
CHECKPOINT_FORMAT_VERSION = 1
_DIR = "checkpoints"


def checkpoint_name(iteration: int) -> str:
    return f"iter-{iteration:06d}"


def list_checkpoints(run_dir) -> list[Path]:
    """Complete checkpoint directories of ``run_dir``, oldest first."""
    d = Path(run_dir) / _DIR
    if not d.is_dir():
        return []
    return sorted(p for p in d.iterdir()
                  if p.is_dir() and p.name.startswith("iter-") and (p / "checkpoint.json").exists())


def latest_checkpoint(run_dir) -> Path | None:
    cks = list_checkpoints(run_dir)
    return cks[-1] if cks else None


def save_checkpoint(run_dir, iteration: int, engine_state: dict, driver_state: dict, *,
                    comm=None, keep: int | None = None) -> Path:
    """Collective: every rank writes its ``engine_state``; rank 0 writes ``driver_state``.

    Keeps the ``keep`` newest checkpoints (all if None). Returns the checkpoint path.
    """
    from ..distributed.comm import SerialComm

    comm = comm or SerialComm()
    root = Path(run_dir) / _DIR
    final = root / checkpoint_name(iteration)
    tmp = root / f".{final.name}.partial"
    if comm.rank == 0:
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
    comm.barrier()
    arrays, scalars = _flatten(engine_state)
    np.savez(tmp / f"rank-{comm.rank:04d}.npz", **arrays)
    rank_info = comm.allgather({"scalars": scalars, "arrays": sorted(arrays)})
    if comm.rank == 0:
        meta = {"format": CHECKPOINT_FORMAT, "format_version": CHECKPOINT_FORMAT_VERSION,
                "iteration": int(iteration), "n_ranks": comm.size, "driver": driver_state,
                "ranks": {str(r): info for r, info in enumerate(rank_info)}}
        write_text_atomic(tmp / "checkpoint.json", json.dumps(meta, indent=1))
        if final.exists():
            shutil.rmtree(final)
        tmp.rename(final)
        if keep is not None:
            for old in list_checkpoints(run_dir)[:-keep]:
                shutil.rmtree(old, ignore_errors=True)
    comm.barrier()
    return final


def load_checkpoint(path, *, rank: int = 0, n_ranks: int = 1) -> tuple[dict, dict]:
    """Return ``(engine_state, driver_state)`` of ``rank`` from checkpoint directory ``path``."""
    path = Path(path)
    mpath = path / "checkpoint.json"
    try:
        meta = json.loads(mpath.read_text("utf-8"))
    except FileNotFoundError:
        raise CorruptDataError(f"{mpath} is missing: not a complete checkpoint.") from None
    except ValueError as exc:
        raise CorruptDataError(f"{mpath}: not valid JSON ({exc}).") from None
    if meta.get("format") != CHECKPOINT_FORMAT:
        raise CorruptDataError(f"{mpath}: not an lda_sketch checkpoint.")
    if int(meta.get("format_version", 0)) > CHECKPOINT_FORMAT_VERSION:
        raise CorruptDataError(f"{mpath}: checkpoint format version {meta['format_version']} is "
                               f"newer than this lda_sketch reads; upgrade lda_sketch.")
    if int(meta["n_ranks"]) != n_ranks:
        raise CorruptDataError(
            f"{path}: written by {meta['n_ranks']} rank(s), resuming with {n_ranks}; resume with "
            f"`mpirun -n {meta['n_ranks']}` (each rank's topic assignments are in its own file).")
    info = meta["ranks"][str(rank)]
    npz_path = path / f"rank-{rank:04d}.npz"
    try:
        with np.load(npz_path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except FileNotFoundError:
        raise CorruptDataError(f"{npz_path} is missing.") from None
    except ValueError as exc:
        raise CorruptDataError(f"{npz_path}: unreadable ({exc}).") from None
    if sorted(arrays) != sorted(info["arrays"]):
        raise CorruptDataError(f"{npz_path}: arrays {sorted(arrays)} do not match "
                               f"checkpoint.json {sorted(info['arrays'])}.")
    return _unflatten(arrays, info["scalars"]), meta["driver"]


def _flatten(d: dict, prefix: str = ""):
    arrays, scalars = {}, {}
    for k, v in d.items():
        if "/" in str(k):
            raise ValueError(f"state key {k!r} must not contain '/'")
        name = f"{prefix}{k}"
        if isinstance(v, dict):
            a, s = _flatten(v, name + "/")
            arrays.update(a)
            scalars.update(s)
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
