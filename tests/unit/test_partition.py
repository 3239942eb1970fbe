"""Sharding is pure: every rank count and corpus size gives contiguous, covering, balanced parts."""
import numpy as np
import pytest

from lda_sketch.distributed.partition import partition_by_tokens, shard_of
from lda_sketch.io.corpus import Corpus


def _doc_ptr(lengths):
    return np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)


def _check(doc_ptr, n_parts):
    n_docs = doc_ptr.shape[0] - 1
    b = partition_by_tokens(doc_ptr, n_parts)
    assert b.dtype == np.int64 and b.shape == (n_parts + 1,)
    assert b[0] == 0 and b[-1] == n_docs and np.all(np.diff(b) >= 0)
    tokens = doc_ptr[b[1:]] - doc_ptr[b[:-1]]
    assert tokens.sum() == doc_ptr[-1] - doc_ptr[0]
    longest = int(np.diff(doc_ptr).max(initial=0))
    assert np.all(np.abs(tokens - (doc_ptr[-1] - doc_ptr[0]) / n_parts) <= longest + 1)
    assert np.array_equal(b, partition_by_tokens(doc_ptr.copy(), n_parts))  # pure


@pytest.mark.parametrize("n_docs", [0, 1, 2, 3, 7, 37, 200])
def test_every_rank_count_and_size(n_docs):
    rng = np.random.default_rng(n_docs)
    for lengths in (rng.integers(0, 50, n_docs), np.ones(n_docs, int), np.zeros(n_docs, int),
                    rng.zipf(1.5, n_docs).clip(max=10_000)):
        for n_parts in range(1, n_docs + 4):
            _check(_doc_ptr(lengths), n_parts)


def test_global_offsets_are_respected():
    """A corpus slice whose doc_ptr starts at a global offset partitions the same way."""
    lengths = np.random.default_rng(1).integers(1, 30, 40)
    ptr = _doc_ptr(lengths)
    for p in range(1, 9):
        assert np.array_equal(partition_by_tokens(ptr + 1000, p), partition_by_tokens(ptr, p))


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2"])
def test_bad_part_counts_are_refused(bad):
    with pytest.raises(ValueError, match="'n_parts' parameter of partition_by_tokens"):
        partition_by_tokens(_doc_ptr([1, 2]), bad)


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8])
def test_shards_concatenate_to_the_corpus(size):
    rng = np.random.default_rng(size)
    docs = [rng.integers(0, 20, int(n)) for n in rng.integers(0, 15, 23)]
    corpus = Corpus.from_documents(docs, 20)
    shards = [shard_of(corpus, r, size) for r in range(size)]
    assert np.array_equal(np.concatenate([s.word_ids for s in shards]), corpus.word_ids)
    assert [s.doc_offset for s in shards] == list(
        np.concatenate([[0], np.cumsum([s.n_docs for s in shards])[:-1]]))
    for s in shards:  # global token offsets, as the engine's RNG keys need
        assert s.token_offset == s.doc_ptr[0]
    with pytest.raises(ValueError, match="'rank' parameter of shard_of"):
        shard_of(corpus, size, size)
