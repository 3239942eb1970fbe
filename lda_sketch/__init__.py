"""lda_sketch: distributed LDA (SCA sampler) whose word-topic counts live in count-min sketches
of exact or approximate (Morris) counters.

Layers (each imports only those below; docs/ARCHITECTURE.md, held to the code by
tests/unit/test_architecture.py):

* orchestration -- the Python API (``api/``), the run driver (``run/``), ``sweep/``, the CLI
* structures    -- classes that own arrays (``stats/`` backends, ``io/`` corpus, ``sampler/``
  state, ``model/`` the trained model, ``distributed/`` the communicator and merge)
* kernels       -- numba functions, arrays in and arrays out (every ``*/_*kernels.py``)
* foundations   -- ``rng``, ``limits``, ``exceptions``, parameter validation

Importing this package has no side effects (no MPI, no logging configuration, no compilation).
"""
from ._version import __version__

__all__ = ["__version__", "LDASketch", "TopicModel", "Corpus", "load_model"]
_LAZY = {"LDASketch": "api.estimator", "load_model": "api.estimator", "TopicModel": "model",
         "Corpus": "io.corpus"}


def __getattr__(name):  # lazy: `import lda_sketch` stays cheap (PEP 562)
    if name in _LAZY:
        import importlib
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'lda_sketch' has no attribute {name!r}")
