"""Fixtures of the data-preparation tests: the hand-written files in tests/data."""
from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture
def data_dir() -> Path:
    return DATA


def _read_all(source, inputs):
    dropped, docs = {}, []
    for unit in source.iter_units([str(p) for p in inputs]):
        for k, v in unit.dropped.items():
            dropped[k] = dropped.get(k, 0) + v
        docs.extend(source.iter_documents(unit, dropped))
    return docs, dropped


@pytest.fixture
def read_all():
    """``read_all(source, inputs) -> (documents, dropped)``: a reader's output, untokenized."""
    return _read_all
