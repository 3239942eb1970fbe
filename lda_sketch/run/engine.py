"""One rank's training engine: SCA iterations, statistics build + merge, evaluation, state.

The orchestration layer (:mod:`lda_sketch.run.train`, :class:`~lda_sketch.api.estimator.LDASketch`)
uses only :class:`EngineParams` and :class:`Engine`; :meth:`Engine.model` is the trained model
(:class:`~lda_sketch.model.topic_model.TopicModel`) as a view of the current statistics.

Iteration ``t`` (1-based) uses RNG keys ``make_key(seed, STREAM_SAMPLER | STREAM_COUNTER |
STREAM_MERGE, t)``; initialisation uses iteration 0. Every token's draw is counted by its
global doc-major index, so z and the statistics are bitwise identical for any thread count, and
for exact backends (dense, integer count-min) for any sharding (README: reproducibility).
``state_dict()["z"]`` is in the shard's doc-major token order (portable across shardings).
With ``[model] optimize_alpha_every`` a step may end with an alpha update (Minka's fixed point,
:mod:`lda_sketch.sampler.hyper`), the same bits on every rank; ``state_dict()["alpha"]`` keeps it.
"""
from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass

import numba
import numpy as np

from .. import limits
from .._validation import check_choice, check_float, check_int, param_error
from ..config import Config, ModelConfig, SketchConfig, param_default
from ..distributed.comm import Comm, SerialComm
from ..distributed.merge import merge_stats
from ..evaluation.perplexity import completion_split, unigram_perplexity
from ..exceptions import CorruptDataError, NotFittedError
from ..io.corpus import Corpus
from ..rng import STREAM_COUNTER, STREAM_INIT, STREAM_MERGE, STREAM_SAMPLER, derive, key_for
from ..sampler import INITS, SAMPLERS, ShardState, initialize_topics
from ..sampler._kernels import train_loglik_words
from ..sampler.hyper import AlphaSchedule
from .layout import resolve_config, resolved_sketch  # noqa: F401 (re-exported)
from ..stats import BACKENDS
from ..stats.budget import DEFAULT_BUDGET, needs_counts
from ..model.topic_model import TopicModel

logger = logging.getLogger(__name__)


STATE_VERSION = 1
_MODEL_DEFAULTS = {f.name: f.default for f in dataclasses.fields(ModelConfig)}


