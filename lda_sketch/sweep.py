"""Sweeps: a base config, a grid and/or a list of points, and trials (seeds); runs and summaries.

A sweep file (TOML)::

    base = "../wiki-reuters.toml"        # relative to the sweep file
    trials = 3                           # sampler.seed = base seed + trial
    description = "what this reproduces"

    [set]                                # dotted overrides applied to every point
    "sampler.n_iter" = 60

    [grid]                               # cartesian product of the axes below
    "sketch.n_buckets" = [8192, 16384]   # a dotted key -> a list of values
    rule = [                             # a bare name -> a list of override bundles
      { name = "independent", "sketch.increment" = "independent" },
      { name = "conservative", "sketch.increment" = "correlated", "sketch.conservative" = true },
    ]

    [[points]]                           # explicit points, added to the grid's
    name = "dense"
    "sketch.backend" = "dense"

Each point x trial runs in its own directory ``SWEEP_DIR/<point>/trial-<t>`` (an ordinary
:func:`~lda_sketch.train.train_run` directory, so ``lda-sketch train --config
RUN/resolved_config.toml`` reruns it alone). A ``done`` marker is written atomically after the
model is saved; an interrupted sweep skips finished runs and resumes unfinished ones from their
newest checkpoint. ``SWEEP_DIR/plan.json`` lists every run; :func:`summarize` turns the run
directories into ``summary.csv`` / ``summary.md`` (mean and sample sd over finished trials).
"""
from __future__ import annotations

import csv
import fnmatch
import io
import itertools
import json
import logging
import math
import os
import re
import shutil
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from . import config as config_mod
from .config import Config
from .exceptions import InputFormatError
from .io.atomic import atomic_directory, write_text_atomic

log = logging.getLogger(__name__)

SWEEP_KEYS = ("base", "trials", "description", "set", "grid", "points")
DONE = "done"
# Short names used to build point names from grid values (anything else: the key's last part).
_SHORT = {"sketch.backend": "", "sketch.n_hashes": "d", "sketch.n_buckets": "b",
          "sketch.counter_base": "base", "sketch.increment": "", "sketch.conservative": "cu",
          "model.n_topics": "K", "sketch.counter_bits": "bits"}


@dataclass(frozen=True)
class SweepRun:
    """One point x trial: its name, overrides, the resolved config and its run directory."""

    point: str
    trial: int
    overrides: dict            # dotted key -> value, the point's own (not [set] or --set)
    config: Config
    run_dir: Path

    @property
    def label(self) -> str:
        return f"{self.point}/trial-{self.trial}"


@dataclass
class Sweep:
    """A parsed sweep file. ``runs(out_dir)`` expands it; ``points`` keeps the file's order."""

    source: Path
    base: Path
    trials: int
    description: str
    common: dict                 # [set] plus --set, dotted key -> value
    points: list = field(default_factory=list)   # [(name, {dotted: value}), ...]
    cli_overrides: tuple = ()

    def runs(self, out_dir) -> list[SweepRun]:
        """Every point x trial, points in file order (grid first, then [[points]])."""
        out = Path(out_dir)
        base_cfg = config_mod.load(self.base)
        here = self.source.resolve().parent
        common_cfg = _apply(base_cfg, self.common, f"{self.source} [set]", here)
        if self.cli_overrides:
            common_cfg = config_mod.apply_overrides(common_cfg, self.cli_overrides)
        seed0 = common_cfg.sampler.seed
        runs = []
        for name, ov in self.points:
            cfg = _apply(common_cfg, ov, f"{self.source} point {name!r}", here)
            for t in range(self.trials):
                tcfg = cfg.replace(sampler=_replace(cfg.sampler, seed=seed0 + t))
                runs.append(SweepRun(name, t, dict(ov), tcfg, out / name / f"trial-{t}"))
        return runs


