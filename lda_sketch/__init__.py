"""lda_sketch: distributed LDA (SCA sampler) whose word-topic counts live in count-min sketches
of exact or approximate (Morris) counters.

Layers (each depends only on the one below):

* kernels      -- numba functions, arrays in and arrays out (``rng``, ``stats/_kernels`` ...)
* structures   -- classes that own arrays (statistics backends, corpus, sampler state)
* orchestration-- Python API, distributed driver, CLI

Importing this package has no side effects (no MPI, no logging configuration, no compilation).
"""
from ._version import __version__

__all__ = ["__version__", "LDASketch", "load_model"]


def __getattr__(name):  # lazy: `import lda_sketch` stays cheap (PEP 562)
    if name in ("LDASketch", "load_model"):
        from . import model
        return getattr(model, name)
    raise AttributeError(f"module 'lda_sketch' has no attribute {name!r}")
