"""A trained model's results in other tools' formats (``lda-sketch export``).

The export directory, written atomically::

    topic_word.npy   float64 (K, V): phi, rows sum to 1 (as ``LDASketch.topic_word_``)
    topic-keys.txt   Mallet's topic keys: ``topic<TAB>alpha<TAB>top words`` per line
    doc_topics.npy   float64 (D, K): theta of the documents given (rows sum to 1): folded in,
                     or the sampler's (``io/doc_topics.py``)
    doc-topics.txt   Mallet's doc-topics (2.0.8+): ``index<TAB>doc id<TAB>theta_0<TAB>...``
    pyldavis.npz     the five arrays ``pyLDAvis.prepare`` takes: ``topic_term_dists`` (K, V),
                     ``doc_topic_dists`` (D, K), ``doc_lengths`` (D,), ``vocab`` (V,) str,
                     ``term_frequency`` (V,) -- load with ``np.load(path)`` (no pickle) and call
                     ``pyLDAvis.prepare(**dict(npz))``

pyLDAvis is never imported here.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .atomic import atomic_directory
from .text_table import write_rows

_BLANKS = str.maketrans({"\t": " ", "\n": " ", "\r": " ", "\0": " "})
EXPORT_FILES = ("topic_word.npy", "topic-keys.txt", "doc_topics.npy", "doc-topics.txt",
                "pyldavis.npz")


def write_export(path, model, theta: np.ndarray, doc_lengths: np.ndarray, *, doc_ids=None,
                 top_n: int = 20, overwrite: bool = False) -> Path:
    """Write the export directory ``path`` for ``model`` (a TopicModel) and the documents'
    ``theta`` float64 (D, K) and ``doc_lengths`` int64 (D,). Returns the path."""
    theta = np.asarray(theta, np.float64)
    lengths = np.asarray(doc_lengths, np.int64)
    if theta.ndim != 2 or theta.shape[1] != model.n_topics or theta.shape[0] != lengths.shape[0]:
        raise ValueError(f"theta has shape {theta.shape}; expected ({lengths.shape[0]}, "
                         f"{model.n_topics})")
    phi = model.topic_word()
    vocab = np.array([model.word(i) for i in range(model.n_vocab)], dtype=str)
    ids = [str(i) for i in range(theta.shape[0])] if doc_ids is None else list(doc_ids)
    table = model.top_words(top_n)
    with atomic_directory(path, overwrite=overwrite, what="export") as tmp:
        np.save(tmp / "topic_word.npy", phi)
        np.save(tmp / "doc_topics.npy", theta)
        with open(tmp / "topic-keys.txt", "w", encoding="utf-8") as f:
            for k, words in enumerate(table):
                f.write(f"{k}\t{model.alpha:g}\t{' '.join(_word(w) for w, _ in words)}\n")
        with open(tmp / "doc-topics.txt", "wb") as f:  # '%.6g' without a call per number
            write_rows(f, [f"{d}\t{_clean(i)}\t" for d, i in enumerate(ids)], theta)
        np.savez(tmp / "pyldavis.npz", topic_term_dists=phi, doc_topic_dists=theta,
                 doc_lengths=lengths, vocab=vocab,
                 term_frequency=np.asarray(model.word_counts, np.int64))
    return Path(path)


def _clean(s) -> str:
    """A tab/newline/NUL-free field."""
    return str(s).translate(_BLANKS)


def _word(w) -> str:
    """A word as one space-free token (multi-word tokens joined by ``_``)."""
    return "_".join(_clean(w).split(" "))
