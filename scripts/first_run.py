"""A new user's first run: wall time of a command with a cold numba cache, then warm.

    python scripts/first_run.py                       # train --config configs/tiny.toml, --help

Each command runs twice in a fresh process: first with ``NUMBA_CACHE_DIR`` set to an empty
temporary directory (every kernel compiles), then with that directory filled (every kernel
loads). For ``train`` it also reads the run's ``compile_s`` (provenance.json) and the
``elapsed`` of its first metrics record, which must not include compilation. Appends records
``{command, cold_s, warm_s, compile_s, ...}`` to docs/results/first_run.json (``--out``).
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LDA = [sys.executable, "-m", "lda_sketch"]


def _timed(cmd, env) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default="configs/tiny.toml")
    ap.add_argument("--out", default=str(ROOT / "docs/results/first_run.json"))
    args = ap.parse_args(argv)
    records = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp / "numba-cache"))
        for name, make in (("train", lambda run: LDA + ["train", "--config", args.config,
                                                        "--out", str(run), "--no-progress"]),
                           ("--help", lambda run: LDA + ["--help"])):
            times, runs = [], []
            for temperature in ("cold", "warm"):
                run = tmp / f"{name.strip('-')}-{temperature}"
                times.append(_timed(make(run), env))
                runs.append(run)
            rec = {"command": " ".join(["lda-sketch", *make(Path("RUN"))[3:]]),
                   "cold_s": round(times[0], 2), "warm_s": round(times[1], 2)}
            if name == "train":
                for temperature, run in zip(("cold", "warm"), runs):
                    prov = json.loads((run / "provenance.json").read_text("utf-8"))
                    first = json.loads((run / "metrics.jsonl").read_text("utf-8").splitlines()[0])
                    rec[f"compile_s_{temperature}"] = prov.get("compile_s")
                    rec[f"first_record_elapsed_s_{temperature}"] = round(first["elapsed"], 3)
                rec["compile_s"] = rec["compile_s_cold"]
            records.append(rec)
            print(json.dumps(rec))
    out = Path(args.out)
    previous = json.loads(out.read_text("utf-8")) if out.is_file() else {"runs": []}
    previous["runs"].append({
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "loadavg": list(os.getloadavg()), "python": sys.version.split()[0],
        "records": records})
    tmp_out = out.with_suffix(".json.tmp")
    tmp_out.write_text(json.dumps(previous, indent=1) + "\n", "utf-8")
    tmp_out.replace(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
