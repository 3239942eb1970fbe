#!/usr/bin/env python3
"""Why a sketched run trails dense: topics that soak up the hashed tail (issue 13 diagnostic).

    python scripts/tail_share.py --head 13000 runs/support/dense/trial-{0,1,2}/model \\
        runs/support/cma_d3_b12_head13000/trial-{0,1,2}/model \\
        runs/support/cmacu_d3_b12_head13000/trial-{0,1,2}/model

Per trained model: each topic's *tail share*, the part of its tokens held by words outside the
collision-free head (word ids >= ``--head`` of a frequency-ordered vocabulary), from the exact
counts of a dense model or the first hashed row's totals of a sketch (for conservative update
that row undercounts, so its shares are lower bounds); the number of topics above 0.4; the
largest topic; and the phantom mass of the hashed words (the sum of their estimates over their
exact token count, minus 1). Prints a table and writes docs/results/tail_share.json.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from lda_sketch.io.atomic import write_text_atomic  # noqa: E402
from lda_sketch.run.machine import machine_facts  # noqa: E402
from lda_sketch.model.topic_model import TopicModel  # noqa: E402


def tail_figures(model_dir: Path, head: int) -> dict:
    m = TopicModel.load(model_dir)
    s = m.stats
    n_k = s.n_k.astype(np.float64)
    words = np.arange(head, s.n_vocab)
    est = np.zeros(s.n_topics)
    for lo in range(0, words.size, 8192):
        est += s.estimate(words[lo:lo + 8192]).sum(axis=0)
    if s.backend_id == "dense":
        tail = est
    else:
        cells = s.cells.reshape(-1)[: s.n_hashes * s.n_buckets * s.n_topics]
        row0 = cells.reshape(s.n_hashes, s.n_buckets, s.n_topics)[0]
        tail = (s.read_table[row0] if hasattr(s, "read_table") else row0).sum(axis=0)
    share = tail / n_k
    return {"model": str(model_dir), "backend": s.backend_id, "params": s.params(),
            "tail_share_quantiles": np.quantile(share, [0, 0.1, 0.5, 0.9, 1]).round(3).tolist(),
            "topics_over_0.4": int((share > 0.4).sum()), "largest_topic_tokens": int(n_k.max()),
            "tail_tokens": int(tail.sum()), "phantom_over_true": float(est.sum() / m.word_counts[head:].sum() - 1)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("models", type=Path, nargs="+")
    ap.add_argument("--head", type=int, default=13000)
    ap.add_argument("--out", type=Path, default=REPO / "docs/results/tail_share.json")
    args = ap.parse_args(argv)
    rows = [tail_figures(m, args.head) for m in args.models]
    print("| model | tail share min / median / max | topics > 0.4 | largest n_k | phantom / true |")
    print("|---|---|---:|---:|---:|")
    for r in rows:
        q = r["tail_share_quantiles"]
        print(f"| {r['model']} | {q[0]:.2f} / {q[2]:.2f} / {q[4]:.2f} | {r['topics_over_0.4']} | "
              f"{r['largest_topic_tokens']:,} | {r['phantom_over_true']:.2f} |")
    doc = {"command": "python scripts/tail_share.py " + " ".join(sys.argv[1:]),
           "machine": machine_facts(), "head": args.head, "records": rows}
    write_text_atomic(args.out, json.dumps(doc, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
