"""Runs the collective suite ``tests/mpi`` under ``mpiexec -n 2`` and ``-n 3`` (uneven shards).

A deadlock becomes a timeout here instead of a hung CI job.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from lda_sketch.distributed.launch import find_mpiexec

HERE = Path(__file__).resolve().parent

pytestmark = pytest.mark.slow


@pytest.mark.skipif(find_mpiexec() is None, reason="no mpiexec found (install the 'mpich' extra)")
@pytest.mark.parametrize("n_ranks", [2, 3])
def test_collective_suite(n_ranks):
    env = dict(os.environ, LDA_SKETCH_UNDER_MPI="1", NUMBA_NUM_THREADS="1")
    cmd = [find_mpiexec(), "-n", str(n_ranks), sys.executable, "-m", "mpi4py", "-m", "pytest",
           str(HERE / "mpi"), "-q", "-p", "no:cacheprovider", "-x"]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-5000:]
