"""Collective tests: run only under mpiexec (tests/test_mpi_suite.py). Same tests on every rank."""
from __future__ import annotations

import numpy as np
import pytest

from lda_sketch import rng
from lda_sketch.distributed.collective import (RankFailedError, assert_same_on_all_ranks,
                                               collective_errors)
from lda_sketch.distributed.comm import MPIComm
from lda_sketch.distributed.merge import merge_stats
from lda_sketch.stats import BACKENDS, make_stats

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def comm():
    return MPIComm()


def _params(name):
    base = {"n_topics": 7, "n_vocab": 300, "seed": 11}
    if name != "dense":
        base.update(n_hashes=3, n_buckets=64)
    return base


def _local_stream(rank, n=2000, seed=5):
    g = np.random.default_rng(1000 * seed + rank)
    return (g.integers(0, 300, n), g.integers(0, 7, n), g.integers(1, 20, n))


@pytest.mark.parametrize("backend", sorted(BACKENDS))
def test_merge_gives_identical_bytes_on_all_ranks(comm, backend):
    s = make_stats(backend, **_params(backend))
    w, t, c = _local_stream(comm.rank)
    s.add(w, t, c, key=rng.key_for(1, rng.STREAM_COUNTER, comm.rank))
    merge_stats(s, comm, key=rng.key_for(1, rng.STREAM_MERGE, 0))
    assert_same_on_all_ranks(comm, s.serialize(), f"{backend} stats after merge")
    assert s.n_k.sum() == sum(_local_stream(r)[2].sum() for r in range(comm.size))


@pytest.mark.parametrize("backend", sorted(b for b in BACKENDS if "exact_merge" in BACKENDS[b].guarantees))
def test_exact_merge_equals_serial_sum(comm, backend):
    s = make_stats(backend, **_params(backend))
    w, t, c = _local_stream(comm.rank)
    s.add(w, t, c)
    merge_stats(s, comm, key=0)
    ref = make_stats(backend, **_params(backend))
    for r in range(comm.size):
        ref.add(*_local_stream(r))
    assert s.serialize() == ref.serialize()


@pytest.mark.parametrize("backend", sorted(BACKENDS))
def test_merge_in_rounds_equals_one_round(comm, backend, monkeypatch):
    """The merge goes through the cells in rounds (bounded buffers); any round size, here a
    few cells and uneven, gives the bytes of a single round."""
    import lda_sketch.distributed.merge as merge_mod

    def merged(round_bytes):
        monkeypatch.setattr(merge_mod, "ROUND_BYTES", round_bytes)
        s = make_stats(backend, **_params(backend))
        s.add(*_local_stream(comm.rank), key=rng.key_for(1, rng.STREAM_COUNTER, comm.rank))
        merge_stats(s, comm, key=rng.key_for(1, rng.STREAM_MERGE, 0))
        return s.serialize()

    assert merged(37) == merged(1 << 40)


def test_collective_errors_raise_everywhere(comm):
    with pytest.raises(RankFailedError, match="rank 1: ValueError: bad shard"):
        with collective_errors(comm, "loading"):
            if comm.rank == 1:
                raise ValueError("bad shard")


def test_the_same_error_on_several_ranks_is_told_once(comm):
    with pytest.raises(RankFailedError, match=r"loading failed on \d of \d ranks: ranks 0, 1"
                                              r"(, 2)?: ValueError: no corpus$"):
        with collective_errors(comm, "loading"):
            raise ValueError("no corpus")
