"""Finding the MPI launcher. No MPI here: this module never imports mpi4py."""
from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path


def find_mpiexec() -> str | None:
    """``mpiexec`` next to ``sys.executable`` (a venv with the mpich extra), else on PATH."""
    here = Path(sys.executable).parent / "mpiexec"
    if here.is_file() and os.access(here, os.X_OK):
        return str(here)
    return shutil.which("mpiexec")


def rank_pids(launcher_pid: int) -> dict[int, int]:
    """``{rank: pid}`` of the processes a running ``mpiexec`` (pid ``launcher_pid``) started,
    read from ``/proc`` (Linux): its descendants whose environment has ``PMI_RANK``. For
    harnesses that stop or kill one rank (tests, ``scripts/stall_trials.py``)."""
    parent = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                parent[int(d.name)] = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    out = {}
    for pid in parent:
        p, seen = pid, 0
        while p in parent and p != launcher_pid and seen < 64:
            p, seen = parent[p], seen + 1
        if p != launcher_pid or pid == launcher_pid:
            continue
        try:
            env = (Path("/proc") / str(pid) / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        for kv in env:
            if kv.startswith(b"PMI_RANK="):
                out[int(kv[9:])] = pid
    return out
