"""``lda-sketch info``: versions of the stack, the MPI library and numba's threading."""
from __future__ import annotations

import platform

from ._command import add_command


NAME = "info"
HELP = """\
print versions of lda_sketch, Python, numpy, numba, mpi4py and the MPI library, and numba's
threading settings"""


def register(sub) -> None:
    p = add_command(sub, NAME, HELP, None, run)


def collect() -> dict:
    """Version and threading facts as a dict (no MPI initialisation beyond mpi4py's import)."""
    import numba
    import numpy
    import scipy

    from .._version import __version__
    out = {"lda_sketch": __version__, "python": platform.python_version(),
           "platform": platform.platform(), "numpy": numpy.__version__, "scipy": scipy.__version__,
           "numba": numba.__version__}
    out.update(_mpi())
    out["numba_num_threads"] = numba.config.NUMBA_NUM_THREADS
    out["numba_threads_in_use"] = numba.get_num_threads()
    try:
        from numba.np.ufunc.parallel import _launch_threads
        _launch_threads()
        out["numba_threading_layer"] = numba.threading_layer()
    except Exception as exc:  # noqa: BLE001
        out["numba_threading_layer"] = f"unknown ({exc})"
    out["numba_cache_dir"] = numba.config.CACHE_DIR or "(next to sources)"
    return out


def _mpi() -> dict:
    """mpi4py's and the MPI library's versions; when MPI cannot load, one line each saying why
    (the first line of the error: mpi4py's runs over several) and what to install."""
    from importlib import metadata

    from ..distributed.comm import mpi_versions

    got = mpi_versions()
    if "mpi_library" in got:
        return got
    lines = got.get("mpi4py", "").removeprefix("unavailable (").splitlines() or ["unknown"]
    try:
        version = metadata.version("mpi4py")
    except metadata.PackageNotFoundError:
        version = "not installed"
    return {"mpi4py": version, "mpi_library": f"unavailable ({lines[0].removesuffix(')')}): "
                                              f"install the 'mpich' extra or a system MPI"}


def run(args) -> int:
    for k, v in collect().items():
        print(f"{k:22s} {v}")
    return 0
