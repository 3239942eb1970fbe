#!/usr/bin/env python3
"""Seconds per SCA iteration and bytes of the statistics over a sketch grid (paper Tables 4-5).

    NUMBA_NUM_THREADS=1 python scripts/bench_grid_time.py --corpus corpora/wiki

Every configuration (dense; count-min and count-min-Morris 8-bit at each d x w) trains in ONE
process on the same corpus from the same seed, in round robin: each round runs one iteration of
every engine, so load drift on a shared machine hits all alike. Reported per configuration: the
median over rounds (the first ``--skip`` left out) of the seconds per iteration (sample + build +
merge; one rank, one numba thread), its ratio to dense's median, and the bytes of the
statistics. Without ``--corpus`` the built-in corpus is used (seconds, for a smoke run).
Prints a Markdown table and writes docs/results/bench_grid_time.json.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numba

REPO = Path(__file__).resolve().parents[1]


def configs(hashes, buckets):
    out = [("dense", "dense", {})]
    for backend, label in (("countmin", "CM (int32)"), ("countmin-morris", "CM+A 8-bit")):
        for d in hashes:
            for b in buckets:
                params = {"n_hashes": d, "n_buckets": 2 ** b}
                if backend == "countmin-morris":
                    params.update(counter_bits=8, counter_base=1.08, increment="correlated")
                out.append((f"{label} {d} x 2^{b}", backend, params))
    return out


CMA = {"counter_bits": 8, "counter_base": 1.08, "increment": "correlated"}
# The configurations of configs/sweeps/support.toml (issue 13), labelled by their point names.
SUPPORT_SET = [
    ("dense", "dense", {}),
    ("cma_d3_b13", "countmin-morris", dict(CMA, n_hashes=3, n_buckets=2**13)),
    ("cma_d3_b12_support", "countmin-morris", dict(CMA, n_hashes=3, n_buckets=2**12,
                                                    support="exact")),
    ("cma_d3_b12_head13000", "countmin-morris", dict(CMA, n_hashes=3, n_buckets=2**12,
                                                      head_words=13000)),
    ("cmacu_d3_b12_head13000", "countmin-morris", dict(CMA, increment="correlated",
                                                        conservative=True,
                                                        n_hashes=3, n_buckets=2**12,
                                                        head_words=13000)),
    ("cma_b1.03_d3_b12_head13000", "countmin-morris", dict(CMA, counter_base=1.03, n_hashes=3,
                                                            n_buckets=2**12, head_words=13000)),
    ("cma_b1.03_d3_b12_head35000", "countmin-morris", dict(CMA, counter_base=1.03, n_hashes=3,
                                                            n_buckets=2**12, head_words=35000)),
    ("cma_d3_b14", "countmin-morris", dict(CMA, n_hashes=3, n_buckets=2**14)),
    ("cma_d7_b13", "countmin-morris", dict(CMA, n_hashes=7, n_buckets=2**13)),
]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, help="training corpus (default: the built-in one)")
    ap.add_argument("--topics", type=int, default=100)
    ap.add_argument("--hashes", type=int, nargs="+", default=[3, 5, 7], help="values of d")
    ap.add_argument("--buckets", type=int, nargs="+", default=[13, 16],
                    help="log2 of w (default 13 16: ours, ~ the paper's 2^15 and 2^18)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--skip", type=int, default=1, help="leading rounds left out of medians")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path, default=None,
                    help="output (default docs/results/bench_grid_time.json, or "
                         "bench_support_time.json with --support-set)")
    ap.add_argument("--support-set", action="store_true",
                    help="time the configurations of configs/sweeps/support.toml instead of the "
                         "d x w grid")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(REPO))
    from lda_sketch.config import SketchConfig
    from lda_sketch.run.engine import Engine, EngineParams
    from lda_sketch.io.atomic import write_text_atomic
    from lda_sketch.io.corpus import Corpus
    from lda_sketch.run.machine import machine_facts
    from lda_sketch.run.warmup import run as warmup

    if args.json is None:
        name = "bench_support_time.json" if args.support_set else "bench_grid_time.json"
        args.json = REPO / "docs/results" / name
    if args.rounds <= args.skip:
        sys.exit(f"--rounds ({args.rounds}) must exceed --skip ({args.skip})")
    numba.set_num_threads(1)
    warmup()
    if args.corpus:
        corpus = Corpus.open(args.corpus)
    else:
        from data_prep.embedded import build_embedded_corpus
        corpus, _ = build_embedded_corpus()
    engines = []
    for label, backend, params in (SUPPORT_SET if args.support_set
                                   else configs(args.hashes, args.buckets)):
        eng = Engine(EngineParams(n_topics=args.topics,
                                  sketch=SketchConfig(backend=backend, **params),
                                  seed=args.seed), corpus, corpus.n_vocab)
        t0 = time.perf_counter()
        eng.initialize()
        engines.append({"label": label, "backend": backend, "params": params, "engine": eng,
                        "t_init": time.perf_counter() - t0, "t_step": []})
        print(f"  initialised {label} in {engines[-1]['t_init']:.1f} s", file=sys.stderr)
    for r in range(args.rounds):
        for e in engines:
            e["t_step"].append(e["engine"].step()["t_step"])
        print(f"  round {r + 1}/{args.rounds}", file=sys.stderr)
    dense = statistics.median(engines[0]["t_step"][args.skip:])
    rows = []
    for e in engines:
        m = statistics.median(e["t_step"][args.skip:])
        rows.append({"label": e["label"], "backend": e["backend"], "params": e["params"],
                     "t_step_s": e["t_step"], "median_t_step_s": m, "vs_dense": m / dense,
                     "stats_nbytes": int(e["engine"].stats.nbytes), "t_init_s": e["t_init"]})
    doc = {"command": "python scripts/bench_grid_time.py " + " ".join(
               argv if argv is not None else sys.argv[1:]),
           "machine": machine_facts(), "corpus": str(args.corpus or "built-in"),
           "n_tokens": int(corpus.n_tokens), "n_vocab": int(corpus.n_vocab), "K": args.topics,
           "rounds": args.rounds, "skip": args.skip, "results": rows}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(args.json, json.dumps(doc, indent=2))
    dense_bytes = rows[0]["stats_nbytes"]
    print(f"{corpus.n_tokens:,} tokens, V = {corpus.n_vocab:,}, K = {args.topics}, one thread, "
          f"median of rounds {args.skip + 1}-{args.rounds}")
    print("| statistics | s / iteration | vs dense | MB | vs dense |")
    print("|---|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['label']} | {r['median_t_step_s']:.2f} | {r['vs_dense']:.2f}× "
              f"| {r['stats_nbytes'] / 1e6:.1f} | {r['stats_nbytes'] / dense_bytes:.3f}× |")
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
