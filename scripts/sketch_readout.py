"""Read-out diagnostic: re-encode a trained dense model's exact n[w,k] in sketch layouts and score
each with the project's evaluator (issue 13, part 1).

No training happens here, so the gap to the dense model is the sketch's *read-out* error alone
(collisions, counter noise, phantom mass on true-zero cells), separated from training dynamics.
Every layout gets the same records (one per nonzero cell) with one RNG key, and is scored by
:meth:`lda_sketch.model.topic_model.TopicModel.evaluate` (document completion, phi normalised over the
whole vocabulary). ``+rescale`` multiplies each word's estimates so they sum to its exact corpus
count n_w (a V-int32 table, counted in the bytes).

    python scripts/sketch_readout.py --model runs/dense60/model \\
        --heldout corpora/reuters-heldout --out docs/results/sketch_readout.json

Prints one line per layout and writes JSON (resumable: layouts already in --out are skipped).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lda_sketch.io.corpus import Corpus  # noqa: E402
from lda_sketch.run.machine import machine_facts  # noqa: E402
from lda_sketch.rng import STREAM_COUNTER, key_for  # noqa: E402
from lda_sketch.stats import make_stats  # noqa: E402
from lda_sketch.model.topic_model import TopicModel  # noqa: E402

CMA = {"backend": "countmin-morris", "increment": "correlated", "counter_bits": 8,
       "counter_base": 1.08}
CM = {"backend": "countmin"}
# (label, backend params, rescale)
LAYOUTS = [
    ("CM+A 3x2^13", dict(CMA, n_hashes=3, n_buckets=2**13), False),
    ("CM+A 3x2^13 +rescale", dict(CMA, n_hashes=3, n_buckets=2**13), True),
    ("CM+A 3x2^13 +support", dict(CMA, n_hashes=3, n_buckets=2**13, support="exact"), False),
    ("CM+A 3x2^12 +support", dict(CMA, n_hashes=3, n_buckets=2**12, support="exact"), False),
    ("CM+A 3x2^12 +support +rescale", dict(CMA, n_hashes=3, n_buckets=2**12, support="exact"),
     True),
    ("CM+A 5x2^11 +support", dict(CMA, n_hashes=5, n_buckets=2**11, support="exact"), False),
    ("CM+A 2x2^12 +support", dict(CMA, n_hashes=2, n_buckets=2**12, support="exact"), False),
    ("CM+A 3x2^14", dict(CMA, n_hashes=3, n_buckets=2**14), False),
    ("CM+A 7x2^13", dict(CMA, n_hashes=7, n_buckets=2**13), False),
    ("CM+A 3x2^12 +support mean-min", dict(CMA, n_hashes=3, n_buckets=2**12, support="exact",
                                           estimator="mean-min"), False),
    ("CM+A 3x2^12 +support mean-min +rescale", dict(CMA, n_hashes=3, n_buckets=2**12,
                                                    support="exact", estimator="mean-min"), True),
    ("CM+A-CU 3x2^12 +support", dict(CMA, n_hashes=3, n_buckets=2**12, support="exact",
                                     conservative=True), False),
    ("CM+A 6x2^12 +support", dict(CMA, n_hashes=6, n_buckets=2**12, support="exact"), False),
    ("CM+A 3x2^12 head 3000 +support", dict(CMA, n_hashes=3, n_buckets=2**12, support="exact",
                                            head_words=3000), False),
    ("CM+A 3x2^12 head 3000", dict(CMA, n_hashes=3, n_buckets=2**12, head_words=3000), False),
    ("CM+A 3x2^11 head 8000 +support", dict(CMA, n_hashes=3, n_buckets=2**11, support="exact",
                                            head_words=8000), False),
    ("CM+A 3x2^12 head 10000", dict(CMA, n_hashes=3, n_buckets=2**12, head_words=10000), False),
    ("CM+A 3x2^11 head 19000", dict(CMA, n_hashes=3, n_buckets=2**11, head_words=19000), False),
    ("CM+A 3x2^12 head 13000", dict(CMA, n_hashes=3, n_buckets=2**12, head_words=13000), False),
    ("CM+A 3x2^12 head 40000 +support", dict(CMA, n_hashes=3, n_buckets=2**12, support="exact",
                                             head_words=40000), False),
    ("CM+A 3x2^12 head 45000", dict(CMA, n_hashes=3, n_buckets=2**12, head_words=45000), False),
    ("CM+A b1.03 3x2^12 head 13000", dict(CMA, counter_base=1.03, n_hashes=3, n_buckets=2**12,
                                          head_words=13000), False),
    ("CM+A16 b1.001 3x2^11 head 6000", dict(CMA, counter_bits=16, counter_base=1.001,
                                            n_hashes=3, n_buckets=2**11, head_words=6000), False),
    ("CM+A b1.03 3x2^12 head 13000 +support", dict(CMA, counter_base=1.03, n_hashes=3,
                                                   n_buckets=2**12, head_words=13000,
                                                   support="exact"), False),
    ("CM 3x2^13", dict(CM, n_hashes=3, n_buckets=2**13), False),
    ("CM 3x2^11 +support", dict(CM, n_hashes=3, n_buckets=2**11, support="exact"), False),
]


class Rescaled:
    """Duck-typed statistics: ``inner``'s estimates scaled per word to sum to ``n_w``."""

    def __init__(self, inner, n_w: np.ndarray):
        self.inner, self.n_w = inner, n_w.astype(np.float64)
        self.n_topics, self.n_vocab = inner.n_topics, inner.n_vocab
        self.nbytes = inner.nbytes + 4 * inner.n_vocab  # the int32 n_w table
        self.backend_id = inner.backend_id

    def estimate_into(self, words, out):
        self.inner.estimate_into(words, out)
        s = out.sum(axis=1)
        scale = np.where(s > 0, self.n_w[words] / np.where(s > 0, s, 1.0), 0.0)
        out *= scale[:, None]
        return out

    def estimate(self, words):
        words = np.ascontiguousarray(words, np.int64)
        return self.estimate_into(words, np.empty((words.shape[0], self.n_topics)))

    def estimate_column_sums(self, chunk: int = 65536) -> np.ndarray:
        total = np.zeros(self.n_topics)
        for a in range(0, self.n_vocab, chunk):
            total += self.estimate(np.arange(a, min(a + chunk, self.n_vocab))).sum(axis=0)
        return total


