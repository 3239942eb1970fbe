"""Memory per rank and bytes merged per iteration: the formula of docs/DISTRIBUTED.md.

Used by ``lda-sketch train --dry-run`` (with the corpus and config at hand), by
``scripts/memory_plan.py`` (for cluster-sized scenarios) and by ``scripts/scale_memory.py``
(which measures peak RSS against it)::

    per rank = stats_bytes                           (one copy: rebuilt in place each iteration)
             + min(stats_bytes, ROUND_BYTES) if P > 1 (merge round: receive / reduction buffer)
             + (6 + 16 * pairs/token) * N/P          (z + tok_perm, (doc, word) pair index)
             + 6 * min(L, K)/L * N/P                 (n_dk, L = tokens per document)
             + 24 * triples/token * N/P              (word-topic triple buffer)
             + 40 * words_per_rank + 40 * D/P        (per-word and per-document index)
             + 4 * N/P + 8 * D/P                     (the corpus pages of the shard)
             + 24 * V                                (word counts)
             + 16 * K * min(4096, words_per_rank)    (estimate buffers: sampler, log-likelihood)
             + BLOCK_BYTES                           (phi rows of a block of held-out documents)
             + sampler index (sca-sparse only):      14 * min(L, K)/L * N/P + 8 * pairs
                                                     + 12 * ceil(K/64) * D/P (L >= K/64)
                                                     + 32 * ceil(K/64) * min(4096, words)
    bytes sent per rank per merge = 2 (P - 1) / P * stats_bytes

The process adds its interpreter, numpy, numba and MPI (about 150-250 MiB) and short-lived
temporaries; ``scripts/scale_memory.py`` records peak RSS against these bytes.

The per-token ratios default to those measured on the shared Wikipedia articles
(``scripts/memory_plan.py --measure``): 0.6 (doc, word) pairs and 0.3 triple slots per token.
"""
from __future__ import annotations

#: Measured defaults (docs/DISTRIBUTED.md): pairs per token and triple slots per token.
PAIRS_PER_TOKEN = 0.6
TRIPLES_PER_TOKEN = 0.3
#: Words per estimate chunk of the sampler and of the training log-likelihood.
CHUNK_WORDS = 4096


def plan_rank(*, stats_bytes: int, n_tokens: float, n_docs: float, n_vocab: int, n_topics: int,
              n_ranks: int, pairs_per_token: float = PAIRS_PER_TOKEN,
              triples_per_token: float = TRIPLES_PER_TOKEN, sampler: str = "sca") -> dict:
    """Bytes of the arrays one of ``n_ranks`` ranks holds, and sends per merge. All in bytes.

    ``sampler``: a SAMPLERS name; its ``planned_nbytes`` adds the index it keeps.

    Every merge (owner-computes or exact) uses one round buffer of at
    most :data:`~lda_sketch.distributed.merge.ROUND_BYTES` when ``n_ranks > 1`` (the receive
    buffer, or the MPI library's reduction buffer)."""
    from ..distributed.merge import ROUND_BYTES
    from ..evaluation.perplexity import BLOCK_BYTES
    from ..sampler import SAMPLERS

    n = n_tokens / n_ranks
    L = n_tokens / max(n_docs, 1)
    words = min(n_vocab, pairs_per_token * n)
    state = ((6 + 16 * pairs_per_token) * n + 6 * min(L, n_topics) / max(L, 1) * n
             + 24 * triples_per_token * n + 40 * words + 40 * n_docs / n_ranks)
    memmap = 4 * n + 8 * n_docs / n_ranks
    merge = min(stats_bytes, ROUND_BYTES) if n_ranks > 1 else 0
    buffers = 16 * n_topics * min(CHUNK_WORDS, max(words, 1)) + BLOCK_BYTES
    index = SAMPLERS[sampler].planned_nbytes(
        n_tokens=n, n_docs=n_docs / n_ranks, n_topics=n_topics, doc_len=L,
        pairs_per_token=pairs_per_token, chunk_words=min(CHUNK_WORDS, max(words, 1)))
    total = stats_bytes + merge + state + memmap + 24 * n_vocab + buffers + index
    return {"stats_bytes": int(stats_bytes), "state_bytes": int(state),
            "memmap_bytes": int(memmap), "merge_buffer_bytes": int(merge),
            "word_counts_bytes": int(24 * n_vocab), "buffers_bytes": int(buffers),
            "sampler_index_bytes": int(index),
            "per_rank_bytes": int(total), "arrays_bytes": int(total),
            "bytes_sent_per_merge": int(2 * (n_ranks - 1) / n_ranks * stats_bytes)}
