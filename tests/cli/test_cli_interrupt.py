"""Signals end `lda-sketch train` cleanly: one line, exit 130, a checkpoint to resume from; under
`mpiexec -n 2` too (one line in all, no traceback). scripts/interrupt_trials.py repeats this at
random moments and checks the resumed runs bitwise (docs/results/interrupt_trials.json)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TINY = REPO / "configs" / "tiny.toml"

pytestmark = pytest.mark.slow


def _start(cmd, run):
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=dict(os.environ, PYTHONUNBUFFERED="1"))
    deadline = time.monotonic() + 120
    while not (run / "metrics.jsonl").exists():  # the loop has started
        assert p.poll() is None and time.monotonic() < deadline, p.communicate()
        time.sleep(0.02)
    time.sleep(0.3)
    return p


def _ours(stderr):
    """stderr lines other than mpiexec's and the start-up INFO log (the sketch layout the
    budget chose); warnings and errors still count."""
    return [ln for ln in stderr.splitlines() if ln and not ln.startswith("[mpiexec@")
            and " INFO lda_sketch." not in ln]


@pytest.mark.timeout(300)
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGUSR1])
def test_signal_stops_at_an_iteration_boundary_with_one_line(tmp_path, sig):
    run = tmp_path / "run"
    cmd = [sys.executable, "-m", "lda_sketch", "train", "--config", TINY, "--out", run,
           "--set", "sampler.n_iter=100000", "--set", "output.checkpoint_every=0",
           "--no-progress"]
    p = _start(cmd, run)
    p.send_signal(sig)
    out, err = p.communicate(timeout=120)
    assert p.returncode == 130, err
    (line,) = _ours(err)
    assert line.startswith("interrupted at iteration ") and line.endswith(
        f"; resume with lda-sketch train --resume {run}")
    it = int(line.split()[3].rstrip(";"))
    assert (run / "checkpoints" / f"iter-{it:06d}").is_dir()
    r = subprocess.run([sys.executable, "-m", "lda_sketch", "train", "--resume", run,
                        "--set", f"sampler.n_iter={it + 2}", "--no-progress"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert f"trained {it + 2} iterations" in r.stdout


@pytest.mark.timeout(300)
def test_ctrl_c_under_mpiexec_prints_one_line_and_no_traceback(tmp_path):
    from lda_sketch.distributed.launch import find_mpiexec

    mpiexec = find_mpiexec()
    if mpiexec is None:
        pytest.skip("no mpiexec found (install the 'mpich' extra)")
    run = tmp_path / "run"
    p = _start([mpiexec, "-n", "2", sys.executable, "-m", "lda_sketch", "train", "--config",
                TINY, "--out", run, "--set", "sampler.n_iter=100000", "--no-progress"], run)
    p.send_signal(signal.SIGINT)  # hydra forwards it to every rank
    out, err = p.communicate(timeout=120)
    assert p.returncode == 130, err
    assert "Traceback" not in err
    (line,) = _ours(err)
    assert line.startswith("interrupted at iteration ")


@pytest.mark.timeout(600)
def test_interrupts_at_api_entry_points_and_commands_end_cleanly():
    """scripts/interrupt_everywhere.py, short form: SIGINT and SIGTERM at a random moment of
    LDASketch.fit and .save and of `prep` and `export` — KeyboardInterrupt (API, SIGINT), the
    signal's own exit after a consistent stop (API, SIGTERM), exit 130 and `interrupted`
    (CLI); never a traceback or SystemError, never a temporary file left, what was written
    loads."""
    r = subprocess.run([sys.executable, str(REPO / "scripts" / "interrupt_everywhere.py"),
                        "--trials", "1", "--only", "fit", "save", "prep", "export",
                        "--no-record"], capture_output=True, text=True, timeout=600)
    summary = [x for x in r.stdout.splitlines() if not x.startswith("{")]
    assert len(summary) == 8, r.stdout + r.stderr[-3000:]
    assert r.returncode == 0, r.stdout
