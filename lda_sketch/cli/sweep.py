"""``lda-sketch sweep``: run every point x trial of a sweep file (resumable), or emit Slurm jobs."""
from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ._command import add_command, add_set_arg

log = logging.getLogger("lda_sketch.sweep")

EPILOG = """\
A sweep file names a base config, a [grid] (cartesian product) and/or [[points]], and a number
of trials (sampler.seed = base seed + trial); see configs/sweeps/ and docs/RESULTS.md.
Each point x trial trains into SWEEP_DIR/<point>/trial-<t> (rerun one alone with
`lda-sketch train --config SWEEP_DIR/<point>/trial-<t>/resolved_config.toml --out ...`).
Rerunning the same command after an interruption skips finished runs (their `done` marker) and
resumes unfinished ones from their newest checkpoint.

examples:
  lda-sketch sweep configs/sweeps/exp2.toml --out runs/exp2 --dry-run
  lda-sketch sweep configs/sweeps/exp2.toml --out runs/exp2 --parallel 8   # 8 local workers
  mpirun -n 4 lda-sketch sweep configs/sweeps/exp1.toml --out runs/exp1   # points in turn
  lda-sketch sweep configs/sweeps/exp1.toml --out runs/exp1 --emit-jobs    # one Slurm job each
  lda-sketch sweep configs/sweeps/appE-grid.toml --out runs/appE-grid \
      --reuse runs/exp1 --reuse runs/exp2          # take identical finished runs from there
  lda-sketch sweep-summary runs/exp2                                      # summary.csv / .md
"""


NAME = "sweep"
HELP = """\
run a sweep (grid of configs x trials) into a sweep directory"""
DESCRIPTION = """\
Run every point x trial of a sweep file: sequentially (also under one `mpirun`, every rank
taking part in each run), as N local worker processes, or as one Slurm job per point. Resumable."""


