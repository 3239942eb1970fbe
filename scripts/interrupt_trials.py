"""SIGINT/SIGTERM/SIGUSR1 trials at random moments of training, one process and ``mpiexec -n 2``.

Each trial starts ``lda-sketch train`` (configs/tiny.toml, ``checkpoint_every = 7``,
``evaluate_every = 5``, so signals also land inside checkpoint writes and evaluations), waits until
the loop has started (``metrics.jsonl`` exists), sleeps a random time within the measured length
of the training loop, sends SIGINT, SIGTERM or SIGUSR1 (to the process; or to ``mpiexec``, which
forwards SIGINT/SIGTERM to every rank; or to one rank only), and checks:

* exit status 130 and exactly one line of our own on stderr (``interrupted at iteration N; ...``;
  mpiexec's own two lines about forwarding Ctrl-C are not ours), no traceback, no hang;
* ``lda-sketch train --resume`` then finishes, and its ``model/stats.bin`` and ``metrics.jsonl``
  (timing keys aside) are bitwise equal to an uninterrupted run's.

A signal that lands after the loop has ended lets the run finish normally (exit 0); such trials
are counted as ``finished_before_signal``. Writes the counts to docs/results/interrupt_trials.json.

    python scripts/interrupt_trials.py [--trials 10] [--seed 0] [--out docs/results/...json]
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
TIMING = {"t_sample", "t_build", "t_merge", "t_eval", "elapsed", "peak_rss_mib"}
N_ITER = 60
SETS = ["--set", f"sampler.n_iter={N_ITER}", "--set", "output.checkpoint_every=7",
        "--set", "eval.evaluate_every=5", "--set", "output.keep_checkpoints=2", "--no-progress"]


def cmd(ranks: int, *args) -> list[str]:
    base = [str(BIN / "lda-sketch"), *args]
    return [str(BIN / "mpiexec"), "-n", str(ranks), *base] if ranks > 1 else base


def metrics(run: Path) -> list[dict]:
    recs = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines() if x]
    return [{k: v for k, v in r.items() if k not in TIMING} for r in recs]


def our_lines(stderr: str) -> list[str]:
    return [ln for ln in stderr.splitlines()
            if ln.strip() and not ln.startswith("[mpiexec@") and " INFO " not in ln]


def reference(tmp: Path, ranks: int) -> tuple[Path, float]:
    run = tmp / f"ref-{ranks}"
    t0 = time.perf_counter()
    subprocess.run(cmd(ranks, "train", "--config", str(REPO / "configs/tiny.toml"), "--out",
                       str(run), *SETS), check=True, capture_output=True, timeout=600)
    total = time.perf_counter() - t0
    return run, total


def loop_seconds(tmp: Path, ranks: int) -> float:
    """Seconds from the loop's start (metrics.jsonl written) to the process's end."""
    run = tmp / f"probe-{ranks}"
    p = subprocess.Popen(cmd(ranks, "train", "--config", str(REPO / "configs/tiny.toml"),
                             "--out", str(run), *SETS),
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while not (run / "metrics.jsonl").exists() and p.poll() is None:
        time.sleep(0.01)
    t0 = time.perf_counter()
    p.wait(timeout=600)
    shutil.rmtree(run, ignore_errors=True)
    return time.perf_counter() - t0


def trial(tmp: Path, i: int, ranks: int, sig: int, target: str, window: float, ref: Path,
          rng: random.Random) -> dict:
    run = tmp / f"trial-{ranks}-{i}"
    p = subprocess.Popen(cmd(ranks, "train", "--config", str(REPO / "configs/tiny.toml"),
                             "--out", str(run), *SETS),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    while not (run / "metrics.jsonl").exists() and p.poll() is None:
        time.sleep(0.005)
    delay = rng.uniform(0, window)
    time.sleep(delay)
    victim = p.pid
    if target == "one-rank":
        kids = subprocess.run(["pgrep", "-f", f"--out {run}"], capture_output=True,
                              text=True).stdout.split()
        ranks_pids = [int(k) for k in kids if int(k) != p.pid]
        ranks_pids = [k for k in ranks_pids if "python" in Path(f"/proc/{k}/cmdline").read_text()]
        victim = rng.choice(ranks_pids) if ranks_pids else p.pid
    try:
        os.kill(victim, sig)
    except ProcessLookupError:
        pass
    rec = {"ranks": ranks, "signal": signal.Signals(sig).name, "target": target,
           "delay_s": round(delay, 3)}
    try:
        out, err = p.communicate(timeout=300)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        rec["hang"] = True
        return rec
    lines = our_lines(err)
    rec.update(rc=p.returncode, traceback="Traceback" in err, n_lines=len(lines),
               line=lines[0] if lines else None)
    if p.returncode == 0:
        rec["finished_before_signal"] = True
        return rec
    r = subprocess.run(cmd(ranks, "train", "--resume", str(run), "--no-progress"),
                       capture_output=True, text=True, timeout=600)
    rec["resume_rc"] = r.returncode
    rec["bitwise"] = (r.returncode == 0
                      and (run / "model/stats.bin").read_bytes()
                      == (ref / "model/stats.bin").read_bytes()
                      and metrics(run) == metrics(ref))
    shutil.rmtree(run, ignore_errors=True)
    return rec


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--trials", type=int, default=10, help="trials per rank count")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--ranks", default="1,2")
    ap.add_argument("--out", default=str(REPO / "docs/results/interrupt_trials.json"))
    args = ap.parse_args(argv)
    rng = random.Random(args.seed)
    env_tmp = Path(tempfile.mkdtemp(prefix="lda-interrupt-"))
    results, summary = [], {}
    try:
        for ranks in [int(r) for r in args.ranks.split(",")]:
            ref, _ = reference(env_tmp, ranks)
            window = loop_seconds(env_tmp, ranks)
            targets = ["process"] if ranks == 1 else ["mpiexec", "one-rank"]
            for i in range(args.trials):
                target = targets[i % len(targets)]
                # mpiexec (hydra) forwards SIGINT and SIGTERM; SIGUSR1 goes to the ranks, as
                # Slurm's --signal does
                sigs = [signal.SIGINT, signal.SIGTERM] + ([] if target == "mpiexec"
                                                          else [signal.SIGUSR1])
                sig = rng.choice(sigs)
                rec = trial(env_tmp, i, ranks, sig, target, window, ref, rng)
                print(json.dumps(rec), flush=True)
                results.append(rec)
            rs = [r for r in results if r["ranks"] == ranks]
            stopped = [r for r in rs if r.get("rc") == 130]
            summary[f"ranks_{ranks}"] = {
                "trials": len(rs), "loop_window_s": round(window, 2),
                "exit_130": len(stopped),
                "finished_before_signal": sum(bool(r.get("finished_before_signal")) for r in rs),
                "other_exit": sum(r.get("rc") not in (0, 130) for r in rs),
                "hangs": sum(bool(r.get("hang")) for r in rs),
                "tracebacks": sum(bool(r.get("traceback")) for r in rs),
                "not_one_line": sum(r.get("n_lines") != 1 for r in stopped),
                "resumed_bitwise": sum(bool(r.get("bitwise")) for r in stopped),
                "resume_failed_or_differs": sum(not r.get("bitwise") for r in stopped),
            }
    finally:
        shutil.rmtree(env_tmp, ignore_errors=True)
    doc = {"command": "python scripts/interrupt_trials.py --trials %d --seed %d"
                      % (args.trials, args.seed),
           "config": "configs/tiny.toml " + " ".join(SETS), "summary": summary,
           "trials": results}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(doc, indent=1) + "\n")
    print(json.dumps(summary, indent=1))
    bad = any(s["other_exit"] or s["hangs"] or s["tracebacks"] or s["not_one_line"]
              or s["resume_failed_or_differs"] for s in summary.values())
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
