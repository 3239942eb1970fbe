"""In-memory corpora from the formats users already have (behind ``Corpus.from_*``).

* :func:`from_sparse` -- a document-term count matrix (``scipy.sparse``, e.g. ``CountVectorizer``
  output, or a dense 2-d array), columns = word ids, with ``vocab`` = column names;
* :func:`from_tokens` -- a list of token lists (already tokenized: lemmas, n-grams, CJK words);
  builds a vocabulary with ``lda-sketch prep``'s pruning rules, or maps into a given one;
* :func:`from_bow` -- gensim-style bag-of-words documents ``[(word_id, count), ...]`` plus an
  id -> word map (a gensim ``Dictionary``, any mapping or a list; gensim is never imported).

A bag of words has no token order: a document's tokens are stored by increasing word id, each
repeated ``count`` times. (Document completion then observes ``ceil(c/2)`` and scores
``floor(c/2)`` of a word's ``c`` tokens.) Tokens dropped on the way (unknown words, pruned
words) are counted in ``manifest["dropped"]["tokens"]`` by reason, as ``prep`` does.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .._validation import param_error
from ..exceptions import InputFormatError


def _corpus(doc_ptr, word_ids, vocab, n_vocab, source: str, dropped: dict | None = None,
            preprocessing: dict | None = None) -> dict:
    manifest = {"source": {"reader": source, "part": "in-memory"}, "hashed": False,
                "dropped": {"tokens": {k: int(v) for k, v in (dropped or {}).items() if v}}}
    if preprocessing:
        manifest["preprocessing"] = preprocessing
    return {"doc_ptr": np.asarray(doc_ptr, np.int64), "word_ids": np.asarray(word_ids, np.int32),
            "n_vocab": int(n_vocab), "vocab": None if vocab is None else [str(w) for w in vocab],
            "manifest": manifest}


def _check_counts(values, where: str, remedy: str) -> np.ndarray:
    """Integer-valued non-negative counts as int64 (refuses tf-idf weights and negatives)."""
    values = np.asarray(values)
    if values.dtype.kind not in "biuf":
        raise InputFormatError(f"{where}: counts must be numbers, got dtype {values.dtype}; "
                               f"{remedy}")
    if values.dtype.kind == "f" and not np.all(np.isfinite(values)):
        raise InputFormatError(f"{where}: counts must be finite; {remedy}")
    ints = np.asarray(values, np.int64)
    if values.size and (np.any(ints != values) or ints.min() < 0):
        bad = values[(ints != values) | (ints < 0)][0]
        raise InputFormatError(f"{where}: counts must be non-negative integers (found "
                               f"{bad.item()!r}); {remedy}")
    return ints


def from_sparse(X, vocab=None) -> dict:
    """Corpus of a document-term count matrix ``X`` (n_docs, n_vocab): any ``scipy.sparse``
    matrix or a dense 2-d array of non-negative integer counts. ``vocab`` (length n_vocab,
    e.g. ``CountVectorizer.get_feature_names_out()``) names the columns; without it words are
    shown as ``#id``."""
    import scipy.sparse as sp

    where = "Corpus.from_sparse"
    if not sp.issparse(X):
        X = np.asarray(X)
        if X.ndim != 2:
            raise param_error("X", where, "a 2-d (n_docs, n_vocab) count matrix",
                              f"shape {X.shape}")
    X = sp.csr_matrix(X)
    X.sum_duplicates()
    X.sort_indices()
    n_docs, n_vocab = X.shape
    if vocab is not None:
        vocab = [str(w) for w in vocab]
        if len(vocab) != n_vocab:
            raise InputFormatError(f"{where}: vocab has {len(vocab)} words but X has {n_vocab} "
                                   f"columns; pass the vectorizer's get_feature_names_out()")
        _check_unique(vocab, where)
    if n_vocab == 0:
        raise InputFormatError(f"{where}: X has no columns (an empty vocabulary)")
    counts = _check_counts(X.data, where, "pass raw term counts (CountVectorizer), not tf-idf "
                                          "or normalised weights")
    ids = np.repeat(X.indices.astype(np.int32), counts)
    csum = np.zeros(counts.shape[0] + 1, np.int64)
    np.cumsum(counts, out=csum[1:])
    doc_ptr = csum[X.indptr.astype(np.int64)]
    return _corpus(doc_ptr, ids, vocab, n_vocab, "sparse")


