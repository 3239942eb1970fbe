"""Inference on new documents, side by side (issue 25, item 3): documents per second on one core
for ``lda-sketch infer`` (1 and 2 ranks), tomotopy's ``LDAModel.infer`` and scikit-learn's
``LatentDirichletAllocation.transform``, on the same documents and the same model size.

Each system trains K topics on the first ``--train-docs`` documents of the Wikipedia corpus
(a few iterations: inference speed depends on K, the documents and the iteration count, not on
how converged the topics are), then infers the Reuters held-out documents (same vocabulary):
ours with ``fold_in_iters`` EM steps, tomotopy with ``iterations`` Gibbs sweeps (``workers=1``),
scikit-learn with ``max_doc_update_iter`` (it also stops a document early once its change is
below ``mean_change_tol``, its default 1e-3). ``in_process`` rows time the call alone on
documents in memory; the ``cli`` rows time ``lda-sketch infer`` on a corpus directory
(``seconds`` of its infer.json: reading and folding in, no interpreter start-up), under
``mpiexec -n 2`` for 2 ranks. Writes ``docs/results/infer.json``.

    python scripts/bench_infer.py [--topics 100] [--iters 100] [--train-docs 2000]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "scripts")]
os.environ.setdefault("NUMBA_NUM_THREADS", "1")

from harness import machine_note  # noqa: E402
from lda_sketch.distributed.launch import find_mpiexec  # noqa: E402
from lda_sketch.io.corpus import Corpus  # noqa: E402


def _docs(corpus: Corpus) -> list[np.ndarray]:
    ptr = np.asarray(corpus.doc_ptr, np.int64) - int(corpus.doc_ptr[0])
    ids = np.asarray(corpus.word_ids)
    return [ids[ptr[d]:ptr[d + 1]] for d in range(corpus.n_docs)]


def _row(system, mode, n_docs, n_tokens, K, seconds, **extra) -> dict:
    return {"system": system, "mode": mode, "n_docs": n_docs, "n_tokens": n_tokens,
            "n_topics": K, "seconds": round(seconds, 3),
            "docs_per_s": round(n_docs / seconds, 1),
            "tokens_per_s": round(n_tokens / seconds), **extra}


def ours(train: Corpus, test_dir: Path, K: int, iters: int, tmp: Path) -> list[dict]:
    from lda_sketch import LDASketch

    test = Corpus.open(test_dir)
    lda = LDASketch(n_topics=K, n_iter=5, evaluate_every=1000, fold_in_iters=iters,
                    seed=0, n_threads=1).fit(train)
    lda.transform(test.subset(range(10)))  # compiled
    t0 = time.perf_counter()
    lda.transform(test)
    rows = [_row("lda_sketch", "in_process", test.n_docs, test.n_tokens, K,
                 time.perf_counter() - t0, ranks=1, iters=iters)]
    model_dir = tmp / "model"
    lda.save(model_dir)
    for ranks in (1, 2):
        if ranks > 1 and find_mpiexec() is None:
            continue
        out = tmp / f"infer-{ranks}"
        cmd = [sys.executable, "-m", "lda_sketch", "infer", str(model_dir), str(test_dir),
               "--out", str(out), "--threads", "1"]
        if ranks > 1:
            cmd = [find_mpiexec(), "-n", str(ranks), *cmd]
        subprocess.run(cmd, check=True, capture_output=True, env=os.environ)
        info = json.loads((out / "infer.json").read_text())
        rows.append(_row("lda_sketch", "cli", info["n_docs"], info["n_tokens"], K,
                         info["seconds"], ranks=ranks, iters=iters,
                         note="one core per rank; reading the corpus included"))
    return rows


def tomotopy_rows(train: Corpus, test: Corpus, K: int, iters: int) -> list[dict]:
    try:
        import tomotopy as tp
    except ImportError:
        return [{"system": "tomotopy", "skipped": "not installed (pip install tomotopy)"}]
    vocab = train.vocab
    mdl = tp.LDAModel(k=K, alpha=0.1, eta=0.01, seed=0)
    for d in _docs(train):
        if d.size:
            mdl.add_doc([vocab[w] for w in d])
    mdl.train(5, workers=1)
    docs = [mdl.make_doc([vocab[w] for w in d]) for d in _docs(test)]
    t0 = time.perf_counter()
    mdl.infer(docs, iterations=iters, workers=1)
    return [_row("tomotopy", "in_process", test.n_docs, test.n_tokens, K,
                 time.perf_counter() - t0, ranks=1, iters=iters,
                 version=tp.__version__)]


def sklearn_rows(train: Corpus, test: Corpus, K: int, iters: int) -> list[dict]:
    import scipy.sparse as sp
    import sklearn
    from sklearn.decomposition import LatentDirichletAllocation

    def matrix(c: Corpus):
        docs = _docs(c)
        rows = np.repeat(np.arange(len(docs)), [d.size for d in docs])
        cols = np.concatenate(docs) if docs else np.zeros(0, np.int64)
        return sp.csr_matrix((np.ones(cols.size), (rows, cols)), shape=(len(docs), c.n_vocab))

    lda = LatentDirichletAllocation(n_components=K, max_iter=5, learning_method="online",
                                    max_doc_update_iter=iters, random_state=0, n_jobs=1)
    lda.fit(matrix(train))
    X = matrix(test)
    t0 = time.perf_counter()
    lda.transform(X)
    return [_row("scikit-learn", "in_process", test.n_docs, test.n_tokens, K,
                 time.perf_counter() - t0, ranks=1, iters=iters, version=sklearn.__version__,
                 note="stops a document early below mean_change_tol=1e-3")]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--train", default=str(REPO / "corpora" / "wiki"))
    ap.add_argument("--test", default=str(REPO / "corpora" / "reuters-heldout"))
    ap.add_argument("--train-docs", type=int, default=2000)
    ap.add_argument("--topics", type=int, default=100)
    ap.add_argument("--iters", type=int, default=100)
    ap.add_argument("--out", type=Path, default=REPO / "docs" / "results" / "infer.json")
    args = ap.parse_args(argv)
    if not Path(args.train).is_dir() or not Path(args.test).is_dir():
        print(f"needs the corpora {args.train} and {args.test} (scripts/reproduce.sh prepares "
              f"them from ../shared/data)", file=sys.stderr)
        return 2
    full = Corpus.open(args.train)
    train = full.subset(range(min(args.train_docs, full.n_docs)))
    train.vocab = full.vocab
    test = Corpus.open(args.test)
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-infer-") as tmp:
        rows += ours(train, Path(args.test), args.topics, args.iters, Path(tmp))
    rows += tomotopy_rows(train, test, args.topics, args.iters)
    rows += sklearn_rows(train, test, args.topics, args.iters)
    for r in rows:
        print(json.dumps(r))
    ref = next(r for r in rows if r["system"] == "lda_sketch" and r["mode"] == "in_process")
    for r in rows:
        if "docs_per_s" in r:
            r["ratio_to_ours_in_process"] = round(r["docs_per_s"] / ref["docs_per_s"], 3)
    out = {"records": rows, "command": "python scripts/bench_infer.py " + " ".join(
        argv if argv is not None else sys.argv[1:]), **machine_note()}
    tmp = args.out.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(out, indent=1) + "\n")
    os.replace(tmp, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
