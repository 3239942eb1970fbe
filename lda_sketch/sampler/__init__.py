"""Samplers: the fast word-major SCA kernel and the plain SEM reference, over one shard's state."""
from .sca import SCASampler
from .sem import SEMSampler
from .state import ShardState

SAMPLERS = {SCASampler.name: SCASampler, SEMSampler.name: SEMSampler}

__all__ = ["SAMPLERS", "SCASampler", "SEMSampler", "ShardState"]
