"""Sweeps: a base config, a grid and/or a list of points, and trials (seeds); runs and summaries.

:mod:`~lda_sketch.sweep.spec` parses sweep files (the format is described there),
:mod:`~lda_sketch.sweep.runner` runs, resumes and reuses runs (``lda-sketch sweep``),
:mod:`~lda_sketch.sweep.slurm` writes one Slurm job per point (``--emit slurm``),
:mod:`~lda_sketch.sweep.summary` writes ``summary.csv`` / ``summary.md``
(``lda-sketch sweep-summary``), and :mod:`~lda_sketch.sweep.figures` draws the curves and the
perplexity-memory frontier (``lda-sketch plot SWEEP_DIR``).
"""
from __future__ import annotations

from .runner import (DONE, find_reusable, finished_runs, reuse_finished, reuse_run, run_one,
                     run_status, write_plan)
from .slurm import emit_jobs
from .spec import Sweep, SweepRun, load_sweep, select
from .summary import (SUMMARY_COLUMNS, load_results, read_metrics, run_figures, summarize,
                      summary_markdown)

__all__ = ["DONE", "SUMMARY_COLUMNS", "Sweep", "SweepRun", "emit_jobs", "find_reusable",
           "finished_runs", "load_results", "load_sweep", "read_metrics", "reuse_finished",
           "reuse_run", "run_figures", "run_one", "run_status", "select", "summarize",
           "summary_markdown", "write_plan"]