@dataclass(frozen=True)
class EngineParams:
    """Model, statistics and sampler parameters of a training run (validated on construction).

    ``sketch``: the ``[sketch]`` section (:class:`~lda_sketch.config.SketchConfig`) the backend is
    built from, with :meth:`~lda_sketch.stats.base.TopicWordStats.from_config` (exactly the keys
    it reads). A section whose layout comes from a byte budget must be resolved first
    (:meth:`from_config` does it, from the training word counts). The other defaults are the
    config's."""

    n_topics: int
    sketch: SketchConfig
    alpha: float = param_default("alpha")
    beta: float = param_default("beta")      # topic-word prior ("eta" elsewhere)
    sampler: str = param_default("sampler")  # a SAMPLERS name
    init: str = param_default("init")      # an INITS name
    seed: int = param_default("seed")
    fold_in_iters: int = param_default("fold_in_iters")  # EM steps of theta fold-in
    # [model] optimize_alpha_every / _burnin: Minka's fixed point after the step of every
    # iteration t >= burnin with t % every == 0 (0: alpha stays fixed)
    optimize_alpha_every: int = _MODEL_DEFAULTS["optimize_alpha_every"]
    optimize_alpha_burnin: int = _MODEL_DEFAULTS["optimize_alpha_burnin"]

    def __post_init__(self):
        o = "EngineParams"
        check_int(self.n_topics, "n_topics", o, lo=1, hi=limits.MAX_TOPICS)
        if not isinstance(self.sketch, SketchConfig):
            raise param_error("sketch", o, "a SketchConfig (the [sketch] section)", self.sketch)
        check_choice(self.sketch.backend, "backend", o, sorted(BACKENDS))
        if needs_counts(self.sketch):
            raise param_error("sketch", o, "resolved: its layout comes from a byte budget, so "
                              "build it with EngineParams.from_config(cfg, word_counts)",
                              f"budget {self.sketch.budget or DEFAULT_BUDGET!r} with its layout "
                              f"keys unset")
        check_float(self.alpha, "alpha", o, lo=0.0, lo_open=True)
        check_float(self.beta, "beta", o, lo=0.0, lo_open=True)
        check_choice(self.sampler, "sampler", o, sorted(SAMPLERS))
        check_choice(self.init, "init", o, INITS)
        check_int(self.seed, "seed", o, lo=0, hi=limits.MAX_SEED)
        check_int(self.fold_in_iters, "fold_in_iters", o, lo=0)
        check_int(self.optimize_alpha_every, "optimize_alpha_every", o, lo=0)
        check_int(self.optimize_alpha_burnin, "optimize_alpha_burnin", o, lo=0)

    @property
    def backend(self) -> str:
        """The statistics backend's registry name."""
        return self.sketch.backend

    @classmethod
    def from_config(cls, cfg: Config, word_counts=None) -> "EngineParams":
        """The parameters of a config, its ``[sketch]`` resolved by
        :func:`~lda_sketch.stats.budget.resolve_sketch` (unset layout keys filled from the byte
        budget, which needs the global training ``word_counts`` (n_vocab,))."""
        check_choice(cfg.sketch.backend, "backend", "EngineParams", sorted(BACKENDS))
        return cls(n_topics=cfg.model.n_topics, sketch=resolved_sketch(cfg, word_counts)[0],
                   alpha=cfg.model.alpha, beta=cfg.model.beta, sampler=cfg.sampler.sampler,
                   init=cfg.sampler.init, seed=cfg.sampler.seed,
                   fold_in_iters=cfg.eval.fold_in_iters,
                   optimize_alpha_every=cfg.model.optimize_alpha_every,
                   optimize_alpha_burnin=cfg.model.optimize_alpha_burnin)

    def check_backend(self, n_vocab: int) -> dict:
        """Validate the backend's parameters for ``n_vocab`` words without allocating (the
        checks :class:`Engine` makes); returns them normalised."""
        return BACKENDS[self.backend].check_config(self.sketch, n_topics=self.n_topics,
                                                   n_vocab=n_vocab, seed=self.seed)

    def stats_nbytes(self, n_vocab: int) -> int:
        """Bytes of the statistics for ``n_vocab`` words, without allocating."""
        return BACKENDS[self.backend].nbytes_from_config(self.sketch, n_topics=self.n_topics,
                                                         n_vocab=n_vocab, seed=self.seed)


