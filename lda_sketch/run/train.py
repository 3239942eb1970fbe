"""The training driver shared by ``lda-sketch train`` and
:class:`~lda_sketch.api.estimator.LDASketch`.

It owns the iteration loop around an :class:`~lda_sketch.run.engine.Engine` (never the sampler's
kernels) and a run directory's lifecycle: setup checks, evaluation schedule, ``metrics.jsonl``,
checkpoints, progress and the final model.

A run directory (``train_run``) holds::

    resolved_config.toml   the full config, paths absolute: reproduces the run on its own
    provenance.json        versions, git describe, date, corpus manifest checksums, ranks, threads
    metrics.jsonl          one JSON object per evaluation (keys: :data:`METRIC_KEYS`)
    heldout_docs.json      the held-out documents' ids and checksum (``io/heldout_ids.py``)
    checkpoints/iter-N/    Engine.state_dict of every rank + driver state (``io/checkpoint.py``)
    model/                 the final model (``model/files.py``), loadable with ``TopicModel.load``
    doc_topics/            with ``[output] doc_topics``: each rank's documents' final n_dk
                           (``io/doc_topics.py``)

Collective: with a ``comm`` of P ranks every rank calls :func:`train_run`; rank 0 alone writes
files and shows progress. ``--resume`` continues from the newest checkpoint, and the continued
run is bitwise identical to an uninterrupted one (same z, statistics and metrics except timings).
"""
from __future__ import annotations

import json
import logging
import math
import shutil
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from ..config import Config
from ..config import load as config_load
from .data import heldout_index, heldout_source, load_data
from ..distributed.collective import abort_on_error, any_rank, collective_errors
from ..distributed.comm import SerialComm
from ..distributed.faults import injected_fault_iteration, raise_injected
from ..distributed.partition import shard_of
from .engine import Engine, EngineParams, resolve_config  # noqa: F401 (re-exported)
from ..stats.budget import filled_keys, is_resolved
from ..evaluation.coherence import RECORD_KEYS as COHERENCE_KEYS
from ..evaluation.coherence import record_coherence
from ..exceptions import (CorruptDataError, IncompatibleStatsError, InputFormatError,
                         InvalidParameterError)
from ..io.atomic import write_text_atomic
from ..distributed.checkpoint import save_checkpoint
from ..io.checkpoint import latest_checkpoint, load_checkpoint
from ..io.doc_topics import write_shard_doc_topics
from ..io.heldout_ids import write_heldout_ids
from ..model.files import manifest_checksum, provenance
from .interrupts import Interrupted
from ..io.safe_read import REMEDY_CHECKPOINT, read_json
from .machine import peak_rss_mib
from .progress import Progress
from ..stats import unread_message
from .threads import numba_threads

log = logging.getLogger(__name__)

#: Keys of every ``metrics.jsonl`` record. ``t_sample``/``t_build``/``t_merge`` and
#: ``bytes_merged`` are means per iteration over the iterations since the previous record;
#: ``t_eval`` is the evaluation's own time; ``elapsed`` is wall seconds since the run began
#: (summed over resumed segments); ``stats_nbytes`` is the merged statistics' size. With
#: ``[eval] coherence`` each record also has :data:`COHERENCE_KEYS` (``evaluation/coherence.py``).
METRIC_KEYS = ("iteration", "perplexity", "unigram_perplexity", "train_loglik_per_token",
               "n_scored", "n_oov", "t_sample", "t_build", "t_merge", "t_eval", "stats_nbytes",
               "bytes_merged", "elapsed", "peak_rss_mib")
#: Keys that differ between otherwise identical runs. ``peak_rss_mib`` is the list, in rank
#: order, of every rank's peak resident memory so far (``getrusage`` ``ru_maxrss``), in MiB.
TIMING_KEYS = ("t_sample", "t_build", "t_merge", "t_eval", "elapsed", "peak_rss_mib",
               "t_coherence")