# --------------------------------------------------------------------------- parsing
def load_sweep(path, cli_overrides=()) -> Sweep:
    """Parse and validate a sweep file (every point's config is validated by :meth:`runs`).

    ``cli_overrides`` (``["section.key=value", ...]``) apply to every point; overriding a key
    that the grid or a point sets is an error (pick points with ``--only`` instead).
    """
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise InputFormatError(f"{path}: sweep file not found") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputFormatError(f"{path}: not valid TOML ({exc})") from None
    for key in data:
        if key not in SWEEP_KEYS:
            raise InputFormatError(f"{path}: unknown top-level key {key!r}; a sweep file has "
                                   + ", ".join(SWEEP_KEYS))
    if "base" not in data or not isinstance(data["base"], str):
        raise InputFormatError(f"{path}: 'base' must name the base config, relative to the "
                               f"sweep file (e.g. base = \"../wiki-reuters.toml\")")
    base = (path.resolve().parent / data["base"]).resolve()
    if not base.is_file():
        raise InputFormatError(f"{path}: base config {data['base']!r} not found (looked for "
                               f"{base})")
    trials = data.get("trials", 1)
    if isinstance(trials, bool) or not isinstance(trials, int) or trials < 1:
        raise InputFormatError(f"{path}: 'trials' must be an int >= 1, got {trials!r}")
    common = _dotted_table(data.get("set", {}), f"{path} [set]")
    points = _grid_points(data.get("grid", {}), path) + _listed_points(data.get("points", []), path)
    if not points:
        raise InputFormatError(f"{path}: no points; add a [grid] table or [[points]] entries")
    names = [n for n, _ in points]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise InputFormatError(f"{path}: duplicate point names {dup}; give the points "
                               f"distinct 'name's")
    cli = tuple(cli_overrides)
    varied = {k for _, ov in points for k in ov}
    for item in cli:
        key = item.split("=", 1)[0].strip()
        if key in varied:
            raise InputFormatError(f"--set {item}: {key} is varied by the sweep's points; use "
                                   f"--only NAME_GLOB to pick points instead")
    return Sweep(path, base, trials, str(data.get("description", "")), common, points, cli)


def _dotted_table(table, where: str) -> dict:
    if not isinstance(table, dict):
        raise InputFormatError(f"{where}: expected a table of \"section.key\" = value")
    out = {}
    for k, v in table.items():
        if k == "name":
            continue
        if k.count(".") != 1 or tuple(k.split(".")) not in config_mod.FIELDS:
            raise InputFormatError(f"{where}: {k!r} is not a config key (section.key, e.g. "
                                   f"\"sketch.n_buckets\"; see `lda-sketch train --help`)")
        out[k] = v
    return out


def _grid_points(grid, path: Path) -> list:
    if not isinstance(grid, dict):
        raise InputFormatError(f"{path}: [grid] must be a table of axes")
    axes = []
    for key, values in grid.items():
        where = f"{path} [grid].{key}"
        if not isinstance(values, list) or not values:
            raise InputFormatError(f"{where}: expected a non-empty list of values")
        if "." in key:       # a config key and its values
            _dotted_table({key: values[0]}, f"{path} [grid]")
            axes.append([(_value_name(key, v), {key: v}) for v in values])
        else:                # a named axis of override bundles
            opts = []
            for i, b in enumerate(values):
                if not isinstance(b, dict) or not isinstance(b.get("name"), str):
                    raise InputFormatError(f"{where}[{i}]: expected an inline table with a "
                                           f"'name' and dotted overrides")
                opts.append((b["name"], _dotted_table(b, f"{where}[{i}]")))
            axes.append(opts)
    points = []
    for combo in itertools.product(*axes) if axes else []:
        ov = {}
        for _, o in combo:
            ov.update(o)
        points.append((_safe_name("_".join(n for n, _ in combo if n)), ov))
    return points


