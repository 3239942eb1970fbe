"""Sketch fidelity on two held-out sets, paired by seed with dense (issue 22).

Trains each point of configs/sweeps/fidelity.toml with ``lda-sketch train --config configs/fidelity.toml`` (Wikipedia
minus 1,000 held-out articles, K = 100) for every seed, scores every final model on the held-out
Wikipedia articles (``wiki-split``) and on 10,000 Reuters-21578 stories (``reuters``), total and
by word-frequency band, and writes ``docs/results/fidelity.json``:

* ``records``: one per (label, held-out set, seed, iterations), with ``label``, ``layout`` (every
  ``[sketch]`` key of the run's resolved config), ``stats_bytes``, ``bytes_ratio``, ``heldout``,
  ``seed``, ``iterations``, ``perplexity``, ``dense_perplexity`` (the dense run of the same seed
  and iterations), ``gap_pct``, ``band_gap_pct``;
* ``summary``: one per (label, held-out set, iterations) with ``seeds``, ``gap_mean``, ``gap_sd``,
  ``perplexity_sd``, ``dense_perplexity_sd``, ``bytes_ratio``.

Resumable: a run whose ``model/`` exists is not trained again, and its scores are cached in
``RUN/fidelity_eval.json``. Runs go to ``runs/fidelity/LABEL/seed-S[-itN]``.

    python scripts/fidelity.py --jobs 2                       # every point, seeds 0-4, 60 its
    python scripts/fidelity.py --seeds 0 --iterations 200     # the long runs
    python scripts/fidelity.py --only dense,budget-1_12 --seeds 0,1
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lda_sketch.config import load as load_config  # noqa: E402
from lda_sketch.evaluation.bands import DEFAULT_EDGES, band_gaps_pct  # noqa: E402
from lda_sketch.io.atomic import write_text_atomic  # noqa: E402
from lda_sketch.io.corpus import Corpus  # noqa: E402
from lda_sketch.run.machine import machine_facts  # noqa: E402
from lda_sketch.model.topic_model import TopicModel  # noqa: E402

CONFIG = ROOT / "configs" / "fidelity.toml"
HELDOUT = {"wiki-split": ROOT / "corpora" / "wiki-split-heldout",
           "reuters": ROOT / "corpora" / "reuters-heldout-split"}
SWEEP = ROOT / "configs" / "sweeps" / "fidelity.toml"


def load_points(path: Path = SWEEP) -> dict:
    """label -> ``--set`` overrides, from the sweep file's [set] and [[points]]."""
    import tomllib

    data = tomllib.loads(path.read_text())

    def sets(table):
        return [f"{k}={str(v).lower() if isinstance(v, bool) else v}"
                for k, v in table.items() if k != "name"]
    common = sets(data.get("set", {}))
    return {p["name"]: common + sets(p) for p in data["points"]}


#: label -> ``--set`` overrides (configs/sweeps/fidelity.toml, or ``--sweep``). The budget
#: points name nothing but the budget.
POINTS = load_points()


def run_dir(runs: Path, label: str, seed: int, iterations: int) -> Path:
    return runs / label / (f"seed-{seed}" + ("" if iterations == 60 else f"-it{iterations}"))


