"""``LDASketch``: the Python API (scikit-learn conventions, tomotopy-style browsing).

Example::

    from lda_sketch import LDASketch
    from lda_sketch.synthetic import planted_corpus

    corpus, _ = planted_corpus(400, 8, 800, 60, seed=1)
    model = LDASketch(8, backend="countmin-morris", n_buckets=2**10, n_iter=30, seed=0)
    model.fit(corpus)
    model.get_topic_words(0, top_n=5)     # [(word, prob), ...]
    model.save("my_model")
    same = LDASketch.load("my_model")

The estimator keeps the parameters and :meth:`~LDASketch.fit`; the trained model is a
:class:`~lda_sketch.topic_model.TopicModel` (``model_``), to which every view is delegated.
Training runs the loop of :mod:`lda_sketch.train` (the one ``lda-sketch train`` runs) on one
process.
"""
from __future__ import annotations

import dataclasses
from dataclasses import replace
from pathlib import Path

import numpy as np

from . import config as config_mod
from ._validation import check_int, param_error
from .config import PARAM_SECTIONS, param_default
from .data import check_same_vocab
from .engine import Engine, EngineParams
from .exceptions import NotFittedError
from .io.corpus import Corpus
from .io.model_io import provenance
from .threads import numba_threads
from .topic_model import TopicModel
from .train import Loop

_D = param_default