def _listed_points(items, path: Path) -> list:
    if not isinstance(items, list):
        raise InputFormatError(f"{path}: [[points]] must be an array of tables")
    out = []
    for i, item in enumerate(items):
        where = f"{path} [[points]][{i}]"
        if not isinstance(item, dict):
            raise InputFormatError(f"{where}: expected a table")
        ov = _dotted_table(item, where)
        name = item.get("name") or "_".join(_value_name(k, v) for k, v in ov.items()) or "base"
        out.append((_safe_name(str(name)), ov))
    return out


def _value_name(key: str, v) -> str:
    short = _SHORT.get(key, key.split(".")[1])
    if isinstance(v, bool):
        return short if v else f"no{short}"
    if key == "sketch.n_buckets" and isinstance(v, int) and v > 0 and not v & (v - 1):
        return f"b{v.bit_length() - 1}"
    return f"{short}{v}"


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._=+-]+", "-", name).strip("-") or "point"


def _apply(cfg: Config, overrides: dict, where: str, base_dir: Path) -> Config:
    if not overrides:
        return cfg
    data = cfg.to_dict()
    for k, v in overrides.items():
        s, key = k.split(".")
        data[s][key] = v
    # Relative data paths in a sweep file are relative to that file (the base config's own
    # paths are already absolute in ``cfg``).
    return config_mod.from_dict(data, source=where, base_dir=base_dir)


def _replace(section, **kw):
    import dataclasses
    return dataclasses.replace(section, **kw)


def select(runs: list[SweepRun], only: list[str] | None) -> list[SweepRun]:
    """Runs whose point name or ``point/trial-t`` label matches any glob in ``only``."""
    if not only:
        return runs
    return [r for r in runs
            if any(fnmatch.fnmatchcase(r.point, g) or fnmatch.fnmatchcase(r.label, g)
                   for g in only)]


# --------------------------------------------------------------------------- status / running
def run_status(run: SweepRun) -> str:
    """``done``, ``partial`` (has a checkpoint), ``started`` (no checkpoint yet) or ``new``.

    A finished run whose config differs (beyond keys a resume may change) raises, so a changed
    sweep never silently reuses old results.
    """
    from .io.checkpoint import latest_checkpoint

    d = run.run_dir
    if not (d / "resolved_config.toml").is_file():
        return "new"
    if (d / DONE).is_file():
        saved = config_mod.load(d / "resolved_config.toml")
        diffs = _config_diffs(saved, run.config)
        if not diffs:
            return DONE
        from .train import RESUMABLE_KEYS
        if any(k not in RESUMABLE_KEYS for k in diffs):
            raise InputFormatError(
                f"{d}: finished with a different config ("
                + ", ".join(f"{s}.{k}" for s, k in diffs)
                + "); use another --out, or delete that run directory to redo it")
    return "partial" if latest_checkpoint(d) is not None else "started"


def _config_diffs(a: Config, b: Config) -> list:
    da, db = a.to_dict(), b.to_dict()
    return [(s, k) for s in da for k in sorted(set(da[s]) | set(db[s]))
            if da[s].get(k) != db[s].get(k)]


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
    from .distributed.comm import SerialComm
    from .train import train_run

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


