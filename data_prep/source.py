"""What every reader yields: documents, grouped into work units that worker processes handle.

A reader module provides two functions::

    units(inputs, **options) -> Iterator[WorkUnit]          # runs in the main process, cheap
    documents(unit, dropped, **options) -> Iterator[Document]  # runs in a worker

``documents`` adds the documents it skips to ``dropped`` (reason -> count); ``units`` may do
the same through ``WorkUnit.dropped`` (e.g. redirects seen while streaming an XML dump).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterator


@dataclass
class Document:
    """One raw document. Either ``text`` (to be tokenized) or ``tokens`` (already split)."""

    doc_id: str
    title: str = ""
    text: str | None = None
    tokens: list[str] | None = None
    meta: dict = field(default_factory=dict)


@dataclass
class WorkUnit:
    """A picklable piece of input: ``payload`` is reader-specific (a path, a batch of pages).

    ``n_bytes`` is the raw (compressed) input the unit accounts for, for progress reports.
    """

    payload: object
    n_bytes: int = 0
    dropped: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Source:
    """A reader bound to its options."""

    name: str
    units: Callable[..., Iterator[WorkUnit]]
    documents: Callable[..., Iterator[Document]]
    options: dict = field(default_factory=dict)

    def iter_units(self, inputs) -> Iterator[WorkUnit]:
        return self.units(inputs, **self.options)

    def iter_documents(self, unit: WorkUnit, dropped: dict) -> Iterator[Document]:
        return self.documents(unit, dropped, **self.options)


def count(dropped: dict, reason: str, n: int = 1) -> None:
    """``dropped[reason] += n``."""
    dropped[reason] = dropped.get(reason, 0) + n
