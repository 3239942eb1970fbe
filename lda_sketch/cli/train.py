"""``lda-sketch train``: train from a TOML config into a run directory (resumable)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ._command import add_command, add_set_arg, config_path

EPILOG = """\
config keys (section.key, default, meaning); set any of them with --set section.key=value:
{keys}

A run directory holds resolved_config.toml, provenance.json, metrics.jsonl (one JSON line per
evaluation), checkpoints/iter-N/ and the final model/ (see `lda-sketch topics` and
`lda-sketch evaluate`). Same seed, config and corpus give bitwise-identical results for any
thread count; a resumed run is bitwise identical to an uninterrupted one.

Ctrl-C (SIGINT), SIGTERM or SIGUSR1 (Slurm's --signal) stop the run at the next iteration
boundary on every rank: a checkpoint of that iteration is written (even with
output.checkpoint_every = 0), one line `interrupted at iteration N; resume with lda-sketch train
--resume RUN_DIR` is printed and the exit status is 130. A second signal stops at once.

examples:
  lda-sketch train --config configs/tiny.toml --out runs/tiny
  lda-sketch train --config tiny --out runs/tiny       # the copy shipped in the package
  lda-sketch train --config configs/reuters.toml --set sketch.n_buckets=2**16 --out runs/r16
  lda-sketch train --resume runs/r16 --set sampler.n_iter=200     # continue to 200 iterations
  mpirun -n 4 lda-sketch train --config configs/wiki-reuters.toml --out runs/wiki
"""


NAME = "train"
HELP = """\
train a model from a TOML config into a run directory"""
DESCRIPTION = """\
Train LDA (SCA sampler) as configured by a TOML file. Under `mpirun -n P` documents are sharded
across P ranks; rank 0 writes."""


def register(sub) -> None:
    from ..config import describe

    p = add_command(sub, NAME, HELP, DESCRIPTION, run,
                    epilog=EPILOG.format(keys=describe()),
                    formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", metavar="TOML",
                   help="config file (paths inside are relative to it), or the name of one "
                        "shipped with lda_sketch (tiny, demo); with --resume the run's "
                        "resolved_config.toml is used when omitted")
    add_set_arg(p, "override one config key, typed by the key (repeatable), e.g. "
                   "--set sketch.n_buckets=65536 --set model.n_topics=50")
    p.add_argument("--out", metavar="RUN_DIR",
                   help="run directory to create (must not exist or be empty unless --overwrite)")
    p.add_argument("--resume", metavar="RUN_DIR",
                   help="continue the run in RUN_DIR from its newest checkpoint; only "
                        "sampler.n_iter, sampler.n_threads, eval.evaluate_every and output.* "
                        "may be changed (with --set)")
    p.add_argument("--overwrite", action="store_true",
                   help="allow --out to be an existing non-empty directory (files are replaced)")
    p.add_argument("--no-progress", action="store_true",
                   help="no progress bar (log lines at each evaluation instead)")
    p.add_argument("--ranks", type=int, metavar="P",
                   help="with --dry-run: also estimate memory for P ranks (default: the ranks "
                        "it runs on)")
    p.add_argument("--dry-run", action="store_true",
                   help="run every setup check train makes (config, corpus, backend against the "
                        "corpus), print the resolved config and the corpus size, then exit")
    p.set_defaults(configures_logging=True)


def run(args) -> int:
    """Signals are routed to a flag for the whole command (setup, loop, final writes) and
    ignored while the interpreter shuts down, so one arriving at any moment stops the run at an
    iteration boundary or lets it finish."""
    from ..run.interrupts import catch_signals

    with catch_signals(ignore_at_exit=True) as stop:
        return _run(args, stop)


def _run(args, stop) -> int:
    from .. import config as config_mod
    from ..distributed.collective import RankFailedError
    from ..distributed.comm import get_comm
    from ..exceptions import InputFormatError
    from ..run.interrupts import EXIT_INTERRUPTED, Interrupted
    from ..run.train import train_run
    from ._logging import configure_logging

    comm = get_comm()
    configure_logging(args.verbose, comm.rank, comm.size)
    if args.resume:
        run_dir = Path(args.resume)
        if args.out and Path(args.out).resolve() != run_dir.resolve():
            raise InputFormatError(f"--out {args.out} differs from --resume {args.resume}; a "
                                   f"resumed run continues in its own directory")
        src = config_path(args.config) if args.config else run_dir / "resolved_config.toml"
        if not src.is_file():
            raise InputFormatError(f"--resume {run_dir}: {src} not found: not a run directory, or "
                                   f"one stopped before its set-up was written; start it with "
                                   f"--config CONFIG --out {run_dir} --overwrite")
    else:
        if not args.config:
            raise InputFormatError("--config is required (or --resume RUN_DIR)")
        if not args.out and not args.dry_run:
            raise InputFormatError("--out RUN_DIR is required")
        run_dir, src = Path(args.out) if args.out else None, config_path(args.config)
    cfg = config_mod.load(src, args.overrides)
    if args.dry_run:
        if comm.rank == 0:
            _dry_run(cfg, max(comm.size, args.ranks or 1))
        return 0
    try:
        model = train_run(cfg, run_dir, resume=bool(args.resume), comm=comm,
                          overwrite=args.overwrite, stop=stop,
                          progress=False if args.no_progress else None)
    except RankFailedError as exc:  # a setup error on some rank(s), raised on every rank
        if comm.rank == 0:
            print(f"lda-sketch train: error: {exc}", file=sys.stderr)
        return 1
    except Interrupted as exc:  # every rank stopped at the same iteration, checkpoint written
        if comm.rank == 0:
            print(exc, file=sys.stderr, flush=True)
        return EXIT_INTERRUPTED
    if comm.rank == 0:
        last = model.history[-1] if model.history else {}
        ppl = last.get("perplexity")
        print(f"trained {model.iteration} iterations -> {run_dir / 'model'}"
              + (f"; held-out perplexity {ppl:.2f} (unigram {last.get('unigram_perplexity'):.2f})"
                 if ppl is not None else ""))
    return 0


def _dry_run(cfg, ranks: int = 1) -> None:
    """Run exactly the setup checks of ``train`` (config, corpus, backend against the corpus),
    then print the resolved config and what the run would hold. Allocates and writes nothing."""
    from ..run.data import load_data
    from ..run.machine import rss_bytes
    from ..run.memory import plan_run
    from ..stats import BACKENDS
    from ..run.train import check_setup, resolve_config

    base = rss_bytes()  # the training modules are imported and no data loaded: a rank's base
    train, heldout = load_data(cfg)
    cfg, layout = resolve_config(cfg, train)
    params = check_setup(cfg, train)
    backend = BACKENDS[params.backend]
    print(cfg.to_toml(), end="")
    reads = ", ".join(backend.config_keys) or "no [sketch] keys"
    print(f"# corpus: {train.n_docs:,} documents, {train.n_tokens:,} tokens, "
          f"V = {train.n_vocab:,}; held-out: "
          + (f"{heldout.n_docs:,} documents" if heldout is not None else "none"))
    print(f"# backend {params.backend} reads {reads}")
    if layout is not None:
        print(f"# sketch budget {layout['budget']} = {layout['budget_bytes']:,} bytes "
              f"({layout['n_vocab_eff']:,} words with tokens): chosen "
              + ", ".join(f"{k} = {v!r}" for k, v in layout["chosen"].items()))
        print(f"# layout: {layout['layout']}, {layout['stats_bytes']:,} bytes "
              f"({layout['bytes_ratio']:.4f}x dense)")
    K, V = params.n_topics, train.n_vocab
    stats = params.stats_nbytes(V)
    for P in sorted({1, ranks}):
        m = plan_run(params, train, heldout, P, base_rss=base)
        print(f"# {P} rank{'s' if P > 1 else ''}: statistics {stats / 1e6:,.2f} MB "
              f"({stats / (4 * V * K + 8 * K):.3f}x dense), about "
              f"{m['per_rank_bytes'] / 2**30:,.2f} GiB per rank (arrays "
              f"{m['arrays_bytes'] / 2**30:,.2f} + interpreter and libraries "
              f"{m['runtime_bytes'] / 2**30:,.2f}), "
              f"{m['bytes_sent_per_merge'] / 1e6:,.2f} MB sent per rank per merge")
    print("# memory: peak RSS of a run whose kernels are in numba's cache; a first run, "
          "compiling them, peaks about 130 MiB higher (`lda-sketch warmup` compiles ahead)")
    print("# checks passed: `train` with this config would start")
