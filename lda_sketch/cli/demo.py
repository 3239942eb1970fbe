"""``lda-sketch demo``: a sketched model vs a dense one on the built-in corpus, in about a minute.

Trains configs/demo.toml (K = 20, a count-min sketch of 8-bit Morris counters in 1/6 of the dense
bytes, its layout chosen by :mod:`lda_sketch.stats.budget`) across
2 MPI ranks when an ``mpiexec`` is at hand (re-launching itself under it), then the same run with
dense statistics, and prints held-out perplexity, the memory saved and top words.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

from ._command import add_command, add_set_arg

_REPO_DEMO = Path(__file__).resolve().parents[2] / "configs" / "demo.toml"
# configs/demo.toml, for installs without the repository's configs/ (a test keeps them equal).
DEMO_CONFIG = {
    "model": {"n_topics": 20, "alpha": 0.1, "beta": 0.01},
    "sketch": {"backend": "countmin-morris", "budget": "1/6"},
    "sampler": {"sampler": "sca", "init": "sparse", "n_iter": 50, "seed": 0},
    "data": {"embedded": True, "n_heldout": 200},
    "eval": {"evaluate_every": 5, "fold_in_iters": 100},
    "output": {"checkpoint_every": 10, "keep_checkpoints": 2},
}


NAME = "demo"
HELP = """\
train a sketched and a dense model on the built-in corpus and compare"""
DESCRIPTION = """\
Train a count-min-Morris model on the built-in corpus across 2 MPI ranks (re-launching under
mpiexec when one is found next to this Python or on PATH; otherwise 1 rank) and the same model
with dense statistics; print held-out perplexity, memory saved and top words, and plot both
curves."""


def register(sub) -> None:
    p = add_command(sub, NAME, HELP, DESCRIPTION, run,
                    formatter_class=argparse.RawDescriptionHelpFormatter,
                    epilog="example:\n  lda-sketch demo --out runs/demo && lda-sketch topics "
                           "runs/demo/sketch")
    p.add_argument("--out", default="runs/demo", metavar="DIR",
                   help="where the two run directories and the figure go (default runs/demo; "
                        "replaced if present)")
    p.add_argument("--ranks", type=int, default=2, metavar="P",
                   help="MPI ranks for the runs (default 2)")
    p.add_argument("--no-mpi", action="store_true", help="run in this process (1 rank)")
    add_set_arg(p, "override a key of the demo config")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.set_defaults(configures_logging=True)


def demo_config(overrides=()):
    from .. import config as config_mod

    if _REPO_DEMO.is_file():
        return config_mod.load(_REPO_DEMO, overrides)
    return config_mod.apply_overrides(config_mod.from_dict(DEMO_CONFIG, source="demo config"),
                                      overrides)


def run(args) -> int:
    from ..distributed.comm import get_comm
    from ..distributed.launch import find_mpiexec

    comm = get_comm()
    if not args.worker and comm.size == 1 and not args.no_mpi and args.ranks > 1:
        mpiexec = find_mpiexec()
        if mpiexec is None:
            print("lda-sketch demo: no mpiexec next to this Python or on PATH; running on 1 rank "
                  "(pip install 'lda_sketch[mpich]' for a local MPI)", flush=True)
        else:
            cmd = [mpiexec, "-n", str(args.ranks), sys.executable, "-m", "lda_sketch"]
            cmd += ["-v"] * args.verbose + ["demo", "--worker", "--out", args.out]
            cmd += [x for s in args.overrides for x in ("--set", s)]
            cmd += ["--no-progress"] if args.no_progress else []
            print(f"lda-sketch demo: launching {args.ranks} MPI ranks: {' '.join(cmd)}",
                  flush=True)
            rc = subprocess.call(cmd)
            if rc == 0:
                return 0
            print(f"lda-sketch demo: mpiexec exited with {rc}; running on 1 rank instead",
                  flush=True)
    return _demo(args, comm)


def _demo(args, comm) -> int:
    from ..run.train import train_run
    from ._logging import configure_logging

    configure_logging(args.verbose, comm.rank, comm.size)
    root = comm.rank == 0
    cfg = demo_config(args.overrides)
    dense_cfg = cfg.with_overrides(["sketch.backend=dense", "sketch.budget=none"])
    out = Path(args.out)
    progress = False if args.no_progress else None
    sk = cfg.sketch
    say = (lambda *a: print(*a, flush=True)) if root else (lambda *a: None)
    say(f"lda-sketch demo: K = {cfg.model.n_topics} topics on the built-in corpus (Python "
        f"standard-library docstrings), {cfg.sampler.n_iter} SCA iterations, "
        f"{comm.size} MPI rank{'s' if comm.size > 1 else ''}")
    # Compile every kernel first (numba's disk cache makes this ~1 s after the first run), so
    # neither timed run below is charged for compilation.
    from ..run.warmup import run as warmup

    tc = time.perf_counter()
    warmup()
    say(f"kernels ready in {time.perf_counter() - tc:.1f} s (compiled once, then cached on "
        f"disk; not part of the training times below)")
    say(f"[1/2] sketched statistics: {sk.backend} in a budget of "
        f"{sk.budget or 'the default 1/12'} of the dense bytes")
    sketch = train_run(cfg, out / "sketch", comm=comm, overwrite=True, progress=progress)
    say("[2/2] the same model with dense (exact) statistics, for comparison")
    dense = train_run(dense_cfg, out / "dense", comm=comm, overwrite=True, progress=progress)
    if root:
        # The same work timed for both: the training loop (iterations and evaluations), not
        # the set-up of the first run, which also builds the corpus cache.
        _report(sketch, dense, out, sketch.history[-1]["elapsed"],
                dense.history[-1]["elapsed"])
    comm.barrier()
    return 0


def _report(sketch, dense, out: Path, t_sketch: float, t_dense: float) -> None:
    from ..exceptions import MissingDependencyError
    from ..run.plots import perplexity_curves

    s, d = sketch.history[-1], dense.history[-1]
    sb, db = int(sketch.stats.nbytes), int(dense.stats.nbytes)
    try:
        figure = perplexity_curves([("count-min + Morris (sketch)", sketch.history),
                                    ("dense", dense.history)], out / "perplexity",
                                   title="lda-sketch demo: held-out perplexity",
                                   baseline=s.get("unigram_perplexity"))[0]
    except MissingDependencyError as exc:  # the figure is optional; the numbers are not
        figure = f"none ({exc})"
    w = 28
    print()
    print(f"held-out perplexity (document completion, {s['n_scored']:,} scored tokens; "
          f"lower is better)")
    print(f"  {'sketch (count-min + Morris)':{w}s} {s['perplexity']:10.1f}   "
          f"{s['perplexity'] / d['perplexity']:.3f} x dense   (training {t_sketch:.1f} s)")
    print(f"  {'dense':{w}s} {d['perplexity']:10.1f}   1.000 x dense   (training "
          f"{t_dense:.1f} s)")
    print(f"  {'unigram baseline':{w}s} {s['unigram_perplexity']:10.1f}")
    print("  (at this toy size the 8-bit counters cost time rather than save it; they pay where "
          "dense counts do not fit in memory: README, Results)")
    print(f"word-topic statistics: sketch {_mb(sb)} vs dense {_mb(db)}: "
          f"{db / sb:.1f}x smaller ({100 * (1 - sb / db):.0f}% saved)")
    print("top words (sketch model):")
    for k, words in enumerate(sketch.top_words(8)[:5]):
        print(f"  topic {k:2d}: " + " ".join(w for w, _ in words))
    print(f"runs:    {out / 'sketch'}  {out / 'dense'}")
    print(f"figure:  {figure}")
    print(f"next:    lda-sketch topics {out / 'sketch'} --relevance 0.6   # the topics, "
          f"corpus-wide words demoted")
    print("         lda-sketch train --config tiny --out runs/tiny --dry-run   # what a run "
          "holds, then drop --dry-run")
    print("         lda-sketch prep text MY_FOLDER --out corpora/mine   # your own documents "
          "(docs/USAGE.md)")


def _mb(n: int) -> str:
    return f"{n / 1e6:.2f} MB" if n >= 1e5 else f"{n / 1e3:.1f} kB"
