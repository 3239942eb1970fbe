"""Crash consistency by random kills (issue 26, item 4), in the style of SQLite's crash tests.

For each command, an uninterrupted reference run is timed; then each trial starts the command
afresh, SIGKILLs it (every process of the job, ``mpiexec`` and all ranks, at once: a node that
dies) at a uniformly random moment in [0, 1.1 x the reference time] (``--window``) — start-up,
iterations, checkpoint writes, the model save, shutdown — and checks what is left:

* ``train`` (1 and 2 ranks; ``configs/tiny.toml`` with a checkpoint every 2 iterations):
  ``train --resume RUN`` must either finish with ``model/stats.bin`` and the perplexities of
  ``metrics.jsonl`` bitwise equal to the reference (**resumed bitwise**), or be refused with
  one ``error:`` line and no traceback (**refused clearly**; then, unless the kill came before
  anything was written, ``--overwrite`` must reproduce the reference).
* ``prep`` (a text folder) and ``export`` (a trained run): the output directory must be absent
  or complete and byte-identical to the reference's (**absent** / **complete**), and running
  the command again (``--overwrite``) must give the reference's bytes (not run again when the
  kill left nothing at all behind).

Anything else — a resumed run with other numbers, a traceback, a half-written directory in
place — is **other**, a failure. Each trial appends a line to ``--state`` (default
``docs/results/kill_trials.jsonl``), so an interrupted campaign continues where it stopped;
the summary goes to ``docs/results/reliability.json`` (class ``kill``).

    python scripts/kill_trials.py --trials 200                 # per command: the full campaign
    python scripts/kill_trials.py --trials 3 --commands prep --state /tmp/k.jsonl --no-record
"""
from __future__ import annotations

import argparse
import hashlib
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
sys.path[:0] = [str(REPO), str(REPO / "scripts")]

from lda_sketch.distributed.launch import find_mpiexec  # noqa: E402
from harness import report_reliability, write_text_folder  # noqa: E402

TINY = str(REPO / "configs" / "tiny.toml")
TRAIN_SET = ["--set", "output.checkpoint_every=2", "--set", "sampler.n_iter=20"]
COMMANDS = ["train-1", "train-2", "prep", "export"]
GOOD = ("resumed bitwise", "refused clearly", "absent", "complete")


def _env() -> dict:
    return {**os.environ, "PYTHONUNBUFFERED": "1", "NUMBA_NUM_THREADS": "1",
            "PYTHONPATH": str(REPO)}


def _cli(*args, ranks: int = 1) -> list[str]:
    cmd = [sys.executable, "-m", "lda_sketch", *map(str, args)]
    return [find_mpiexec(), "-n", str(ranks), *cmd] if ranks > 1 else cmd


def _run(cmd) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, env=_env(), timeout=600)


def tree_digest(path: Path) -> str | None:
    """SHA-256 over the relative names and bytes of every file under ``path`` (None: absent).
    Of a corpus's ``manifest.json`` only the content keys count (it also records the build's
    date and timings); a manifest that does not parse counts as its bytes."""
    if not path.exists():
        return None
    h = hashlib.sha256()
    for p in sorted(path.rglob("*")):
        if p.is_file():
            data = p.read_bytes()
            if p.name == "manifest.json":
                try:
                    m = json.loads(data)
                    data = json.dumps({k: m.get(k) for k in ("n_docs", "n_vocab", "n_tokens",
                                                             "files")}, sort_keys=True).encode()
                except ValueError:
                    pass
            h.update(str(p.relative_to(path)).encode() + b"\0" + data)
    return h.hexdigest()


def train_result(run: Path) -> tuple:
    stats = (run / "model" / "stats.bin").read_bytes()
    rows = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines() if x]
    return hashlib.sha256(stats).hexdigest(), [(r["iteration"], r["perplexity"]) for r in rows]


class Command:
    """One command under test: how to run it into ``out``, and how to judge ``out`` after a
    kill against the reference."""

    def __init__(self, name: str, fixture: Path):
        self.name, self.fx = name, fixture
        self.ranks = 2 if name == "train-2" else 1

    def argv(self, out: Path, again: bool = False) -> list[str]:
        if self.name.startswith("train"):
            return _cli("train", "--no-progress", "--config", TINY, *TRAIN_SET, "--out", out,
                        *(["--overwrite"] if again else []), ranks=self.ranks)
        if self.name == "prep":
            return _cli("prep", "text", self.fx / "texts", "--out", out, "--heldout", "0",
                        *(["--overwrite"] if again else []))
        return _cli("export", self.fx / "run", "--out", out, *(["--overwrite"] if again else []))

    def reference(self, out: Path):
        t0 = time.monotonic()
        r = _run(self.argv(out))
        if r.returncode:
            raise RuntimeError(f"reference {self.name} failed: {r.stderr[-2000:]}")
        self.length = time.monotonic() - t0
        self.ref = train_result(out) if self.name.startswith("train") else tree_digest(out)

    def judge(self, out: Path) -> dict:
        if not self.name.startswith("train"):
            digest = tree_digest(out)
            outcome = ("absent" if digest is None else
                       "complete" if digest == self.ref else "other")
            if digest is None and not any(out.parent.iterdir()):
                return {"outcome": outcome}  # nothing left behind: the reference's situation
            again = _run(self.argv(out, again=True))
            if again.returncode or tree_digest(out) != self.ref:
                outcome = "other"
            return {"outcome": outcome, **({} if outcome != "other" else
                                           {"stderr": again.stderr[-1500:]})}
        phase = ("before output" if not out.exists() else
                 "after the model" if (out / "model").is_dir() else
                 f"{len(list((out / 'checkpoints').glob('iter-*')))} checkpoints"
                 if (out / "checkpoints").is_dir() else "set-up written")
        r = _run(_cli("train", "--no-progress", "--config", TINY, *TRAIN_SET, "--resume", out,
                      ranks=self.ranks))
        err = r.stderr
        if r.returncode == 0:
            outcome = "resumed bitwise" if train_result(out) == self.ref else "other"
        else:
            lines = [x for x in err.strip().splitlines() if "error:" in x]
            clear = (r.returncode == 1 and len(lines) == 1 and "Traceback" not in err)
            if phase == "before output":
                fresh = True  # nothing was written: starting again is the reference run itself
            else:
                again = _run(self.argv(out, again=True))
                fresh = again.returncode == 0 and train_result(out) == self.ref
            outcome = "refused clearly" if clear and fresh else "other"
            if clear:
                err = lines[0]
        rec = {"outcome": outcome, "phase": phase}
        if outcome != "resumed bitwise":
            rec["stderr"] = err[-1500:]
        return rec


