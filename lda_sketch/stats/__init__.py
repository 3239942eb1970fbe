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


def unread_message(section, where: str) -> str | None:
    """``"WHERE: backend 'B' does not read [sketch].KEY = VALUE, ..."`` for the set keys of a
    ``[sketch]`` section its backend does not read (None when it reads every one): reported, so a
    setting is never dropped silently."""
    unread = BACKENDS[section.backend].unread_settings(section)
    if not unread:
        return None
    return f"{where}: backend {section.backend!r} does not read " + ", ".join(
        f"[sketch].{k} = {v!r}" for k, v in unread.items())


def make_stats(backend: str, **params) -> TopicWordStats:
    """Build the backend registered as ``backend`` with keyword ``params``."""
    check_choice(backend, "backend", "make_stats", sorted(BACKENDS))
    return BACKENDS[backend](**params)


from . import dense  # noqa: E402,F401  (each backend module registers itself)
from . import countmin  # noqa: E402,F401
from . import countmin_morris  # noqa: E402,F401

__all__ = ["BACKENDS", "TopicWordStats", "make_stats", "register", "unread_message"]
