"""The training driver shared by ``lda-sketch train`` and
:class:`~lda_sketch.api.estimator.LDASketch`.

It owns the iteration loop around an :class:`~lda_sketch.run.engine.Engine` (never the sampler's
kernels) and a run directory's lifecycle: setup checks, evaluation schedule, ``metrics.jsonl``,
checkpoints, progress and the final model.

A run directory (``train_run``) holds::

    resolved_config.toml   the full config, paths absolute: reproduces the run on its own
    provenance.json        versions, git describe, date, corpus manifest checksums, ranks, threads
    metrics.jsonl          one JSON object per evaluation (keys: ``run.loop.METRIC_KEYS``)
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

import contextlib
import json
import logging
import shutil
import time
from dataclasses import replace
from pathlib import Path

from ..config import Config
from ..config import load as config_load
from .data import heldout_index, heldout_source, load_data, training_corpus
from ..distributed.collective import abort_on_error, any_rank, collective_errors
from ..distributed.comm import SerialComm
from ..distributed.faults import injected_fault_iteration, raise_injected
from ..distributed.partition import shard_of
from .engine import Engine, EngineParams, resolve_config  # noqa: F401 (re-exported)
from ..stats.budget import filled_keys, is_resolved
from ..exceptions import (CorruptDataError, IncompatibleStatsError, InputFormatError,
                         InvalidParameterError)
from ..io.atomic import write_text_atomic
from ..distributed.checkpoint import save_checkpoint
from ..io.checkpoint import latest_checkpoint, load_checkpoint
from ..io.doc_topics import write_shard_doc_topics
from ..io.heldout_ids import write_heldout_ids
from ..model.files import manifest_checksum, provenance
from .interrupts import Interrupted
from ..io.run_lock import LOCK_NAME, run_lock
from ..io.safe_read import REMEDY_CHECKPOINT, read_json
from .loop import TrainingLoop
from .progress import Progress
from ..stats import unread_message
from .threads import numba_threads
from .warmup import prepare as prepare_kernels

log = logging.getLogger(__name__)

RESUMABLE_KEYS = {("sampler", "n_iter"), ("sampler", "n_threads"), ("eval", "evaluate_every"),
                  ("eval", "coherence"), ("output", "checkpoint_every"),
                  ("output", "keep_checkpoints"), ("output", "doc_topics"),
                  ("run", "stall_timeout")}


# --------------------------------------------------------------------------- setup checks
def check_setup(cfg: Config, train) -> EngineParams:
    """Every check a run makes before it allocates or writes anything: the config's backend
    parameters against the corpus (``lda-sketch train --dry-run`` runs exactly these).
    Returns the engine parameters. Unread ``[sketch]`` settings are logged, never dropped
    silently."""
    where = cfg.source or "config"
    if train.n_docs == 0 or train.n_tokens == 0:
        raise InputFormatError(f"{where}: {training_corpus(cfg)} has no tokens ({train.n_docs} "
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


# --------------------------------------------------------------------------- a run directory
def train_run(cfg: Config, out_dir, *, comm=None, **kwargs):
    """Train per ``cfg`` into run directory ``out_dir`` (see the module docstring).

    Collective over ``comm`` (default: one process). ``resume=True`` continues from the newest
    checkpoint in ``out_dir`` (whose ``resolved_config.toml`` must agree with ``cfg`` except
    :data:`RESUMABLE_KEYS`). ``progress=None`` shows a bar when stderr is a TTY. Returns the
    trained :class:`~lda_sketch.model.TopicModel` (on every rank), saved in ``out/model``.

    Nothing in an existing ``out`` is deleted or replaced before the new run has passed setup
    (config, corpus, backend and checkpoint checks on every rank). One writer per run: rank 0
    holds ``out``'s writer lock (:mod:`lda_sketch.io.run_lock`) throughout, and a second writer
    is refused at once, on every rank, naming the holder.

    Keywords: ``resume``, ``overwrite``, ``progress``, ``after_step``, ``stop``.

    ``stop`` (e.g. the :class:`~lda_sketch.run.interrupts.StopFlag` of ``lda-sketch train``) is
    asked at every iteration boundary, collectively: once it is true on any rank, every rank stops
    after the same iteration, a checkpoint of it is written and
    :class:`~lda_sketch.run.interrupts.Interrupted` is raised on every rank (no model is saved).
    """
    comm = comm or SerialComm()
    comm.set_stall_timeout(cfg.run.stall_timeout)
    with contextlib.ExitStack() as held:
        with collective_errors(comm, "locking the run directory"):
            if comm.rank == 0:
                held.enter_context(run_lock(out_dir, what="train"))
        return _train_run(cfg, out_dir, comm=comm, **kwargs)


def _train_run(cfg: Config, out_dir, *, resume: bool = False, comm, overwrite: bool = False,
               progress: bool | None = None, after_step=None, stop=None):
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
        elif is_root and out.exists() and any(p.name != LOCK_NAME for p in out.iterdir()) \
                and not overwrite:
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
        compile_s = prepare_kernels(cfg, announce=is_root)  # not in any timing below
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
            _write_provenance(out, cfg, train, heldout, comm, ckpt, compile_s)
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
                                   alpha=engine.alpha)  # the optimised one, if optimised
    comm.barrier()
    return model


def load_engine_state(engine, ckpt, state: dict, *, sync: bool = True) -> None:
    """``engine.load_state_dict(state, sync=sync)``, errors naming checkpoint ``ckpt``. The
    state's statistics bytes are handed over (``consume``): no second copy while resuming."""
    try:
        engine.load_state_dict(state, sync=sync, consume=True)
    except (CorruptDataError, IncompatibleStatsError) as exc:
        raise CorruptDataError(f"{ckpt}: {str(exc).rstrip('.')}; {REMEDY_CHECKPOINT}.") from None


def _write_provenance(out: Path, cfg: Config, train, heldout, comm, ckpt,
                      compile_s: float) -> None:
    prov = provenance(train.manifest)
    prov.update({"n_ranks": comm.size, "n_threads": _threads(cfg),
                 "compile_s": round(compile_s, 3),
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
            k: prov[k] for k in ("date", "git", "lda_sketch", "n_ranks", "n_threads",
                                 "compile_s")}})
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
        raise InputFormatError(f"--resume {out}: {saved_path.name} not found: not a run "
                               f"directory, or one stopped before its set-up was written; start "
                               f"it with --out {out} --overwrite")
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
        why = ("the run stopped before its first checkpoint; start it again with --overwrite"
               if saved.output.checkpoint_every else
               "set [output].checkpoint_every to write some, and start it again with "
               "--overwrite")
        raise InputFormatError(f"--resume {out}: no checkpoint found in {out / 'checkpoints'} "
                               f"({why})")
    return ckpt
