"""Word-topic statistics backends and their registry.

``make_stats(backend, n_topics=..., n_vocab=..., seed=..., **params)`` builds a backend from its
config name; the sampler never names a backend class.
"""
from __future__ import annotations

from .._validation import check_choice
from .base import TopicWordStats

BACKENDS: dict[str, type[TopicWordStats]] = {}


def register(cls: type[TopicWordStats]) -> type[TopicWordStats]:
    """Class decorator: make ``cls`` available under ``cls.backend_id``."""
    BACKENDS[cls.backend_id] = cls
    return cls


def make_stats(backend: str, **params) -> TopicWordStats:
    """Build the backend registered as ``backend`` with keyword ``params``."""
    check_choice(backend, "backend", "make_stats", sorted(BACKENDS))
    return BACKENDS[backend](**params)


from . import dense  # noqa: E402,F401  (each backend module registers itself)
from . import countmin  # noqa: E402,F401
from . import countmin_morris  # noqa: E402,F401

__all__ = ["BACKENDS", "TopicWordStats", "make_stats", "register"]
