"""``lda-sketch plot RUN_DIR...``: held-out perplexity against iteration and against time;
``lda-sketch plot SWEEP_DIR...``: a sweep's figures (``sweep/figures.py``)."""
from __future__ import annotations

import argparse

from ._command import add_command

EPILOG = """\
A directory holding plan.json is a sweep directory (`lda-sketch sweep --out`); for sweeps the
figures are OUT_perplexity_iter, OUT_perplexity_time (one panel per sketch variant, one colour
per bucket count, one marker per hash count, mean ± sd over finished trials, dense dashed) and
OUT_frontier (bytes of the statistics vs final perplexity), as PNG and PDF.

examples:
  lda-sketch plot runs/tiny runs/tiny-cm --out runs/tiny               # runs/tiny_iter.png, ...
  lda-sketch plot runs/exp1 --out docs/figures/exp1                    # a sweep's figures
  lda-sketch plot runs/appE-base --out docs/figures/appE-base --panel-by rule \\
      --color-by counter_base

Needs matplotlib (pip install 'lda_sketch[plot]').
"""


NAME = "plot"
HELP = """\
draw held-out perplexity against iteration and wall time for runs, or a sweep's figures"""
DESCRIPTION = """\
Read each run's metrics.jsonl and draw held-out perplexity against iteration and against elapsed
seconds, one curve per run, into OUT_iter.png and OUT_time.png; for sweep directories, the
sweep's figures (see below)."""


def register(sub) -> None:
    from ..sweep.figures import COLOR_KEYS, PANEL_KEYS

    p = add_command(sub, NAME, HELP, DESCRIPTION, run,
                    epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("runs", nargs="+", metavar="RUN_DIR|SWEEP_DIR",
                   help="run directories, or sweep directories (holding plan.json)")
    p.add_argument("--out", default=None, metavar="PATH",
                   help="output path prefix (default: ./perplexity for runs, ./SWEEP for a "
                        "sweep directory named SWEEP)")
    p.add_argument("--title", help="figure title (runs)")
    p.add_argument("--panel-by", choices=PANEL_KEYS,
                   help="sweeps: one panel per value of this sketch key (default: per variant; "
                        "'rule' is independent / correlated / conservative)")
    p.add_argument("--color-by", choices=COLOR_KEYS, default="n_buckets",
                   help="sweeps: one colour per value of this key (default n_buckets)")
    p.add_argument("--unfinished", action="store_true",
                   help="sweeps: include trials without a done marker")


def run(args) -> int:
    from pathlib import Path

    from ..sweep.figures import is_sweep_dir, sweep_figures

    sweeps = [is_sweep_dir(d) for d in args.runs]
    if any(sweeps):
        if not all(sweeps):
            raise ValueError("give either run directories or sweep directories (holding "
                             "plan.json), not both: "
                             + ", ".join(d for d, s in zip(args.runs, sweeps) if not s)
                             + " is not a sweep directory")
        out = args.out or Path(args.runs[0]).resolve().name
        files = sweep_figures(args.runs, out, panel_by=args.panel_by, color_by=args.color_by,
                              unfinished=args.unfinished)
        for f in files:
            print(f)
        return 0
    return _plot_runs(args)


def _plot_runs(args) -> int:
    from pathlib import Path

    from ..exceptions import InputFormatError
    from ..run.plots import perplexity_curves
    from ..sweep.summary import read_metrics

    series = []
    for run_dir in args.runs:
        recs = read_metrics(run_dir)
        if not any(r.get("perplexity") for r in recs):
            raise InputFormatError(f"{Path(run_dir) / 'metrics.jsonl'}: no held-out evaluation "
                                   f"recorded; train with a held-out corpus")
        series.append((Path(run_dir), recs))
    names = [p.name for p, _ in series]  # "trial-0" twice says nothing: then parent/name
    series = [(p.name if names.count(p.name) == 1 else "/".join(p.parts[-2:]), recs)
              for p, recs in series]
    base = next((r.get("unigram_perplexity") for _, recs in series for r in recs
                 if r.get("unigram_perplexity")), None)
    out = Path(args.out or "perplexity")
    by_iter = perplexity_curves(series, out.with_name(out.name + "_iter"), title=args.title,
                                baseline=base)[0]
    timed = [(label, [dict(r, iteration=r["elapsed"]) for r in recs if r.get("elapsed")])
             for label, recs in series]
    by_time = perplexity_curves(timed, out.with_name(out.name + "_time"), title=args.title,
                                baseline=base, xlabel="seconds")[0]
    print(f"wrote {by_iter} and {by_time}")
    return 0