def train(runs: Path, label: str, seed: int, iterations: int) -> Path:
    out = run_dir(runs, label, seed, iterations)
    if (out / "model" / "model.json").exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "lda_sketch", "train", "--config", str(CONFIG), "--no-progress",
           "--overwrite", "--out", str(out)]
    for s in POINTS[label] + [f"sampler.seed={seed}", f"sampler.n_iter={iterations}"]:
        cmd += ["--set", s]  # the seed and iteration count last: they win
    env = dict(os.environ, NUMBA_NUM_THREADS="1")
    t0 = time.time()
    with open(str(out) + ".log", "w") as log:
        subprocess.run(cmd, check=True, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
    print(f"trained {out} in {time.time() - t0:.0f} s", flush=True)
    return out


def scores(out: Path, helds: dict) -> dict:
    """``{heldout: {"perplexity", "bands", "stats_bytes", "layout"}}``, cached in the run."""
    cache = out / "fidelity_eval.json"
    have = json.loads(cache.read_text()) if cache.exists() else {}
    missing = [n for n in helds if n not in have]
    if missing:
        model = TopicModel.load(out / "model")
        cfg = load_config(out / "resolved_config.toml")
        for n in missing:
            r = model.evaluate(helds[n], unigram=False, bands=DEFAULT_EDGES)
            have[n] = {"perplexity": r["perplexity"], "bands": r["bands"],
                       "n_scored": r["n_scored"], "stats_bytes": int(model.stats.nbytes),
                       "layout": cfg.to_dict()["sketch"]}
        write_text_atomic(cache, json.dumps(have, indent=1))
    return have


def _sd(xs):
    """Sample sd, or None for a single seed (JSON has no NaN)."""
    return statistics.stdev(xs) if len(xs) > 1 else None


def collect(runs: Path, labels, seeds, iters_list, helds) -> dict:
    records = []
    for iterations in iters_list:
        for seed in seeds:
            dense_out = run_dir(runs, "dense", seed, iterations)
            if not (dense_out / "model" / "model.json").exists():
                continue
            ref = scores(dense_out, helds)
            for label in labels:
                out = run_dir(runs, label, seed, iterations)
                if not (out / "model" / "model.json").exists():
                    continue
                sc = scores(out, helds)
                for h in helds:
                    s, d = sc[h], ref[h]
                    records.append({
                        "label": label, "layout": s["layout"], "stats_bytes": s["stats_bytes"],
                        "bytes_ratio": s["stats_bytes"] / d["stats_bytes"], "heldout": h,
                        "seed": seed, "iterations": iterations, "perplexity": s["perplexity"],
                        "dense_perplexity": d["perplexity"],
                        "gap_pct": 100 * (s["perplexity"] / d["perplexity"] - 1),
                        "band_gap_pct": band_gaps_pct(s["bands"], d["bands"]),
                        "band_scored": {b: v["n_scored"] for b, v in s["bands"].items()}})
    summary = []
    keys = sorted({(r["label"], r["heldout"], r["iterations"]) for r in records},
                  key=lambda k: (k[2], list(POINTS).index(k[0]) if k[0] in POINTS else 99, k[1]))
    for label, h, it in keys:
        rs = [r for r in records if (r["label"], r["heldout"], r["iterations"]) == (label, h, it)]
        gaps = [r["gap_pct"] for r in rs]
        bands = {b: statistics.fmean(r["band_gap_pct"][b] for r in rs)
                 for b in rs[0]["band_gap_pct"]}
        summary.append({
            "label": label, "heldout": h, "iterations": it, "seeds": [r["seed"] for r in rs],
            "gap_mean": statistics.fmean(gaps), "gap_sd": _sd(gaps),
            "perplexity_mean": statistics.fmean(r["perplexity"] for r in rs),
            "perplexity_sd": _sd([r["perplexity"] for r in rs]),
            "dense_perplexity_sd": _sd([r["dense_perplexity"] for r in rs]),
            "bytes_ratio": rs[0]["bytes_ratio"], "band_gap_mean": bands})
    return {"records": records, "summary": summary}


def figure(summary: list, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for h, marker in (("wiki-split", "o"), ("reuters", "s")):
        pts = [s for s in summary if s["heldout"] == h and s["iterations"] == 60
               and s["label"] != "dense"]
        for s in pts:
            ax.errorbar(s["bytes_ratio"], s["gap_mean"],
                        yerr=s["gap_sd"] or 0, fmt=marker,
                        capsize=3, color="C0" if h == "wiki-split" else "C1",
                        label=h if s is pts[0] else None)
            ax.annotate(s["label"], (s["bytes_ratio"], s["gap_mean"]), fontsize=7,
                        xytext=(4, 2), textcoords="offset points")
    ax.axhline(0, color="k", lw=0.6)
    ax.axhline(2, color="grey", lw=0.6, ls="--")
    ax.set_xlabel("statistics bytes / dense bytes")
    ax.set_ylabel("perplexity gap to dense, % (mean ± sd)")
    ax.set_title("Sketch vs dense on two held-out sets (K = 100, 60 its, 5 seeds)")
    ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sweep", type=Path, default=SWEEP,
                    help="the points: a sweep file's [set] and [[points]] (default "
                         "configs/sweeps/fidelity.toml)")
    ap.add_argument("--only", help="comma-separated labels (default: all of POINTS)")
    ap.add_argument("--seeds", default="0,1,2,3,4")
    ap.add_argument("--iterations", default="60", help="comma-separated, e.g. 60,200")
    ap.add_argument("--jobs", type=int, default=1, help="trainings at once (one thread each)")
    ap.add_argument("--runs", type=Path, default=ROOT / "runs" / "fidelity")
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "results" / "fidelity.json")
    ap.add_argument("--figure", default=str(ROOT / "docs" / "figures" /
                                            "fidelity_frontier.png"),
                    help="frontier figure (\"\": none)")
    ap.add_argument("--no-train", action="store_true", help="only score the runs that exist")
    args = ap.parse_args(argv)
    POINTS.clear()
    POINTS.update(load_points(args.sweep))
    labels = args.only.split(",") if args.only else list(POINTS)
    seeds = [int(s) for s in args.seeds.split(",")]
    iters_list = [int(s) for s in args.iterations.split(",")]
    missing = [str(p) for p in HELDOUT.values() if not p.exists()]
    if missing:
        sys.exit(f"missing corpora {missing}: build them with the commands in {CONFIG}")
    if not args.no_train:
        jobs = [(label, seed, it) for it in iters_list for seed in seeds
                for label in ["dense"] + [x for x in labels if x != "dense"]]
        with ThreadPoolExecutor(max(1, args.jobs)) as pool:
            list(pool.map(lambda j: train(args.runs, *j), jobs))
    helds = {n: Corpus.open(p) for n, p in HELDOUT.items()}
    # every point and seed on disk is scored, so calls for parts of the grid add up
    res = collect(args.runs, list(POINTS), sorted(set(seeds) | _seeds_on_disk(args.runs)),
                  sorted(set(iters_list) | {60, 200}), helds)
    res.update(date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
               command="python scripts/fidelity.py " + " ".join(argv or sys.argv[1:]),
               protocol="configs/fidelity.toml: K = 100, alpha 0.1, beta 0.01, sca, sparse init; "
                        "document completion, 100 fold-in steps; bands by training rank "
                        f"{list(DEFAULT_EDGES)}", machine=machine_facts())
    write_text_atomic(args.out, json.dumps(res, indent=1))
    def f(x, spec):
        return "-" if x is None else format(x, spec)

    for s in res["summary"]:
        print(f"{s['label']:14s} {s['heldout']:10s} it {s['iterations']:3d} "
              f"{s['bytes_ratio']:.4f}x seeds {s['seeds']}: gap {s['gap_mean']:+6.2f} % "
              f"(sd {f(s['gap_sd'], '.2f')}); ppl sd {f(s['perplexity_sd'], '.0f')} vs dense "
              f"{f(s['dense_perplexity_sd'], '.0f')}; bands "
              + " ".join(f"{b} {g:+.1f}" for b, g in s["band_gap_mean"].items()))
    if str(args.figure):
        figure(res["summary"], Path(args.figure))
    return 0


def _seeds_on_disk(runs: Path) -> set:
    return {int(p.name.split("-")[1]) for p in (runs / "dense").glob("seed-*")
            if p.name.split("-")[1].isdigit()} if (runs / "dense").exists() else set()


if __name__ == "__main__":
    raise SystemExit(main())