def fixture(root: Path) -> Path:
    write_text_folder(root / "texts", 3000, 2000, 120)
    r = _run(_cli("train", "--no-progress", "--config", TINY, "--out", root / "run"))
    if r.returncode:
        raise RuntimeError(r.stderr[-2000:])
    return root


def trial(cmd: Command, out: Path, rng: random.Random, window: float = 1.1) -> dict:
    kill_at = rng.uniform(0.0, window * cmd.length)
    proc = subprocess.Popen(cmd.argv(out), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=_env(), start_new_session=True)
    try:
        proc.wait(timeout=kill_at)
        killed = False  # it finished first
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        killed = True
    return {"kill_s": round(kill_at, 3), "killed": killed, **cmd.judge(out)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=200, help="kill points per command")
    ap.add_argument("--commands", nargs="+", default=COMMANDS, choices=COMMANDS)
    ap.add_argument("--seed", type=int, default=0,
                    help="seed of the kill moments; a campaign adds trials of several seeds, and "
                         "the summary counts them all")
    ap.add_argument("--window", type=float, default=1.1,
                    help="kill moments drawn in [0, WINDOW x the reference time] (default 1.1; "
                         "lower it where the reference, timed on a busy machine, was long and "
                         "most trials finish first)")
    ap.add_argument("--state", type=Path, default=REPO / "docs" / "results" / "kill_trials.jsonl",
                    help="one line per trial; trials already there are not run again")
    ap.add_argument("--no-record", action="store_true", help="do not write reliability.json")
    args = ap.parse_args(argv)
    if any(c == "train-2" for c in args.commands) and find_mpiexec() is None:
        print("no mpiexec found (install the 'mpich' extra)", file=sys.stderr)
        return 2
    done = []
    if args.state.exists():
        done = [json.loads(x) for x in args.state.read_text().splitlines() if x.strip()]
    records = []
    with tempfile.TemporaryDirectory(prefix="kills-") as tmp:
        fx = fixture(Path(tmp) / "fixture")
        for name in args.commands:
            mine = [d for d in done if d["command"] == name and d["seed"] == args.seed]
            cmd = Command(name, fx)
            if len(mine) < args.trials:
                cmd.reference(Path(tmp) / f"ref-{name}")
                print(f"{name}: reference {cmd.length:.2f} s", flush=True)
            rng = random.Random(f"{args.seed}-{name}")
            for t in range(args.trials):
                r_kill = rng.random()  # drawn for every trial, so a resumed campaign stays put
                if t < len(mine):
                    continue
                out = Path(tmp) / f"{name}-{t}" / "out"
                out.parent.mkdir()
                rec = {"command": name, "seed": args.seed, "trial": t,
                       **trial(cmd, out, random.Random(r_kill), args.window)}
                shutil.rmtree(out.parent, ignore_errors=True)
                print(json.dumps(rec), flush=True)
                with open(args.state, "a", encoding="utf-8") as f:
                    f.write(json.dumps(rec) + "\n")
                mine.append(rec)
            mine = [d for d in done if d["command"] == name and d["seed"] != args.seed] + \
                mine  # every trial of every seed of the campaign
            counts = {}
            for r in mine:
                counts[r["outcome"]] = counts.get(r["outcome"], 0) + 1
            finished = sum(not r["killed"] for r in mine)
            phases = {}
            for r in mine:
                if "phase" in r:
                    phases[r["phase"]] = phases.get(r["phase"], 0) + 1
            label = {"train-1": "train, 1 process", "train-2": "train, 2 ranks",
                     "prep": "prep text", "export": "export"}[name]
            records.append({
                "class": "kill", "case": f"SIGKILL at random, {label}", "trials": len(mine),
                "passed": sum(r["outcome"] in GOOD for r in mine),
                "failed": sum(r["outcome"] not in GOOD for r in mine),
                "notes": ", ".join(f"{v} {k}" for k, v in sorted(counts.items()))
                         + f"; {len(mine) - finished} kill points, {finished} finished first"
                         + (("; state when killed: " + ", ".join(
                             f"{v} {k}" for k, v in sorted(phases.items()))) if phases else "")})
    return report_reliability(records, "kill_trials.py", argv, record=not args.no_record)


if __name__ == "__main__":
    sys.exit(main())
