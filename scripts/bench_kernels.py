#!/usr/bin/env python3
"""The SCA kernels side by side on one frozen state: CPU seconds per sweep and work per pair.

Trains ``--warm`` iterations of dense SCA (``--warm-sampler``) at ``--topics`` on the corpus
(default: wiki), then, from that one frozen state (same z, n_dk and statistics for every
sweep), times the sweep of the reference kernel ``sca`` and of ``sca-sparse`` at each
``--doc-blocks`` (records before issue 24 also timed the removed ``sca-rejection``), in round
robin for ``--reps`` rounds (one thread; CPU seconds, which move less than wall time with the
load of a shared machine), and the n_dk rebuild every sampler follows. Records each sampler's
diagnostics (the sparse kernel's intersection terms and bitset words per pair) and the document
topic counts of the state (mean k_d, and weighted by tokens).

    NUMBA_NUM_THREADS=1 python scripts/bench_kernels.py --topics 1000 --warm 25

Writes (appends a record to) ``docs/results/bench_kernels.json``.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import statistics
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", default=str(REPO / "corpora" / "wiki"))
    ap.add_argument("--topics", type=int, default=1000)
    ap.add_argument("--warm", type=int, default=25, help="sca iterations before freezing")
    ap.add_argument("--warm-sampler", default="sca",
                    help="the sampler of the warm-up iterations (an exact SCA kernel)")
    ap.add_argument("--doc-blocks", default="1024",
                    help="sca-sparse's doc_block values, comma-separated (one kernel each)")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--out", default=str(REPO / "docs" / "results" / "bench_kernels.json"))
    args = ap.parse_args(argv)

    from lda_sketch.run import warmup
    from lda_sketch.config import SketchConfig
    from lda_sketch.run.engine import Engine, EngineParams
    from lda_sketch.io.corpus import Corpus
    from lda_sketch.io.atomic import write_text_atomic
    from lda_sketch.sampler import SCAAliasSampler, SCASparseSampler

    warmup.run()
    load0 = list(os.getloadavg())
    corpus = Corpus.open(args.corpus)
    eng = Engine(EngineParams(n_topics=args.topics, sketch=SketchConfig(backend="dense"),
                              sampler=args.warm_sampler),
                 corpus, corpus.n_vocab)
    eng.initialize()
    for _ in range(args.warm):
        eng.step()
    s = eng.state
    z0 = s.z.copy()
    p = eng.params
    kernels = {"sca": SCAAliasSampler(s, p.alpha, p.beta)}  # the sca law's alias path
    for b in (int(x) for x in args.doc_blocks.split(",") if x):
        kernels[f"sca-sparse doc_block={b}"] = SCASparseSampler(s, p.alpha, p.beta, doc_block=b)

    def sweep(smp) -> float:
        s.z[:] = z0
        t0 = time.process_time()
        smp.sweep(eng.stats, 12345)
        return time.process_time() - t0

    for smp in kernels.values():  # compile / warm caches
        sweep(smp)
        if hasattr(smp, "counters"):
            smp.counters[:] = 0
    cpu = {name: [] for name in kernels}
    for _ in range(args.reps):
        for name, smp in kernels.items():
            cpu[name].append(sweep(smp))
    s.z[:] = z0
    rebuild = []
    for _ in range(args.reps):  # the n_dk rebuild every sampler follows
        t0 = time.process_time()
        s.rebuild_doc_topics()
        rebuild.append(time.process_time() - t0)
    print(f"n_dk rebuild {statistics.median(rebuild):6.2f} s", flush=True)
    recs = []
    for name, smp in kernels.items():
        r = {"kernel": name, "cpu_s_per_sweep_median": statistics.median(cpu[name]),
             "cpu_s_per_sweep": [round(x, 3) for x in cpu[name]]}
        r.update(smp.diagnostics())
        recs.append(r)
        print(f"{name:28s} {r['cpu_s_per_sweep_median']:6.2f} s  "
              + "  ".join(f"{k} {v:.3g}" for k, v in r.items()
                          if k in ("intersection_per_pair", "bitset_words_per_pair")),
              flush=True)
    rec = {"command": "NUMBA_NUM_THREADS=1 python scripts/bench_kernels.py "
                      + " ".join(argv if argv is not None else sys.argv[1:]),
           "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
           "loadavg_start": load0, "loadavg_end": list(os.getloadavg()),
           "corpus": Path(args.corpus).name, "n_topics": args.topics,
           "state_after_iterations": args.warm, "n_tokens": int(s.n_tokens),
           "n_pairs": int(s.n_pairs), "mean_k_d": float(s.dk_len.mean()),
           "token_weighted_k_d": float((s.dk_len * s.doc_len).sum() / s.doc_len.sum()),
           "cpu_s_rebuild_doc_topics_median": statistics.median(rebuild),
           "kernels": recs}
    out = Path(args.out)
    doc = json.loads(out.read_text()) if out.exists() else {"records": []}
    doc["records"].append(rec)
    write_text_atomic(out, json.dumps(doc, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
