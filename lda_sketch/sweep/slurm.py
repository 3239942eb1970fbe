"""Slurm job scripts: one ``sbatch`` script per point of a sweep, plus ``submit_all.sh``
(:func:`emit_jobs`), and the script of one training run that checkpoints when Slurm signals it
before its time limit and resumes when resubmitted (:func:`train_job`)."""
from __future__ import annotations

import re
from pathlib import Path

from .._validation import param_error
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


#: Slurm's ``--signal=[{R|B}:]SIG[@SECONDS]``.
_SIGNAL = re.compile(r"(?:[RB]:)?(?:[A-Z][A-Z0-9]*|\d+)(?:@\d+)?")


def train_job(template, config, out, *, signal: str | None = "USR1@300",
              job_name: str = "lda-sketch") -> str:
    """The text of a Slurm script training ``config`` into run directory ``out`` with the
    template ``template`` (``scripts/cluster/train.sbatch``: it reads ``CONFIG``, ``OUT`` and
    ``RESUME`` and runs ``srun ... lda-sketch train``).

    ``CONFIG`` and ``OUT`` default to these paths (absolute); ``RESUME`` defaults to 1 once
    ``out`` holds checkpoints, so submitting the same script again continues the run.
    ``signal`` adds ``#SBATCH --signal=SIGNAL`` (unless the template has one): Slurm then sends
    SIGUSR1 to the ranks 300 s before the time limit, and ``lda-sketch train`` stops at the next
    iteration boundary, writes a checkpoint and exits with status 130. ``None`` adds nothing.
    """
    if signal is not None and not _SIGNAL.fullmatch(str(signal)):
        raise param_error("signal", "train_job", "Slurm's --signal value "
                          "[{R|B}:]SIG[@SECONDS], e.g. 'USR1@300'", signal)
    lines = [re.sub(r"--job-name=\S+", f"--job-name={job_name}", ln)
             for ln in Path(template).read_text("utf-8").splitlines()]
    if signal is not None and not any(ln.startswith("#SBATCH --signal") for ln in lines):
        last = max((i for i, ln in enumerate(lines) if ln.startswith("#SBATCH")), default=0)
        lines.insert(last + 1, f"#SBATCH --signal={signal}"
                               "              # checkpoint and stop before the time limit")
    at = next((i + 1 for i, ln in enumerate(lines) if ln.startswith("set -")), len(lines))
    lines[at:at] = [
        "",
        "# This job's run (lda_sketch.sweep.slurm.train_job); submitting it again resumes it.",
        f"CONFIG=${{CONFIG:-{_shquote(str(Path(config).resolve()))}}}",
        f"OUT=${{OUT:-{_shquote(str(Path(out).resolve()))}}}",
        '[ -d "$OUT/checkpoints" ] && RESUME=${RESUME:-1}',
        f"cd {_shquote(str(Path.cwd().resolve()))}"]
    return "\n".join(lines) + "\n"


def _shquote(s: str) -> str:
    import shlex
    return shlex.quote(s)
