#!/usr/bin/env python3
"""Sketch overhead per SCA iteration against dense (issue 16, item 1), side by side.

    NUMBA_NUM_THREADS=1 python scripts/bench_sketch_overhead.py --corpus corpora/wiki

Five configurations -- dense; count-min int32 3 x 2^13 and 3 x 2^15; CM+A (8-bit Morris,
correlated, base 1.08) 3 x 2^13 and 3 x 2^15 -- train in ONE process on the same corpus from the
same seed, in round robin (each round runs one iteration of every engine, in a rotated order),
one numba thread. Per configuration: medians over rounds (the first ``--skip`` left out) of the
wall seconds per iteration, of its CPU seconds (``time.process_time``: robust to other
processes taking the core) and of its sample / build phases, and the ratios to dense (also
"paired": the median over rounds of CPU seconds / the same round's dense CPU seconds).

``--components`` times the phases instead, on ONE shared z (a dense run's, after a few
iterations) so every configuration does the same work: the statistics build from z
(``Engine._build``), the estimates of every distinct word in the sampler's chunks, and the whole
sample phase (estimates + SCA draws, z restored each time); CPU seconds, min over repeats.

``--baseline-src DIR`` adds the same configurations run by the ``lda_sketch`` package of another
checkout (e.g. ``git worktree add /tmp/before <commit>``), imported under another name in the
same process, so before and after share the rounds and the load. Writes
docs/results/sketch_overhead.json (command, date, machine facts and load before and after).
"""
from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numba

REPO = Path(__file__).resolve().parents[1]
CMA = {"counter_bits": 8, "counter_base": 1.08, "increment": "correlated"}
CONFIGS = [
    ("dense", "dense", {}),
    ("CM 3 x 2^13", "countmin", {"n_hashes": 3, "n_buckets": 2**13}),
    ("CM 3 x 2^15", "countmin", {"n_hashes": 3, "n_buckets": 2**15}),
    ("CM+A 3 x 2^13", "countmin-morris", dict(CMA, n_hashes=3, n_buckets=2**13)),
    ("CM+A 3 x 2^15", "countmin-morris", dict(CMA, n_hashes=3, n_buckets=2**15)),
    # the default: the layout [sketch].budget = "1/12" chooses for the corpus (resolved below)
    ("budget 1/12", "countmin-morris", "1/12"),
]


def load_package(src: Path, name: str):
    """Import ``src/lda_sketch`` as the package ``name`` (its imports are relative)."""
    spec = importlib.util.spec_from_file_location(
        name, src / "lda_sketch" / "__init__.py",
        submodule_search_locations=[str(src / "lda_sketch")])
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


def git_commit(src: Path) -> str | None:
    """The checkout's HEAD commit (None outside git); '+dirty' when tracked files differ."""
    import subprocess

    try:
        head = subprocess.run(["git", "-C", str(src), "rev-parse", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(src), "diff", "--quiet", "HEAD", "--",
                                "lda_sketch"]).returncode != 0
    except (OSError, subprocess.CalledProcessError):
        return None
    return head + ("+dirty" if dirty else "")


def _module(pkg, name):
    """``pkg.run.name`` (the layout since issue 23) or ``pkg.name`` (a baseline before it)."""
    return f"{pkg}.run.{name}" if importlib.util.find_spec(f"{pkg}.run") else f"{pkg}.{name}"


