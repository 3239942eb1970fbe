"""Training progress on stderr: a carriage-return line on a TTY, log lines otherwise.

Only rank 0 shows progress (the driver passes ``enabled=False`` elsewhere).
"""
from __future__ import annotations

import logging
import sys
import time

log = logging.getLogger(__name__)


class Progress:
    """``update(iteration, perplexity=None)`` after each iteration; ``close()`` at the end.

    On a TTY one line is redrawn: ``iter 12/100  3.4 it/s  perplexity 1234.5  ETA 26s``.
    Otherwise (files, pipes, CI) nothing is redrawn: a log line is emitted whenever a new
    perplexity arrives, and at most every ``log_every_s`` seconds in between.
    """

    def __init__(self, total: int, *, start: int = 0, enabled: bool = True, stream=None,
                 tty: bool | None = None, log_every_s: float = 30.0):
        self.total = int(total)
        self.start = int(start)
        self.enabled = enabled
        self.stream = stream if stream is not None else sys.stderr
        self.tty = (tty if tty is not None
                    else bool(getattr(self.stream, "isatty", lambda: False)()))
        self.log_every_s = log_every_s
        self._t0 = time.perf_counter()
        self._last_log = self._t0
        self._perplexity = None
        self._width = 0

    def update(self, iteration: int, perplexity: float | None = None) -> None:
        if not self.enabled:
            return
        now = time.perf_counter()
        done = iteration - self.start
        rate = done / (now - self._t0) if now > self._t0 and done > 0 else 0.0
        new_ppl = perplexity is not None
        if new_ppl:
            self._perplexity = perplexity
        text = f"iter {iteration}/{self.total}  {rate:.2f} it/s"
        if self._perplexity is not None:
            text += f"  perplexity {self._perplexity:.1f}"
        if rate > 0 and iteration < self.total:
            text += f"  ETA {_fmt_s((self.total - iteration) / rate)}"
        if self.tty:
            pad = max(0, self._width - len(text))
            self.stream.write("\r" + text + " " * pad)
            self.stream.flush()
            self._width = len(text)
        elif new_ppl or now - self._last_log >= self.log_every_s or iteration == self.total:
            log.info("%s", text)
            self._last_log = now

    def close(self) -> None:
        if self.enabled and self.tty and self._width:
            self.stream.write("\n")
            self.stream.flush()
            self._width = 0


def _fmt_s(s: float) -> str:
    s = int(round(s))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{(s % 3600) // 60:02d}m"


def record_line(rec: dict) -> str:
    """One line per evaluation record (keys: ``lda_sketch.run.loop.METRIC_KEYS``); for
    ``LDASketch.fit(verbose=True)``."""
    parts = [f"iteration {rec['iteration']}"]
    if rec.get("perplexity") is not None:
        parts.append(f"perplexity {rec['perplexity']:.2f} (unigram "
                     f"{rec.get('unigram_perplexity') or float('nan'):.2f})")
    if rec.get("alpha") is not None:
        parts.append(f"alpha {rec['alpha']:.4g}")
    if rec.get("train_loglik_per_token") is not None:
        parts.append(f"train loglik/token {rec['train_loglik_per_token']:.4f}")
    parts.append(f"{rec.get('t_sample') or 0.0:.3f} s/iter sampling")
    parts.append(f"elapsed {rec.get('elapsed') or 0.0:.1f} s")
    return "lda_sketch: " + ", ".join(parts)
