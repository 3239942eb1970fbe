"""Synthetic corpora drawn from LDA's generative process with planted topics (for tests and scale runs)."""
from __future__ import annotations

import numpy as np

from lda_sketch.io.corpus import Corpus


def planted_corpus(n_docs: int, n_topics: int, n_vocab: int, doc_length: int, *, alpha: float = 0.1,
                   beta: float = 0.01, block: bool = True, seed: int = 0) -> tuple[Corpus, np.ndarray]:
    """Draw a corpus from LDA. Returns ``(corpus, phi)`` with the true phi of shape (n_topics, n_vocab).

    With ``block=True`` each topic puts its mass on its own block of ``n_vocab // n_topics`` words
    (plus ``beta`` smoothing), so recovered topics can be matched unambiguously.
    """
    g = np.random.default_rng(seed)
    if block:
        phi = np.full((n_topics, n_vocab), beta)
        width = n_vocab // n_topics
        for k in range(n_topics):
            phi[k, k * width:(k + 1) * width] += g.dirichlet(np.full(width, 1.0)) * width
    else:
        phi = g.dirichlet(np.full(n_vocab, beta), size=n_topics)
    phi /= phi.sum(axis=1, keepdims=True)
    theta = g.dirichlet(np.full(n_topics, alpha), size=n_docs)
    lengths = np.maximum(1, g.poisson(doc_length, size=n_docs))
    cdf = np.cumsum(phi, axis=1)
    docs = []
    for d in range(n_docs):
        z = g.choice(n_topics, size=lengths[d], p=theta[d])
        u = g.random(lengths[d])
        w = np.array([np.searchsorted(cdf[k], x * cdf[k, -1], side="right") for k, x in zip(z, u)],
                     np.int64)
        docs.append(np.minimum(w, n_vocab - 1))
    vocab = [f"w{i}" for i in range(n_vocab)]
    corpus = Corpus.from_documents(docs, n_vocab, vocab)
    corpus.manifest["source"] = {"kind": "synthetic-lda", "seed": seed, "alpha": alpha, "beta": beta}
    return corpus, phi
