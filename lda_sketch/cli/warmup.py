"""``lda-sketch warmup [--config TOML]``: compile the kernels ahead of the first run."""
from __future__ import annotations

import time

from ._command import add_command, add_set_arg, config_path

NAME = "warmup"
HELP = """\
compile the kernels once ahead of time (numba caches them on disk): for container builds and
cluster set-up steps"""
DESCRIPTION = """\
Compile the numba kernels now, so the first training run does not wait for them. With --config,
only what that config uses (its backend and update rule, its sampler's path for its number of
topics, evaluation); without, every kernel of every backend and sampler. The cache lives beside
the installed package, or in NUMBA_CACHE_DIR when that is set."""


def register(sub) -> None:
    p = add_command(sub, NAME, HELP, DESCRIPTION, run)
    p.add_argument("--config", metavar="TOML",
                   help="compile only what this config (a file, or tiny or demo) uses")
    add_set_arg(p, "override a key of --config (e.g. model.n_topics=1000: the sampler's path)")


def run(args) -> int:
    from ..run import warmup

    t0 = time.perf_counter()
    if args.config is None:
        if args.overrides:
            raise ValueError("--set needs --config")
        warmup.run()
        what = "every kernel"
    else:
        from ..config import load

        warmup.for_config(load(config_path(args.config)).with_overrides(args.overrides))
        what = f"the kernels of {args.config}"
    print(f"compiled {what} in {time.perf_counter() - t0:.1f} s (cached for later runs)")
    return 0
