"""A refactor changes no result: the same config trained by an earlier commit and by this tree gives
byte-identical statistics and the same metrics, and the earlier model loads here.

    python scripts/same_run.py --before 6106442                     # configs/tiny.toml, 12 iters
    python scripts/same_run.py --before HEAD~5 --ranks 2            # under mpiexec, 2 ranks

The earlier commit is checked out with ``git worktree`` into a temporary directory and run from
there (its own code); both runs use the embedded corpus of the config. Timings (``t_*``,
``elapsed``, ``peak_rss_mib``) are left out of the comparison. Writes
docs/results/same_run.json (``--out``) and exits 1 when anything differs.
"""
from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TIMING = ("elapsed", "peak_rss_mib")


def _git(*args, cwd=ROOT) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                          text=True).stdout.strip()


def _train(code: Path, config: str, iterations: int, out: Path, ranks: int) -> None:
    cmd = [sys.executable, "-m", "lda_sketch", "train", "--config", config,
           "--set", f"sampler.n_iter={iterations}", "--out", str(out), "--no-progress"]
    if ranks > 1:
        launcher = shutil.which("mpiexec", path=str(Path(sys.executable).parent)) or "mpiexec"
        cmd = [launcher, "-n", str(ranks), *cmd]
    env = dict(os.environ, PYTHONPATH=str(code))
    subprocess.run(cmd, cwd=code, env=env, check=True, stdout=subprocess.DEVNULL)


def _metrics(run: Path) -> list[dict]:
    lines = (run / "metrics.jsonl").read_text("utf-8").splitlines()
    return [{k: v for k, v in json.loads(line).items()
             if not k.startswith("t_") and k not in TIMING} for line in lines if line.strip()]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", required=True, help="the earlier commit (any git revision)")
    ap.add_argument("--config", default="configs/tiny.toml")
    ap.add_argument("--iterations", type=int, default=12)
    ap.add_argument("--ranks", type=int, default=1)
    ap.add_argument("--out", default=str(ROOT / "docs/results/same_run.json"))
    args = ap.parse_args(argv)
    before = _git("rev-parse", args.before)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        code = tmp / "before-code"
        _git("worktree", "add", "--detach", str(code), before)
        try:
            _train(code, args.config, args.iterations, tmp / "before", args.ranks)
        finally:
            _git("worktree", "remove", "--force", str(code))
        _train(ROOT, args.config, args.iterations, tmp / "after", args.ranks)
        a, b = tmp / "before", tmp / "after"
        from lda_sketch import TopicModel

        old = TopicModel.load(a / "model")
        rec = {
            "command": "python scripts/same_run.py " + " ".join(argv or sys.argv[1:]),
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "before": before, "after": _git("rev-parse", "HEAD"),
            "after_dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
            "config": args.config, "iterations": args.iterations, "ranks": args.ranks,
            "stats_sha256": {"before": _sha(a / "model/stats.bin"),
                             "after": _sha(b / "model/stats.bin")},
            "metrics_compared": sorted(_metrics(b)[-1]) if _metrics(b) else [],
            "metrics_same": _metrics(a) == _metrics(b),
            "earlier_model_loads": True,
            # loaded by this tree, the earlier statistics re-serialize to the bytes of their file
            "earlier_model_serializes_identically": (bytes(old.stats.serialize())
                                                     == (a / "model/stats.bin").read_bytes()),
        }
    rec["stats_identical"] = rec["stats_sha256"]["before"] == rec["stats_sha256"]["after"]
    ok = rec["stats_identical"] and rec["metrics_same"] and rec[
        "earlier_model_serializes_identically"]
    rec["same"] = ok
    out = Path(args.out)
    previous = json.loads(out.read_text("utf-8")) if out.is_file() else {}
    runs = [r for r in previous.get("runs", []) if (r["before"], r["ranks"], r["config"])
            != (rec["before"], rec["ranks"], rec["config"])] + [rec]
    tmp_out = out.with_suffix(".json.tmp")
    tmp_out.write_text(json.dumps({"runs": runs}, indent=1) + "\n", "utf-8")
    tmp_out.replace(out)
    print(f"{args.config}, {args.iterations} iterations, {args.ranks} rank(s): "
          f"before {before[:10]} vs after {rec['after'][:10]}"
          f"{' (+ uncommitted changes)' if rec['after_dirty'] else ''}: stats.bin "
          f"{'identical' if rec['stats_identical'] else 'DIFFERENT'}, metrics "
          f"{'the same' if rec['metrics_same'] else 'DIFFERENT'}, the earlier model loads and "
          f"re-serializes "
          f"{'to its bytes' if rec['earlier_model_serializes_identically'] else 'DIFFERENTLY'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
