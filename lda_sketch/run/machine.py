"""Facts about the machine a measurement ran on (benchmark scripts), and this process's peak memory."""
from __future__ import annotations

import os
import platform
import time
from pathlib import Path


def cpu_model() -> str:
    """The CPU model name from /proc/cpuinfo (else ``platform.processor()`` or "unknown")."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_facts() -> dict:
    """nproc, CPU, platform, Python/numpy/numba versions, load average and UTC date."""
    import numba
    import numpy

    return {"nproc": os.cpu_count(), "cpu": cpu_model(), "platform": platform.platform(),
            "python": platform.python_version(), "numpy": numpy.__version__,
            "numba": numba.__version__, "numba_threads": os.environ.get("NUMBA_NUM_THREADS"),
            "loadavg": list(os.getloadavg()),
            "date": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())}


def peak_rss_mib() -> int:
    """This process's peak resident set size so far, MiB (Linux ``ru_maxrss`` is in KiB)."""
    import resource
    import sys

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(rss // (2**20 if sys.platform == "darwin" else 2**10))


def rss_bytes() -> int:
    """This process's resident set size now, bytes (``/proc/self/statm``; 0 where absent)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return 0
    return pages * os.sysconf("SC_PAGE_SIZE")
