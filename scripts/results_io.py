"""Shared by the harness scripts: the machine note of a measurement and an atomic update of a
``docs/results/*.json`` file whose records are keyed (records with other keys are kept)."""
from __future__ import annotations

import datetime
import json
import os
import platform
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
