"""Interrupts at every entry point (issue 26, item 3): SIGINT or SIGTERM at a random moment of
each Python API call and each CLI command, then check that it ended cleanly.

* API (``LDASketch.fit``, ``continue_fit``, ``transform``, ``evaluate``, ``perplexity``,
  ``score``, ``save``, ``load``): a child process repeats the call until the signal comes.
  SIGINT must raise ``KeyboardInterrupt`` (nothing else, no ``SystemError``); SIGTERM must end
  the process by the signal's default action, without a traceback.
* CLI (``prep``, ``train``, ``evaluate``, ``infer``, ``export``, ``topics``, ``summary``,
  ``corpus-stats``, ``warmup``): the command is started and signalled. It must exit 130 with at
  most the line ``interrupted`` (or 0 if it finished before the signal), with no traceback.

Both: no temporary file or directory (``*.partial``, ``*.tmp``, ``.*.old-*``, lock files) may be
left where the call writes, and what it wrote must load. Results go to
``docs/results/reliability.json`` (class ``interrupt``; records of other classes are kept).

    python scripts/interrupt_everywhere.py                 # 4 trials per (entry point, signal)
    python scripts/interrupt_everywhere.py --trials 1 --only fit save prep export --no-record
"""
from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "scripts")]

from harness import report_reliability, write_text_folder  # noqa: E402

API = ["fit", "continue_fit", "transform", "evaluate", "perplexity", "score", "save", "load"]
CLI = ["prep", "train", "evaluate-cli", "infer", "export", "topics", "summary", "corpus-stats",
       "warmup"]
LEFTOVER = (".partial", ".tmp", ".old-", ".lda_sketch.lock")

# The child of an API trial: set up, say "ready", repeat the call until a signal arrives.
API_CHILD = r'''
import faulthandler, os, sys
faulthandler.dump_traceback_later(100, exit=True)  # a hang shows where it is
from pathlib import Path
from lda_sketch import LDASketch
from data_prep.synthetic import planted_corpus
work = Path(sys.argv[2])
corpus = planted_corpus(300, 8, 800, 60, seed=1)[0]
X, held = corpus.subset(range(260)), corpus.subset(range(260, 300))
lda = LDASketch(n_topics=8, n_iter=5, evaluate_every=1000, seed=0).fit(X)
lda.save(work / "model")
calls = {
    "fit": lambda: LDASketch(n_topics=8, n_iter=400, evaluate_every=1000, seed=0).fit(X),
    "continue_fit": lambda: lda.continue_fit(400),
    "transform": lambda: lda.transform(held),
    "evaluate": lambda: lda.evaluate(held),
    "perplexity": lambda: lda.perplexity(held),
    "score": lambda: lda.score(held),
    "save": lambda: lda.save(work / "model", overwrite=True),
    "load": lambda: LDASketch.load(work / "model"),
}
call = calls[sys.argv[1]]
call()  # compiled and warm
print("ready", flush=True)
try:
    while True:
        call()
except KeyboardInterrupt:
    LDASketch.load(work / "model")  # what was written still loads
    print("KeyboardInterrupt", flush=True)
'''


def _env() -> dict:
    return {**os.environ, "PYTHONUNBUFFERED": "1", "NUMBA_NUM_THREADS": "1",
            "PYTHONPATH": str(REPO)}


