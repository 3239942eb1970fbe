"""Alpha optimisation's effect on held-out perplexity (issue 25, item 5): K = 100 trained with a
fixed alpha = 0.1 and with ``[model] optimize_alpha_every`` (Minka's fixed point, Mallet's
``--optimize-interval``), on two setups:

* ``wiki-reuters``: configs/wiki-reuters.toml (the Wikipedia corpus, CM+A 3 x 2^16 8-bit cells),
  scored on 10,000 Reuters-21578 stories (``corpora/reuters-heldout``);
* ``wiki-split``: configs/fidelity.toml (Wikipedia minus 1,000 articles, the default budget
  1/12) scored on the held-out Wikipedia articles (``corpora/wiki-split-heldout``).

Each run is ``lda-sketch train`` in its own process (``NUMBA_NUM_THREADS=1``, evaluations every
10 iterations) into ``runs/alpha_opt/SETUP-MODE-sSEED-itN``; the final held-out perplexity (document
completion), the unigram perplexity, the final alpha, the train command's wall seconds and the
per-iteration time go to ``docs/results/alpha_opt.json`` (with the command, date and load
average), keyed by (setup, mode, seed, iterations, every, burnin). Resumable: a run recorded
there is skipped; an interrupted one continues from its checkpoint (``--resume``).

Where alpha acts: it is the prior of training's n_dk and of the held-out fold-in of theta. Once
both runs of a (setup, seed) are done, each final model is scored again with the other run's
alpha (``perplexity_with_other_alpha``: the fixed-alpha model folded in with the optimised alpha,
and the other way round), which separates the two.

    python scripts/alpha_opt.py                                  # 2 setups x 2 modes x seeds 0,1
    python scripts/alpha_opt.py --iterations 40 --setups wiki-split --seeds 0
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

from harness import machine_note, update_records  # noqa: E402

SETUPS = {
    "wiki-reuters": ["--config", "configs/wiki-reuters.toml"],
    "wiki-split": ["--config", "configs/fidelity.toml",
                   "--set", "data.heldout=corpora/wiki-split-heldout"],
}
MODES = ("fixed", "optimized")
KEY = ("setup", "mode", "seed", "iterations", "every", "burnin")
OUT = ROOT / "docs" / "results" / "alpha_opt.json"


def run_one(setup: str, mode: str, seed: int, args) -> dict:
    run = Path(args.runs) / f"{setup}-{mode}-s{seed}-it{args.iterations}"
    cmd = [sys.executable, "-m", "lda_sketch", "train", *SETUPS[setup],
           "--set", f"sampler.n_iter={args.iterations}", "--set", f"sampler.seed={seed}",
           "--set", "eval.evaluate_every=10", "--set", "output.checkpoint_every=10",
           "--no-progress"]
    if mode == "optimized":
        cmd += ["--set", f"model.optimize_alpha_every={args.every}",
                "--set", f"model.optimize_alpha_burnin={args.burnin}"]
    if (run / "checkpoints").is_dir() and any((run / "checkpoints").glob("iter-*")):
        cmd += ["--resume", str(run)]
    else:
        cmd += ["--out", str(run), "--overwrite"]
    env = dict(os.environ, NUMBA_NUM_THREADS="1")
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, env=env, check=True)
    seconds = time.perf_counter() - t0
    recs = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()
            if line.strip()]
    last = recs[-1]
    model = json.loads((run / "model" / "model.json").read_text())
    per_iter = statistics.fmean((r["t_sample"] or 0) + (r["t_build"] or 0) + (r["t_merge"] or 0)
                                for r in recs)
    return {"setup": setup, "mode": mode, "seed": seed, "iterations": args.iterations,
            "every": args.every if mode == "optimized" else 0,
            "burnin": args.burnin if mode == "optimized" else None,
            "perplexity": last["perplexity"], "unigram_perplexity": last["unigram_perplexity"],
            "alpha": model["params"]["alpha"], "seconds": round(seconds, 1),
            "elapsed": round(last["elapsed"], 1), "s_per_iteration": round(per_iter, 3),
            "trajectory": [{"iteration": r["iteration"], "perplexity": r["perplexity"],
                            **({"alpha": r["alpha"]} if "alpha" in r else {})} for r in recs],
            "run": str(run.relative_to(ROOT) if run.is_relative_to(ROOT) else run),
            "loadavg_end": [round(x, 2) for x in os.getloadavg()]}


def cross_score(records: list[dict]) -> list[dict]:
    """Records gaining ``perplexity_with_other_alpha``: each run of a (setup, seed, iterations)
    pair with both modes done, its final model scored with the other mode's final alpha."""
    import dataclasses

    from lda_sketch.config import load as load_config
    from lda_sketch.io.corpus import Corpus
    from lda_sketch.model.topic_model import TopicModel

    pairs = {}
    for r in records:
        pairs.setdefault((r["setup"], r["seed"], r["iterations"]), {})[r["mode"]] = r
    changed = []
    for pair in pairs.values():
        if set(pair) != set(MODES):
            continue
        for mode, other in (("fixed", "optimized"), ("optimized", "fixed")):
            r = pair[mode]
            if r.get("perplexity_with_other_alpha") is not None:
                continue
            run = ROOT / r["run"]
            held = Corpus.open(load_config(run / "resolved_config.toml").data.heldout)
            model = dataclasses.replace(TopicModel.load(run / "model"), alpha=pair[other]["alpha"])
            r["perplexity_with_other_alpha"] = model.evaluate(held, unigram=False)["perplexity"]
            changed.append(r)
    return changed


