"""Peer comparison: lda_sketch (dense, countmin-morris) vs tomotopy (collapsed Gibbs) and gensim
LdaMulticore (online VB), same tokens, same held-out evaluator, one core each.

    pip install -e ".[bench]"        # tomotopy, gensim
    python scripts/bench_peers.py --max-docs 2000 --iters 40 --passes 4     # small, minutes
    python scripts/bench_peers.py                                           # whole wiki corpus

Every library trains in its own process (so ``ru_maxrss`` is its own peak memory; gensim's
LdaMulticore also forks a worker process, whose peak is recorded as ``children_peak_rss_mib``) on
the same
training documents (the first ``--max-docs`` of ``--train``), restricted to the words that occur
in them; held-out documents (``--heldout``, first ``--max-heldout``) are mapped into that
vocabulary, other tokens dropped and counted. Each model's K x V topic-word matrix is scored by
``lda_sketch.evaluation.perplexity.heldout_perplexity`` (document completion, alpha = 0.1) at a
few checkpoints; the clock stops while evaluating. Threads: NUMBA_NUM_THREADS=1,
OMP_NUM_THREADS=1, tomotopy workers=1, gensim workers=1. Priors are fixed and symmetric for every
library (alpha, beta; tomotopy's hyperparameter optimisation is turned off).

Writes docs/results/bench_peers.json and docs/figures/bench_peers.{png,pdf}; prints a table.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
LIBS = ("lda_sketch-dense", "lda_sketch-cm+a", "tomotopy", "gensim")


def cma_label(n_buckets: int) -> str:
    """Library label of a CM+A run with 3 x n_buckets 8-bit counters, e.g. 'lda_sketch-cm+a-2^13'."""
    return f"lda_sketch-cm+a-2^{int(n_buckets).bit_length() - 1}"


# --------------------------------------------------------------------------- data (per worker)
def load_data(args):
    """(train, heldout) Corpus pair over the training subset's own vocabulary, and drop counts."""
    from lda_sketch.io.corpus import Corpus

    full = Corpus.open(args.train)
    n = min(args.max_docs or full.n_docs, full.n_docs)
    tr = full.subset(np.arange(n))
    ho_full = Corpus.open(args.heldout)
    ho = ho_full.subset(np.arange(min(args.max_heldout or ho_full.n_docs, ho_full.n_docs)))
    wids = np.asarray(tr.word_ids)
    used = np.flatnonzero(np.bincount(wids, minlength=full.n_vocab))
    remap = np.full(full.n_vocab, -1, np.int64)
    remap[used] = np.arange(used.size)
    vocab = [full.vocab[i] for i in used] if full.vocab is not None else None
    train = Corpus(np.asarray(tr.doc_ptr, np.int64) - int(tr.doc_ptr[0]),
                   remap[wids].astype(np.int32), int(used.size), vocab)
    hw = remap[np.asarray(ho.word_ids)]
    hptr = np.asarray(ho.doc_ptr, np.int64) - int(ho.doc_ptr[0])
    keep = hw >= 0
    new_ptr = np.concatenate([[0], np.cumsum(np.add.reduceat(keep, hptr[:-1])
                                               if hw.size else [])]).astype(np.int64)
    new_ptr[1:][np.diff(hptr) == 0] = new_ptr[:-1][np.diff(hptr) == 0]  # empty documents
    heldout = Corpus(new_ptr, hw[keep].astype(np.int32), int(used.size), vocab)
    return train, heldout, {"heldout_tokens_dropped_oov": int((~keep).sum())}


def docs_of(corpus):
    ptr, w = corpus.doc_ptr, np.asarray(corpus.word_ids)
    return [w[ptr[d]:ptr[d + 1]] for d in range(corpus.n_docs)]


def checkpoints(total: int) -> list[int]:
    pts, i = [], 1
    while i < total:
        pts.append(i)
        i *= 2
    return pts + [total]


# --------------------------------------------------------------------------- workers
def run_lda_sketch(backend, n_buckets, args, train, evaluate):
    from lda_sketch import LDASketch
    from lda_sketch.run import warmup

    warmup.run()  # compile (or load) the kernels outside the timed region
    # evaluate_every=None and no held-out corpus: continue_fit runs no evaluation at all.
    kw = {"backend": backend, "n_iter": 0, "seed": 0, "alpha": args.alpha, "beta": args.beta,
          "n_threads": 1, "evaluate_every": None}
    if backend == "countmin-morris":
        kw.update(n_hashes=3, n_buckets=n_buckets, counter_base=1.08,
                  increment="correlated")
    m = LDASketch(args.topics, **kw)
    t0 = time.perf_counter()
    m.fit(train, n_iter=0)
    t = time.perf_counter() - t0
    done, out = 0, []
    for c in checkpoints(args.iters):
        t0 = time.perf_counter()
        m.continue_fit(c - done)
        t += time.perf_counter() - t0
        done = c
        out.append(evaluate(c, t, m.topic_word_, stats_nbytes=int(m.stats_.nbytes)))
    return out


