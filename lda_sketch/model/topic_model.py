"""``TopicModel``: a trained LDA model as a plain value (statistics, priors, vocabulary, history).

Every view of a trained model lives here, once: phi (:meth:`TopicModel.topic_word_columns`,
:meth:`~TopicModel.topic_word`), top words, the theta fold-in (:meth:`~TopicModel.transform`),
held-out evaluation and the model directory (:meth:`~TopicModel.save`, :meth:`~TopicModel.load`).
:meth:`Engine.model() <lda_sketch.run.engine.Engine.model>` returns one as a view of the current
statistics, :func:`~lda_sketch.run.train.train_run` returns and saves one, and
:class:`~lda_sketch.api.estimator.LDASketch` holds one as ``model_``. Reading a saved model needs
nothing else::

    from lda_sketch.model.topic_model import TopicModel
    model = TopicModel.load("runs/wiki/model")
    model.top_words(10)

phi is ``(est_wk + beta) / (sum_w' est_w'k + V beta)``: normalised over the whole vocabulary (or
hash space), so every topic's row sums to 1 whatever the backend overcounts.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import config as config_mod
from .._validation import check_float, check_int
from ..evaluation.perplexity import (completion_loglik, doc_row_counts, fold_in_theta,
                                    unigram_perplexity)
from ..exceptions import CorruptDataError, InputFormatError
from ..io.corpus import Corpus, hashed_word
from .files import ModelFiles, load_model_dir, provenance, save_model_dir
from ..io.safe_read import REMEDY_MODEL
from ..io.safe_read import field as json_field
from ..stats import BACKENDS, TopicWordStats
from ..stats.serialization import unpack

log = logging.getLogger(__name__)


@dataclass(eq=False)
class TopicModel:
    """A trained model. ``stats`` holds the merged ``n[w, k]`` (never a V x K matrix unless
    :meth:`topic_word` is asked for); ``word_counts`` int64 (n_vocab,) are the training word
    frequencies (unigram baseline); ``config`` is the run's resolved config (for provenance and
    :meth:`params`); ``history`` one dict per evaluation; ``provenance`` versions and checksums.
    """

    stats: TopicWordStats
    alpha: float
    beta: float
    word_counts: np.ndarray
    iteration: int = 0
    fold_in_iters: int = 100
    vocab: list[str] | None = None
    reverse_map: dict | None = None
    config: config_mod.Config | None = None
    history: list = field(default_factory=list)
    provenance: dict | None = None
    _phi_den: np.ndarray | None = field(default=None, repr=False)

    def __post_init__(self):
        self.word_counts = np.asarray(self.word_counts, np.int64)
        if self.word_counts.shape != (self.stats.n_vocab,):
            raise CorruptDataError(f"word_counts has shape {self.word_counts.shape}; the "
                                   f"statistics have n_vocab = {self.stats.n_vocab}.")
        if self.vocab is not None and len(self.vocab) != self.stats.n_vocab:
            raise CorruptDataError(f"the vocabulary has {len(self.vocab)} words; the statistics "
                                   f"have n_vocab = {self.stats.n_vocab}.")

    # ------------------------------------------------------------------ shape
    @property
    def n_topics(self) -> int:
        return self.stats.n_topics

    @property
    def n_vocab(self) -> int:
        return self.stats.n_vocab

    def params(self) -> dict:
        """The estimator parameters of this model (from :attr:`config`, else the defaults)."""
        cfg = self.config or config_mod.Config()
        out = {k: getattr(getattr(cfg, s), k) for k, s in config_mod.PARAM_SECTIONS.items()}
        out.update(n_topics=self.n_topics, alpha=self.alpha, beta=self.beta,
                   fold_in_iters=self.fold_in_iters)
        return out

    # ------------------------------------------------------------------ phi
    def phi_denominator(self) -> np.ndarray:
        """``sum_w est_wk + V beta``, float64 (n_topics,); computed once per model."""
        if self._phi_den is None:
            self._phi_den = (np.asarray(self.stats.estimate_column_sums(), np.float64)
                             + self.n_vocab * float(self.beta))
        return self._phi_den

    def topic_word_rows(self, words) -> np.ndarray:
        """phi for ``words``, word-major: float64 (len(words), n_topics), computed in place in
        one buffer (the elementwise ``(max(est, 0) + beta) / den`` of :meth:`topic_word_columns`)."""
        words = np.ascontiguousarray(words, np.int64)
        out = self.stats.estimate_into(words, np.empty((words.shape[0], self.n_topics),
                                                       np.float64))
        np.maximum(out, 0.0, out=out)
        out += float(self.beta)
        out /= self.phi_denominator()
        return out

    def topic_word_columns(self, words) -> np.ndarray:
        """phi columns for ``words``: float64 (n_topics, len(words))."""
        return np.ascontiguousarray(self.topic_word_rows(words).T)

    def topic_word(self) -> np.ndarray:
        """phi: float64 (n_topics, n_vocab), rows sum to 1. Allocates K x V."""
        K, V = self.n_topics, self.n_vocab
        out = np.empty((K, V), np.float64)
        chunk = 65536
        for lo in range(0, V, chunk):
            hi = min(lo + chunk, V)
            out[:, lo:hi] = self.topic_word_columns(np.arange(lo, hi))
        return out

    def top_words(self, top_n: int = 10, *,
                  relevance: float | None = None) -> list[list[tuple[str, float]]]:
        """Each topic's ``top_n`` top words as ``[(word, phi_kw), ...]``: most probable first or,
        given ``relevance``, most relevant first (:meth:`top_word_ids`); ties by word id. One
        pass over the vocabulary in chunks (bounded memory for any V)."""
        best_w, best_p = self.top_word_ids(top_n, relevance=relevance)
        return [[(self.word(int(w)), float(p)) for w, p in zip(best_w[k], best_p[k])]
                for k in range(self.n_topics)]

    def top_word_ids(self, top_n: int = 10, *,
                     relevance: float | None = None) -> tuple[np.ndarray, np.ndarray]:
        """``(ids, probs)``: int64 and float64 (n_topics, min(top_n, n_vocab)), each row's top
        words first (by phi_kw, or by relevance; ties by word id); ``probs`` is always phi_kw.

        ``relevance=lam`` in [0, 1] ranks by pyLDAvis relevance (Sievert & Shirley 2014)
        ``lam log phi_kw + (1 - lam) log(phi_kw / p_w)``, ``p_w`` the word's share of the
        training tokens (:attr:`word_counts`): lower ``lam`` demotes words frequent in every
        topic; words never seen in training score -inf. ``1`` (or None) is the plain ranking."""
        n = min(check_int(top_n, "top_n", "TopicModel.top_words", lo=1), self.n_vocab)
        lam = 1.0 if relevance is None else check_float(relevance, "relevance",
                                                        "TopicModel.top_words", lo=0, hi=1)
        K, V = self.n_topics, self.n_vocab
        total = float(self.word_counts.sum())
        best_s = best_p = np.full((K, 0), -1.0)
        best_w = np.zeros((K, 0), np.int64)
        chunk = max(1, (1 << 22) // max(K, 1))
        for a in range(0, V, chunk):
            words = np.arange(a, min(a + chunk, V), dtype=np.int64)
            cols = self.topic_word_columns(words)
            p = np.concatenate([best_p, cols], axis=1)
            w = np.concatenate([best_w, np.broadcast_to(words, cols.shape)], axis=1)
            s = p if lam == 1.0 else np.concatenate(
                [best_s, _relevance(cols, self.word_counts[words], total, lam)], axis=1)
            order = np.lexsort((w, -s), axis=1)[:, :n]
            best_s = np.take_along_axis(s, order, 1)
            best_p = np.take_along_axis(p, order, 1)
            best_w = np.take_along_axis(w, order, 1)
        return best_w, best_p

    def get_topic_words(self, topic_id: int, top_n: int = 10, *,
                        relevance: float | None = None) -> list[tuple[str, float]]:
        """The ``top_n`` top words of topic ``topic_id`` (``relevance``: see :meth:`top_words`)."""
        k = check_int(topic_id, "topic_id", "get_topic_words", lo=0, hi=self.n_topics - 1)
        return self.top_words(top_n, relevance=relevance)[k]

    def word(self, i: int) -> str:
        """The word of id ``i`` (``#i`` or its reverse-mapped spellings under feature hashing)."""
        if self.vocab is not None:
            return self.vocab[i]
        return hashed_word(self.reverse_map, i)

    # ------------------------------------------------------------------ inference
    def transform(self, corpus: Corpus, n_iter: int | None = None) -> np.ndarray:
        """Document-topic proportions theta: float64 (n_docs, n_topics), rows sum to 1.

        EM fold-in with phi fixed on all tokens of each document (``n_iter`` steps, default
        :attr:`fold_in_iters`). Ids outside ``[0, n_vocab)`` are refused (InputFormatError):
        the corpus is not over this model's vocabulary.
        """
        n_iter = self.fold_in_iters if n_iter is None else check_int(
            n_iter, "n_iter", "TopicModel.transform", lo=0)
        lengths = np.diff(np.asarray(corpus.doc_ptr, np.int64))
        w = np.asarray(corpus.word_ids, np.int64)
        doc = np.repeat(np.arange(lengths.shape[0], dtype=np.int64), lengths)
        bad = (w < 0) | (w >= self.n_vocab)
        if bad.any():
            raise InputFormatError(
                f"transform: {int(bad.sum())} tokens have word ids outside [0, {self.n_vocab}) "
                f"(largest {int(w.max())}): the corpus is not over this model's vocabulary; "
                f"prepare it with `lda-sketch prep ... --vocab-from` the training corpus, or "
                f"pass token lists (mapped into the model's vocabulary)")
        words, rows = np.unique(w, return_inverse=True)
        ptr, rr, cc = doc_row_counts(doc, rows.astype(np.int64), lengths.shape[0],
                                     words.shape[0])
        return fold_in_theta(ptr, rr, cc, self.topic_word_rows(words), float(self.alpha),
                             int(n_iter))

    def evaluate(self, heldout: Corpus, *, comm=None, split=None, unigram: bool = True,
                 bands=None) -> dict:
        """Document-completion evaluation (protocol: :mod:`lda_sketch.evaluation.perplexity`).

        Collective over ``comm`` (each rank passes its own held-out documents). Returns
        ``{"perplexity", "loglik", "n_scored", "n_observed", "n_oov", "t_eval"}`` plus
        ``"unigram_perplexity"`` unless ``unigram=False``. ``split``: a precomputed
        :func:`~lda_sketch.evaluation.perplexity.completion_split` of ``heldout``. ``bands``:
        rank edges (e.g. ``(1000, 10000, 60000)``) to also report ``"bands"``, the scored
        log-likelihood and perplexity by the training-frequency rank of each token's word
        (:mod:`lda_sketch.evaluation.bands`).
        """
        kw = {}
        if bands is not None:
            from ..evaluation.bands import band_names, frequency_bands

            kw = {"word_band": frequency_bands(self.word_counts, bands),
                  "band_names": band_names(bands)}
        out = completion_loglik(None, self.n_vocab, float(self.alpha), heldout,
                                n_iter=int(self.fold_in_iters), comm=comm, split=split,
                                phi_rows=self.topic_word_rows, **kw)
        if unigram:
            out["unigram_perplexity"] = unigram_perplexity(self.word_counts, heldout,
                                                           float(self.beta), comm=comm,
                                                           split=split)
        return out

    def perplexity(self, heldout: Corpus) -> float:
        """Held-out perplexity by document completion (lower is better)."""
        return float(self.evaluate(heldout, unigram=False)["perplexity"])

    # ------------------------------------------------------------------ persistence
    def save(self, path, *, overwrite: bool = False) -> Path:
        """Write the model directory ``path`` atomically (format: :mod:`lda_sketch.model.files`)."""
        cfg = self.config or config_mod.Config()
        meta = {"params": self.params(),
                "config": cfg.to_dict(),
                "fitted": {"n_topics": self.n_topics, "n_vocab": self.n_vocab,
                           "iteration": int(self.iteration),
                           "n_train_tokens": int(self.word_counts.sum()),
                           "backend": self.stats.backend_id,
                           "stats_nbytes": int(self.stats.nbytes)},
                "provenance": self.provenance or provenance(None),
                "history": self.history}
        if self.reverse_map:
            meta["reverse_map"] = {str(i): v for i, v in self.reverse_map.items()}
        files = ModelFiles(meta, self.stats.packed(), {"word_counts": self.word_counts},
                           self.vocab)
        return save_model_dir(path, files, overwrite=overwrite)

    @classmethod
    def load(cls, path) -> "TopicModel":
        """Load a model directory written by :meth:`save` (or ``RUN_DIR/model``)."""
        files = load_model_dir(path)
        meta, mpath, rem = files.meta, Path(path) / "model.json", REMEDY_MODEL
        params = json_field(meta, "params", dict, mpath, remedy=rem)
        fitted = json_field(meta, "fitted", dict, mpath, remedy=rem)
        alpha = json_field(params, "alpha", float, mpath, remedy=rem, where="params.")
        beta = json_field(params, "beta", float, mpath, remedy=rem, where="params.")
        fold_in = json_field(params, "fold_in_iters", int, mpath, remedy=rem, where="params.",
                        default=100, lo=0)
        n_vocab, n_topics, iteration = (json_field(fitted, k, int, mpath, remedy=rem, lo=0,
                                              where="fitted.")
                                        for k in ("n_vocab", "n_topics", "iteration"))
        spath = Path(path) / "stats.bin"
        try:
            backend = unpack(files.stats_bytes)[0]
            if backend not in BACKENDS:
                raise CorruptDataError(f"unknown statistics backend {backend[:80]!r}")
            stats = BACKENDS[backend].deserialize(files.stats_bytes)
        except CorruptDataError as exc:
            raise CorruptDataError(f"{spath}: {str(exc).rstrip('.')}; {rem}.") from None
        if not (0 < alpha < float("inf") and 0 < beta < float("inf")):
            raise CorruptDataError(f"{mpath}: 'params.alpha' and 'params.beta' must be positive "
                                   f"and finite, found {alpha}, {beta}; {rem}.")
        if "word_counts" not in files.arrays:
            raise CorruptDataError(f"{mpath}: 'arrays.word_counts' is missing; {rem}.")
        counts = files.arrays["word_counts"]
        if counts.shape != (stats.n_vocab,):
            raise CorruptDataError(f"{Path(path) / 'word_counts.npy'}: shape {counts.shape}, the "
                                   f"statistics have n_vocab = {stats.n_vocab}; {rem}.")
        if files.vocab is not None and len(files.vocab) != stats.n_vocab:
            raise CorruptDataError(f"{Path(path) / 'vocab.txt'}: {len(files.vocab)} words, the "
                                   f"statistics have n_vocab = {stats.n_vocab}; {rem}.")
        if stats.n_vocab != n_vocab or stats.n_topics != n_topics:
            raise CorruptDataError(f"{path}: stats.bin has shape ({stats.n_vocab}, "
                                   f"{stats.n_topics}) but model.json says "
                                   f"({n_vocab}, {n_topics}).")
        cfg = (config_mod.from_dict(meta["config"], source=f"{path}/model.json")
               if "config" in meta else None)
        rm = json_field(meta, "reverse_map", dict, mpath, remedy=rem, default=None)
        try:
            reverse_map = ({int(i): [(str(w), int(c)) for w, c in v] for i, v in rm.items()}
                           if rm else None)
        except (TypeError, ValueError):
            raise CorruptDataError(f"{mpath}: 'reverse_map' must map ids to [[word, count], "
                                   f"...]; {rem}.") from None
        history = json_field(meta, "history", list, mpath, remedy=rem, default=[])
        prov = json_field(meta, "provenance", dict, mpath, remedy=rem, default={})
        try:
            return cls(stats, alpha, beta, counts, iteration=iteration, fold_in_iters=fold_in,
                       vocab=files.vocab, reverse_map=reverse_map, config=cfg,
                       history=list(history), provenance=prov)
        except CorruptDataError as exc:
            raise CorruptDataError(f"{path}: {exc}") from None


def _relevance(cols: np.ndarray, counts: np.ndarray, total: float, lam: float) -> np.ndarray:
    """Relevance of a chunk: ``log phi - (1 - lam) log p_w``, float64 (n_topics, n_words),
    ``p_w = counts / total``; -inf where ``counts == 0``."""
    seen = counts > 0
    log_p = np.zeros(counts.shape, np.float64)
    log_p[seen] = np.log(counts[seen] / total)
    out = np.log(cols)
    out -= (1.0 - lam) * log_p
    out[:, ~seen] = -np.inf
    return out
