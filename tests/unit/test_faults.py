"""Faults around a run: interrupts, full disks, failed commands, file modes.

* a stop flag (what SIGINT/SIGTERM/SIGUSR1 set) ends the loop at an iteration boundary, writes a
  checkpoint of it and raises ``Interrupted``; resuming continues bitwise;
* a checkpoint or model write that fails (full disk) leaves no partial directory, names the
  path, and the run stays resumable;
* every command that fails leaves the previous run resumable with a loadable model;
* files and directories follow the umask.
"""
from __future__ import annotations

import argparse
import json
import os
import stat

import numpy as np
import pytest

from lda_sketch import config as config_mod
from lda_sketch.run.interrupts import EXIT_INTERRUPTED, Interrupted, StopFlag, is_interrupt
from lda_sketch.io.atomic import atomic_directory, write_text_atomic
from lda_sketch.distributed.checkpoint import save_checkpoint
from lda_sketch.io.checkpoint import list_checkpoints, load_checkpoint
from data_prep.synthetic import planted_corpus
from lda_sketch.model.topic_model import TopicModel
from lda_sketch.run.loop import TIMING_KEYS
from lda_sketch.run.train import train_run

N_ITER = 6


@pytest.fixture(scope="module")
def cfg(tmp_path_factory):
    path = tmp_path_factory.mktemp("corpus") / "c"
    planted_corpus(80, 4, 150, 25, seed=2)[0].write(path)
    return config_mod.from_dict({
        "model": {"n_topics": 4}, "sketch": {"backend": "countmin-morris", "n_buckets": 128},
        "sampler": {"n_iter": N_ITER, "seed": 5}, "data": {"train": str(path), "n_heldout": 10},
        "eval": {"evaluate_every": 2, "fold_in_iters": 5},
        "output": {"checkpoint_every": 0}}, source="faults.toml")


@pytest.fixture(scope="module")
def straight(cfg, tmp_path_factory):
    out = tmp_path_factory.mktemp("straight") / "run"
    train_run(cfg, out, progress=False)
    return out


def _metrics(run):
    return [{k: v for k, v in json.loads(x).items() if k not in TIMING_KEYS}
            for x in (run / "metrics.jsonl").read_text().splitlines()]


def _same(a, b):
    assert (a / "model/stats.bin").read_bytes() == (b / "model/stats.bin").read_bytes()
    assert _metrics(a) == _metrics(b)


@pytest.mark.parametrize("at", [0, 3])
def test_stop_flag_checkpoints_the_iteration_and_resume_is_bitwise(cfg, straight, tmp_path, at):
    flag = StopFlag()
    if at == 0:
        flag.set()  # a signal during setup: stops before the first step

    def hook(it):
        if it == at:
            flag.set()
    with pytest.raises(Interrupted) as info:
        train_run(cfg, tmp_path / "run", progress=False, stop=flag, after_step=hook)
    assert info.value.iteration == at
    assert str(info.value) == (f"interrupted at iteration {at}; resume with lda-sketch train "
                               f"--resume {tmp_path / 'run'}")
    assert [p.name for p in list_checkpoints(tmp_path / "run")] == [f"iter-{at:06d}"]
    assert not (tmp_path / "run" / "model").exists()
    train_run(cfg, tmp_path / "run", resume=True, progress=False)
    _same(tmp_path / "run", straight)


def test_keyboard_interrupt_inside_a_kernel_counts_as_an_interrupt(monkeypatch, capsys):
    from lda_sketch.cli import main as cli_main

    def boom(args):
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as exc:
            raise SystemError("<numba kernel> returned a result with an exception set") from exc
    parser = argparse.ArgumentParser()
    parser.add_argument("-v", "--verbose", action="count", default=0)
    parser.set_defaults(func=boom, command="train", configures_logging=True)
    monkeypatch.setattr(cli_main, "build_parser", lambda *argv: parser)
    assert cli_main.main([]) == EXIT_INTERRUPTED
    assert capsys.readouterr().err == "interrupted\n"
    assert not is_interrupt(SystemError("other"))


def test_signal_handlers_set_the_flag_and_are_restored_in_process():
    import signal

    from lda_sketch.run.interrupts import SIGNALS, catch_signals

    before = {s: signal.getsignal(s) for s in SIGNALS}
    with catch_signals(ignore_at_exit=True) as flag:
        os.kill(os.getpid(), signal.SIGUSR1)
        for _ in range(100):  # the handler runs between bytecodes
            if flag:
                break
    assert flag.signum == signal.SIGUSR1
    assert {s: signal.getsignal(s) for s in SIGNALS} == before  # nothing leaks to the caller


