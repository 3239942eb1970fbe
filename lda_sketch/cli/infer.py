"""``lda-sketch infer RUN_DIR|MODEL_DIR INPUT... --out DIR``: topic proportions of new documents."""
from __future__ import annotations

import time

from ._command import add_command, add_model_arg
from .topics import add_fold_in_args, load_for_fold_in

NAME = "infer"
HELP = """\
topic proportions of new documents (text files and folders, or corpus directories) under a
trained model"""
DESCRIPTION = """\
Fold new documents into a trained model (EM on each document's topic proportions, the model's
topics fixed) and write them like `lda-sketch export`'s: doc-topics.txt (Mallet-style: number,
id, K proportions), doc_topics.npy (D x K float64) and infer.json (counts of documents, tokens
and unknown words). INPUT is a corpus directory over the model's vocabulary (`lda-sketch prep
--vocab-from RUN_DIR/model`), or text files and folders, one document per file (--lines: per
line), tokenized as `lda-sketch prep` does; words outside the model's vocabulary are dropped and
counted. The output directory is written atomically."""


def register(sub) -> None:
    p = add_command(sub, NAME, HELP, DESCRIPTION, run)
    add_model_arg(p)
    p.add_argument("inputs", nargs="+", metavar="INPUT",
                   help="a corpus directory (holds manifest.json), or text files / folders")
    p.add_argument("--out", required=True, metavar="DIR", help="output directory (atomic)")
    p.add_argument("--overwrite", action="store_true", help="replace DIR if it exists")
    p.add_argument("--lines", action="store_true",
                   help="text input: one document per non-blank line instead of per file")
    add_fold_in_args(p)


def read_documents(inputs, model, *, lines: bool = False):
    """``(corpus, n_raw_tokens)``: a Corpus over ``model``'s vocabulary from one corpus
    directory, or from text files and folders (``lines``: a document per line)."""
    from pathlib import Path

    from ..api.inputs import as_corpus

    paths = [Path(p) for p in inputs]
    corpora = [p for p in paths if (p / "manifest.json").is_file()]
    if corpora:
        if len(paths) != 1:
            raise ValueError("give one corpus directory, or text files and folders, not both")
        corpus = as_corpus(paths[0], "INPUT", ref=model)
        return corpus, int(corpus.n_tokens)
    from data_prep import Tokenizer
    from data_prep import text as text_reader

    tokenizer, dropped, ids, docs = Tokenizer(), {}, [], []
    for unit in text_reader.units(paths, one_per_line=lines):
        for doc in text_reader.documents(unit, dropped, one_per_line=lines):
            ids.append(doc.doc_id)
            docs.append(tokenizer.tokenize(doc.text, dropped))
    if not docs:
        raise ValueError(f"no documents in {', '.join(map(str, inputs))}")
    corpus = as_corpus(docs, "INPUT", ref=model)
    corpus.doc_ids = ids
    return corpus, sum(len(d) for d in docs)


def run(args) -> int:
    import json

    import numpy as np

    from ..api.inputs import n_dropped_oov
    from ..io.atomic import atomic_directory
    from ..io.text_table import write_rows
    from ..run.threads import numba_threads

    from pathlib import Path

    if Path(args.out).exists() and not args.overwrite:  # before any work
        raise FileExistsError(f"{args.out} already exists; choose another --out or pass "
                              f"--overwrite")
    model = load_for_fold_in(args)
    t0 = time.perf_counter()
    corpus, n_raw = read_documents(args.inputs, model, lines=args.lines)
    with numba_threads(args.threads):
        theta = model.transform(corpus)
    seconds = time.perf_counter() - t0
    ids = list(corpus.doc_ids) if corpus.doc_ids is not None else [
        str(d) for d in range(corpus.n_docs)]
    info = {"n_docs": int(corpus.n_docs), "n_tokens": int(corpus.n_tokens),
            "n_tokens_read": int(n_raw), "n_oov_tokens": n_dropped_oov(corpus),
            "n_topics": int(model.n_topics), "fold_in_iters": int(model.fold_in_iters),
            "seconds": round(seconds, 3), "inputs": [str(p) for p in args.inputs]}
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
