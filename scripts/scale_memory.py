#!/usr/bin/env python
"""Peak memory per rank against the bytes of the arrays the rank holds, at V = 2^20, K = 1000.

The synthetic corpus of ``scale_synthetic.py`` (same generator and parameters; an existing
corpus is reused), trained by ``mpiexec -n P lda-sketch -v train`` for each backend and rank
count (dense, and count-min-Morris d = 3, w = 2^16, 8-bit correlated, by default), with
``--iters`` iterations, one evaluation at the end, a checkpoint and the saved model: the whole
life of a run. Every rank runs under this script's ``--rank`` mode, which records, around each
phase (corpus load, engine set-up, initialisation, each step, evaluation, checkpoint, model
save), the process's peak RSS so far (``VmHWM``), so the phase that sets the peak is named.

Per rank it reports:

* ``arrays_bytes``: the plan of :func:`lda_sketch.run.memory.plan_rank` (what ``train --dry-run``
  prints) with the shard's measured pairs and triple slots per token: one copy of the
  statistics, the owner-computes receive buffer (Morris), the sampler state, the corpus pages,
  the word counts and the fixed working buffers;
* ``arrays_bytes_held``: the ``nbytes`` of the rank's live arrays at the end, plus the plan's
  merge round and evaluation block (the check of the plan);
* ``peak_rss_bytes``: ``ru_maxrss`` at exit (the whole run, model save included), and
  ``peak_rss_mib_metrics``: ``peak_rss_mib`` of ``metrics.jsonl`` (at the final evaluation);
* ``baseline_rss_bytes``: RSS after the imports (Python, numpy, numba, MPI), before any data;
* ``ratio`` = peak / arrays, and ``ratio_above_baseline`` = (peak - baseline) / arrays.

The statistics' size depends on V and K only; the sampler state on tokens per rank. The full
setting (~100M tokens) is long on a 2-core machine; ``--tokens`` 16M keeps V x K and shortens
every iteration (the state is then smaller than at 100M tokens, so ratios are if anything
less favourable: fixed costs weigh more)::

    python scripts/scale_memory.py --corpus-dir /tmp/scalemem/v20k1000 --tokens 16_000_000 \\
        --runs dense:1,dense:2,countmin-morris:2 --iters 3

Writes ``docs/results/scale_memory.json``. Runs one job at a time; check ``free -g`` first.
"""
from __future__ import annotations

import argparse
import datetime
import functools
import itertools
import json
import os
import resource
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

MIB = 2**20