def _engine_params(pkg, engine_mod, n_topics, backend, params, seed):
    """EngineParams of either layout: a ``sketch`` section (since issue 23) or a baseline's
    ``backend`` + ``backend_params``."""
    fields = {f.name for f in dataclasses.fields(engine_mod.EngineParams)}
    if "sketch" in fields:
        sketch = importlib.import_module(f"{pkg}.config").SketchConfig(backend=backend, **params)
        return engine_mod.EngineParams(n_topics=n_topics, sketch=sketch, seed=seed)
    return engine_mod.EngineParams(n_topics=n_topics, backend=backend, backend_params=params,
                                   seed=seed)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, help="training corpus (default: the built-in one)")
    ap.add_argument("--topics", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--skip", type=int, default=2, help="leading rounds left out of medians")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--only", nargs="+", metavar="LABEL", help="a subset of the labels "
                    "(dense is always run: the ratios need it)")
    ap.add_argument("--baseline-src", type=Path, help="a checkout whose lda_sketch runs the "
                    "same configurations in the same rounds (labels prefixed 'before: ')")
    ap.add_argument("--components", action="store_true",
                    help="time build / estimate / sample on one shared z (min over --rounds)")
    ap.add_argument("--json", type=Path, default=None, help="output (default "
                    "docs/results/sketch_overhead.json, or sketch_overhead_components.json)")
    args = ap.parse_args(argv)
    if args.json is None:
        args.json = REPO / "docs/results" / ("sketch_overhead_components.json"
                                             if args.components else "sketch_overhead.json")
    if args.rounds <= args.skip:
        sys.exit(f"--rounds ({args.rounds}) must exceed --skip ({args.skip})")
    sys.path.insert(0, str(REPO))
    from lda_sketch.io.atomic import write_text_atomic
    from lda_sketch.io.corpus import Corpus
    from lda_sketch.run.machine import machine_facts

    packages = [("", "lda_sketch")]
    if args.baseline_src:
        load_package(args.baseline_src.resolve(), "lda_sketch_baseline")
        packages.insert(0, ("before: ", "lda_sketch_baseline"))
    configs = [c for c in CONFIGS if c[0] == "dense" or not args.only or c[0] in args.only]
    numba.set_num_threads(1)
    facts_before = machine_facts()
    if args.corpus:
        corpus = Corpus.open(args.corpus)
    else:
        from data_prep.embedded import build_embedded_corpus
        corpus, _ = build_embedded_corpus()
    def resolve(params):
        """A budget string -> the backend keywords it chooses for this corpus and K."""
        if not isinstance(params, str):
            return params
        from lda_sketch.config import SketchConfig
        from lda_sketch.stats import BACKENDS
        from lda_sketch.stats.budget import resolve_sketch

        sec = resolve_sketch(SketchConfig(budget=params), args.topics, corpus.word_counts())[0]
        return BACKENDS["countmin-morris"].config_params(sec)

    configs = [(label, backend, resolve(params)) for label, backend, params in configs]
    engines = []
    for prefix, pkg in packages:
        importlib.import_module(_module(pkg, "warmup")).run()  # compile before timing
        engine_mod = importlib.import_module(_module(pkg, "engine"))
        for label, backend, params in configs:
            eng = engine_mod.Engine(_engine_params(pkg, engine_mod, args.topics, backend, params,
                                                   args.seed), corpus, corpus.n_vocab)
            eng.initialize()
            engines.append({"label": prefix + label, "backend": backend, "params": params,
                            "engine": eng, "wall": [], "cpu": [], "sample": [], "build": []})
    if args.components:
        return components(args, argv, engines, corpus, facts_before, write_text_atomic)
    for r in range(args.rounds):
        k = r % len(engines)
        for e in engines[k:] + engines[:k]:  # rotated: no engine always runs first
            c0 = time.process_time()
            info = e["engine"].step()
            e["cpu"].append(time.process_time() - c0)
            e["wall"].append(info["t_step"])
            e["sample"].append(info["t_sample"])
            e["build"].append(info["t_build"] + info["t_merge"])
        print(f"  round {r + 1}/{args.rounds}  load {os.getloadavg()[0]:.2f}", file=sys.stderr)

    def med(x):
        return statistics.median(x[args.skip:])

    rows = []
    for e in engines:
        prefix = "before: " if e["label"].startswith("before: ") else ""
        base = next(d for d in engines if d["label"] == prefix + "dense")
        rows.append({"label": e["label"], "backend": e["backend"], "params": e["params"],
                     "t_step_s": e["wall"], "cpu_s": e["cpu"], "t_sample_s": e["sample"],
                     "t_build_s": e["build"], "median_t_step_s": med(e["wall"]),
                     "median_cpu_s": med(e["cpu"]), "median_t_sample_s": med(e["sample"]),
                     "median_t_build_s": med(e["build"]),
                     "vs_dense_wall": med(e["wall"]) / med(base["wall"]),
                     "vs_dense_cpu": med(e["cpu"]) / med(base["cpu"]),
                     # the same round's dense as the reference: robust to load drift
                     "vs_dense_cpu_paired": med([x / y for x, y in zip(e["cpu"], base["cpu"])]),
                     "stats_nbytes": int(e["engine"].stats.nbytes)})
    doc = {"command": "NUMBA_NUM_THREADS=1 python scripts/bench_sketch_overhead.py " + " ".join(
               argv if argv is not None else sys.argv[1:]),
           "machine": facts_before, "loadavg_after": list(os.getloadavg()),
           "commit": git_commit(REPO),
           "baseline_commit": git_commit(args.baseline_src) if args.baseline_src else None,
           "corpus": str(args.corpus or "built-in"), "n_tokens": int(corpus.n_tokens),
           "n_vocab": int(corpus.n_vocab), "K": args.topics, "rounds": args.rounds,
           "skip": args.skip, "medians_of_rounds": f"{args.skip + 1}-{args.rounds}",
           "results": rows}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(args.json, json.dumps(doc, indent=2))
    print(f"{corpus.n_tokens:,} tokens, V = {corpus.n_vocab:,}, K = {args.topics}, one thread, "
          f"medians of rounds {args.skip + 1}-{args.rounds}, load {facts_before['loadavg'][0]:.2f}"
          f" -> {doc['loadavg_after'][0]:.2f}")
    print("| statistics | s / iter (wall) | vs dense | CPU s / iter | vs dense | paired | "
          "sample s | build s | MB |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['label']} | {r['median_t_step_s']:.3f} | {r['vs_dense_wall']:.3f}× "
              f"| {r['median_cpu_s']:.3f} | {r['vs_dense_cpu']:.3f}× "
              f"| {r['vs_dense_cpu_paired']:.3f}× "
              f"| {r['median_t_sample_s']:.3f} | {r['median_t_build_s']:.3f} "
              f"| {r['stats_nbytes'] / 1e6:.1f} |")
    print(f"wrote {args.json}")
    return 0


