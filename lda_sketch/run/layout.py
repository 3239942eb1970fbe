"""The statistics layout of a run: a config's ``[sketch]`` with its unset keys filled in (from
the byte budget and the training word counts where one applies), shared by
:class:`~lda_sketch.run.engine.EngineParams`, the training driver and the estimator."""
from __future__ import annotations

import dataclasses
import logging

import numpy as np

from .._validation import param_error
from ..config import Config

logger = logging.getLogger(__name__)


def resolved_sketch(cfg: Config, word_counts=None):
    """``(SketchConfig, info)``: ``cfg.sketch`` with its unset keys filled
    (:func:`~lda_sketch.stats.budget.resolve_sketch`). A budget needs ``word_counts``."""
    from ..stats.budget import is_resolved, resolve_sketch, uses_budget

    if word_counts is None:
        sec = cfg.sketch
        if is_resolved(sec):
            return resolve_sketch(dataclasses.replace(sec, budget=None), cfg.model.n_topics,
                                  np.zeros(1, np.int64))[0], None
        if uses_budget(sec):
            raise param_error("word_counts", "EngineParams.from_config",
                              "the training word counts when [sketch] takes its layout from a "
                              "budget", None)
        word_counts = np.zeros(1, np.int64)
    return resolve_sketch(cfg.sketch, cfg.model.n_topics, word_counts)


def resolve_config(cfg: Config, train) -> tuple[Config, dict | None]:
    """``(cfg', layout)``: ``cfg`` with every unset ``[sketch]`` layout key filled in, from the
    byte budget and ``train``'s word counts where one applies (``layout`` then describes the
    choice, else None). The same on every rank: it reads the whole corpus's counts."""
    from ..exceptions import InputFormatError, InvalidParameterError
    from ..stats.budget import describe_layout

    where = cfg.source or "config"
    try:
        sketch, info = resolved_sketch(cfg, train.word_counts())
    except InvalidParameterError as exc:
        raise InputFormatError(f"{where}: [sketch] with backend {cfg.sketch.backend!r} and "
                               f"V = {train.n_vocab:,}: {exc} Fix the [sketch] key (or "
                               f"--set sketch.KEY=VALUE).") from None
    if info is not None:
        info["layout"] = describe_layout(sketch)
        logger.info("sketch budget %s = %s bytes (%.4fx the dense bytes of %s words with tokens): "
                 "%s, %s bytes", info["budget"], f"{info['budget_bytes']:,}", info["bytes_ratio"],
                 f"{info['n_vocab_eff']:,}", info["layout"], f"{info['stats_bytes']:,}")
    return cfg.replace(sketch=sketch), info