# --------------------------------------------------------------------------- cluster jobs
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
    written = []
    for point in dict.fromkeys(r.point for r in runs):
        body = [re.sub(r"--job-name=\S+", f"--job-name=lda-{point}", ln) for ln in keep]
        # Run from where the sweep was emitted (relative paths, the template's $PWD/.venv).
        at = next((i + 1 for i, ln in enumerate(body) if ln.startswith("set -")),
                  next((i for i, ln in enumerate(body) if not ln.startswith("#")), len(body)))
        body.insert(at, f"cd {_shquote(str(Path.cwd().resolve()))}")
        body.append(f"srun --mpi=pmix lda-sketch sweep {_shquote(str(sweep.source.resolve()))} "
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


# --------------------------------------------------------------------------- summary
SUMMARY_COLUMNS = ("point", "backend", "n_hashes", "n_buckets", "counter_base", "increment",
                   "conservative", "trials_done", "trials", "iterations",
                   "final_perplexity_mean", "final_perplexity_sd",
                   "best_perplexity_mean", "best_perplexity_sd",
                   "unigram_perplexity", "s_per_iter_mean", "s_per_iter_sd",
                   "stats_nbytes_mean", "stats_nbytes_sd",
                   "bytes_merged_per_iter_mean", "bytes_merged_per_iter_sd")


def read_metrics(run_dir) -> list[dict]:
    """The records of ``RUN_DIR/metrics.jsonl`` (empty when absent)."""
    p = Path(run_dir) / "metrics.jsonl"
    if not p.is_file():
        return []
    out = []
    for i, line in enumerate(p.read_text("utf-8").splitlines(), 1):
        if line.strip():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise InputFormatError(f"{p}:{i}: not a JSON line ({exc.msg})") from None
    return out


def run_figures(records: list[dict]) -> dict:
    """Per-run numbers from its metrics: final and best perplexity, seconds per iteration
    (sampling + build + merge, iteration-weighted over records), statistics bytes and bytes
    merged per iteration."""
    prev, n_it, t, merged = 0, 0, 0.0, 0.0
    for r in records:
        k = r["iteration"] - prev
        prev = r["iteration"]
        n_it += k
        t += k * sum(float(r.get(x) or 0.0) for x in ("t_sample", "t_build", "t_merge"))
        merged += k * float(r.get("bytes_merged") or 0.0)
    ppl = [r["perplexity"] for r in records if r.get("perplexity") is not None]
    last = records[-1] if records else {}
    return {"iterations": prev, "final_perplexity": ppl[-1] if ppl else None,
            "best_perplexity": min(ppl) if ppl else None,
            "unigram_perplexity": last.get("unigram_perplexity"),
            "s_per_iter": t / n_it if n_it else None,
            "stats_nbytes": last.get("stats_nbytes"),
            "bytes_merged_per_iter": merged / n_it if n_it else None}


def _mean_sd(xs):
    xs = [float(x) for x in xs if x is not None]
    if not xs:
        return None, None
    m = sum(xs) / len(xs)
    if len(xs) < 2:
        return m, None
    return m, math.sqrt(sum((x - m) ** 2 for x in xs) / (len(xs) - 1))


def _run_dirs_by_point(sweep_dir) -> dict[str, list[Path]]:
    """``{point: [run dir of each trial]}`` in plan order, from ``sweep_dir/plan.json``."""
    d = Path(sweep_dir)
    plan_path = d / "plan.json"
    if not plan_path.is_file():
        raise InputFormatError(f"{d}: no plan.json; not a sweep directory (run `lda-sketch "
                               f"sweep FILE --out {d}` first)")
    plan = json.loads(plan_path.read_text("utf-8"))
    by_point: dict[str, list] = {}
    for r in plan["runs"]:
        by_point.setdefault(r["point"], []).append(d / r["run_dir"])
    return by_point


def load_results(sweep_dir, *, unfinished: bool = False) -> list[dict]:
    """Per point (plan order): ``{"point", "config", "records": [trial records, ...]}``.

    ``config`` is the first trial's resolved :class:`~lda_sketch.config.Config` (None when no
    trial started); ``records`` holds the ``metrics.jsonl`` records of each finished trial (of
    every trial with records when ``unfinished``).
    """
    d = Path(sweep_dir)
    by_point = _run_dirs_by_point(d)
    out = []
    for point, dirs in by_point.items():
        cfg_path = next((p / "resolved_config.toml" for p in dirs
                         if (p / "resolved_config.toml").is_file()), None)
        recs = [read_metrics(p) for p in dirs if (p / DONE).is_file() or unfinished]
        out.append({"point": point, "config": config_mod.load(cfg_path) if cfg_path else None,
                    "records": [r for r in recs if r], "trials": len(dirs)})
    return out


def summarize(sweep_dir) -> list[dict]:
    """Write ``summary.csv`` and ``summary.md`` into ``sweep_dir``; return the rows.

    One row per point (plan order): mean and sample sd over FINISHED trials (those with a
    ``done`` marker); ``trials_done`` says how many that is.
    """
    d = Path(sweep_dir)
    by_point = _run_dirs_by_point(d)
    rows = []
    for point, dirs in by_point.items():
        done = [p for p in dirs if (p / DONE).is_file()]
        figs = [run_figures(read_metrics(p)) for p in done]
        row = {"point": point, "trials_done": len(done), "trials": len(dirs)}
        cfg_path = next((p / "resolved_config.toml" for p in dirs
                         if (p / "resolved_config.toml").is_file()), None)
        if cfg_path is not None:
            sk = config_mod.load(cfg_path).sketch
            row.update(backend=sk.backend, n_hashes=sk.n_hashes, n_buckets=sk.n_buckets,
                       counter_base=sk.counter_base, increment=sk.increment,
                       conservative=sk.conservative)
            if sk.backend == "dense":
                row.update(n_hashes=None, n_buckets=None, counter_base=None, increment=None,
                           conservative=None)
            elif sk.backend == "countmin":
                row.update(counter_base=None, increment=None)
        row["iterations"] = max((f["iterations"] for f in figs), default=None)
        row["unigram_perplexity"] = figs[0]["unigram_perplexity"] if figs else None
        for key, col in (("final_perplexity", "final_perplexity"),
                         ("best_perplexity", "best_perplexity"), ("s_per_iter", "s_per_iter"),
                         ("stats_nbytes", "stats_nbytes"),
                         ("bytes_merged_per_iter", "bytes_merged_per_iter")):
            row[f"{col}_mean"], row[f"{col}_sd"] = _mean_sd(f[key] for f in figs)
        rows.append({c: row.get(c) for c in SUMMARY_COLUMNS})
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=SUMMARY_COLUMNS, lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: ("" if v is None else v) for k, v in r.items()})
    write_text_atomic(d / "summary.csv", buf.getvalue())
    plan = json.loads((d / "plan.json").read_text("utf-8"))
    write_text_atomic(d / "summary.md", summary_markdown(rows, title=plan.get("description")))
    return rows