class LDASketch:
    """LDA trained by SCA with word-topic counts in a (sketched) statistics backend.

    Parameters
    ----------
    n_topics : int, default 100
        Number of topics K (1..65535).
    alpha : float, default 0.1
        Symmetric document-topic prior, per topic.
    beta : float, default 0.01
        Symmetric topic-word prior (called ``eta`` in Blei et al., ``lda`` and tomotopy).
    backend : {"dense", "countmin", "countmin-morris"}, default "countmin-morris"
        Where ``n[w, k]`` lives: exact dense counts, a count-min sketch of int32 cells, or a
        count-min sketch of ``counter_bits``-bit approximate (Morris) counters.
    n_hashes, n_buckets : int, default 3 and 2**13
        Count-min rows d and buckets per row w (a power of two >= 16). Ignored by ``dense``.
    counter_base : float, default 1.08
        Morris counter base b. ``counter_bits`` (default 8) bits per counter.
    increment : {"independent", "correlated"}, default "correlated"
        Whether a key's d Morris cells draw independently or share one uniform.
    conservative : bool, default False
        Conservative update (increment only the minimal cells; with Morris counters this is the
        correlated + conservative rule).
    estimator : {"min", "mean-min"}, default "min"
        Count-min query: the minimum over rows, or count-mean-min (each row's value minus the
        mean collision mass of its bucket, median over rows, clipped to [0, min]).
    sampler : {"sca", "sem"}, default "sca"
        Fast word-major SCA kernel, or the plain O(K)-per-token reference.
    init : {"sparse", "uniform"}, default "sparse"
        Initial topic assignment.
    n_iter : int, default 100
        SCA iterations run by :meth:`fit`.
    seed : int, default 0
        Seed of every random draw (hashes, init, sampling, counters, merges).
    n_threads : int or None
        numba threads while fitting/evaluating (restored afterwards). Results do not depend on it.
    evaluate_every : int, default 10
        With a held-out corpus given to :meth:`fit`: evaluate every this many iterations (and at
        the end; gensim's ``eval_every``). None or 0: only at the end.
    fold_in_iters : int, default 100
        EM steps of the theta fold-in used by :meth:`perplexity` and :meth:`transform`.

    Every default is the config's (``lda-sketch train --help`` lists them).

    Attributes
    ----------
    model_ : TopicModel
        The trained model (:mod:`lda_sketch.topic_model`); the attributes below are its views.
    stats_ : TopicWordStats
        The merged word-topic statistics.
    n_iter_ : int
        Iterations completed.
    history_ : list of dict
        One dict per evaluation (keys: ``lda_sketch.train.METRIC_KEYS``).
    vocab_ : list of str or None
    word_counts_ : ndarray of shape (n_vocab,)
        Training word frequencies (for the unigram baseline).
    topic_word_ : ndarray of shape (n_topics, n_vocab)
        phi, rows normalised over the whole vocabulary (computed on access).
    """

    def __init__(self, n_topics: int = _D("n_topics"), *, alpha: float = _D("alpha"),
                 beta: float = _D("beta"), backend: str = _D("backend"),
                 n_hashes: int = _D("n_hashes"), n_buckets: int = _D("n_buckets"),
                 counter_base: float = _D("counter_base"), increment: str = _D("increment"),
                 conservative: bool = _D("conservative"), counter_bits: int = _D("counter_bits"),
                 estimator: str = _D("estimator"), sampler: str = _D("sampler"),
                 init: str = _D("init"), n_iter: int = _D("n_iter"), seed: int = _D("seed"),
                 n_threads: int | None = _D("n_threads"),
                 evaluate_every: int | None = _D("evaluate_every"),
                 fold_in_iters: int = _D("fold_in_iters")):
        self.n_topics = n_topics
        self.alpha = alpha
        self.beta = beta
        self.backend = backend
        self.n_hashes = n_hashes
        self.n_buckets = n_buckets
        self.counter_base = counter_base
        self.increment = increment
        self.conservative = conservative
        self.counter_bits = counter_bits
        self.estimator = estimator
        self.sampler = sampler
        self.init = init
        self.n_iter = n_iter
        self.seed = seed
        self.n_threads = n_threads
        self.evaluate_every = evaluate_every
        self.fold_in_iters = fold_in_iters
        self._config = None          # the run config, when built from one
        self._engine = None
        self.model_ = None

    # ------------------------------------------------------------------ params / config
    def get_params(self, deep: bool = True) -> dict:
        """The constructor parameters (scikit-learn protocol; no nested estimators)."""
        return {k: getattr(self, k) for k in PARAM_SECTIONS}

    def set_params(self, **params) -> "LDASketch":
        for k, v in params.items():
            if k not in PARAM_SECTIONS:
                raise param_error(k, "LDASketch", "one of " + ", ".join(PARAM_SECTIONS), v)
            setattr(self, k, v)
        return self

    def to_config(self) -> config_mod.Config:
        """The validated :class:`~lda_sketch.config.Config` of these parameters (``[data]`` and
        ``[output]`` from the config this model was built from, if any)."""
        self._validate()
        base = self._config or config_mod.Config()
        sections = {s: {} for s in config_mod.SECTIONS}
        for k, s in PARAM_SECTIONS.items():
            v = getattr(self, k)
            if k == "evaluate_every" and v is None:
                v = 0
            sections[s][k] = v
        return base.replace(**{s: dataclasses.replace(getattr(base, s), **kv)
                               for s, kv in sections.items() if kv})

    @classmethod
    def from_config(cls, cfg: config_mod.Config) -> "LDASketch":
        """Build from a :class:`~lda_sketch.config.Config` (or a path to a TOML file)."""
        if not isinstance(cfg, config_mod.Config):
            cfg = config_mod.load(cfg)
        kw = {k: getattr(getattr(cfg, s), k) for k, s in PARAM_SECTIONS.items()}
        kw["evaluate_every"] = kw["evaluate_every"] or None
        model = cls(**kw)
        model._config = cfg
        return model

    def _validate(self) -> None:
        """Check every parameter against the config table (scikit-learn message shape)."""
        for k, s in PARAM_SECTIONS.items():
            v = getattr(self, k)
            if k == "evaluate_every":  # None (not 0) means "only at the end" here
                if v is not None:
                    check_int(v, k, "LDASketch", lo=1)
                continue
            config_mod.check_param(v, k, "LDASketch", s)

    # ------------------------------------------------------------------ fitting
    def fit(self, corpus, heldout=None, *, n_iter: int | None = None) -> "LDASketch":
        """Fit from scratch on ``corpus`` (a :class:`Corpus` or corpus directory).

        ``heldout``: optional corpus scored every ``evaluate_every`` iterations and at the end
        (records in ``history_``). ``n_iter`` overrides the constructor's value for this call.
        """
        self._validate()
        corpus = _as_corpus(corpus, "corpus")
        heldout = _as_corpus(heldout, "heldout") if heldout is not None else None
        if heldout is not None:
            check_same_vocab(corpus, heldout, "LDASketch.fit(heldout=...)")
        cfg = self.to_config()
        n_iter = self.n_iter if n_iter is None else check_int(n_iter, "n_iter", "LDASketch.fit",
                                                              lo=0)
        with numba_threads(self.n_threads):
            engine = Engine(EngineParams.from_config(cfg), corpus, corpus.n_vocab,
                            heldout=heldout)
            engine.initialize()
            self._engine = engine
            self.model_ = replace(engine.model(), vocab=corpus.vocab, config=cfg,
                                  reverse_map=corpus.reverse_map,
                                  provenance=provenance(corpus.manifest))
            self._run(n_iter)
        return self

    def partial_fit(self, n_iter: int = 1) -> "LDASketch":
        """Continue fitting the same corpus for ``n_iter`` more iterations.

        ``fit(n_iter=a)`` then ``partial_fit(b)`` is bitwise identical to ``fit(n_iter=a+b)``
        (up to where evaluations happened). Needs a model fitted in this process (a loaded model
        has no topic assignments; use ``lda-sketch train --resume`` with a checkpoint).
        """
        if self._engine is None:
            raise NotFittedError("partial_fit continues a fit() made in this process; a loaded "
                                 "model has no topic assignments (resume a run from its "
                                 "checkpoint with `lda-sketch train --resume RUN_DIR`).")
        n_iter = check_int(n_iter, "n_iter", "LDASketch.partial_fit", lo=0)
        with numba_threads(self.n_threads):
            self._run(n_iter)
        return self

    def _run(self, n_more: int) -> None:
        history = self.model_.history
        loop = Loop(self._engine, history=history, evaluate_every=self.evaluate_every or 0,
                    elapsed=history[-1]["elapsed"] if history else 0.0)
        loop.run(self._engine.iteration + n_more)
        # A fresh view of the new statistics; vocabulary, config and history carry over.
        view = self._engine.model()
        self.model_ = replace(self.model_, stats=view.stats, iteration=view.iteration,
                              _phi_den=None)

    # ------------------------------------------------------------------ the trained model
    def _fitted(self) -> TopicModel:
        if self.model_ is None:
            raise NotFittedError("This LDASketch is not fitted yet; call fit() or "
                                 "LDASketch.load() first.")
        return self.model_

    @property
    def stats_(self):
        return self._fitted().stats

    @property
    def n_iter_(self) -> int:
        return self._fitted().iteration

    @property
    def history_(self) -> list:
        return self._fitted().history

    @property
    def vocab_(self):
        return self._fitted().vocab

    @property
    def reverse_map_(self):
        return self._fitted().reverse_map

    @property
    def word_counts_(self) -> np.ndarray:
        return self._fitted().word_counts

    @property
    def n_vocab_(self) -> int:
        return self._fitted().n_vocab

    @property
    def topic_word_(self) -> np.ndarray:
        """phi: float64 (n_topics, n_vocab), rows sum to 1. Allocates K x V."""
        return self._fitted().topic_word()

    def topic_word_columns(self, words) -> np.ndarray:
        """phi columns for ``words``: float64 (n_topics, len(words))."""
        return self._fitted().topic_word_columns(words)

    def get_topic_words(self, topic_id: int, top_n: int = 10) -> list[tuple[str, float]]:
        """The ``top_n`` most probable words of topic ``topic_id`` as ``[(word, prob), ...]``."""
        check_int(topic_id, "topic_id", "get_topic_words", lo=0, hi=self.n_topics - 1)
        return self._fitted().get_topic_words(topic_id, top_n)

    def top_words(self, top_n: int = 10) -> list[list[tuple[str, float]]]:
        """``get_topic_words`` for every topic (one pass over the vocabulary, in chunks)."""
        return self._fitted().top_words(top_n)

    # ------------------------------------------------------------------ inference
    def transform(self, corpus) -> np.ndarray:
        """Document-topic proportions theta: float64 (n_docs, n_topics), rows sum to 1.

        EM fold-in with phi fixed on all tokens of each document (``fold_in_iters`` steps).
        Word ids outside the training vocabulary are ignored.
        """
        model = self._fitted()
        corpus = _as_corpus(corpus, "corpus")
        with numba_threads(self.n_threads):
            return model.transform(corpus, n_iter=int(self.fold_in_iters))

    def evaluate(self, heldout, *, comm=None) -> dict:
        """Document-completion evaluation (protocol: :mod:`lda_sketch.evaluation.perplexity`).

        Returns ``{"perplexity", "unigram_perplexity", "loglik", "n_scored", "n_observed",
        "n_oov", "t_eval"}``.
        """
        model = replace(self._fitted(), fold_in_iters=int(self.fold_in_iters))
        heldout = _as_corpus(heldout, "heldout")
        with numba_threads(self.n_threads):
            return model.evaluate(heldout, comm=comm)

    def perplexity(self, heldout) -> float:
        """Held-out perplexity by document completion (lower is better)."""
        return float(self.evaluate(heldout)["perplexity"])

    # ------------------------------------------------------------------ persistence
    def save(self, path, *, overwrite: bool = False) -> Path:
        """Write the model directory ``path`` atomically (format: :mod:`lda_sketch.io.model_io`)."""
        model = replace(self._fitted(), config=self.to_config(), alpha=float(self.alpha),
                        beta=float(self.beta), fold_in_iters=int(self.fold_in_iters))
        return model.save(path, overwrite=overwrite)

    @classmethod
    def load(cls, path) -> "LDASketch":
        """Load a model directory written by :meth:`save` (or ``RUN_DIR/model``)."""
        return cls.from_model(TopicModel.load(path))

    @classmethod
    def from_model(cls, model: TopicModel) -> "LDASketch":
        """An estimator holding ``model`` (its parameters are the model's)."""
        kw = model.params()
        kw["evaluate_every"] = kw["evaluate_every"] or None
        est = cls(**kw)
        est._config = model.config
        est.model_ = model
        return est

    def __repr__(self) -> str:
        defaults = LDASketch().get_params()
        args = [repr(self.n_topics)] + [f"{k}={v!r}" for k, v in self.get_params().items()
                                        if k != "n_topics" and v != defaults[k]]
        return f"LDASketch({', '.join(args)})"


def load_model(path) -> LDASketch:
    """Shorthand for :meth:`LDASketch.load`."""
    return LDASketch.load(path)


def _as_corpus(x, name: str) -> Corpus:
    if isinstance(x, Corpus):
        return x
    if isinstance(x, (str, Path)):
        return Corpus.open(x)
    raise TypeError(f"{name} must be a Corpus or a corpus directory path, "
                    f"got {type(x).__name__}")