def _full_disk(*a, **k):
    raise OSError(28, "No space left on device")


def test_full_disk_during_a_checkpoint_leaves_nothing_partial(tmp_path, monkeypatch):
    state, driver = {"a": np.arange(3), "s": 2}, {"history": [], "elapsed": 0.0}
    save_checkpoint(tmp_path, 1, state, driver)
    import lda_sketch.distributed.checkpoint as ck  # the collective write looks them up here
    for target in ("write_npz", "write_text_atomic"):
        with monkeypatch.context() as m:
            if target == "write_npz":
                m.setattr(ck, "write_npz", _full_disk)
            else:
                m.setattr(ck, "write_text_atomic", _full_disk)
            with pytest.raises(OSError, match=r"No space left on device.*iter-000002") as info:
                save_checkpoint(tmp_path, 2, state, driver)
        assert info.value.errno == 28 and "iter-000002" in info.value.filename
        assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == ["iter-000001"]
    assert load_checkpoint(tmp_path / "checkpoints" / "iter-000001")[0]["s"] == 2


def test_failed_commands_damage_no_run(cfg, straight, tmp_path, monkeypatch):
    """Each failing command below leaves the run resumable and its model loadable."""
    import shutil

    import lda_sketch.distributed.checkpoint as ck
    import lda_sketch.model.files as mio

    run = tmp_path / "run"
    shutil.copytree(straight, run)
    model_bytes = (run / "model/stats.bin").read_bytes()
    longer = cfg.with_overrides(["sampler.n_iter=8", "output.checkpoint_every=1"])
    bad = config_mod.from_dict({**cfg.to_dict(), "data": {"train": str(tmp_path / "none")}},
                               source="bad.toml")
    failing = [
        ("--overwrite with a missing corpus", lambda: train_run(bad, run, overwrite=True,
                                                                progress=False)),
        ("--resume with a changed config", lambda: train_run(
            cfg.with_overrides(["model.alpha=0.5"]), run, resume=True, progress=False)),
        ("new run into an existing directory", lambda: train_run(cfg, run, progress=False)),
    ]
    for what, command in failing:
        with pytest.raises((OSError, ValueError)):
            command()
        assert (run / "model/stats.bin").read_bytes() == model_bytes, what
        assert list_checkpoints(run), what
    # a full disk at a checkpoint, then while saving the model
    for where in ("checkpoint", "model"):
        with monkeypatch.context() as m:
            if where == "checkpoint":
                m.setattr(ck, "write_npz", _full_disk)
            else:
                m.setattr(mio.np, "save", _full_disk)
            with pytest.raises(OSError, match="No space left"):
                train_run(longer, run, resume=True, progress=False)
        assert not [p for p in (run / "checkpoints").iterdir() if p.name.startswith(".")]
        assert not [p for p in run.iterdir() if p.name.startswith(".")]
        TopicModel.load(run / "model")
    train_run(longer, run, resume=True, progress=False)  # and the run continues
    assert TopicModel.load(run / "model").iteration == 8


def test_files_and_directories_follow_the_umask(tmp_path):
    old = os.umask(0o002)
    try:
        write_text_atomic(tmp_path / "a.txt", "x")
        with atomic_directory(tmp_path / "d") as t:
            (t / "f").write_text("y")
        save_checkpoint(tmp_path / "run", 1, {"a": np.arange(2)}, {"history": [],
                                                                   "elapsed": 0.0})
    finally:
        os.umask(old)

    def mode(p):
        return stat.S_IMODE(p.stat().st_mode)
    ck = tmp_path / "run" / "checkpoints" / "iter-000001"
    assert mode(tmp_path / "a.txt") == 0o664
    assert mode(tmp_path / "d") == 0o775 and mode(tmp_path / "d" / "f") == 0o664
    assert mode(ck) == 0o775 and mode(ck / "checkpoint.json") == 0o664
    assert mode(ck / "rank-0000.npz") == 0o664


def test_the_next_write_removes_what_a_killed_writer_left_beside_the_target(tmp_path):
    from lda_sketch.io.atomic import atomic_directory

    (tmp_path / ".out.abc123.partial").mkdir()          # a writer SIGKILLed mid-write
    (tmp_path / ".out.abc123.partial" / "half.npy").write_bytes(b"x")
    (tmp_path / ".out.old-4242").mkdir()                # one killed between its two renames
    (tmp_path / ".other.xyz.partial").mkdir()           # another target's: left alone
    with atomic_directory(tmp_path / "out") as tmp:
        (tmp / "a.txt").write_text("a")
    assert sorted(p.name for p in tmp_path.iterdir()) == [".other.xyz.partial", "out"]