# Keys that may change when a run is resumed; anything else would change the results.
RESUMABLE_KEYS = {("sampler", "n_iter"), ("sampler", "n_threads"), ("eval", "evaluate_every"),
                  ("eval", "coherence"), ("output", "checkpoint_every"),
                  ("output", "keep_checkpoints"), ("output", "doc_topics")}


# --------------------------------------------------------------------------- setup checks
def check_setup(cfg: Config, train) -> EngineParams:
    """Every check a run makes before it allocates or writes anything: the config's backend
    parameters against the corpus (``lda-sketch train --dry-run`` runs exactly these).
    Returns the engine parameters. Unread ``[sketch]`` settings are logged, never dropped
    silently."""
    where = cfg.source or "config"
    if train.n_docs == 0 or train.n_tokens == 0:
        raise InputFormatError(f"{where}: the training corpus has no tokens ({train.n_docs} "
                               f"documents); rebuild it with `lda-sketch prep`")
    try:
        # a resolved config (train_run, --dry-run) needs no second pass over the tokens
        counts = None if is_resolved(cfg.sketch) else train.word_counts()
        params = EngineParams.from_config(cfg, counts)
        params.check_backend(train.n_vocab)
    except InvalidParameterError as exc:
        raise InputFormatError(f"{where}: [sketch] with backend {cfg.sketch.backend!r} and "
                               f"V = {train.n_vocab:,}: {exc} Fix the [sketch] key (or "
                               f"--set sketch.KEY=VALUE).") from None
    unread = unread_message(cfg.sketch, where)
    if unread:
        log.warning("%s", unread)
    return params


# --------------------------------------------------------------------------- the loop
class TrainingLoop:
    """Runs ``engine.step()`` up to a target iteration, evaluating on schedule.

    ``history`` (list of metric dicts) is appended to in place. Evaluations happen at every
    multiple of ``evaluate_every`` and at the last iteration of a call to :meth:`run` (when
    ``evaluate_every`` is 0, only there; with ``evaluate_last=False`` not there, so a caller
    looping ``run(it + 1)`` pays no evaluation between the multiples). Evaluation is
    collective; with ``evaluate=False`` no held-out data is touched and records carry only
    timings.
    """

    def __init__(self, engine, *, history: list | None = None, evaluate: bool = True,
                 evaluate_every: int = 0, elapsed: float = 0.0, evaluate_last: bool = True,
                 coherence_docs=None):
        self.engine = engine
        # [eval] coherence: this rank's documents to add COHERENCE_KEYS over at each record
        self.coherence_docs = coherence_docs
        self.history = history if history is not None else []
        self.evaluate = evaluate
        self.evaluate_every = int(evaluate_every)
        self.evaluate_last = bool(evaluate_last)
        self.elapsed0 = float(elapsed)
        self._totals = _StepTotals()

    def due(self, it: int, last: int) -> bool:
        return ((it == last and self.evaluate_last)
                or (self.evaluate_every > 0 and it % self.evaluate_every == 0))

    def run(self, last: int, *, on_record=None, after_step=None, progress=None,
            stop=None) -> list[dict]:
        """Step to iteration ``last``. ``on_record(rec)`` after each evaluation,
        ``after_step(iteration)`` after each iteration (e.g. checkpoints). ``stop()`` (collective)
        is asked before each step; when it is true the loop ends there and :attr:`stopped` is
        set."""
        t0 = time.perf_counter()
        self.stopped = False
        while self.engine.iteration < last:
            if stop is not None and stop():
                self.stopped = True
                break
            info = self.engine.step()
            self._totals.add(info)
            # One parseable line per iteration under `lda-sketch -v` (scripts/bench_distributed.py).
            log.debug("step %s", json.dumps({k: _plain(v) for k, v in info.items()}))
            it = int(self.engine.iteration)
            rec = None
            if self.due(it, last):
                rec = self.record(it, t0)
                self.history.append(rec)
                if on_record is not None:
                    on_record(rec)
            if progress is not None:
                progress.update(it, rec.get("perplexity") if rec else None)
            if after_step is not None:
                after_step(it, time.perf_counter() - t0)
        self.elapsed0 += time.perf_counter() - t0
        return self.history

    def record(self, it: int, t0: float) -> dict:
        rec = {"iteration": it}
        if self.evaluate:
            ev = self.engine.evaluate()
            rec.update({k: ev.get(k) for k in ("perplexity", "unigram_perplexity",
                                               "train_loglik_per_token", "n_scored", "n_oov",
                                               "t_eval")})
        if self.coherence_docs is not None:
            rec.update(record_coherence(self.engine.model(), self.coherence_docs,
                                        comm=self.engine.comm))
        rec.update(self._totals.means())
        rec["elapsed"] = self.elapsed0 + time.perf_counter() - t0
        rec["peak_rss_mib"] = self.engine.comm.allgather(peak_rss_mib())
        self._totals = _StepTotals()
        keys = METRIC_KEYS + (COHERENCE_KEYS if self.coherence_docs is not None else ())
        return {k: _plain(rec.get(k)) for k in keys}


