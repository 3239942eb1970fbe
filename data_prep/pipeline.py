"""Raw documents -> corpus directories: tokenize, split, build the vocabulary, map, write.

Passes, with memory bounded by the vocabulary and the document index, not by the tokens:

1. **Read and tokenize** (``workers`` processes over the reader's work units, results in input
   order). The main process gives each distinct token a provisional id and appends the ids to a
   temporary spill file (int32); it keeps only per-document lengths, ids and titles.
2. **Select** documents: optional random ``sample`` of N documents, then a random held-out set
   of ``heldout`` documents (both keyed by seed through ``lda_sketch.rng``).
3. **Vocabulary** from the training documents only: document/token frequencies, pruning
   (``data_prep.vocab.prune``). With ``vocab_from`` the vocabulary is fixed and unknown tokens are
   counted as ``oov``; with ``hash_bits`` tokens are hashed and nothing is pruned.
4. **Map** the spilled ids into each output corpus (jitted, one pass), dropping pruned/OOV
   tokens and documents left empty, and write atomically through :class:`lda_sketch.io.Corpus`.

Every dropped document and token is counted by reason in the manifest's ``dropped`` block:
``documents`` holds the reader's skips (shared by both outputs) and the split/selection drops;
``tokens`` counts the tokens dropped from the documents of that corpus (the tokens of documents
dropped whole are not counted again).
"""
from __future__ import annotations

import collections
import contextlib
import multiprocessing
import resource
import shutil
import tempfile
import time
from array import array
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from lda_sketch import rng
from lda_sketch._validation import check_float, check_int
from lda_sketch.exceptions import InputFormatError, InvalidParameterError
from lda_sketch.io.corpus import Corpus, heldout_split

from . import vocab as vocab_mod
from ._kernels import count_df_tf, remap_documents
from .source import Source, count
from .tokenize import DROP_SHORT, DROP_STOPWORD, Tokenizer

_SPILL_FLUSH = 1 << 22  # tokens buffered in memory before appending to the spill file


@dataclass(frozen=True)
class PrepOptions:
    """Vocabulary, split and parallelism settings (see ``lda-sketch prep --help``)."""

    min_df: int = 5
    max_df_frac: float = 0.5
    max_vocab: int | None = None
    hash_bits: int | None = None
    vocab_from: str | None = None
    heldout: int = 0
    heldout_seed: int = 0
    sample: int | None = None
    sample_seed: int = 0
    workers: int = 1
    tmp_dir: str | None = None

    def __post_init__(self):
        o = "prep"
        check_int(self.min_df, "min_df", o, lo=1)
        check_float(self.max_df_frac, "max_df_frac", o, lo=0.0, hi=1.0, lo_open=True)
        if self.max_vocab is not None:
            check_int(self.max_vocab, "max_vocab", o, lo=1)
        if self.hash_bits is not None:
            check_int(self.hash_bits, "hash_bits", o, lo=4, hi=31)
        check_int(self.heldout, "heldout", o, lo=0)
        if self.sample is not None:
            check_int(self.sample, "sample", o, lo=1)
        check_int(self.workers, "workers", o, lo=1)
        if self.hash_bits is not None and self.vocab_from is not None:
            raise InvalidParameterError("The 'hash_bits' and 'vocab_from' parameters of prep "
                                        "exclude each other: a hashed --vocab-from corpus "
                                        "already fixes the hash width.")


@dataclass
class PrepResult:
    """Corpora built by :func:`prepare` (word ids may be memory-mapped temporary files)."""

    train: Corpus
    heldout: Corpus | None
    summary: dict = field(default_factory=dict)

    def write(self, out, heldout_out=None, *, overwrite=False) -> None:
        """Write the corpora atomically; if the second write fails the first is removed."""
        out = Path(out)
        heldout_out = Path(heldout_out) if heldout_out else out.with_name(out.name + "-heldout")
        self.train.write(out, overwrite=overwrite)  # the manifest blocks travel in .manifest
        if self.heldout is None:
            return
        try:
            self.heldout.write(heldout_out, overwrite=overwrite)
        except BaseException:
            shutil.rmtree(out, ignore_errors=True)
            raise


def check_outputs(out, heldout_out, *, overwrite: bool, heldout: bool) -> None:
    """Refuse before any work when an output directory exists and ``overwrite`` is false."""
    targets = [Path(out)]
    if heldout:
        targets.append(Path(heldout_out) if heldout_out
                       else Path(out).with_name(Path(out).name + "-heldout"))
    for t in targets:
        if t.exists() and not overwrite:
            what = "a corpus" if (t / "manifest.json").exists() else "files"
            raise FileExistsError(f"{t} already exists and holds {what}; choose another output "
                                  f"directory or pass --overwrite to replace it.")


