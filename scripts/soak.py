"""Soak (issue 26, item 5): one long run, its resources sampled while it trains.

``lda-sketch train --config configs/tiny.toml`` for 5,000 iterations with a checkpoint every
10 and an evaluation every 50 (``keep_checkpoints = 2``). Every 0.5 s the harness reads the
trainer's resident memory (``/proc/PID/status`` VmRSS), its open file descriptors
(``/proc/PID/fd``), the run directory's disk use and its checkpoints; the records at
iteration 100 and the last sample before the end (iteration 4,950: the records come every 50)
are compared. Pass: RSS at the end within 10 % + 16 MiB of RSS at 100, at most 2 descriptors
more (a checkpoint or metrics write in flight), disk within 10 % (metrics.jsonl grows by one line per evaluation), never
more than ``keep + 1`` checkpoints (the new one is complete before the oldest goes) and exactly
``keep`` at the end with no partial directory left. Results go to
``docs/results/reliability.json`` (class ``soak``).

    python scripts/soak.py                     # 5,000 iterations (minutes)
    python scripts/soak.py --iters 400 --no-record
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "scripts")]

from harness import report_reliability  # noqa: E402

KEEP = 2


def _du(path: Path) -> int:
    """Bytes of the files under ``path``; files removed while it walks are skipped (the run
    rotates its checkpoints meanwhile)."""
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            try:
                total += os.stat(os.path.join(root, f)).st_size
            except OSError:
                pass
    return total


def sample(pid: int, run: Path) -> dict | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        rss_kib = int(next(x for x in status.splitlines() if x.startswith("VmRSS:")).split()[1])
        fds = len(os.listdir(f"/proc/{pid}/fd"))
    except (OSError, StopIteration):
        return None
    disk = _du(run)
    ckpts = run / "checkpoints"
    try:
        names = os.listdir(ckpts)
    except OSError:
        names = []
    rows = (run / "metrics.jsonl").read_text().splitlines() if (run / "metrics.jsonl").exists() \
        else []
    it = json.loads(rows[-1])["iteration"] if rows else 0
    return {"t": time.monotonic(), "iteration": it, "rss_mib": rss_kib / 1024, "fds": fds,
            "disk_mib": disk / 2**20,
            "checkpoints": sum(n.startswith("iter-") for n in names),
            "partial": sum(n.endswith(".partial") for n in names)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--iters", type=int, default=5000)
    ap.add_argument("--no-record", action="store_true")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="soak-") as tmp:
        run = Path(tmp) / "run"
        cmd = [sys.executable, "-m", "lda_sketch", "train", "--no-progress", "--config",
               str(REPO / "configs" / "tiny.toml"), "--set", f"sampler.n_iter={args.iters}",
               "--set", "output.checkpoint_every=10", "--set", "eval.evaluate_every=50",
               "--set", f"output.keep_checkpoints={KEEP}", "--out", str(run)]
        t0 = time.monotonic()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                text=True, env={**os.environ, "NUMBA_NUM_THREADS": "1"})
        samples = []
        while proc.poll() is None:
            s = sample(proc.pid, run)
            if s is not None:
                samples.append(s)
            time.sleep(0.5)
        err = proc.stderr.read()
        wall = time.monotonic() - t0
        final_ckpts = sorted(p.name for p in (run / "checkpoints").iterdir()) \
            if (run / "checkpoints").is_dir() else []
    if proc.returncode != 0 or not samples:
        print(err[-3000:], file=sys.stderr)
        return 1
    early_it = min(100, args.iters)
    early = next(s for s in samples if s["iteration"] >= early_it)
    # the last sample while it still iterates (not while the process shuts down)
    late = [s for s in samples if s["iteration"] < args.iters][-1]
    retention_ok = (max(s["checkpoints"] for s in samples) <= KEEP + 1
                    and sum(n.startswith("iter-") for n in final_ckpts) == KEEP
                    and not any(n.endswith(".partial") for n in final_ckpts))
    checks = {
        "rss_flat": late["rss_mib"] <= early["rss_mib"] * 1.10 + 16,
        "fds_flat": late["fds"] <= early["fds"] + 2,
        "disk_flat": late["disk_mib"] <= early["disk_mib"] * 1.10 + 0.5,
        "retention_exact": retention_ok}
    rec = {"class": "soak", "case": f"train {args.iters} iterations, checkpoint every 10, "
           f"evaluation every 50", "trials": 1, "passed": int(all(checks.values())),
           "failed": int(not all(checks.values())),
           "notes": (f"RSS {early['rss_mib']:.1f} MiB at iteration {early['iteration']} -> "
                     f"{late['rss_mib']:.1f} MiB at {late['iteration']} (bound: +10 % + 16 "
                     f"MiB); open fds {early['fds']} -> {late['fds']} (bound +2); run directory "
                     f"{early['disk_mib']:.2f} -> {late['disk_mib']:.2f} MiB (bound +10 % + "
                     f"0.5 MiB); checkpoints at most "
                     f"{max(s['checkpoints'] for s in samples)} while writing, {final_ckpts} "
                     f"at the end (keep {KEEP}); {len(samples)} samples over {wall:.0f} s"),
           "checks": checks,
           "samples": [{k: (round(v, 2) if isinstance(v, float) else v) for k, v in s.items()
                        if k != "t"} for s in samples[:: max(1, len(samples) // 40)]]}
    status = report_reliability([rec], "soak.py", argv, record=not args.no_record)
    print(json.dumps(checks))  # last: the suite's short form reads it
    return status


if __name__ == "__main__":
    sys.exit(main())
