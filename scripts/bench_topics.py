#!/usr/bin/env python3
"""Time per iteration against the number of topics K: lda_sketch (dense, CM+A) and tomotopy.

Every record trains one system at one K on the same documents (default: the wiki training
corpus), one thread (NUMBA_NUM_THREADS=1, OMP_NUM_THREADS=1, tomotopy ``workers=1``), fixed
symmetric priors (alpha, beta; tomotopy's optimisation off), from each system's usual
initialisation, for ``--window``'s last iteration, and reports the median wall time of the
iterations in the window (1-based, inclusive): steady state is ``--window 40:60``. Our iteration
is the whole ``Engine.step()`` (sampling, statistics build, merge); tomotopy's is one
``train(1, workers=1)``. CPU seconds of the same iterations are recorded too: on a shared machine
they move less with load than wall time.

Systems (``--systems``):

* ``dense``: exact n_wk, the default SCA kernel (``--sampler``, default ``sca``);
* ``cm+a``: 8-bit Morris count-min, 3 x 2^15, correlated increments;
* ``dense-collapsed``, ``cm+a-collapsed``: dense and CM+A with the ``sca-collapsed`` kernel;
* ``dense-sparse``, ``cm+a-sparse``: dense and CM+A with the ``sca-sparse`` kernel;
* ``tomotopy``: ``tomotopy.LDAModel`` (collapsed Gibbs).

Each record runs in its own process and is appended to the output JSON as soon as it finishes;
a rerun skips records already there (same system, K, window and sampler; ``--rerun`` measures
them again, e.g. as a baseline in the same session), so a long sweep can be resumed::

    NUMBA_NUM_THREADS=1 python scripts/bench_topics.py --topics 100,1000 --window 3:8
    NUMBA_NUM_THREADS=1 python scripts/bench_topics.py --topics 1000,10000 --window 40:60

Writes ``docs/results/bench_topics.json``: ``{"records": [{system, n_topics, backend,
iterations, tokens_per_s, s_per_iter, ...}], "runs": [{command, date, loadavg, ...}]}``.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SYSTEMS = {
    "dense": {"system": "lda_sketch", "backend": "dense", "sampler": None},
    "cm+a": {"system": "lda_sketch", "backend": "countmin-morris 3x2^15 8-bit", "sampler": None},
    "dense-collapsed": {"system": "lda_sketch", "backend": "dense", "sampler": "sca-collapsed"},
    "cm+a-collapsed": {"system": "lda_sketch", "backend": "countmin-morris 3x2^15 8-bit",
                       "sampler": "sca-collapsed"},
    "dense-sparse": {"system": "lda_sketch", "backend": "dense", "sampler": "sca-sparse"},
    "cm+a-sparse": {"system": "lda_sketch", "backend": "countmin-morris 3x2^15 8-bit",
                    "sampler": "sca-sparse"},
    "tomotopy": {"system": "tomotopy", "backend": "exact (collapsed Gibbs)", "sampler": None},
}
CMA = {"n_hashes": 3, "n_buckets": 2**15, "counter_bits": 8, "counter_base": 1.08,
       "increment": "correlated"}


def parse_window(text: str) -> tuple[int, int]:
    lo, hi = (int(x) for x in text.split(":"))
    if not 1 <= lo <= hi:
        raise argparse.ArgumentTypeError(f"--window must be LO:HI with 1 <= LO <= HI, got {text}")
    return lo, hi


# --------------------------------------------------------------------------- one record (child)
def run_ours(name, K, args, corpus):
    from lda_sketch.run import warmup
    from lda_sketch.config import SketchConfig
    from lda_sketch.run.engine import Engine, EngineParams

    warmup.run()
    spec = SYSTEMS[name]
    sketch = name.startswith("cm+a")
    backend = "countmin-morris" if sketch else "dense"
    sampler = spec["sampler"] or args.sampler
    params = EngineParams(n_topics=K,
                          sketch=SketchConfig(backend=backend, **(CMA if sketch else {})),
                          alpha=args.alpha, beta=args.beta, sampler=sampler, seed=0)
    eng = Engine(params, corpus, corpus.n_vocab)
    eng.initialize()
    wall, cpu = [], []
    for _ in range(args.window[1]):
        c0 = time.process_time()
        info = eng.step()
        cpu.append(time.process_time() - c0)
        wall.append(info["t_step"])
    extra = {"sampler": sampler}
    stat = eng._sampler.diagnostics()
    if stat:
        extra["sampler_statistics"] = stat
    return wall, cpu, extra


def run_tomotopy(K, args, corpus):
    import tomotopy as tp

    mdl = tp.LDAModel(k=K, alpha=args.alpha, eta=args.beta, seed=0, min_cf=0, rm_top=0)
    mdl.optim_interval = 0  # fixed symmetric priors, like ours
    mdl.burn_in = 0
    names = [str(i) for i in range(corpus.n_vocab)]
    ptr, w = corpus.doc_ptr, np.asarray(corpus.word_ids)
    for d in range(corpus.n_docs):
        ids = w[ptr[d] - ptr[0]:ptr[d + 1] - ptr[0]]
        if len(ids):
            mdl.add_doc([names[i] for i in ids])
    mdl.train(0, workers=1)  # random initialisation, outside the timed iterations
    wall, cpu = [], []
    for _ in range(args.window[1]):
        c0, t0 = time.process_time(), time.perf_counter()
        mdl.train(1, workers=1, parallel=tp.ParallelScheme.NONE)
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return wall, cpu, {"tomotopy_version": tp.__version__, "isa": tp.isa}


def one(args) -> dict:
    from lda_sketch.io.corpus import Corpus

    corpus = Corpus.open(args.corpus)
    name, K = args.one[0], int(args.one[1])
    t0 = time.perf_counter()
    if name == "tomotopy":
        wall, cpu, extra = run_tomotopy(K, args, corpus)
    else:
        wall, cpu, extra = run_ours(name, K, args, corpus)
    lo, hi = args.window
    w, c = wall[lo - 1:hi], cpu[lo - 1:hi]
    med = statistics.median(w)
    spec = SYSTEMS[name]
    return {"system": spec["system"], "name": name, "n_topics": K, "backend": spec["backend"],
            "iterations": [lo, hi], "tokens_per_s": corpus.n_tokens / med, "s_per_iter": med,
            "cpu_s_per_iter": statistics.median(c), "s_per_iter_all": [round(x, 4) for x in wall],
            "n_tokens": int(corpus.n_tokens), "n_docs": int(corpus.n_docs),
            "n_vocab": int(corpus.n_vocab), "alpha": args.alpha, "beta": args.beta,
            "threads": 1, "loadavg_end": list(os.getloadavg()),
            "elapsed_s": time.perf_counter() - t0, **extra}


# --------------------------------------------------------------------------- driver
def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", default=str(REPO / "corpora" / "wiki"))
    ap.add_argument("--topics", default="100,1000", help="comma-separated K values")
    ap.add_argument("--systems", default="dense,cm+a,tomotopy",
                    help=f"comma-separated, of {', '.join(SYSTEMS)}")
    ap.add_argument("--window", type=parse_window, default=(40, 60),
                    help="measured iterations LO:HI (1-based, inclusive); runs HI iterations")
    ap.add_argument("--sampler", default="sca", help="our SCA kernel for dense and cm+a")
    ap.add_argument("--alpha", type=float, default=0.1)
    ap.add_argument("--beta", type=float, default=0.01)
    ap.add_argument("--out", default=str(REPO / "docs" / "results" / "bench_topics.json"))
    ap.add_argument("--rerun", action="store_true",
                    help="measure records already in the output again (a same-session baseline)")
    ap.add_argument("--one", nargs=2, metavar=("SYSTEM", "K"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.one:
        print(json.dumps(one(args)))
        return 0

    from lda_sketch.io.atomic import write_text_atomic

    out = Path(args.out)
    doc = json.loads(out.read_text()) if out.exists() else {"records": [], "runs": []}
    run = {"command": " ".join(["NUMBA_NUM_THREADS=1 python scripts/bench_topics.py"]
                               + sys.argv[1:]),
           "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
           "loadavg_start": list(os.getloadavg()), "cpus": os.cpu_count(),
           "numba_num_threads": os.environ.get("NUMBA_NUM_THREADS")}
    doc["runs"].append(run)
    env = dict(os.environ, NUMBA_NUM_THREADS="1", OMP_NUM_THREADS="1")
    for K in (int(k) for k in args.topics.split(",")):
        for name in args.systems.split(","):
            if name not in SYSTEMS:
                raise SystemExit(f"unknown system {name!r}; choose from {', '.join(SYSTEMS)}")
            sampler = SYSTEMS[name]["sampler"] or (args.sampler if name != "tomotopy" else None)
            done = [r for r in doc["records"] if r["name"] == name and r["n_topics"] == K
                    and r["iterations"] == list(args.window) and r.get("sampler") == sampler]
            if done and not args.rerun:
                print(f"skip {name} K={K} {args.window}: done", file=sys.stderr)
                continue
            cmd = [sys.executable, __file__, "--one", name, str(K), "--corpus", args.corpus,
                   "--window", f"{args.window[0]}:{args.window[1]}", "--sampler", args.sampler,
                   "--alpha", str(args.alpha), "--beta", str(args.beta)]
            print(f"{name} K={K} iterations {args.window} ...", file=sys.stderr, flush=True)
            res = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=REPO)
            if res.returncode != 0:
                sys.stderr.write(res.stderr)
                raise SystemExit(f"{name} K={K} failed")
            rec = json.loads(res.stdout.strip().splitlines()[-1])
            rec["run"] = len(doc["runs"]) - 1
            doc["records"].append(rec)
            out.parent.mkdir(parents=True, exist_ok=True)
            write_text_atomic(out, json.dumps(doc, indent=1) + "\n")  # partial results survive
            print(f"  {name:16s} K={K:6d}  {rec['s_per_iter']:7.2f} s/iter  "
                  f"{rec['tokens_per_s'] / 1e6:5.2f} M tok/s  (cpu {rec['cpu_s_per_iter']:.2f} s, "
                  f"load {rec['loadavg_end'][0]:.1f})", file=sys.stderr, flush=True)
    run["loadavg_end"] = list(os.getloadavg())
    write_text_atomic(out, json.dumps(doc, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
