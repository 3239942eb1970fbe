"""One writer per run directory (lda_sketch.io.run_lock): a second writer is refused at once and
told who holds the run; a killed writer's lock is taken over; readers never lock."""
from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys

import pytest

from lda_sketch.cli.main import main as cli_main
from lda_sketch.io.run_lock import LOCK_NAME, RunLockedError, run_lock
from lda_sketch.run.train import train_run


def test_a_second_writer_is_refused_naming_the_first(tmp_path):
    run = tmp_path / "run"
    with run_lock(run):
        holder = json.loads((run / LOCK_NAME).read_text())
        assert holder["pid"] == os.getpid() and holder["host"] == socket.gethostname()
        with pytest.raises(RunLockedError, match=rf"{run} is being written by pid {os.getpid()} "
                                                 rf"on {socket.gethostname()} since "):
            with run_lock(run):
                pass
    assert not run.exists()  # created for the lock and left empty: removed again
    run.mkdir()
    (run / "keep.txt").write_text("x")
    with run_lock(run):
        pass
    assert sorted(p.name for p in run.iterdir()) == ["keep.txt"]  # the lock file goes


def test_train_refuses_a_locked_run_and_writes_nothing(small_config, tmp_path):
    run = tmp_path / "run"
    with run_lock(run):
        with pytest.raises(RunLockedError, match="is being written by pid"):
            train_run(small_config, run, progress=False)
        assert sorted(p.name for p in run.iterdir()) == [LOCK_NAME]
    train_run(small_config, run, progress=False)  # released: the run goes ahead
    assert (run / "model" / "model.json").is_file() and not (run / LOCK_NAME).exists()
    with run_lock(run):  # --resume and --overwrite are refused alike
        for kw in ({"resume": True}, {"overwrite": True}):
            with pytest.raises(RunLockedError):
                train_run(small_config, run, progress=False, **kw)


def test_the_cli_says_who_holds_the_run(small_config, tmp_path, capsys):
    run = tmp_path / "run"
    cfg = tmp_path / "c.toml"
    small_config.save(cfg)
    with run_lock(run):
        rc = cli_main(["train", "--config", str(cfg), "--out", str(run), "--no-progress"])
    assert rc != 0 and f"is being written by pid {os.getpid()}" in capsys.readouterr().err


def test_a_killed_writers_lock_is_taken_over(tmp_path, caplog):
    run = tmp_path / "run"
    code = ("import sys, time; from lda_sketch.io.run_lock import run_lock\n"
            f"with run_lock({str(run)!r}):\n    print('locked', flush=True); time.sleep(60)\n")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "locked"
        with pytest.raises(RunLockedError, match=f"pid {proc.pid} "):
            with run_lock(run):
                pass
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    with caplog.at_level(logging.INFO, logger="lda_sketch.io.run_lock"):
        with run_lock(run):
            pass
    assert f"took over the lock of pid {proc.pid}" in caplog.text


def _hold(lock_code: str):
    """A process holding a lock (``lock_code`` is the ``with`` target) until killed."""
    code = ("import time; from lda_sketch.io.run_lock import run_lock, writer_lock\n"
            f"with {lock_code}:\n    print('locked', flush=True); time.sleep(60)\n")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "locked"
    return proc


def test_saves_and_exports_into_a_run_being_written_are_refused(small_config, tmp_path):
    """The model save, export and LDASketch.save take the writer lock of the run they write
    into (and of their own target); this process's own run lock is not taken twice."""
    import numpy as np

    from lda_sketch.io.export import write_export

    run = tmp_path / "run"
    model = train_run(small_config, run, progress=False)  # its own save ran under its lock
    theta = np.full((2, model.n_topics), 1.0 / model.n_topics)
    proc = _hold(f"run_lock({str(run)!r})")  # a trainer of `run` in another process
    try:
        for write in (lambda: model.save(run / "model", overwrite=True),
                      lambda: write_export(run / "export", model, theta, np.ones(2, np.int64))):
            with pytest.raises(RunLockedError, match=rf"{run} is being written by pid "
                                                     rf"{proc.pid} "):
                write()
        assert not (run / "export").exists()
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    target = tmp_path / "exported"  # two writers of one directory outside any run
    proc = _hold(f"writer_lock({str(target)!r})")
    try:
        with pytest.raises(RunLockedError, match=rf"{target} is being written by pid {proc.pid} "
                                                 r".*or export into another directory"):
            write_export(target, model, theta, np.ones(2, np.int64))
        write_export(tmp_path / "elsewhere", model, theta, np.ones(2, np.int64))
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    write_export(target, model, theta, np.ones(2, np.int64))  # the holder is gone
    model.save(run / "model", overwrite=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["elsewhere", "exported", "run"]
