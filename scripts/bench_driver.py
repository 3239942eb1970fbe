"""Cost of the training driver around the Engine: loop bookkeeping, metrics and checkpoints.

Runs, side by side in one process on the same corpus and config (countmin-morris, K topics):

* ``engine``      -- baseline: ``Engine.initialize()`` then ``step()`` n_iter times, nothing else;
* ``driver``      -- ``lda_sketch.run.train.train_run`` with no evaluation and a checkpoint only at
                     the end (run directory, metrics.jsonl, final model);
* ``driver+ckpt`` -- the same with a checkpoint after every iteration (atomic directory of
                     the Engine state: z + serialized statistics).

Each variant runs ``--repeats`` times; reported: median wall seconds per run and the ratio to
the baseline, and the size of one checkpoint. Prints a table and writes JSON (default
``docs/results/driver_overhead.json``).

    python scripts/bench_driver.py [--corpus DIR] [--n-iter 10] [--repeats 3]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

from lda_sketch import config as config_mod
from lda_sketch.run.engine import Engine, EngineParams
from lda_sketch.io.corpus import Corpus
from data_prep.synthetic import planted_corpus
from lda_sketch.run.train import train_run


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", help="corpus directory (default: a planted corpus, 400k tokens)")
    ap.add_argument("--n-topics", type=int, default=50)
    ap.add_argument("--n-iter", type=int, default=10)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", default="docs/results/driver_overhead.json")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench_driver."))
    if args.corpus:
        corpus_dir = Path(args.corpus).resolve()
    else:
        corpus, _ = planted_corpus(2000, args.n_topics, 5000, 200, seed=0)
        corpus_dir = tmp / "corpus"
        corpus.write(corpus_dir)
    corpus = Corpus.open(corpus_dir)
    base = config_mod.from_dict({
        "model": {"n_topics": args.n_topics},
        "sketch": {"backend": "countmin-morris", "n_buckets": 2**12},
        "sampler": {"n_iter": args.n_iter, "seed": 0},
        "data": {"train": str(corpus_dir)},
        "eval": {"evaluate_every": 0},
        "output": {"checkpoint_every": 0, "keep_checkpoints": 1},
    }, source="bench")

    def engine_only():
        e = Engine(EngineParams.from_config(base), corpus, corpus.n_vocab)
        e.initialize()
        for _ in range(args.n_iter):
            e.step()

    def driver(every):
        cfg = base.with_overrides([f"output.checkpoint_every={every}"])
        run = tmp / f"run-{every}-{time.perf_counter_ns()}"
        train_run(cfg, run, progress=False)
        return run

    times = {"engine": [], "driver": [], "driver+ckpt": []}
    engine_only()  # warm-up (numba cache load)
    ckpt_bytes = 0
    for _ in range(args.repeats):  # interleaved so machine load hits all variants alike
        t = time.perf_counter(); engine_only(); times["engine"].append(time.perf_counter() - t)
        t = time.perf_counter(); driver(0); times["driver"].append(time.perf_counter() - t)
        t = time.perf_counter(); run = driver(1)
        times["driver+ckpt"].append(time.perf_counter() - t)
        ck = sorted((run / "checkpoints").iterdir())[-1]
        ckpt_bytes = sum(p.stat().st_size for p in ck.iterdir())
    base_med = statistics.median(times["engine"])
    res = {"command": "python scripts/bench_driver.py " + " ".join(
               f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items() if v is not None),
           "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
           "nproc": os.cpu_count(), "cpu": _cpu(), "python": platform.python_version(),
           "n_tokens": corpus.n_tokens, "n_docs": corpus.n_docs, "n_vocab": corpus.n_vocab,
           "n_topics": args.n_topics, "n_iter": args.n_iter, "repeats": args.repeats,
           "checkpoint_bytes": ckpt_bytes, "variants": {}}
    print(f"{corpus.n_tokens} tokens, K={args.n_topics}, {args.n_iter} iterations, "
          f"{args.repeats} repeats; one checkpoint = {ckpt_bytes / 1e6:.2f} MB")
    print(f"{'variant':14s} {'median s':>9s} {'ratio':>7s}  all")
    for name, ts in times.items():
        med = statistics.median(ts)
        res["variants"][name] = {"median_s": med, "ratio_to_engine": med / base_med, "all_s": ts}
        print(f"{name:14s} {med:9.3f} {med / base_med:7.3f}  {', '.join(f'{x:.3f}' for x in ts)}")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(res, indent=2))
    print(f"wrote {args.out}")


def _cpu() -> str:
    from lda_sketch.run.machine import cpu_model
    return cpu_model()


if __name__ == "__main__":
    main()
