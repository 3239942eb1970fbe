"""The embedded stdlib-docstring corpus: size, determinism, split, cache."""
from __future__ import annotations

import time

import numpy as np
import pytest

from data_prep import embedded


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    mp = pytest.MonkeyPatch()
    mp.setenv("LDA_SKETCH_CACHE_DIR", str(cache))
    # CPU time, not wall time: the build is single-process, and the shared test machine's
    # load would otherwise decide the outcome
    t0 = time.process_time()
    train, held = embedded.build_embedded_corpus()
    elapsed = time.process_time() - t0
    yield train, held, elapsed, cache
    mp.undo()


@pytest.mark.slow  # builds the embedded corpus (~6 s)
def test_size_and_build_time(built):
    train, held, elapsed, _ = built
    assert elapsed < 20.0
    assert 2000 <= train.n_docs <= 10000
    assert train.n_tokens >= 100_000
    assert held.n_docs == embedded.DEFAULT_HELDOUT - held.manifest["dropped"]["documents"].get(
        "empty_after_oov", 0)
    assert 1000 <= train.n_vocab <= 20000
    assert train.vocab[:5] and all(len(w) >= 3 for w in train.vocab)


@pytest.mark.slow  # builds the embedded corpus (~6 s)
def test_split_is_disjoint_and_shares_vocabulary(built):
    train, held, _, _ = built
    assert not set(train.doc_ids) & set(held.doc_ids)
    assert held.vocab == train.vocab
    assert held.manifest["dropped"]["tokens"].get("oov", 0) > 0
    assert int(np.max(held.word_ids)) < train.n_vocab


@pytest.mark.slow  # builds the embedded corpus (~6 s)
def test_documents_are_deterministic_and_sorted_by_module(built):
    train, held, _, _ = built
    tops = [d.split(".")[0] for d in train.doc_ids if not d.startswith("pydoc_data")]
    assert tops == sorted(tops)
    everything = set(train.doc_ids) | set(held.doc_ids)
    assert {"json", "collections.OrderedDict", "pydoc_data.topics.assert"} <= everything
    assert not any(d.startswith(("test.", "idlelib", "tkinter")) for d in everything)
    assert embedded.stdlib_files() == embedded.stdlib_files()


@pytest.mark.slow  # builds the embedded corpus (~6 s)
def test_second_call_opens_the_cache(built):
    train, _, _, cache = built
    t0 = time.perf_counter()
    again, _ = embedded.build_embedded_corpus()
    assert time.perf_counter() - t0 < 2.0
    assert again.doc_ids == train.doc_ids
    assert np.array_equal(again.word_ids, train.word_ids)
    assert str(embedded.cache_dir()).startswith(str(cache))


def test_module_documents_split_docstrings_and_comments():
    src = ('"""Module doc."""\n# module comment\n'
           'def f():\n    """Function doc."""\n    # inside f\n\n'
           'class C:\n    """Class doc."""\n    def m(self):\n        """Method doc."""\n')
    docs = embedded.module_documents("mod", src)
    assert docs == [("mod", "module mod", "Module doc.\n\nmodule comment"),
                    ("mod.f", "function mod.f", "Function doc.\n\ninside f"),
                    ("mod.C", "class mod.C", "Class doc.\n\nMethod doc.")]


@pytest.mark.slow  # builds the embedded corpus (~6 s)
def test_no_heldout_gives_train_only(tmp_path):
    train, held = embedded.build_embedded_corpus(tmp_path / "e", heldout=0)
    assert held is None and not (tmp_path / "e-heldout").exists()
    assert train.n_docs >= 3000 and "heldout" not in train.manifest["dropped"]["documents"]
