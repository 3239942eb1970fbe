"""Initial topic assignments: the registry of ``[sampler].init`` rules.

``"sparse"`` (default): each document draws :data:`SPARSE_INIT_TOPICS` random topics and each of
its tokens takes one of them, so documents start with <= 20 topics instead of ~K and the first
sweeps are short. ``"window"``: fastlvm's window, topics ``(h(g) + r) % K`` for
``r < WINDOW_INIT_TOPICS``. ``"uniform"``: uniform random. docs/SAMPLER.md §2 has the
measurement behind the default.
"""
from __future__ import annotations

from ._kernels import init_topics
from .state import ShardState

SPARSE_INIT_TOPICS = 20
WINDOW_INIT_TOPICS = 10
#: init name -> (topics per document (None: K), scatter): see ``_kernels.init_topics``.
INIT_RULES = {"sparse": (SPARSE_INIT_TOPICS, True), "window": (WINDOW_INIT_TOPICS, False),
              "uniform": (None, False)}
INITS = tuple(INIT_RULES)


def initialize_topics(state: ShardState, init: str, key) -> None:
    """Draw ``state.z`` by rule ``init``, keyed by each token's global index (any sharding)."""
    s, K = state, state.n_topics
    window, scatter = INIT_RULES[init]
    init_topics(s.pair_doc, s.pair_tok_ptr, s.tok_perm, s.doc_offset, s.token_offset, key, K,
                min(window or K, K), scatter, s.z)
