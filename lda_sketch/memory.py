"""Memory per rank and bytes merged per iteration: the formula of docs/DISTRIBUTED.md.

Used by ``lda-sketch train --dry-run`` (with the corpus and config at hand) and by
``scripts/memory_plan.py`` (for cluster-sized scenarios)::

    per rank = 2 * stats_bytes                       (frozen + fresh statistics)
             + (6 + 16 * pairs/token) * N/P          (z + tok_perm, (doc, word) pair index)
             + 6 * min(L, K)/L * N/P                 (n_dk, L = tokens per document)
             + 24 * triples/token * N/P              (word-topic triple buffer)
             + 40 * words_per_rank + 40 * D/P        (per-word and per-document index)
             + 4 * N/P + 8 * D/P                     (the corpus pages of the shard)
             + stats_bytes if the merge folds cells  (owner-computes receive buffer)
             + 24 * V                                (word counts)
    bytes sent per rank per merge = 2 (P - 1) / P * stats_bytes

The per-token ratios default to those measured on the shared Wikipedia articles
(``scripts/memory_plan.py --measure``): 0.6 (doc, word) pairs and 0.3 triple slots per token.
"""
from __future__ import annotations

#: Measured defaults (docs/DISTRIBUTED.md): pairs per token and triple slots per token.
PAIRS_PER_TOKEN = 0.6
TRIPLES_PER_TOKEN = 0.3


def plan_rank(*, stats_bytes: int, n_tokens: float, n_docs: float, n_vocab: int, n_topics: int,
              n_ranks: int, folds_cells: bool, pairs_per_token: float = PAIRS_PER_TOKEN,
              triples_per_token: float = TRIPLES_PER_TOKEN) -> dict:
    """Bytes one of ``n_ranks`` ranks holds, and sends per merge. All values in bytes."""
    n = n_tokens / n_ranks
    L = n_tokens / max(n_docs, 1)
    words = min(n_vocab, pairs_per_token * n)
    state = ((6 + 16 * pairs_per_token) * n + 6 * min(L, n_topics) / max(L, 1) * n
             + 24 * triples_per_token * n + 40 * words + 40 * n_docs / n_ranks)
    memmap = 4 * n + 8 * n_docs / n_ranks
    total = 2 * stats_bytes + state + memmap + (stats_bytes if folds_cells else 0) + 24 * n_vocab
    return {"stats_bytes": int(stats_bytes), "state_bytes": int(state),
            "memmap_bytes": int(memmap), "per_rank_bytes": int(total),
            "bytes_sent_per_merge": int(2 * (n_ranks - 1) / n_ranks * stats_bytes)}
