"""Fixtures of the fuzz suite. ``fuzz_long`` tests are skipped unless selected
(``-m fuzz_long``) or ``LDA_SKETCH_FUZZ_LONG=1`` is set."""
from __future__ import annotations

import os

import pytest

from _cases import build_files


def pytest_collection_modifyitems(config, items):
    if "fuzz_long" in (config.getoption("-m") or "") or os.environ.get("LDA_SKETCH_FUZZ_LONG"):
        return
    skip = pytest.mark.skip(reason="long fuzz run: select with -m fuzz_long")
    for item in items:
        if "fuzz_long" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def fuzz_files(tmp_path_factory):
    return build_files(tmp_path_factory.mktemp("fuzz"))