def encode(dense_cells: np.ndarray, params: dict, seed: int):
    """The layout's statistics holding exactly the records of ``dense_cells`` (V, K)."""
    params = dict(params)
    backend = params.pop("backend")
    V, K = dense_cells.shape
    w, k = np.nonzero(dense_cells)
    stats = make_stats(backend, n_topics=K, n_vocab=V, seed=seed, **params)
    stats.add(w.astype(np.int64), k.astype(np.int64), dense_cells[w, k].astype(np.int64),
              key=key_for(seed, STREAM_COUNTER, 1))
    return stats


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=Path, required=True, help="a dense model directory")
    ap.add_argument("--heldout", type=Path, required=True, help="held-out corpus directory")
    ap.add_argument("--out", type=Path, default=Path("docs/results/sketch_readout.json"))
    ap.add_argument("--seed", type=int, default=0, help="hash and counter seed")
    ap.add_argument("--only", nargs="*", help="labels to run (default: all)")
    args = ap.parse_args(argv)
    dense = TopicModel.load(args.model)
    if dense.stats.backend_id != "dense":
        sys.exit(f"{args.model}: a dense model is needed (got {dense.stats.backend_id})")
    cells = np.asarray(dense.stats.cells)
    heldout = Corpus.open(args.heldout)
    done = json.loads(args.out.read_text()) if args.out.exists() else {"layouts": []}
    have = {r["label"] for r in done["layouts"]}
    dense_bytes = int(dense.stats.nbytes)
    if "dense" not in have:
        ppl = dense.evaluate(heldout, unigram=False)["perplexity"]
        done["layouts"].append({"label": "dense", "stats_bytes": dense_bytes, "bytes_ratio": 1.0,
                                "perplexity": ppl, "gap_pct": 0.0})
    dense_ppl = next(r["perplexity"] for r in done["layouts"] if r["label"] == "dense")
    print(f"{'layout':34s} {'bytes':>10s} {'x dense':>8s} {'perplexity':>10s} {'gap':>8s}")
    for label, params, rescale in LAYOUTS:
        if label in have or (args.only and label not in args.only):
            continue
        t0 = time.perf_counter()
        stats = encode(cells, params, args.seed)
        nnz = stats._support.n_nonzero() if getattr(stats, "_support", None) else None
        if rescale:
            stats = Rescaled(stats, dense.word_counts)
        model = replace(dense, stats=stats, _phi_den=None)
        ppl = model.evaluate(heldout, unigram=False)["perplexity"]
        rec = {"label": label, "params": params, "rescale": rescale,
               "stats_bytes": int(stats.nbytes), "bytes_ratio": stats.nbytes / dense_bytes,
               "perplexity": ppl, "gap_pct": 100 * (ppl / dense_ppl - 1),
               "support_nonzero_cells": nnz, "seconds": time.perf_counter() - t0}
        done["layouts"].append(rec)
        print(f"{label:34s} {rec['stats_bytes']:10,d} {rec['bytes_ratio']:8.3f} {ppl:10.1f} "
              f"{rec['gap_pct']:+7.1f}%", flush=True)
        done.update(date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                    command="python scripts/sketch_readout.py " + " ".join(argv or sys.argv[1:]),
                    model=str(args.model), heldout=str(args.heldout),
                    dense_nonzero_cells=int(np.count_nonzero(cells)), machine=machine_facts())
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(done, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
