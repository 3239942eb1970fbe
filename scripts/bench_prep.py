"""Prep throughput on the WikiExtractor set: MB/s of compressed input at 1 and 2 workers.

Both configurations run in this one process, interleaved (1, 2, 1, 2, ...), each building the
corpus end to end (read, tokenize, vocabulary, map, atomic write to a temporary directory).
CPU seconds (own + pool workers) are recorded too: on a shared machine wall-clock scaling
depends on other jobs, while the CPU total shows the parallel overhead.
Prints a table and records JSON (default docs/results/bench_prep.json).

    python scripts/bench_prep.py                 # first 40 files (~12 MB), 3 repeats
    python scripts/bench_prep.py --files 0       # all 200 files (60 MB)
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import tempfile
import time
from pathlib import Path

from data_prep import PrepOptions, make_source, prepare

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data" / "wikipedia" / "enwiki-wikiextractor-2015"


def _cpu_model() -> str:
    from lda_sketch.run.machine import cpu_model
    return cpu_model()


def _cpu_seconds() -> float:
    """User+system CPU of this process and its finished (pool worker) children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def run_once(files, workers: int) -> dict:
    c0 = _cpu_seconds()
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        with prepare(make_source("wikiextractor"), files,
                     options=PrepOptions(workers=workers)) as r:
            r.write(Path(tmp) / "c")
            n_docs, n_tokens, n_vocab = r.train.n_docs, r.train.n_tokens, r.train.n_vocab
            in_bytes = r.summary["input_bytes"]
    wall = time.perf_counter() - t0
    cpu = _cpu_seconds() - c0
    return {"workers": workers, "seconds": wall, "mb_per_s": in_bytes / 1e6 / wall,
            "cpu_seconds": cpu, "mb_per_cpu_s": in_bytes / 1e6 / cpu,
            "docs": n_docs, "tokens": n_tokens, "vocab": n_vocab, "input_bytes": in_bytes}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="WikiExtractor directory")
    ap.add_argument("--files", type=int, default=40, help="first N files (0: all)")
    ap.add_argument("--repeats", type=int, default=3, help="runs per configuration")
    ap.add_argument("--out", type=Path, default=REPO / "docs" / "results" / "bench_prep.json")
    args = ap.parse_args()

    files = sorted(args.data.rglob("wiki_*"))
    if args.files:
        files = files[:args.files]
    runs = {1: [], 2: []}
    load_before = os.getloadavg()
    for rep in range(args.repeats):
        for w in (1, 2):
            r = run_once(files, w)
            runs[w].append(r)
            print(f"repeat {rep}  workers={w}  {r['seconds']:6.2f} s  {r['mb_per_s']:5.2f} MB/s  "
                  f"cpu {r['cpu_seconds']:6.2f} s  "
                  f"docs={r['docs']} tokens={r['tokens']} vocab={r['vocab']}", flush=True)
    med = {w: statistics.median(x["mb_per_s"] for x in rs) for w, rs in runs.items()}
    cpu = {w: statistics.median(x["cpu_seconds"] for x in rs) for w, rs in runs.items()}
    print(f"load average before/after: {load_before[0]:.2f} / {os.getloadavg()[0]:.2f}")
    print(f"median MB/s (compressed input): 1 worker {med[1]:.2f}, 2 workers {med[2]:.2f}, "
          f"ratio {med[2] / med[1]:.2f}x")
    print(f"median CPU seconds: 1 worker {cpu[1]:.2f}, 2 workers {cpu[2]:.2f} "
          f"(parallel overhead {cpu[2] / cpu[1]:.2f}x)")
    record = {
        "benchmark": "prep wikiextractor throughput", "date": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                                             time.gmtime()),
        "machine": {"nproc": os.cpu_count(), "cpu": _cpu_model(),
                    "python": platform.python_version(),
                    # the machine is shared: other jobs' load makes worker scaling noisy
                    "loadavg_before": load_before, "loadavg_after": os.getloadavg()},
        "command": "python scripts/bench_prep.py " + f"--files {args.files} --repeats {args.repeats}",
        "n_files": len(files), "input_bytes": runs[1][0]["input_bytes"],
        "median_mb_per_s": {"1": med[1], "2": med[2]}, "ratio_2_over_1": med[2] / med[1],
        "median_cpu_seconds": {"1": cpu[1], "2": cpu[2]},
        "runs": runs[1] + runs[2],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=2) + "\n", "utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
