"""Tokenizer rules, stop words, pruning rules, stable hashing and the bounded reverse map."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from data_prep.tokenize import Tokenizer, load_stopwords
from data_prep.vocab import ReverseMap, hashed_id, prune, stable_hash64
from lda_sketch.exceptions import InputFormatError, InvalidParameterError


def test_tokenizer_rules():
    tok = Tokenizer(min_token_length=3, stopwords=frozenset({"the", "don't"}))
    dropped = {}
    text = "The COVID19 report: Europe’s O'Brien don't x_y Zürich москва ab"
    out = tok.tokenize(text, dropped)
    # digits/underscores split words, possessive 's stripped, curly apostrophe normalised
    assert out == ["covid", "report", "europe", "o'brien", "zürich", "москва"]
    assert dropped == {"stopword": 2, "short": 3}  # the, don't | x, y, ab


def test_shipped_stopwords_are_standard_size_and_lowercase():
    words = load_stopwords()
    assert 250 <= len(words) <= 400
    assert {"the", "and", "of", "which", "don't"} <= words
    assert all(w == w.lower() and w.strip() == w for w in words)


def test_custom_stopword_file(tmp_path):
    f = tmp_path / "stop.txt"
    f.write_text("# comment\nFoo\n\nbar  # trailing comment\n", "utf-8")
    assert load_stopwords(f) == frozenset({"foo", "bar"})
    f.write_text("two words\n", "utf-8")
    with pytest.raises(InputFormatError, match=r"stop.txt:1: .*one word per line"):
        load_stopwords(f)


def test_tokenizer_validates_min_length():
    with pytest.raises(InvalidParameterError, match="'min_token_length' parameter of Tokenizer"):
        Tokenizer(min_token_length=0)


def test_prune_rules_and_order():
    words = ["common", "rare", "mid", "top", "also"]
    df = np.array([10, 1, 3, 4, 3])
    tf = np.array([50, 1, 7, 9, 7])
    remap, vocab = prune(words, df, tf, 10, min_df=2, max_df_frac=0.5, max_vocab=2)
    # common: df 10 > 0.5*10 -> max_df; rare -> min_df; of the rest top(9) > also(7)=mid(7):
    # ties broken by the word, so 'also' beats 'mid'
    assert vocab == ["top", "also"]
    assert remap.tolist() == [-2, -1, -3, 0, 1]


@pytest.mark.slow
def test_stable_hash_is_not_process_salted():
    code = "from data_prep.vocab import stable_hash64; print(stable_hash64('zürich'))"
    outs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           env={"PYTHONHASHSEED": str(s)}, check=True).stdout.strip()
            for s in (1, 2)}
    assert outs == {str(stable_hash64("zürich"))}
    assert 0 <= hashed_id("zürich", 10) < 1024
    assert hashed_id("zürich", 10) == stable_hash64("zürich") % 1024


def test_reverse_map_keeps_heavy_strings_in_bounded_memory():
    rm = ReverseMap(capacity=4, top=3)
    # id 7: 'heavy' is 40% of the stream, spread among many one-off strings
    for i in range(500):
        rm.add(7, "heavy" if i % 5 < 2 else f"noise{i}")
    rm.add(3, "b", 2)
    rm.add(3, "a", 2)
    res = rm.result()
    assert len(rm._slots[7]) <= 4
    assert res[7][0][0] == "heavy"
    assert res[3] == [("a", 2), ("b", 2)]
