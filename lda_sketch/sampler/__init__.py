"""Samplers: the fast word-major SCA kernel and the plain SEM reference, over one shard's state."""
from .init import INITS, initialize_topics
from .sca import SCASampler
from .sem import SEMSampler
from .state import ShardState

SAMPLERS = {SCASampler.name: SCASampler, SEMSampler.name: SEMSampler}

__all__ = ["INITS", "SAMPLERS", "SCASampler", "SEMSampler", "ShardState", "initialize_topics"]
