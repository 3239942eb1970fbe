#!/usr/bin/env python
"""Distributed training benchmark: seconds per iteration, merge share and bytes per rank vs P.

For every backend and rank count P this launches, as a subprocess with a timeout,

    mpiexec -n P python -m lda_sketch -v train --config configs/wiki-reuters.toml
        --set data.train=TRAIN --set data.heldout=HELDOUT --set model.n_topics=K
        --set sampler.n_iter=ITERS --set eval.evaluate_every=0 --set <backend keys> ...

with ``NUMBA_NUM_THREADS`` = ``--threads`` in every rank, and reads

* rank 0's per-iteration ``step {...}`` lines (``-v``; see ``lda_sketch.run.loop.TrainingLoop``): sampling,
  build (including the n_k Allreduce, where ranks wait for the slowest), merge, step seconds and
  bytes this rank sent in the merge; medians over the iterations after the first;
* the run's ``metrics.jsonl`` (one record, evaluation at the last iteration only): ``t_eval``,
  held-out perplexity, ``peak_rss_mib`` of every rank, ``stats_nbytes``.

Runs are ordered P-major and backend-minor so every backend at a given P sees similar machine
load; ``--repeats`` rounds are interleaved the same way and their iterations pooled. Prints a
table and writes JSON (default ``docs/results/bench_distributed.json``). A failed or timed-out
run is recorded with its error and the script goes on; the exit status is 1 if any run failed.

Example (the figures in docs/DISTRIBUTED.md)::

    python scripts/bench_distributed.py --train /work/corpora/wiki \\
        --heldout /work/corpora/reuters-heldout --ranks 1,2,4 --iters 5

On a 16-core machine: ``--ranks 1,2,4,8,16``. The ranks import ``lda_sketch`` like this Python
does; to measure a fixed commit while the checkout changes, export it (``git archive HEAD | tar
-x -C /tmp/snap``) and run with ``PYTHONPATH=/tmp/snap``.
Open MPI needs ``--mpiexec-args=--oversubscribe``
beyond the core count (and ``--allow-run-as-root`` as root).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BASE_CONFIG = REPO / "configs" / "wiki-reuters.toml"

#: Backend name -> config overrides (DESIGN §7 / issue 5 grid: d = 3, w = 2^13, 8-bit correlated).
BACKENDS = {
    "dense": ["sketch.backend=dense"],
    "countmin": ["sketch.backend=countmin", "sketch.n_hashes=3", "sketch.n_buckets=8192",
                 "sketch.conservative=false"],
    "countmin-morris": ["sketch.backend=countmin-morris", "sketch.n_hashes=3",
                        "sketch.n_buckets=8192", "sketch.counter_bits=8",
                        "sketch.counter_base=1.08", "sketch.increment=correlated",
                        "sketch.conservative=false"],
}
STEP_KEYS = ("t_sample", "t_build", "t_merge", "t_step", "bytes_merged")


def find_mpiexec(explicit: str | None) -> str:
    """``--mpiexec``, else the one next to this Python (mpich wheel), else the one on PATH."""
    if explicit:
        return explicit
    from lda_sketch.distributed.launch import find_mpiexec as find_launcher
    found = find_launcher()
    if found is None:
        sys.exit("bench_distributed: no mpiexec found; install the 'mpich' extra "
                 "(pip install -e .[mpich]) or pass --mpiexec PATH")
    return found


def machine_info(mpiexec: str) -> dict:
    from lda_sketch.run.machine import cpu_model
    cpu = cpu_model()
    try:
        mpi = subprocess.run([mpiexec, "--version"], capture_output=True, text=True,
                             timeout=30).stdout.strip().splitlines()
    except (OSError, subprocess.TimeoutExpired):
        mpi = []
    import numba
    import numpy

    import lda_sketch

    pkg = Path(lda_sketch.__file__).resolve().parent
    try:  # the code measured: which checkout, which commit (see --help about PYTHONPATH)
        git = subprocess.run(["git", "-C", str(pkg), "describe", "--always", "--dirty"],
                             capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        git = ""
    return {"lda_sketch": str(pkg), "git": git or None,
            "PYTHONPATH": os.environ.get("PYTHONPATH"),
            "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"),
            "nproc": os.cpu_count(), "cpu": cpu, "platform": platform.platform(),
            "python": platform.python_version(), "numpy": numpy.__version__,
            "numba": numba.__version__, "mpiexec": mpiexec,
            "mpiexec_version": " ".join(mpi[:3])[:200]}


def run_one(args, mpiexec: str, backend: str, n_ranks: int, run_dir: Path) -> dict:
    """One training job; returns its parsed measurements or ``{"error": ...}``."""
    cmd = [mpiexec, *shlex.split(args.mpiexec_args), "-n", str(n_ranks), sys.executable, "-m",
           "lda_sketch", "-v", "train", "--config", str(args.config), "--no-progress",
           "--out", str(run_dir)]
    sets = [f"data.train={args.train}", f"data.heldout={args.heldout}",
            f"model.n_topics={args.topics}", f"sampler.n_iter={args.iters}",
            f"sampler.seed={args.seed}", "eval.evaluate_every=0", "output.checkpoint_every=0",
            "output.keep_checkpoints=1", *BACKENDS[backend], *args.set]
    for s in sets:
        cmd += ["--set", s]
    env = {**os.environ, "NUMBA_NUM_THREADS": str(args.threads), "OMP_NUM_THREADS": "1",
           "PYTHONUNBUFFERED": "1"}
    load0 = os.getloadavg()
    t0 = time.perf_counter()
    # Own session: on a timeout the whole process group (mpiexec and its ranks) is killed.
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=args.timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        return {"error": f"timed out after {args.timeout} s", "stderr_tail": err[-2000:],
                "command": shlex.join(cmd)}
    wall = time.perf_counter() - t0
    res = {"command": shlex.join(cmd), "wall_s": wall, "loadavg_before": load0,
           "loadavg_after": os.getloadavg()}
    if proc.returncode != 0:
        res.update(error=f"exit status {proc.returncode}", stderr_tail=err[-2000:])
        return res
    steps = [json.loads(line.split(" step ", 1)[1]) for line in err.splitlines()
             if "DEBUG lda_sketch.run.loop: step {" in line]
    metrics_path = run_dir / "metrics.jsonl"
    if len(steps) != args.iters or not metrics_path.is_file():
        res.update(error=f"expected {args.iters} 'step' lines and metrics.jsonl, got "
                         f"{len(steps)} lines; is this lda_sketch too old?",
                   stderr_tail=err[-2000:])
        return res
    last = json.loads(metrics_path.read_text().splitlines()[-1])
    res.update(steps=steps, final={k: last.get(k) for k in (
        "iteration", "perplexity", "unigram_perplexity", "t_eval", "stats_nbytes",
        "peak_rss_mib", "elapsed")})
    return res


def summarize(runs: list[dict], skip: int) -> dict:
    """Medians over the iterations after the first ``skip`` of every successful repeat."""
    ok = [r for r in runs if "error" not in r]
    if not ok:
        return {"error": runs[-1]["error"] if runs else "not run"}
    steps = [s for r in ok for s in r["steps"][skip:]]
    med = {k: statistics.median(s[k] for s in steps) for k in STEP_KEYS}
    med["merge_share"] = statistics.median(s["t_merge"] / s["t_step"] for s in steps)
    med["n_iterations"] = len(steps)
    fin = ok[-1]["final"]
    med.update(t_eval=statistics.median(r["final"]["t_eval"] for r in ok),
               perplexity=fin["perplexity"], stats_nbytes=fin["stats_nbytes"],
               peak_rss_mib=max(max(r["final"]["peak_rss_mib"]) for r in ok),
               peak_rss_mib_ranks=fin["peak_rss_mib"])
    return med


def table(summary: dict, ranks: list[int], backends: list[str]) -> str:
    head = (f"{'backend':16} {'P':>3} {'s/iter':>7} {'sample':>7} {'build':>7} {'merge':>7} "
            f"{'merge%':>6} {'eval s':>7} {'MB sent/rank/it':>15} {'speed-up':>8} {'eff':>5} "
            f"{'RSS MiB':>8} {'perplexity':>10}")
    lines = [head, "-" * len(head)]
    for b in backends:
        for p in ranks:
            s = summary[b].get(str(p), {})
            if "error" in s:
                lines.append(f"{b:16} {p:>3} FAILED: {s['error']}")
                continue
            lines.append(
                f"{b:16} {p:>3} {s['t_step']:7.3f} {s['t_sample']:7.3f} {s['t_build']:7.3f} "
                f"{s['t_merge']:7.3f} {100 * s['merge_share']:6.1f} {s['t_eval']:7.2f} "
                f"{s['bytes_merged'] / 1e6:15.2f} {s.get('speedup', float('nan')):8.2f} "
                f"{s.get('efficiency', float('nan')):5.2f} {s['peak_rss_mib']:8d} "
                f"{s['perplexity']:10.1f}")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--train", required=True, type=Path, help="training corpus directory")
    ap.add_argument("--heldout", required=True, type=Path,
                    help="held-out corpus directory (same vocabulary)")
    ap.add_argument("--config", type=Path, default=BASE_CONFIG,
                    help="base config (default configs/wiki-reuters.toml)")
    ap.add_argument("--ranks", default="1,2,4", help="comma-separated rank counts (1,2,4)")
    ap.add_argument("--backends", default=",".join(BACKENDS),
                    help=f"comma-separated subset of {','.join(BACKENDS)}")
    ap.add_argument("--topics", type=int, default=100)
    ap.add_argument("--iters", type=int, default=5, help="iterations per run (>= 2)")
    ap.add_argument("--skip", type=int, default=1, help="leading iterations left out of medians")
    ap.add_argument("--repeats", type=int, default=1, help="interleaved rounds to pool")
    ap.add_argument("--threads", type=int, default=1, help="numba threads per rank")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=V",
                    help="extra config override for every run (repeatable)")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds per run before kill")
    ap.add_argument("--mpiexec", help="launcher (default: next to this Python, else PATH)")
    ap.add_argument("--mpiexec-args", default="", help="extra launcher flags, e.g. "
                    "'--oversubscribe --bind-to none' for Open MPI")
    ap.add_argument("--runs-dir", type=Path, help="keep run directories here (default: temp)")
    ap.add_argument("--out", type=Path, default=REPO / "docs" / "results" /
                    "bench_distributed.json")
    args = ap.parse_args(argv)

    ranks = [int(x) for x in args.ranks.split(",") if x.strip()]
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    bad = [b for b in backends if b not in BACKENDS]
    if bad or not ranks or min(ranks) < 1:
        ap.error(f"--backends must name {sorted(BACKENDS)} (got {bad}); --ranks positive ints")
    if args.iters <= args.skip:
        ap.error(f"--iters ({args.iters}) must exceed --skip ({args.skip})")
    for what, d in (("--train", args.train), ("--heldout", args.heldout)):
        if not (d / "manifest.json").is_file():
            ap.error(f"{what} {d} is not a corpus directory (no manifest.json); build it with "
                     f"`lda-sketch prep` (docs/DATA_PREP.md)")
    args.train, args.heldout = args.train.resolve(), args.heldout.resolve()
    mpiexec = find_mpiexec(args.mpiexec)
    info = machine_info(mpiexec)
    ncpu = os.cpu_count() or 1
    print(f"{info['date']}  {ncpu} CPUs ({info['cpu']})  load {os.getloadavg()}", flush=True)
    if max(ranks) * args.threads > ncpu:
        print(f"note: P x threads up to {max(ranks) * args.threads} > {ncpu} CPUs: "
              f"oversubscribed runs measure contention, not scaling", flush=True)

    tmp = None
    runs_dir = args.runs_dir
    if runs_dir is None:
        tmp = tempfile.TemporaryDirectory(prefix="bench_distributed_")
        runs_dir = Path(tmp.name)
    raw: dict = {b: {str(p): [] for p in ranks} for b in backends}
    try:
        for rep in range(args.repeats):
            for p in ranks:
                for b in backends:
                    run_dir = runs_dir / f"{b}-P{p}-r{rep}"
                    shutil.rmtree(run_dir, ignore_errors=True)
                    res = run_one(args, mpiexec, b, p, run_dir)
                    raw[b][str(p)].append(res)
                    if "error" in res:
                        print(f"  {b:16} P={p}: FAILED ({res['error']})\n"
                              f"{res.get('stderr_tail', '')[-800:]}", flush=True)
                    else:
                        ts = [s["t_step"] for s in res["steps"][args.skip:]]
                        print(f"  {b:16} P={p}: median {statistics.median(ts):.3f} s/iter, "
                              f"wall {res['wall_s']:.1f} s", flush=True)
                    if tmp is not None:
                        shutil.rmtree(run_dir, ignore_errors=True)
    finally:
        if tmp is not None:
            tmp.cleanup()

    summary = {b: {str(p): summarize(raw[b][str(p)], args.skip) for p in ranks}
               for b in backends}
    for b in backends:
        base = summary[b].get("1", {})
        for p in ranks:
            s = summary[b][str(p)]
            if "error" not in s and "t_step" in base:
                s["speedup"] = base["t_step"] / s["t_step"]
                s["efficiency"] = s["speedup"] / p
    text = table(summary, ranks, backends)
    print(text)
    result = {"command": shlex.join([Path(sys.executable).name, *sys.argv]), "machine": info,
              "loadavg_end": os.getloadavg(), "oversubscribed_ranks":
                  [p for p in ranks if p * args.threads > ncpu],
              "params": {k: (str(v) if isinstance(v, Path) else v)
                         for k, v in vars(args).items() if k != "out"},
              "backends": {b: BACKENDS[b] for b in backends},
              "summary": summary, "runs": raw}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp_out = args.out.with_suffix(".json.tmp")
    tmp_out.write_text(json.dumps(result, indent=1))
    os.replace(tmp_out, args.out)  # atomic: never a half-written results file
    print(f"wrote {args.out}")
    return 1 if any("error" in summary[b][str(p)] for b in backends for p in ranks) else 0


if __name__ == "__main__":
    sys.exit(main())
