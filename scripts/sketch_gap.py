#!/usr/bin/env python
"""Why do sketched runs trail dense in held-out perplexity? Diagnose finished runs.

For every run directory given (each holding ``model/`` and ``metrics.jsonl``) this prints and
records (JSON):

* the final held-out perplexity (document completion, phi normalised over the vocabulary);
* ``sum_w est[w,k] / n_k``: how much the sketch's collision overcount inflates each topic's
  estimated mass (1.0 = no overcount; mean and max over topics);
* the perplexity the same model would report if phi were normalised by ``n_k + V*beta`` instead
  (not a distribution when the sketch overcounts: it understates perplexity; DESIGN §4).

Usage:  python scripts/sketch_gap.py --heldout /work/corpora/reuters-heldout runs/backends100/*/trial-0
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from lda_sketch.evaluation.perplexity import completion_loglik
from lda_sketch.io.corpus import Corpus
from lda_sketch.model.topic_model import TopicModel


def diagnose(run: Path, heldout: Corpus, fold_in: int) -> dict:
    model = TopicModel.load(run / "model")
    stats = model.stats
    V, beta, alpha = stats.n_vocab, model.beta, model.alpha
    n_k = stats.n_k.astype(np.float64)
    colsum = np.asarray(stats.estimate_column_sums(), np.float64)
    last = [json.loads(line) for line in open(run / "metrics.jsonl")][-1]

    def proper(words):
        return ((np.maximum(stats.estimate(words), 0) + beta) / (colsum + V * beta)).T

    def improper(words):
        return ((np.maximum(stats.estimate(words), 0) + beta) / (n_k + V * beta)).T

    res_p = completion_loglik(proper, V, alpha, heldout, n_iter=fold_in)
    res_i = completion_loglik(improper, V, alpha, heldout, n_iter=fold_in)
    ratio = colsum / np.maximum(n_k, 1)
    return {"run": str(run), "backend": stats.backend_id, "params": stats.params(),
            "iteration": last["iteration"], "perplexity_metrics": last["perplexity"],
            "perplexity": res_p["perplexity"], "perplexity_nk_normalised": res_i["perplexity"],
            "unigram_perplexity": last["unigram_perplexity"],
            "overcount_mean": float(ratio.mean()), "overcount_max": float(ratio.max()),
            "stats_nbytes": int(stats.nbytes)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("runs", nargs="+", type=Path, help="run directories (with model/)")
    ap.add_argument("--heldout", type=Path, required=True, help="held-out corpus directory")
    ap.add_argument("--fold-in", type=int, default=100, help="EM fold-in steps (default 100)")
    ap.add_argument("--out", type=Path, default=Path("docs/results/sketch_gap.json"))
    args = ap.parse_args(argv)
    heldout = Corpus.open(args.heldout)
    rows = []
    print(f"{'run':44s} {'perplexity':>10s} {'n_k-normalised':>14s} {'overcount':>9s} {'max':>6s}")
    for run in args.runs:
        if not (run / "model").is_dir():
            print(f"{str(run):44s} (no model yet, skipped)")
            continue
        r = diagnose(run, heldout, args.fold_in)
        rows.append(r)
        print(f"{str(run)[-44:]:44s} {r['perplexity']:10.0f} {r['perplexity_nk_normalised']:14.0f} "
              f"{r['overcount_mean']:9.3f} {r['overcount_max']:6.2f}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                                    "command": "python scripts/sketch_gap.py --heldout "
                                               f"{args.heldout} " + " ".join(map(str, args.runs)),
                                    "runs": rows}, indent=1))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
