"""``lda-sketch sweep-summary``: summary.csv / summary.md of a sweep directory."""
from __future__ import annotations

from ._command import add_command


NAME = "sweep-summary"
HELP = """\
summarize a sweep directory into summary.csv and summary.md"""
DESCRIPTION = """\
Per point: mean ± sample sd over finished trials of final and best held-out perplexity, seconds
per iteration (sampling + build + merge), bytes of the statistics and bytes merged per
iteration, and the number of finished trials. Writes SWEEP_DIR/summary.csv and
SWEEP_DIR/summary.md."""


def register(sub) -> None:
    p = add_command(sub, NAME, HELP, DESCRIPTION, run)
    p.add_argument("sweep_dir", metavar="SWEEP_DIR")
    p.add_argument("--quiet", action="store_true", help="do not print the Markdown table")


def run(args) -> int:
    from pathlib import Path

    from ..sweep.summary import summarize

    summarize(args.sweep_dir)
    d = Path(args.sweep_dir)
    if not args.quiet:
        print((d / "summary.md").read_text("utf-8"), end="")
    print(f"wrote {d / 'summary.csv'} and {d / 'summary.md'}")
    return 0
