import json

import numpy as np
import pytest

from lda_sketch.exceptions import CorruptDataError, InputFormatError
from lda_sketch.io.corpus import Corpus, heldout_split


def _toy():
    return Corpus.from_documents([[1, 2, 3], [4], [0, 0, 1, 2], [3, 3]], 5, vocab=list("abcde"),
                                 doc_ids=["d1", "d2", "d3", "d4"], titles=["A", "B\tb", "C", "D"])


def test_roundtrip_and_range(tmp_path):
    c = _toy()
    c.write(tmp_path / "c")
    o = Corpus.open(tmp_path / "c", verify=True)
    assert np.array_equal(o.word_ids, c.word_ids) and np.array_equal(o.doc_ptr, c.doc_ptr)
    assert o.vocab == c.vocab and o.titles[1] == "B b"
    s = Corpus.open(tmp_path / "c", doc_range=(1, 3))
    assert s.n_docs == 2 and s.doc_offset == 1 and s.token_offset == 3
    assert list(s.document(1)) == [0, 0, 1, 2]


def test_refuses_existing_and_overwrites(tmp_path):
    _toy().write(tmp_path / "c")
    with pytest.raises(FileExistsError, match="--overwrite"):
        _toy().write(tmp_path / "c")
    _toy().write(tmp_path / "c", overwrite=True)
    assert Corpus.open(tmp_path / "c").n_docs == 4


def test_interrupted_write_leaves_nothing(tmp_path, monkeypatch):
    import lda_sketch.io.corpus as mod

    def boom(*a, **k):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(mod, "_sha256", boom)
    with pytest.raises(OSError, match="No space"):
        _toy().write(tmp_path / "c")
    assert list(tmp_path.iterdir()) == []


def test_bad_corpus_errors(tmp_path):
    with pytest.raises(InputFormatError, match="manifest.json is missing"):
        Corpus.open(tmp_path)
    _toy().write(tmp_path / "c")
    m = json.loads((tmp_path / "c/manifest.json").read_text())
    m["format_version"] = 99
    (tmp_path / "c/manifest.json").write_text(json.dumps(m))
    with pytest.raises(CorruptDataError, match="newer"):
        Corpus.open(tmp_path / "c")


def test_heldout_split_by_seed():
    tr, he = heldout_split(100, 10, seed=3)
    assert len(he) == 10 and len(tr) == 90 and not set(tr) & set(he)
    tr2, he2 = heldout_split(100, 10, seed=3)
    assert np.array_equal(he, he2)
    assert not np.array_equal(he, heldout_split(100, 10, seed=4)[1])