def run_tomotopy(args, train, evaluate):
    import tomotopy as tp

    V = train.n_vocab
    mdl = tp.LDAModel(k=args.topics, alpha=args.alpha, eta=args.beta, seed=0, min_cf=0,
                      rm_top=0)
    mdl.optim_interval = 0   # fixed symmetric alpha, as ours (tomotopy re-fits it every 10 by default)
    for d in docs_of(train):
        if d.size:
            mdl.add_doc([str(x) for x in d])
    t, done, out = 0.0, 0, []
    for c in checkpoints(args.iters):
        t0 = time.perf_counter()
        mdl.train(c - done, workers=1)
        t += time.perf_counter() - t0
        done = c
        idx = np.array([int(w) for w in mdl.used_vocabs], np.int64)
        phi = np.zeros((args.topics, V))
        for k in range(args.topics):
            phi[k, idx] = mdl.get_topic_word_dist(k)
        out.append(evaluate(c, t, phi / phi.sum(1, keepdims=True)))
    return out


def run_gensim(args, train, evaluate):
    import logging

    from gensim.models import LdaMulticore

    logging.getLogger("gensim").setLevel(logging.WARNING)
    V = train.n_vocab
    bow = [list(zip(*np.unique(d, return_counts=True))) for d in docs_of(train)]
    bow = [[(int(w), int(c)) for w, c in d] for d in bow]
    id2word = {i: str(i) for i in range(V)}
    t0 = time.perf_counter()
    mdl = LdaMulticore(corpus=None, id2word=id2word, num_topics=args.topics, workers=1,
                       alpha=np.full(args.topics, args.alpha), eta=args.beta, random_state=0,
                       chunksize=2000, passes=1, iterations=50)
    t = time.perf_counter() - t0
    done, out = 0, []
    for c in checkpoints(args.passes):
        t0 = time.perf_counter()
        for _ in range(c - done):
            mdl.update(bow)
        t += time.perf_counter() - t0
        done = c
        phi = mdl.get_topics()
        out.append(evaluate(c, t, phi / phi.sum(1, keepdims=True)))
    return out


def worker(lib, args) -> dict:
    from lda_sketch.evaluation.perplexity import heldout_perplexity

    t0 = time.perf_counter()
    train, heldout, dropped = load_data(args)
    setup = time.perf_counter() - t0
    rss_load = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    def evaluate(it, seconds, phi, **extra):
        ev = heldout_perplexity(phi, args.alpha, heldout, n_iter=args.fold_in_iters)
        rec = {"iteration": it, "train_seconds": seconds, "perplexity": ev["perplexity"], **extra}
        print(f"  {lib:18s} iter {it:4d}  {seconds:8.1f} s  perplexity {ev['perplexity']:,.1f}",
              file=sys.stderr, flush=True)
        return rec

    if lib == "lda_sketch-dense":
        recs = run_lda_sketch("dense", 0, args, train, evaluate)
    elif lib.startswith("lda_sketch-cm+a-2^"):
        recs = run_lda_sketch("countmin-morris", 2 ** int(lib.rsplit("^", 1)[1]), args, train,
                              evaluate)
    elif lib == "tomotopy":
        recs = run_tomotopy(args, train, evaluate)
    else:
        recs = run_gensim(args, train, evaluate)
    return {"library": lib, "records": recs, "setup_seconds": setup,
            "rss_after_load_mib": rss_load,
            "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "children_peak_rss_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
            "n_docs": train.n_docs, "n_tokens": int(train.n_tokens), "n_vocab": train.n_vocab,
            "heldout_docs": heldout.n_docs, **dropped}


# --------------------------------------------------------------------------- driver
def version(lib):
    mod = {"tomotopy": "tomotopy", "gensim": "gensim"}.get(lib, "lda_sketch")
    try:
        return __import__(mod).__version__
    except ImportError:
        return None


def peak_mib(r) -> float:
    """Peak resident memory of a library's run: its process plus its largest worker process."""
    return r["peak_rss_mib"] + r.get("children_peak_rss_mib", 0.0)


