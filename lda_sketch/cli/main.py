"""``lda-sketch`` entry point. Each subcommand lives in its own module exposing ``register(sub)``.

``register`` adds an argparse sub-parser whose ``func(args) -> int`` runs the command.
"""
from __future__ import annotations

import argparse
import contextlib
import importlib
import sys

from .._version import __version__

# Subcommand modules, in --help order. A module missing here is simply not offered.
COMMANDS = ["info", "prep", "corpus_stats", "train", "topics", "evaluate", "infer", "summary",
            "export", "plot", "sweep", "sweep_summary", "demo", "warmup"]


def build_parser(argv=None) -> argparse.ArgumentParser:
    """The ``lda-sketch`` parser. Only the command named in ``argv`` (if any) gets its full
    sub-parser; the others get their name and help line, so ``lda-sketch --help`` imports no
    numerical library. ``argv=None``: every command in full."""
    parser = argparse.ArgumentParser(
        prog="lda-sketch",
        description="Train LDA topic models with the SCA sampler on word-topic counts held in "
                    "count-min sketches of exact or approximate (Morris) counters. Run under "
                    "`mpiexec -n P lda-sketch train ...` to shard documents across P ranks.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"lda_sketch {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    chosen = None if argv is None else next((a for a in argv if not a.startswith("-")), "")
    for name in COMMANDS:
        try:
            mod = importlib.import_module(f"lda_sketch.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"lda_sketch.cli.{name}":
                raise
            continue
        if chosen is None or chosen == mod.NAME:
            mod.register(sub)
        else:
            sub.add_parser(mod.NAME, help=" ".join(mod.HELP.split()))
    return parser


def main(argv=None) -> int:
    """Run ``lda-sketch`` on ``argv`` (None: ``sys.argv``, i.e. the program itself, which then
    ignores SIGINT and SIGTERM once its exit status is settled: a signal during interpreter
    shutdown would otherwise turn a finished command into a killed one)."""
    try:
        code = _main(argv)
    finally:
        if argv is None:
            from ..run.interrupts import ignore_signals
            ignore_signals()
    if argv is None and code == 130 and "mpi4py.MPI" not in sys.modules:  # MPI must finalize
        # A Ctrl-C that landed while an extension module ran Python code during its import
        # leaves CPython's "unhandled KeyboardInterrupt" mark set, and the interpreter would
        # then kill itself with SIGINT at exit although the interrupt was handled here.
        import os
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)
    return code


def _main(argv) -> int:
    try:  # building the chosen command's parser may import numpy and numba: seconds
        parser = build_parser(sys.argv[1:] if argv is None else list(argv))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    if not getattr(args, "configures_logging", False):
        from ._logging import configure_logging
        configure_logging(args.verbose)
    from ..exceptions import MissingDependencyError
    from ..run.interrupts import EXIT_INTERRUPTED, is_interrupt, sigterm_as_interrupt

    try:
        with sigterm_as_interrupt():  # `train` installs its own handlers over this one
            return int(args.func(args) or 0)
    except BrokenPipeError:
        return _reader_gone()
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except SystemError as exc:  # a KeyboardInterrupt raised inside a numba kernel
        if not is_interrupt(exc):
            raise
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (OSError, ValueError, MissingDependencyError) as exc:
        # Library errors carry file/line/key and a remedy; show them without a traceback.
        if args.verbose:
            raise
        print(f"lda-sketch {args.command}: error: {exc}", file=sys.stderr)
        return 1


def _reader_gone() -> int:
    """The reader of stdout closed the pipe (``lda-sketch corpus-stats DIR | head``): stop
    quietly, with the shell's status for SIGPIPE (128 + 13), and let nothing more be written
    (Python would otherwise report the failed flush of stdout at exit)."""
    import os

    with contextlib.suppress(OSError, ValueError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 141


if __name__ == "__main__":
    sys.exit(main())
