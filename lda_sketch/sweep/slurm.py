"""Slurm job scripts for a sweep: one ``sbatch`` script per point, plus ``submit_all.sh``."""
from __future__ import annotations

import re
from pathlib import Path

from ..io.atomic import write_text_atomic
from .spec import Sweep, SweepRun


def emit_jobs(sweep: Sweep, runs: list[SweepRun], out_dir, template) -> list[Path]:
    """One Slurm script per point into ``SWEEP_DIR/jobs/`` (plus ``submit_all.sh``).

    Each job runs ``lda-sketch sweep FILE --out SWEEP_DIR --only POINT`` under ``srun``, so it
    gets the same skip/resume logic (resubmitting an interrupted job continues it). The
    ``#SBATCH`` header and environment set-up come from ``template``.
    """
    out = Path(out_dir).resolve()
    jobs = out / "jobs"
    jobs.mkdir(parents=True, exist_ok=True)
    lines = Path(template).read_text("utf-8").splitlines()
    # Drop the template's own train command and its CONFIG/OUT/RESUME plumbing.
    keep = [ln for ln in lines if not re.search(r"\bCONFIG\b|\bOUT\b|RESUME|extra|^srun", ln)]
    extra = " ".join(f"--set {_shquote(s)}" for s in sweep.cli_overrides)
    # The launcher is the template's own (its srun options, e.g. a PMI plugin), never a fixed one.
    launch = next((ln.split("lda-sketch")[0].strip() for ln in lines
                   if ln.startswith("srun") and "lda-sketch" in ln), "srun")
    written = []
    for point in dict.fromkeys(r.point for r in runs):
        body = [re.sub(r"--job-name=\S+", f"--job-name=lda-{point}", ln) for ln in keep]
        # Run from where the sweep was emitted (relative paths, the template's $PWD/.venv).
        at = next((i + 1 for i, ln in enumerate(body) if ln.startswith("set -")),
                  next((i for i, ln in enumerate(body) if not ln.startswith("#")), len(body)))
        body.insert(at, f"cd {_shquote(str(Path.cwd().resolve()))}")
        body.append(f"{launch} lda-sketch sweep {_shquote(str(sweep.source.resolve()))} "
                    f"--out {_shquote(str(out))} --only {_shquote(point)} {extra}".rstrip())
        path = jobs / f"{point}.sbatch"
        write_text_atomic(path, "\n".join(body) + "\n")
        written.append(path)
    submit = ["#!/bin/bash", "# Submit every point of this sweep as its own Slurm job.",
              "set -euo pipefail"] + [f"sbatch {_shquote(str(p))}" for p in written]
    write_text_atomic(jobs / "submit_all.sh", "\n".join(submit) + "\n")
    return written


def _shquote(s: str) -> str:
    import shlex
    return shlex.quote(s)
