"""numba's thread count for a block of work (results never depend on it; speed does)."""
from __future__ import annotations

import contextlib

from ..exceptions import InputFormatError


@contextlib.contextmanager
def numba_threads(n_threads: int | None):
    """Run the block with ``numba.set_num_threads(n_threads)``; restore the old count after.

    ``None`` leaves numba's setting alone. Values above ``NUMBA_NUM_THREADS`` raise a clear
    error naming the remedy.
    """
    if n_threads is None:
        yield
        return
    import numba

    limit = numba.config.NUMBA_NUM_THREADS
    if not 1 <= n_threads <= limit:
        raise InputFormatError(
            f"n_threads={n_threads} but numba was started with at most {limit} threads; lower "
            f"n_threads or set NUMBA_NUM_THREADS={n_threads} in the environment.")
    old = numba.get_num_threads()
    numba.set_num_threads(n_threads)
    try:
        yield
    finally:
        numba.set_num_threads(old)
