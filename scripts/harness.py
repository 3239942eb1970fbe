"""Shared by the harness scripts (stall, interrupt, kill, lock and soak trials, benchmarks): the
machine note of a measurement, an atomic update of a ``docs/results/*.json`` file whose records
are keyed (records with other keys are kept), the reliability summary, and text fixtures."""
from __future__ import annotations

import datetime
import json
import os
import platform
import random
import sys
from pathlib import Path


def machine_note() -> dict:
    """Date (UTC), load average, cores, Python: what every results file records."""
    return {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "loadavg": [round(x, 2) for x in os.getloadavg()], "cpus": os.cpu_count(),
            "python": sys.version.split()[0], "machine": platform.node()}


def update_records(path: Path, records: list[dict], *, key: tuple[str, ...], meta: dict) -> None:
    """Replace the records of ``path`` whose ``key`` fields match one of ``records``, keep the
    rest, and write it atomically as ``{"records": [...], "runs": [meta, ...]}``."""
    path = Path(path)
    old = json.loads(path.read_text("utf-8")) if path.exists() else {}
    new_keys = {tuple(r[k] for k in key) for r in records}
    kept = [r for r in old.get("records", []) if tuple(r.get(k) for k in key) not in new_keys]
    out = {"records": kept + records, "runs": old.get("runs", [])[-19:] + [meta]}
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(out, indent=1) + "\n", "utf-8")
    os.replace(tmp, path)


RELIABILITY = Path(__file__).resolve().parents[1] / "docs" / "results" / "reliability.json"


def report_reliability(records: list[dict], script: str, argv, *, record: bool) -> int:
    """Print one line per ``{class, case, trials, passed, failed, notes}`` record; with
    ``record``, merge them into ``docs/results/reliability.json`` (keyed by class and case)
    with the command and machine note. Returns the exit status: 0 when no trial failed."""
    for r in records:
        print(f"{r['case']}: {r['passed']}/{r['trials']} ({r['notes']})")
    if record:
        command = f"python scripts/{script} " + " ".join(argv if argv is not None
                                                         else sys.argv[1:])
        update_records(RELIABILITY, records, key=("class", "case"),
                       meta={"command": command.strip(), **machine_note()})
    return 0 if all(r["failed"] == 0 for r in records) else 1


def write_text_folder(folder: Path, n_docs: int, n_words: int, doc_len: int,
                      seed: int = 0) -> Path:
    """``n_docs`` plain-text files of ``doc_len`` words drawn from ``n_words`` random
    lower-case words (4-9 letters, kept by ``prep``'s tokenizer): input for ``prep``/``infer``."""
    folder.mkdir(parents=True)
    rng = random.Random(seed)
    words = ["".join(rng.choices("abcdefghijklmnopqrstuvwxyz", k=rng.randint(4, 9)))
             for _ in range(n_words)]
    width = len(str(n_docs - 1))
    for d in range(n_docs):
        (folder / f"d{d:0{width}d}.txt").write_text(" ".join(rng.choices(words, k=doc_len)))
    return folder
