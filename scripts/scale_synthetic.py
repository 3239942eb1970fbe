#!/usr/bin/env python
"""Scale run beyond the shared corpus: a large synthetic LDA corpus, dense vs sketched statistics.

1. Draws a corpus from LDA's generative process, vectorised and in chunks of documents (no
   Python loop per token or per document), and writes it with the corpus writer as a
   feature-hashed corpus (``--vocab`` ids, no vocabulary file) plus a held-out corpus of
   ``--heldout-docs`` documents from the same topics. An existing corpus written by this script
   with the same parameters is reused.
2. Trains ``--iters`` iterations at ``--ranks`` ranks with each backend
   (``mpiexec -n P lda-sketch -v train``; dense and countmin-morris d = 3, w = 2^16, 8-bit
   correlated by default) and reports seconds per iteration (median after the first), merge
   seconds, bytes each rank sends per merge, the statistics' bytes and every rank's peak RSS
   (``peak_rss_mib`` of ``metrics.jsonl``, recorded at the final evaluation, before the model
   is saved).

The generative process (``--seed``): topic k puts Zipf(1) weights on ``--support`` word ids
drawn at random (so topics overlap on frequent ids) and each token is, with probability
``--background``, replaced by a uniform id from ``[0, V)``, so that the whole id space is in use
and the dense ``V x K`` matrix is really needed; theta_d ~ Dirichlet(alpha); document lengths
~ Poisson(``--doc-length``).

Full size (about 100M tokens, V = 1M, K = 1000: dense counts are 4 GB per copy; use a machine
with >= 64 GB)::

    python scripts/scale_synthetic.py --corpus-dir /scratch/synth --tokens 100_000_000 \\
        --vocab 1_000_000 --topics 1000

Small size (the figures of docs/DISTRIBUTED.md on a 2-core, 24 GB machine)::

    python scripts/scale_synthetic.py --corpus-dir /tmp/synth --tokens 2_000_000 \\
        --vocab 100_000 --topics 100
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shlex
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_distributed import (BACKENDS, BASE_CONFIG, find_mpiexec,  # noqa: E402
                               machine_info, run_one)

REPO = Path(__file__).resolve().parents[1]
SOURCE_KIND = "synthetic-lda-vectorised"


def draw_topics(g, n_topics: int, n_vocab: int, support: int):
    """Per topic: ``support`` random ids and the CDF of Zipf(1) weights over them.

    Returns ``(ids (K, S) int32, cdf (K*S,) float64)`` where row k of the CDF is shifted by +k,
    so one ``searchsorted`` of ``k + u`` draws a word of topic k for a whole batch of tokens.
    """
    ids = g.integers(0, n_vocab, size=(n_topics, support), dtype=np.int32)
    w = 1.0 / np.arange(1, support + 1, dtype=np.float64)
    cdf = np.cumsum(w) / w.sum()
    cdf[-1] = 1.0
    return ids, (cdf[None, :] + np.arange(n_topics)[:, None]).ravel()


def draw_words(g, lengths: np.ndarray, ids: np.ndarray, cdf: np.ndarray, alpha: float,
               background: float, n_vocab: int) -> np.ndarray:
    """Tokens of a chunk of documents (lengths ``lengths``), int32, doc-major."""
    n, K = lengths.shape[0], ids.shape[0]
    S = ids.shape[1]
    theta = g.standard_gamma(alpha, size=(n, K))
    sums = theta.sum(axis=1, keepdims=True)
    theta = np.where(sums > 0, theta / np.where(sums > 0, sums, 1.0), 1.0 / K)
    tcdf = np.cumsum(theta, axis=1)
    tcdf[:, -1] = 1.0
    tcdf += np.arange(n)[:, None]
    doc = np.repeat(np.arange(n), lengths)
    z = np.searchsorted(tcdf.ravel(), doc + g.random(doc.shape[0]), side="right") - doc * K
    np.clip(z, 0, K - 1, out=z)
    del tcdf, doc
    r = np.searchsorted(cdf, z + g.random(z.shape[0]), side="right") - z * S
    np.clip(r, 0, S - 1, out=r)
    words = ids[z, r]
    bg = g.random(words.shape[0]) < background
    words[bg] = g.integers(0, n_vocab, size=int(bg.sum()), dtype=np.int32)
    return words


def generate(out: Path, params: dict) -> tuple[Path, Path, dict]:
    """Write ``out/train`` and ``out/heldout`` (reused when ``out/params.json`` matches)."""
    from lda_sketch.io.corpus import Corpus

    train_dir, held_dir, pfile = out / "train", out / "heldout", out / "params.json"
    if pfile.is_file() and (train_dir / "manifest.json").is_file() and \
            (held_dir / "manifest.json").is_file():
        saved = json.loads(pfile.read_text())
        if saved.get("params") == params:
            print(f"reusing {out} (same parameters)", flush=True)
            return train_dir, held_dir, saved
        sys.exit(f"scale_synthetic: {out} holds a corpus with other parameters "
                 f"({saved.get('params')}); choose another --corpus-dir or delete it")
    t0 = time.perf_counter()
    g = np.random.default_rng(params["seed"])
    K, V = params["topics"], params["vocab"]
    ids, cdf = draw_topics(g, K, V, min(params["support"], V))
    n_train = max(1, params["tokens"] // params["doc_length"])
    n_docs = n_train + params["heldout_docs"]
    lengths = np.maximum(1, g.poisson(params["doc_length"], size=n_docs)).astype(np.int64)
    doc_ptr = np.zeros(n_docs + 1, np.int64)
    np.cumsum(lengths, out=doc_ptr[1:])
    word_ids = np.empty(int(doc_ptr[-1]), np.int32)
    # A chunk's theta is <= 8M float64 and its tokens <= 4M: bounded temporaries at any size.
    chunk = max(1, min((1 << 23) // K, (1 << 22) // params["doc_length"]))
    for a in range(0, n_docs, chunk):
        b = min(a + chunk, n_docs)
        word_ids[doc_ptr[a]:doc_ptr[b]] = draw_words(g, lengths[a:b], ids, cdf, params["alpha"],
                                                     params["background"], V)
    t_draw = time.perf_counter() - t0
    src = {"kind": SOURCE_KIND, **params}
    cut = int(doc_ptr[n_train])
    Corpus(doc_ptr[:n_train + 1], word_ids[:cut], V).write(train_dir, overwrite=True, source=src)
    Corpus(doc_ptr[n_train:] - cut, word_ids[cut:], V).write(held_dir, overwrite=True,
                                                              source=src)
    info = {"params": params, "n_train_docs": n_train, "n_train_tokens": cut,
            "n_heldout_docs": n_docs - n_train, "n_heldout_tokens": int(doc_ptr[-1]) - cut,
            "distinct_train_ids": int(np.unique(word_ids[:cut]).shape[0]),
            "t_draw_s": t_draw, "t_total_s": time.perf_counter() - t0,
            "generator_peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024}
    tmp = pfile.with_suffix(".tmp")
    tmp.write_text(json.dumps(info, indent=1))
    os.replace(tmp, pfile)
    print(f"generated {cut:,} training tokens ({n_train:,} docs, "
          f"{info['distinct_train_ids']:,} distinct ids) in {info['t_total_s']:.1f} s "
          f"({cut / t_draw / 1e6:.1f}M tokens/s drawn)", flush=True)
    return train_dir, held_dir, info


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus-dir", type=Path, required=True,
                    help="where to write (or reuse) train/ and heldout/")
    ap.add_argument("--tokens", type=lambda s: int(s.replace("_", "")), default=2_000_000)
    ap.add_argument("--vocab", type=lambda s: int(s.replace("_", "")), default=100_000,
                    help="id space V (feature-hashed ids)")
    ap.add_argument("--topics", type=int, default=100)
    ap.add_argument("--doc-length", type=int, default=200)
    ap.add_argument("--alpha", type=float, default=0.1)
    ap.add_argument("--support", type=int, default=None,
                    help="ids per topic (default 4 V / K, at least 50)")
    ap.add_argument("--background", type=float, default=0.05,
                    help="share of tokens drawn uniformly from [0, V)")
    ap.add_argument("--heldout-docs", type=int, default=500)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--generate-only", action="store_true")
    ap.add_argument("--ranks", type=int, default=2)
    ap.add_argument("--iters", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1, help="numba threads per rank")
    ap.add_argument("--backends", default="dense,countmin-morris")
    ap.add_argument("--buckets", type=int, default=2**16, help="sketch width w (2^16)")
    ap.add_argument("--fold-in-iters", type=int, default=20,
                    help="held-out fold-in EM steps of the final evaluation")
    ap.add_argument("--timeout", type=float, default=3600)
    ap.add_argument("--mpiexec")
    ap.add_argument("--mpiexec-args", default="")
    ap.add_argument("--out", type=Path, default=REPO / "docs" / "results" /
                    "scale_synthetic.json")
    args = ap.parse_args(argv)
    support = args.support or max(50, 4 * args.vocab // args.topics)
    params = {"tokens": args.tokens, "vocab": args.vocab, "topics": args.topics,
              "doc_length": args.doc_length, "alpha": args.alpha, "support": support,
              "background": args.background, "heldout_docs": args.heldout_docs,
              "seed": args.seed}
    args.corpus_dir.mkdir(parents=True, exist_ok=True)
    train_dir, held_dir, corpus_info = generate(args.corpus_dir.resolve(), params)
    if args.generate_only:
        return 0

    mpiexec = find_mpiexec(args.mpiexec)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    results, failed = {}, False
    with tempfile.TemporaryDirectory(prefix="scale_synthetic_") as tmp:
        for b in backends:
            if b not in BACKENDS:
                ap.error(f"--backends: {b!r} is not one of {sorted(BACKENDS)}")
            extra = [f"eval.fold_in_iters={args.fold_in_iters}"]
            if b != "dense":
                extra.append(f"sketch.n_buckets={args.buckets}")
            run_args = argparse.Namespace(
                mpiexec_args=args.mpiexec_args, config=BASE_CONFIG, train=train_dir,
                heldout=held_dir, topics=args.topics, iters=args.iters, seed=args.seed,
                set=extra, threads=args.threads, timeout=args.timeout)
            res = run_one(run_args, mpiexec, b, args.ranks, Path(tmp) / b)
            shutil.rmtree(Path(tmp) / b, ignore_errors=True)
            if "error" in res:
                failed = True
                print(f"{b}: FAILED ({res['error']})\n{res.get('stderr_tail', '')[-1500:]}")
                results[b] = res
                continue
            steps = res["steps"][1:] or res["steps"]
            fin = res["final"]
            results[b] = {
                "s_per_iter": statistics.median(s["t_step"] for s in steps),
                "t_sample": statistics.median(s["t_sample"] for s in steps),
                "t_build": statistics.median(s["t_build"] for s in steps),
                "t_merge": statistics.median(s["t_merge"] for s in steps),
                "bytes_merged_per_rank": statistics.median(s["bytes_merged"] for s in steps),
                "stats_nbytes": fin["stats_nbytes"], "peak_rss_mib_ranks": fin["peak_rss_mib"],
                "t_eval": fin["t_eval"], "perplexity": fin["perplexity"],
                "unigram_perplexity": fin["unigram_perplexity"], "wall_s": res["wall_s"],
                "command": res["command"], "steps": res["steps"]}
    head = (f"{'backend':16} {'P':>2} {'s/iter':>7} {'merge s':>8} {'MB sent/rank':>12} "
            f"{'stats MB':>9} {'peak RSS MiB per rank':>22} {'perplexity':>10}")
    print(f"\n{corpus_info['n_train_tokens']:,} tokens, V = {args.vocab:,}, K = {args.topics}, "
          f"P = {args.ranks}\n{head}\n{'-' * len(head)}")
    for b, r in results.items():
        if "error" in r:
            print(f"{b:16} {args.ranks:>2} FAILED: {r['error']}")
            continue
        print(f"{b:16} {args.ranks:>2} {r['s_per_iter']:7.2f} {r['t_merge']:8.3f} "
              f"{r['bytes_merged_per_rank'] / 1e6:12.1f} {r['stats_nbytes'] / 1e6:9.1f} "
              f"{str(r['peak_rss_mib_ranks']):>22} {r['perplexity']:10.1f}")
    out = {"command": shlex.join([Path(sys.executable).name, *sys.argv]),
           "machine": machine_info(mpiexec), "loadavg_end": os.getloadavg(),
           "corpus": corpus_info, "ranks": args.ranks, "iters": args.iters,
           "threads_per_rank": args.threads, "buckets": args.buckets, "results": results}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp_out = args.out.with_suffix(".json.tmp")
    tmp_out.write_text(json.dumps(out, indent=1))
    os.replace(tmp_out, args.out)
    print(f"wrote {args.out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
