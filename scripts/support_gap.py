#!/usr/bin/env python3
"""The issue-13 record: held-out perplexity gap to dense against total statistics bytes.

    python scripts/support_gap.py runs/support \\
        [--timing docs/results/bench_support_time.json]

Reads a finished (or partly finished) ``configs/sweeps/support.toml`` sweep; per point: final
perplexity mean and sample sd over finished trials, its gap to dense's mean, the statistics bytes
(every structure: cells, head counters, support bitmap, n_k) and their ratio to dense int32, and
the seconds-per-iteration ratio to dense measured side by side in one process
(``bench_grid_time.py --support-set``; the sweep's own timings share the machine and are not
used). Writes docs/results/support_gap.json (one record per point) and the frontier figure
docs/figures/support_frontier.png, and prints a Markdown table.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from lda_sketch.io.atomic import write_text_atomic  # noqa: E402
from lda_sketch.run.machine import machine_facts  # noqa: E402
from lda_sketch.sweep.summary import load_results, run_figures  # noqa: E402


def records(sweep_dir: Path, timing: dict) -> list[dict]:
    points = load_results(sweep_dir)
    dense = next((p for p in points if p["config"] and p["config"].sketch.backend == "dense"),
                 None)
    if dense is None or not dense["records"]:
        sys.exit(f"{sweep_dir}: no finished dense run to compare with")
    dense_final = [run_figures(r)["final_perplexity"] for r in dense["records"]]
    dense_mean = statistics.fmean(dense_final)
    dense_bytes = run_figures(dense["records"][0])["stats_nbytes"]
    out = []
    for p in points:
        if not p["records"]:
            continue
        sk = p["config"].sketch
        figs = [run_figures(r) for r in p["records"]]
        final = [f["final_perplexity"] for f in figs]
        nbytes = figs[0]["stats_nbytes"]
        mean = statistics.fmean(final)
        out.append({
            "label": p["point"], "backend": sk.backend,
            "support": sk.support if sk.backend != "dense" else None,
            "head_words": sk.head_words if sk.backend != "dense" else None,
            "n_hashes": sk.n_hashes if sk.backend != "dense" else None,
            "n_buckets": sk.n_buckets if sk.backend != "dense" else None,
            "stats_bytes": int(nbytes), "bytes_ratio": nbytes / dense_bytes,
            "trials": len(final), "final_perplexity_mean": mean,
            "final_perplexity_sd": statistics.stdev(final) if len(final) > 1 else None,
            "dense_perplexity_mean": dense_mean, "gap_pct": 100 * (mean / dense_mean - 1),
            "s_per_iter_ratio": timing.get(p["point"]),
            "iterations": figs[0]["iterations"]})
    return out


def frontier(rows: list[dict], path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for r in rows:
        kind = ("dense" if r["backend"] == "dense" else "exact support" if r["support"] == "exact"
                else "collision-free head" if r["head_words"] else "plain CM+A")
        style = {"dense": ("k", "s"), "plain CM+A": ("tab:blue", "o"),
                 "exact support": ("tab:green", "^"), "collision-free head": ("tab:red", "D")}[kind]
        ax.errorbar(r["bytes_ratio"], r["final_perplexity_mean"],
                    yerr=r["final_perplexity_sd"] or 0, color=style[0], marker=style[1],
                    capsize=3, label=kind)
        ax.annotate(r["label"], (r["bytes_ratio"], r["final_perplexity_mean"]), fontsize=7,
                    xytext=(4, 4), textcoords="offset points")
    handles, labels = ax.get_legend_handles_labels()
    uniq = dict(zip(labels, handles))
    ax.legend(uniq.values(), uniq.keys(), fontsize=8)
    ax.set_xscale("log")
    ax.axvline(0.085, color="grey", lw=0.8, ls=":")
    ax.set_xlabel("statistics bytes / dense int32 bytes (every structure counted)")
    ax.set_ylabel("held-out perplexity after 60 iterations (Reuters)")
    ax.set_title("Wikipedia -> Reuters, K = 100: quality against memory")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("sweep_dir", type=Path)
    ap.add_argument("--timing", type=Path, default=REPO / "docs/results/bench_support_time.json")
    ap.add_argument("--out", type=Path, default=REPO / "docs/results/support_gap.json")
    ap.add_argument("--figure", type=Path, default=REPO / "docs/figures/support_frontier.png")
    args = ap.parse_args(argv)
    timing = {}
    if args.timing.is_file():
        timing = {r["label"]: r["vs_dense"] for r in json.loads(args.timing.read_text())["results"]}
    rows = records(args.sweep_dir, timing)
    doc = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
           "command": "python scripts/support_gap.py " + " ".join(argv or sys.argv[1:]),
           "sweep": str(args.sweep_dir), "timing_source": str(args.timing),
           "machine": machine_facts(), "records": rows}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(args.out, json.dumps(doc, indent=1))
    frontier(rows, args.figure)
    print("| point | bytes vs dense | trials | final perplexity | gap to dense | s/iter vs dense |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in rows:
        sd = f" ± {r['final_perplexity_sd']:,.0f}" if r["final_perplexity_sd"] else ""
        t = f"{r['s_per_iter_ratio']:.2f}×" if r["s_per_iter_ratio"] else "—"
        print(f"| {r['label']} | {r['bytes_ratio']:.3f}× | {r['trials']} | "
              f"{r['final_perplexity_mean']:,.0f}{sd} | {r['gap_pct']:+.1f} % | {t} |")
    print(f"wrote {args.out} and {args.figure}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