# --------------------------------------------------------------------------- worker side
_WORKER: tuple[Source, Tokenizer] | None = None


def _init_worker(source: Source, tokenizer: Tokenizer) -> None:
    global _WORKER
    _WORKER = (source, tokenizer)


def _work(unit):
    """Tokenize one work unit: (docs [(id, title, 'tok tok ...', n_short, n_stopword)],
    dropped documents by reason, raw bytes, documents read)."""
    source, tokenizer = _WORKER
    dropped_docs = dict(unit.dropped)
    docs, n_read = [], 0
    for doc in source.iter_documents(unit, dropped_docs):
        n_read += 1
        dt = {}
        toks = (tokenizer.tokenize(doc.text, dt) if doc.tokens is None
                else tokenizer.filter(doc.tokens, dt))
        docs.append((doc.doc_id, doc.title, " ".join(toks), dt.get(DROP_SHORT, 0),
                     dt.get(DROP_STOPWORD, 0)))
    return docs, dropped_docs, unit.n_bytes, n_read


def _results(source: Source, inputs, tokenizer: Tokenizer, workers: int):
    """Work-unit results in input order, with at most ~2 units per worker in flight."""
    if workers == 1:
        _init_worker(source, tokenizer)
        for unit in source.iter_units(inputs):
            yield _work(unit)
        return
    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    with ctx.Pool(workers, initializer=_init_worker, initargs=(source, tokenizer)) as pool:
        pending = collections.deque()
        for unit in source.iter_units(inputs):
            pending.append(pool.apply_async(_work, (unit,)))
            if len(pending) >= 2 * workers + 1:
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()


# --------------------------------------------------------------------------- main side
def _merge(into: dict, more: dict) -> None:
    for k, v in more.items():
        if v:
            count(into, k, v)


def _random_subset(n: int, k: int, seed: int, iteration: int) -> np.ndarray:
    """Sorted int64 indices of ``k`` of ``range(n)``, keyed by (seed, STREAM_SPLIT, iteration)."""
    key = rng.key_for(seed, rng.STREAM_SPLIT, iteration)
    return np.sort(np.argsort(rng.uniforms(key, 0, n), kind="stable")[:k]).astype(np.int64)


