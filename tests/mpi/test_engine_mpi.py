"""Distributed engine under mpiexec: exact backends equal the 1-rank run bitwise; Morris runs are
byte-identical on all ranks after every merge and reproducible for the same rank count."""
from __future__ import annotations

import numpy as np
import pytest

from lda_sketch.config import SketchConfig
from lda_sketch.distributed.collective import assert_same_on_all_ranks
from lda_sketch.distributed.comm import MPIComm, SerialComm
from lda_sketch.run.engine import Engine, EngineParams
from lda_sketch.distributed.partition import partition_by_tokens
from lda_sketch.io.corpus import Corpus
from lda_sketch.sampler import SAMPLERS
from lda_sketch.stats import BACKENDS
from data_prep.synthetic import planted_corpus

pytestmark = pytest.mark.slow

PARAMS = {"dense": {}, "countmin": {"n_hashes": 3, "n_buckets": 64},
          "countmin-morris": {"n_hashes": 3, "n_buckets": 64, "increment": "correlated"},
          "countmin+support": {"n_hashes": 3, "n_buckets": 64, "support": "exact"},
          "countmin-morris+support": {"n_hashes": 3, "n_buckets": 64, "increment": "correlated",
                                      "support": "exact"},
          "countmin+head": {"n_hashes": 3, "n_buckets": 64, "head_words": 12},
          "countmin+filter": {"n_hashes": 3, "n_buckets": 64, "head_words": 12,
                              "support": "filter"}}


@pytest.fixture(scope="module")
def comm():
    return MPIComm()


@pytest.fixture(scope="module")
def data(comm):
    # 4*size+1 documents: uneven shards for every rank count.
    corpus, _ = planted_corpus(4 * comm.size + 9, 5, 80, 30, seed=3)
    held, _ = planted_corpus(6, 5, 80, 30, seed=4)
    return corpus, held


def shard_of(corpus: Corpus, a: int, b: int) -> Corpus:
    lo, hi = corpus.doc_ptr[a], corpus.doc_ptr[b]
    return Corpus(corpus.doc_ptr[a:b + 1].copy(), corpus.word_ids[lo:hi], corpus.n_vocab,
                  doc_offset=a, token_offset=int(lo))


def run(comm, corpus, held, backend, n_iter=3, sampler="sca"):
    b = partition_by_tokens(corpus.doc_ptr, comm.size)
    shard = shard_of(corpus, b[comm.rank], b[comm.rank + 1])
    hb = partition_by_tokens(held.doc_ptr, comm.size)
    hshard = shard_of(held, hb[comm.rank], hb[comm.rank + 1])
    eng = Engine(EngineParams(n_topics=5,
                              sketch=SketchConfig(backend=backend.split("+")[0], **PARAMS[backend]),
                              seed=9, sampler=sampler),
                 shard, corpus.n_vocab, comm=comm, heldout=hshard)
    eng.initialize()
    trace = []
    for _ in range(n_iter):
        eng.step()
        assert_same_on_all_ranks(comm, eng.stats.serialize(), f"{backend} stats")
        trace.append(eng.evaluate()["perplexity"])
    z = np.concatenate(comm.allgather(eng.state.z_doc_major()))
    if "+support" in backend:
        assert_same_on_all_ranks(comm, eng.stats.or_arrays()[0].tobytes(), "support bits")
    return z, eng.stats.serialize(), trace


@pytest.mark.parametrize("backend", sorted(b for b in BACKENDS if "exact_merge" in BACKENDS[b].guarantees)
                         + ["countmin+support", "countmin+head", "countmin+filter"])
def test_exact_backends_equal_one_rank_bitwise(comm, data, backend):
    corpus, held = data
    z, stats, trace = run(comm, corpus, held, backend)
    z1, stats1, trace1 = run(SerialComm(), corpus, held, backend)
    assert np.array_equal(z, z1)
    assert stats == stats1
    # Log-likelihoods are summed per rank then in rank order: equal up to rounding.
    np.testing.assert_allclose(trace, trace1, rtol=1e-12)


