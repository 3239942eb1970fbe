"""The sampler contract: one shard's transition, a new topic for every token from frozen statistics.

A sampler reads the backend only through :class:`~lda_sketch.stats.base.TopicWordStats`
(``estimate_into``, ``topic_totals``) and the shard's state (:class:`~.state.ShardState`), and
draws every token's uniform from ``(key, global token index)``, so its draws do not depend on the
thread count or the sharding. Samplers of one :attr:`Sampler.law` draw the same conditional
(tests/sampler/test_sampler_contract.py checks each against it by chi-square); they differ in
speed and memory.
"""
from __future__ import annotations

import abc
from typing import ClassVar

#: The conditionals samplers draw, from frozen counts ``n_dk``, ``n_wk``, ``n_k``:
#: ``sca``: ``p(k) ∝ (n_dk + alpha)(n_wk + beta) / (n_k + V beta)`` (the paper's SCA);
#: ``sca-collapsed``: the same with the token's own current assignment left out of all three.
LAWS = ("sca", "sca-collapsed")


class Sampler(abc.ABC):
    """One shard's transition. Subclasses set :attr:`name` and :attr:`law` and implement
    :meth:`sweep`; a sampler with an index beyond the shard state reports its bytes."""

    name: ClassVar[str] = ""
    law: ClassVar[str] = ""

    def __init__(self, state, alpha: float, beta: float):
        self.state = state
        self.alpha = float(alpha)
        self.beta = float(beta)

    def set_alpha(self, alpha: float) -> None:
        """Use ``alpha`` from the next :meth:`sweep` on (hyperparameter optimisation). A sampler
        that derives anything from alpha at construction must override this."""
        self.alpha = float(alpha)

    @abc.abstractmethod
    def sweep(self, stats, key) -> None:
        """Draw a new ``state.z`` for every token from the frozen ``stats`` and the state's
        n_dk. ``key``: the iteration's ``key_for(seed, STREAM_SAMPLER, iteration)``."""

    @property
    def nbytes(self) -> int:
        """Bytes the sampler holds beyond the shard state (indexes, scratch)."""
        return 0

    @classmethod
    def planned_nbytes(cls, *, n_tokens: float, n_docs: float, n_topics: int, doc_len: float,
                       pairs_per_token: float, chunk_words: int) -> float:
        """:attr:`nbytes` planned before allocating, for a shard of ``n_tokens`` tokens in
        ``n_docs`` documents of mean length ``doc_len`` (``run.memory.plan_rank``)."""
        return 0.0

    @classmethod
    def kernels_for(cls, n_topics: int) -> tuple[type["Sampler"], ...]:
        """The sampler classes whose kernels a run of this sampler at ``n_topics`` calls (what a
        warm-up compiles)."""
        return (cls,)

    def diagnostics(self) -> dict:
        """Work counters accumulated since construction (empty where the sampler keeps none)."""
        return {}
