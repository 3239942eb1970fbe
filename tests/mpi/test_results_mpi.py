"""Collective tests of issue 15's results: coherence counts per rank plus one allreduce, and
`[output] doc_topics` writing one file per rank. Run under mpiexec (tests/test_mpi_suite.py)."""
from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest

from lda_sketch import config as config_mod
from lda_sketch.distributed.comm import MPIComm
from lda_sketch.distributed.partition import shard_of
from lda_sketch.evaluation.coherence import coherence
from lda_sketch.io.doc_topics import read_doc_topics
from data_prep.synthetic import planted_corpus
from lda_sketch.run.train import train_run

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def comm():
    return MPIComm()


@pytest.fixture(scope="module")
def corpus():
    return planted_corpus(150, 5, 300, 30, seed=9)[0]


def test_coherence_of_shards_equals_the_whole_corpus(comm, corpus):
    top = np.random.default_rng(1).choice(corpus.n_vocab, size=(6, 7), replace=False)
    whole = coherence(top, corpus)
    mine = coherence(top, shard_of(corpus, comm.rank, comm.size), comm=comm)
    assert mine["n_docs"] == corpus.n_docs
    assert mine["umass_per_topic"] == whole["umass_per_topic"]
    assert mine["npmi_per_topic"] == whole["npmi_per_topic"]


def test_doc_topics_one_file_per_rank(comm, corpus):
    root = Path(comm.bcast(tempfile.mkdtemp() if comm.rank == 0 else None))
    if comm.rank == 0:
        corpus.write(root / "train")
    comm.barrier()
    cfg = config_mod.from_dict({
        "model": {"n_topics": 5}, "sketch": {"backend": "dense"},
        "sampler": {"n_iter": 3, "seed": 2}, "data": {"train": str(root / "train")},
        "output": {"doc_topics": True}}, source="test.toml")
    model = train_run(cfg, root / "run", comm=comm, progress=False)
    files = sorted((root / "run" / "doc_topics").glob("rank-*.npz"))
    assert len(files) == comm.size
    index, _, theta, lengths = read_doc_topics(root / "run")
    assert index.tolist() == list(range(corpus.n_docs))
    np.testing.assert_array_equal(lengths, corpus.doc_lengths())
    n_dk = theta * (lengths[:, None] + 5 * 0.1) - 0.1
    np.testing.assert_allclose(n_dk.sum(axis=0), model.stats.topic_totals(), rtol=1e-9)
