"""Bounded waits in collectives: a stalled rank is named and the job stopped, never a silent hang.

A rank that is alive but never arrives (``SIGSTOP``, a frozen node, an NFS stall, swapping)
would leave every other rank inside a blocking collective forever. ``MPIComm`` therefore
meets the other ranks at a non-blocking barrier before each collective and waits for it with
:func:`wait`: spinning for 2 ms (the ranks of a balanced job meet in that time), then sleeping
between tests (no busy spin). The collective itself then runs non-blocking too, spun on for up
to 1 s (its data moves only while the ranks test it), so a rank stopped inside it is caught as
well. Each rank other than 0 tells rank 0 when it reaches a collective and, while it waits, once
per heartbeat (at most 1 s) that it is still alive: small messages, by which rank 0 names the
ranks it has not heard from (stopped, or still computing).

The bounds (:class:`Liveness`), in seconds:

* ``timeout``: ``[run].stall_timeout`` when set, else ``max(10 × the median iteration,
  120 s)``. Before the first iteration has been timed (set-up, compiling), at least 120 s.
* warning: ``max(3 × the median iteration, 10 s)``, and at most half the timeout.

At the timeout rank 0 logs which ranks are missing, at which collective and since when, and
aborts the job with exit status :data:`STALL_EXIT_STATUS`. The other ranks wait a grace period
longer (so rank 0 is the one that names the missing ranks) and then abort the same way, saying
rank 0 or another rank did not arrive. Checkpoints are written atomically, so the newest one
on disk stays valid (``train --resume``).
"""
from __future__ import annotations

import logging
import os
import statistics
import sys
import time
from collections import deque

log = logging.getLogger(__name__)

#: Exit status of a job stopped because a rank stalled (sysexits' EX_TEMPFAIL: resume it).
STALL_EXIT_STATUS = 75
#: The least timeout the default gives, and the bound before any iteration has been timed.
FLOOR_S = 120.0
#: Spin this long before sleeping between tests of a pending collective.
SPIN_S = 0.002


class Liveness:
    """The waiting bounds of one rank. ``configured`` is ``[run].stall_timeout`` (None: derived
    from the iterations timed by :meth:`observe`)."""

    def __init__(self, configured: float | None = None):
        self.configured = None if configured is None else float(configured)
        self._iterations: deque[float] = deque(maxlen=51)

    def observe(self, seconds: float) -> None:
        """Record one iteration's wall time (the bounds follow the median of the last 51)."""
        self._iterations.append(float(seconds))

    @property
    def median(self) -> float | None:
        return statistics.median(self._iterations) if self._iterations else None

    @property
    def timeout(self) -> float:
        m = self.median
        if m is None:
            return max(self.configured or 0.0, FLOOR_S)
        return self.configured if self.configured is not None else max(10 * m, FLOOR_S)

    @property
    def warn_after(self) -> float:
        return min(max(3 * (self.median or 0.0), 10.0), self.timeout / 2)

    @property
    def heartbeat(self) -> float:
        """Seconds between the "still waiting" messages a waiting rank sends rank 0; a rank
        silent for twice this is named as missing."""
        return min(1.0, self.warn_after / 4)

    @property
    def grace(self) -> float:
        """How much longer a rank other than 0 waits than rank 0 before it aborts."""
        return max(5.0, self.timeout / 4)


def wait(request, *, beat=None, on_warn=None, on_timeout=None, liveness: Liveness,
         grace: float = 0.0, spin_s: float = SPIN_S) -> None:
    """Wait for the MPI ``request``, testing it without sleeping for ``spin_s`` seconds, then
    sleeping between tests. ``beat()`` is called every :attr:`Liveness.heartbeat` seconds of
    waiting (ranks other than 0 say they are alive; rank 0 reads those messages);
    ``on_warn(waited)`` once past the warning, ``on_timeout(waited)`` past the timeout plus
    ``grace`` (it must not return: it aborts the job)."""
    t0 = time.monotonic()
    warned = False
    next_beat = liveness.heartbeat
    while not request.Test():
        waited = time.monotonic() - t0
        if waited < spin_s:
            os.sched_yield()  # free when the cores are idle; lets a co-scheduled rank run
            continue
        if beat is not None and waited > next_beat:
            beat()
            next_beat = waited + liveness.heartbeat
        if not warned and waited > liveness.warn_after + grace:
            warned = True
            if on_warn is not None:
                on_warn(waited)
        if waited > liveness.timeout + grace:
            on_timeout(waited)
            return
        # Sleep at most 2 % of the time waited so far: latency stays small, CPU near zero.
        time.sleep(min(0.05, max(1e-4, 0.02 * waited)))


def report(message: str) -> None:
    """Log ``message``, or print it to stderr when nothing handles the log (the job is about to
    be aborted: it must be seen either way)."""
    if log.hasHandlers():
        log.error(message)  # stream handlers flush each record
    else:
        print(message, file=sys.stderr, flush=True)
