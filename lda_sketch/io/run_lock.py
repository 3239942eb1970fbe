"""One writer per run directory: an exclusive advisory lock on ``RUN_DIR/.lda_sketch.lock``.

``fcntl.flock`` on a lock file inside the directory; the file records the holder (host, pid,
start time, command), so a second writer is refused at once with a message that names it. The
kernel releases the lock when its holder exits, however it exits, so a lock left by a killed
writer never blocks the next one (the next writer logs whose lock it took over). On release
the file is removed; an acquirer checks, after locking, that the path still names the file it
locked (a removal in between means another writer came first: it tries again). On NFS, Linux
maps ``flock`` to byte-range locks, which NFSv4 servers honour across hosts. Readers never lock.
"""
from __future__ import annotations

import contextlib
import datetime
import json
import logging
import os
import socket
import sys
from pathlib import Path

from ..exceptions import LdaSketchError

try:  # POSIX; elsewhere runs are not locked (one line is logged)
    import fcntl
except ImportError:  # pragma: no cover - not on the supported platforms
    fcntl = None

log = logging.getLogger(__name__)

LOCK_NAME = ".lda_sketch.lock"


class RunLockedError(LdaSketchError, OSError):
    """Another process is writing the run directory; the message names it."""


def _holder(text: str) -> dict:
    try:
        info = json.loads(text)
        return info if isinstance(info, dict) else {}
    except ValueError:
        return {}


def _describe(info: dict) -> str:
    if not info:
        return "another process (it has not recorded itself yet)"
    return (f"pid {info.get('pid')} on {info.get('host')} since {info.get('started')} "
            f"({info.get('command', '?')})")


#: Lock files this process holds (resolved paths): a writer inside a run this process is
#: training (its model save) does not take the run's lock a second time.
_HELD: set[Path] = set()


@contextlib.contextmanager
def writer_lock(target, *, what: str = "write"):
    """Hold the lock that guards writing the directory ``target`` (:func:`atomic_directory
    <lda_sketch.io.atomic.atomic_directory>` takes it): the run lock of its parent when the
    parent is a run directory (``RUN/model`` while ``RUN`` trains), else a lock file beside it
    (``.NAME.lda_sketch.lock``, so two exports or saves to one place exclude each other), and
    ``target``'s own run lock when it holds one. Locks this process holds already are kept."""
    target = Path(target)
    parent = target.parent
    if (parent / "resolved_config.toml").is_file() or (parent / LOCK_NAME).exists():
        locks = [(parent, LOCK_NAME, parent)]
    else:
        locks = [(parent, f".{target.name}{LOCK_NAME}", target)]
    if (target / LOCK_NAME).exists():
        locks.append((target, LOCK_NAME, target))
    with contextlib.ExitStack() as stack:
        for where, name, subject in locks:
            if (where / name).resolve() not in _HELD:
                stack.enter_context(run_lock(where, what=what, name=name, subject=subject))
        yield


@contextlib.contextmanager
def run_lock(run_dir, *, what: str = "write", name: str = LOCK_NAME, subject=None):
    """Hold the run directory's writer lock (file ``name`` in it) for the block; raise
    :class:`RunLockedError` at once, naming ``subject`` (default: the directory) and the
    holder, if another process holds it. Creates the directory if needed; a directory the lock
    created and that holds nothing else when the block ends is removed again."""
    run_dir = Path(run_dir)
    subject = run_dir if subject is None else subject
    created = not run_dir.exists()
    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / name
    if fcntl is None:  # pragma: no cover
        log.warning("%s: file locks are not available here; the run is not locked", run_dir)
        yield
        return
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(os.pread(fd, 4096, 0).decode("utf-8", "replace"))
            os.close(fd)
            raise RunLockedError(
                f"{subject} is being written by {_describe(holder)}; wait for it to finish, "
                f"or {what} into another directory") from None
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)  # the file was removed by a releasing writer in between: try again
    try:
        previous = _holder(os.pread(fd, 4096, 0).decode("utf-8", "replace"))
        if previous:
            log.info("%s: took over the lock of %s, which ended without releasing it", run_dir,
                     _describe(previous))
        info = {"host": socket.gethostname(), "pid": os.getpid(),
                "started": datetime.datetime.now(datetime.timezone.utc).isoformat(
                    timespec="seconds"),
                "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]])[:300]}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(info).encode(), 0)
        held = path.resolve()
        _HELD.add(held)
        yield
    finally:
        _HELD.discard(path.resolve())
        with contextlib.suppress(OSError):
            os.unlink(path)
        os.close(fd)  # releases the lock
        if created:
            with contextlib.suppress(OSError):
                run_dir.rmdir()  # only when empty: nothing else was written
