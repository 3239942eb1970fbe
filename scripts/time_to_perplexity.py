"""The race on 2 cores (issue 16, item 4): held-out perplexity against wall-clock seconds for
lda_sketch under ``mpiexec -n 2`` and tomotopy with ``workers=2``, same documents, same priors,
both scored by our evaluator (document completion, ``fold_in_iters`` EM steps) on the 10,000
Reuters documents.

    python scripts/time_to_perplexity.py --seeds 0,1,2         # tomotopy, then ours (CM+A)
    python scripts/time_to_perplexity.py --systems dense --resume  # add a system to the file

Clocks (the same rule for both): training seconds, evaluation excluded.
- ours: ``lda-sketch train`` under ``mpiexec -n 2`` (one thread per rank, checkpoints off); a
  record's seconds are its ``elapsed`` (initial assignment + iterations, evaluation included)
  minus the evaluations so far (``t_eval``). Loading the corpus and compiling are not counted.
- tomotopy: ``mdl.train(every, workers=2)`` timed; building the model from the documents
  (``add_doc``) is not counted and is recorded as ``setup_seconds``.

Systems: ``tomotopy``; ours are ``lda-sketch train`` runs of ``configs/wiki-reuters.toml`` with
the overrides in ``OURS``: ``dense``; ``cm+a`` (8-bit correlated Morris, base 1.08, 3 x 2^15
cells: 0.33x the dense bytes, the paper's ``sca`` sampler), ``cm+a-collapsed`` (the same with
``sca-collapsed``) and ``cm+a-head`` (45,000 collision-free words + 3 x 2^14 conservative cells,
base 1.05: 0.315x; ``sca-collapsed``); more with ``--ours NAME key=value ...`` (``--set`` overrides of that config). Every system runs once
per seed of ``--seeds``. ``--resume`` keeps the (system, seed) runs already in ``--json`` and runs
the rest, so an interrupted race continues.

Writes ``docs/results/time_to_perplexity.json``: ``records`` are ``{system, ranks_or_workers,
seconds, iteration, perplexity, seed}``. ``summary``: each tomotopy run's perplexity at its last
iteration is a target (tomotopy with 2 workers is not deterministic: its 200-iteration value
varies by a few per cent between runs); for each of ours and each (our run, target) pair, the
first record at or below the target, its seconds over tomotopy's, and the median ratio. Draws
``docs/figures/time_to_perplexity.png``.
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

CONFIG = REPO / "configs" / "wiki-reuters.toml"
#: our built-in systems: name -> --set overrides of configs/wiki-reuters.toml
_CMA = ["sketch.backend=countmin-morris", "sketch.n_hashes=3", "sketch.increment=correlated"]
OURS = {
    "dense": ["sketch.backend=dense"],
    # the configuration: the paper's sampler, 3 x 2^15 cells (0.33x the dense bytes)
    "cm+a": _CMA + ["sketch.n_buckets=32768", "sketch.counter_base=1.08",
                    "sketch.conservative=false", "sketch.head_words=0"],
    "cm+a-collapsed": _CMA + ["sketch.n_buckets=32768", "sketch.counter_base=1.08",
                              "sketch.conservative=false", "sketch.head_words=0",
                              "sampler.sampler=sca-collapsed"],
    # the 45,000 most frequent words collision-free, the rest in 3 x 2^14 cells with
    # conservative update, base 1.05 (0.315x the dense bytes), the collapsed sampler
    "cm+a-head": _CMA + ["sketch.n_buckets=16384", "sketch.counter_base=1.05",
                         "sketch.conservative=true", "sketch.head_words=45000",
                         "sampler.sampler=sca-collapsed"],
}
THREADS = {"NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "OPENBLAS_NUM_THREADS": "1"}


def run_tomotopy(args, seed: int) -> dict:
    """tomotopy LDA, fixed symmetric priors, ``workers`` threads; scored every ``every``."""
    import tomotopy as tp

    from lda_sketch.evaluation.perplexity import heldout_perplexity
    from lda_sketch.io.corpus import Corpus

    train, held = Corpus.open(args.train), Corpus.open(args.heldout)
    V, K = train.n_vocab, args.topics
    t0 = time.perf_counter()
    mdl = tp.LDAModel(k=K, alpha=args.alpha, eta=args.beta, seed=seed, min_cf=0, rm_top=0)
    mdl.optim_interval = 0  # fixed symmetric alpha, as ours
    ptr, w = np.asarray(train.doc_ptr), np.asarray(train.word_ids)
    for d in range(train.n_docs):
        if ptr[d + 1] > ptr[d]:
            mdl.add_doc([str(x) for x in w[ptr[d]:ptr[d + 1]].tolist()])
    setup = time.perf_counter() - t0
    seconds, done, recs = 0.0, 0, []
    idx = None
    while done < args.iters:
        step = min(args.every, args.iters - done)
        t0 = time.perf_counter()
        with warnings.catch_warnings():  # "may differ even with fixed seed if workers != 1"
            warnings.simplefilter("ignore", RuntimeWarning)
            mdl.train(step, workers=args.workers)
        seconds += time.perf_counter() - t0
        done += step
        if idx is None:
            idx = np.array([int(x) for x in mdl.used_vocabs], np.int64)
        phi = np.zeros((K, V))
        for k in range(K):
            phi[k, idx] = mdl.get_topic_word_dist(k)
        ev = heldout_perplexity(phi / phi.sum(1, keepdims=True), args.alpha, held,
                                n_iter=args.fold_in_iters)
        recs.append({"system": "tomotopy", "ranks_or_workers": args.workers,
                     "seconds": seconds, "iteration": done, "perplexity": ev["perplexity"],
                     "seed": seed})
        log(recs[-1])
    return {"system": "tomotopy", "seed": seed, "version": tp.__version__,
            "setup_seconds": setup, "records": recs}


def run_ours(name: str, sets: list[str], args, seed: int) -> dict:
    """``mpiexec -n ranks lda-sketch train`` with ``sets``; records from its metrics.jsonl."""
    from lda_sketch.distributed.launch import find_mpiexec

    mpiexec = args.mpiexec or find_mpiexec()
    if mpiexec is None:
        sys.exit("time_to_perplexity: no mpiexec found; pip install -e '.[mpich]' or pass "
                 "--mpiexec PATH")
    out = args.runs / f"{name}-s{seed}"
    common = [f"sampler.n_iter={args.iters}", f"eval.evaluate_every={args.every}",
              f"eval.fold_in_iters={args.fold_in_iters}", "output.checkpoint_every=0",
              "sampler.n_threads=1", f"sampler.seed={seed}", f"model.n_topics={args.topics}",
              f"model.alpha={args.alpha}", f"model.beta={args.beta}",
              f"data.train={Path(args.train).resolve()}",
              f"data.heldout={Path(args.heldout).resolve()}"]
    cmd = [mpiexec, "-n", str(args.ranks), *args.mpiexec_args, sys.executable, "-m",
           "lda_sketch", "train", "--config", str(CONFIG), "--out", str(out), "--overwrite",
           "--no-progress"]
    for s in common + sets:
        cmd += ["--set", s]
    print("  " + shlex.join(cmd), file=sys.stderr, flush=True)
    subprocess.run(cmd, check=True, env=dict(os.environ, **THREADS))
    recs, evals = [], 0.0
    for line in (out / "metrics.jsonl").read_text().splitlines():
        r = json.loads(line)
        evals += r["t_eval"]
        recs.append({"system": name, "ranks_or_workers": args.ranks,
                     "seconds": r["elapsed"] - evals, "iteration": r["iteration"],
                     "perplexity": r["perplexity"], "seed": seed,
                     "stats_nbytes": r["stats_nbytes"]})
        log(recs[-1])
    return {"system": name, "seed": seed, "sets": sets, "run_dir": str(out), "records": recs}


def log(r: dict) -> None:
    print(f"  {r['system']:>14s} s{r['seed']} it {r['iteration']:4d} {r['seconds']:8.1f} s  "
          f"perplexity {r['perplexity']:,.1f}", file=sys.stderr, flush=True)


def summary(results: list[dict]) -> dict:
    """Each tomotopy run's last perplexity is a target; for each of our runs, when it first
    reaches each target, and that time over tomotopy's."""
    tomo = [r for r in results if r["system"] == "tomotopy"]
    if not tomo:
        return {}
    targets = [{"seed": r["seed"], "iteration": r["records"][-1]["iteration"],
                "seconds": r["records"][-1]["seconds"],
                "perplexity": r["records"][-1]["perplexity"]} for r in tomo]
    out = {"tomotopy_targets": targets, "ours": {}}
    for name in dict.fromkeys(r["system"] for r in results if r["system"] != "tomotopy"):
        pairs = []
        for r in (r for r in results if r["system"] == name):
            for t in targets:
                hit = next((p for p in r["records"] if p["perplexity"] <= t["perplexity"]), None)
                pairs.append({"seed": r["seed"], "target_seed": t["seed"],
                              "target": t["perplexity"], "reached": hit is not None,
                              **({"seconds": hit["seconds"], "iteration": hit["iteration"],
                                  "time_ratio": hit["seconds"] / t["seconds"]} if hit else
                                 {"best": min(p["perplexity"] for p in r["records"])})})
        ratios = [p["time_ratio"] if p["reached"] else float("inf") for p in pairs]
        med = float(np.median(ratios))
        out["ours"][name] = {"pairs": pairs, "pairs_won": sum(x < 1 for x in ratios),
                             "n_pairs": len(pairs),
                             # null: the median pair never reached its target
                             "median_time_ratio": med if np.isfinite(med) else None}
    return out


