"""Running a sweep's runs: status (done/partial/started/new), plan.json, training, reuse.

A ``done`` marker is written atomically after a run's model is saved; an interrupted sweep skips
finished runs and resumes unfinished ones from their newest checkpoint. ``SWEEP_DIR/plan.json``
lists every run (:mod:`~lda_sketch.sweep.summary` reads it).
"""
from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path

from .. import config as config_mod
from ..config import Config
from ..exceptions import InputFormatError
from ..io.atomic import atomic_directory, write_text_atomic
from .spec import Sweep, SweepRun

log = logging.getLogger("lda_sketch.sweep")

DONE = "done"


def run_status(run: SweepRun) -> str:
    """``done``, ``partial`` (has a checkpoint), ``started`` (no checkpoint yet) or ``new``.

    A finished run whose config differs (beyond keys a resume may change) raises, so a changed
    sweep never silently reuses old results.
    """
    from ..io.checkpoint import latest_checkpoint

    d = run.run_dir
    if not (d / "resolved_config.toml").is_file():
        return "new"
    if (d / DONE).is_file():
        saved = config_mod.load(d / "resolved_config.toml")
        diffs = _config_diffs(saved, run.config)
        if not diffs:
            return DONE
        from ..run.train import RESUMABLE_KEYS
        if any(k not in RESUMABLE_KEYS for k in diffs):
            raise InputFormatError(
                f"{d}: finished with a different config ("
                + ", ".join(f"{s}.{k}" for s, k in diffs)
                + "); use another --out, or delete that run directory to redo it")
    return "partial" if latest_checkpoint(d) is not None else "started"


def _config_diffs(a: Config, b: Config) -> list:
    """Keys where the saved config ``a`` and the new ``b`` differ; a [sketch] layout key unset
    in ``b`` was filled in by the run (budget or plain default), so it is not a difference."""
    from ..stats.budget import filled_keys

    da, db = a.to_dict(), b.to_dict()
    filled = filled_keys(db["sketch"])
    return [(s, k) for s in da for k in sorted(set(da[s]) | set(db[s]))
            if da[s].get(k) != db[s].get(k) and (s, k) not in filled]


def write_plan(sweep: Sweep, runs: list[SweepRun], out_dir) -> None:
    """``SWEEP_DIR/plan.json``: the sweep file, and every run's point, trial, overrides, dir."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    plan = {"sweep": str(sweep.source.resolve()), "base": str(sweep.base),
            "description": sweep.description, "trials": sweep.trials,
            "cli_overrides": list(sweep.cli_overrides),
            "points": [{"name": n, "overrides": ov} for n, ov in sweep.points],
            "runs": [{"point": r.point, "trial": r.trial, "seed": r.config.sampler.seed,
                      "run_dir": str(r.run_dir.relative_to(out))} for r in runs]}
    write_text_atomic(out / "plan.json", json.dumps(plan, indent=2))


def run_one(run: SweepRun, *, comm=None, progress=None) -> str:
    """Train (or resume, or skip) one run; returns its status before running.

    Collective over ``comm``: rank 0 decides the status and broadcasts it, so every rank takes
    the same branch. The ``done`` marker is written after the model is saved.
    """
    from ..distributed.comm import SerialComm
    from ..run.train import train_run

    comm = comm or SerialComm()
    status = comm.bcast(run_status(run) if comm.rank == 0 else None)
    if status == DONE:
        return status
    if status != "partial":
        log.info("%s: starting (%s)", run.label, _describe(run.overrides) or "base config")
    else:
        log.info("%s: resuming from its newest checkpoint", run.label)
    if comm.rank == 0:
        (run.run_dir / DONE).unlink(missing_ok=True)  # an extension of a finished run
    train_run(run.config, run.run_dir, resume=status == "partial", comm=comm,
              overwrite=status == "started", progress=progress)
    if comm.rank == 0:
        write_text_atomic(run.run_dir / DONE, "")
    comm.barrier()
    return status


def finished_runs(sweep_dirs) -> list[tuple[Path, Config]]:
    """Every finished run under ``sweep_dirs``, with its resolved config (each loaded once)."""
    return [(cfg.parent, config_mod.load(cfg))
            for sd in sweep_dirs
            for cfg in sorted(Path(sd).glob("*/trial-*/resolved_config.toml"))
            if (cfg.parent / DONE).is_file()]


def find_reusable(run: SweepRun, candidates) -> Path | None:
    """The first of ``candidates`` (from :func:`finished_runs`) whose config equals ``run.config``.

    Equality is over every key (seed included), so the reused run is the very run this one
    would be: training is bitwise reproducible for a given config (DESIGN.md §5).
    """
    for src, cfg in candidates:
        if src.resolve() != run.run_dir.resolve() and not _config_diffs(cfg, run.config):
            return src
    return None


def _link_or_copy(src, dst):
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def reuse_run(run: SweepRun, source: Path) -> None:
    """Fill ``run.run_dir`` (absent or empty) with the finished run ``source``.

    Files are hard-linked where the filesystem allows (finished runs are never written again),
    else copied, into an :func:`atomic_directory`, so an interrupted reuse leaves no half-filled
    run. ``reused_from`` records the source.
    """
    dest = run.run_dir
    if dest.exists() and any(dest.iterdir()):
        raise InputFormatError(f"{dest}: not empty; cannot reuse {source} into it")
    with atomic_directory(dest, overwrite=True) as tmp:
        shutil.copytree(source, tmp, copy_function=_link_or_copy, dirs_exist_ok=True)
        (tmp / "reused_from").write_text(str(source.resolve()) + "\n", encoding="utf-8")


def reuse_finished(runs: list[SweepRun], sweep_dirs) -> list[tuple[SweepRun, Path]]:
    """Reuse, for every ``new`` run, an identical finished run from ``sweep_dirs``."""
    candidates = finished_runs(sweep_dirs)
    reused = []
    for r in runs:
        if run_status(r) == "new":
            src = find_reusable(r, candidates)
            if src is not None:
                reuse_run(r, src)
                log.info("%s: reused %s (identical config)", r.label, src)
                reused.append((r, src))
    return reused


def _describe(ov: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in ov.items())
