"""``lda-sketch demo``: the 1-rank path and the 2-rank MPI path, end to end in a subprocess."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from lda_sketch import config as config_mod
from lda_sketch.cli import demo
from lda_sketch.distributed.launch import find_mpiexec

REPO = Path(__file__).resolve().parents[2]
FAST = ["--set", "sampler.n_iter=10", "--set", "eval.evaluate_every=5",
        "--set", "eval.fold_in_iters=30"]


def test_fallback_config_equals_configs_demo_toml():
    shipped = config_mod.load(REPO / "configs" / "demo.toml")
    fallback = config_mod.from_dict(demo.DEMO_CONFIG)
    assert shipped.to_dict() == fallback.to_dict()


def _numbers(stdout: str):
    sk = float(re.search(r"sketch \(count-min \+ Morris\)\s+([\d.]+)", stdout).group(1))
    de = float(re.search(r"\n  dense\s+([\d.]+)", stdout).group(1))
    uni = float(re.search(r"unigram baseline\s+([\d.]+)", stdout).group(1))
    return sk, de, uni


def _check_output(res, out: Path, n_ranks: int):
    assert res.returncode == 0, res.stderr[-3000:]
    sk, de, uni = _numbers(res.stdout)
    assert de < uni and sk < uni          # both models beat the unigram baseline
    m = re.search(r"sketch ([\d.]+) (kB|MB) vs dense ([\d.]+) (kB|MB): ([\d.]+)x smaller",
                  res.stdout)
    assert m and float(m.group(5)) > 2
    assert len(re.findall(r"topic +\d+: \w+", res.stdout)) == 5
    assert (out / "perplexity.png").stat().st_size > 1000
    for run in ("sketch", "dense"):
        prov = json.loads((out / run / "provenance.json").read_text())
        assert prov["n_ranks"] == n_ranks
        recs = [json.loads(x) for x in (out / run / "metrics.jsonl").read_text().splitlines()]
        assert [r["iteration"] for r in recs] == [5, 10]
        assert abs(recs[-1]["perplexity"] - (sk if run == "sketch" else de)) < 0.1


@pytest.mark.slow
def test_demo_one_rank(tmp_path):
    out = tmp_path / "demo"
    res = subprocess.run([sys.executable, "-m", "lda_sketch", "demo", "--no-mpi", "--out",
                          str(out), "--no-progress", *FAST], capture_output=True, text=True)
    _check_output(res, out, 1)
    assert "MPI ranks" not in res.stdout and "1 MPI rank" in res.stdout


@pytest.mark.slow
@pytest.mark.skipif(find_mpiexec() is None, reason="no mpiexec next to python or on PATH")
def test_demo_relaunches_under_mpiexec(tmp_path):
    out = tmp_path / "demo"
    res = subprocess.run([sys.executable, "-m", "lda_sketch", "demo", "--out", str(out),
                          "--no-progress", *FAST], capture_output=True, text=True, timeout=300)
    assert "launching 2 MPI ranks" in res.stdout
    _check_output(res, out, 2)
