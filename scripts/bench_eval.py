"""Held-out evaluation speed: the vectorised fold-in kernel against the strict-IEEE baseline.

    NUMBA_NUM_THREADS=1 python scripts/bench_eval.py --heldout corpora/reuters-heldout \
        --model runs/appE-grid/dense/trial-0/model

Both kernels run on the same documents and the same phi, interleaved for ``--rounds`` rounds in
one process; prints the median seconds of each, their ratio, and both perplexities (which must
agree to ~1e-12). The baseline is the fold-in as it was before the vectorised kernel (a strict
left-to-right dot product and ``acc += f * theta * phi``). phi is a saved model's (``--model``)
or, without one, a random Dirichlet(0.05) phi. Without ``--heldout`` the built-in corpus's first
2,000 documents are used, so the script runs anywhere. Writes docs/results/bench_eval.json.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numba
import numpy as np
from numba import njit

REPO = Path(__file__).resolve().parents[1]


@njit(cache=True)
def fold_in_strict(ptr, rows, counts, phi_rows, alpha, n_iter, theta, acc):
    """The pre-vectorisation kernel (one thread): strict IEEE order, two multiplies per cell."""
    K = phi_rows.shape[1]
    for d in range(ptr.shape[0] - 1):
        th = theta[d]
        for k in range(K):
            th[k] = 1.0 / K
        if ptr[d + 1] == ptr[d]:
            continue
        for _ in range(n_iter):
            for k in range(K):
                acc[k] = 0.0
            for j in range(ptr[d], ptr[d + 1]):
                ph = phi_rows[rows[j]]
                s = 0.0
                for k in range(K):
                    s += th[k] * ph[k]
                f = counts[j] / s
                for k in range(K):
                    acc[k] += f * th[k] * ph[k]
            tot = 0.0
            for k in range(K):
                acc[k] += alpha
                tot += acc[k]
            for k in range(K):
                th[k] = acc[k] / tot


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--heldout", type=Path, help="held-out corpus directory (default: built-in)")
    ap.add_argument("--model", type=Path, help="saved model directory whose phi to use")
    ap.add_argument("--topics", type=int, default=100, help="K of the random phi (no --model)")
    ap.add_argument("--alpha", type=float, default=0.1)
    ap.add_argument("--fold-in-iters", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--json", type=Path, default=REPO / "docs/results/bench_eval.json")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(REPO))
    from data_prep.embedded import build_embedded_corpus
    from lda_sketch.evaluation._kernels import score_docs
    from lda_sketch.evaluation.perplexity import completion_split, fold_in_theta
    from lda_sketch.io.corpus import Corpus
    from lda_sketch.run.machine import machine_facts

    if args.heldout:
        held = Corpus.open(args.heldout)
    else:
        full, _ = build_embedded_corpus()
        held = full.subset(np.arange(min(2000, full.n_docs)))
    if args.model:
        from lda_sketch.model.topic_model import TopicModel
        phi = np.asarray(TopicModel.load(args.model).topic_word(), np.float64)
        source = str(args.model)
    else:
        phi = np.random.default_rng(0).dirichlet(np.full(held.n_vocab, 0.05), size=args.topics)
        source = "random Dirichlet(0.05)"
    sp = completion_split(held, phi.shape[1])
    phi_rows = np.ascontiguousarray(phi[:, sp.words].T)
    K = phi_rows.shape[1]
    n_docs = sp.obs_ptr.shape[0] - 1

    def strict():
        theta = np.empty((n_docs, K))
        fold_in_strict(sp.obs_ptr, sp.obs_rows, sp.obs_counts, phi_rows, args.alpha,
                       args.fold_in_iters, theta, np.empty(K))
        return theta

    def vectorised():
        return fold_in_theta(sp.obs_ptr, sp.obs_rows, sp.obs_counts, phi_rows, args.alpha,
                             args.fold_in_iters)

    def perplexity(theta):
        out = np.empty(n_docs)
        score_docs(sp.sc_ptr, sp.sc_rows, sp.sc_counts, phi_rows, theta, out)
        return math.exp(-math.fsum(out) / sp.n_scored)

    fns = {"strict": strict, "vectorised": vectorised}
    for f in fns.values():   # compile (or load from cache) outside the timing
        f()
    times = {name: [] for name in fns}
    ppl = {}
    for _ in range(args.rounds):
        for name, f in fns.items():
            t0 = time.perf_counter()
            theta = f()
            times[name].append(time.perf_counter() - t0)
            ppl[name] = perplexity(theta)
    med = {name: float(np.median(t)) for name, t in times.items()}
    ratio = med["strict"] / med["vectorised"]
    rel = abs(ppl["vectorised"] - ppl["strict"]) / ppl["strict"]
    doc = {"command": "python scripts/bench_eval.py " + " ".join(argv if argv is not None
                                                                  else sys.argv[1:]),
           "machine": machine_facts(), "numba_threads": numba.get_num_threads(),
           "heldout": str(args.heldout or "built-in corpus, first 2,000 documents"),
           "phi": source, "K": K, "n_docs": n_docs, "n_observed": sp.n_observed,
           "n_scored": sp.n_scored, "fold_in_iters": args.fold_in_iters, "rounds": args.rounds,
           "seconds": times, "median_seconds": med, "speedup": ratio,
           "perplexity": ppl, "perplexity_rel_diff": rel}
    from lda_sketch.io.atomic import write_text_atomic
    args.json.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(args.json, json.dumps(doc, indent=2))
    print(f"{n_docs:,} documents, {sp.n_observed:,} observed tokens, K = {K}, "
          f"{args.fold_in_iters} EM steps, {numba.get_num_threads()} thread(s), phi: {source}")
    for name in fns:
        print(f"  {name:10s} median {med[name]:7.3f} s   perplexity {ppl[name]:,.6f}")
    print(f"  speedup {ratio:.2f}x   relative perplexity difference {rel:.2e}")
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