def register(sub) -> None:
    p = add_command(sub, NAME, HELP, DESCRIPTION, run,
                    epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("sweep_file", metavar="SWEEP_TOML")
    p.add_argument("--out", required=True, metavar="SWEEP_DIR", help="sweep directory")
    add_set_arg(p, "override a config key for every point (e.g. data.train=DIR, "
                   "sampler.n_iter=10); keys the sweep varies cannot be overridden")
    p.add_argument("--only", action="append", metavar="NAME_GLOB",
                   help="run only points (or POINT/trial-T labels) matching this glob "
                        "(repeatable)")
    p.add_argument("--parallel", type=int, default=0, metavar="N",
                   help="run N local worker processes, one run each (NUMBA_NUM_THREADS="
                        "--threads-per-worker in each)")
    p.add_argument("--threads-per-worker", type=int, default=1, metavar="T",
                   help="numba threads per --parallel worker (default 1)")
    p.add_argument("--reuse", action="append", default=[], metavar="SWEEP_DIR",
                   help="before running, take each run whose resolved config (seed included) "
                        "equals a finished run's in this other sweep directory from there "
                        "(hard links) instead of training it again (repeatable)")
    p.add_argument("--dry-run", action="store_true",
                   help="list the runs, their seeds and status (done/partial/new), then exit")
    p.add_argument("--emit-jobs", nargs="?", const="scripts/cluster/train.sbatch",
                   metavar="TEMPLATE",
                   help="write one Slurm script per point into SWEEP_DIR/jobs/ from TEMPLATE "
                        "(default scripts/cluster/train.sbatch) instead of running")
    p.add_argument("--summarize", action="store_true",
                   help="after running (or alone, with --only matching nothing), write "
                        "SWEEP_DIR/summary.csv and summary.md")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(configures_logging=True)


def run(args) -> int:
    from ..distributed.comm import get_comm
    from ..sweep.runner import run_status, write_plan
    from ..sweep.spec import load_sweep, select
    from ..sweep.summary import summarize
    from ._logging import configure_logging

    comm = get_comm()
    configure_logging(args.verbose, comm.rank, comm.size)
    sweep = load_sweep(args.sweep_file, args.overrides)
    all_runs = sweep.runs(args.out)
    runs = select(all_runs, args.only)
    if args.only and not runs and not args.summarize:
        names = sorted({r.point for r in all_runs})
        raise ValueError(f"--only {args.only}: no run matches; points are {', '.join(names)}")
    for d in args.reuse:   # checked on every rank, before anything is written
        if not Path(d).is_dir():
            raise ValueError(f"--reuse {d}: not a directory; name a sweep directory (one "
                             "given to --out before)")
    if args.dry_run:
        if comm.rank == 0:
            _print_plan(runs, run_status)
        return 0
    if comm.rank == 0:
        write_plan(sweep, all_runs, args.out)
    if args.reuse:
        if comm.rank == 0:
            from ..sweep.runner import reuse_finished
            reuse_finished(runs, args.reuse)
        comm.barrier()
    if args.emit_jobs:
        if comm.rank == 0:
            from ..sweep.slurm import emit_jobs
            paths = emit_jobs(sweep, runs, args.out, args.emit_jobs)
            print(f"wrote {len(paths)} job scripts to {Path(args.out) / 'jobs'} "
                  f"(submit them all with: bash {Path(args.out) / 'jobs' / 'submit_all.sh'})")
        return 0
    if args.parallel and comm.size > 1:
        raise ValueError("--parallel starts its own local processes; do not combine it with "
                         "mpirun (under mpirun every rank takes part in each run in turn)")
    if args.parallel:
        failed = _run_parallel(args, runs)
    else:
        failed = _run_sequential(runs, comm, progress=False if args.no_progress else None)
    if args.summarize and comm.rank == 0:
        summarize(args.out)
        print(f"summary: {Path(args.out) / 'summary.md'}")
    if failed:
        if comm.rank == 0:
            print("failed: " + ", ".join(failed), file=sys.stderr)
        return 1
    return 0


def _print_plan(runs, run_status) -> None:
    width = max((len(r.label) for r in runs), default=10)
    for r in runs:
        ov = ", ".join(f"{k}={v}" for k, v in r.overrides.items()) or "(base)"
        print(f"{r.label:{width}s}  seed {r.config.sampler.seed:<4d} {run_status(r):8s} "
              f"{r.run_dir}  {ov}")
    print(f"{len(runs)} runs")


def _run_sequential(runs, comm, progress) -> list[str]:
    from ..sweep.runner import run_one

    failed = []
    for i, r in enumerate(runs, 1):
        t0 = time.perf_counter()
        if comm.size == 1:
            try:
                status = run_one(r, comm=comm, progress=progress)
            except (OSError, ValueError) as exc:  # a bad point must not stop the others
                log.error("%s failed: %s", r.label, exc)
                failed.append(r.label)
                continue
        else:  # collective: a failure aborts the job (train_run's abort_on_error)
            status = run_one(r, comm=comm, progress=progress)
        if comm.rank == 0:
            what = "already done" if status == "done" else f"{time.perf_counter() - t0:.1f} s"
            log.info("[%d/%d] %s: %s", i, len(runs), r.label, what)
    return failed


def _run_parallel(args, runs) -> list[str]:
    """One subprocess per run (``lda-sketch sweep ... --only LABEL``), ``--parallel`` at once.

    If this process is interrupted (Ctrl-C, SIGTERM from a scheduler or ``kill``), the running
    workers are terminated before it exits, so no orphan keeps training; their runs resume from
    the last checkpoint when the same command is run again.
    """
    from ..sweep.runner import run_status

    logs = Path(args.out) / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    todo = [r for r in runs if run_status(r) != "done"]
    log.info("%d runs, %d to do, %d workers x %d numba threads", len(runs), len(todo),
             args.parallel, args.threads_per_worker)
    env = dict(os.environ, NUMBA_NUM_THREADS=str(args.threads_per_worker), OMP_NUM_THREADS="1")
    for var in ("PMI_RANK", "PMI_SIZE", "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE"):
        env.pop(var, None)
    base = [sys.executable, "-m", "lda_sketch", "sweep", str(args.sweep_file),
            "--out", str(args.out), "--no-progress"]
    for s in args.overrides:
        base += ["--set", s]
    live: set[subprocess.Popen] = set()
    guard = threading.Lock()
    stopping = threading.Event()

    def work(r):
        path = logs / f"{r.point}.trial-{r.trial}.log"
        t0 = time.perf_counter()
        with open(path, "w", encoding="utf-8") as f:
            with guard:   # no new worker once stopping (checked under the lock stop_all takes)
                if stopping.is_set():
                    return r.label
                proc = subprocess.Popen(base + ["--only", r.label], stdout=f,
                                        stderr=subprocess.STDOUT, env=env)
                live.add(proc)
            rc = proc.wait()
            with guard:
                live.discard(proc)
        log.info("%s: %s in %.1f s (log: %s)", r.label, "done" if rc == 0 else f"FAILED rc={rc}",
                 time.perf_counter() - t0, path)
        return r.label if rc else None

    def stop_all():
        with guard:
            stopping.set()
            procs = list(live)
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()

    def on_term(signum, frame):
        raise SystemExit(128 + signum)

    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, on_term) if in_main else None
    pool = ThreadPoolExecutor(max_workers=args.parallel)
    try:
        futures = [pool.submit(work, r) for r in todo]
        return [x for x in (f.result() for f in futures) if x]
    except BaseException:
        log.error("interrupted: stopping %d running worker(s); rerun the same command to resume",
                  len(live))
        stop_all()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        if in_main:
            signal.signal(signal.SIGTERM, previous)