class _StepTotals:
    """Per-step timings and bytes summed between two records; means() for the record."""

    def __init__(self):
        self.n = 0
        self.sums = {"t_sample": 0.0, "t_build": 0.0, "t_merge": 0.0, "bytes_merged": 0.0}
        self.stats_nbytes = None

    def add(self, info: dict) -> None:
        self.n += 1
        for k in self.sums:
            self.sums[k] += float(info.get(k, 0.0) or 0.0)
        self.stats_nbytes = info.get("stats_nbytes", self.stats_nbytes)

    def means(self) -> dict:
        n = max(self.n, 1)
        out = {k: v / n for k, v in self.sums.items()}
        out["bytes_merged"] = int(round(out["bytes_merged"]))
        out["stats_nbytes"] = self.stats_nbytes
        return out


def _plain(v):
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


# --------------------------------------------------------------------------- a run directory
def train_run(cfg: Config, out_dir, *, resume: bool = False, comm=None, overwrite: bool = False,
              progress: bool | None = None, after_step=None, stop=None):
    """Train per ``cfg`` into run directory ``out_dir`` (see the module docstring).

    Collective over ``comm`` (default: one process). ``resume=True`` continues from the newest
    checkpoint in ``out_dir`` (whose ``resolved_config.toml`` must agree with ``cfg`` except
    :data:`RESUMABLE_KEYS`). ``progress=None`` shows a bar when stderr is a TTY. Returns the
    trained :class:`~lda_sketch.model.TopicModel` (on every rank), saved in ``out/model``.

    Nothing in an existing ``out`` is deleted or replaced before the new run has passed setup
    (config, corpus, backend and checkpoint checks on every rank).

    ``stop`` (e.g. the :class:`~lda_sketch.run.interrupts.StopFlag` of ``lda-sketch train``) is
    asked at every iteration boundary, collectively: once it is true on any rank, every rank stops
    after the same iteration, a checkpoint of it is written and
    :class:`~lda_sketch.run.interrupts.Interrupted` is raised on every rank (no model is saved).
    """
    comm = comm or SerialComm()
    out = Path(out_dir)
    is_root = comm.rank == 0
    ckpt = state = driver = None
    # Setup errors (bad paths, corpora, checkpoints) are raised on every rank, so no rank is
    # left waiting in a collective; errors inside the loop abort the job (abort_on_error).
    if cfg.data.embedded and comm.size > 1:
        with collective_errors(comm, "building the embedded corpus"):
            if is_root:  # build the on-disk cache once; the other ranks then open it
                load_data(cfg)
    with collective_errors(comm, "training setup"):
        if resume:
            ckpt = _check_resume(cfg, out)
        elif is_root and out.exists() and any(out.iterdir()) and not overwrite:
            raise FileExistsError(
                f"{out} already exists and is not empty; choose another --out, continue it "
                f"with --resume {out}, or pass --overwrite")
        train, heldout = load_data(cfg)
        cfg = resolve_config(cfg, train)[0]
        params = check_setup(cfg, train)
        shard = shard_of(train, comm.rank, comm.size)
        held_shard = shard_of(heldout, comm.rank, comm.size) if heldout is not None else None
        engine = Engine(params, shard, train.n_vocab, comm=comm, heldout=held_shard)
        if ckpt is not None:
            state, driver = load_checkpoint(ckpt, rank=comm.rank, n_ranks=comm.size)
            load_engine_state(engine, ckpt, state, sync=False)  # errors reported on all ranks
            state = None  # its copy of the statistics' bytes is not kept through the run
        elif is_root and overwrite:
            # Setup passed: only now may the old run go. Its checkpoints must never be resumed
            # into this one.
            shutil.rmtree(out / "checkpoints", ignore_errors=True)
    with abort_on_error(comm), numba_threads(cfg.sampler.n_threads):
        history: list[dict] = []
        if ckpt is not None:
            engine.sync_state()
            history = list(driver["history"])
            elapsed = float(driver["elapsed"])
            log.info("resumed %s at iteration %d", out, engine.iteration)
            if engine.iteration >= cfg.sampler.n_iter:
                log.warning("the run is already at iteration %d >= sampler.n_iter = %d; nothing "
                            "to do (extend it with --set sampler.n_iter=N)", engine.iteration,
                            cfg.sampler.n_iter)
        else:
            t0 = time.perf_counter()
            engine.initialize()
            elapsed = time.perf_counter() - t0
        if is_root:
            out.mkdir(parents=True, exist_ok=True)
            cfg.save(out / "resolved_config.toml")
            _write_provenance(out, cfg, train, heldout, comm, ckpt)
            if heldout is not None:  # their ids, for `lda-sketch evaluate RUN_DIR`
                write_heldout_ids(out, heldout, source=heldout_source(cfg),
                                  doc_index=heldout_index(cfg, train.n_docs + heldout.n_docs))
            # Rewrite metrics from the checkpoint: records written after it are regenerated.
            write_text_atomic(out / "metrics.jsonl",
                              "".join(json.dumps(r) + "\n" for r in history))
        loop = TrainingLoop(engine, history=history,
                    evaluate_every=cfg.eval.evaluate_every, elapsed=elapsed,
                    coherence_docs=(shard if held_shard is None else held_shard)
                    if cfg.eval.coherence else None)
        bar = Progress(cfg.sampler.n_iter, start=engine.iteration,
                       enabled=is_root and progress is not False,
                       tty=None if progress is None else bool(progress))
        every = cfg.output.checkpoint_every
        fail_at = injected_fault_iteration(comm.rank)

        def on_record(rec):
            if is_root:
                with open(out / "metrics.jsonl", "a", encoding="utf-8") as f:
                    f.write(json.dumps(rec) + "\n")

        saved = [None]  # the iteration of the newest checkpoint written by this call

        def step_hook(it, seg_elapsed):
            if it == fail_at:
                raise_injected(it)
            if (every and it % every == 0) or it == cfg.sampler.n_iter:
                _checkpoint(out, engine, loop, elapsed + seg_elapsed, cfg, comm)
                saved[0] = it
            if after_step is not None:
                after_step(it)

        try:
            loop.run(cfg.sampler.n_iter, on_record=on_record, after_step=step_hook,
                     progress=bar, stop=None if stop is None else lambda: any_rank(comm, stop))
        finally:
            bar.close()
        if loop.stopped:
            if saved[0] != engine.iteration:
                _checkpoint(out, engine, loop, loop.elapsed0, cfg, comm)
    if loop.stopped:
        raise Interrupted(engine.iteration, out, getattr(stop, "signum", 0))
    with abort_on_error(comm), numba_threads(cfg.sampler.n_threads):
        model = replace(engine.model(), vocab=train.vocab, reverse_map=train.reverse_map,
                        config=cfg, history=loop.history, provenance=provenance(train.manifest))
        if is_root:
            model.save(out / "model", overwrite=True)
        if cfg.output.doc_topics:  # every rank writes its documents' n_dk (io/doc_topics.py)
            write_shard_doc_topics(out, comm.rank, engine.state, shard.doc_ids,
                                   alpha=cfg.model.alpha)
    comm.barrier()
    return model


