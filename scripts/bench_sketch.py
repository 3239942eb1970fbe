"""Microbenchmark of the word-topic statistics backends on one core (baseline: dense int32).

    NUMBA_NUM_THREADS=1 python scripts/bench_sketch.py [--increments 10000000] [--reps 3]

A Zipfian stream of increments over V*K keys (default V = 10^4 words x K = 100 topics = 10^6
keys) is fed to every backend twice: aggregated into (word, topic, count) triples, as the SCA
sampler hands them over, and unaggregated (one record per increment). Reports updates/s
(increments per second) and records/s with the ratio to dense, estimates/s (K-vectors per second
for a batch of all V words), and merge throughput (MB of cells per second). After one untimed
warm-up run, ``--reps`` repetitions each time every backend once (interleaved, in this one
process); figures are medians over repetitions and ratios are medians of per-repetition ratios.
Prints a table and writes JSON to docs/results/bench_sketch.json.
"""
from __future__ import annotations

import os

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from datetime import datetime, timezone  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from lda_sketch import rng  # noqa: E402
from lda_sketch.stats import make_stats  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def zipf_stream(n_keys: int, n: int, s: float, seed: int) -> np.ndarray:
    """``n`` keys in ``[0, n_keys)`` with P(rank r) ∝ r**-s; ranks are shuffled over the keys."""
    g = np.random.default_rng(seed)
    cdf = np.cumsum(np.arange(1, n_keys + 1, dtype=np.float64) ** -s)
    ranks = np.searchsorted(cdf, g.random(n) * cdf[-1], side="right")
    return g.permutation(n_keys)[np.minimum(ranks, n_keys - 1)].astype(np.int64)


def backends(V, K, d, w):
    sk = {"n_topics": K, "n_vocab": V, "seed": 1}
    cm = dict(sk, n_hashes=d, n_buckets=w)
    return {
        "dense": ("dense", sk),
        "countmin": ("countmin", cm),
        "countmin-cu": ("countmin", dict(cm, conservative=True)),
        "cmm-independent": ("countmin-morris", dict(cm, increment="independent")),
        "cmm-correlated": ("countmin-morris", dict(cm, increment="correlated")),
        "cmm-conservative": ("countmin-morris", dict(cm, increment="correlated",
                                                     conservative=True)),
    }


def machine() -> dict:
    from lda_sketch.run.machine import machine_facts
    return machine_facts()


