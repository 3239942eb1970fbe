"""Reader for MediaWiki XML dumps (``pages-articles*.xml`` or ``.xml.bz2``), streamed.

The main process streams ``<page>`` elements with ``iterparse`` (memory bounded by one page:
finished elements are cleared), keeps namespace ``0`` and counts what it skips (``redirect``,
``non_article_namespace``), and hands batches of raw wikitext to the workers. A worker turns
wikitext into prose with ``mwparserfromhell``: references, tables, galleries, math, comments,
file/image links and category links are removed first, then ``strip_code()`` drops templates and
keeps the visible text of links. The dump's 6.7M articles therefore go through ``--workers N``
processes with memory bounded by the batch size. mwparserfromhell is an optional dependency
(``lda_sketch[wikipedia]``); without it the reader stops before reading, naming the remedy.
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from lda_sketch.exceptions import InputFormatError, MissingDependencyError

from ._io import compressed_error, expand_inputs, open_binary
from .source import Document, WorkUnit, count

PAGES_PER_UNIT = 32

# Tags whose content is never prose.
_DROP_TAGS = {"ref", "references", "table", "gallery", "math", "chem", "timeline", "score",
              "syntaxhighlight", "source", "pre", "code", "imagemap", "graph", "hiero", "nowiki"}
_DROP_LINK_PREFIXES = ("file:", "image:", "category:", "media:")
_INTERWIKI_RE = re.compile(r"^:?[a-z]{2,3}(?:-[a-z]+)?:")
_BLANKS_RE = re.compile(r"\n\s*\n+")
# Cut before parsing: references and comments are never prose and are a large part of the bytes.
_REF_RE = re.compile(r"<ref\b[^>/]*/>|<ref\b[^>]*>.*?</ref\s*>", re.S | re.I)
_COMMENT_RE = re.compile(r"<!--.*?-->", re.S)
_TABLE_LINE_RE = re.compile(r"^[ \t]*(?:\{\||\|\}|\|-|\|\+|\||!).*$", re.M)


def units(inputs, *, namespaces=(0,)):
    _mwparser()  # fail in the main process, before any worker starts
    for path in expand_inputs(inputs, what="MediaWiki XML"):
        yield from _page_batches(path, frozenset(namespaces))


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _page_batches(path: Path, namespaces):
    stream, raw = open_binary(path)
    batch, dropped = [], {}
    reported = 0
    n_pages = 0
    try:
        with stream:
            context = ET.iterparse(stream, events=("start", "end"))
            root = None
            for event, elem in context:
                if event == "start":
                    if root is None:
                        root = elem
                        if _local(root.tag) != "mediawiki":
                            raise InputFormatError(
                                f"{path}: root element is <{_local(root.tag)}>, expected "
                                f"<mediawiki> (a MediaWiki XML export).")
                    continue
                if _local(elem.tag) != "page":
                    continue
                n_pages += 1
                page = _page_fields(elem)
                root.clear()  # drop finished pages: memory stays bounded by one page
                if page["redirect"]:
                    count(dropped, "redirect")
                elif page["ns"] not in namespaces:
                    count(dropped, "non_article_namespace")
                else:
                    batch.append((page["id"], page["title"], page["text"]))
                if len(batch) >= PAGES_PER_UNIT:
                    yield WorkUnit(batch, n_bytes=raw.n_read - reported, dropped=dropped)
                    reported, batch, dropped = raw.n_read, [], {}
    except ET.ParseError as exc:
        line, col = exc.position
        raise InputFormatError(f"{path}:{line}:{col}: malformed XML ({exc}). "
                               f"Is the file complete?") from None
    except (EOFError, OSError) as exc:
        raise compressed_error(path, exc) from None
    if n_pages == 0:
        raise InputFormatError(f"{path}: no <page> element found; expected a MediaWiki XML "
                               f"export (pages-articles*.xml[.bz2]).")
    if batch or dropped or raw.n_read > reported:
        yield WorkUnit(batch, n_bytes=raw.n_read - reported, dropped=dropped)


def _page_fields(page) -> dict:
    out = {"ns": 0, "title": "", "id": "", "redirect": False, "text": ""}
    for child in page:
        tag = _local(child.tag)
        if tag == "title":
            out["title"] = child.text or ""
        elif tag == "ns":
            out["ns"] = int(child.text or 0)
        elif tag == "id":
            out["id"] = child.text or ""
        elif tag == "redirect":
            out["redirect"] = True
        elif tag == "revision":
            for r in child:
                if _local(r.tag) == "text":
                    out["text"] = r.text or ""
    if not out["redirect"] and out["text"][:9].upper() == "#REDIRECT":
        out["redirect"] = True
    return out


def documents(unit: WorkUnit, dropped: dict, *, namespaces=(0,)):
    for page_id, title, wikitext in unit.payload:
        yield Document(page_id, title, text=wikitext_to_text(wikitext))


def wikitext_to_text(wikitext: str) -> str:
    """Readable prose of a page's wikitext (see the module docstring for what is removed)."""
    code = _mwparser().parse(_REF_RE.sub(" ", _COMMENT_RE.sub("", wikitext)))
    _prune(code)
    text = code.strip_code(normalize=True, collapse=True)
    # Tables the parser could not match (unbalanced, or inside templates) survive as row lines.
    text = _TABLE_LINE_RE.sub("", text)
    return _BLANKS_RE.sub("\n\n", text).strip()


def _mwparser():
    """The ``mwparserfromhell`` module, or a one-line error naming the extra that installs it."""
    try:
        import mwparserfromhell
    except ImportError:
        raise MissingDependencyError(
            "the wikipedia-xml reader needs mwparserfromhell, which is not installed: "
            "pip install 'lda_sketch[wikipedia]'") from None
    return mwparserfromhell


def _prune(code) -> None:
    """Remove non-prose nodes in place, recursively (one pass; ``Wikicode.remove`` is quadratic)."""
    from mwparserfromhell.nodes import Comment, Tag, Wikilink

    kept = []
    for node in code.nodes:
        if isinstance(node, Comment):
            continue
        if isinstance(node, Tag) and str(node.tag).strip().lower() in _DROP_TAGS:
            continue
        if isinstance(node, Wikilink):
            target = str(node.title).strip().lower()
            if target.startswith(_DROP_LINK_PREFIXES) or _INTERWIKI_RE.match(target):
                continue
        for child in node.__children__():
            _prune(child)
        kept.append(node)
    code.nodes = kept
