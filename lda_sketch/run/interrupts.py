"""Interrupts of a training run: a signal sets a flag, the loop stops at an iteration boundary.

``lda-sketch train`` installs :func:`catch_signals` for SIGINT (Ctrl-C), SIGTERM (``kill``,
Slurm at the time limit) and SIGUSR1 (Slurm's ``--signal=USR1@SECONDS``). The handler only sets a
flag; :func:`~lda_sketch.run.train.train_run` asks at every iteration boundary whether any rank has
it set (one small allreduce, :func:`~lda_sketch.distributed.collective.any_rank`), so every rank
stops after the same iteration. The run then writes a checkpoint of that iteration (always, even
with ``output.checkpoint_every = 0``), raises :class:`Interrupted`, and the command prints one
line (rank 0) and exits with :data:`EXIT_INTERRUPTED` (130, for all three signals). A second
signal while stopping raises ``KeyboardInterrupt`` at once (writes stay atomic, so the newest
complete checkpoint is still the one to resume from).
"""
from __future__ import annotations

import atexit
import contextlib
import functools
import signal
import threading

from ..exceptions import LdaSketchError

#: Exit status of an interrupted command (128 + SIGINT), whichever signal stopped it.
EXIT_INTERRUPTED = 130
#: The signals that stop a run cleanly.
SIGNALS = tuple(getattr(signal, n) for n in ("SIGINT", "SIGTERM", "SIGUSR1") if hasattr(signal, n))


class Interrupted(LdaSketchError):
    """A run stopped by a signal at an iteration boundary, after writing its checkpoint."""

    def __init__(self, iteration: int, run_dir, signum: int = 0):
        self.iteration, self.run_dir, self.signum = int(iteration), run_dir, int(signum)
        super().__init__(f"interrupted at iteration {self.iteration}; resume with "
                         f"lda-sketch train --resume {run_dir}")


class StopFlag:
    """Set by a signal handler (or by hand); :attr:`signum` is the first signal received."""

    def __init__(self):
        self.signum = 0

    def __bool__(self) -> bool:
        return self.signum != 0

    def set(self, signum: int = signal.SIGINT) -> None:
        self.signum = self.signum or int(signum)

    def _handler(self, signum, frame):
        if self.signum:  # a second signal: stop now
            raise KeyboardInterrupt
        self.set(signum)


def is_interrupt(exc: BaseException) -> bool:
    """True for ``KeyboardInterrupt``, or an exception caused by one (numba kernels turn a
    ``KeyboardInterrupt`` raised inside them into ``SystemError ... returned a result with an
    exception set``)."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, KeyboardInterrupt):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


@contextlib.contextmanager
def catch_signals(flag: StopFlag | None = None, *, ignore_at_exit: bool = False):
    """Route :data:`SIGNALS` to ``flag`` (a new :class:`StopFlag` if None) inside the block;
    the previous handlers are restored on exit. ``ignore_at_exit=True`` (a command) also ignores
    them once the interpreter starts shutting down: Python resets its own handlers to the
    default action then, and a signal arriving during that second would turn a finished run into
    a killed one. Outside the main thread it does nothing."""
    flag = flag if flag is not None else StopFlag()
    if threading.current_thread() is not threading.main_thread():
        yield flag
        return
    old = {s: signal.signal(s, flag._handler) for s in SIGNALS}
    if ignore_at_exit:
        atexit.register(ignore_signals)
    try:
        yield flag
    finally:
        for s, h in old.items():
            signal.signal(s, h if h is not None else signal.SIG_DFL)


@contextlib.contextmanager
def sigterm_as_interrupt():
    """Inside the block SIGTERM raises ``KeyboardInterrupt`` as Ctrl-C does, so a command
    stopped by ``kill`` (or a scheduler) unwinds: temporary files are removed and it exits with
    :data:`EXIT_INTERRUPTED` and one line. Outside the main thread it does nothing."""
    term = getattr(signal, "SIGTERM", None)
    if term is None or threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.signal(term, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(term, old)


_PENDING: list[StopFlag] = []  # the flags of the deferred_interrupt blocks now open


def pending() -> bool:
    """Whether a Ctrl-C has arrived inside an open :func:`deferred_interrupt` block (a loop asks
    this at its boundaries to stop early)."""
    return any(_PENDING)


def deferred_interrupt(func):
    """Decorator of an API entry point: during the call Ctrl-C (SIGINT) and SIGTERM only set a
    flag, so they never land inside a numba kernel (which turns them into ``SystemError``) or
    halfway through a write; loops stop at their next boundary (:func:`pending`). The call then
    raises ``KeyboardInterrupt`` (SIGINT), or ends the process by SIGTERM's default action
    (SIGTERM), its objects consistent and its temporary files removed. A second signal acts at
    once. Each signal is left alone outside the main thread or when someone else (``lda-sketch
    train``, the application) handles it."""
    @functools.wraps(func)
    def call(*args, **kwargs):
        if threading.current_thread() is not threading.main_thread():
            return func(*args, **kwargs)
        ours = [s for s, default in ((signal.SIGINT, signal.default_int_handler),
                                     (getattr(signal, "SIGTERM", None), signal.SIG_DFL))
                if s is not None and signal.getsignal(s) is default]
        if not ours:
            return func(*args, **kwargs)
        flag = StopFlag()
        old = {s: signal.signal(s, flag._handler) for s in ours}
        _PENDING.append(flag)
        try:
            out = func(*args, **kwargs)
        finally:
            _PENDING.remove(flag)
            for s, h in old.items():
                signal.signal(s, h)
        if flag.signum == getattr(signal, "SIGTERM", None):
            signal.raise_signal(flag.signum)  # the default action, now that all is consistent
        if flag:
            raise KeyboardInterrupt
        return out
    return call


def ignore_signals() -> None:
    """Ignore :data:`SIGNALS` from now on (main thread only): for a process whose outcome is
    settled."""
    if threading.current_thread() is threading.main_thread():
        for s in SIGNALS:
            signal.signal(s, signal.SIG_IGN)
