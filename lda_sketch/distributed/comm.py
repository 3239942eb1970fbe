"""A small communicator interface with a serial implementation (MPI implementation: ``MPIComm``).

Everything above this layer takes a ``Comm``; ``SerialComm`` makes it run (and be tested)
without ``mpiexec``. mpi4py is imported lazily, never at import time.
"""
from __future__ import annotations

import numpy as np


class Comm:
    """What the trainer needs from a communicator. All methods are collective."""

    rank: int = 0
    size: int = 1

    def barrier(self) -> None:
        raise NotImplementedError

    def bcast(self, obj, root: int = 0):
        """Broadcast a small Python object (config, vocabulary) from ``root``."""
        raise NotImplementedError

    def allgather(self, obj) -> list:
        """Gather a small Python object from every rank, in rank order, on every rank."""
        raise NotImplementedError

    def allreduce_sum(self, arr: np.ndarray) -> np.ndarray:
        """Elementwise integer/float sum across ranks, in place; returns ``arr``."""
        raise NotImplementedError

    def allreduce_max(self, value: float) -> float:
        raise NotImplementedError


class SerialComm(Comm):
    """The one-rank communicator."""

    rank = 0
    size = 1

    def barrier(self) -> None:
        pass

    def bcast(self, obj, root: int = 0):
        return obj

    def allgather(self, obj) -> list:
        return [obj]

    def allreduce_sum(self, arr: np.ndarray) -> np.ndarray:
        return arr

    def allreduce_max(self, value):
        return value
