"""The embedded default corpus: docstrings of the installed Python standard library.

Every machine with Python has it, so the demo and most tests need no download. Source files are
parsed with :mod:`ast` (never imported). One document per module (its docstring plus those of
its top-level functions) and one per class (its docstring plus those of its methods), in sorted
module order; test packages and GUI/demo/vendored code (``idlelib``, ``tkinter``, ``turtledemo``,
``lib2to3``, ``ensurepip``, ...) are skipped. Documents go through the same tokenizer and
pruning as every other source (:mod:`data_prep.pipeline`).

The result is cached under ``$LDA_SKETCH_CACHE_DIR`` (default ``~/.cache/lda_sketch``) in a
directory named after the Python version and a hash of the build settings, so it is built once.
"""
from __future__ import annotations

import ast
import hashlib
import io
import json
import os
import sys
import sysconfig
import tokenize
from pathlib import Path

from lda_sketch._version import __version__
from lda_sketch.io.corpus import Corpus

from .pipeline import PrepOptions, prepare
from .source import Document, Source, WorkUnit, count

#: Bump when the document extraction changes, so caches are rebuilt.
EMBEDDED_VERSION = 2
DEFAULT_HELDOUT = 300
MIN_DF = 3
MAX_DF_FRAC = 0.5
_SKIP_TOP = {"idlelib", "tkinter", "turtledemo", "lib2to3", "ensurepip", "pydoc_data",
             "__phello__", "antigravity", "this", "test", "unittest", "distutils",
             "msilib", "_pydecimal", "_pyio", "turtle", "encodings"}
_FILES_PER_UNIT = 32


def stdlib_dir() -> Path:
    return Path(sysconfig.get_paths()["stdlib"])


def stdlib_files() -> list[tuple[str, str]]:
    """(module name, path) of the pure-Python stdlib modules used, sorted by module name."""
    root = stdlib_dir()
    out = []
    for name in sorted(getattr(sys, "stdlib_module_names", ())):
        if name in _SKIP_TOP or name.startswith("_"):
            continue
        single = root / f"{name}.py"
        pkg = root / name
        if single.is_file():
            out.append((name, str(single)))
        elif (pkg / "__init__.py").is_file():
            for f in sorted(pkg.rglob("*.py")):
                rel = f.relative_to(root).with_suffix("").parts
                if any(p in ("test", "tests", "idle_test") or p.startswith("test_") for p in rel):
                    continue
                mod = ".".join(rel[:-1] if rel[-1] == "__init__" else rel)
                out.append((mod, str(f)))
    topics = root / "pydoc_data" / "topics.py"
    if topics.is_file():
        out.append(("pydoc_data.topics", str(topics)))
    return out


def module_documents(module: str, source: str) -> list[tuple[str, str, str]]:
    """(doc_id, title, text) documents of one module's source; [] if it does not parse.

    Documents: the module (its docstring and the comments outside functions and classes), each
    top-level function (docstring and comments inside it), each class (its docstring, its
    methods' docstrings and the comments inside it). Comments are prose too and carry much of
    the stdlib's explanation. Empty documents are returned with empty text (counted by caller).
    """
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    comments = _comments(source)  # [(line, column, text)] in line order
    body = tree.body
    n_lines = source.count("\n") + 1
    claimed, docs = set(), []
    for k, node in enumerate(body):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            kind = "class" if isinstance(node, ast.ClassDef) else "function"
            parts = [ast.get_docstring(node) or ""]
            if kind == "class":
                parts += [ast.get_docstring(m) or "" for m in node.body
                          if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef))]
            # a definition owns the comments in its lines and the indented ones that follow
            # its last statement, up to the next top-level statement
            a, b = node.lineno, node.end_lineno or node.lineno
            stop = body[k + 1].lineno if k + 1 < len(body) else n_lines + 1
            for i, (line, col, c) in enumerate(comments):
                if a <= line <= b or (b < line < stop and col > 0):
                    parts.append(c)
                    claimed.add(i)
            docs.append((f"{module}.{node.name}", f"{kind} {module}.{node.name}",
                         "\n\n".join(p for p in parts if p)))
    parts = [ast.get_docstring(tree) or ""] + [c for i, (_, _, c) in enumerate(comments)
                                               if i not in claimed]
    docs.insert(0, (module, f"module {module}", "\n\n".join(p for p in parts if p)))
    return docs