def plot(results: list[dict], path: Path, target: float | None):
    from lda_sketch.run.plots import COLORS, MARKERS, pyplot, save

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5.2, 3.3))
    names = list(dict.fromkeys(r["system"] for r in results))
    for r in results:
        i = names.index(r["system"])
        x = [p["seconds"] for p in r["records"]]
        y = [p["perplexity"] for p in r["records"]]
        n = r["records"][0]["ranks_or_workers"]
        who = "workers" if r["system"] == "tomotopy" else "ranks"
        first = r is next(q for q in results if q["system"] == r["system"])
        ax.plot(x, y, marker=MARKERS[i % len(MARKERS)], markersize=2.5, linewidth=0.9,
                color=COLORS[i % len(COLORS)],
                label=f"{r['system']} ({n} {who})" if first else None)
    if target is not None:
        ax.axhline(target, color="0.5", linewidth=0.6, linestyle="--",
                   label=f"tomotopy's last (median): {target:,.0f}")
    ax.set_xlabel("training seconds (wall, evaluation excluded; 2 cores)")
    ax.set_ylabel("held-out perplexity (Reuters)")
    if target is not None:  # the race is decided near the target: show that band
        ax.set_ylim(0.93 * target, 1.3 * target)
    ax.grid(alpha=0.3, linewidth=0.5)
    ax.legend(frameon=False, fontsize=7)
    files = save(fig, path)
    plt.close(fig)
    return files


