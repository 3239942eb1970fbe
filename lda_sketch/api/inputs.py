"""What :class:`~lda_sketch.api.estimator.LDASketch` accepts as documents, turned into a Corpus.

Accepted: a :class:`~lda_sketch.io.corpus.Corpus`; a corpus directory path; a ``scipy.sparse``
(or dense 2-d) document-term count matrix (``vocab`` names its columns); a list of token lists;
a list of gensim-style ``[(id, count), ...]`` documents (``vocab`` is then the id -> word map).

Against a reference vocabulary (a model's, or the training corpus's for ``heldout``): a Corpus
over another vocabulary is refused (:func:`~lda_sketch.run.data.check_same_vocab`); token lists,
bag-of-words lists and matrices with ``vocab`` are mapped into the reference's words (unknown
words dropped and counted as ``oov`` in ``manifest["dropped"]["tokens"]``); a matrix without
``vocab`` must have exactly the reference's columns.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..run.data import check_same_vocab
from ..exceptions import InputFormatError
from ..io.convert import map_to_vocab
from ..io.corpus import Corpus


def _is_matrix(x) -> bool:
    if isinstance(x, np.ndarray) and x.dtype != object:
        if x.ndim != 2:
            raise InputFormatError(f"a document-term matrix must be 2-d (n_docs, n_vocab); got "
                                   f"an array of shape {x.shape}")
        return True
    return hasattr(x, "tocsr") and hasattr(x, "shape")  # scipy.sparse, without importing it


def _first_item(docs):
    for d in docs:
        for t in d:
            return t
    return None


def as_corpus(x, name: str, *, vocab=None, ref=None) -> Corpus:
    """``x`` as a Corpus; ``ref`` (a Corpus or TopicModel, or None when training) is the
    vocabulary it must use. ``name`` names the argument in messages."""
    where = f"LDASketch: {name}"
    if isinstance(x, (str, Path)):
        x = Corpus.open(x)
    if isinstance(x, Corpus):
        if ref is not None:
            check_same_vocab(ref, x, where)
        return x
    if _is_matrix(x):
        corpus = Corpus.from_sparse(x, vocab)
        if ref is None:
            return corpus
        if vocab is None or ref.vocab is None:
            if corpus.n_vocab != ref.n_vocab:
                raise InputFormatError(
                    f"{where}: the matrix has {corpus.n_vocab} columns but the model's "
                    f"vocabulary has {ref.n_vocab} words; use the vectorizer fitted on the "
                    f"training documents, or pass vocab= (the column names) to map it")
            corpus.vocab = ref.vocab
            return corpus
        return Corpus(**map_to_vocab(corpus, ref.vocab))
    if isinstance(x, (list, tuple)) or (hasattr(x, "__iter__") and not isinstance(x, dict)):
        docs = list(x)
        first = _first_item(docs)
        if isinstance(first, (tuple, list)) and len(first) == 2:  # gensim bag of words
            if vocab is None and ref is not None and ref.vocab is not None:
                vocab = ref.vocab
            if vocab is None:
                raise InputFormatError(f"{where}: bag-of-words documents need vocab= (the id "
                                       f"-> word map, e.g. the gensim Dictionary)")
            corpus = Corpus.from_bow(docs, vocab)
            if ref is not None and ref.vocab is not None and list(corpus.vocab) != list(
                    ref.vocab):
                return Corpus(**map_to_vocab(corpus, ref.vocab))
            if ref is not None:
                check_same_vocab(ref, corpus, where)
            return corpus
        if ref is None:
            return Corpus.from_tokens(docs, vocab)
        if ref.vocab is None:
            raise InputFormatError(f"{where}: token lists need a model with a vocabulary; this "
                                   f"one uses feature hashing (prepare the documents with "
                                   f"`lda-sketch prep --hash-bits` instead)")
        return Corpus.from_tokens(docs, ref.vocab)
    raise TypeError(f"{name} must be a Corpus, a corpus directory path, a document-term count "
                    f"matrix, a list of token lists or a list of bag-of-words documents; got "
                    f"{type(x).__name__}")


def n_dropped_oov(corpus: Corpus) -> int:
    """Tokens dropped as unknown words when ``corpus`` was mapped into a vocabulary."""
    return int(corpus.manifest.get("dropped", {}).get("tokens", {}).get("oov", 0))
