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
             + min(BLOCK_BYTES, 8 K min(V, N_heldout))  (phi rows of a block of held-out docs)
             + sampler index (sca-sparse only):      14 * min(L, K)/L * N/P + 8 * pairs
                                                     + 12 * ceil(K/64) * D/P (L >= K/64)
                                                     + 32 * ceil(K/64) * min(4096, words)
    bytes sent per rank per merge = 2 (P - 1) / P * stats_bytes

The process adds its interpreter and libraries (``runtime_bytes``: about 155 MiB once
``lda_sketch``'s training modules are imported, plus the compiled kernels and, under MPI, the
MPI library) and short-lived temporaries. ``lda-sketch train --dry-run`` measures the first
part in its own process (:func:`runtime_bytes`); ``scripts/memory_plan.py --check`` records the
plan against the peak RSS of real runs.

The per-token ratios default to those measured on the shared Wikipedia articles
(``scripts/memory_plan.py --measure``): 0.6 (doc, word) pairs and 0.3 triple slots per token.
"""
from __future__ import annotations

#: Measured defaults (docs/DISTRIBUTED.md): pairs per token and triple slots per token.
PAIRS_PER_TOKEN = 0.6
TRIPLES_PER_TOKEN = 0.3
#: Words per estimate chunk of the sampler and of the training log-likelihood.
CHUNK_WORDS = 4096
#: Resident bytes the compiled kernels add once loaded from numba's cache (measured +10 MiB
#: for configs/tiny.toml), and mpi4py with its MPI library (+14 MiB), rounded up.
KERNELS_BYTES = 16 << 20
MPI_BYTES = 16 << 20


def runtime_bytes(n_ranks: int, base_rss: int) -> int:
    """The interpreter and libraries one rank holds besides its arrays: ``base_rss`` (the
    resident bytes of a process that has imported the training modules and loaded no data,
    e.g. the dry run's own), plus the compiled kernels and, when ``n_ranks > 1``, MPI."""
    return int(base_rss + KERNELS_BYTES + (MPI_BYTES if n_ranks > 1 else 0))


def plan_rank(*, stats_bytes: int, n_tokens: float, n_docs: float, n_vocab: int, n_topics: int,
              n_ranks: int, pairs_per_token: float = PAIRS_PER_TOKEN,
              triples_per_token: float = TRIPLES_PER_TOKEN, sampler: str = "sca",
              runtime: int = 0, heldout_tokens: float | None = None) -> dict:
    """Bytes of the arrays one of ``n_ranks`` ranks holds, and sends per merge. All in bytes.

    ``sampler``: a SAMPLERS name; its ``planned_nbytes`` adds the index it keeps.
    ``runtime``: the interpreter and libraries (:func:`runtime_bytes`), added to
    ``per_rank_bytes`` (``arrays_bytes`` leaves it out). ``heldout_tokens``: the held-out
    set's size, which bounds the evaluation block (its distinct words' phi rows); None: the
    block's full :data:`~lda_sketch.evaluation.perplexity.BLOCK_BYTES`.

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
    block = BLOCK_BYTES if heldout_tokens is None else min(
        BLOCK_BYTES, 8 * n_topics * min(n_vocab, heldout_tokens))
    buffers = 16 * n_topics * min(CHUNK_WORDS, max(words, 1)) + block
    index = SAMPLERS[sampler].planned_nbytes(
        n_tokens=n, n_docs=n_docs / n_ranks, n_topics=n_topics, doc_len=L,
        pairs_per_token=pairs_per_token, chunk_words=min(CHUNK_WORDS, max(words, 1)))
    arrays = stats_bytes + merge + state + memmap + 24 * n_vocab + buffers + index
    return {"stats_bytes": int(stats_bytes), "state_bytes": int(state),
            "memmap_bytes": int(memmap), "merge_buffer_bytes": int(merge),
            "word_counts_bytes": int(24 * n_vocab), "buffers_bytes": int(buffers),
            "sampler_index_bytes": int(index), "runtime_bytes": int(runtime),
            "per_rank_bytes": int(arrays + runtime), "arrays_bytes": int(arrays),
            "bytes_sent_per_merge": int(2 * (n_ranks - 1) / n_ranks * stats_bytes)}


def plan_run(params, train, heldout, n_ranks: int, *, base_rss: int) -> dict:
    """:func:`plan_rank` of a checked run: its ``EngineParams``, training and held-out
    corpora (None: no held-out set), on ``n_ranks`` ranks, the runtime from ``base_rss``
    (:func:`runtime_bytes`)."""
    return plan_rank(stats_bytes=params.stats_nbytes(train.n_vocab), n_tokens=train.n_tokens,
                     n_docs=train.n_docs, n_vocab=train.n_vocab, n_topics=params.n_topics,
                     n_ranks=n_ranks, sampler=params.sampler,
                     runtime=runtime_bytes(n_ranks, base_rss),
                     heldout_tokens=0 if heldout is None else heldout.n_tokens)