def write_results(args, doc: dict) -> None:
    """Records and summary from ``doc["results"]``, written atomically to ``--json``."""
    from lda_sketch.io.atomic import write_text_atomic

    doc["records"] = [p for r in doc["results"] for p in r["records"]]
    doc["summary"] = summary(doc["results"])
    args.json.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(args.json, json.dumps(doc, indent=1, allow_nan=False))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--train", default=str(REPO / "corpora" / "wiki"))
    ap.add_argument("--heldout", default=str(REPO / "corpora" / "reuters-heldout"))
    ap.add_argument("--systems", default="tomotopy,cm+a-head",
                    help="comma-separated: tomotopy, " + ", ".join(OURS)
                         + ", or names given with --ours")
    ap.add_argument("--ours", nargs="+", action="append", default=[], metavar="NAME KEY=VALUE",
                    help="another of our systems: a name, then --set overrides of "
                         "configs/wiki-reuters.toml")
    ap.add_argument("--iters", type=int, default=200)
    ap.add_argument("--every", type=int, default=10, help="evaluate every N iterations")
    ap.add_argument("--topics", type=int, default=100)
    ap.add_argument("--alpha", type=float, default=0.1)
    ap.add_argument("--beta", type=float, default=0.01)
    ap.add_argument("--seeds", default="0", help="comma-separated seeds; every system runs once "
                    "per seed")
    ap.add_argument("--fold-in-iters", type=int, default=100)
    ap.add_argument("--ranks", type=int, default=2)
    ap.add_argument("--workers", type=int, default=2, help="tomotopy worker threads")
    ap.add_argument("--mpiexec", help="launcher (default: the venv's, else PATH)")
    ap.add_argument("--mpiexec-args", nargs="*", default=[])
    ap.add_argument("--runs", type=Path, default=REPO / "runs" / "race")
    ap.add_argument("--resume", action="store_true",
                    help="keep the systems already in --json; run only the missing ones")
    ap.add_argument("--json", type=Path, default=REPO / "docs/results/time_to_perplexity.json")
    ap.add_argument("--figure", type=Path, default=REPO / "docs/figures/time_to_perplexity")
    args = ap.parse_args(argv)
    for p in (args.train, args.heldout):
        if not Path(p).is_dir():
            sys.exit(f"{p}: not a corpus directory (build it as in configs/wiki-reuters.toml)")
    from lda_sketch.run.machine import machine_facts

    ours = dict(OURS)
    for spec in args.ours:
        ours[spec[0]] = spec[1:]
    systems = [s for s in args.systems.split(",") if s]
    unknown = [s for s in systems if s != "tomotopy" and s not in ours]
    if unknown:
        sys.exit(f"time_to_perplexity: unknown system(s) {unknown}; define them with --ours")
    doc = {"results": []}
    if args.resume and args.json.exists():
        doc = json.loads(args.json.read_text())
    done = {(r["system"], r["seed"]) for r in doc["results"]}
    os.environ.update(THREADS)  # tomotopy's scoring runs here: one thread, as ours per rank
    seeds = [int(x) for x in args.seeds.split(",") if x]
    command = ("python scripts/time_to_perplexity.py "
               + shlex.join(argv if argv is not None else sys.argv[1:]))
    for s, seed in ((s, seed) for seed in seeds for s in systems):
        if (s, seed) in done:
            print(f"{s} seed {seed}: kept from {args.json}", file=sys.stderr)
            continue
        print(f"{s} seed {seed} ...", file=sys.stderr, flush=True)
        m = machine_facts()
        r = run_tomotopy(args, seed) if s == "tomotopy" else run_ours(s, ours[s], args, seed)
        r.update(started=m["date"], loadavg_before=m["loadavg"],
                 loadavg_after=list(os.getloadavg()))
        doc["results"].append(r)
        if command not in doc.setdefault("commands", []):  # every invocation that ran a system
            doc["commands"].append(command)
        doc.update(command=command, machine=machine_facts(),
                   settings={k: getattr(args, k) for k in ("train", "heldout", "iters", "every",
                                                           "topics", "alpha", "beta", "seeds",
                                                           "fold_in_iters", "ranks", "workers")})
        write_results(args, doc)  # partial results survive an interruption
    write_results(args, doc)
    targets = doc.get("summary", {}).get("tomotopy_targets")
    target = float(np.median([t["perplexity"] for t in targets])) if targets else None
    files = plot(doc["results"], args.figure, target)
    print(json.dumps(doc.get("summary", {}), indent=1))
    print(f"wrote {args.json} and {', '.join(map(str, files))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
