#!/usr/bin/env python
"""The paper's sketch microbenchmark (Tassarotti et al. 2019, Appendix D, Figures 5-9) on real text.

Bigram frequencies of ~2M tokens of the shared Wikipedia articles are estimated with count-min
sketches (one "topic", keys = bigram ids, stream in corpus order, unit increments) and the mean
relative error |est - true| / true is plotted against the true frequency, log-log, in
logarithmic frequency bins:

  (a) fig_d_a: CM with 32-bit cells vs CM with 8-bit Morris counters (base 1.08) at equal memory
      (the Morris sketch has 4x the buckets);
  (b) fig_d_b: each of those with and without conservative update;
  (c) fig_d_c: Morris bases 1.04, 1.08, 1.16, 1.32, independent and conservative counters;
  (d) fig_d_d: the stream split into 2^i equal parts (i = 0..5), each sketched (conservative
      Morris), then merged.

Usage:  python scripts/microbench_bigrams.py [--tokens 2000000] [--out docs]
Writes docs/figures/microbench_*.png|pdf and docs/results/microbench_bigrams.json.
"""
from __future__ import annotations

import argparse
import bz2
import json
import platform
import re
import time
from pathlib import Path

import numpy as np

from lda_sketch import rng
from lda_sketch.stats import make_stats

REPO = Path(__file__).resolve().parents[1]
WIKI = REPO.parent / "shared" / "data" / "wikipedia" / "enwiki-wikiextractor-2015"
_DOC = re.compile(r"<doc [^>]*>(.*?)</doc>", re.S)


def read_tokens(n_tokens: int) -> list[str]:
    """First ``n_tokens`` tokens of the WikiExtractor articles (project tokenizer, stop words kept:
    bigram statistics of running text, as in the paper)."""
    from data_prep.tokenize import Tokenizer
    tok = Tokenizer(min_token_length=1, stopwords=frozenset())
    out: list[str] = []
    for f in sorted(WIKI.glob("*/wiki_*.bz2")):
        text = bz2.decompress(f.read_bytes()).decode("utf-8")
        for m in _DOC.finditer(text):
            out.extend(tok.tokenize(m.group(1), {}))
            if len(out) >= n_tokens:
                return out[:n_tokens]
    return out


