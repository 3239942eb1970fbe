"""Whole-job behaviour of ``mpiexec -n 2 lda-sketch train``: failures, kills, resume, P and threads.

Each test launches real MPI jobs in subprocesses with a timeout, so a hang fails the test instead
of the CI job. Skipped when no ``mpiexec`` is found (install the ``mpich`` extra).
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from lda_sketch.distributed.launch import find_mpiexec

REPO = Path(__file__).resolve().parents[2]
TINY = REPO / "configs" / "tiny.toml"
# A long run of short iterations, checkpointed every iteration: wide window for a kill.
LONG = ["--set", "sampler.n_iter=150", "--set", "eval.evaluate_every=25"]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(find_mpiexec() is None,
                       reason="no mpiexec found (install the 'mpich' extra)"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]


def env(**extra) -> dict:
    # One numba thread per rank unless a test asks for more: 2 ranks on 2 cores.
    return {**os.environ, "PYTHONUNBUFFERED": "1", "NUMBA_NUM_THREADS": "1",
            **{k: str(v) for k, v in extra.items()}}


def train_cmd(n_ranks: int | None, *args) -> list[str]:
    cmd = [sys.executable, "-m", "lda_sketch", "train", "--no-progress", *map(str, args)]
    return cmd if n_ranks is None else [find_mpiexec(), "-n", str(n_ranks), *cmd]


def train(n_ranks, *args, timeout=120, **env_extra) -> subprocess.CompletedProcess:
    r = subprocess.run(train_cmd(n_ranks, *args), capture_output=True, text=True,
                       timeout=timeout, env=env(**env_extra))
    assert r.returncode == 0, r.stderr[-4000:]
    return r


def stats_bytes(run: Path) -> bytes:
    return (run / "model" / "stats.bin").read_bytes()


def perplexities(run: Path) -> list[tuple[int, float]]:
    return [(r["iteration"], r["perplexity"]) for r in
            map(json.loads, (run / "metrics.jsonl").read_text().splitlines())]


@pytest.fixture(scope="module")
def straight(tmp_path_factory):
    """Uninterrupted 2-rank run of the shipped tiny config (countmin-morris) for LONG iterations."""
    run = tmp_path_factory.mktemp("mpi") / "straight"
    train(2, "--config", TINY, *LONG, "--out", run)
    return run


def test_failure_on_one_rank_stops_the_job(tmp_path):
    """Rank 1 raises after iteration 3 while rank 0 waits in the next merge: the job must end
    quickly, non-zero, with rank 1's message, and leave no final model."""
    t0 = time.monotonic()
    r = subprocess.run(train_cmd(2, "--config", TINY, "--out", tmp_path / "run"),
                       capture_output=True, text=True, timeout=60,
                       env=env(LDA_SKETCH_FAIL_RANK=1, LDA_SKETCH_FAIL_AT_ITER=3))
    elapsed = time.monotonic() - t0
    assert r.returncode != 0
    assert "[rank 1/2] fatal: RuntimeError: injected failure after iteration 3" in r.stderr
    assert elapsed < 30, f"the job took {elapsed:.1f} s to stop after one rank failed"
    assert not (tmp_path / "run" / "model").exists()


def test_failure_on_rank_zero_stops_the_job(tmp_path):
    t0 = time.monotonic()
    r = subprocess.run(train_cmd(2, "--config", TINY, "--out", tmp_path / "run"),
                       capture_output=True, text=True, timeout=60,
                       env=env(LDA_SKETCH_FAIL_RANK=0, LDA_SKETCH_FAIL_AT_ITER=2))
    assert r.returncode != 0
    assert "[rank 0/2] fatal: RuntimeError: injected failure after iteration 2" in r.stderr
    assert time.monotonic() - t0 < 30


