"""Figures of one or more sweep directories (PNG + PDF) into docs/figures/: a thin wrapper of
``lda-sketch plot SWEEP_DIR --out docs/figures/NAME`` (lda_sketch/sweep/figures.py), kept for
old commands.

    python scripts/plot_sweep.py runs/exp1 --name exp1
    # the same as: lda-sketch plot runs/exp1 --out docs/figures/exp1
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from lda_sketch.sweep.figures import COLOR_KEYS, PANEL_KEYS, sweep_figures


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("sweep_dirs", nargs="+", type=Path, metavar="SWEEP_DIR")
    ap.add_argument("--name", required=True, help="figure file prefix, e.g. exp1")
    ap.add_argument("--out", type=Path, default=Path("docs/figures"), help="figure folder")
    ap.add_argument("--panel-by", choices=PANEL_KEYS)
    ap.add_argument("--color-by", choices=COLOR_KEYS, default="n_buckets")
    ap.add_argument("--unfinished", action="store_true")
    args = ap.parse_args(argv)
    for f in sweep_figures(args.sweep_dirs, args.out / args.name, panel_by=args.panel_by,
                           color_by=args.color_by, unfinished=args.unfinished):
        print(f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
