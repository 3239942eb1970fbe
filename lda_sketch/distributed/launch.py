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
