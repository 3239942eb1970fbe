"""A small communicator interface with a serial implementation (MPI implementation: ``MPIComm``).

Everything above this layer takes a ``Comm``; ``SerialComm`` makes it run (and be tested)
without ``mpiexec``. mpi4py is imported lazily, never at import time.
"""
from __future__ import annotations

import base64
import json
import logging
import time

import numpy as np

from .liveness import SPIN_S, STALL_EXIT_STATUS, Liveness, report, wait

#: Tag of the small messages that tell rank 0 which collective a rank has reached.
ARRIVAL_TAG = 7301

log = logging.getLogger(__name__)


class Comm:
    """What the trainer needs from a communicator. All methods are collective, except
    :meth:`iteration_done`."""

    rank: int = 0
    size: int = 1

    def iteration_done(self, iteration: int, seconds: float) -> None:
        """Iteration ``iteration`` ended on this rank after ``seconds`` of wall time: the
        stall bounds follow it (:mod:`~lda_sketch.distributed.liveness`). Not collective."""

    def set_stall_timeout(self, seconds: float | None) -> None:
        """``[run].stall_timeout``: seconds a collective may wait for a rank before the job is
        stopped (None: derived from the iteration time). Not collective."""

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

    Buffers are numpy arrays; small Python objects (error messages, metrics, digests) travel as
    JSON in byte buffers (:func:`encode`: plain data, never code objects).

    Every collective is bounded: the ranks first meet at a non-blocking barrier, then run the
    non-blocking form of the collective, each waited for with the bounds of :attr:`liveness`
    (``[run].stall_timeout``). A rank that stops arriving is named and the job aborted with exit
    status 75 instead of hanging.
    """

    def __init__(self, comm=None):
        from mpi4py import MPI  # lazy: importing lda_sketch never initialises MPI

        self._MPI = MPI
        self._comm = (comm if comm is not None else MPI.COMM_WORLD).Dup()
        self.rank = self._comm.Get_rank()
        self.size = self._comm.Get_size()
        self.liveness = Liveness()
        self._seq = 0  # collectives met so far (the same on every rank)
        self._iteration = None
        now = time.time()
        self._arrived = [(0, now)] * self.size  # rank 0: (collective, time) each rank was last heard
        self._send = (None, np.zeros(1, np.int64))
        self._recv = np.zeros(1, np.int64)

    def iteration_done(self, iteration: int, seconds: float) -> None:
        self._iteration = int(iteration)
        self.liveness.observe(seconds)

    def set_stall_timeout(self, seconds: float | None) -> None:
        self.liveness.configured = None if seconds is None else float(seconds)

    # ------------------------------------------------------------------ liveness
    def _meet(self, what: str) -> str:
        """Wait, bounded, until every rank has reached this collective (``what``); returns the
        description used in messages."""
        self._seq += 1
        where = f"{what}, collective #{self._seq}" + (
            "" if self._iteration is None else f", after iteration {self._iteration}")
        self._wait(self._comm.Ibarrier(), where, spin_s=SPIN_S)
        return where

    def _wait(self, request, where: str, *, spin_s: float = 1.0) -> None:
        """Wait, bounded, for ``request``: the barrier of :meth:`_meet`, or a collective every
        rank has entered (spun on up to 1 s: its data moves only while the ranks test it)."""
        if self.rank == 0:
            self._arrived[0] = (self._seq, time.time())
            wait(request, beat=self._drain, liveness=self.liveness, spin_s=spin_s,
                 on_warn=lambda s: self._slow(where, s, warn=True),
                 on_timeout=lambda s: self._slow(where, s, warn=False))
        else:
            self._tell_root()
            wait(request, beat=self._tell_root, liveness=self.liveness, spin_s=spin_s,
                 grace=self.liveness.grace, on_timeout=lambda s: self._stop(
                     f"[rank {self.rank}/{self.size}] stalled: rank 0 or another rank stopped "
                     f"taking part in {where} for {s:.0f} s"))

    def _tell_root(self) -> None:
        """Rank > 0: tell rank 0 (one small message) that this rank is alive at collective
        ``_seq``; the previous message is long delivered, so nothing here blocks."""
        req, buf = self._send
        if req is not None:
            req.Wait()
        buf[0] = self._seq
        self._send = (self._comm.Isend(buf, dest=0, tag=ARRIVAL_TAG), buf)

    def _drain(self) -> None:
        """Rank 0: read every message waiting from the other ranks."""
        status = self._MPI.Status()
        while self._comm.Iprobe(source=self._MPI.ANY_SOURCE, tag=ARRIVAL_TAG, status=status):
            src = status.Get_source()
            self._comm.Recv(self._recv, source=src, tag=ARRIVAL_TAG)
            self._arrived[src] = (int(self._recv[0]), time.time())

    def _slow(self, where: str, waited: float, *, warn: bool) -> None:
        """Rank 0, past the warning or the timeout: name the ranks not heard from lately."""
        self._drain()
        now = time.time()
        silent = [r for r in range(1, self.size)
                  if now - self._arrived[r][1] > 2 * self.liveness.heartbeat]
        names = ", ".join(
            f"rank {r} (silent for {now - t:.0f} s, since collective #{n} at "
            f"{time.strftime('%H:%M:%S', time.localtime(t))})"
            for r, (n, t) in ((r, self._arrived[r]) for r in silent)) or "no rank is silent"
        m = self.liveness.median
        pace = "" if m is None else f"; the median iteration takes {m:.3g} s"
        if warn:
            log.warning("slow ranks: %s; waiting %.1f s in %s%s (the job stops at %.0f s: "
                        "[run].stall_timeout)", names, waited, where, pace,
                        self.liveness.timeout)
            return
        self._stop(f"[rank 0/{self.size}] stalled: {names}; waited {waited:.0f} s in {where}"
                   f"{pace}; stopping every rank (exit status {STALL_EXIT_STATUS}). "
                   f"Checkpoints on disk are intact: continue with `lda-sketch train --resume "
                   f"RUN_DIR`; raise [run].stall_timeout if this rank is only slow")

    def _stop(self, message: str) -> None:
        report(message)
        self._MPI.COMM_WORLD.Abort(STALL_EXIT_STATUS)

    # ------------------------------------------------------------------ collectives
    # Each is a bounded meeting (_meet), then the non-blocking call waited for by _wait.
    def barrier(self) -> None:
        self._meet("barrier")

    def bcast(self, obj, root: int = 0):
        where = self._meet("bcast")
        data = encode(obj) if self.rank == root else b""
        n = np.array([len(data)], np.int64)
        self._wait(self._comm.Ibcast(n, root=root), where)
        buf = np.frombuffer(data, np.uint8).copy() if self.rank == root else \
            np.empty(int(n[0]), np.uint8)
        self._wait(self._comm.Ibcast(buf, root=root), where)
        return obj if self.rank == root else decode(buf.tobytes())

    def allgather(self, obj) -> list:
        where = self._meet("allgather")
        mine = np.frombuffer(encode(obj), np.uint8)
        sizes = np.zeros(self.size, np.int64)
        self._wait(self._comm.Iallgather(np.array([mine.size], np.int64), sizes), where)
        out = np.empty(int(sizes.sum()), np.uint8)
        offsets = np.concatenate([[0], np.cumsum(sizes)])
        self._wait(self._comm.Iallgatherv(mine, [out, (sizes, offsets[:-1])]), where)
        return [decode(out[offsets[r]:offsets[r + 1]].tobytes()) for r in range(self.size)]

    def allreduce_sum(self, arr: np.ndarray) -> np.ndarray:
        where = self._meet("allreduce_sum")
        self._wait(self._comm.Iallreduce(self._MPI.IN_PLACE, arr, op=self._MPI.SUM), where)
        return arr

    def allreduce_max(self, value):
        where = self._meet("allreduce_max")
        buf = np.array([value], np.float64)
        self._wait(self._comm.Iallreduce(self._MPI.IN_PLACE, buf, op=self._MPI.MAX), where)
        return type(value)(buf[0])

    def allreduce_or(self, arr: np.ndarray) -> np.ndarray:
        where = self._meet("allreduce_or")
        self._wait(self._comm.Iallreduce(self._MPI.IN_PLACE, arr, op=self._MPI.BOR), where)
        return arr

    def alltoallv(self, send: np.ndarray, counts: np.ndarray) -> np.ndarray:
        """Rank r sends ``send[offsets[q]:offsets[q]+counts[q]]`` to rank q and receives its own
        slice (``counts[r]`` items) from every rank. Returns shape (size, counts[rank])."""
        counts = np.asarray(counts, np.int64)
        displs = np.concatenate([[0], np.cumsum(counts)[:-1]])
        where = self._meet("alltoallv")
        recv = np.empty((self.size, int(counts[self.rank])), send.dtype)
        rcounts = np.full(self.size, counts[self.rank], np.int64)
        rdispls = np.arange(self.size, dtype=np.int64) * counts[self.rank]
        self._wait(self._comm.Ialltoallv([send, (counts, displs)],
                                           [recv, (rcounts, rdispls)]), where)
        return recv

    def allgatherv(self, mine: np.ndarray, counts: np.ndarray, out: np.ndarray) -> np.ndarray:
        """Concatenate every rank's ``mine`` (``counts[r]`` items) into ``out`` in rank order."""
        counts = np.asarray(counts, np.int64)
        displs = np.concatenate([[0], np.cumsum(counts)[:-1]])
        where = self._meet("allgatherv")
        self._wait(self._comm.Iallgatherv(mine, [out, (counts, displs)]), where)
        return out

    def abort(self, code: int = 1) -> None:
        """Stop every rank of the job now (used when one rank fails)."""
        self._MPI.COMM_WORLD.Abort(code)


def encode(obj) -> bytes:
    """``obj`` as JSON bytes for an object collective: str, numbers (floats exactly, NaN and
    infinities included), bool, None, lists, dicts with str keys, numpy scalars (as Python
    numbers) and numpy arrays (dtype and shape kept). Tuples arrive as lists."""
    return json.dumps(obj, default=_json_default, separators=(",", ":")).encode()


def decode(data: bytes):
    """The inverse of :func:`encode`."""
    return json.loads(data, object_hook=_json_array)


def _json_default(o):
    if isinstance(o, np.ndarray):
        a = np.ascontiguousarray(o)
        return {"__ndarray__": base64.b64encode(a.tobytes()).decode(), "dtype": a.dtype.str,
                "shape": list(a.shape)}
    if isinstance(o, np.generic):
        return o.item()
    raise TypeError(f"{type(o).__name__} cannot be sent between ranks (JSON types and numpy "
                    f"arrays only)")


def _json_array(d: dict):
    if "__ndarray__" not in d:
        return d
    return np.frombuffer(base64.b64decode(d["__ndarray__"]),
                         np.dtype(d["dtype"])).reshape(d["shape"]).copy()


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
