"""Writer-lock trials (issue 26, item 2): races a user can start by hand, each repeated.

* ``resume race``: two ``lda-sketch train --resume RUN`` started together (the race that once
  left 905 interleaved metrics rows): exactly one runs; the other exits 1 at once naming the
  holder's pid; ``metrics.jsonl`` never steps back and the checkpoints kept are exactly
  ``keep_checkpoints``.
* ``export into a training run``: ``lda-sketch export RUN --out RUN/export`` while ``RUN``
  trains: refused naming the trainer; nothing written.
* ``stale lock``: the trainer SIGKILLed mid-run; ``train --resume`` takes the lock over (its
  log says whose it was) and finishes.

Results go to ``docs/results/reliability.json`` (class ``lock``).

    python scripts/lock_trials.py [--trials 5] [--no-record]
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "scripts")]

from harness import report_reliability  # noqa: E402

TINY = str(REPO / "configs" / "tiny.toml")
LONG = ["--set", "sampler.n_iter=300", "--set", "output.checkpoint_every=5",
        "--set", "eval.evaluate_every=5"]


def _env() -> dict:
    return {**os.environ, "PYTHONUNBUFFERED": "1", "NUMBA_NUM_THREADS": "1"}


def _train(*args) -> list[str]:
    return [sys.executable, "-m", "lda_sketch", "-v", "train", "--no-progress", "--config", TINY,
            *LONG, *map(str, args)]


def _start(cmd, err_path: Path) -> subprocess.Popen:
    """Start ``cmd`` with stderr to a file (a pipe nobody reads would stall a verbose run)."""
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=open(err_path, "w"),
                            env=_env())
    proc.err_path = err_path
    return proc


def _err(proc) -> str:
    return Path(proc.err_path).read_text()


def _wait_rows(run: Path, n: int, limit: float = 120.0) -> None:
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        m = run / "metrics.jsonl"
        if m.exists() and len(m.read_text().splitlines()) >= n:
            return
        time.sleep(0.05)
    raise RuntimeError(f"{run}: no {n} metrics rows within {limit} s")


def _seed_run(run: Path) -> None:
    """A run with checkpoints to resume: 10 iterations of LONG's config."""
    subprocess.run(_train("--out", run, "--set", "sampler.n_iter=10"), check=True,
                   capture_output=True, env=_env())


def resume_race(work: Path) -> dict:
    run = work / "run"
    _seed_run(run)
    a = _start(_train("--resume", run), work / "a.err")
    b = _start(_train("--resume", run), work / "b.err")
    t0 = time.monotonic()
    rc = {}
    errs = {}
    while len(rc) < 2 and time.monotonic() - t0 < 300:
        for name, p in (("a", a), ("b", b)):
            if name not in rc and p.poll() is not None:
                rc[name] = (p.returncode, round(time.monotonic() - t0, 2))
                errs[name] = _err(p)
        time.sleep(0.05)
    for p in (a, b):
        if p.poll() is None:
            p.kill()
    codes = sorted(c for c, _ in rc.values())
    loser = next((n for n, (c, _) in rc.items() if c == 1), None)
    iters = [json.loads(x)["iteration"] for x in (run / "metrics.jsonl").read_text().splitlines()]
    ckpts = [p.name for p in (run / "checkpoints").iterdir()]
    ok = (codes == [0, 1] and loser is not None and rc[loser][1] < 15
          and "is being written by pid" in errs[loser]
          and all(x < y for x, y in zip(iters, iters[1:])) and len(ckpts) == 2)
    return {"ok": ok, "returncodes": codes, "refused_after_s": rc[loser][1] if loser else None,
            "metrics_monotone": all(x < y for x, y in zip(iters, iters[1:])),
            "checkpoints": sorted(ckpts)}


def export_into_training_run(work: Path) -> dict:
    run = work / "run"
    _seed_run(run)
    trainer = _start(_train("--resume", run), work / "train.err")
    try:
        _wait_rows(run, 3)
        r = subprocess.run([sys.executable, "-m", "lda_sketch", "export", str(run), "--out",
                            str(run / "export")], capture_output=True, text=True, env=_env())
    finally:
        trainer.kill()
        trainer.wait()
    ok = (r.returncode == 1 and f"is being written by pid {trainer.pid}" in r.stderr
          and not (run / "export").exists())
    return {"ok": ok, "returncode": r.returncode, "stderr": r.stderr.strip()[-300:]}


def stale_lock(work: Path) -> dict:
    run = work / "run"
    _seed_run(run)
    trainer = _start(_train("--resume", run), work / "train.err")
    _wait_rows(run, 3)
    os.kill(trainer.pid, signal.SIGKILL)
    trainer.wait()
    left = (run / ".lda_sketch.lock").exists()
    r = subprocess.run(_train("--resume", run, "--set", "sampler.n_iter=40"),
                       capture_output=True, text=True, env=_env())
    ok = (r.returncode == 0 and f"took over the lock of pid {trainer.pid}" in r.stderr
          and (run / "model").is_dir())
    return {"ok": ok, "lock_file_left_by_kill": left, "returncode": r.returncode}


CASES = {"two train --resume of one run started together": resume_race,
         "export into a run being trained": export_into_training_run,
         "lock of a SIGKILLed trainer taken over": stale_lock}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=5)
    ap.add_argument("--no-record", action="store_true")
    args = ap.parse_args(argv)
    records = []
    with tempfile.TemporaryDirectory(prefix="locks-") as tmp:
        for case, fn in CASES.items():
            trials = []
            for t in range(args.trials):
                work = Path(tmp) / f"{fn.__name__}-{t}"
                work.mkdir()
                r = fn(work)
                print(json.dumps({"case": case, **r}), flush=True)
                trials.append(r)
            records.append({"class": "lock", "case": case, "trials": len(trials),
                            "passed": sum(r["ok"] for r in trials),
                            "failed": sum(not r["ok"] for r in trials),
                            "notes": _notes(fn, trials), "details": trials})
    return report_reliability(records, "lock_trials.py", argv, record=not args.no_record)


def _notes(fn, trials) -> str:
    if fn is resume_race:
        s = [t["refused_after_s"] for t in trials if t["refused_after_s"] is not None]
        return (f"one ran, the other exited 1 naming the holder after {min(s):.1f}-{max(s):.1f} "
                f"s (its start-up); metrics.jsonl monotone and 2 checkpoints kept in "
                f"{sum(t['metrics_monotone'] and len(t['checkpoints']) == 2 for t in trials)} "
                f"of {len(trials)}") if s else "no trial refused a writer"
    if fn is export_into_training_run:
        return "export exits 1 naming the trainer's pid; no export directory written"
    return ("the killed trainer's lock file stays "
            f"({sum(t['lock_file_left_by_kill'] for t in trials)} of {len(trials)}); the next "
            "train --resume takes it over, logs whose it was, and finishes")


if __name__ == "__main__":
    sys.exit(main())