def table(records: list[dict]) -> str:
    lines = ["| setup | alpha | seed | iterations | perplexity | unigram | final alpha | "
             "seconds | perplexity, folded in with the other run's alpha |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in sorted(records, key=lambda r: (r["setup"], r["iterations"], r["mode"], r["seed"])):
        how = "fixed 0.1" if r["mode"] == "fixed" else (f"optimized (every {r['every']}, "
                                                         f"from {r['burnin']})")
        lines.append(f"| {r['setup']} | {how} | {r['seed']} | {r['iterations']} | "
                     f"{r['perplexity']:,.1f} | {r['unigram_perplexity']:,.1f} | "
                     f"{r['alpha']:.4g} | {r['seconds']:,.0f} | "
                     + (f"{r['perplexity_with_other_alpha']:,.1f} |"
                        if r.get("perplexity_with_other_alpha") else "– |"))
    groups = {}
    for r in records:
        groups.setdefault((r["setup"], r["iterations"]), {}).setdefault(r["mode"], {})[
            r["seed"]] = r["perplexity"]
    for (setup, its), g in sorted(groups.items()):
        seeds = sorted(set(g.get("fixed", {})) & set(g.get("optimized", {})))
        if seeds:
            diffs = [100 * (g["optimized"][s] / g["fixed"][s] - 1) for s in seeds]
            lines.append(f"\n{setup}, {its} iterations: optimized vs fixed, seed by seed "
                         + ", ".join(f"{d:+.2f} %" for d in diffs)
                         + f" (mean {statistics.fmean(diffs):+.2f} %)")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--setups", default=",".join(SETUPS))
    ap.add_argument("--modes", default=",".join(MODES))
    ap.add_argument("--seeds", default="0,1")
    ap.add_argument("--iterations", type=int, default=100)
    ap.add_argument("--every", type=int, default=10, help="optimize_alpha_every")
    ap.add_argument("--burnin", type=int, default=20, help="optimize_alpha_burnin")
    ap.add_argument("--runs", default=str(ROOT / "runs" / "alpha_opt"))
    ap.add_argument("--out", default=str(OUT))
    ap.add_argument("--table", action="store_true", help="print the recorded table and exit")
    args = ap.parse_args(argv)
    out = Path(args.out)
    done = json.loads(out.read_text()).get("records", []) if out.is_file() else []
    if args.table:
        print(table(done))
        return 0
    command = "python scripts/alpha_opt.py " + " ".join(argv if argv is not None
                                                        else sys.argv[1:])
    have = {tuple(r.get(k) for k in KEY) for r in done}
    for setup in args.setups.split(","):
        for seed in [int(s) for s in args.seeds.split(",")]:
            for mode in args.modes.split(","):
                key = (setup, mode, seed, args.iterations,
                       args.every if mode == "optimized" else 0,
                       args.burnin if mode == "optimized" else None)
                if key in have:
                    print(f"{setup} {mode} seed {seed}: recorded, skipped", flush=True)
                    continue
                print(f"{setup} {mode} seed {seed}: training", flush=True)
                rec = run_one(setup, mode, seed, args)
                update_records(out, [rec], key=KEY,
                               meta={"command": command.strip(), **machine_note()})
                done = [r for r in done if tuple(r.get(k) for k in KEY) != key] + [rec]
                print(f"  perplexity {rec['perplexity']:,.1f}, alpha {rec['alpha']:.4g}, "
                      f"{rec['seconds']:,.0f} s", flush=True)
    with_cross = cross_score(done)
    if with_cross:
        update_records(out, with_cross, key=KEY,
                       meta={"command": command.strip() + " (scores with the other alpha)",
                             **machine_note()})
    print(table(done))
    return 0


if __name__ == "__main__":
    sys.exit(main())
