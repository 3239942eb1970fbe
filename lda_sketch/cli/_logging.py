"""Logging setup for the CLI: rank 0 logs at INFO, other ranks at WARNING with a ``[rank r/P]`` prefix."""
from __future__ import annotations

import logging
import sys


def configure_logging(verbosity: int = 0, rank: int = 0, size: int = 1) -> None:
    """Configure the root logger once for a CLI process."""
    level = logging.DEBUG if verbosity > 0 else logging.INFO
    if rank != 0:
        level = logging.WARNING
    prefix = f"[rank {rank}/{size}] " if size > 1 else ""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(f"%(asctime)s {prefix}%(levelname)s %(name)s: %(message)s",
                                           "%H:%M:%S"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
