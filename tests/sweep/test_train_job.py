"""`lda_sketch.sweep.slurm.train_job`: the Slurm script of one training run, with `--signal`
(checkpoint before the time limit) and resumption when submitted again. examples/slurm_job.py
runs such a script end to end with a stand-in srun."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from lda_sketch.exceptions import InvalidParameterError
from lda_sketch.sweep.slurm import train_job

TEMPLATE = Path(__file__).resolve().parents[2] / "scripts" / "cluster" / "train.sbatch"


def test_the_script_signals_defaults_its_paths_and_resumes(tmp_path):
    text = train_job(TEMPLATE, tmp_path / "c.toml", tmp_path / "run", job_name="lda-x")
    lines = text.splitlines()
    assert "#SBATCH --job-name=lda-x" in lines
    sig = next(i for i, ln in enumerate(lines) if ln.startswith("#SBATCH --signal=USR1@300"))
    assert not any(ln and not ln.startswith("#") for ln in lines[:sig])  # among the directives
    assert f"CONFIG=${{CONFIG:-{tmp_path / 'c.toml'}}}" in lines
    assert f"OUT=${{OUT:-{tmp_path / 'run'}}}" in lines
    assert '[ -d "$OUT/checkpoints" ] && RESUME=${RESUME:-1}' in lines
    assert lines[-1].startswith("srun ") and "--mpi=pmix" not in text
    if shutil.which("bash"):
        subprocess.run(["bash", "-n"], input=text, text=True, check=True)


def test_signal_is_optional_and_checked(tmp_path):
    assert "--signal" not in train_job(TEMPLATE, "c.toml", "run", signal=None)
    assert "#SBATCH --signal=B:TERM@60" in train_job(TEMPLATE, "c.toml", "run", signal="B:TERM@60")
    with pytest.raises(InvalidParameterError, match=r"The 'signal' parameter of train_job must"):
        train_job(TEMPLATE, "c.toml", "run", signal="USR1 @300; rm -rf /")
