"""``LDASketch``: the Python API (scikit-learn conventions, tomotopy-style browsing).

Example::

    from lda_sketch import LDASketch
    from data_prep.synthetic import planted_corpus

    corpus, _ = planted_corpus(400, 8, 800, 60, seed=1)
    model = LDASketch(8, backend="countmin-morris", n_buckets=2**10, n_iter=30, seed=0)
    model.fit(corpus)
    model.get_topic_words(0, top_n=5)     # [(word, prob), ...]
    model.save("my_model")
    same = LDASketch.load("my_model")

The estimator keeps the parameters and :meth:`~LDASketch.fit`; the trained model (``model_``, a
:class:`~lda_sketch.model.TopicModel`) answers every view. Training runs the loop of
:mod:`lda_sketch.run.train` (the one ``lda-sketch train`` runs) on one process.
"""
from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

from .._validation import check_int
from ..config import param_default
from ..run.engine import Engine, EngineParams, resolved_sketch
from .params import EstimatorParams, model_view as _view, with_choice_lists
from ..evaluation.coherence import coherence
from ..exceptions import InputFormatError, NotFittedError
from .inputs import as_corpus, n_dropped_oov
from ..io.corpus import Corpus
from ..model.files import provenance
from ..run.progress import record_line
from ..model.summary import ModelSummary, summarize
from ..run.threads import numba_threads
from ..run.warmup import prepare as prepare_kernels
from ..model.topic_model import TopicModel
from ..run.interrupts import deferred_interrupt, pending as interrupt_pending
from ..run.loop import TrainingLoop

_D = param_default


