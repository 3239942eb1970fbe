"""The one tokenizer every source goes through.

Rules, in order:

1. Lowercase the text (``str.lower``) and map the typographic apostrophe ``’`` to ``'``.
2. Tokens are maximal runs of Unicode letters, optionally joined by single apostrophes:
   ``TOKEN_PATTERN = [^\\W\\d_]+(?:'[^\\W\\d_]+)*`` — so digits, underscores and punctuation
   split words ("covid19" -> "covid"), "don't" and "o'brien" stay whole, and letters of any
   script count ("zürich", "москва").
3. A trailing possessive ``'s`` is removed ("europe's" -> "europe").
4. Tokens shorter than ``min_token_length`` characters are dropped (reason ``short``), then stop
   words (reason ``stopword``; the default list is ``stopwords_en.txt`` next to this module).

Dropped tokens are counted by reason, never silently skipped.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from lda_sketch._validation import check_int
from lda_sketch.exceptions import InputFormatError

TOKEN_PATTERN = r"[^\W\d_]+(?:'[^\W\d_]+)*"
_TOKEN_RE = re.compile(TOKEN_PATTERN)

#: Token-drop reasons produced by :meth:`Tokenizer.tokenize`.
DROP_SHORT = "short"
DROP_STOPWORD = "stopword"


def load_stopwords(path=None) -> frozenset[str]:
    """Stop words from ``path`` (one per line, ``#`` comments), or the shipped English list.

    Words are lowercased and ``’`` normalised, as the tokenizer does with text.
    """
    if path is None:
        text = resources.files(__package__).joinpath("stopwords_en.txt").read_text("utf-8")
        where = "stopwords_en.txt"
    else:
        where = str(path)
        try:
            text = Path(path).read_text("utf-8")
        except UnicodeDecodeError as exc:
            raise InputFormatError(f"{path}: stop-word file is not UTF-8 (byte {exc.start}). "
                                   f"Save it as UTF-8 text, one word per line.") from None
    words = set()
    for lineno, line in enumerate(text.splitlines(), 1):
        w = line.split("#", 1)[0].strip().lower().replace("\u2019", "'")
        if not w:
            continue
        if any(c.isspace() for c in w):
            raise InputFormatError(f"{where}:{lineno}: stop word {w!r} contains whitespace; "
                                   f"put one word per line.")
        words.add(w)
    return frozenset(words)


@dataclass(frozen=True)
class Tokenizer:
    """Lowercasing letter-run tokenizer with length and stop-word filters (module docstring).

    Picklable, so worker processes get an identical copy.
    """

    min_token_length: int = 3
    stopwords: frozenset = field(default_factory=load_stopwords)
    strip_possessive: bool = True  # False: pre-tokenized input (prep tokens / mm) kept as is

    def __post_init__(self):
        check_int(self.min_token_length, "min_token_length", "Tokenizer", lo=1)

    def tokenize(self, text: str, dropped: dict) -> list[str]:
        """Tokens of ``text`` that survive the filters; drop counts by reason go to ``dropped``."""
        raw = _TOKEN_RE.findall(text.lower().replace("\u2019", "'"))
        return self.filter(raw, dropped)

    def filter(self, tokens: list[str], dropped: dict) -> list[str]:
        """Apply possessive stripping, length and stop-word filters to already-split tokens."""
        m, stop = self.min_token_length, self.stopwords
        out = []
        n_short = n_stop = 0
        for t in tokens:
            if self.strip_possessive and "'" in t and t.endswith("'s"):
                t = t[:-2]
            if len(t) < m:
                n_short += 1
            elif t in stop:
                n_stop += 1
            else:
                out.append(t)
        if n_short:
            dropped[DROP_SHORT] = dropped.get(DROP_SHORT, 0) + n_short
        if n_stop:
            dropped[DROP_STOPWORD] = dropped.get(DROP_STOPWORD, 0) + n_stop
        return out

    def describe(self) -> dict:
        """Settings for the corpus manifest (the stop-word list by size and digest)."""
        import hashlib
        digest = hashlib.sha256("\n".join(sorted(self.stopwords)).encode()).hexdigest()[:16]
        return {"tokenizer": "lowercase-letter-runs", "token_pattern": TOKEN_PATTERN,
                "strip_possessive": self.strip_possessive,
                "min_token_length": self.min_token_length,
                "n_stopwords": len(self.stopwords), "stopwords_sha256_16": digest}
