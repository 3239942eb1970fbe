#!/usr/bin/env python3
"""Sampler throughput, sketch overhead, memory, init choice -- and tomotopy on the same tokens.

Everything runs in ONE process on one corpus (default: the wiki training corpus built by
``lda-sketch prep``), K=100, alpha=0.1, beta=0.01. The timed runs advance in round robin, one
iteration of each per round, so load changes on a shared machine hit all of them alike:

1. numba compile time: ``lda_sketch.run.warmup.run()`` in a subprocess with an empty numba cache
   (cold) and again with the cache filled (warm);
2. dense SCA sampling throughput (tokens/s per core) at 1 and 2 numba threads. Both runs follow
   the identical trajectory (bitwise, same seed; checked), so they do exactly the same work;
3. tomotopy ``LDAModel.train(1, workers=1)`` (collapsed Gibbs, hyperparameter optimisation off)
   on the same documents;
4. time per iteration of each registered sketch backend (3 x 2^13) / dense, 1 thread;
5. the backend-dependent work (queries + add) of every backend on ONE frozen state, interleaved;
6. init "sparse" vs "window" vs "uniform" (2 threads): time per iteration, topics per doc, held-out
   perplexity after 1, iters/2 and iters iterations;
7. bytes of the statistics per backend, bytes of the sampler state, peak RSS.

Reported figures are medians over the iterations after the first ``--skip``. Results are printed
and written as JSON (default ``docs/results/bench_sampler.json``). Not run as a test.

Example::

    python scripts/bench_sampler.py --corpus /work/corpora/wiki \\
        --heldout /work/corpora/reuters-heldout --iters 6
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numba
import numpy as np

from lda_sketch.config import DENSE_SKETCH, SketchConfig
from lda_sketch.run.engine import Engine, EngineParams
from lda_sketch.sampler import INITS
from lda_sketch.io.corpus import Corpus
from lda_sketch.stats import BACKENDS, make_stats

SKETCHES = {"countmin": {"n_hashes": 3, "n_buckets": 2**13},
            "countmin-morris": {"n_hashes": 3, "n_buckets": 2**13}}


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def machine() -> dict:
    from lda_sketch.run.machine import machine_facts
    facts = machine_facts()
    facts["loadavg_start"] = facts.pop("loadavg")
    return facts


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


def make_engine(corpus, params, heldout=None):
    eng = Engine(params, corpus, corpus.n_vocab, heldout=heldout)
    t0 = time.perf_counter()
    eng.initialize()
    return eng, time.perf_counter() - t0


def topics_per_doc(eng) -> float:
    return float((eng.doc_topic() > 0).sum(axis=1).mean())


def med(values, skip):
    return statistics.median(values[skip:] or values)


class Tomotopy:
    """tomotopy's LDAModel on the same documents; ``step()`` = one ``train(1, workers=1)``."""

    def __init__(self, corpus, K, alpha, beta, seed):
        import tomotopy as tp
        self.tp = tp
        t0 = time.perf_counter()
        self.mdl = tp.LDAModel(k=K, alpha=alpha, eta=beta, seed=seed + 1)
        self.mdl.optim_interval = 0  # fixed symmetric priors, like ours
        self.mdl.burn_in = 0
        names = [str(i) for i in range(corpus.n_vocab)]
        base = corpus.doc_ptr[0]
        for d in range(corpus.n_docs):
            ids = corpus.word_ids[corpus.doc_ptr[d] - base:corpus.doc_ptr[d + 1] - base]
            if len(ids):
                self.mdl.add_doc([names[i] for i in ids])
        self.t_load = time.perf_counter() - t0
        t0 = time.perf_counter()
        self.mdl.train(0, workers=1)  # builds the sampler state (random init) without sampling
        self.t_init = time.perf_counter() - t0

    def step(self) -> float:
        t0 = time.perf_counter()
        self.mdl.train(1, workers=1, parallel=self.tp.ParallelScheme.NONE)
        return time.perf_counter() - t0


@numba.njit(parallel=True)
def _spin(n):
    out = np.zeros(64)
    for i in numba.prange(64):
        acc = 0.0
        for j in range(n):
            acc += np.sqrt(j * 1.0 + i)
        out[i] = acc
    return out


