"""``lda-sketch plot RUN_DIR...``: held-out perplexity against iteration and against time."""
from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser(
        "plot", help="draw held-out perplexity against iteration and wall time for runs",
        description="Read each run's metrics.jsonl and draw held-out perplexity against "
                    "iteration and against elapsed seconds, one curve per run, into "
                    "OUT_iter.png and OUT_time.png.")
    p.add_argument("runs", nargs="+", metavar="RUN_DIR", help="run directories")
    p.add_argument("--out", default="perplexity", metavar="PATH",
                   help="output path prefix (default: ./perplexity)")
    p.add_argument("--title", help="figure title")
    p.set_defaults(func=run)


def run(args) -> int:
    from pathlib import Path

    from ..exceptions import InputFormatError
    from ..plots import perplexity_curves
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
    out = Path(args.out)
    by_iter = perplexity_curves(series, out.with_name(out.name + "_iter"), title=args.title,
                                baseline=base)[0]
    timed = [(label, [dict(r, iteration=r["elapsed"]) for r in recs if r.get("elapsed")])
             for label, recs in series]
    by_time = perplexity_curves(timed, out.with_name(out.name + "_time"), title=args.title,
                                baseline=base, xlabel="seconds")[0]
    print(f"wrote {by_iter} and {by_time}")
    return 0
