"""``lda-sketch infer RUN_DIR|MODEL_DIR INPUT... --out DIR``: topic proportions of new documents."""
from __future__ import annotations

import time

from ._command import add_command, add_model_arg
from .topics import add_fold_in_args, load_for_fold_in

NAME = "infer"
HELP = """\
topic proportions of new documents (text, pre-tokenized text, MatrixMarket or corpus
directories) under a trained model; shards the documents across ranks under mpiexec"""
DESCRIPTION = """\
Fold new documents into a trained model (EM on each document's topic proportions, the model's
topics fixed) and write them like `lda-sketch export`'s: doc-topics.txt (Mallet-style: number,
id, K proportions), doc_topics.npy (D x K float64) and infer.json (counts of documents, tokens
and unknown words). INPUT is a corpus directory over the model's vocabulary (`lda-sketch prep
--vocab-from RUN_DIR/model`), or text files and folders, one document per file (--lines: per
line), tokenized as `lda-sketch prep` does; --format tokens reads one pre-tokenized document
per line (tokens as they are), --format mm a gensim MmCorpus with its --dictionary. Words
outside the model's vocabulary are dropped and counted. Under `mpiexec -n P` each rank folds in
its share of the documents (the result is the same as on one process) and rank 0 writes the
output directory, atomically."""


def register(sub) -> None:
    p = add_command(sub, NAME, HELP, DESCRIPTION, run)
    add_model_arg(p)
    p.add_argument("inputs", nargs="+", metavar="INPUT",
                   help="a corpus directory (holds manifest.json), or text files / folders")
    p.add_argument("--out", required=True, metavar="DIR", help="output directory (atomic)")
    p.add_argument("--overwrite", action="store_true", help="replace DIR if it exists")
    p.add_argument("--lines", action="store_true",
                   help="text input: one document per non-blank line instead of per file")
    p.add_argument("--format", choices=FORMATS, default="auto",
                   help="input format (default auto: a corpus directory when INPUT holds "
                        "manifest.json, mm for .mm files, else text)")
    p.add_argument("--dictionary", metavar="DICT.txt",
                   help="--format mm: gensim Dictionary.save_as_text output of the .mm file")
    add_fold_in_args(p)


FORMATS = ("auto", "corpus", "text", "tokens", "mm")
#: Documents folded in per block (one progress line each on rank 0).
BLOCK_DOCS = 20_000


def read_documents(inputs, model, *, lines: bool = False, fmt: str = "auto",
                   dictionary=None):
    """``(corpus, n_raw_tokens)``: a Corpus over ``model``'s vocabulary from one corpus
    directory, text files and folders (``lines``: a document per line), pre-tokenized lines
    (``fmt="tokens"``) or a MatrixMarket file with its gensim ``dictionary`` (``fmt="mm"``)."""
    from pathlib import Path

    from ..api.inputs import as_corpus

    paths = [Path(p) for p in inputs]
    if fmt == "auto":
        fmt = ("corpus" if any((p / "manifest.json").is_file() for p in paths) else
               "mm" if all(p.suffix == ".mm" for p in paths) else "text")
    if fmt == "corpus":
        if len(paths) != 1 or not (paths[0] / "manifest.json").is_file():
            raise ValueError("give one corpus directory, or text files and folders, not both")
        corpus = as_corpus(paths[0], "INPUT", ref=model)
        return corpus, int(corpus.n_tokens)
    from data_prep import Tokenizer
    from data_prep import mm, text as text_reader, tokens as tokens_reader

    tokenizer, dropped, ids, docs = Tokenizer(), {}, [], []
    if fmt == "mm":
        stream = (d for u in mm.units(paths, dictionary=dictionary)
                  for d in mm.documents(u, dropped, dictionary=dictionary))
    elif fmt == "tokens":
        stream = (d for u in tokens_reader.units(paths)
                  for d in tokens_reader.documents(u, dropped))
    else:
        stream = (d for u in text_reader.units(paths, one_per_line=lines)
                  for d in text_reader.documents(u, dropped, one_per_line=lines))
    for doc in stream:
        ids.append(doc.doc_id)
        docs.append(doc.tokens if doc.tokens is not None else
                    tokenizer.tokenize(doc.text, dropped))
    if not docs:
        raise ValueError(f"no documents in {', '.join(map(str, inputs))}")
    corpus = as_corpus(docs, "INPUT", ref=model)
    corpus.doc_ids = ids
    return corpus, sum(len(d) for d in docs)


