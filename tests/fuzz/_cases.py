"""Valid files of every format the tool reads, each with its real reader (the fuzz cases)."""
from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import _fuzzlib as fl
from lda_sketch import config as config_mod
from lda_sketch.run.data import load_data
from lda_sketch.distributed.partition import shard_of
from lda_sketch.run.engine import Engine
from lda_sketch.io.checkpoint import latest_checkpoint, load_checkpoint
from lda_sketch.io.corpus import Corpus
from lda_sketch.stats import make_stats
from data_prep.synthetic import planted_corpus
from lda_sketch.model.topic_model import TopicModel
from lda_sketch.run.train import check_setup, load_engine_state, train_run

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Case:
    """One valid file, the reader that loads it and the mutator that damages it."""

    fmt: str
    target: Path
    loader: object
    mutate: object
    check: object = None


# Statistics backends, each with the settings worth a case of its own.
STATS = {
    "dense": ("dense", {}),
    "countmin": ("countmin", {"n_buckets": 64}),
    "countmin-cu": ("countmin", {"n_buckets": 64, "conservative": True}),
    "cmm-8": ("countmin-morris", {"n_buckets": 64}),
    "cmm-16": ("countmin-morris", {"n_buckets": 64, "counter_bits": 16, "counter_base": 1.005}),
    "cmm-independent": ("countmin-morris", {"n_buckets": 64, "increment": "independent"}),
    "cmm-conservative": ("countmin-morris", {"n_buckets": 64, "conservative": True}),
}
V, K = 120, 4


def _check_model(m):
    tw = m.top_words(2)
    assert len(tw) == m.n_topics
    p = np.array([[x for _, x in t] for t in tw])
    assert np.isfinite(p).all() and (p >= 0).all() and (p <= 1).all(), p


def _check_corpus(c):
    assert c.n_docs >= 0 and c.doc_ptr.shape == (c.n_docs + 1,)
    w = np.asarray(c.word_ids)
    assert w.size == 0 or (w.min() >= 0 and w.max() < c.n_vocab)
    assert c.vocab is None or len(c.vocab) == c.n_vocab


def build_files(root: Path) -> dict:
    """Write one valid file of every format under ``root``."""
    rng = np.random.default_rng(0)
    vocab = [f"w{i}" for i in range(V)]
    # corpora: one with a vocabulary and document titles, one hashed (reverse map)
    corpus, _ = planted_corpus(40, K, V, 20, seed=1)
    corpus = Corpus(corpus.doc_ptr, corpus.word_ids, V, vocab,
                    [f"d{i}" for i in range(corpus.n_docs)], [f"t {i}" for i in range(corpus.n_docs)])
    corpus.write(root / "corpus")
    hashed = Corpus(corpus.doc_ptr, corpus.word_ids, V, None,
                    reverse_map={i: [(f"w{i}", 3), (f"v{i}", 1)] for i in range(0, V, 3)},
                    manifest={"hashed": True})
    hashed.write(root / "hashed")
    # models, one per backend
    words = rng.integers(0, V, 500)
    topics = rng.integers(0, K, 500)
    for name, (backend, kw) in STATS.items():
        stats = make_stats(backend, n_topics=K, n_vocab=V, seed=3, **kw)
        stats.add(words, topics, np.ones(500, np.int64))
        TopicModel(stats, 0.1, 0.01, np.bincount(words, minlength=V), vocab=vocab,
                   history=[{"iteration": 1, "perplexity": 10.0}]).save(root / f"model-{name}")
    # a run with checkpoints, and an engine to restore them into
    cfg = config_mod.from_dict({
        "model": {"n_topics": K}, "sketch": {"backend": "countmin-morris", "n_buckets": 64},
        "sampler": {"n_iter": 2, "seed": 1}, "data": {"train": str(root / "corpus"),
                                                      "n_heldout": 5},
        "eval": {"evaluate_every": 1, "fold_in_iters": 5},
        "output": {"checkpoint_every": 1}}, source="fuzz.toml")
    train_run(cfg, root / "run", progress=False)
    train, held = load_data(cfg)
    engine = Engine(check_setup(cfg, train), shard_of(train, 0, 1), train.n_vocab,
                    heldout=held)
    shutil.copy(REPO / "configs" / "tiny.toml", root / "tiny.toml")
    return {"root": root, "engine": engine, "ckpt": latest_checkpoint(root / "run")}


def _restore(engine, ckpt):
    state, driver = load_checkpoint(ckpt)
    load_engine_state(engine, ckpt, state)
    return engine, driver


def _check_restored(obj):
    engine, driver = obj
    assert engine.iteration >= 0 and isinstance(driver["history"], list)


def all_cases(files) -> list[Case]:
    root, ckpt, engine = files["root"], files["ckpt"], files["engine"]
    cases = []
    for name in STATS:
        d = root / f"model-{name}"
        cases.append(Case(f"stats.bin[{name}]", d / "stats.bin", lambda d=d: TopicModel.load(d),
                          fl.stats_mutation, _check_model))
    d = root / "model-cmm-8"
    load_model = lambda: TopicModel.load(d)  # noqa: E731
    cases += [
        Case("model.json", d / "model.json", load_model, fl.json_mutation, _check_model),
        Case("model word_counts.npy", d / "word_counts.npy", load_model, fl.npy_mutation,
             _check_model),
        Case("model vocab.txt", d / "vocab.txt", load_model, fl.byte_mutation, _check_model),
        Case("checkpoint.json", ckpt / "checkpoint.json", lambda: _restore(engine, ckpt),
             fl.json_mutation, _check_restored),
        Case("checkpoint rank-0000.npz", ckpt / "rank-0000.npz", lambda: _restore(engine, ckpt),
             fl.npz_mutation, _check_restored),
    ]
    for cname in ("corpus", "hashed"):
        c = root / cname
        load_corpus = lambda c=c: Corpus.open(c)  # noqa: E731
        cases += [
            Case(f"{cname} manifest.json", c / "manifest.json", load_corpus, fl.json_mutation,
                 _check_corpus),
            Case(f"{cname} doc_ptr.npy", c / "doc_ptr.npy", load_corpus, fl.npy_mutation,
                 _check_corpus),
            Case(f"{cname} word_ids.npy", c / "word_ids.npy", load_corpus, fl.npy_mutation,
                 _check_corpus),
        ]
    c = root / "corpus"
    cases += [
        Case("corpus vocab.txt", c / "vocab.txt", lambda: Corpus.open(c), fl.byte_mutation,
             _check_corpus),
        Case("corpus docs.tsv", c / "docs.tsv", lambda: Corpus.open(c), fl.byte_mutation,
             _check_corpus),
        Case("hashed reverse_map.tsv", root / "hashed" / "reverse_map.tsv",
             lambda: Corpus.open(root / "hashed"), fl.byte_mutation, _check_corpus),
        Case("config TOML", root / "tiny.toml", lambda: config_mod.load(root / "tiny.toml"),
             fl.toml_mutation),
        Case("resolved_config.toml", root / "run" / "resolved_config.toml",
             lambda: config_mod.load(root / "run" / "resolved_config.toml"), fl.toml_mutation),
    ]
    return cases


CASE_NAMES = [c.fmt for c in all_cases({"root": Path("/"), "ckpt": Path("/"), "engine": None})]