def _rank_pid(launcher_pid: int, rank: int) -> int | None:
    """PID of MPI rank ``rank`` among the launcher's descendants (from /proc), or None."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            pid, rest = stat.read_text().split(" ", 1)
            ppid = int(rest.rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(pid))
    todo, seen = [launcher_pid], []
    while todo:
        kids = children.get(todo.pop(), [])
        seen += kids
        todo += kids
    for pid in seen:
        try:
            environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if f"PMI_RANK={rank}".encode() in environ and b"LDA_SKETCH_KILL_TEST=1" in environ:
            return pid
    return None


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs Linux /proc")
def test_sigkill_of_one_rank_then_resume_is_bitwise(straight, tmp_path):
    """SIGKILL rank 1 after a few checkpoints: mpiexec tears the job down; ``--resume`` then
    finishes it bitwise identical to the uninterrupted run (statistics and perplexity trace)."""
    run = tmp_path / "run"
    proc = subprocess.Popen(
        train_cmd(2, "--config", TINY, *LONG, "--set", "output.checkpoint_every=1", "--out", run),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=env(LDA_SKETCH_KILL_TEST=1))
    try:
        deadline = time.monotonic() + 60
        while not (run / "checkpoints" / "iter-000005").exists():
            assert proc.poll() is None, "the run ended before it could be killed"
            assert time.monotonic() < deadline, "no checkpoint after 60 s"
            time.sleep(0.01)
        victim = _rank_pid(proc.pid, 1)
        assert victim is not None, "rank 1's process not found"
        os.kill(victim, signal.SIGKILL)
        _, err = proc.communicate(timeout=30)  # mpiexec must tear the job down, not hang
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode != 0
    assert not (run / "model").exists(), "the killed run finished anyway"
    killed_at = json.loads((max((run / "checkpoints").glob("iter-*")) / "checkpoint.json")
                           .read_text())["iteration"]
    assert 5 <= killed_at < 150

    r = train(2, "--resume", run)
    assert "trained 150 iterations" in r.stdout
    assert stats_bytes(run) == stats_bytes(straight)
    assert perplexities(run) == perplexities(straight)
    prov = json.loads((run / "provenance.json").read_text())
    assert [x["from"].rsplit("-", 1)[1] for x in prov["resumed"]] == [f"{killed_at:06d}"]


def test_two_ranks_equal_one_rank_for_an_exact_backend(tmp_path):
    """End to end through the CLI on the built-in corpus, integer count-min: P = 2 gives the
    1-rank z and statistics bitwise, and its perplexity trace up to float rounding."""
    exact = ["--config", TINY, "--set", "sketch.backend=countmin"]
    train(None, *exact, "--out", tmp_path / "p1")
    train(2, *exact, "--out", tmp_path / "p2")
    assert stats_bytes(tmp_path / "p2") == stats_bytes(tmp_path / "p1")
    z = [np.load(tmp_path / "p2" / "checkpoints" / "iter-000020" / f"rank-{r:04d}.npz")["z"]
         for r in range(2)]
    z1 = np.load(tmp_path / "p1" / "checkpoints" / "iter-000020" / "rank-0000.npz")["z"]
    np.testing.assert_array_equal(np.concatenate(z), z1)
    # Held-out log-likelihoods are summed per rank, then in rank order: equal up to rounding.
    it2, ppl2 = zip(*perplexities(tmp_path / "p2"))
    it1, ppl1 = zip(*perplexities(tmp_path / "p1"))
    assert it2 == it1
    np.testing.assert_allclose(ppl2, ppl1, rtol=1e-12)
    assert json.loads((tmp_path / "p2" / "provenance.json").read_text())["n_ranks"] == 2


def test_threads_per_rank_do_not_change_results(tmp_path):
    """2 ranks x 2 numba threads == 2 ranks x 1 thread, bitwise, with the randomized
    countmin-morris backend (draws are keyed by global token and record index, not thread)."""
    for n_threads in (1, 2):
        train(2, "--config", TINY, "--set", f"sampler.n_threads={n_threads}",
              "--out", tmp_path / f"t{n_threads}", NUMBA_NUM_THREADS=2)
        prov = json.loads((tmp_path / f"t{n_threads}" / "provenance.json").read_text())
        assert prov["n_threads"] == n_threads
    assert stats_bytes(tmp_path / "t2") == stats_bytes(tmp_path / "t1")
    assert perplexities(tmp_path / "t2") == perplexities(tmp_path / "t1")


def test_a_stalled_rank_is_named_and_stops_the_job():
    """SIGSTOP on the last rank of 2 and of 3 (scripts/stall_trials.py, short form): rank 0
    warns, then names the stopped rank within the stall timeout, every rank stops with exit
    status 75, the waiting ranks sleep (no busy spin), and the newest checkpoint resumes."""
    r = subprocess.run([sys.executable, str(REPO / "scripts" / "stall_trials.py"), "--ranks",
                        "2", "3", "--trials", "1", "--timeout", "4", "--no-record"],
                       capture_output=True, text=True, timeout=600, env=env())
    trials = [json.loads(x) for x in r.stdout.splitlines() if x.startswith("{")]
    assert [t["ranks"] for t in trials] == [2, 3], r.stdout + r.stderr[-3000:]
    for t in trials:
        assert t["exit_status"] == 75 and t["named"] and t["warned_first"], t
        assert t["stop_to_exit_s"] < 4 + 20, t
        assert t["checkpoint_resumes"], t
        assert t["waiting_rank_cpu"] < 0.2, t  # CPU seconds over one second of the stall
    assert r.returncode == 0