# --------------------------------------------------------------------------- rank mode
def _status(key: str) -> int:
    """``/proc/self/status`` field ``key`` in bytes (0 where unavailable)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


class PhaseLog:
    """Peak RSS so far (VmHWM) and RSS before and after each wrapped call."""

    def __init__(self):
        self.records = []
        self.engine = None
        self.seq = itertools.count()

    def wrap(self, owner, attr: str, name: str) -> None:
        fn = getattr(owner, attr)
        log = self

        @functools.wraps(fn)
        def wrapped(*a, **k):
            rec = {"phase": name, "seq": next(log.seq), "rss_in": _status("VmRSS"),
                   "hwm_in": _status("VmHWM")}
            try:
                return fn(*a, **k)
            finally:
                rec.update(rss_out=_status("VmRSS"), hwm_out=_status("VmHWM"))
                log.records.append(rec)

        setattr(owner, attr, wrapped)


def rank_main(out_dir: Path, train_args: list[str]) -> int:
    """Run ``lda-sketch train_args`` in this rank, recording phases; write rank-R.json."""
    baseline = _status("VmRSS")
    import numpy as np

    from lda_sketch.run import engine as engine_mod
    from lda_sketch.model import topic_model
    from lda_sketch.run import train
    from lda_sketch.cli.main import main as cli_main
    from lda_sketch.distributed.comm import get_comm

    comm = get_comm()  # MPI initialised now, as in the CLI: part of the baseline
    baseline = max(baseline, _status("VmRSS"))
    log = PhaseLog()
    init = engine_mod.Engine.__init__

    def grab(self, *a, **k):
        init(self, *a, **k)
        log.engine = self

    engine_mod.Engine.__init__ = grab
    log.wrap(train, "load_data", "load_data")
    log.wrap(engine_mod.Engine, "__init__", "engine_setup")
    log.wrap(engine_mod.Engine, "initialize", "initialize")
    log.wrap(engine_mod.Engine, "step", "step")
    log.wrap(engine_mod.Engine, "evaluate", "evaluate")
    log.wrap(engine_mod.Engine, "state_dict", "checkpoint_state")
    log.wrap(train, "save_checkpoint", "checkpoint")
    log.wrap(topic_model.TopicModel, "save", "model_save")
    rc = cli_main(train_args)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    eng = log.engine
    held = {}
    if eng is not None:
        s = eng.state
        sampler = eng._sampler
        held = {"statistics": int(eng.stats.nbytes),
                "sampler_state": int(s.nbytes),
                "sampler_buffers": int(sum(a.nbytes for a in vars(sampler).values()
                                           if isinstance(a, np.ndarray))),
                "word_counts": int(eng._word_counts.nbytes),
                "shard_tokens": int(s.n_tokens), "shard_docs": int(s.n_docs),
                "shard_pairs": int(s.n_pairs), "shard_words": int(s.n_words),
                "triple_slots": int(s.trip_ptr[-1])}
    res = {"rank": comm.rank, "size": comm.size, "rc": rc, "baseline_rss_bytes": baseline,
           "peak_rss_bytes": peak, "held": held, "phases": log.records}
    (out_dir / f"rank-{comm.rank}.json").write_text(json.dumps(res, indent=1))
    return rc


# --------------------------------------------------------------------------- driver
def plan_for(rank: dict, args, backend: str, P: int, n_tokens: int, n_docs: int) -> dict:
    """:func:`plan_rank` of this rank with its measured per-token ratios."""
    from lda_sketch.run.memory import plan_rank
    from lda_sketch.stats import BACKENDS

    h = rank["held"]
    params = {} if backend == "dense" else {
        "n_hashes": 3, "n_buckets": args.buckets, "counter_bits": 8, "counter_base": 1.08,
        "increment": "correlated", "conservative": False}
    cls = BACKENDS[backend]
    stats = cls.nbytes_for(n_topics=args.topics, n_vocab=args.vocab, seed=0, **params)
    n = max(h["shard_tokens"], 1)
    return plan_rank(stats_bytes=stats, n_tokens=n_tokens, n_docs=n_docs, n_vocab=args.vocab,
                     n_topics=args.topics, n_ranks=P,
                     pairs_per_token=h["shard_pairs"] / n,
                     triples_per_token=h["triple_slots"] / n)


def run(args, mpiexec: str, backend: str, P: int, train_dir: Path, held_dir: Path,
        corpus: dict, tmp: Path) -> dict:
    from bench_distributed import BACKENDS as SETS
    from lda_sketch.evaluation.perplexity import BLOCK_BYTES

    run_dir, rank_dir = tmp / f"{backend}-{P}", tmp / f"{backend}-{P}-ranks"
    rank_dir.mkdir(parents=True, exist_ok=True)
    sets = [f"data.train={train_dir}", f"data.heldout={held_dir}",
            f"model.n_topics={args.topics}", f"sampler.n_iter={args.iters}", "sampler.seed=0",
            "eval.evaluate_every=0", f"eval.fold_in_iters={args.fold_in_iters}",
            "output.checkpoint_every=0", "output.keep_checkpoints=1", *SETS[backend]]
    if backend != "dense":
        sets.append(f"sketch.n_buckets={args.buckets}")
    train_args = ["-v", "train", "--config", str(REPO / "configs" / "wiki-reuters.toml"),
                  "--no-progress", "--out", str(run_dir)]
    for s in sets:
        train_args += ["--set", s]
    cmd = [mpiexec, "-n", str(P), sys.executable, str(Path(__file__).resolve()), "--rank",
           str(rank_dir), "--", *train_args]
    env = {**os.environ, "NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
           "PYTHONUNBUFFERED": "1"}
    if args.code is not None:  # the ranks import lda_sketch from there (an older commit)
        env["PYTHONPATH"] = str(args.code.resolve())
    load0, t0 = os.getloadavg(), time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env, start_new_session=True)
    try:
        _, err = proc.communicate(timeout=args.timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        _, err = proc.communicate()
        return {"error": f"timed out after {args.timeout} s", "stderr_tail": err[-2000:]}
    res = {"backend": backend, "ranks": P, "command": shlex.join(cmd),
           "wall_s": round(time.perf_counter() - t0, 1), "loadavg_before": load0,
           "loadavg_after": os.getloadavg()}
    if proc.returncode != 0:
        res.update(error=f"exit status {proc.returncode}", stderr_tail=err[-2000:])
        return res
    metrics = [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines()]
    last = metrics[-1]
    steps = [json.loads(line.split(" step ", 1)[1]) for line in err.splitlines()
             if "DEBUG lda_sketch.run.train: step {" in line]
    res.update(perplexity=last["perplexity"], stats_nbytes=last["stats_nbytes"],
               s_per_iter=[round(s["t_step"], 2) for s in steps], t_eval=last["t_eval"],
               per_rank=[])
    for r in range(P):
        rank = json.loads((rank_dir / f"rank-{r}.json").read_text())
        plan = plan_for(rank, args, backend, P, corpus["n_train_tokens"],
                        corpus["n_train_docs"])
        arrays = plan["arrays_bytes"]
        h = rank["held"]
        # live arrays at the end, plus the plan's transient merge round and evaluation block
        held = (h["statistics"] + h["sampler_state"] + h["sampler_buffers"] + h["word_counts"]
                + 4 * h["shard_tokens"] + 8 * h["shard_docs"] + plan["merge_buffer_bytes"]
                + BLOCK_BYTES)
        peak, base = rank["peak_rss_bytes"], rank["baseline_rss_bytes"]
        setter = _peak_phase(rank["phases"])
        res["per_rank"].append({
            "rank": r, "arrays_bytes": arrays, "plan": plan, "arrays_bytes_held": held,
            "peak_rss_bytes": peak, "peak_rss_mib_metrics": last["peak_rss_mib"][r],
            "baseline_rss_bytes": base, "ratio": round(peak / arrays, 3),
            "ratio_above_baseline": round((peak - base) / arrays, 3),
            "peak_set_in": setter,
            "held": h, "phases": _phase_table(rank["phases"])})
    shutil.rmtree(run_dir, ignore_errors=True)
    return res


def _peak_phase(records: list[dict]) -> str:
    """The phase during which peak RSS reached its final value (records in call order)."""
    top = max((r["hwm_out"] for r in records), default=0)
    prev = "start"
    for r in sorted(records, key=lambda r: r["seq"]):
        if r["hwm_out"] == top:
            return r["phase"] if r["hwm_in"] < top else f"between {prev} and {r['phase']}"
        prev = r["phase"]
    return "after the last phase"


def _phase_table(records: list[dict]) -> list[dict]:
    """Per phase name: calls, the largest RSS rise inside one call and peak RSS after it (MiB)."""
    out: dict = {}
    for r in records:
        p = out.setdefault(r["phase"], {"phase": r["phase"], "calls": 0, "rss_out_mib": 0,
                                        "hwm_out_mib": 0, "max_rss_rise_mib": 0})
        p["calls"] += 1
        p["rss_out_mib"] = r["rss_out"] // MIB
        p["hwm_out_mib"] = max(p["hwm_out_mib"], r["hwm_out"] // MIB)
        p["max_rss_rise_mib"] = max(p["max_rss_rise_mib"], (r["hwm_out"] - r["rss_in"]) // MIB)
    return list(out.values())


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--rank"]:  # one rank of a run (launched by the driver below)
        return rank_main(Path(argv[1]), argv[argv.index("--") + 1:])
    from bench_distributed import find_mpiexec, machine_info
    from scale_synthetic import generate

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus-dir", type=Path, required=True)
    ap.add_argument("--tokens", type=lambda s: int(s.replace("_", "")), default=16_000_000)
    ap.add_argument("--vocab", type=lambda s: int(s.replace("_", "")), default=2**20)
    ap.add_argument("--topics", type=int, default=1000)
    ap.add_argument("--runs", default="dense:1,dense:2,countmin-morris:2",
                    help="comma-separated BACKEND:RANKS, run one after another")
    ap.add_argument("--iters", type=int, default=3)
    ap.add_argument("--buckets", type=int, default=2**16)
    ap.add_argument("--fold-in-iters", type=int, default=20)
    ap.add_argument("--timeout", type=float, default=3600)
    ap.add_argument("--mpiexec")
    ap.add_argument("--code", type=Path,
                    help="the ranks import lda_sketch from this directory (e.g. `git archive "
                         "OLD | tar -x -C DIR`): measure older code against the current plan")
    ap.add_argument("--note", default="", help="free text stored with the results")
    ap.add_argument("--out", type=Path, default=REPO / "docs" / "results" / "scale_memory.json")
    args = ap.parse_args(argv)
    params = {"tokens": args.tokens, "vocab": args.vocab, "topics": args.topics,
              "doc_length": 200, "alpha": 0.1, "support": max(50, 4 * args.vocab // args.topics),
              "background": 0.05, "heldout_docs": 500, "seed": 0}
    args.corpus_dir.mkdir(parents=True, exist_ok=True)
    train_dir, held_dir, corpus = generate(args.corpus_dir.resolve(), params)
    mpiexec = find_mpiexec(args.mpiexec)
    runs = [(b, int(p)) for b, p in (r.split(":") for r in args.runs.split(",") if r)]
    out = {"command": shlex.join(["python", "scripts/scale_memory.py", *argv]),
           "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
           "machine": machine_info(mpiexec), "memory_total_bytes": _meminfo("MemTotal"),
           "note": args.note, "code": str(args.code) if args.code else None,
           "corpus": corpus, "iters": args.iters, "results": []}
    failed = False
    with tempfile.TemporaryDirectory(prefix="scale_memory_") as tmp:
        for backend, P in runs:
            print(f"{backend} P={P}: MemAvailable {_meminfo('MemAvailable') / 2**30:.1f} GiB, "
                  f"load {os.getloadavg()[0]:.2f}", flush=True)
            res = run(args, mpiexec, backend, P, train_dir, held_dir, corpus, Path(tmp))
            res["mem_available_before_bytes"] = _meminfo("MemAvailable")
            out["results"].append(res)
            if "error" in res:
                failed = True
                print(f"  FAILED: {res['error']}\n{res.get('stderr_tail', '')[-1500:]}")
                continue
            for r in res["per_rank"]:
                print(f"  rank {r['rank']}: arrays {r['arrays_bytes'] / 2**30:.2f} GiB (held "
                      f"{r['arrays_bytes_held'] / 2**30:.2f}), peak RSS "
                      f"{r['peak_rss_bytes'] / 2**30:.2f} GiB, ratio {r['ratio']:.2f} "
                      f"({r['ratio_above_baseline']:.2f} above the {r['baseline_rss_bytes'] / MIB:.0f}"
                      f" MiB baseline); peak set in {r['peak_set_in']}", flush=True)
    out["loadavg_end"] = os.getloadavg()
    from lda_sketch.io.atomic import write_text_atomic

    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(args.out, json.dumps(out, indent=1))
    print(f"wrote {args.out}")
    return 1 if failed else 0


def _meminfo(key: str) -> int:
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    return 0


if __name__ == "__main__":
    sys.exit(main())