def pydoc_topic_documents(source: str) -> list[tuple[str, str, str]]:
    """One document per help topic of ``pydoc_data/topics.py`` (the language reference text)."""
    tree = ast.parse(source)
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            for k, v in zip(node.keys, node.values):
                if isinstance(k, ast.Constant) and isinstance(v, ast.Constant) \
                        and isinstance(v.value, str):
                    out.append((f"pydoc_data.topics.{k.value}", f"topic {k.value}", v.value))
            break
    return out


def _comments(source: str) -> list[tuple[int, int, str]]:
    out = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type == tokenize.COMMENT:
                text = tok.string.lstrip("#!: ").strip()
                if text:
                    out.append((tok.start[0], tok.start[1], text))
    except (tokenize.TokenError, SyntaxError):
        pass
    return out


# Reader functions for data_prep's pipeline (module level, so they are picklable).
def _units(inputs):
    files = stdlib_files()
    for i in range(0, len(files), _FILES_PER_UNIT):
        batch = files[i:i + _FILES_PER_UNIT]
        yield WorkUnit(batch, n_bytes=sum(os.path.getsize(p) for _, p in batch))


def _documents(unit, dropped):
    for module, path in unit.payload:
        try:
            source = Path(path).read_text("utf-8")
        except (UnicodeDecodeError, OSError):
            count(dropped, "unreadable_source")
            continue
        docs = (pydoc_topic_documents(source) if module == "pydoc_data.topics"
                else module_documents(module, source))
        for doc_id, title, text in docs:
            if text.strip():
                yield Document(doc_id, title, text=text)
            else:
                count(dropped, "no_docstring")


def _settings(heldout: int, seed: int) -> dict:
    return {"embedded_version": EMBEDDED_VERSION, "lda_sketch": __version__,
            "python": sys.version.split()[0], "stdlib": str(stdlib_dir()),
            "heldout": heldout, "seed": seed, "min_df": MIN_DF, "max_df_frac": MAX_DF_FRAC}


def cache_dir(heldout: int = DEFAULT_HELDOUT, seed: int = 0) -> Path:
    """Where :func:`build_embedded_corpus` caches the corpus for these settings."""
    base = Path(os.environ.get("LDA_SKETCH_CACHE_DIR",
                               Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
                               / "lda_sketch"))
    digest = hashlib.sha256(json.dumps(_settings(heldout, seed), sort_keys=True).encode())
    py = "%d.%d" % sys.version_info[:2]
    return base / f"embedded-{py}-{digest.hexdigest()[:12]}"


def build_embedded_corpus(out_dir=None, *, heldout: int | None = DEFAULT_HELDOUT, seed: int = 0,
                          heldout_out=None, overwrite: bool = False
                          ) -> tuple[Corpus, Corpus | None]:
    """(train, held-out) corpora of stdlib docstrings; built once, then opened from disk.

    ``out_dir=None`` uses :func:`cache_dir`; the held-out corpus goes to ``heldout_out`` or
    ``<out_dir>-heldout`` (``<cache>/heldout`` for the cache). ``heldout`` documents are chosen
    at random by ``seed`` and mapped into the training vocabulary; ``heldout=0`` gives
    ``(train, None)``.
    """
    heldout = DEFAULT_HELDOUT if heldout is None else int(heldout)
    if out_dir is None:
        root = cache_dir(heldout, seed)
        train_dir, held_dir = root / "train", root / "heldout"
    else:
        train_dir = Path(out_dir)
        held_dir = (Path(heldout_out) if heldout_out
                    else train_dir.with_name(train_dir.name + "-heldout"))
    def opened():
        return Corpus.open(train_dir), (Corpus.open(held_dir) if heldout else None)

    done = (train_dir / "manifest.json").exists() and (
        not heldout or (held_dir / "manifest.json").exists())
    if done and not overwrite:
        if out_dir is None:
            return opened()
        raise FileExistsError(f"{train_dir} already exists; pass overwrite=True (--overwrite).")
    source = Source("embedded", _units, _documents, {})
    options = PrepOptions(min_df=MIN_DF, max_df_frac=MAX_DF_FRAC, heldout=heldout,
                          heldout_seed=seed)
    try:
        with prepare(source, [str(stdlib_dir())], options=options) as result:
            result.write(train_dir, held_dir, overwrite=overwrite or out_dir is None)
    except FileExistsError:
        if out_dir is not None:
            raise  # a concurrent build of the cache finished first: use it
    return opened()