def thread_calibration(reps=3) -> dict:
    """Speedup of a trivially parallel kernel at 2 vs 1 threads: what the machine allows now."""
    _spin(10)
    t = {1: [], 2: []}
    for _ in range(reps):
        for nt in t:
            if nt <= numba.config.NUMBA_NUM_THREADS:
                numba.set_num_threads(nt)
                t0 = time.perf_counter()
                _spin(2_000_000)
                t[nt].append(time.perf_counter() - t0)
    if not t[2]:
        return {}
    return {"median_s_1": statistics.median(t[1]), "median_s_2": statistics.median(t[2]),
            "speedup_2_threads": statistics.median(t[1]) / statistics.median(t[2])}


def sketch_overhead(corpus, base, warm_iters, reps):
    """Backend-dependent work of one iteration, measured on ONE frozen state for every backend.

    Given the state, the sweep differs between backends only by the per-word queries
    (``estimate_into`` over the shard's distinct words, in the sweep's chunks) and the build by
    ``add`` of the (word, topic, count) triples; both are timed here, interleaved across
    backends, ``reps`` times (medians). Returns seconds per backend and the implied
    ``t_step(backend) / t_step(dense)`` = (dense step + extra query + extra add) / dense step.
    """
    numba.set_num_threads(1)
    eng, _ = make_engine(corpus, EngineParams(**base))
    steps = [eng.step() for _ in range(warm_iters)]
    t_dense_step = statistics.median(s["t_step"] for s in steps[1:] or steps)
    words, topics, counts = (np.array(a) for a in eng.state.word_topic_triples())
    qwords = eng.state.words
    chunk = 4096
    stats = {"dense": eng.stats.empty_like()}
    for name in sorted(BACKENDS):
        if name != "dense":
            stats[name] = make_stats(name, n_topics=base["n_topics"], n_vocab=corpus.n_vocab,
                                     seed=base["seed"], **SKETCHES.get(name, {}))
    buf = np.empty((chunk, base["n_topics"]), np.float64)
    t = {name: {"add": [], "query": []} for name in stats}
    for r in range(reps):
        for name, st in stats.items():
            st.clear()
            t0 = time.perf_counter()
            st.add(words, topics, counts, key=np.uint64(r + 1))
            t1 = time.perf_counter()
            for lo in range(0, qwords.shape[0], chunk):
                w = qwords[lo:lo + chunk]
                st.estimate_into(w, buf[: w.shape[0]])
            t2 = time.perf_counter()
            t[name]["add"].append(t1 - t0)
            t[name]["query"].append(t2 - t1)
    out = {"dense_t_step_s": t_dense_step, "n_triples": int(words.shape[0]),
           "n_query_words": int(qwords.shape[0]), "reps": reps}
    d_add = statistics.median(t["dense"]["add"])
    d_q = statistics.median(t["dense"]["query"])
    for name, v in t.items():
        a, q = statistics.median(v["add"]), statistics.median(v["query"])
        out[name] = {"median_add_s": a, "median_query_s": q, "params": SKETCHES.get(name, {}),
                     "implied_t_step_over_dense": (t_dense_step + (a - d_add) + (q - d_q))
                     / t_dense_step}
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", default="/work/corpora/wiki")
    ap.add_argument("--heldout", default="/work/corpora/reuters-heldout",
                    help="held-out corpus in the training vocabulary ('' to skip perplexity)")
    ap.add_argument("--topics", type=int, default=100)
    ap.add_argument("--alpha", type=float, default=0.1)
    ap.add_argument("--beta", type=float, default=0.01)
    ap.add_argument("--iters", type=int, default=8,
                    help="timed round-robin iterations (0: only the init comparison)")
    ap.add_argument("--skip", type=int, default=3, help="leading iterations left out of medians")
    ap.add_argument("--init-iters", type=int, default=10,
                    help="iterations of the sparse-vs-uniform init comparison (0: skip)")
    ap.add_argument("--overhead-reps", type=int, default=7,
                    help="repetitions of the same-state sketch overhead measurement (0: skip)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-tomotopy", action="store_true")
    ap.add_argument("--dense-only", action="store_true",
                    help="round robin of dense@1 and dense@2 only (thread scaling)")
    ap.add_argument("--no-compile", action="store_true", help="skip the compile-time subprocesses")
    ap.add_argument("--out", default="docs/results/bench_sampler.json")
    args = ap.parse_args(argv)

    res = {"command": " ".join([os.path.basename(sys.executable), *sys.argv]),
           "machine": machine()}
    if not args.no_compile:
        res["compile"] = compile_times()
        print(f"numba compile: cold {res['compile']['cold_s']:.1f} s, cached "
              f"{res['compile']['cached_s']:.1f} s", flush=True)
    corpus = Corpus.open(args.corpus)
    corpus.word_ids = np.ascontiguousarray(corpus.word_ids)  # read the memmap once, not per run
    held = Corpus.open(args.heldout) if args.heldout else None
    res["corpus"] = {"path": args.corpus, "n_docs": corpus.n_docs, "n_tokens": corpus.n_tokens,
                     "n_vocab": corpus.n_vocab}
    print(f"corpus: {corpus.n_docs} docs, {corpus.n_tokens} tokens, V={corpus.n_vocab}", flush=True)
    base = dict(n_topics=args.topics, alpha=args.alpha, beta=args.beta, seed=args.seed,
                sketch=DENSE_SKETCH)
    N = corpus.n_tokens

    res["thread_calibration"] = thread_calibration()
    if res["thread_calibration"]:
        print(f"calibration: a trivially parallel kernel runs "
              f"{res['thread_calibration']['speedup_2_threads']:.2f}x faster on 2 threads now",
              flush=True)
    if args.iters:
        # -- round robin, one iteration of each per round, so load changes on the shared machine hit
        #    all of them alike: dense at 1 and 2 threads (identical trajectories: bitwise the same
        #    work), every sketch backend at 1 thread, tomotopy with 1 worker.
        runs = {"dense@1": (EngineParams(**base), 1), "dense@2": (EngineParams(**base), 2)}
        for name in [] if args.dense_only else sorted(BACKENDS):
            if name != "dense":
                sketch = SketchConfig(backend=name, **SKETCHES.get(name, {}))
                runs[f"{name}@1"] = (EngineParams(**{**base, "sketch": sketch}), 1)
        runs = {k: v for k, v in runs.items() if v[1] <= numba.config.NUMBA_NUM_THREADS}
        engines, rec = {}, {}
        for label, (params, nt) in runs.items():
            numba.set_num_threads(nt)
            engines[label], t_init = make_engine(corpus, params)
            rec[label] = {"threads": nt, "backend": params.backend,
                          "sketch": dataclasses.asdict(params.sketch), "t_init_s": t_init,
                          "stats_nbytes": engines[label].stats.nbytes,
                          "state_nbytes": engines[label].state_nbytes, "steps": [],
                          "topics_per_doc": []}
        res["peak_rss_mb_after_init"] = peak_rss_mb()
        tomo = None
        if not args.no_tomotopy:
            try:
                tomo = Tomotopy(corpus, args.topics, args.alpha, args.beta, args.seed)
                rec["tomotopy@1"] = {"version": tomo.tp.__version__, "isa": tomo.tp.isa,
                                     "n_tokens": int(tomo.mdl.num_words), "t_load_s": tomo.t_load,
                                     "t_init_s": tomo.t_init, "s_per_iter": []}
            except ImportError:
                res["tomotopy_skipped"] = "tomotopy not installed (pip install lda_sketch[bench])"
        for it in range(args.iters):
            for label, eng in engines.items():
                numba.set_num_threads(rec[label]["threads"])
                rec[label]["steps"].append(eng.step())
                rec[label]["topics_per_doc"].append(topics_per_doc(eng))
            if tomo is not None:
                rec["tomotopy@1"]["s_per_iter"].append(tomo.step())
            print(f"round {it + 1}: " + ", ".join(
                f"{k} {v['steps'][-1]['t_step']:.2f}s" if "steps" in v else
                f"{k} {v['s_per_iter'][-1]:.2f}s" for k, v in rec.items()), flush=True)
        res["peak_rss_mb_after_rounds"] = peak_rss_mb()
        if "dense@2" in engines:
            res["dense_1_and_2_threads_bitwise_identical"] = bool(
                np.array_equal(engines["dense@1"].state.z, engines["dense@2"].state.z)
                and np.array_equal(engines["dense@1"].stats.cells, engines["dense@2"].stats.cells))
        del engines
        sk = args.skip
        for label, r in rec.items():
            if "steps" in r:
                for key in ("t_sample", "t_build", "t_merge", "t_step"):
                    r[f"median_{key}_s"] = med([s[key] for s in r["steps"]], sk)
                r["tokens_per_s"] = N / r["median_t_sample_s"]
                r["tokens_per_s_per_core"] = r["tokens_per_s"] / r["threads"]
            else:
                r["median_s_per_iter"] = med(r["s_per_iter"], sk)
                r["tokens_per_s"] = r["n_tokens"] / r["median_s_per_iter"]
                r["tokens_per_s_per_core"] = r["tokens_per_s"]
        d1 = rec["dense@1"]
        summary = {}
        for label, r in rec.items():
            if "steps" in r and r["backend"] != "dense":
                per_round = [a["t_step"] / b["t_step"] for a, b in zip(r["steps"], d1["steps"])]
                summary[f"{label}_t_step_over_dense@1"] = {
                    "ratio_of_medians": r["median_t_step_s"] / d1["median_t_step_s"],
                    "median_of_ratios": med(per_round, sk)}
        if "dense@2" in rec:
            summary["dense_speedup_2_threads"] = (d1["median_t_sample_s"]
                                                  / rec["dense@2"]["median_t_sample_s"])
        if "tomotopy@1" in rec:
            summary["dense@1_tokens_per_s_over_tomotopy@1"] = (d1["tokens_per_s"]
                                                                / rec["tomotopy@1"]["tokens_per_s"])
        res["runs"] = rec
        res["summary"] = summary
        for label, r in rec.items():
            extra = (f", stats {r['stats_nbytes'] / 1e6:.1f} MB, topics/doc "
                     f"{r['topics_per_doc'][-1]:.1f}" if "steps" in r else "")
            print(f"{label}: {r['tokens_per_s_per_core'] / 1e6:.2f} M tokens/s/core (median)"
                  + extra)
        for k, v in summary.items():
            print(f"{k}: {v}")

    # -- sketch overhead on one frozen state (robust to trajectory differences and load drift)
    if args.overhead_reps:
        ov = sketch_overhead(corpus, base, 4, args.overhead_reps)
        res["sketch_overhead_same_state"] = ov
        for name in BACKENDS:
            print(f"same-state {name}: add {ov[name]['median_add_s']:.3f} s, query "
                  f"{ov[name]['median_query_s']:.3f} s -> implied step ratio "
                  f"{ov[name]['implied_t_step_over_dense']:.2f}x dense", flush=True)

    # -- init comparison (2 threads, round robin): time per iteration, perplexity
    if args.init_iters:
        nt = min(2, numba.config.NUMBA_NUM_THREADS)
        numba.set_num_threads(nt)
        at = sorted({1, args.init_iters // 2, args.init_iters}) if held is not None else ()
        engs, inits = {}, {}
        for init in INITS:
            engs[init], t_init = make_engine(corpus, EngineParams(**base, init=init,
                                                                  fold_in_iters=50), held)
            inits[init] = {"t_init_s": t_init, "t_sample_s": [], "t_step_s": [],
                           "topics_per_doc": [topics_per_doc(engs[init])], "evals": {}}
        for it in range(1, args.init_iters + 1):
            for init, eng in engs.items():
                info = eng.step()
                inits[init]["t_sample_s"].append(info["t_sample"])
                inits[init]["t_step_s"].append(info["t_step"])
                inits[init]["topics_per_doc"].append(topics_per_doc(eng))
                if it in at:
                    inits[init]["evals"][it] = eng.evaluate()
        for init, r in inits.items():
            print(f"init={init}: t_sample {[round(x, 2) for x in r['t_sample_s']]}, topics/doc "
                  f"{[round(x, 1) for x in r['topics_per_doc']]}, perplexity "
                  f"{ {k: round(v['perplexity'], 1) for k, v in r['evals'].items()} }", flush=True)
        res["init"] = inits
        del engs
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