class LDASketch(EstimatorParams):
    """LDA trained by SCA with word-topic counts in a (sketched) statistics backend.

    Parameters
    ----------
    n_topics : int, default 100
        Number of topics K (1..65535).
    alpha : float, default 0.1
        Symmetric document-topic prior, per topic.
    beta : float, default 0.01
        Symmetric topic-word prior (called ``eta`` in Blei et al., ``lda`` and tomotopy).
    backend : %(sketch.backend)s, default "countmin-morris"
        Where ``n[w, k]`` lives: exact dense counts, a count-min sketch of int32 cells, or a
        count-min sketch of ``counter_bits``-bit approximate (Morris) counters.
    budget : str or float or None, default None
        Memory for the word-topic statistics: a fraction of the dense int32 bytes (``"1/12"``,
        ``0.085``) or a size (``"64MiB"``). The layout (rows, buckets, collision-free head,
        exact support, conservative update) is chosen from it and the training word counts
        (:mod:`lda_sketch.stats.budget`); layout keys given explicitly are kept. None: ``"1/12"``
        unless a layout key (``n_hashes``, ``n_buckets``, ``head_words``, ``support``,
        ``rescale``) is given. ``model_.config.sketch`` holds the chosen layout.
    n_hashes, n_buckets : int or None, default None
        Count-min rows d and buckets per row w (a power of two >= 16); None: from the budget
        (3 and 2**13 when other layout keys are given). Ignored by ``dense``.
    counter_base : float or None, default None
        Morris counter base b (None: 1.08). ``counter_bits`` (default 8) bits per counter.
    increment : %(sketch.increment)s, default "correlated"
        Whether a key's d Morris cells draw independently or share one uniform.
    conservative : bool or None, default None
        Conservative update (increment only the minimal cells; with Morris counters this is the
        correlated + conservative rule). None: on under a budget with correlated increments,
        else off.
    estimator : %(sketch.estimator)s, default "min"
        Count-min query: the minimum over rows, or count-mean-min (each row's value minus the
        mean collision mass of its bucket, median over rows, clipped to [0, min]).
    support : %(sketch.support)s or None, default None
        Count-min backends: keep one bit per (word, topic) so estimates are 0 where no token
        holds the topic (``n_vocab * ceil(n_topics / 8)`` more bytes); ``filter`` a Bloom filter
        of the words with tokens (hashed ids). None: from the budget.
    rescale : bool or None, default None
        Count-min backends: keep each word's exact token count (``4 * n_vocab`` bytes) and
        scale its estimates to sum to it.
    head_words : int or None, default None
        Count-min backends (None: from the budget): the ``head_words`` most frequent training words, whatever their
        ids, get collision-free counters (``head_words * n_topics`` cells).
    sampler : %(sampler.sampler)s, default "sca"
        The exact SCA law by its faster kernel for K (alias below 600 topics, sparse from 600);
        the same with each token's own assignment left out of its conditional, as collapsed
        Gibbs does (lower perplexity, docs/SAMPLER.md); the SCA law by the sparse kernel at any
        K (only the topics a document and a word share summed); or the O(K) reference.
    init : %(sampler.init)s, default "sparse"
        Initial topic assignment: 20 random topics per document, 10 consecutive ones, or any.
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
        The trained model (:mod:`lda_sketch.model.topic_model`); the attributes below are its views.
    stats_ : TopicWordStats
        The merged word-topic statistics.
    n_iter_ : int
        Iterations completed.
    history_ : list of dict
        One dict per evaluation (keys: ``lda_sketch.run.loop.METRIC_KEYS``).
    vocab_ : list of str or None
    word_counts_ : ndarray of shape (n_vocab,)
        Training word frequencies (for the unigram baseline).
    topic_word_, components_ : ndarray of shape (n_topics, n_vocab)
        phi, rows normalised over the whole vocabulary (computed on access).

    Documents (``X``, ``heldout``) may be a Corpus, a corpus directory, a count matrix, token
    lists or gensim bag-of-words lists (:mod:`lda_sketch.api.inputs`; docs/USAGE.md).
    """

    def __init__(self, n_topics: int = _D("n_topics"), *, alpha: float = _D("alpha"),
                 beta: float = _D("beta"), backend: str = _D("backend"),
                 budget=_D("budget"), n_hashes: int = _D("n_hashes"), n_buckets: int = _D("n_buckets"),
                 counter_base: float = _D("counter_base"), increment: str = _D("increment"),
                 conservative: bool = _D("conservative"), counter_bits: int = _D("counter_bits"),
                 estimator: str = _D("estimator"), support: str = _D("support"),
                 rescale: bool = _D("rescale"), head_words: int = _D("head_words"),
                 sampler: str = _D("sampler"),
                 init: str = _D("init"), n_iter: int = _D("n_iter"), seed: int = _D("seed"),
                 n_threads: int | None = _D("n_threads"),
                 evaluate_every: int | None = _D("evaluate_every"),
                 fold_in_iters: int = _D("fold_in_iters")):
        self.n_topics = n_topics
        self.alpha = alpha
        self.beta = beta
        self.backend = backend
        self.budget = budget
        self.n_hashes = n_hashes
        self.n_buckets = n_buckets
        self.counter_base = counter_base
        self.increment = increment
        self.conservative = conservative
        self.counter_bits = counter_bits
        self.estimator = estimator
        self.support = support
        self.rescale = rescale
        self.head_words = head_words
        self.sampler = sampler
        self.init = init
        self.n_iter = n_iter
        self.seed = seed
        self.n_threads = n_threads
        self.evaluate_every = evaluate_every
        self.fold_in_iters = fold_in_iters
        self._config = None          # the run config, when built from one
        self._engine = None
        self._corpus = None          # the documents of the last fit (coherence, summary)
        self._model = None           # model_ (a property: scikit-learn sets nothing else here)

    # ------------------------------------------------------------------ fitting
    @deferred_interrupt
    def fit(self, X, y=None, *, heldout=None, vocab=None, n_iter: int | None = None,
            verbose: bool = False, callback=None) -> "LDASketch":
        """Fit from scratch on ``X``: a :class:`Corpus`, a corpus directory, a document-term
        count matrix (``scipy.sparse``, e.g. ``CountVectorizer`` output; ``vocab`` = its
        ``get_feature_names_out()``), a list of token lists, or gensim-style bag-of-words
        documents (``vocab`` = the id -> word map). ``y`` is ignored (scikit-learn protocol).

        ``heldout``: optional documents (same kinds, mapped into the training vocabulary)
        scored every ``evaluate_every`` iterations and at the end (records in ``history_``).
        ``n_iter`` overrides the constructor's value for this call. ``verbose``: print one line
        per evaluation to stderr; ``callback(record)`` is called after each evaluation.
        """
        if isinstance(y, (Corpus, str, Path)):
            raise TypeError("LDASketch.fit(X, y): y is ignored; pass held-out documents as "
                            "fit(X, heldout=...)")
        self._validate()
        corpus = as_corpus(X, "X", vocab=vocab)
        if corpus.n_tokens == 0:
            raise InputFormatError(f"LDASketch.fit: X has no tokens ({corpus.n_docs} "
                                   f"documents); nothing to fit")
        heldout = as_corpus(heldout, "heldout", ref=corpus) if heldout is not None else None
        cfg = self.to_config()
        self._warn_unread(cfg)
        sketch = resolved_sketch(cfg, corpus.word_counts())[0]
        cfg = cfg.replace(sketch=sketch)  # the chosen layout is the model's config
        n_iter = self.n_iter if n_iter is None else check_int(n_iter, "n_iter", "LDASketch.fit",
                                                              lo=0)
        with numba_threads(self.n_threads):
            prepare_kernels(cfg)  # a first fit compiles here (logged), outside history's timings
            engine = Engine(EngineParams.from_config(cfg), corpus, corpus.n_vocab,
                            heldout=heldout)
            engine.initialize()
            self._engine, self._corpus = engine, corpus
            self.model_ = replace(engine.model(), vocab=corpus.vocab, config=cfg,
                                  reverse_map=corpus.reverse_map,
                                  provenance=provenance(corpus.manifest))
            self._run(n_iter, verbose=verbose, callback=callback, final=True)
        return self

    def fit_transform(self, X, y=None, **fit_params) -> np.ndarray:
        """:meth:`fit` then :meth:`transform` of the same documents: theta (n_docs, n_topics)."""
        vocab = fit_params.get("vocab")
        corpus = as_corpus(X, "X", vocab=vocab)
        return self.fit(corpus, y, **{k: v for k, v in fit_params.items()
                                      if k != "vocab"}).transform(corpus)

    @deferred_interrupt
    def continue_fit(self, n_iter: int = 1, *, verbose: bool = False,
                     callback=None) -> "LDASketch":
        """Run ``n_iter`` more iterations on the corpus of the last :meth:`fit`.

        ``fit(n_iter=a)`` then ``continue_fit(b)`` is bitwise identical to ``fit(n_iter=a+b)``
        (up to where evaluations happened). A call evaluates at the multiples of
        ``evaluate_every`` and, only when ``fit`` was given ``heldout``, at its last iteration:
        looping ``continue_fit(1)`` without held-out data pays no evaluation in between. Needs
        a model fitted in this process (a loaded model has no topic assignments; use
        ``lda-sketch train --resume`` with a checkpoint).
        """
        if self._engine is None:
            raise NotFittedError("continue_fit continues a fit() made in this process; a loaded "
                                 "model has no topic assignments (resume a run from its "
                                 "checkpoint with `lda-sketch train --resume RUN_DIR`).")
        n_iter = check_int(n_iter, "n_iter", "LDASketch.continue_fit", lo=0)
        with numba_threads(self.n_threads):
            self._run(n_iter, verbose=verbose, callback=callback,
                      final=self._engine.heldout is not None)
        return self

    def _run(self, n_more: int, *, verbose: bool = False, callback=None,
             final: bool = True) -> None:
        history = self.model_.history
        loop = TrainingLoop(self._engine, history=history, evaluate_every=self.evaluate_every or 0,
                            elapsed=history[-1]["elapsed"] if history else 0.0,
                            evaluate_last=final)

        def on_record(rec):
            if verbose:
                print(record_line(rec), file=sys.stderr, flush=True)
            if callback is not None:
                callback(dict(rec))

        loop.run(self._engine.iteration + n_more, on_record=on_record, stop=interrupt_pending)
        # A fresh view of the new statistics; vocabulary, config and history carry over.
        view = self._engine.model()
        self.model_ = replace(self.model_, stats=view.stats, iteration=view.iteration,
                              alpha=view.alpha, _phi_den=None)  # alpha: optimised or not

    # ------------------------------------------------------------------ the trained model
    def _fitted(self) -> TopicModel:
        if self.model_ is None:
            raise NotFittedError("This LDASketch is not fitted yet; call fit() or "
                                 "LDASketch.load() first.")
        return self.model_

    model_ = property(lambda self: self._model, lambda self, m: setattr(self, "_model", m),
                      doc="The fitted TopicModel, or None before fit/load.")
    # Views of model_ (documented in the class docstring).
    stats_ = _view("stats")
    n_iter_ = _view("iteration")
    history_ = _view("history")
    vocab_ = _view("vocab")
    reverse_map_ = _view("reverse_map")
    word_counts_ = _view("word_counts")
    n_vocab_ = _view("n_vocab")

    @property
    def topic_word_(self) -> np.ndarray:
        """phi: float64 (n_topics, n_vocab), rows sum to 1. Allocates K x V."""
        return self._fitted().topic_word()

    @property
    def components_(self) -> np.ndarray:
        """scikit-learn's name for :attr:`topic_word_` (n_topics, n_vocab); normalised rows,
        where ``LatentDirichletAllocation.components_`` holds unnormalised pseudo-counts."""
        return self.topic_word_

    def topic_word_columns(self, words) -> np.ndarray:
        """phi columns for ``words``: float64 (n_topics, len(words))."""
        return self._fitted().topic_word_columns(words)

    def get_topic_words(self, topic_id: int, top_n: int = 10) -> list[tuple[str, float]]:
        """The ``top_n`` most probable words of topic ``topic_id`` as ``[(word, prob), ...]``."""
        check_int(topic_id, "topic_id", "get_topic_words", lo=0, hi=self.n_topics - 1)
        return self._fitted().get_topic_words(topic_id, top_n)

    def top_words(self, top_n: int = 10, *,
                  relevance: float | None = None) -> list[list[tuple[str, float]]]:
        """:meth:`TopicModel.top_words` (``relevance`` in [0, 1]: pyLDAvis ranking; probs kept)."""
        return self._fitted().top_words(top_n, relevance=relevance)

    # ------------------------------------------------------------------ inference
    @deferred_interrupt
    def transform(self, X, *, vocab=None) -> np.ndarray:
        """Document-topic proportions theta: float64 (n_docs, n_topics), rows sum to 1.

        ``X``: any input :meth:`fit` takes, mapped into the model's vocabulary (unknown words
        dropped; a Corpus over another vocabulary is refused). EM fold-in with phi fixed on all
        tokens of each document (``fold_in_iters`` steps).
        """
        model = self._fitted()
        corpus = as_corpus(X, "X", vocab=vocab, ref=model)
        with numba_threads(self.n_threads):
            return model.transform(corpus, n_iter=int(self.fold_in_iters))

    @deferred_interrupt
    def evaluate(self, heldout, *, vocab=None, comm=None) -> dict:
        """Document-completion evaluation (protocol: :mod:`lda_sketch.evaluation.perplexity`).

        ``heldout``: any input :meth:`fit` takes, mapped into the model's vocabulary. Returns
        ``{"perplexity", "unigram_perplexity", "loglik", "n_scored", "n_observed", "n_oov",
        "t_eval"}``; ``n_oov`` includes the tokens dropped as unknown words by that mapping.
        """
        model = replace(self._fitted(), fold_in_iters=int(self.fold_in_iters))
        heldout = as_corpus(heldout, "heldout", vocab=vocab, ref=model)
        with numba_threads(self.n_threads):
            out = model.evaluate(heldout, comm=comm)
        out["n_oov"] += n_dropped_oov(heldout)
        return out

    @deferred_interrupt
    def perplexity(self, heldout, *, vocab=None) -> float:
        """Held-out perplexity by document completion (lower is better)."""
        return float(self.evaluate(heldout, vocab=vocab)["perplexity"])

    @deferred_interrupt
    def score(self, X, y=None, *, vocab=None) -> float:
        """Held-out log-likelihood per scored token by document completion (higher is better;
        ``-log(perplexity)``), the score ``GridSearchCV`` maximises. ``y`` is ignored."""
        res = self.evaluate(X, vocab=vocab)
        return float(res["loglik"] / res["n_scored"]) if res["n_scored"] else float("nan")

    def coherence(self, X=None, *, top_n: int = 10, vocab=None) -> dict:
        """UMass and NPMI of each topic's ``top_n`` words over the documents ``X`` (default:
        the training documents of this process's fit), and topic diversity
        (:func:`lda_sketch.evaluation.coherence.coherence`)."""
        ids, _ = self._fitted().top_word_ids(top_n)
        return coherence(ids, self._docs(X, vocab))

    def summary(self, X=None, *, top_n: int = 10, file=None) -> ModelSummary:
        """The :class:`~lda_sketch.model.summary.ModelSummary` (repr: the text report), coherence
        over ``X`` or the training documents when known; printed only to a ``file`` given."""
        docs = self._docs(X, None) if X is not None or self._corpus is not None else None
        out = summarize(self._fitted(), corpus=docs, top_n=top_n,
                        documents="training" if X is None else "given")
        if file is not None:
            print(out, file=file)
        return out

    def _docs(self, X, vocab) -> Corpus:
        if X is None:
            if self._corpus is None:
                raise ValueError("no documents: pass X (the model was not fitted in this "
                                 "process, so its training documents are unknown)")
            return self._corpus
        return as_corpus(X, "X", vocab=vocab, ref=self._fitted())

    # ------------------------------------------------------------------ persistence
    @deferred_interrupt
    def save(self, path, *, overwrite: bool = False) -> Path:
        """Write the model directory ``path`` atomically (format: :mod:`lda_sketch.model.files`)."""
        model = replace(self._fitted(), config=self.to_config(), beta=float(self.beta),
                        fold_in_iters=int(self.fold_in_iters))  # alpha: the model's (optimised)
        return model.save(path, overwrite=overwrite)

    @classmethod
    @deferred_interrupt
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


LDASketch.__doc__ = with_choice_lists(LDASketch.__doc__)  # the config's choices, always


def load_model(path) -> LDASketch:
    """Shorthand for :meth:`LDASketch.load`."""
    return LDASketch.load(path)