def _pm(m, s, fmt="{:,.1f}") -> str:
    if m is None:
        return "—"
    return fmt.format(m) + ("" if s is None else " ± " + fmt.format(s))


def summary_markdown(rows: list[dict], title: str | None = None) -> str:
    """A Markdown table of summary rows (perplexity, s/iteration, MB of statistics, MB merged)."""
    head = ("| point | final perplexity | best perplexity | s / iteration | statistics (MB) "
            "| merged / iteration (MB) | trials |\n|---|---:|---:|---:|---:|---:|---:|\n")
    lines = []
    for r in rows:
        mb = (lambda k: (None if r[f"{k}_mean"] is None else r[f"{k}_mean"] / 1e6,
                         None if r[f"{k}_sd"] is None else r[f"{k}_sd"] / 1e6))
        lines.append(
            f"| {r['point']} | {_pm(r['final_perplexity_mean'], r['final_perplexity_sd'])} "
            f"| {_pm(r['best_perplexity_mean'], r['best_perplexity_sd'])} "
            f"| {_pm(r['s_per_iter_mean'], r['s_per_iter_sd'], '{:.3f}')} "
            f"| {_pm(mb('stats_nbytes')[0], None, '{:.2f}')} "
            f"| {_pm(*mb('bytes_merged_per_iter'), fmt='{:.2f}')} "
            f"| {r['trials_done']}/{r['trials']} |")
    top = f"# {title}\n\n" if title else ""
    uni = next((r["unigram_perplexity"] for r in rows if r["unigram_perplexity"]), None)
    foot = (f"\nMean ± sample sd over finished trials. Unigram baseline perplexity: "
            f"{uni:,.1f}.\n" if uni else "\nMean ± sample sd over finished trials.\n")
    return top + head + "\n".join(lines) + "\n" + foot
