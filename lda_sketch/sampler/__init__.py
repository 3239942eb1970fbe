"""Samplers over one shard's state (the contract: :class:`~.base.Sampler`) and their registry.

The exact word-major SCA kernel, its collapsed variant (the token's own assignment left out),
its sparse variant (only the topics a document and a word share summed per pair) and the plain
SEM reference.
Each sampler module registers its classes with :func:`register`; nothing names a sampler class
outside this package.
"""
from .base import LAWS, Sampler

SAMPLERS: dict[str, type[Sampler]] = {}


def register(cls: type[Sampler]) -> type[Sampler]:
    """Class decorator: make ``cls`` available under ``cls.name``."""
    SAMPLERS[cls.name] = cls
    return cls


from .init import INITS, initialize_topics  # noqa: E402
from .sca import (SCAAliasSampler, SCACollapsedSampler, SCASampler,  # noqa: E402
                  SCASparseSampler)
from .sem import SEMSampler  # noqa: E402
from .state import ShardState  # noqa: E402

_ORDER = sorted(SAMPLERS.items())  # by name, whatever the import order: sca first
SAMPLERS.clear()
SAMPLERS.update(_ORDER)

__all__ = ["INITS", "LAWS", "SAMPLERS", "SCAAliasSampler", "SCACollapsedSampler",
           "SCASampler", "SCASparseSampler", "SEMSampler", "Sampler", "ShardState",
           "initialize_topics", "register"]
