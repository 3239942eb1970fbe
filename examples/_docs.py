"""Shared by the examples: the built-in corpus (Python standard-library docstrings, built once
and cached; no download) as plain text and as token lists, the way users hold their own data."""
from __future__ import annotations


def embedded_tokens(n_docs: int | None = None) -> tuple[list[list[str]], list[list[str]]]:
    """(train, held-out) documents as token lists (already tokenized and pruned)."""
    from data_prep.embedded import build_embedded_corpus

    train, held = build_embedded_corpus()

    def tokens(c):
        n = c.n_docs if n_docs is None else min(n_docs, c.n_docs)
        return [[c.vocab[i] for i in c.document(d)] for d in range(n)]

    return tokens(train), tokens(held)


def embedded_texts(n_docs: int | None = None) -> tuple[list[str], list[str]]:
    """(train, held-out) documents as strings, e.g. for a CountVectorizer."""
    train, held = embedded_tokens(n_docs)
    return [" ".join(d) for d in train], [" ".join(d) for d in held]