def from_tokens(docs, vocab=None, *, min_df: int = 1, max_df_frac: float = 1.0,
                max_vocab: int | None = None, stopwords=None) -> dict:
    """Corpus of tokenized documents (a sequence of token sequences; tokens are ``str``).

    With ``vocab`` (a word list, e.g. a model's ``vocab_``) tokens are mapped into it and
    unknown ones dropped (counted as ``oov``). Otherwise the vocabulary is built as ``lda-sketch
    prep`` does: drop ``stopwords``, keep words in ``>= min_df`` documents and ``<= max_df_frac``
    of them, then the ``max_vocab`` most frequent; ids by decreasing frequency (ties by word).
    Token order within a document is kept.
    """
    where = "Corpus.from_tokens"
    docs = list(docs)
    for i, d in enumerate(docs):
        if isinstance(d, (str, bytes)):
            raise InputFormatError(
                f"{where}: document {i} is a string, not a list of tokens; tokenize it first "
                f"(e.g. text.split()) or pass a CountVectorizer matrix to Corpus.from_sparse")
    lengths = np.array([len(d) for d in docs], np.int64)
    flat = [str(t) for d in docs for t in d]
    stop = set(stopwords or ())
    if vocab is not None:
        vocab = [str(w) for w in vocab]
        _check_unique(vocab, where)
        index = {w: i for i, w in enumerate(vocab)}
        ids = np.fromiter((index.get(t, -4) for t in flat), np.int64, len(flat))
        return _finish(ids, lengths, vocab, "tokens", None)
    if min_df < 1:
        raise param_error("min_df", where, "an int >= 1", min_df)
    if not 0.0 < max_df_frac <= 1.0:
        raise param_error("max_df_frac", where, "a float in (0, 1]", max_df_frac)
    if max_vocab is not None and max_vocab < 1:
        raise param_error("max_vocab", where, "an int >= 1 or None", max_vocab)
    index: dict[str, int] = {}  # provisional ids by first occurrence (one pass, no sort)
    raw = np.array([index.setdefault(t, len(index)) for t in flat], np.int64)
    words = list(index)
    tf = np.bincount(raw, minlength=len(words))
    doc_of = np.repeat(np.arange(len(docs), dtype=np.int64), lengths)
    pairs = sorted_unique(doc_of * max(len(words), 1) + raw)  # distinct (document, word)
    df = np.bincount(pairs % max(len(words), 1), minlength=len(words))
    remap = np.zeros(len(words), np.int64)
    remap[df < min_df] = -1
    remap[(df > max_df_frac * len(docs)) & (remap == 0)] = -2
    remap[[i for i, w in enumerate(words) if w in stop and remap[i] == 0]] = -5
    ok = np.flatnonzero(remap == 0)
    order = sorted(ok.tolist(), key=lambda w: (-int(tf[w]), words[w]))
    if max_vocab is not None and len(order) > max_vocab:
        remap[np.asarray(order[max_vocab:], np.int64)] = -3
        order = order[:max_vocab]
    remap[np.asarray(order, np.int64)] = np.arange(len(order))
    if not order:
        raise InputFormatError(f"{where}: no word is left after pruning (min_df={min_df}, "
                               f"max_df_frac={max_df_frac}, {len(words)} distinct tokens); "
                               f"lower min_df or raise max_df_frac")
    pre = {"min_df": min_df, "max_df_frac": max_df_frac, "max_vocab": max_vocab,
           "n_raw_vocab": len(words)}
    return _finish(remap[raw], lengths, [words[w] for w in order], "tokens", pre)


_REASONS = {-1: "min_df", -2: "max_df", -3: "max_vocab", -4: "oov", -5: "stopword"}


