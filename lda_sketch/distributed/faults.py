"""Fault injection for the tests that check one rank's failure stops the whole job.

With ``LDA_SKETCH_FAIL_RANK=r`` and ``LDA_SKETCH_FAIL_AT_ITER=t`` in the environment, rank ``r``
raises after iteration ``t`` (tests/integration/test_mpi_faults.py). Unset in normal use.
"""
from __future__ import annotations

import os

FAULT_ENV = ("LDA_SKETCH_FAIL_RANK", "LDA_SKETCH_FAIL_AT_ITER")


def injected_fault_iteration(rank: int) -> int | None:
    """The iteration after which this rank must fail, or None (the usual case)."""
    r, t = (os.environ.get(k) for k in FAULT_ENV)
    return int(t) if r is not None and t is not None and int(r) == rank else None


def raise_injected(iteration: int) -> None:
    raise RuntimeError(f"injected failure after iteration {iteration} "
                       f"({FAULT_ENV[0]}/{FAULT_ENV[1]} test hook)")
