"""Atomic writes: write to a temporary sibling, fsync, then ``os.replace``.

A crash or a full disk never leaves a half-written file or directory under the final name, and
a failed write removes its temporary sibling; the error names the final path. Files and
directories get the modes the process umask gives (``0666``/``0777`` masked), like ``open`` and
``mkdir``: ``mkstemp``/``mkdtemp`` create them ``0600``/``0700`` and would lock a shared run
directory away from the rest of a group.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

from .run_lock import writer_lock


def current_umask() -> int:
    """The process umask (read from ``/proc`` where possible: ``os.umask`` must set it to read it)."""
    with contextlib.suppress(OSError, ValueError):
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def named_error(exc: OSError, path) -> OSError:
    """``exc`` naming ``path`` when it names no file (``np.save``, ``write`` on a full disk)."""
    if exc.filename is not None or exc.errno is None:
        return exc
    return type(exc)(exc.errno, exc.strerror or str(exc), str(path))


def write_bytes_atomic(path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (mode ``0666`` masked by the umask)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~current_umask())
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise named_error(exc, path) from None
        raise


def write_text_atomic(path, text: str) -> None:
    """Write UTF-8 ``text`` to ``path`` atomically."""
    write_bytes_atomic(path, text.encode("utf-8"))


def make_temp_dir(parent, prefix: str, suffix: str = ".partial") -> Path:
    """A new directory under ``parent`` with the umask's mode (``mkdtemp`` makes it ``0700``)."""
    tmp = Path(tempfile.mkdtemp(prefix=prefix, suffix=suffix, dir=parent))
    os.chmod(tmp, 0o777 & ~current_umask())
    return tmp


@contextlib.contextmanager
def atomic_directory(path, *, overwrite: bool = False, what: str = "write"):
    """Yield a temporary directory that is renamed to ``path`` only if the block succeeds.

    If ``path`` exists and ``overwrite`` is false, raise ``FileExistsError`` before doing any work.
    On failure the temporary directory is removed and ``path`` is left untouched; an ``OSError``
    that names no file (a full disk) is re-raised naming ``path``. One writer at a time: the
    block holds :func:`~lda_sketch.io.run_lock.writer_lock` (another writer of ``path``, or of
    the run it is in, raises ``RunLockedError`` at once; ``what`` names the action in it).
    """
    with writer_lock(path, what=what):
        yield from _atomic_directory(Path(path), overwrite)


def _atomic_directory(path: Path, overwrite: bool):
    if path.exists() and not overwrite:
        raise FileExistsError(
            f"{path} already exists; choose another output directory or pass --overwrite.")
    path.parent.mkdir(parents=True, exist_ok=True)
    # Left by a writer of this path that was killed: under the writer lock no one else uses them.
    for stale in [*path.parent.glob(f".{path.name}.*.partial"),
                  *path.parent.glob(f".{path.name}.old-*")]:
        shutil.rmtree(stale, ignore_errors=True)
    tmp = make_temp_dir(path.parent, f".{path.name}.")
    try:
        yield tmp
        if path.exists():
            old = path.with_name(f".{path.name}.old-{os.getpid()}")
            os.replace(path, old)
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(exc, OSError):
            raise named_error(exc, path) from None
        raise