class Engine:
    """One rank's training state. Collective methods must be called on every rank.

    ``shard.doc_ptr`` holds global token offsets (``shard.doc_ptr[0]`` = first global token
    index) and ``shard.doc_offset`` the global index of its first document. ``heldout``: this
    rank's held-out documents (word ids in the training vocabulary). :attr:`alpha` is the
    current doc-topic prior: ``params.alpha`` until an optimisation step changes it.
    """

    def __init__(self, params: EngineParams, shard: Corpus, n_vocab: int, comm: Comm | None = None,
                 heldout: Corpus | None = None):
        self.params = params
        self.n_vocab = check_int(n_vocab, "n_vocab", "Engine", lo=1)
        self.comm = comm if comm is not None else SerialComm()
        self.heldout = heldout
        K = params.n_topics
        self.state = ShardState(shard, K, self.n_vocab)
        self.stats = BACKENDS[params.backend].from_config(params.sketch, n_topics=K,
                                                          n_vocab=self.n_vocab, seed=params.seed)
        self._sampler = SAMPLERS[params.sampler](self.state, params.alpha, params.beta)
        self.alpha = float(params.alpha)
        self._alpha_schedule = AlphaSchedule(params.optimize_alpha_every,
                                             params.optimize_alpha_burnin)
        self.iteration = 0
        self._initialized = False
        self._model = None  # TopicModel view of the merged statistics (per iteration)
        self._word_counts = None  # global training word counts (unigram baseline)
        self._eval_cache = None  # (completion split of heldout, unigram perplexity)
        self.n_tokens = None

    # ------------------------------------------------------------------ training
    def _key(self, stream: int, iteration: int):
        return key_for(self.params.seed, stream, iteration)

    def _build(self, target, iteration: int) -> None:
        """Fresh statistics of this rank's z into ``target`` (its n_k this rank's totals; the
        merge makes them global)."""
        target.clear()
        s = self.state
        # Each rank draws its counter increments from its own sub-stream: sharing one key would
        # reuse the same uniforms for record i on every rank and correlate their cells.
        key = derive(self._key(STREAM_COUNTER, iteration), np.uint64(self.comm.rank))
        # Fused where the backend has it: z straight to the cells, the same bytes as the records
        if target.add_runs(s.words, s.pair_tok_ptr[s.word_pair_ptr], s.z, key=key) is None:
            words, topics, counts = s.word_topic_triples()
            target.add(words, topics, counts, key=key)

    def _merge(self, target, iteration: int) -> int:
        # n_k: summed exactly (int64) by the merge, once per iteration
        info = merge_stats(target, self.comm, key=self._key(STREAM_MERGE, iteration))
        return int(info.get("bytes_sent", 0))

    def initialize(self) -> None:
        """Draw the initial z (keyed by global token index), build and merge stats. Collective."""
        s = self.state
        initialize_topics(s, self.params.init, self._key(STREAM_INIT, 0))
        s.rebuild_doc_topics()
        self.sync_state()  # the global word counts, which may fix the statistics' layout
        self.stats.adapt(self._word_counts)
        self._build(self.stats, 0)
        self._merge(self.stats, 0)
        self.iteration = 0
        self._model = None
        self._initialized = True
        logger.debug("rank %d: %d docs, %d tokens, %d (doc, word) pairs, %d distinct words; "
                     "sampler state %.3g MB, statistics %.3g MB", self.comm.rank, s.n_docs,
                     s.n_tokens, s.n_pairs, s.n_words, s.nbytes / 1e6, self.stats.nbytes / 1e6)

    def _check_initialized(self):
        if not self._initialized:
            raise NotFittedError("Engine.initialize() (or load_state_dict) must be called first.")

    def step(self) -> dict:
        """One SCA iteration. Collective. Returns timings (s) and bytes."""
        self._check_initialized()
        t = self.iteration + 1
        t0 = time.perf_counter()
        self._sampler.sweep(self.stats, self._key(STREAM_SAMPLER, t))
        t1 = time.perf_counter()
        # The sweep was the last reader of the frozen statistics: the new ones are built in
        # their place (one V x K copy per rank, not two; docs/DISTRIBUTED.md, memory).
        self.state.rebuild_doc_topics()
        self._build(self.stats, t)
        t2 = time.perf_counter()
        nbytes = self._merge(self.stats, t)
        t3 = time.perf_counter()
        self.iteration = t
        self._model = None
        if self._alpha_schedule.due(t):
            self.optimize_alpha()  # in t_step: two int64 histograms and one allreduce
        t4 = time.perf_counter()
        return {"iteration": t, "t_sample": t1 - t0, "t_build": t2 - t1, "t_merge": t3 - t2,
                "t_step": t4 - t0, "bytes_merged": nbytes, "stats_nbytes": int(self.stats.nbytes)}

    # ------------------------------------------------------------------ hyperparameters
    @property
    def optimizes_alpha(self) -> bool:
        """True when ``[model] optimize_alpha_every`` is set (metrics then record alpha)."""
        return self._alpha_schedule.enabled

    def optimize_alpha(self) -> float:
        """Collective: Minka's fixed point for alpha on the current n_dk, the same on every rank
        for any sharding (:class:`~lda_sketch.sampler.hyper.AlphaSchedule`); the next sweep
        uses it. Returns it."""
        self._check_initialized()
        self.set_alpha(self._alpha_schedule.update(self.alpha, self.state, self.comm))
        return self.alpha

    def set_alpha(self, alpha: float) -> None:
        """Use doc-topic prior ``alpha`` from the next sweep on (the model view too)."""
        self.alpha = check_float(float(alpha), "alpha", "Engine.set_alpha", lo=0.0,
                                 lo_open=True)
        self._sampler.set_alpha(self.alpha)
        self._model = None

    # ------------------------------------------------------------------ model views
    def model(self) -> TopicModel:
        """The trained model as a view of the current merged statistics (no copy; valid until
        the next :meth:`step`, which rebuilds the statistics in place). Vocabulary, history and
        config are the caller's to attach."""
        self._check_initialized()
        if self._model is None:
            p = self.params
            self._model = TopicModel(self.stats, self.alpha, p.beta, self._word_counts,
                                     iteration=self.iteration, fold_in_iters=p.fold_in_iters)
        return self._model

    def doc_topic(self) -> np.ndarray:
        """(n_local_docs, K) int32 n_dk of the shard."""
        return self.state.doc_topic_dense()

    @property
    def state_nbytes(self) -> int:
        """Bytes of the sampler state (excluding the two statistics objects)."""
        return self.state.nbytes

    # ------------------------------------------------------------------ evaluation
    def train_loglik_per_token(self) -> float:
        """Collective: ``sum log sum_k theta_dk phi_kw / n_tokens`` over the training tokens,
        theta from n_dk (smoothed by alpha), phi as in :meth:`topic_word`."""
        self._check_initialized()
        p, s = self.params, self.state
        inv_colsum = 1.0 / self.model().phi_denominator()
        chunk = 4096
        est = np.empty((min(chunk, max(s.n_words, 1)), p.n_topics), np.float64)
        per_word = np.zeros(s.n_words, np.float64)
        scratch = np.empty((numba.config.NUMBA_NUM_THREADS, p.n_topics), np.float64)
        for lo in range(0, s.n_words, chunk):
            hi = min(lo + chunk, s.n_words)
            e = self.stats.estimate_into(s.words[lo:hi], est[: hi - lo])
            train_loglik_words(lo, e, inv_colsum, p.beta, self.alpha, s.word_pair_ptr, s.pair_doc,
                               s.pair_tok_ptr, s.dk_ptr, s.dk_len, s.dk_topic, s.dk_count,
                               s.doc_len, per_word[lo:hi], scratch)
        total = 0.0
        for v in per_word.tolist():
            total += v
        parts = self.comm.allgather(total)
        ll = 0.0
        for v in parts:
            ll += v
        return ll / max(self.n_tokens, 1)

    def evaluate(self) -> dict:
        """Collective: held-out document-completion perplexity (DESIGN §4) and diagnostics."""
        self._check_initialized()
        t0 = time.perf_counter()
        p = self.params
        held = self.heldout
        if held is None:
            held = Corpus(np.zeros(1, np.int64), np.zeros(0, np.int32), self.n_vocab)
        if self._eval_cache is None:  # the split and the unigram baseline never change
            split = completion_split(held, self.n_vocab)
            self._eval_cache = (split, unigram_perplexity(self._word_counts, held, p.beta,
                                                          comm=self.comm, split=split))
        split, uni = self._eval_cache
        res = self.model().evaluate(held, comm=self.comm, split=split, unigram=False)
        tll = self.train_loglik_per_token()
        return {"perplexity": res["perplexity"], "unigram_perplexity": uni,
                "n_scored": res["n_scored"], "n_observed": res["n_observed"],
                "n_oov": res["n_oov"], "train_loglik_per_token": tll,
                "t_eval": time.perf_counter() - t0}

    # ------------------------------------------------------------------ persistence
    def state_dict(self, *, stream: bool = False) -> dict:
        """Everything needed to continue bitwise: numpy arrays and ints only (no pickle).

        ``stream=True``: ``"stats"`` is the statistics'
        :class:`~lda_sketch.stats.serialization.Packed` instead of a uint8 copy of their bytes
        (:func:`~lda_sketch.distributed.checkpoint.save_checkpoint` streams it to disk; no second
        ``V x K`` copy). Write it before the next :meth:`step`."""
        self._check_initialized()
        s = self.state
        stats = (self.stats.packed() if stream
                 else np.frombuffer(self.stats.serialize(), np.uint8))  # owns its bytearray
        return {"format_version": STATE_VERSION, "iteration": int(self.iteration),
                "n_topics": int(self.params.n_topics), "n_vocab": int(self.n_vocab),
                "seed": int(self.params.seed), "doc_offset": int(s.doc_offset),
                "token_offset": int(s.token_offset), "n_tokens": int(s.n_tokens),
                "z": s.z_doc_major(), "stats": stats,
                "alpha": np.array(self.alpha, np.float64)}  # 0-d: the exact bits

    def load_state_dict(self, d: dict, *, sync: bool = True, consume: bool = False) -> None:
        """Restore :meth:`state_dict` output (same shard and params); :meth:`step` continues.

        Collective. With ``sync=False`` only the local part runs (every check that can fail);
        every rank must then call :meth:`sync_state`, so a bad state on one rank can be reported
        on all ranks before anyone enters a collective. ``consume=True``: ``d["stats"]`` (a
        writable uint8 array, e.g. from :func:`~lda_sketch.io.checkpoint.load_checkpoint`) may
        become the statistics' memory (no copy; the caller must not use it again)."""
        s = self.state
        try:
            version = int(d["format_version"])
            checks = {"n_topics": self.params.n_topics, "n_vocab": self.n_vocab,
                      "seed": self.params.seed, "doc_offset": s.doc_offset,
                      "token_offset": s.token_offset, "n_tokens": s.n_tokens}
            bad = [f"{k} is {int(d[k])}, expected {v}" for k, v in checks.items() if int(d[k]) != v]
            z, raw, iteration = d["z"], d["stats"], int(d["iteration"])
            if iteration < 0:
                raise ValueError(f"iteration {iteration} < 0")
            # absent from states written before alpha optimisation: the run's fixed alpha
            alpha = float(np.asarray(d.get("alpha", self.params.alpha), np.float64).reshape(()))
            if not (0.0 < alpha < float("inf")):
                raise ValueError(f"alpha {alpha} is not positive and finite")
        except (KeyError, TypeError, ValueError, OverflowError) as exc:
            raise CorruptDataError(f"Engine state is missing or has a bad field: {exc}.") from None
        if version > STATE_VERSION:
            raise CorruptDataError(f"Engine state version {version} is newer than this lda_sketch "
                                   f"supports ({STATE_VERSION}); upgrade lda_sketch.")
        if bad:
            raise CorruptDataError("Engine state does not match this engine: " + "; ".join(bad)
                                   + ". Resume with the same corpus, sharding and parameters.")
        backend, kw = type(self.stats), {}
        if hasattr(raw, "to_bytearray"):  # a streamed state_dict's Packed
            raw = raw.to_bytearray()
        elif not isinstance(raw, (bytes, bytearray)):  # a uint8 array: read in place, no copy
            raw = np.ascontiguousarray(raw, np.uint8).reshape(-1)
            if consume and raw.flags.writeable and backend.deserializes_in_place:
                kw = {"copy": False}  # the cells stay in the loaded buffer
            raw = memoryview(raw)
        stats = backend.deserialize(raw, **kw)
        self.stats.check_same_config(stats)  # the loaded layout (adapt) is the run's own
        try:
            s.set_z_doc_major(z)
        except ValueError as exc:
            raise CorruptDataError(f"Engine state: {exc}") from None
        self.stats = stats
        self.iteration = iteration
        self.set_alpha(alpha)
        if sync:
            self.sync_state()

    def sync_state(self) -> None:
        """Collective: the global word counts of a state loaded with ``sync=False``."""
        s = self.state
        wc = np.zeros(self.n_vocab, np.int64)
        np.add.at(wc, s.words, s.word_tokens)
        self._word_counts = self.comm.allreduce_sum(wc)
        self.n_tokens = int(self._word_counts.sum())
        self._initialized = True