def git_rev() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, text=True,
                              capture_output=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--increments", type=int, default=10**7)
    ap.add_argument("--vocab", type=int, default=10**4)
    ap.add_argument("--topics", type=int, default=100)
    ap.add_argument("--zipf", type=float, default=1.0, help="Zipf exponent of the key ranks")
    ap.add_argument("--hashes", type=int, default=3)
    ap.add_argument("--buckets", type=int, default=2**12)
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=REPO / "docs" / "results" / "bench_sketch.json")
    args = ap.parse_args(argv)
    V, K, n = args.vocab, args.topics, args.increments

    keys = zipf_stream(V * K, n, args.zipf, args.seed)
    uw, ut = keys // K, keys % K
    uc = np.ones(n, np.int64)
    agg_keys, agg_counts = np.unique(keys, return_counts=True)
    aw, at, ac = agg_keys // K, agg_keys % K, agg_counts.astype(np.int64)
    half = keys[: n // 2], keys[n // 2:]
    print(f"stream: {n:,} increments, {agg_keys.size:,} distinct (word, topic) of {V * K:,} keys, "
          f"Zipf s={args.zipf}; sketches {args.hashes} x {args.buckets}; "
          f"NUMBA_NUM_THREADS={os.environ['NUMBA_NUM_THREADS']}")

    words = np.arange(V, dtype=np.int64)
    out = np.empty((V, K))
    key = rng.key_for(args.seed, rng.STREAM_COUNTER, 0)
    mkey = rng.key_for(args.seed, rng.STREAM_MERGE, 0)
    # Build every backend's timed operations, then time them interleaved: repetition i runs
    # every backend once, so load drift on a shared machine hits all of them alike, and ratios
    # to dense are taken within a repetition before the median.
    ops = {}
    for name, (backend, params) in backends(V, K, args.hashes, args.buckets).items():
        s = make_stats(backend, **params)
        a, b = s.empty_like(), s.empty_like()  # merge operands: the two halves of the stream
        for i, (part, x) in enumerate(zip(half, (a, b))):
            k_, c_ = np.unique(part, return_counts=True)
            x.add(k_ // K, k_ % K, c_.astype(np.int64),
                  key=np.uint64(rng.derive(key, np.uint64(i))))
        base_cells = a.cells.copy()

        def add_agg(s=s):
            s.clear()
            s.add(aw, at, ac, key=key)

        def add_unit(s=s):
            s.clear()
            s.add(uw, ut, uc, key=key)

        def est(s=s):
            s.estimate_into(words, out)

        def merge(a=a, b=b, base_cells=base_cells):
            a.cells[...] = base_cells
            a.merge(b, key=mkey)

        ops[name] = (s, params, {"aggregated": add_agg, "unaggregated": add_unit,
                                 "estimate": est, "merge": merge})
        for fn in ops[name][2].values():  # warm-up: compilation and caches, untimed
            fn()
        add_agg()
    times = {name: {op: [] for op in o[2]} for name, o in ops.items()}
    for rep in range(args.reps):
        for name, (_, _, fns) in ops.items():
            for op, fn in fns.items():
                inner = 5 if op == "estimate" else 1  # estimate of V words is short: time 5 calls
                t0 = time.perf_counter()
                for _ in range(inner):
                    fn()
                times[name][op].append((time.perf_counter() - t0) / inner)
        print(f"  repetition {rep + 1}/{args.reps} done", flush=True)

    rows = []
    for name, (s, params, _) in ops.items():
        t = {op: np.array(v) for op, v in times[name].items()}
        d = {op: np.array(v) for op, v in times["dense"].items()}
        med = {op: float(np.median(v)) for op, v in t.items()}
        rows.append({
            "backend": name, "params": params, "cell_bytes": int(s.cells.nbytes),
            "nbytes": int(s.nbytes),
            "bytes_vs_dense": s.cells.nbytes / ops["dense"][0].cells.nbytes,
            "times_s": {op: v.tolist() for op, v in t.items()},
            "aggregated_updates_per_s": n / med["aggregated"],
            "aggregated_records_per_s": aw.size / med["aggregated"],
            "unaggregated_updates_per_s": n / med["unaggregated"],
            "estimates_per_s": V / med["estimate"],
            "merge_MB_per_s": s.cells.nbytes / med["merge"] / 1e6,
            "merge_cells_per_s": s.cells.size / med["merge"],
            # best repetition: the least disturbed by other load on a shared machine
            "best_aggregated_updates_per_s": n / t["aggregated"].min(),
            "best_unaggregated_updates_per_s": n / t["unaggregated"].min(),
            "best_estimates_per_s": V / t["estimate"].min(),
            "best_merge_MB_per_s": s.cells.nbytes / t["merge"].min() / 1e6,
            # throughput ratio to dense, median over repetitions of the per-repetition ratio
            "aggregated_updates_vs_dense": float(np.median(d["aggregated"] / t["aggregated"])),
            "unaggregated_updates_vs_dense": float(np.median(d["unaggregated"]
                                                             / t["unaggregated"])),
            "estimates_vs_dense": float(np.median(d["estimate"] / t["estimate"])),
            "merge_MB_vs_dense": float(np.median((s.cells.nbytes / t["merge"])
                                                 / (ops["dense"][0].cells.nbytes / d["merge"]))),
        })

    hdr = (f"{'backend':18s} {'MB':>6s} {'xdense':>6s} | {'agg Mupd/s':>10s} {'x':>5s} | "
           f"{'unit Mupd/s':>11s} {'x':>5s} | {'est kvec/s':>10s} {'x':>5s} | "
           f"{'merge MB/s':>10s} {'x':>5s}")
    print(hdr)
    print("-" * len(hdr))
    for r in rows:
        print(f"{r['backend']:18s} {r['cell_bytes'] / 1e6:6.2f} {r['bytes_vs_dense']:6.2f} | "
              f"{r['aggregated_updates_per_s'] / 1e6:10.1f} "
              f"{r['aggregated_updates_vs_dense']:5.2f} | "
              f"{r['unaggregated_updates_per_s'] / 1e6:11.1f} "
              f"{r['unaggregated_updates_vs_dense']:5.2f} | "
              f"{r['estimates_per_s'] / 1e3:10.1f} {r['estimates_vs_dense']:5.2f} | "
              f"{r['merge_MB_per_s']:10.1f} {r['merge_MB_vs_dense']:5.2f}")

    result = {
        "command": f"NUMBA_NUM_THREADS={os.environ['NUMBA_NUM_THREADS']} python "
                   + " ".join(["scripts/bench_sketch.py"] + (argv or sys.argv[1:])),
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "git": git_rev(), "machine": machine(),
        "stream": {"increments": n, "vocab": V, "topics": K, "zipf": args.zipf,
                   "distinct_pairs": int(agg_keys.size), "seed": args.seed},
        "sketch": {"n_hashes": args.hashes, "n_buckets": args.buckets},
        "reps": args.reps, "statistic": "median", "results": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(result, indent=1) + "\n")
    os.replace(tmp, args.out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
