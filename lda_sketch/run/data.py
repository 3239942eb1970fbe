"""The corpora a config names, and the checks made wherever a second corpus meets a model.

:func:`load_data` opens ``[data]`` (memory-mapped directories, or the built-in corpus) and
splits off held-out documents; :func:`check_same_vocab` refuses a held-out corpus over another
vocabulary (used by training, by the estimator and by ``lda-sketch evaluate``).
"""
from __future__ import annotations

from pathlib import Path

from ..config import Config
from ..exceptions import InputFormatError
from ..io.corpus import Corpus, heldout_split


def load_data(cfg: Config) -> tuple[Corpus, Corpus | None]:
    """The (train, heldout) corpora a config names, whole (shard them with
    :func:`~lda_sketch.distributed.partition.shard_of`).

    ``[data] embedded = true`` builds (once, then caches) the built-in corpus; otherwise ``train``
    is memory-mapped. Without a ``heldout`` directory, ``n_heldout`` documents are split off at
    random by ``split_seed``.
    """
    d, src = cfg.data, cfg.source or "config"
    heldout = None
    if d.embedded:
        from data_prep.embedded import build_embedded_corpus

        # The built-in corpus splits off its held-out documents before building the
        # vocabulary (held-out words outside it are counted as OOV), like `lda-sketch prep`.
        n_held = 0 if d.heldout is not None else d.n_heldout
        train, held = build_embedded_corpus(heldout=n_held, seed=d.split_seed)
        if n_held:
            heldout = held
    elif d.train is None:
        raise InputFormatError(f"{src}: [data].train is not set; give a corpus directory "
                               f"(`lda-sketch prep` output) or set [data].embedded = true")
    else:
        train = open_corpus(d.train, f"{src}: [data].train")
    if d.heldout is not None:
        heldout = open_corpus(d.heldout, f"{src}: [data].heldout")
        check_same_vocab(train, heldout, f"{src}: [data].heldout")
    elif d.n_heldout and not d.embedded:
        if d.n_heldout >= train.n_docs:
            raise InputFormatError(f"{src}: [data].n_heldout must be < the "
                                   f"{train.n_docs} documents of {training_corpus(cfg)}, got "
                                   f"{d.n_heldout}")
        keep, held = heldout_split(train.n_docs, d.n_heldout, d.split_seed)
        train, heldout = train.subset(keep), train.subset(held)
    return train, heldout


def training_corpus(cfg: Config) -> str:
    """The training corpus a config names, for messages: its directory, or the built-in one."""
    return "the built-in corpus" if cfg.data.embedded else f"the training corpus {cfg.data.train}"


def heldout_source(cfg: Config) -> str | None:
    """Where a config's held-out documents come from: ``"directory"`` ([data].heldout),
    ``"embedded"``, ``"split"`` (n_heldout split off [data].train), or None (no held-out)."""
    d = cfg.data
    if d.heldout is not None:
        return "directory"
    if not d.n_heldout:
        return None
    return "embedded" if d.embedded else "split"


def heldout_index(cfg: Config, n_docs: int):
    """The indices in [data].train (of ``n_docs`` documents) of the documents a ``"split"``
    config holds out (sorted int64), or None for any other source."""
    if heldout_source(cfg) != "split":
        return None
    return heldout_split(n_docs, cfg.data.n_heldout, cfg.data.split_seed)[1]


def open_corpus(path, where: str) -> Corpus:
    """Open corpus directory ``path``; ``where`` names the setting that gave it (messages)."""
    if not Path(path).is_dir():
        raise InputFormatError(f"{where} = {str(path)!r} is not a directory; build the corpus "
                               f"with `lda-sketch prep` or fix the path (relative paths in a "
                               f"config are taken from the config file's folder)")
    return Corpus.open(path)


def check_same_vocab(train, other: Corpus, where: str) -> None:
    """Refuse ``other`` unless it uses the vocabulary of ``train`` (a Corpus or a TopicModel):
    same size and, where both have word lists, the same words in the same order."""
    n_train = train.n_vocab
    vocab = train.vocab
    same = n_train == other.n_vocab and (
        vocab is None or other.vocab is None or list(vocab) == list(other.vocab))
    if not same:
        raise InputFormatError(
            f"{where}: its vocabulary ({other.n_vocab} words) is not the training "
            f"vocabulary ({n_train} words); prepare it with the training corpus's vocabulary "
            f"(`lda-sketch prep ... --vocab-from TRAIN_DIR`)")