def load_engine_state(engine, ckpt, state: dict, *, sync: bool = True) -> None:
    """``engine.load_state_dict(state, sync=sync)``, errors naming checkpoint ``ckpt``. The
    state's statistics bytes are handed over (``consume``): no second copy while resuming."""
    try:
        engine.load_state_dict(state, sync=sync, consume=True)
    except (CorruptDataError, IncompatibleStatsError) as exc:
        raise CorruptDataError(f"{ckpt}: {str(exc).rstrip('.')}; {REMEDY_CHECKPOINT}.") from None


def _write_provenance(out: Path, cfg: Config, train, heldout, comm, ckpt) -> None:
    prov = provenance(train.manifest)
    prov.update({"n_ranks": comm.size, "n_threads": _threads(cfg),
                 "heldout_manifest_sha256": (manifest_checksum(heldout.manifest)
                                             if heldout is not None else None)})
    path = out / "provenance.json"
    if ckpt is not None and path.exists():
        # Keep the original run's provenance; record each resumption after it.
        try:
            old = read_json(path)
        except CorruptDataError as exc:  # provenance only: keep training, start it afresh
            log.warning("%s; writing a new provenance.json", exc)
            old = dict(prov)
        if not isinstance(old.get("resumed"), list):
            old["resumed"] = []
        old["resumed"].append({"from": str(ckpt), **{
            k: prov[k] for k in ("date", "git", "lda_sketch", "n_ranks", "n_threads")}})
        prov = old
    write_text_atomic(path, json.dumps(prov, indent=2))


