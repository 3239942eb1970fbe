"""Failure handling across ranks: no job may hang because one rank failed.

* :func:`collective_errors` wraps a block that every rank executes up to a common point (e.g.
  loading a shard). If any rank raises, every rank raises :class:`RankFailedError` carrying the
  failing ranks' messages, so the job ends cleanly and consistently.
* :func:`abort_on_error` is for the training loop, where a rank may fail while others wait in a
  collective: the failing rank logs its error (with its ``[rank r/P]`` prefix) and aborts the
  whole MPI job, which stops every rank within seconds.
"""
from __future__ import annotations

import contextlib
import hashlib
import logging
import sys
import traceback

from ..exceptions import LdaSketchError
from .comm import Comm

log = logging.getLogger(__name__)


class RankFailedError(LdaSketchError, RuntimeError):
    """Raised on every rank when one or more ranks failed inside :func:`collective_errors`."""


@contextlib.contextmanager
def collective_errors(comm: Comm, what: str = "operation"):
    """Run the block on every rank; if any rank raises, raise on all of them (one message per
    distinct error, naming its ranks)."""
    error = None
    try:
        yield
    except Exception as exc:  # noqa: BLE001 - re-raised below on every rank
        error = f"{type(exc).__name__}: {exc}"
        if comm.size == 1:
            raise
    failures = [(r, e) for r, e in enumerate(comm.allgather(error)) if e is not None]
    if failures:
        by_message: dict[str, list[int]] = {}
        for r, e in failures:
            by_message.setdefault(e, []).append(r)
        detail = "; ".join(("rank " if len(rs) == 1 else "ranks ") + ", ".join(map(str, rs))
                           + f": {e}" for e, rs in by_message.items())
        raise RankFailedError(f"{what} failed on {len(failures)} of {comm.size} ranks: {detail}")


@contextlib.contextmanager
def abort_on_error(comm: Comm):
    """On an exception, report it and stop all ranks (``MPI_Abort``) instead of hanging."""
    try:
        yield
    except BaseException as exc:
        if comm.size == 1 or isinstance(exc, SystemExit) and not exc.code:
            raise
        if isinstance(exc, KeyboardInterrupt):  # a forced stop (second signal): no traceback
            if comm.rank == 0:
                print("interrupted", file=sys.stderr, flush=True)
            comm.abort(130)
            raise
        msg = f"[rank {comm.rank}/{comm.size}] fatal: {type(exc).__name__}: {exc}"
        log.error(msg)
        print(msg, file=sys.stderr, flush=True)
        traceback.print_exc(file=sys.stderr)
        sys.stderr.flush()
        comm.abort(1)
        raise


def any_rank(comm: Comm, flag) -> bool:
    """Collective: True on every rank when ``flag`` is true on any rank (one small allreduce).
    Used at each iteration boundary, so a signal that reached some ranks stops them all after
    the same iteration."""
    if comm.size == 1:
        return bool(flag)
    return comm.allreduce_max(1 if flag else 0) > 0


def assert_same_on_all_ranks(comm: Comm, data: bytes, what: str = "data") -> None:
    """Raise on every rank unless ``data`` is byte-identical everywhere (compares SHA-256)."""
    digests = comm.allgather(hashlib.sha256(data).hexdigest())
    if len(set(digests)) != 1:
        raise RankFailedError(f"{what} differs across ranks: " +
                              ", ".join(f"rank {r}: {d[:12]}" for r, d in enumerate(digests)))
