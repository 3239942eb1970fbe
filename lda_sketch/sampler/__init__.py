"""Samplers over one shard's state: the exact word-major SCA kernel, its exact rejection
variant (head topics summed, the rest by rejection) and the plain SEM reference."""
from .init import INITS, initialize_topics
from .sca import SCARejectionSampler, SCASampler
from .sem import SEMSampler
from .state import ShardState

SAMPLERS = {SCASampler.name: SCASampler, SCARejectionSampler.name: SCARejectionSampler,
            SEMSampler.name: SEMSampler}

__all__ = ["INITS", "SAMPLERS", "SCARejectionSampler", "SCASampler", "SEMSampler", "ShardState",
           "initialize_topics"]
