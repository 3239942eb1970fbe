"""Reader for Reuters-21578 (Distribution 1.0) SGML files ``reut2-*.sgm[.gz]``.

The files are SGML, not XML (no root element, numeric references to control characters), so
stories are cut out with a tolerant regex. Text is decoded as Latin-1 and entities unescaped
(``&lt;``, ``&amp;``, ``&#3;``; references to control characters become nothing).

A document is ``TITLE + BODY``; its id is ``NEWID``; ``meta`` keeps ``lewissplit``, ``topics``
(the attribute: YES/NO/BYPASS), ``topic_labels`` and ``text_type``. Stories without a ``<BODY>``
are ``TYPE="BRIEF"`` (title only) or ``TYPE="UNPROC"`` (unstructured text): they are skipped and
counted as ``brief``/``unprocessed`` unless ``keep_bodyless`` (then BRIEF gives its title and
UNPROC its whole text). ``split`` selects ``all`` stories or the ModApte subsets
(``LEWISSPLIT`` TRAIN resp. TEST with ``TOPICS="YES"``: 9,603 / 3,299 stories); the others are
counted as ``not_in_split``.
"""
from __future__ import annotations

import html
import re
from pathlib import Path

from lda_sketch.exceptions import InputFormatError

from ._io import expand_inputs, file_size, read_bytes
from .source import Document, WorkUnit, count

_STORY_RE = re.compile(r"<REUTERS\b([^>]*)>(.*?)</REUTERS>", re.S)
_ATTR_RE = re.compile(r'(\w+)="([^"]*)"')
_TEXT_RE = re.compile(r"<TEXT\b([^>]*)>(.*?)</TEXT>", re.S)
_TITLE_RE = re.compile(r"<TITLE>(.*?)</TITLE>", re.S)
_BODY_RE = re.compile(r"<BODY>(.*?)</BODY>", re.S)
_TOPICS_RE = re.compile(r"<TOPICS>(.*?)</TOPICS>", re.S)
_D_RE = re.compile(r"<D>(.*?)</D>", re.S)
_TAG_RE = re.compile(r"<[^>]+>")
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def units(inputs, *, split="all", keep_bodyless=False):
    for path in expand_inputs(inputs, what="Reuters SGML (*.sgm, *.sgm.gz)",
                              patterns=("*.sgm", "*.sgm.gz", "*.sgm.bz2")):
        yield WorkUnit(path, n_bytes=file_size(path))


def _unescape(s: str) -> str:
    return _CONTROL_RE.sub("", html.unescape(s))


def documents(unit: WorkUnit, dropped: dict, *, split="all", keep_bodyless=False):
    path = Path(unit.payload)
    text = read_bytes(path).decode("latin-1")
    n_found = 0
    for m in _STORY_RE.finditer(text):
        n_found += 1
        attrs = dict(_ATTR_RE.findall(m.group(1)))
        story = m.group(2)
        if "NEWID" not in attrs:
            line = text.count("\n", 0, m.start()) + 1
            raise InputFormatError(f"{path}:{line}: <REUTERS> element without a NEWID attribute.")
        lewis, topics_attr = attrs.get("LEWISSPLIT", ""), attrs.get("TOPICS", "")
        if split == "modapte-train" and not (lewis == "TRAIN" and topics_attr == "YES"):
            count(dropped, "not_in_split")
            continue
        if split == "modapte-test" and not (lewis == "TEST" and topics_attr == "YES"):
            count(dropped, "not_in_split")
            continue
        tm = _TEXT_RE.search(story)
        text_attrs = dict(_ATTR_RE.findall(tm.group(1))) if tm else {}
        inner = tm.group(2) if tm else ""
        text_type = text_attrs.get("TYPE", "NORM")
        title_m = _TITLE_RE.search(inner)
        title = _unescape(title_m.group(1)).strip() if title_m else ""
        body_m = _BODY_RE.search(inner)
        if body_m:
            body = _unescape(body_m.group(1))
        elif not keep_bodyless:
            count(dropped, "brief" if text_type == "BRIEF" else "unprocessed")
            continue
        elif text_type == "BRIEF":
            body = ""
        else:
            body = _unescape(_TAG_RE.sub(" ", inner))
        topics_m = _TOPICS_RE.search(story)
        labels = _D_RE.findall(topics_m.group(1)) if topics_m else []
        yield Document(attrs["NEWID"], " ".join(title.split()),
                       text=f"{title}\n{body}" if body_m or text_type == "BRIEF" else body,
                       meta={"lewissplit": lewis, "topics": topics_attr,
                             "topic_labels": labels, "text_type": text_type})
    if n_found == 0:
        raise InputFormatError(
            f"{path}: no <REUTERS ...>...</REUTERS> element found; expected a Reuters-21578 "
            f"SGML file (reut2-NNN.sgm or .sgm.gz).")
