"""Progress display: carriage-return line on a TTY, log lines otherwise, silent when disabled."""
from __future__ import annotations

import io
import logging

from lda_sketch.run.progress import Progress


def test_tty_redraws_one_line():
    out = io.StringIO()
    p = Progress(3, stream=out, tty=True)
    p.update(1)
    p.update(2, perplexity=123.456)
    p.update(3)
    p.close()
    text = out.getvalue()
    assert text.count("\r") == 3 and text.endswith("\n") and text.count("\n") == 1
    last = text.split("\r")[-1]
    assert last.startswith("iter 3/3") and "it/s" in last and "perplexity 123.5" in last


def test_not_a_tty_logs_on_new_perplexity_only(caplog):
    out = io.StringIO()
    p = Progress(10, stream=out, tty=False, log_every_s=1e9)
    with caplog.at_level(logging.INFO, logger="lda_sketch.run.progress"):
        p.update(1)
        p.update(2, perplexity=50.0)
        p.update(3)
        p.update(10)
    p.close()
    assert out.getvalue() == ""
    msgs = [r.getMessage() for r in caplog.records]
    assert len(msgs) == 2 and msgs[0].startswith("iter 2/10") and "perplexity 50.0" in msgs[0]
    assert msgs[1].startswith("iter 10/10")


def test_disabled_is_silent(caplog):
    out = io.StringIO()
    p = Progress(2, stream=out, tty=True, enabled=False)
    with caplog.at_level(logging.INFO):
        p.update(1, perplexity=1.0)
        p.close()
    assert out.getvalue() == "" and not caplog.records
