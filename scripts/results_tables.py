"""Markdown tables for docs/RESULTS.md from sweep directories.

    python scripts/results_tables.py table runs/exp1                 # Table 1 analogue
    python scripts/results_tables.py table runs/exp2 --update docs/RESULTS.md --key exp2
    python scripts/results_tables.py topics runs/table3 --update docs/RESULTS.md --key table3

``table`` reads (or first writes) SWEEP_DIR/summary.csv and prints one row per point with the
paper's bucket exponent beside ours, perplexity relative to the dense point, seconds per
iteration and bytes relative to dense. ``topics`` prints the top words of a few dense topics
and, for every other point, the topic of that model whose top words overlap them most
(hashed corpora show words through their reverse map). ``--update FILE --key K`` replaces the
text between ``<!-- K:begin -->`` and ``<!-- K:end -->`` in FILE (atomically) instead of printing.
"""
from __future__ import annotations

import argparse
import csv
import re
import sys
from pathlib import Path

from lda_sketch.io.atomic import write_text_atomic
from lda_sketch.sweep.summary import load_results, summarize

#: log2(paper V / our V) = log2(291k / 74.8k) ~ 1.96: our 2^b matches the paper's 2^(b+2).
PAPER_SHIFT = 2


def _f(x):
    return None if x in ("", None) else float(x)


def _pm(m, s, fmt):
    if m is None:
        return "—"
    return fmt.format(m) + ("" if s is None else " ± " + fmt.format(s))


def sweep_table(sweep_dir: Path) -> str:
    summarize(sweep_dir)
    rows = list(csv.DictReader(open(sweep_dir / "summary.csv", encoding="utf-8")))
    dense = next((r for r in rows if r["backend"] == "dense" and _f(r["final_perplexity_mean"])),
                 None)
    out = ["| variant | d | w (ours) | ≈ paper w | final perplexity | vs dense | best perplexity "
           "| s / iteration | vs dense | statistics MB | vs dense | trials |",
           "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        ppl, sd = _f(r["final_perplexity_mean"]), _f(r["final_perplexity_sd"])
        t, tsd = _f(r["s_per_iter_mean"]), _f(r["s_per_iter_sd"])
        nb = _f(r["stats_nbytes_mean"])
        if r["backend"] in ("dense", ""):  # "": no trial started yet
            var, d, w, pw = r["point"], "", "", ""
        else:
            b = int(r["n_buckets"]).bit_length() - 1
            d, w, pw = r["n_hashes"], f"2^{b}", f"2^{b + PAPER_SHIFT}"
            if r["backend"] == "countmin":
                var = "CM (int32)"
            else:
                rule = "conservative" if r["conservative"] == "True" else r["increment"]
                var = f"CM+A base {float(r['counter_base']):g} {rule}"
        rel = (lambda a, k: f"{a / _f(dense[k]):.3f}×" if dense and a is not None else "—")
        out.append(f"| {var} | {d} | {w} | {pw} | {_pm(ppl, sd, '{:,.0f}')} "
                   f"| {rel(ppl, 'final_perplexity_mean')} "
                   f"| {_pm(_f(r['best_perplexity_mean']), _f(r['best_perplexity_sd']), '{:,.0f}')} "
                   f"| {_pm(t, tsd, '{:.2f}')} | {rel(t, 's_per_iter_mean')} "
                   f"| {_pm(None if nb is None else nb / 1e6, None, '{:.1f}')} "
                   f"| {rel(nb, 'stats_nbytes_mean')} | {r['trials_done']}/{r['trials']} |")
    return "\n".join(out) + "\n"


def _words(model, k, n):
    out = []
    for w, _ in model.get_topic_words(k, n):
        out.append(w)
    return out


def _tokens(words):
    """Words of a top-word list; hashed ids show as 'a|b', each of which may match."""
    return {t for w in words for t in w.split("|")}


def topics_table(sweep_dir: Path, topics: list[int], top: int) -> str:
    from lda_sketch.model.topic_model import TopicModel

    pts = [p for p in load_results(sweep_dir, unfinished=False) if p["records"]]
    if not pts:
        sys.exit(f"{sweep_dir}: no finished runs")
    models = {p["point"]: TopicModel.load(sweep_dir / p["point"] / "trial-0" / "model")
              for p in pts}
    ref_name = next((p["point"] for p in pts if p["config"].sketch.backend == "dense"),
                    pts[0]["point"])
    ref = models[ref_name]
    long = 30
    ref_top = ref.top_words(long)
    others = {n: m.top_words(long) for n, m in models.items() if n != ref_name}
    head = "| topic | " + " | ".join([ref_name] + list(others)) + " |"
    lines = [head, "|---" * (len(others) + 2) + "|"]
    for k in topics:
        want = _tokens(w for w, _ in ref_top[k])
        cells = [", ".join(w for w, _ in ref_top[k][:top])]
        for name, tops in others.items():
            best = max(range(len(tops)), key=lambda j: len(want & _tokens(w for w, _ in tops[j])))
            cells.append(", ".join(w for w, _ in tops[best][:top]) + f" (#{best})")
        lines.append(f"| {k} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def update(path: Path, key: str, text: str) -> None:
    doc = path.read_text("utf-8")
    pat = re.compile(rf"(<!-- {re.escape(key)}:begin -->\n).*?(<!-- {re.escape(key)}:end -->)",
                     re.S)
    if not pat.search(doc):
        sys.exit(f"{path}: no '<!-- {key}:begin -->' ... '<!-- {key}:end -->' markers")
    write_text_atomic(path, pat.sub(lambda m: m.group(1) + text + m.group(2), doc))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="what", required=True)
    t = sub.add_parser("table", help="a summary table of a sweep")
    t.add_argument("sweep_dir", type=Path)
    w = sub.add_parser("topics", help="top words of matched topics across a sweep's points")
    w.add_argument("sweep_dir", type=Path)
    w.add_argument("--topics", type=int, nargs="+", default=[0, 1, 2, 3, 4],
                   help="topics of the dense model to show (default 0-4)")
    w.add_argument("--top", type=int, default=5, help="words per topic (default 5)")
    for p in (t, w):
        p.add_argument("--update", type=Path, metavar="MD_FILE",
                       help="replace the KEY block of this Markdown file instead of printing")
        p.add_argument("--key", help="block name in MD_FILE (default: the sweep folder's name)")
    args = ap.parse_args(argv)
    text = (sweep_table(args.sweep_dir) if args.what == "table"
            else topics_table(args.sweep_dir, args.topics, args.top))
    if args.update:
        update(args.update, args.key or args.sweep_dir.name, text)
        print(f"updated {args.update} [{args.key or args.sweep_dir.name}]")
    else:
        print(text, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
