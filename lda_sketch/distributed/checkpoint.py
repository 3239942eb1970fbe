"""The collective checkpoint write: every rank writes its file, rank 0 the metadata, and the
directory appears under its final name only once all have succeeded (format:
:mod:`lda_sketch.io.checkpoint`). Any rank's failure raises the same ``OSError`` on every rank.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from ..io.atomic import write_text_atomic
from ..io.checkpoint import (CHECKPOINT_DIR, CHECKPOINT_FORMAT, CHECKPOINT_FORMAT_VERSION,
                             checkpoint_name, flatten_state, list_checkpoints, write_npz)
from .comm import SerialComm


def save_checkpoint(run_dir, iteration: int, engine_state: dict, driver_state: dict, *,
                    comm=None, keep: int | None = None) -> Path:
    """Collective: every rank writes its ``engine_state``; rank 0 writes ``driver_state``.

    Keeps the ``keep`` newest checkpoints (all if None). Returns the checkpoint path.
    """
    comm = comm or SerialComm()
    root = Path(run_dir) / CHECKPOINT_DIR
    final = root / checkpoint_name(iteration)
    tmp = root / f".{final.name}.partial"
    arrays, scalars = flatten_state(engine_state)
    error = None
    if comm.rank == 0:
        try:
            root.mkdir(parents=True, exist_ok=True)
            for stale in root.glob(".iter-*.partial"):  # this one, or one a killed job left
                shutil.rmtree(stale, ignore_errors=True)
            tmp.mkdir()
        except OSError as exc:
            error = _why(exc, tmp)
    _agree(comm, [comm.bcast(error)], final, tmp)
    error = None
    try:
        write_npz(tmp / f"rank-{comm.rank:04d}.npz", arrays)
    except OSError as exc:
        error = _why(exc, tmp / f"rank-{comm.rank:04d}.npz")
    gathered = comm.allgather((error, {"scalars": scalars, "arrays": sorted(arrays)}))
    _agree(comm, [e for e, _ in gathered], final, tmp)
    error = None
    if comm.rank == 0:
        try:
            meta = {"format": CHECKPOINT_FORMAT, "format_version": CHECKPOINT_FORMAT_VERSION,
                    "iteration": int(iteration), "n_ranks": comm.size, "driver": driver_state,
                    "ranks": {str(r): info for r, (_, info) in enumerate(gathered)}}
            write_text_atomic(tmp / "checkpoint.json", json.dumps(meta, indent=1))
            if final.exists():
                shutil.rmtree(final)
            tmp.rename(final)
        except OSError as exc:
            error = _why(exc, final)
        if error is None and keep is not None:
            for old in list_checkpoints(run_dir)[:-keep]:
                shutil.rmtree(old, ignore_errors=True)
    _agree(comm, [comm.bcast(error)], final, tmp)
    return final


def _why(exc: OSError, path) -> tuple[int, str]:
    return (exc.errno or 5, f"{exc.filename or path}: {exc.strerror or exc}")


def _agree(comm, errors, final: Path, tmp: Path) -> None:
    """Raise the same ``OSError`` on every rank if any error (the same list on every rank) is
    set; the partial directory is removed first, so a failed write (a full disk) leaves
    nothing behind."""
    errors = [e for e in errors if e]
    if errors:
        if comm.rank == 0:
            shutil.rmtree(tmp, ignore_errors=True)
        raise OSError(errors[0][0], f"checkpoint {final.name} not written ("
                      + "; ".join(e[1] for e in errors) + "); the partial checkpoint was removed "
                      "and the previous ones are intact: free space, then continue with "
                      "--resume", str(final))
