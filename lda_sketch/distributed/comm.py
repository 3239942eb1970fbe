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

    def allreduce_or(self, arr: np.ndarray) -> np.ndarray:
        """Elementwise bitwise OR of an unsigned integer array across ranks, in place."""
        raise NotImplementedError

    def alltoallv(self, send: np.ndarray, counts: np.ndarray) -> np.ndarray:
        """Personalised exchange of contiguous slices; returns (size, counts[rank])."""
        raise NotImplementedError

    def allgatherv(self, mine: np.ndarray, counts: np.ndarray, out: np.ndarray) -> np.ndarray:
        """Concatenate every rank's slice into ``out`` in rank order."""
        raise NotImplementedError

    def abort(self, code: int = 1) -> None:
        """Stop the whole job (all ranks) immediately."""
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

    def allreduce_or(self, arr: np.ndarray) -> np.ndarray:
        return arr

    def alltoallv(self, send: np.ndarray, counts: np.ndarray) -> np.ndarray:
        return send[: int(counts[0])].reshape(1, -1).copy()

    def allgatherv(self, mine: np.ndarray, counts: np.ndarray, out: np.ndarray) -> np.ndarray:
        out[: mine.shape[0]] = mine
        return out

    def abort(self, code: int = 1) -> None:
        raise SystemExit(code)


class MPIComm(Comm):
    """mpi4py implementation over a duplicate of ``COMM_WORLD`` (or a given communicator).

    Buffers are numpy arrays moved with the upper-case (buffer) calls; small Python objects
    (configs, vocabularies, metrics) use the lower-case calls.
    """

    def __init__(self, comm=None):
        from mpi4py import MPI  # lazy: importing lda_sketch never initialises MPI

        self._MPI = MPI
        self._comm = (comm if comm is not None else MPI.COMM_WORLD).Dup()
        self.rank = self._comm.Get_rank()
        self.size = self._comm.Get_size()

    def barrier(self) -> None:
        self._comm.Barrier()

    def bcast(self, obj, root: int = 0):
        return self._comm.bcast(obj, root=root)

    def allgather(self, obj) -> list:
        return self._comm.allgather(obj)

    def allreduce_sum(self, arr: np.ndarray) -> np.ndarray:
        self._comm.Allreduce(self._MPI.IN_PLACE, arr, op=self._MPI.SUM)
        return arr

    def allreduce_max(self, value):
        return self._comm.allreduce(value, op=self._MPI.MAX)

    def allreduce_or(self, arr: np.ndarray) -> np.ndarray:
        self._comm.Allreduce(self._MPI.IN_PLACE, arr, op=self._MPI.BOR)
        return arr

    def alltoallv(self, send: np.ndarray, counts: np.ndarray) -> np.ndarray:
        """Rank r sends ``send[offsets[q]:offsets[q]+counts[q]]`` to rank q and receives its own
        slice (``counts[r]`` items) from every rank. Returns shape (size, counts[rank])."""
        counts = np.asarray(counts, np.int64)
        displs = np.concatenate([[0], np.cumsum(counts)[:-1]])
        recv = np.empty((self.size, int(counts[self.rank])), send.dtype)
        rcounts = np.full(self.size, counts[self.rank], np.int64)
        rdispls = np.arange(self.size, dtype=np.int64) * counts[self.rank]
        self._comm.Alltoallv([send, (counts, displs)], [recv, (rcounts, rdispls)])
        return recv

    def allgatherv(self, mine: np.ndarray, counts: np.ndarray, out: np.ndarray) -> np.ndarray:
        """Concatenate every rank's ``mine`` (``counts[r]`` items) into ``out`` in rank order."""
        counts = np.asarray(counts, np.int64)
        displs = np.concatenate([[0], np.cumsum(counts)[:-1]])
        self._comm.Allgatherv(mine, [out, (counts, displs)])
        return out

    def abort(self, code: int = 1) -> None:
        """Stop every rank of the job now (used when one rank fails)."""
        self._MPI.COMM_WORLD.Abort(code)


def launched_under_mpi() -> bool:
    """True when this process was started by mpiexec/mpirun/srun with more than one rank."""
    import os

    for var in ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_SIZE", "MPI_LOCALNRANKS"):
        if int(os.environ.get(var, "1") or 1) > 1:
            return True
    return "PMI_RANK" in os.environ or "OMPI_COMM_WORLD_RANK" in os.environ or "PMIX_RANK" in os.environ


def get_comm() -> Comm:
    """``MPIComm`` when launched under an MPI launcher, else ``SerialComm`` (no MPI initialisation)."""
    return MPIComm() if launched_under_mpi() else SerialComm()


def mpi_versions() -> dict:
    """mpi4py's version and the MPI library's (no MPI initialisation beyond mpi4py's import);
    ``{"mpi4py": "unavailable (...)"}`` when it cannot be imported."""
    try:
        import mpi4py
        out = {"mpi4py": mpi4py.__version__}
        from mpi4py import MPI
        out["mpi_library"] = MPI.Get_library_version().strip().splitlines()[0]
        out["mpi_standard"] = "%d.%d" % MPI.Get_version()
        return out
    except Exception as exc:  # noqa: BLE001 - report, don't fail
        return {"mpi4py": f"unavailable ({type(exc).__name__}: {exc})"}