@contextlib.contextmanager
def prepare(source: Source, inputs, tokenizer: Tokenizer | None = None,
            options: PrepOptions | None = None, *, progress=None):
    """Build the corpora; yields a :class:`PrepResult` valid inside the ``with`` block.

    ``progress(dict)`` is called about twice a second during pass 1 with ``documents``,
    ``bytes`` (raw input read) and ``elapsed`` (s).
    """
    tokenizer = tokenizer or Tokenizer()
    options = options or PrepOptions()
    inputs = [str(p) for p in inputs]
    t0 = time.perf_counter()

    fixed_vocab = hash_bits = None
    vocab_source = None
    if options.vocab_from is not None:
        fixed_vocab, vmanifest = vocab_mod.load_vocabulary(options.vocab_from)
        if fixed_vocab is None:
            hash_bits = int(vmanifest["preprocessing"]["hash_bits"])
        vocab_source = {"vocab_from": str(Path(options.vocab_from).resolve()),
                        "vocab_sha256": vmanifest.get("files", {}).get("vocab.txt", {})
                        .get("sha256"), "n_vocab": int(vmanifest["n_vocab"])}
    elif options.hash_bits is not None:
        hash_bits = options.hash_bits

    tmp_parent = options.tmp_dir
    with tempfile.TemporaryDirectory(prefix="lda-sketch-prep-", dir=tmp_parent) as tmp:
        tmp = Path(tmp)
        # ---------------- pass 1: read, tokenize, provisional ids, spill
        words: dict[str, int] = {} if fixed_vocab is None else {w: i for i, w in
                                                                 enumerate(fixed_vocab)}
        reverse = vocab_mod.ReverseMap() if hash_bits is not None else None
        lengths, doc_ids, titles = array("q"), [], []
        # tokens dropped per kept document, so each output corpus reports its own documents'
        per_doc = {DROP_SHORT: array("q"), DROP_STOPWORD: array("q"), "oov": array("q")}
        dropped_docs: dict = {}
        n_read = n_bytes = 0
        buf = array("i")
        last_report = time.perf_counter()
        with open(tmp / "spill.i32", "wb") as spill:
            for docs, dd, nb, nr in _results(source, inputs, tokenizer, options.workers):
                _merge(dropped_docs, dd)
                n_bytes += nb
                # documents the reader dropped (dd) were read too: kept + dropped = read
                n_read += nr + sum(dd.values())
                for doc_id, title, joined, n_short, n_stop in docs:
                    n_oov = 0
                    toks = joined.split(" ") if joined else []
                    if hash_bits is not None:
                        ids = [vocab_mod.hashed_id(t, hash_bits) for t in toks]
                        for t, c in collections.Counter(toks).items():
                            reverse.add(vocab_mod.hashed_id(t, hash_bits), t, c)
                    elif fixed_vocab is not None:
                        get = words.get
                        ids = [i for i in (get(t, -1) for t in toks) if i >= 0]
                        n_oov = len(toks) - len(ids)
                    else:
                        setdefault = words.setdefault
                        ids = [setdefault(t, len(words)) for t in toks]
                    if not ids:
                        count(dropped_docs, "empty_after_oov" if toks else
                              "empty_after_preprocessing")
                        continue
                    buf.extend(ids)
                    lengths.append(len(ids))
                    per_doc[DROP_SHORT].append(n_short)
                    per_doc[DROP_STOPWORD].append(n_stop)
                    per_doc["oov"].append(n_oov)
                    doc_ids.append(doc_id)
                    titles.append(title)
                    if len(buf) >= _SPILL_FLUSH:
                        buf.tofile(spill)
                        buf = array("i")
                now = time.perf_counter()
                if progress is not None and now - last_report >= 0.5:
                    last_report = now
                    progress({"documents": n_read, "bytes": n_bytes, "elapsed": now - t0})
            buf.tofile(spill)
            del buf
        if progress is not None:
            progress({"documents": n_read, "bytes": n_bytes,
                      "elapsed": time.perf_counter() - t0, "final": True})
        n_docs = len(lengths)
        if n_docs == 0:
            raise InputFormatError(
                f"no documents left after reading and preprocessing {', '.join(inputs)} "
                f"({n_read} read; dropped: {dropped_docs or 'none'}). Is the input empty or "
                f"of another format?")
        doc_ptr = np.zeros(n_docs + 1, np.int64)
        np.cumsum(np.frombuffer(lengths, np.int64), out=doc_ptr[1:])
        del lengths
        per_doc = {k: np.frombuffer(v, np.int64) for k, v in per_doc.items()}
        ids = np.memmap(tmp / "spill.i32", np.int32, "r", shape=(int(doc_ptr[-1]),))

        # ---------------- pass 2: sample and held-out split
        selected = np.arange(n_docs, dtype=np.int64)
        if options.sample is not None and options.sample < n_docs:
            selected = _random_subset(n_docs, options.sample, options.sample_seed, 1)
            count(dropped_docs, "not_sampled", n_docs - options.sample)
        if options.heldout >= len(selected):
            raise InvalidParameterError(
                f"The 'heldout' parameter of prep must be < the number of documents "
                f"({len(selected)}). Got {options.heldout}.")
        tr, ho = heldout_split(len(selected), options.heldout, options.heldout_seed)
        train_docs, held_docs = selected[tr], selected[ho]

        # ---------------- pass 3: vocabulary on the training documents
        if fixed_vocab is None and hash_bits is None:
            raw_words = list(words)  # dicts keep insertion order: index == provisional id
            del words
            df = np.zeros(len(raw_words), np.int64)
            tf = np.zeros(len(raw_words), np.int64)
            count_df_tf(doc_ptr, ids, train_docs, df, tf)
            remap, vocab = vocab_mod.prune(raw_words, df, tf, len(train_docs),
                                           min_df=options.min_df,
                                           max_df_frac=options.max_df_frac,
                                           max_vocab=options.max_vocab)
            n_raw_vocab = len(raw_words)
            del raw_words, df, tf
            n_vocab = len(vocab)
            if n_vocab == 0:
                raise InputFormatError(
                    f"the vocabulary is empty after pruning (min_df={options.min_df}, "
                    f"max_df_frac={options.max_df_frac}) on {len(train_docs)} training "
                    f"documents; for a small corpus lower --min-df or raise --max-df-frac.")
        elif hash_bits is not None:
            n_vocab = 1 << hash_bits
            vocab, n_raw_vocab = None, None
            remap = np.arange(n_vocab, dtype=np.int32)
        else:
            vocab, n_vocab, n_raw_vocab = fixed_vocab, len(fixed_vocab), None
            remap = np.arange(n_vocab, dtype=np.int32)

        preprocessing = dict(tokenizer.describe(), min_df=options.min_df,
                             max_df_frac=options.max_df_frac, max_vocab=options.max_vocab,
                             hash_bits=hash_bits, n_raw_vocab=n_raw_vocab)
        if vocab_source:
            preprocessing.update(vocab_source)
            preprocessing.update(min_df=None, max_df_frac=None, max_vocab=None)
        elif hash_bits is not None:
            preprocessing.update(min_df=None, max_df_frac=None, max_vocab=None)
        source_block = {"reader": source.name, "inputs": [str(Path(p).resolve()) for p in inputs],
                        "options": _jsonable(source.options), "input_bytes": n_bytes,
                        "documents_read": n_read, "sample": options.sample,
                        "sample_seed": options.sample_seed if options.sample else None,
                        "heldout": options.heldout,
                        "heldout_seed": options.heldout_seed if options.heldout else None}
        elapsed_pass1 = time.perf_counter() - t0

        # ---------------- pass 4: map into each output corpus
        def build(part: str, docs: np.ndarray, remap_part: np.ndarray, ids=ids) -> Corpus:
            # ids bound at definition: the spill map is deleted after the outputs are built
            n_out = int(np.sum(doc_ptr[docs + 1] - doc_ptr[docs]))
            out_ids = (np.memmap(tmp / f"{part}.i32", np.int32, "w+", shape=(n_out,))
                       if n_out else np.zeros(0, np.int32))
            out_len = np.zeros(len(docs), np.int64)
            n_dropped = np.zeros(len(vocab_mod.DROP_REASONS) + 1, np.int64)
            n_kept = remap_documents(doc_ptr, ids, docs, remap_part, out_ids, out_len, n_dropped)
            keep = np.flatnonzero(out_len > 0)
            part_ptr = np.zeros(len(keep) + 1, np.int64)
            np.cumsum(out_len[keep], out=part_ptr[1:])
            part_tokens = {k: int(v[docs].sum()) for k, v in per_doc.items() if v[docs].any()}
            for code, reason in vocab_mod.DROP_REASONS.items():
                if n_dropped[code]:
                    count(part_tokens, reason, int(n_dropped[code]))
            part_docs = dict(dropped_docs)
            n_empty = len(docs) - len(keep)
            if n_empty:
                count(part_docs, "empty_after_pruning" if part == "train" else "empty_after_oov",
                      n_empty)
            other = held_docs if part == "train" else train_docs
            if len(other):
                count(part_docs, "heldout" if part == "train" else "train", len(other))
            if len(keep) == 0:
                raise InputFormatError(f"the {part} corpus has no documents left after mapping "
                                       f"into the vocabulary ({part_docs}).")
            kept_docs = docs[keep]
            manifest = {
                "hashed": hash_bits is not None,
                "source": dict(source_block, part=part if part == "heldout" or (
                    fixed_vocab is None and hash_bits is None) else "mapped"),
                "preprocessing": preprocessing,
                "dropped": {"documents": dict(sorted(part_docs.items())),
                            "tokens": dict(sorted(part_tokens.items()))},
                "build": {"elapsed_s": round(time.perf_counter() - t0, 3),
                          "workers": options.workers, "peak_rss_mib": peak_rss_mib()},
            }
            return Corpus(part_ptr, out_ids[:n_kept], n_vocab, vocab,
                          [doc_ids[i] for i in kept_docs], [titles[i] for i in kept_docs],
                          reverse.result() if reverse is not None else None, manifest)

        train = build("train", train_docs, remap)
        heldout = None
        if len(held_docs):
            remap_held = np.where(remap >= 0, remap, -vocab_mod.CODE_OOV).astype(np.int32)
            heldout = build("heldout", held_docs, remap_held)
        summary = {"elapsed_s": time.perf_counter() - t0, "elapsed_read_s": elapsed_pass1,
                   "input_bytes": n_bytes, "documents_read": n_read}
        result = PrepResult(train, heldout, summary)
        try:
            yield result
        finally:
            # release the memory maps before the temporary directory goes
            result.train = result.heldout = None
            del train, heldout, ids


def peak_rss_mib() -> float:
    """Peak resident memory of this process and of its finished children (MiB, Linux units)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return round(max(own, kids) / 1024.0, 1)


def _jsonable(d: dict) -> dict:
    out = {}
    for k, v in d.items():
        out[k] = list(v) if isinstance(v, (tuple, frozenset, set)) else v
    return out