def bigram_stream(tokens: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Stream of bigram ids in corpus order (int64) and the true count of every id."""
    ids: dict[tuple[str, str], int] = {}
    stream = np.fromiter((ids.setdefault(b, len(ids)) for b in zip(tokens, tokens[1:])),
                         np.int64, count=len(tokens) - 1)
    return stream, np.bincount(stream, minlength=len(ids))


def sketch_errors(stream, truth, backend, seed=0, parts=1, **params) -> np.ndarray:
    """Relative error of every key's estimate after streaming (optionally in merged parts)."""
    n_keys = truth.shape[0]
    make = lambda: make_stats(backend, n_topics=1, n_vocab=n_keys, seed=seed, **params)  # noqa: E731
    zeros = np.zeros(stream.shape[0], np.int64)
    ones = np.ones(stream.shape[0], np.int64)
    bounds = np.linspace(0, stream.shape[0], parts + 1).astype(np.int64)
    total = None
    for p in range(parts):
        s = make()
        a, b = bounds[p], bounds[p + 1]
        s.add(stream[a:b], zeros[a:b], ones[a:b], key=rng.key_for(seed, rng.STREAM_COUNTER, p))
        if total is None:
            total = s
        else:
            total.merge(s, key=rng.key_for(seed, rng.STREAM_MERGE, p))
    est = total.estimate(np.arange(n_keys))[:, 0]
    return np.abs(est - truth) / truth


def binned(truth, err, n_bins=25):
    """Mean relative error per logarithmic frequency bin: (bin centres, means, counts)."""
    edges = np.unique(np.round(np.logspace(0, np.log10(truth.max() + 1), n_bins + 1)))
    idx = np.digitize(truth, edges) - 1
    centres, means, counts = [], [], []
    for i in range(len(edges) - 1):
        m = idx == i
        if m.any():
            centres.append(float(np.sqrt(edges[i] * max(edges[i + 1] - 1, edges[i]))))
            means.append(float(err[m].mean()))
            counts.append(int(m.sum()))
    return centres, means, counts


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tokens", type=int, default=2_000_000, help="tokens of Wikipedia text (default 2M)")
    ap.add_argument("--hashes", type=int, default=4, help="hash rows d (default 4)")
    ap.add_argument("--log2-buckets", type=int, default=15,
                    help="log2 buckets of the 32-bit sketch; the 8-bit one gets 4x (default 15)")
    ap.add_argument("--out", type=Path, default=REPO / "docs")
    args = ap.parse_args(argv)
    t0 = time.time()
    tokens = read_tokens(args.tokens)
    stream, truth = bigram_stream(tokens)
    print(f"{len(tokens):,} tokens, {stream.shape[0]:,} bigrams, {truth.shape[0]:,} unique, "
          f"max frequency {truth.max():,} ({time.time() - t0:.1f}s)")
    d, b = args.hashes, args.log2_buckets
    cm = dict(n_hashes=d, n_buckets=2 ** b)
    mo = dict(n_hashes=d, n_buckets=2 ** (b + 2), counter_bits=8)
    runs = {
        "a/CM 32-bit": ("countmin", dict(cm, conservative=False)),
        "a/CM+A 8-bit (4x buckets)": ("countmin-morris", dict(mo, increment="independent", counter_base=1.08)),
        "b/CM 32-bit CU": ("countmin", dict(cm, conservative=True)),
        "b/CM+A 8-bit CU": ("countmin-morris", dict(mo, increment="correlated", conservative=True, counter_base=1.08)),
        "b/CM+A 8-bit correlated": ("countmin-morris", dict(mo, increment="correlated", counter_base=1.08)),
    }
    for base in (1.04, 1.08, 1.16, 1.32):
        runs[f"c/independent base {base}"] = ("countmin-morris", dict(mo, increment="independent", counter_base=base))
        runs[f"c/conservative base {base}"] = ("countmin-morris", dict(mo, increment="correlated", conservative=True, counter_base=base))
    results = {}
    for name, (backend, params) in runs.items():
        t = time.time()
        err = sketch_errors(stream, truth, backend, **params)
        results[name] = {"backend": backend, "params": params, "mean_rel_error": float(err.mean()),
                         "bins": binned(truth, err), "seconds": time.time() - t}
        print(f"{name:34s} mean rel. error {err.mean():10.4f}   ({time.time() - t:.1f}s)")
    for i in range(6):
        name = f"d/merged 2^{i} parts"
        params = dict(mo, increment="correlated", conservative=True, counter_base=1.08)
        t = time.time()
        err = sketch_errors(stream, truth, "countmin-morris", parts=2 ** i, **params)
        results[name] = {"backend": "countmin-morris", "params": params, "parts": 2 ** i,
                         "mean_rel_error": float(err.mean()), "bins": binned(truth, err),
                         "seconds": time.time() - t}
        print(f"{name:34s} mean rel. error {err.mean():10.4f}   ({time.time() - t:.1f}s)")
    meta = {"command": "python scripts/microbench_bigrams.py " + " ".join(argv or []),
            "date": time.strftime("%Y-%m-%d"), "machine": platform.processor() or platform.machine(),
            "tokens": len(tokens), "bigrams": int(stream.shape[0]), "unique_bigrams": int(truth.shape[0]),
            "max_frequency": int(truth.max()), "n_hashes": d, "log2_buckets_32bit": b}
    (args.out / "results").mkdir(parents=True, exist_ok=True)
    (args.out / "results" / "microbench_bigrams.json").write_text(
        json.dumps({"meta": meta, "results": results}, indent=1))
    plot(results, args.out / "figures")
    print(f"wrote {args.out / 'results' / 'microbench_bigrams.json'} and figures in {args.out / 'figures'}")
    return 0


def plot(results, outdir: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    outdir.mkdir(parents=True, exist_ok=True)
    titles = {"a": "CM 32-bit vs CM+A 8-bit at equal memory", "b": "with / without conservative update",
              "c": "counter base (independent: dashed, conservative: solid)",
              "d": "merging 2^i sub-sketches (conservative CM+A)"}
    for panel, title in titles.items():
        fig, ax = plt.subplots(figsize=(5.5, 4))
        for name, r in results.items():
            shown = (panel + "/",) + (("a/",) if panel == "b" else ())
            if not name.startswith(shown):
                continue
            x, y, _ = r["bins"]
            style = "--" if "independent" in name and panel == "c" else "-"
            ax.plot(x, y, style, marker="o", ms=3, label=name[2:])
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("true bigram frequency")
        ax.set_ylabel("mean relative error")
        ax.set_title(title, fontsize=10)
        ax.legend(fontsize=7)
        fig.tight_layout()
        for ext in ("png", "pdf"):
            fig.savefig(outdir / f"microbench_{panel}.{ext}", dpi=120)
        plt.close(fig)


if __name__ == "__main__":
    raise SystemExit(main())
