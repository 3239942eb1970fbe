#!/usr/bin/env python
"""Memory per rank and bytes per merge, per backend: measured per-token costs -> cluster plans.

``--measure CORPUS`` builds rank 0's sampler state (``ShardState``) for ``--topics`` K and
``--ranks`` P and prints its bytes per token, per (doc, word) pair and per document, and the
corpus ratios the formula needs. The plan then applies the formula of docs/DISTRIBUTED.md::

    per rank  = stats_bytes                           (one copy, rebuilt in place)
              + (6 + 16 * pairs/token + 4) * N/P      (z + tok_perm, pair index, corpus memmap)
              + 6 * dk/token * N/P + 24 * trip/token * N/P + 40 * words_per_rank + 40 * D/P
              + min(stats_bytes, 64 MiB) if P > 1     (merge round buffer)
              + 24 * V + 16 K min(4096, words) + 64 MiB  (word counts; estimate and eval buffers)
    stats_bytes: dense 4 V K, count-min 4 d w K, count-min-Morris (8-bit) d w K, + 8 K
    bytes sent per rank per merge = 2 (P - 1) / P * stats_bytes   (ring / owner-computes)

Ratios for the scenarios (the paper's scale and 10x it, ~224 tokens per article): distinct
(doc, word) pairs per token ``--pairs-per-token`` (0.6: measured 0.48 on the shared Wikipedia
articles at 1,228 tokens/doc and 0.69 on Reuters at 71 tokens/doc); n_dk capacity
``min(L, K) / L`` per token with L = N / D; word-topic triple slots ``--trip-per-token`` (0.3:
measured 0.29 on Wikipedia at K = 100; a Zipf(1) vocabulary gives ~0.3 at both scenarios).
``--measure`` prints the measured values. Prints a table and writes JSON.

    python scripts/memory_plan.py --measure /work/corpora/wiki --topics 100 --ranks 2
    python scripts/memory_plan.py --check configs/tiny.toml configs/wiki-reuters.toml
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "scripts")]

#: (name, tokens N, docs D, vocabulary V, topics K, ranks P); N for the paper's 6.7M articles
#: is an assumption (about 220 tokens per article after stop and rare words are removed).
SCENARIOS = [
    ("paper: 6.7M articles, V=291k, K=100, P=32", 1.5e9, 6.7e6, 291_000, 100, 32),
    ("10x: 67M docs, V=1M, K=1000, P=32", 15e9, 67e6, 1_000_000, 1000, 32),
    ("10x on 320 ranks", 15e9, 67e6, 1_000_000, 1000, 320),
]
#: backend -> cells bytes as a function of (V, K); d = 3, w = 2^16 / 2^17 (paper's grid).
BACKENDS = {
    "dense (int32 V x K)": lambda V, K: 4 * V * K,
    "count-min 3 x 2^16 int32": lambda V, K: 4 * 3 * 2**16 * K,
    "count-min-Morris 3 x 2^16 8-bit": lambda V, K: 3 * 2**16 * K,
    "count-min-Morris 3 x 2^17 8-bit": lambda V, K: 3 * 2**17 * K,
}


def measure(path: str, K: int, P: int) -> dict:
    """Per-token sampler-state costs of rank 0's shard of ``path`` at K topics and P ranks."""
    import numpy as np

    from lda_sketch.io.corpus import Corpus
    from lda_sketch.sampler import ShardState
    from lda_sketch.distributed.partition import shard_of

    corpus = Corpus.open(path)
    shard = shard_of(corpus, 0, P)
    s = ShardState(shard, K, corpus.n_vocab)
    n = s.n_tokens
    arrays = {k: v.nbytes for k, v in vars(s).items() if isinstance(v, np.ndarray)}
    per_pair = sum(arrays[k] for k in ("pair_tok_ptr", "pair_doc", "doc_pair_slot",
                                       "doc_pair_cnt"))
    trip = sum(arrays[k] for k in ("_trip_w", "_trip_t", "_trip_c"))
    dk = arrays["dk_topic"] + arrays["dk_count"]
    return {"corpus": str(path), "topics": K, "ranks": P, "shard_tokens": n,
            "shard_docs": s.n_docs, "shard_pairs": s.n_pairs, "shard_words": s.n_words,
            "state_nbytes": s.nbytes, "state_bytes_per_token": s.nbytes / n,
            "pairs_per_token": s.n_pairs / n, "pair_index_bytes_per_pair": per_pair / s.n_pairs,
            "dk_entries_per_token": (dk / 6) / n, "trip_slots_per_token": (trip / 24) / n,
            "z_and_perm_bytes_per_token": (arrays["z"] + arrays["tok_perm"]) / n,
            "arrays": arrays}