@pytest.mark.parametrize("sampler", sorted(set(SAMPLERS) - {"sca"}))  # sca: above
@pytest.mark.parametrize("backend", ["dense", "countmin+head"])
def test_other_samplers_equal_one_rank_bitwise(comm, data, backend, sampler):
    """Every other registered sampler (sca-collapsed reads each token's frozen z, sca-sparse a
    per-shard document index and its own order of pairs, sem dense theta rows): still any
    sharding, bitwise."""
    corpus, held = data
    z, stats, trace = run(comm, corpus, held, backend, sampler=sampler)
    z1, stats1, trace1 = run(SerialComm(), corpus, held, backend, sampler=sampler)
    assert np.array_equal(z, z1) and stats == stats1
    np.testing.assert_allclose(trace, trace1, rtol=1e-12)
    z0, _, _ = run(SerialComm(), corpus, held, backend)
    assert not np.array_equal(z, z0)  # not plain SCA's draws (sca-sparse: the same law)


def test_morris_reproducible_for_same_rank_count(comm, data):
    corpus, held = data
    a = run(comm, corpus, held, "countmin-morris")
    b = run(comm, corpus, held, "countmin-morris")
    assert np.array_equal(a[0], b[0]) and a[1] == b[1] and a[2] == b[2]


def test_support_is_the_union_of_the_ranks_assignments(comm, data):
    """Morris cells depend on the rank count, the support bits never do: they are the exact set
    of (word, topic) pairs some token holds, OR-merged, on every rank as with one rank."""
    corpus, held = data

    def support_after_init(c):
        b = partition_by_tokens(corpus.doc_ptr, c.size)
        shard = shard_of(corpus, b[c.rank], b[c.rank + 1])
        sketch = SketchConfig(backend="countmin-morris", **PARAMS["countmin-morris+support"])
        eng = Engine(EngineParams(n_topics=5, sketch=sketch, seed=9),
                     shard, corpus.n_vocab, comm=c)
        eng.initialize()
        z = np.concatenate(c.allgather(eng.state.z_doc_major()))
        return eng.stats.or_arrays()[0].copy(), z

    bits, z = support_after_init(comm)
    bits1, z1 = support_after_init(SerialComm())
    assert np.array_equal(z, z1) and np.array_equal(bits, bits1)
    w = corpus.word_ids
    truth = np.zeros((corpus.n_vocab, 5), bool)
    truth[w, z] = True
    unpacked = np.unpackbits(bits, axis=1, bitorder="little")[:, :5].astype(bool)
    assert np.array_equal(unpacked, truth)


def test_head_is_chosen_from_the_global_word_counts(comm, data):
    """Every rank gives the head to the same words: the most frequent of the whole corpus (the
    planted corpus's ids are not ordered by frequency), as one rank does."""
    corpus, held = data
    _, stats, _ = run(comm, corpus, held, "countmin+head", n_iter=1)
    s = BACKENDS["countmin"].deserialize(stats)
    counts = np.bincount(corpus.word_ids, minlength=corpus.n_vocab)
    top = np.sort(np.argsort(-counts, kind="stable")[:12])
    assert not s._head_index.is_prefix and s._head_index.ids.tolist() == top.tolist()


@pytest.mark.parametrize("sampler", sorted(SAMPLERS))
def test_optimised_alpha_equals_one_rank_bitwise(comm, data, sampler):
    """[model] optimize_alpha_every: the n_dk histograms are int64 sums over the ranks, so every
    rank finds the same alpha, and the same as one rank, bit for bit (then z and the statistics
    stay equal too)."""
    corpus, held = data

    def alphas(c):
        b = partition_by_tokens(corpus.doc_ptr, c.size)
        shard = shard_of(corpus, b[c.rank], b[c.rank + 1])
        eng = Engine(EngineParams(n_topics=5, sketch=SketchConfig(backend="dense"), seed=9,
                                  sampler=sampler, alpha=0.7, optimize_alpha_every=1,
                                  optimize_alpha_burnin=1), shard, corpus.n_vocab, comm=c)
        eng.initialize()
        trace = []
        for _ in range(4):
            eng.step()
            trace.append(eng.alpha)
        z = np.concatenate(c.allgather(eng.state.z_doc_major()))
        return trace, z, eng.stats.serialize()

    trace, z, stats = alphas(comm)
    assert_same_on_all_ranks(comm, np.array(trace).tobytes(), "alpha")
    trace1, z1, stats1 = alphas(SerialComm())
    assert trace == trace1 and len(set(trace)) == 4
    assert np.array_equal(z, z1) and stats == stats1