def components(args, argv, engines, corpus, facts, write_text_atomic) -> int:
    """Build, estimate and sample phases on one shared z; CPU seconds, min over rounds."""
    import numpy as np

    ref = next(e["engine"] for e in engines if e["label"] == "dense")
    for _ in range(3):
        ref.step()
    z = ref.state.z.copy()
    rows = []
    for e in engines:
        eng = e["engine"]
        eng.state.z[:] = z
        eng.state.rebuild_doc_topics()
        t = {"build": [], "estimate": [], "sample": []}
        s = eng.state
        buf = np.empty((min(4096, s.n_words), args.topics))
        for _ in range(args.rounds):
            c0 = time.process_time()
            eng._build(eng.stats, 1)
            t["build"].append(time.process_time() - c0)
            c0 = time.process_time()
            for lo in range(0, s.n_words, 4096):
                hi = min(lo + 4096, s.n_words)
                eng.stats.estimate_into(s.words[lo:hi], buf[:hi - lo])
            t["estimate"].append(time.process_time() - c0)
            c0 = time.process_time()
            eng._sampler.sweep(eng.stats, np.uint64(12345))
            t["sample"].append(time.process_time() - c0)
            s.z[:] = z
        rows.append({"label": e["label"], "backend": e["backend"], "params": e["params"],
                     **{f"{k}_cpu_s": v for k, v in t.items()},
                     **{f"min_{k}_cpu_s": min(v) for k, v in t.items()}})
        print(f"  {e['label']}: " + ", ".join(f"{k} {min(v):.3f}" for k, v in t.items()),
              file=sys.stderr)
    doc = {"command": "NUMBA_NUM_THREADS=1 python scripts/bench_sketch_overhead.py " + " ".join(
               argv if argv is not None else sys.argv[1:]),
           "commit": git_commit(REPO),
           "baseline_commit": git_commit(args.baseline_src) if args.baseline_src else None,
           "machine": facts, "loadavg_after": list(os.getloadavg()),
           "corpus": str(args.corpus or "built-in"), "K": args.topics, "repeats": args.rounds,
           "z": "a dense run's after 4 iterations, shared by every configuration",
           "results": rows}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(args.json, json.dumps(doc, indent=2))
    print("| statistics | build CPU s | estimate CPU s | sample CPU s (incl. estimate) |")
    print("|---|---:|---:|---:|")
    for r in rows:
        print(f"| {r['label']} | {r['min_build_cpu_s']:.3f} | {r['min_estimate_cpu_s']:.3f} "
              f"| {r['min_sample_cpu_s']:.3f} |")
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
