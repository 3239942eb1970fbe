"""One sub-command's parser: help and description given as prose (wrapped for reading, one
paragraph each), the command's ``run(args) -> int`` as its ``func``."""
from __future__ import annotations

import argparse


def add_command(sub, name: str, help: str, description: str | None, run, **kwargs):
    """``sub.add_parser(name, ...)`` with ``help`` and ``description`` flowed to one line each
    (argparse wraps them again for the terminal); returns the parser for its arguments."""
    p = sub.add_parser(name, help=" ".join(help.split()),
                       description=" ".join(description.split()) if description else None,
                       **kwargs)
    p.set_defaults(func=run)
    # -v after the command too (`lda-sketch topics RUN -v`); unset, the top level's count holds
    p.add_argument("-v", "--verbose", action="count", default=argparse.SUPPRESS,
                   help="more log output")
    return p


def add_model_arg(p) -> None:
    """The ``RUN_DIR|MODEL_DIR`` positional of the commands that read a trained model."""
    p.add_argument("path", metavar="RUN_DIR|MODEL_DIR",
                   help="a run directory (its model/ is used) or a model directory")


def add_set_arg(p, help: str) -> None:
    """``--set SECTION.KEY=V`` (repeatable; into ``args.overrides``): config overrides."""
    p.add_argument("--set", dest="overrides", action="append", default=[],
                   metavar="SECTION.KEY=V", help=help)


def config_path(value: str):
    """``--config VALUE`` as a path: the file VALUE when it exists, else the config of that name
    shipped in the package (``tiny``, ``demo``, with or without ``.toml``); an
    :class:`~lda_sketch.exceptions.InputFormatError` naming the shipped ones otherwise."""
    from pathlib import Path

    from .. import configs
    from ..exceptions import InputFormatError

    given = Path(value)
    if given.exists():
        return given
    shipped = configs.path(value) if given.name == value else None
    if shipped is not None:
        return shipped
    raise InputFormatError(f"--config {value}: no such file, and not a config shipped with "
                           f"lda_sketch (those are: {', '.join(configs.names())})")
