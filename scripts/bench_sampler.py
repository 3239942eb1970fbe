#!/usr/bin/env python3
"""Sampler throughput, sketch overhead, memory, init choice -- and tomotopy on the same tokens.

Everything runs in ONE process, side by side, on one corpus (default: the wiki training corpus
built by ``lda-sketch prep``), K=100, alpha=0.1, beta=0.01:

1. numba compile time: ``lda_sketch.warmup.run()`` in a subprocess with an empty numba cache
   (cold) and again with the cache filled (warm);
2. dense SCA sampling throughput (tokens/s per core) at 1 and 2 numba threads. Both runs follow
   the identical trajectory (bitwise, same seed), so they do exactly the same work;
3. tomotopy ``LDAModel.train`` (collapsed Gibbs, 1 worker, hyperparameter optimisation off) on
   the same documents;
4. time per iteration of each registered sketch backend / dense (1 thread);
5. init "sparse" vs "uniform": time per iteration and held-out perplexity after a few iterations;
6. bytes of the statistics per backend, bytes of the sampler state, peak RSS.

Reported figures are medians over the iterations after the first ``--skip``. Results are printed
and written as JSON (default ``docs/results/bench_sampler.json``). Not run as a test.

Example::

    python scripts/bench_sampler.py --corpus /work/corpora/wiki \\
        --heldout /work/corpora/reuters-heldout --iters 6
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numba
import numpy as np

from lda_sketch.engine import Engine, EngineParams
from lda_sketch.io.corpus import Corpus
from lda_sketch.stats import BACKENDS

SKETCHES = {"countmin": {"n_hashes": 3, "n_buckets": 2**13},
            "countmin-morris": {"n_hashes": 3, "n_buckets": 2**13}}


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def machine() -> dict:
    cpu = ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu": cpu, "python": platform.python_version(),
            "numba": numba.__version__, "numpy": np.__version__,
            "loadavg_start": os.getloadavg(), "date": time.strftime("%Y-%m-%d %H:%M:%S %Z")}


def compile_times() -> dict:
    code = ("import time; t=time.perf_counter(); from lda_sketch import warmup; warmup.run(); "
            "print(time.perf_counter()-t)")
    out = {}
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        for label in ("cold_s", "cached_s"):
            r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                               text=True, check=True)
            out[label] = float(r.stdout.strip().splitlines()[-1])
    return out


def run_engine(corpus, params, iters, threads, heldout=None, eval_at=()):
    numba.set_num_threads(threads)
    eng = Engine(params, corpus, corpus.n_vocab, heldout=heldout)
    t0 = time.perf_counter()
    eng.initialize()
    t_init = time.perf_counter() - t0
    steps, evals = [], {}
    for _ in range(iters):
        steps.append(eng.step())
        if eng.iteration in eval_at:
            evals[eng.iteration] = eng.evaluate()
    return eng, t_init, steps, evals


def med(steps, key, skip):
    vals = [s[key] for s in steps[skip:]] or [s[key] for s in steps]
    return statistics.median(vals)


def bench_tomotopy(corpus, K, alpha, beta, iters, skip, seed):
    try:
        import tomotopy as tp
    except ImportError:
        return {"skipped": "tomotopy not installed (pip install lda_sketch[bench])"}
    t0 = time.perf_counter()
    mdl = tp.LDAModel(k=K, alpha=alpha, eta=beta, seed=seed + 1)
    mdl.optim_interval = 0  # fixed symmetric priors, like ours
    mdl.burn_in = 0
    names = [str(i) for i in range(corpus.n_vocab)]
    base = corpus.doc_ptr[0]
    for d in range(corpus.n_docs):
        ids = corpus.word_ids[corpus.doc_ptr[d] - base:corpus.doc_ptr[d + 1] - base]
        if len(ids):
            mdl.add_doc([names[i] for i in ids])
    t_load = time.perf_counter() - t0
    t0 = time.perf_counter()
    mdl.train(0, workers=1)  # builds the model state (init) without sampling
    t_init = time.perf_counter() - t0
    times = []
    for _ in range(iters):
        t0 = time.perf_counter()
        mdl.train(1, workers=1, parallel=tp.ParallelScheme.NONE)
        times.append(time.perf_counter() - t0)
    sec = statistics.median(times[skip:] or times)
    n_tok = int(mdl.num_words)
    return {"version": tp.__version__, "isa": tp.isa, "n_tokens": n_tok, "t_load_s": t_load,
            "t_init_s": t_init, "s_per_iter": times, "median_s_per_iter": sec,
            "tokens_per_s": n_tok / sec, "ll_per_word": float(mdl.ll_per_word)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", default="/work/corpora/wiki")
    ap.add_argument("--heldout", default="/work/corpora/reuters-heldout",
                    help="held-out corpus in the training vocabulary ('' to skip perplexity)")
    ap.add_argument("--topics", type=int, default=100)
    ap.add_argument("--alpha", type=float, default=0.1)
    ap.add_argument("--beta", type=float, default=0.01)
    ap.add_argument("--iters", type=int, default=6, help="timed iterations per run")
    ap.add_argument("--skip", type=int, default=2, help="leading iterations left out of medians")
    ap.add_argument("--init-iters", type=int, default=5,
                    help="iterations of the sparse-vs-uniform init comparison (0: skip)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-tomotopy", action="store_true")
    ap.add_argument("--out", default="docs/results/bench_sampler.json")
    args = ap.parse_args(argv)

    res = {"command": " ".join([os.path.basename(sys.executable), *sys.argv]),
           "machine": machine()}
    res["compile"] = compile_times()
    print(f"numba compile: cold {res['compile']['cold_s']:.1f} s, cached "
          f"{res['compile']['cached_s']:.1f} s", flush=True)
    corpus = Corpus.open(args.corpus)
    corpus.word_ids = np.ascontiguousarray(corpus.word_ids)  # read the memmap once, not per run
    held = Corpus.open(args.heldout) if args.heldout else None
    res["corpus"] = {"path": args.corpus, "n_docs": corpus.n_docs, "n_tokens": corpus.n_tokens,
                     "n_vocab": corpus.n_vocab}
    print(f"corpus: {corpus.n_docs} docs, {corpus.n_tokens} tokens, V={corpus.n_vocab}", flush=True)
    base = dict(n_topics=args.topics, alpha=args.alpha, beta=args.beta, seed=args.seed)
    N = corpus.n_tokens

    # -- dense throughput, 1 and 2 threads (identical trajectories)
    dense = {}
    for nt in (1, 2):
        if nt > numba.config.NUMBA_NUM_THREADS:
            continue
        eng, t_init, steps, _ = run_engine(corpus, EngineParams(**base), args.iters, nt)
        s = med(steps, "t_sample", args.skip)
        dense[nt] = {"t_init_s": t_init, "steps": steps, "median_t_sample_s": s,
                     "median_t_step_s": med(steps, "t_step", args.skip),
                     "tokens_per_s": N / s, "tokens_per_s_per_core": N / s / nt,
                     "state_nbytes": eng.state_nbytes, "stats_nbytes": eng.stats.nbytes,
                     "mean_topics_per_doc": float((eng.doc_topic() > 0).sum(1).mean())}
        print(f"dense SCA, {nt} thread(s): {N / s / 1e6:.2f} M tokens/s "
              f"({N / s / nt / 1e6:.2f} M/s/core), step {dense[nt]['median_t_step_s']:.2f} s, "
              f"topics/doc {dense[nt]['mean_topics_per_doc']:.1f}", flush=True)
        del eng
    res["dense_threads"] = dense
    res["peak_rss_mb_after_dense"] = peak_rss_mb()

    # -- tomotopy, 1 worker, same tokens
    if not args.no_tomotopy:
        tt = bench_tomotopy(corpus, args.topics, args.alpha, args.beta, args.iters, args.skip,
                            args.seed)
        res["tomotopy"] = tt
        if "tokens_per_s" in tt and 1 in dense:
            tt["ours_1thread_over_tomotopy"] = dense[1]["tokens_per_s"] / tt["tokens_per_s"]
            print(f"tomotopy {tt['version']} 1 worker: {tt['tokens_per_s'] / 1e6:.2f} M tokens/s; "
                  f"ours (1 thread) / tomotopy = {tt['ours_1thread_over_tomotopy']:.2f}x",
                  flush=True)
        res["peak_rss_mb_after_tomotopy"] = peak_rss_mb()

    # -- sketch backends vs dense, 1 thread, whole step (sample + build + merge)
    backends = {}
    ref = dense.get(1)
    for name in sorted(BACKENDS):
        if name == "dense":
            continue
        bp = SKETCHES.get(name, {})
        eng, t_init, steps, _ = run_engine(corpus, EngineParams(**base, backend=name,
                                                                backend_params=bp), args.iters, 1)
        st = med(steps, "t_step", args.skip)
        backends[name] = {"params": bp, "steps": steps, "median_t_step_s": st,
                          "median_t_sample_s": med(steps, "t_sample", args.skip),
                          "median_t_build_s": med(steps, "t_build", args.skip),
                          "stats_nbytes": eng.stats.nbytes,
                          "time_ratio_vs_dense": st / ref["median_t_step_s"] if ref else None}
        print(f"{name} {bp}: step {st:.2f} s = {backends[name]['time_ratio_vs_dense']:.2f}x dense;"
              f" stats {eng.stats.nbytes / 1e6:.1f} MB (dense "
              f"{ref['stats_nbytes'] / 1e6:.1f} MB)", flush=True)
        del eng
    res["backends"] = backends
    res["peak_rss_mb_after_backends"] = peak_rss_mb()

    # -- init comparison (2 threads): time per iteration and perplexity after a few iterations
    if args.init_iters:
        inits = {}
        nt = min(2, numba.config.NUMBA_NUM_THREADS)
        for init in ("sparse", "uniform"):
            _, t_init, steps, evals = run_engine(
                corpus, EngineParams(**base, init=init, fold_in_iters=50), args.init_iters, nt,
                heldout=held, eval_at=(1, args.init_iters) if held is not None else ())
            inits[init] = {"t_sample_s": [s["t_sample"] for s in steps],
                           "t_step_s": [s["t_step"] for s in steps], "evals": evals}
            ev = evals.get(args.init_iters, {})
            print(f"init={init}: t_sample per iteration "
                  f"{[round(s['t_sample'], 2) for s in steps]}, perplexity "
                  f"{ {k: round(v['perplexity'], 1) for k, v in evals.items()} } "
                  f"(unigram {ev.get('unigram_perplexity', float('nan')):.1f})", flush=True)
        res["init"] = inits
    res["peak_rss_mb"] = peak_rss_mb()
    res["machine"]["loadavg_end"] = os.getloadavg()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(res, indent=1, default=float))
    tmp.replace(out)
    print(f"peak RSS {res['peak_rss_mb']:.0f} MB; wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