def _finish(ids, lengths, vocab, source, pre) -> dict:
    """Drop negative (coded) ids, count them by reason, rebuild the document pointers."""
    ids = np.asarray(ids, np.int64)
    keep = ids >= 0
    dropped = {r: int((ids == c).sum()) for c, r in _REASONS.items()}
    doc_of = np.repeat(np.arange(lengths.shape[0], dtype=np.int64), lengths)
    doc_ptr = np.zeros(lengths.shape[0] + 1, np.int64)
    np.cumsum(np.bincount(doc_of[keep], minlength=lengths.shape[0]), out=doc_ptr[1:])
    return _corpus(doc_ptr, ids[keep], vocab, len(vocab), source, dropped, pre)


def from_bow(bow_docs, id2word) -> dict:
    """Corpus of gensim-style bag-of-words documents: each an iterable of ``(word_id, count)``
    pairs. ``id2word`` maps every id ``0..n-1`` to its word: a gensim ``Dictionary``, a dict or
    a list. Ids must be contiguous (a gensim ``Dictionary`` is after ``compactify()``, which
    ``filter_extremes`` calls)."""
    where = "Corpus.from_bow"
    if isinstance(id2word, Mapping) or hasattr(id2word, "items"):
        items = {int(i): str(w) for i, w in id2word.items()}
        n_vocab = len(items)
        missing = [i for i in range(n_vocab) if i not in items]
        if missing:
            raise InputFormatError(f"{where}: id2word's ids are not 0..{n_vocab - 1} (id "
                                   f"{missing[0]} is missing); call dictionary.compactify() "
                                   f"and rebuild the bag-of-words corpus")
        vocab = [items[i] for i in range(n_vocab)]
    else:
        vocab = [str(w) for w in id2word]
        n_vocab = len(vocab)
    if n_vocab == 0:
        raise InputFormatError(f"{where}: id2word is empty")
    _check_unique(vocab, where)
    lengths, ids, counts = [], [], []
    for d, doc in enumerate(bow_docs):
        pairs = sorted((int(i), c) for i, c in doc)
        for i, _ in pairs:
            if not 0 <= i < n_vocab:
                raise InputFormatError(f"{where}: document {d} has word id {i}, outside "
                                       f"id2word's 0..{n_vocab - 1}; build the corpus with the "
                                       f"same dictionary")
        c = _check_counts(np.asarray([c for _, c in pairs], np.float64),
                          f"{where}: document {d}",
                          "pass raw bag-of-words counts, not tf-idf weights")
        ids.extend(i for i, _ in pairs)
        counts.extend(c.tolist())
        lengths.append(int(c.sum()))
    word_ids = np.repeat(np.asarray(ids, np.int64), np.asarray(counts, np.int64))
    doc_ptr = np.zeros(len(lengths) + 1, np.int64)
    np.cumsum(np.asarray(lengths, np.int64), out=doc_ptr[1:])
    return _corpus(doc_ptr, word_ids, vocab, n_vocab, "bow")


def map_to_vocab(corpus, vocab) -> dict:
    """``corpus`` re-expressed in the word list ``vocab`` (e.g. a model's): words it lacks are
    dropped and counted as ``oov``. Needs ``corpus.vocab``."""
    index = {w: i for i, w in enumerate(vocab)}
    lut = np.array([index.get(w, -4) for w in corpus.vocab], np.int64)
    ids = lut[np.asarray(corpus.word_ids, np.int64)]
    out = _finish(ids, corpus.doc_lengths(), list(vocab), corpus.manifest.get(
        "source", {}).get("reader", "mapped"), None)
    old = corpus.manifest.get("dropped", {}).get("tokens", {})
    for k, v in old.items():
        out.manifest["dropped"]["tokens"][k] = out.manifest["dropped"]["tokens"].get(k, 0) + v
    return out


def sorted_unique(a: np.ndarray) -> np.ndarray:
    """``np.unique(a)`` for int arrays, always by sort: numpy's own method for integer arrays
    depends on its version, and a hash-based one is much slower on millions of keys."""
    a = np.sort(np.asarray(a), kind="stable")
    return a[np.concatenate(([True], a[1:] != a[:-1]))] if a.size else a


def _check_unique(vocab: list[str], where: str) -> None:
    if len(set(vocab)) != len(vocab):
        seen, dup = set(), None
        for w in vocab:
            if w in seen:
                dup = w
                break
            seen.add(w)
        raise InputFormatError(f"{where}: the vocabulary lists {dup!r} twice; word ids must map "
                               f"to distinct words")