def plot(results, path):
    sys.path.insert(0, str(REPO))
    from lda_sketch.run.plots import COLORS, MARKERS, pyplot, save

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(4.6, 3.0))
    for i, r in enumerate(results):
        x = [max(p["train_seconds"], 1e-3) for p in r["records"]]
        y = [p["perplexity"] for p in r["records"]]
        ax.plot(x, y, marker=MARKERS[i], color=COLORS[i],
                label=f"{r['library']} ({peak_mib(r):.0f} MiB peak)")
    ax.set_xscale("log")
    ax.set_xlabel("training seconds (1 core)")
    ax.set_ylabel("held-out perplexity")
    ax.grid(alpha=0.3, linewidth=0.5)
    ax.legend(frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    files = save(fig, path)
    plt.close(fig)
    return files


def table(results) -> str:
    head = ("| library | iterations / passes | training s | s / iteration (pass) "
            "| held-out perplexity | peak RSS MiB (process + worker) | of which worker "
            "| RSS after loading MiB |")
    lines = [head, "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        last = r["records"][-1]
        lines.append(f"| {r['library']} | {last['iteration']} | {last['train_seconds']:.1f} "
                     f"| {last['train_seconds'] / last['iteration']:.2f} "
                     f"| {last['perplexity']:,.1f} | {peak_mib(r):.0f} "
                     f"| {r.get('children_peak_rss_mib', 0):.0f} "
                     f"| {r['rss_after_load_mib']:.0f} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--train", default=str(REPO / "corpora" / "wiki"), help="training corpus")
    ap.add_argument("--heldout", default=str(REPO / "corpora" / "reuters-heldout"),
                    help="held-out corpus in the same vocabulary")
    ap.add_argument("--max-docs", type=int, default=0, help="first N training docs (0: all)")
    ap.add_argument("--max-heldout", type=int, default=0, help="first N held-out docs (0: all)")
    ap.add_argument("--iters", type=int, default=60, help="Gibbs/SCA iterations")
    ap.add_argument("--passes", type=int, default=8, help="gensim passes over the corpus")
    ap.add_argument("--topics", type=int, default=100)
    ap.add_argument("--alpha", type=float, default=0.1)
    ap.add_argument("--beta", type=float, default=0.01)
    ap.add_argument("--n-buckets", type=int, nargs="+", default=[2**13],
                    help="CM+A buckets per row (d = 3); one lda_sketch-cm+a run per value")
    ap.add_argument("--fold-in-iters", type=int, default=100)
    ap.add_argument("--libs", nargs="+", default=list(LIBS), choices=LIBS,
                    help="libraries to run; lda_sketch-cm+a runs once per --n-buckets value")
    ap.add_argument("--json", type=Path, default=REPO / "docs/results/bench_peers.json")
    ap.add_argument("--figure", type=Path, default=REPO / "docs/figures/bench_peers")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker, args)))
        return 0
    for p in (args.train, args.heldout):
        if not Path(p).is_dir():
            sys.exit(f"{p}: not a corpus directory (build it as in configs/wiki-reuters.toml, "
                     f"or pass --train/--heldout)")
    env = dict(os.environ, NUMBA_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
               OPENBLAS_NUM_THREADS="1")
    results, failed = [], []
    passthru = [a for a in (argv if argv is not None else sys.argv[1:])]
    runs = [x for lib in args.libs
            for x in ([cma_label(b) for b in args.n_buckets] if lib == "lda_sketch-cm+a"
                      else [lib])]
    for lib in runs:
        print(f"{lib} ...", file=sys.stderr, flush=True)
        res = subprocess.run([sys.executable, __file__, *passthru, "--worker", lib],
                             check=False, stdout=subprocess.PIPE, env=env, text=True)
        if res.returncode:
            print(f"{lib}: failed (rc {res.returncode}); recorded under 'failed'", file=sys.stderr)
            failed.append({"library": lib, "returncode": res.returncode})
            continue
        r = json.loads(res.stdout.strip().splitlines()[-1])
        r["version"] = version(lib)
        results.append(r)
    sys.path.insert(0, str(REPO))
    from lda_sketch.run.machine import machine_facts

    doc = {"command": "python scripts/bench_peers.py " + " ".join(passthru),
           "date": time.strftime("%Y-%m-%d %H:%M:%S %z"), "machine": machine_facts(),
           "failed": failed, "settings": {
               k: getattr(args, k) for k in ("train", "heldout", "max_docs", "max_heldout",
                                             "iters", "passes", "topics", "alpha", "beta",
                                             "n_buckets", "fold_in_iters")},
           "results": results}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    from lda_sketch.io.atomic import write_text_atomic
    write_text_atomic(args.json, json.dumps(doc, indent=2))
    files = plot(results, args.figure)
    print(table(results))
    print(f"wrote {args.json} and {', '.join(map(str, files))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
