"""Stall trials: stop one rank of a running ``mpiexec -n P lda-sketch train`` with ``SIGSTOP``
and measure how the job ends (issue 26, item 1).

Each trial trains ``configs/tiny.toml`` for many iterations with ``[run].stall_timeout`` set,
waits until the run has written metrics (kernels compiled, iterations running), sends
``SIGSTOP`` to one rank (found through ``/proc``), and records: the exit status (75 expected),
whether stderr names the stopped rank, the warning before it, the seconds from the stop to the
job's exit, the CPU a waiting rank uses during the stall (a busy spin would use a whole core),
and whether the newest checkpoint resumes (``train --resume`` to two iterations past
it). Results go to ``docs/results/reliability.json`` (class ``stall``; records of other classes
are kept).

    python scripts/stall_trials.py                      # 2 and 3 ranks, 3 trials each, timeout 5 s
    python scripts/stall_trials.py --ranks 2 --trials 1 --timeout 4 --no-record   # quick check
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "scripts")]

from lda_sketch.distributed.launch import find_mpiexec, rank_pids  # noqa: E402
from lda_sketch.distributed.liveness import STALL_EXIT_STATUS  # noqa: E402
from harness import report_reliability  # noqa: E402

TINY = REPO / "configs" / "tiny.toml"
LONG = ["--set", "sampler.n_iter=100000", "--set", "eval.evaluate_every=20",
        "--set", "output.checkpoint_every=10"]


def _env() -> dict:
    return {**os.environ, "PYTHONUNBUFFERED": "1", "NUMBA_NUM_THREADS": "1"}


def stall_once(n_ranks: int, victim: int, timeout_s: float, workdir: Path,
               min_rows: int = 2, limit_s: float = 300.0) -> dict:
    """One trial; returns its record fields (``passed`` says whether every check held)."""
    workdir.mkdir(parents=True, exist_ok=True)
    run = workdir / f"stall-{n_ranks}-{victim}"
    cmd = [find_mpiexec(), "-n", str(n_ranks), sys.executable, "-m", "lda_sketch", "train",
           "--no-progress", "--config", str(TINY), *LONG,
           "--set", f"run.stall_timeout={timeout_s}", "--out", str(run)]
    err = open(workdir / f"stall-{n_ranks}-{victim}.err", "w+")
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, env=_env(),
                            start_new_session=True)
    try:
        t_start = time.monotonic()
        metrics = run / "metrics.jsonl"
        while (not metrics.exists() or len(metrics.read_text().splitlines()) < min_rows):
            if proc.poll() is not None or time.monotonic() - t_start > limit_s:
                raise RuntimeError(f"the run ended or stalled before the trial: {_tail(err)}")
            time.sleep(0.05)
        pids = rank_pids(proc.pid)
        os.kill(pids[victim], signal.SIGSTOP)
        t_stop = time.monotonic()
        waiter = pids[0 if victim else 1]
        time.sleep(min(1.0, timeout_s / 4))
        cpu = _cpu_seconds(waiter)
        time.sleep(1.0)
        cpu_waiting = _cpu_seconds(waiter) - cpu  # over that second: no busy spin
        try:
            rc = proc.wait(timeout=timeout_s * 3 + 60)
        except subprocess.TimeoutExpired:
            rc = None  # hung: the failure this trial exists to catch
        exit_s = time.monotonic() - t_stop
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    text = _tail(err, 20000)
    named = f"rank {victim} (silent for" in text if victim else "rank 0 or another rank" in text
    warned = "slow ranks:" in text
    resumed = _resumes(run, n_ranks)
    rec = {"ranks": n_ranks, "victim": victim, "stall_timeout_s": timeout_s, "exit_status": rc,
           "stop_to_exit_s": round(exit_s, 2), "named": named, "warned_first": warned,
           "checkpoint_resumes": resumed, "waiting_rank_cpu": round(cpu_waiting, 3)}
    rec["passed"] = (rc == STALL_EXIT_STATUS and named and resumed and cpu_waiting < 0.2
                     and exit_s < timeout_s + 30 and (warned or victim == 0))
    if not rec["passed"]:
        rec["stderr_tail"] = text[-1500:]
    return rec


def _resumes(run: Path, n_ranks: int) -> bool:
    """``train --resume`` from the newest checkpoint runs two more iterations and exits 0."""
    from lda_sketch.io.checkpoint import latest_checkpoint

    ckpt = latest_checkpoint(run)
    if ckpt is None:
        return False
    it = int(ckpt.name.split("-")[-1])
    cmd = [find_mpiexec(), "-n", str(n_ranks), sys.executable, "-m", "lda_sketch", "train",
           "--no-progress", "--config", str(TINY), *LONG, "--resume", str(run),
           "--set", f"sampler.n_iter={it + 2}"]
    r = subprocess.run(cmd, capture_output=True, text=True, env=_env(), timeout=300)
    return r.returncode == 0 and (run / "model").is_dir()


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far (``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _tail(f, n: int = 3000) -> str:
    f.flush()
    f.seek(0)
    return f.read()[-n:]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ranks", type=int, nargs="+", default=[2, 3])
    ap.add_argument("--trials", type=int, default=3, help="trials per rank count")
    ap.add_argument("--timeout", type=float, default=5.0, help="[run].stall_timeout, seconds")
    ap.add_argument("--no-record", action="store_true", help="print only")
    args = ap.parse_args(argv)
    if find_mpiexec() is None:
        print("no mpiexec found (install the 'mpich' extra)", file=sys.stderr)
        return 2
    records = []
    with tempfile.TemporaryDirectory(prefix="stall-") as tmp:
        for p in args.ranks:
            trials = []
            for t in range(args.trials):
                victim = [p - 1, 1, 0][t % 3] if p > 1 else 0
                r = stall_once(p, victim, args.timeout, Path(tmp) / f"t{t}")
                print(json.dumps(r), flush=True)
                trials.append(r)
            exits = [r["stop_to_exit_s"] for r in trials]
            records.append({
                "class": "stall", "case": f"SIGSTOP one rank of {p}, stall_timeout "
                f"{args.timeout:g} s", "trials": len(trials),
                "passed": sum(r["passed"] for r in trials),
                "failed": sum(not r["passed"] for r in trials),
                "notes": f"stop to named exit: median {statistics.median(exits):.1f} s, max "
                         f"{max(exits):.1f} s (timeout {args.timeout:g} s; rank 0 names the "
                         f"missing rank, the others wait a grace period longer); exit status "
                         f"{STALL_EXIT_STATUS}; the newest checkpoint resumed in every passed "
                         f"trial", "details": trials})
    return report_reliability(records, "stall_trials.py", argv, record=not args.no_record)


if __name__ == "__main__":
    sys.exit(main())