def fold_in(model, corpus, comm, *, threads=None, progress: bool = True):
    """theta (n_docs, K) float64 of ``corpus`` under ``model`` on every rank: each rank folds
    in its contiguous share of the documents, in blocks of :data:`BLOCK_DOCS` (a log line per
    block on rank 0), then the shares are gathered. The same bytes for any rank count (each
    document's fold-in depends on that document alone)."""
    import logging

    import numpy as np

    from ..distributed.partition import partition_by_tokens
    from ..run.threads import numba_threads

    log = logging.getLogger(__name__)
    K, D = model.n_topics, corpus.n_docs
    bounds = partition_by_tokens(corpus.doc_ptr, comm.size)
    lo, hi = int(bounds[comm.rank]), int(bounds[comm.rank + 1])
    mine = np.empty((hi - lo, K), np.float64)
    t0 = time.perf_counter()
    with numba_threads(threads):
        for a in range(lo, hi, BLOCK_DOCS):
            b = min(a + BLOCK_DOCS, hi)
            mine[a - lo:b - lo] = model.transform(corpus.subset(range(a, b)))
            if progress and comm.rank == 0 and hi - lo > BLOCK_DOCS:
                log.info("folded in %d/%d documents of rank 0 (%.0f documents/s)", b - lo,
                         hi - lo, (b - lo) / max(time.perf_counter() - t0, 1e-9))
    if comm.size == 1:
        return mine
    counts = np.array(comm.allgather(int(mine.size)), np.int64)
    out = np.empty(D * K, np.float64)
    comm.allgatherv(mine.reshape(-1), counts, out)
    return out.reshape(D, K)


def run(args) -> int:
    import json

    import numpy as np

    from ..api.inputs import n_dropped_oov
    from ..distributed.collective import collective_errors
    from ..distributed.comm import get_comm
    from ..io.atomic import atomic_directory
    from ..io.text_table import write_rows

    from pathlib import Path

    comm = get_comm()
    with collective_errors(comm, "reading the model and the documents"):
        if Path(args.out).exists() and not args.overwrite:  # before any work
            raise FileExistsError(f"{args.out} already exists; choose another --out or pass "
                                  f"--overwrite")
        model = load_for_fold_in(args)
        t0 = time.perf_counter()
        corpus, n_raw = read_documents(args.inputs, model, lines=args.lines, fmt=args.format,
                                       dictionary=args.dictionary)
    theta = fold_in(model, corpus, comm, threads=args.threads)
    seconds = time.perf_counter() - t0
    if comm.rank:
        return 0
    ids = list(corpus.doc_ids) if corpus.doc_ids is not None else [
        str(d) for d in range(corpus.n_docs)]
    info = {"n_docs": int(corpus.n_docs), "n_tokens": int(corpus.n_tokens),
            "n_tokens_read": int(n_raw), "n_oov_tokens": n_dropped_oov(corpus),
            "n_topics": int(model.n_topics), "fold_in_iters": int(model.fold_in_iters),
            "seconds": round(seconds, 3), "n_ranks": comm.size,
            "inputs": [str(p) for p in args.inputs]}
    with atomic_directory(args.out, overwrite=args.overwrite) as tmp:
        np.save(tmp / "doc_topics.npy", theta)
        with open(tmp / "doc-topics.txt", "wb") as f:
            write_rows(f, [f"{d}\t{str(i).replace(chr(9), ' ')}\t" for d, i in enumerate(ids)],
                       theta)
        (tmp / "infer.json").write_text(json.dumps(info, indent=1) + "\n", "utf-8")
    print(f"wrote {args.out}: {info['n_docs']:,} documents, {info['n_tokens']:,} tokens in the "
          f"model's vocabulary ({info['n_oov_tokens']:,} unknown dropped), "
          f"{info['n_docs'] / max(seconds, 1e-9):,.0f} documents/s")
    return 0
