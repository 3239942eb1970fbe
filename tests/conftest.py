"""Shared fixtures: fixed seeds, shared-data location, numba warm-up, synthetic corpora."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("LDA_SKETCH_SHARED_DATA", REPO.parent / "shared" / "data"))

# tests/mpi is collective: it runs only under mpiexec (see tests/test_mpi_suite.py).
collect_ignore = [] if os.environ.get("LDA_SKETCH_UNDER_MPI") else ["mpi"]


def _seeds():
    """Fixed seed 0 by default; LDA_SKETCH_TEST_SEEDS="0-19" sweeps seeds to catch lucky passes."""
    spec = os.environ.get("LDA_SKETCH_TEST_SEEDS", "0")
    if "-" in spec:
        a, b = spec.split("-")
        return list(range(int(a), int(b) + 1))
    return [int(s) for s in spec.split(",")]


@pytest.fixture(params=_seeds())
def seed(request):
    return request.param


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Path of ../shared/data; tests that need it are skipped with a reason when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data not found at {SHARED_DATA} (set LDA_SKETCH_SHARED_DATA)")
    return SHARED_DATA


@pytest.fixture(scope="session", autouse=True)
def _numba_warmup():
    """Compile (or load from numba's cache) the hot kernels once, so tests time work, not JIT."""
    from lda_sketch.run import warmup
    warmup.run()


@pytest.fixture
def rng_np(seed):
    return np.random.default_rng(seed)
