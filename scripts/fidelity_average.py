"""Two candidates for issue 22 that act on the estimates rather than the layout, measured on
both held-out sets (docs/RESULTS.md, "Candidates tried"):

* ``average``: train one configuration in this process (configs/fidelity.toml plus ``--set``
  overrides) and score both the last iteration's estimates and their mean over the last ``--last``
  iterations (a V x K float64 accumulator: a measurement, not a structure the sketch could keep);
* ``tail``: score saved sketch models as they are and with the hashed words' estimates scaled
  per topic so every topic sums to its exact n_k (the head's kept), and report how far the
  column sums exceed n_k.

    python scripts/fidelity_average.py average --label budget-1_12 --set sketch.budget=1/12
    python scripts/fidelity_average.py average --label dense --set sketch.backend=dense
    python scripts/fidelity_average.py tail runs/fidelity/budget-1_12/seed-0 ...

Appends to docs/results/fidelity_average.json (written atomically).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from fidelity import CONFIG, HELDOUT  # noqa: E402
from fidelity_readout import TailScaled  # noqa: E402
from lda_sketch.config import load as load_config  # noqa: E402
from lda_sketch.run.engine import Engine, EngineParams, resolved_sketch  # noqa: E402
from lda_sketch.evaluation.perplexity import completion_loglik  # noqa: E402
from lda_sketch.io.atomic import write_text_atomic  # noqa: E402
from lda_sketch.io.corpus import Corpus  # noqa: E402
from lda_sketch.run.machine import machine_facts  # noqa: E402
from lda_sketch.model.topic_model import TopicModel  # noqa: E402


def average(args, helds) -> dict:
    cfg = load_config(CONFIG, args.set)
    train = Corpus.open(cfg.data.train)
    cfg = cfg.replace(sketch=resolved_sketch(cfg, train.word_counts())[0])
    eng = Engine(EngineParams.from_config(cfg), train, train.n_vocab)
    eng.initialize()
    V, K, T = train.n_vocab, cfg.model.n_topics, cfg.sampler.n_iter
    acc, words = np.zeros((V, K)), np.arange(V)
    for t in range(T):
        eng.step()
        if t >= T - args.last:
            acc += eng.stats.estimate(words)
    est = acc / args.last
    den = np.maximum(est, 0).sum(0) + V * cfg.model.beta
    out = {}
    for name, held in helds.items():
        last = eng.model().evaluate(held, unigram=False)["perplexity"]
        mean = completion_loglik(
            lambda w: ((np.maximum(est[w], 0) + cfg.model.beta) / den).T, V, cfg.model.alpha,
            held, n_iter=cfg.eval.fold_in_iters)["perplexity"]
        out[name] = {"last": last, "averaged": mean, "change_pct": 100 * (mean / last - 1)}
    return {"kind": "average", "label": args.label, "sets": args.set, "last": args.last,
            "iterations": T, "seed": cfg.sampler.seed, "perplexity": out}


def tail(run: Path, helds) -> dict:
    model = TopicModel.load(run / "model")
    n_k = model.stats.n_k.astype(np.float64)
    ratio = np.asarray(model.stats.estimate_column_sums()) / n_k
    scaled = replace(model, stats=TailScaled(model.stats, n_k), _phi_den=None)
    out = {}
    for name, held in helds.items():
        a = model.evaluate(held, unigram=False)["perplexity"]
        b = scaled.evaluate(held, unigram=False)["perplexity"]
        out[name] = {"as_is": a, "tail_rescaled": b, "change_pct": 100 * (b / a - 1)}
    return {"kind": "tail", "run": str(run.relative_to(ROOT) if run.is_relative_to(ROOT)
                                       else run),
            "colsum_over_nk": {"min": float(ratio.min()), "median": float(np.median(ratio)),
                               "max": float(ratio.max()),
                               "total": float(ratio @ n_k / n_k.sum())},
            "perplexity": out}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("average")
    a.add_argument("--label", required=True)
    a.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=V")
    a.add_argument("--last", type=int, default=10, help="iterations averaged (default 10)")
    t = sub.add_parser("tail")
    t.add_argument("runs", nargs="+", type=Path)
    ap.add_argument("--out", type=Path, default=ROOT / "docs/results/fidelity_average.json")
    args = ap.parse_args(argv)
    helds = {n: Corpus.open(p) for n, p in HELDOUT.items()}
    recs = [average(args, helds)] if args.cmd == "average" else [tail(r, helds)
                                                                  for r in args.runs]
    done = json.loads(args.out.read_text()) if args.out.exists() else {"records": []}
    for r in recs:
        r.update(date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                 command="python scripts/fidelity_average.py " + " ".join(
                     argv or sys.argv[1:]))
        print(json.dumps(r), flush=True)
    done["records"] += recs
    done["machine"] = machine_facts()
    write_text_atomic(args.out, json.dumps(done, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
