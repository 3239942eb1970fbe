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

Training runs through :mod:`lda_sketch.train` (the same loop as ``lda-sketch train``) on one
process; the fitted model holds only the merged statistics (``stats_``), never a ``V x K`` matrix
unless ``topic_word_`` is asked for.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from . import config as config_mod
from ._validation import check_int, param_error
from .exceptions import NotFittedError
from .io.corpus import Corpus, hashed_word

# Estimator parameter -> config section, in signature order: one source of truth for names.
_PARAM_SECTIONS = {
    "n_topics": "model", "alpha": "model", "beta": "model",
    "backend": "sketch", "n_hashes": "sketch", "n_buckets": "sketch",
    "counter_base": "sketch", "increment": "sketch", "conservative": "sketch",
    "counter_bits": "sketch", "estimator": "sketch",
    "sampler": "sampler", "init": "sampler", "n_iter": "sampler", "seed": "sampler",
    "n_threads": "sampler",
    "evaluate_every": "eval", "fold_in_iters": "eval",
}


class LDASketch:
    """LDA trained by SCA with word-topic counts in a (sketched) statistics backend.

    Parameters
    ----------
    n_topics : int
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
    evaluate_every : int or None
        With a held-out corpus given to :meth:`fit`: evaluate every this many iterations (and at
        the end). None: only at the end.
    fold_in_iters : int, default 100
        EM steps of the theta fold-in used by :meth:`perplexity` and :meth:`transform`.

    Attributes
    ----------
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

    def __init__(self, n_topics: int, *, alpha: float = 0.1, beta: float = 0.01,
                 backend: str = "countmin-morris", n_hashes: int = 3, n_buckets: int = 2**13,
                 counter_base: float = 1.08, increment: str = "correlated",
                 conservative: bool = False, counter_bits: int = 8, estimator: str = "min",
                 sampler: str = "sca",
                 init: str = "sparse", n_iter: int = 100, seed: int = 0,
                 n_threads: int | None = None, evaluate_every: int | None = None,
                 fold_in_iters: int = 100):
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
        self._heldout = None
        self._phi_colsum = None

    # ------------------------------------------------------------------ params / config
    def get_params(self) -> dict:
        return {k: getattr(self, k) for k in _PARAM_SECTIONS}

    def set_params(self, **params) -> "LDASketch":
        for k, v in params.items():
            if k not in _PARAM_SECTIONS:
                raise param_error(k, "LDASketch", "one of " + ", ".join(_PARAM_SECTIONS), v)
            setattr(self, k, v)
        return self

    def to_config(self) -> config_mod.Config:
        """The validated :class:`~lda_sketch.config.Config` of these parameters (``[data]`` and
        ``[output]`` from the config this model was built from, if any)."""
        self._validate()
        base = self._config or config_mod.Config()
        sections = {s: {} for s in config_mod.SECTIONS}
        for k, s in _PARAM_SECTIONS.items():
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
        kw = {k: getattr(getattr(cfg, s), k) for k, s in _PARAM_SECTIONS.items()}
        kw["evaluate_every"] = kw["evaluate_every"] or None
        model = cls(**kw)
        model._config = cfg
        return model

    def _validate(self) -> None:
        """Check every parameter against the config table (scikit-learn message shape)."""
        for k, s in _PARAM_SECTIONS.items():
            v = getattr(self, k)
            if k == "evaluate_every":
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
        from .train import numba_threads, word_counts

        self._validate()
        corpus = _as_corpus(corpus, "corpus")
        heldout = _as_corpus(heldout, "heldout") if heldout is not None else None
        if heldout is not None and heldout.n_vocab != corpus.n_vocab:
            raise param_error("heldout", "LDASketch.fit",
                              f"a corpus over the training vocabulary ({corpus.n_vocab} words)",
                              f"a corpus with {heldout.n_vocab} words")
        from .engine import Engine
        from .train import engine_params

        cfg = self.to_config()
        with numba_threads(self.n_threads):
            engine = Engine(engine_params(cfg), corpus, corpus.n_vocab, heldout=heldout)
            engine.initialize()
            self._set_fitted(engine, history=[], vocab=corpus.vocab,
                             word_counts=word_counts(corpus), corpus_manifest=corpus.manifest,
                             reverse_map=corpus.reverse_map, heldout=heldout)
            self._run(self.n_iter if n_iter is None else check_int(n_iter, "n_iter",
                                                                     "LDASketch.fit", lo=0))
        return self

    def partial_fit(self, n_iter: int = 1) -> "LDASketch":
        """Continue fitting the same corpus for ``n_iter`` more iterations.

        ``fit(n_iter=a)`` then ``partial_fit(b)`` is bitwise identical to ``fit(n_iter=a+b)``
        (up to where evaluations happened). Needs a model fitted in this process (a loaded model
        has no topic assignments; use ``lda-sketch train --resume`` with a checkpoint).
        """
        from .train import numba_threads

        if self._engine is None:
            raise NotFittedError("partial_fit continues a fit() made in this process; a loaded "
                                 "model has no topic assignments (resume a run from its "
                                 "checkpoint with `lda-sketch train --resume RUN_DIR`).")
        n_iter = check_int(n_iter, "n_iter", "LDASketch.partial_fit", lo=0)
        with numba_threads(self.n_threads):
            self._run(n_iter)
        return self

    def _run(self, n_more: int) -> None:
        from .train import Loop

        loop = Loop(self._engine, history=self.history_,
                    evaluate_every=self.evaluate_every or 0,
                    elapsed=self.history_[-1]["elapsed"] if self.history_ else 0.0)
        loop.run(self._engine.iteration + n_more)
        self._refresh()

    def _set_fitted(self, engine, *, history, vocab, word_counts, corpus_manifest=None,
                    reverse_map=None, heldout=None) -> None:
        """Adopt a trained Engine's state (used by ``fit`` and ``lda_sketch.train``)."""
        self._engine = engine
        self._heldout = heldout
        self.history_ = history
        self.vocab_ = vocab
        self.reverse_map_ = reverse_map
        self.word_counts_ = np.asarray(word_counts, np.int64)
        self.corpus_manifest_ = corpus_manifest or {}
        self.n_vocab_ = int(self.word_counts_.shape[0])
        self._refresh()

    def _refresh(self) -> None:
        self.stats_ = self._engine.stats
        self.n_iter_ = int(self._engine.iteration)
        self._phi_colsum = None

    # ------------------------------------------------------------------ topics
    def _check_fitted(self) -> None:
        if getattr(self, "stats_", None) is None:
            raise NotFittedError("This LDASketch is not fitted yet; call fit() or "
                                 "LDASketch.load() first.")

    def topic_word_columns(self, words) -> np.ndarray:
        """phi columns for ``words``: float64 (n_topics, len(words)).

        ``phi_kw = (est_wk + beta) / (sum_w' est_w'k + V * beta)``, the sum over the whole
        vocabulary (or hash space), so every row of the full phi sums to 1.
        """
        self._check_fitted()
        words = np.ascontiguousarray(words, np.int64)
        if self._phi_colsum is None:
            self._phi_colsum = (np.asarray(self.stats_.estimate_column_sums(), np.float64)
                                + self.n_vocab_ * float(self.beta))
        # Same expression as Engine.topic_word_columns, so a loaded model scores bitwise alike.
        est = self.stats_.estimate(words)
        return np.ascontiguousarray(((np.maximum(est, 0.0) + float(self.beta))
                                     / self._phi_colsum).T)

    @property
    def topic_word_(self) -> np.ndarray:
        """phi: float64 (n_topics, n_vocab), rows sum to 1. Allocates K x V."""
        return self.topic_word_columns(np.arange(self.n_vocab_, dtype=np.int64))

    def get_topic_words(self, topic_id: int, top_n: int = 10) -> list[tuple[str, float]]:
        """The ``top_n`` most probable words of topic ``topic_id`` as ``[(word, prob), ...]``."""
        self._check_fitted()
        k = check_int(topic_id, "topic_id", "get_topic_words", lo=0, hi=self.n_topics - 1)
        n = check_int(top_n, "top_n", "get_topic_words", lo=1)
        return self._top_words(n)[k]

    def top_words(self, top_n: int = 10) -> list[list[tuple[str, float]]]:
        """``get_topic_words`` for every topic (one pass over the vocabulary, in chunks)."""
        self._check_fitted()
        return self._top_words(check_int(top_n, "top_n", "top_words", lo=1))

    def _top_words(self, n: int):
        K, V = int(self.n_topics), self.n_vocab_
        n = min(n, V)
        best_p = np.full((K, 0), -1.0)
        best_w = np.zeros((K, 0), np.int64)
        chunk = max(1, (1 << 22) // max(K, 1))
        for a in range(0, V, chunk):  # bounded memory even for huge V
            words = np.arange(a, min(a + chunk, V), dtype=np.int64)
            cols = self.topic_word_columns(words)
            p = np.concatenate([best_p, cols], axis=1)
            w = np.concatenate([best_w, np.broadcast_to(words, cols.shape)], axis=1)
            # Stable tie-break by word id: sort by (-p, w).
            order = np.lexsort((w, -p), axis=1)[:, :n] if p.shape[1] else np.zeros((K, 0), int)
            best_p = np.take_along_axis(p, order, 1)
            best_w = np.take_along_axis(w, order, 1)
        return [[(self._word(int(w)), float(p)) for w, p in zip(best_w[k], best_p[k])]
                for k in range(K)]

    def _word(self, i: int) -> str:
        if self.vocab_ is not None:
            return self.vocab_[i]
        return hashed_word(getattr(self, "reverse_map_", None), i)

    # ------------------------------------------------------------------ inference
    def transform(self, corpus) -> np.ndarray:
        """Document-topic proportions theta: float64 (n_docs, n_topics), rows sum to 1.

        EM fold-in with phi fixed on all tokens of each document (``fold_in_iters`` steps).
        Word ids outside the training vocabulary are ignored.
        """
        from .evaluation.perplexity import fold_in_theta
        from .train import numba_threads

        self._check_fitted()
        corpus = _as_corpus(corpus, "corpus")
        ptr, rows, counts, words = _doc_word_csr(corpus, self.n_vocab_)
        with numba_threads(self.n_threads):
            phi_rows = np.ascontiguousarray(self.topic_word_columns(words).T)
            return fold_in_theta(ptr, rows, counts, phi_rows, float(self.alpha),
                                 int(self.fold_in_iters))

    def evaluate(self, heldout, *, comm=None) -> dict:
        """Document-completion evaluation (protocol: :mod:`lda_sketch.evaluation.perplexity`).

        Returns ``{"perplexity", "unigram_perplexity", "loglik", "n_scored", "n_observed",
        "n_oov", "t_eval"}``.
        """
        from .evaluation.perplexity import completion_loglik, unigram_perplexity
        from .train import numba_threads

        self._check_fitted()
        heldout = _as_corpus(heldout, "heldout")
        with numba_threads(self.n_threads):
            out = completion_loglik(self.topic_word_columns, self.n_vocab_, float(self.alpha),
                                    heldout, n_iter=int(self.fold_in_iters), comm=comm)
        out["unigram_perplexity"] = unigram_perplexity(self.word_counts_, heldout,
                                                       float(self.beta), comm=comm)
        return out

    def perplexity(self, heldout) -> float:
        """Held-out perplexity by document completion (lower is better)."""
        return float(self.evaluate(heldout)["perplexity"])

    # ------------------------------------------------------------------ persistence
    def save(self, path, *, overwrite: bool = False) -> Path:
        """Write the model directory ``path`` atomically (format: :mod:`lda_sketch.io.model_io`)."""
        from .io.model_io import ModelFiles, provenance, save_model_dir

        self._check_fitted()
        params = self.get_params()
        meta = {"params": params,
                "config": self.to_config().to_dict(),
                "fitted": {"n_topics": int(self.n_topics), "n_vocab": self.n_vocab_,
                           "iteration": self.n_iter_,
                           "n_train_tokens": int(self.word_counts_.sum()),
                           "backend": self.stats_.backend_id,
                           "stats_nbytes": int(self.stats_.nbytes)},
                "provenance": provenance(self.corpus_manifest_ or None),
                "history": self.history_}
        if getattr(self, "reverse_map_", None):
            meta["reverse_map"] = {str(i): v for i, v in self.reverse_map_.items()}
        files = ModelFiles(meta, self.stats_.serialize(), {"word_counts": self.word_counts_},
                           self.vocab_)
        return save_model_dir(path, files, overwrite=overwrite)

    @classmethod
    def load(cls, path) -> "LDASketch":
        """Load a model directory written by :meth:`save` (or ``RUN_DIR/model``)."""
        from .exceptions import CorruptDataError
        from .io.model_io import load_model_dir
        from .stats import BACKENDS
        from .stats.serialization import unpack

        files = load_model_dir(path)
        meta = files.meta
        try:
            params = dict(meta["params"])
            fitted = meta["fitted"]
            backend = unpack(files.stats_bytes)[0]
            stats = BACKENDS[backend].deserialize(files.stats_bytes)
            counts = files.arrays["word_counts"]
        except KeyError as exc:
            raise CorruptDataError(f"{path}: model is incomplete (missing {exc}).") from None
        model = cls(**{k: v for k, v in params.items() if k in _PARAM_SECTIONS})
        if "config" in meta:
            model._config = config_mod.from_dict(meta["config"], source=f"{path}/model.json")
        model.stats_ = stats
        model.n_iter_ = int(fitted["iteration"])
        model.history_ = list(meta.get("history", []))
        model.vocab_ = files.vocab
        rm = meta.get("reverse_map")
        model.reverse_map_ = ({int(i): [tuple(x) for x in v] for i, v in rm.items()}
                              if rm else None)
        model.word_counts_ = counts
        model.n_vocab_ = int(fitted["n_vocab"])
        model.corpus_manifest_ = {}
        model.provenance_ = meta.get("provenance", {})
        model._heldout = None
        if stats.n_vocab != model.n_vocab_ or stats.n_topics != int(model.n_topics):
            raise CorruptDataError(f"{path}: stats.bin has shape ({stats.n_vocab}, "
                                   f"{stats.n_topics}) but model.json says "
                                   f"({model.n_vocab_}, {model.n_topics}).")
        return model

    def __repr__(self) -> str:
        defaults = LDASketch(1).get_params()
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


def _doc_word_csr(corpus: Corpus, n_vocab: int):
    """(ptr, rows, counts, words): per-document distinct in-vocabulary words and counts."""
    doc_ptr = np.asarray(corpus.doc_ptr, np.int64)
    lengths = np.diff(doc_ptr)
    n_docs = lengths.shape[0]
    w = np.asarray(corpus.word_ids, np.int64)
    doc = np.repeat(np.arange(n_docs, dtype=np.int64), lengths)
    ok = (w >= 0) & (w < n_vocab)
    w, doc = w[ok], doc[ok]
    words, rows = np.unique(w, return_inverse=True)
    n_rows = max(words.shape[0], 1)
    keys, counts = np.unique(doc * n_rows + rows, return_counts=True)
    ptr = np.zeros(n_docs + 1, np.int64)
    np.cumsum(np.bincount(keys // n_rows, minlength=n_docs), out=ptr[1:])
    return ptr, (keys % n_rows).astype(np.int64), counts.astype(np.int64), words.astype(np.int64)