def _checkpoint(out: Path, engine, loop: TrainingLoop, elapsed: float, cfg: Config, comm) -> None:
    driver = {"iteration": int(engine.iteration), "history": loop.history, "elapsed": elapsed}
    save_checkpoint(out, engine.iteration, engine.state_dict(stream=True), driver, comm=comm,
                    keep=cfg.output.keep_checkpoints)


def _threads(cfg: Config) -> int:
    import numba

    return cfg.sampler.n_threads or numba.get_num_threads()


def _check_resume(cfg: Config, out: Path) -> Path:
    saved_path = out / "resolved_config.toml"
    if not saved_path.is_file():
        raise InputFormatError(f"--resume {out}: {saved_path.name} not found; not a run directory")
    saved = config_load(saved_path)
    a, b = saved.to_dict(), cfg.to_dict()
    filled = filled_keys(b["sketch"])  # unset now, filled in by the run: not a change
    diffs = [f"[{s}].{k} ({a[s].get(k)!r} in the run, {b[s].get(k)!r} now)"
             for s in a for k in sorted(set(a[s]) | set(b[s]))
             if a[s].get(k) != b[s].get(k) and (s, k) not in RESUMABLE_KEYS | filled]
    if diffs:
        raise InputFormatError(
            f"--resume {out}: the config differs from the run's resolved_config.toml in "
            + ", ".join(diffs) + "; only " + ", ".join(f"{s}.{k}" for s, k in
                                                     sorted(RESUMABLE_KEYS))
            + " may change on resume (start a new run for anything else)")
    ckpt = latest_checkpoint(out)
    if ckpt is None:
        raise InputFormatError(f"--resume {out}: no checkpoint found in {out / 'checkpoints'} "
                               f"(set [output].checkpoint_every to write some)")
    return ckpt
