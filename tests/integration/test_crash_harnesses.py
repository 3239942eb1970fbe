"""Short forms of the crash-consistency and soak harnesses (issue 26): the full campaigns are
`python scripts/kill_trials.py --trials 200` and `python scripts/soak.py`."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def test_random_kills_leave_a_resumable_run_or_a_clear_refusal(tmp_path):
    """SIGKILL of train and prep at random moments: each trial resumes bitwise or is refused
    with one error line (train), or leaves the output absent or complete (prep)."""
    state = tmp_path / "kills.jsonl"
    r = subprocess.run([sys.executable, str(REPO / "scripts" / "kill_trials.py"), "--trials",
                        "2", "--commands", "train-1", "prep", "--state", str(state),
                        "--no-record"], capture_output=True, text=True, timeout=600)
    trials = [json.loads(x) for x in state.read_text().splitlines()]
    assert len(trials) == 4, r.stdout + r.stderr[-3000:]
    assert all(t["outcome"] in ("resumed bitwise", "refused clearly", "absent", "complete")
               for t in trials), trials
    assert r.returncode == 0


def test_a_long_run_keeps_memory_descriptors_and_disk_flat():
    r = subprocess.run([sys.executable, str(REPO / "scripts" / "soak.py"), "--iters", "300",
                        "--no-record"], capture_output=True, text=True, timeout=600)
    checks = json.loads(r.stdout.strip().splitlines()[-1])
    assert checks == {"rss_flat": True, "fds_flat": True, "disk_flat": True,
                      "retention_exact": True}, r.stdout
    assert r.returncode == 0
