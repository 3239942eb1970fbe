"""Samplers over one shard's state: the exact word-major SCA kernel, its collapsed variant (the
token's own assignment left out), its exact rejection variant (head topics summed, the rest by
rejection), its sparse variant (only the topics a document and a word share summed per pair)
and the plain SEM reference."""
from .init import INITS, initialize_topics
from .sca import SCACollapsedSampler, SCARejectionSampler, SCASampler, SCASparseSampler
from .sem import SEMSampler
from .state import ShardState

SAMPLERS = {SCASampler.name: SCASampler, SCACollapsedSampler.name: SCACollapsedSampler,
            SCARejectionSampler.name: SCARejectionSampler,
            SCASparseSampler.name: SCASparseSampler, SEMSampler.name: SEMSampler}

__all__ = ["INITS", "SAMPLERS", "SCACollapsedSampler", "SCARejectionSampler", "SCASampler",
           "SCASparseSampler", "SEMSampler", "ShardState", "initialize_topics"]