def plan(ratios: dict) -> list[dict]:
    """The formula of :mod:`lda_sketch.run.memory` (the one ``train --dry-run`` prints) per
    scenario and backend."""
    from lda_sketch.run.memory import plan_rank

    rows = []
    for name, N, D, V, K, P in SCENARIOS:
        for b, cells in BACKENDS.items():
            m = plan_rank(stats_bytes=cells(V, K) + 8 * K, n_tokens=N, n_docs=D, n_vocab=V,
                          n_topics=K, n_ranks=P,
                          pairs_per_token=ratios["pairs_per_token"],
                          triples_per_token=ratios["trip_slots_per_token"])
            rows.append({"scenario": name, "backend": b, "tokens_per_rank": N / P, **m})
    return rows


def check(configs: list[str], n_iter: int) -> list[dict]:
    """``train --dry-run``'s plan (1 rank, interpreter and libraries included) against the peak
    RSS of the same config trained for ``n_iter`` iterations (the run's ``peak_rss_mib``)."""
    import subprocess
    import tempfile

    from lda_sketch import config as config_mod
    from lda_sketch.run.data import load_data
    from lda_sketch.run.machine import rss_bytes
    from lda_sketch.run.memory import plan_run
    from lda_sketch.run.train import check_setup, resolve_config

    base = rss_bytes()  # this process has imported the training modules, like the dry run
    rows = []
    for path in configs:
        cfg = config_mod.load(path)
        train, heldout = load_data(cfg)
        cfg = resolve_config(cfg, train)[0]
        m = plan_run(check_setup(cfg, train), train, heldout, 1, base_rss=base)
        del train, heldout
        with tempfile.TemporaryDirectory(prefix="memplan-") as tmp:
            r = subprocess.run([sys.executable, "-m", "lda_sketch", "train", "--no-progress",
                                "--config", path, "--set", f"sampler.n_iter={n_iter}",
                                "--set", "output.checkpoint_every=0", "--out", f"{tmp}/run"],
                               capture_output=True, text=True,
                               env={**os.environ, "NUMBA_NUM_THREADS": "1"})
            if r.returncode:
                raise RuntimeError(r.stderr[-3000:])
            last = json.loads(Path(f"{tmp}/run/metrics.jsonl").read_text().splitlines()[-1])
        peak = max(last["peak_rss_mib"]) * 2**20
        rows.append({"config": path, "n_iter": n_iter,
                     "planned_gib": round(m["per_rank_bytes"] / 2**30, 4),
                     "arrays_gib": round(m["arrays_bytes"] / 2**30, 4),
                     "runtime_gib": round(m["runtime_bytes"] / 2**30, 4),
                     "peak_rss_gib": round(peak / 2**30, 4),
                     "ratio": round(m["per_rank_bytes"] / peak, 3)})
        print(json.dumps(rows[-1]), flush=True)
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--measure", help="corpus directory to measure the per-token costs on")
    ap.add_argument("--topics", type=int, default=100)
    ap.add_argument("--ranks", type=int, default=2)
    ap.add_argument("--pairs-per-token", type=float, default=0.6)
    ap.add_argument("--trip-per-token", type=float, default=0.3)
    ap.add_argument("--out", type=Path, default=REPO / "docs" / "results" / "memory_plan.json")
    ap.add_argument("--check", nargs="+", metavar="CONFIG",
                    help="instead: the dry run's plan of each config against the peak RSS of "
                         "the config trained for --check-iters iterations; adds the rows to "
                         "--out's 'checks'")
    ap.add_argument("--check-iters", type=int, default=3)
    args = ap.parse_args(argv)
    if args.check:
        from harness import machine_note

        rows = check(args.check, args.check_iters)
        old = json.loads(args.out.read_text()) if args.out.exists() else {}
        done = {r["config"] for r in rows}
        old["checks"] = [r for r in old.get("checks", []) if r["config"] not in done] + rows
        old["checks_run"] = {"command": " ".join(["python", *sys.argv]), **machine_note()}
        tmp = args.out.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(old, indent=1))
        os.replace(tmp, args.out)
        return 0 if all(0.75 <= r["ratio"] <= 1.25 for r in rows) else 1
    ratios = {"pairs_per_token": args.pairs_per_token,
              "trip_slots_per_token": args.trip_per_token}
    measured = None
    if args.measure:
        measured = measure(args.measure, args.topics, args.ranks)
        print(json.dumps({k: v for k, v in measured.items() if k != "arrays"}, indent=1))
    rows = plan(ratios)
    print(f"\n{'scenario':45} {'backend':33} {'GB/rank':>8} {'stats MB':>9} "
          f"{'MB sent/merge':>13}")
    for r in rows:
        print(f"{r['scenario']:45} {r['backend']:33} {r['per_rank_bytes'] / 1e9:8.2f} "
              f"{r['stats_bytes'] / 1e6:9.1f} {r['bytes_sent_per_merge'] / 1e6:13.1f}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".json.tmp")
    tmp.write_text(json.dumps({"command": " ".join([Path(sys.executable).name, *sys.argv]),
                               "ratios": ratios, "measured": measured, "plan": rows}, indent=1))
    os.replace(tmp, args.out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
