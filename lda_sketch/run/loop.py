"""The training loop: ``engine.step()`` to a target iteration, evaluations on schedule, one
``metrics.jsonl`` record per evaluation (:data:`METRIC_KEYS`); shared by
:func:`~lda_sketch.run.train.train_run` and :class:`~lda_sketch.api.estimator.LDASketch`."""
from __future__ import annotations

import json
import logging
import math
import time

import numpy as np

from ..evaluation.coherence import RECORD_KEYS as COHERENCE_KEYS
from ..evaluation.coherence import record_coherence
from .machine import peak_rss_mib

log = logging.getLogger(__name__)

#: Keys of every ``metrics.jsonl`` record. ``t_sample``/``t_build``/``t_merge`` and
#: ``bytes_merged`` are means per iteration over the iterations since the previous record;
#: ``t_eval`` is the evaluation's own time; ``elapsed`` is wall seconds since the run began
#: (summed over resumed segments); ``stats_nbytes`` is the merged statistics' size. With
#: ``[eval] coherence`` each record also has :data:`COHERENCE_KEYS` (``evaluation/coherence.py``),
#: and with ``[model] optimize_alpha_every`` :data:`ALPHA_KEYS` (the alpha the evaluation used,
#: the one the next sweep uses), before those.
METRIC_KEYS = ("iteration", "perplexity", "unigram_perplexity", "train_loglik_per_token",
               "n_scored", "n_oov", "t_sample", "t_build", "t_merge", "t_eval", "stats_nbytes",
               "bytes_merged", "elapsed", "peak_rss_mib")
ALPHA_KEYS = ("alpha",)
#: Keys that differ between otherwise identical runs. ``peak_rss_mib`` is the list, in rank
#: order, of every rank's peak resident memory so far (``getrusage`` ``ru_maxrss``), in MiB.
TIMING_KEYS = ("t_sample", "t_build", "t_merge", "t_eval", "elapsed", "peak_rss_mib",
               "t_coherence")

# Keys that may change when a run is resumed; anything else would change the results.


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
        t0 = t_step = time.perf_counter()
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
            now = time.perf_counter()  # the whole iteration, evaluation and checkpoint included
            self.engine.comm.iteration_done(it, now - t_step)
            t_step = now
        self.elapsed0 += time.perf_counter() - t0
        return self.history

    def record(self, it: int, t0: float) -> dict:
        rec = {"iteration": it}
        if self.evaluate:
            ev = self.engine.evaluate()
            rec.update({k: ev.get(k) for k in ("perplexity", "unigram_perplexity",
                                               "train_loglik_per_token", "n_scored", "n_oov",
                                               "t_eval")})
        if self.engine.optimizes_alpha:
            rec["alpha"] = self.engine.alpha
        if self.coherence_docs is not None:
            rec.update(record_coherence(self.engine.model(), self.coherence_docs,
                                        comm=self.engine.comm))
        rec.update(self._totals.means())
        rec["elapsed"] = self.elapsed0 + time.perf_counter() - t0
        rec["peak_rss_mib"] = self.engine.comm.allgather(peak_rss_mib())
        self._totals = _StepTotals()
        keys = (METRIC_KEYS + (ALPHA_KEYS if self.engine.optimizes_alpha else ())
                + (COHERENCE_KEYS if self.coherence_docs is not None else ()))
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
