"""Raw text collections -> lda_sketch corpus directories (``lda-sketch prep``).

Readers (one module each) yield documents; :mod:`data_prep.pipeline` tokenizes them with the one
:class:`~data_prep.tokenize.Tokenizer`, builds the vocabulary on the training part only, and
writes through :class:`lda_sketch.io.Corpus`. Also here: the embedded default corpus
(:mod:`data_prep.embedded`) and synthetic corpora with planted topics (:mod:`data_prep.synthetic`).
Layer (docs/ARCHITECTURE.md): this package imports only lda_sketch's foundations and ``io``; only
lda_sketch's orchestration (``run/``, ``cli/``) imports it.
"""
from __future__ import annotations

from importlib import import_module

from .pipeline import PrepOptions, PrepResult, check_outputs, prepare
from .source import Document, Source, WorkUnit
from .tokenize import Tokenizer, load_stopwords

#: reader name (as in ``lda-sketch prep NAME``) -> module under data_prep
READERS = {"reuters": "reuters", "wikipedia-xml": "wikipedia", "wikiextractor": "wikiextractor",
           "uci": "uci", "text": "text", "tokens": "tokens",
           "mm": "mm"}


def make_source(name: str, **options) -> Source:
    """The reader ``name`` bound to its options, e.g. ``make_source("reuters", split="all")``."""
    if name not in READERS:
        raise ValueError(f"unknown reader {name!r}; choose one of {', '.join(READERS)}.")
    mod = import_module(f"{__name__}.{READERS[name]}")
    return Source(name, mod.units, mod.documents, dict(options))


__all__ = ["Document", "PrepOptions", "PrepResult", "READERS", "Source", "Tokenizer", "WorkUnit",
           "check_outputs", "load_stopwords", "make_source", "prepare"]