def _default_signals() -> None:
    """In the child before exec: SIGINT as in a terminal. A harness started in the background
    (``nohup ... &``) inherits SIGINT ignored, and so would every child, which then never sees
    the Ctrl-C this harness sends."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def leftovers(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")
                  if any(m in p.name for m in LEFTOVER))


def api_trial(name: str, sig: int, work: Path, rng: random.Random) -> dict:
    work.mkdir(parents=True)
    proc = subprocess.Popen([sys.executable, "-c", API_CHILD, name, str(work)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=_env(), preexec_fn=_default_signals)
    line = proc.stdout.readline().strip()
    if line != "ready":
        proc.kill()
        return {"outcome": "setup failed", "stderr": proc.stderr.read()[-2000:]}
    time.sleep(rng.uniform(0.0, 1.0))
    proc.send_signal(sig)
    try:
        out, err = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        return {"outcome": "hung", "stderr": err[-2000:]}
    if sig == signal.SIGINT:
        ok = "KeyboardInterrupt" in out and proc.returncode == 0 and "Traceback" not in err
    else:
        ok = proc.returncode == -signal.SIGTERM and "Traceback" not in err
    left = leftovers(work)
    rec = {"outcome": "clean" if ok and not left else "other", "returncode": proc.returncode,
           "leftovers": left}
    if rec["outcome"] != "clean":
        rec["stderr"] = err[-2000:]
    return rec


def cli_setup(root: Path) -> dict:
    """A text folder, a corpus, and a trained run for the CLI trials."""
    texts = write_text_folder(root / "texts", 300, 400, 80)
    corpus = root / "corpus"
    subprocess.run([sys.executable, "-m", "lda_sketch", "prep", "text", str(texts), "--out",
                    str(corpus)], check=True, env=_env(), capture_output=True)
    run = root / "run"
    subprocess.run([sys.executable, "-m", "lda_sketch", "train", "--no-progress", "--config",
                    str(REPO / "configs" / "tiny.toml"), "--out", str(run)], check=True,
                   env=_env(), capture_output=True)
    return {"texts": texts, "corpus": corpus, "run": run}


def cli_args(name: str, fx: dict, out: Path) -> list[str]:
    run, texts = str(fx["run"]), str(fx["texts"])
    return {
        "prep": ["prep", "text", texts, "--out", str(out), "--heldout", "30"],
        "train": ["train", "--no-progress", "--config", str(REPO / "configs" / "tiny.toml"),
                  "--set", "sampler.n_iter=400", "--out", str(out)],
        "evaluate-cli": ["evaluate", run],
        "infer": ["infer", run, texts, "--out", str(out)],
        "export": ["export", run, "--out", str(out)],
        "topics": ["topics", run],
        "summary": ["summary", run],
        "corpus-stats": ["corpus-stats", str(fx["corpus"])],
        "warmup": ["warmup", "--config", str(REPO / "configs" / "tiny.toml")],
    }[name]


def cli_trial(name: str, sig: int, fx: dict, work: Path, rng: random.Random) -> dict:
    work.mkdir(parents=True)
    out = work / "out"
    t0 = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "lda_sketch", *cli_args(name, fx, out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env=_env(), preexec_fn=_default_signals)
    time.sleep(rng.uniform(0.2, fx["length"].get(name, 2.0)))
    proc.send_signal(sig)
    try:
        _, err = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
        return {"outcome": "hung", "stderr": err[-2000:]}
    lines = err.strip().splitlines()
    if proc.returncode == 0:
        outcome = "finished first"
    elif proc.returncode == -sig and not err.strip():
        outcome = "clean"  # signalled while the interpreter started, before any work
    elif (proc.returncode == 130 and lines and "interrupted" in lines[-1]
          and not any(m in err for m in ("Traceback", "SystemError", "Exception ignored"))):
        outcome = "clean"  # progress lines before it are fine
    else:
        outcome = "other"
    left = leftovers(work) + leftovers(fx["run"])
    if left:
        outcome = "other"
    rec = {"outcome": outcome, "returncode": proc.returncode, "leftovers": left,
           "after_s": round(time.monotonic() - t0, 2)}
    if outcome == "other":
        rec["stderr"] = err[-2000:]
    return rec


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=4, help="trials per (entry point, signal)")
    ap.add_argument("--only", nargs="+", help="entry points to try (default: all)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-record", action="store_true", help="print only")
    args = ap.parse_args(argv)
    rng = random.Random(args.seed)
    names = args.only or API + CLI
    records = []
    with tempfile.TemporaryDirectory(prefix="interrupts-") as tmp:
        tmp = Path(tmp)
        fx = None
        for name in names:
            for sig in (signal.SIGINT, signal.SIGTERM):
                trials = []
                for t in range(args.trials):
                    work = tmp / f"{name}-{sig.name}-{t}"
                    if name in API:
                        r = api_trial(name, sig, work, rng)
                    else:
                        if fx is None:
                            fx = cli_setup(tmp / "fixture")
                            fx["length"] = {"train": 4.0, "prep": 2.0, "infer": 2.5,
                                            "warmup": 2.0}
                        r = cli_trial(name, sig, fx, work, rng)
                    print(json.dumps({"entry": name, "signal": sig.name, **r}), flush=True)
                    trials.append(r)
                kind = "API" if name in API else "CLI"
                label = ("LDASketch." + name) if kind == "API" else \
                    "lda-sketch " + name.replace("-cli", "")
                counts = {o: sum(r["outcome"] == o for r in trials)
                          for o in ("clean", "finished first", "other", "hung", "setup failed")}
                records.append({
                    "class": "interrupt", "case": f"{label}, {sig.name}", "trials": len(trials),
                    "passed": counts["clean"] + counts["finished first"],
                    "failed": len(trials) - counts["clean"] - counts["finished first"],
                    "notes": ", ".join(f"{v} {k}" for k, v in counts.items() if v),
                    "details": trials})
    return report_reliability(records, "interrupt_everywhere.py", argv,
                              record=not args.no_record)


if __name__ == "__main__":
    sys.exit(main())
