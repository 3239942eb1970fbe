"""A Slurm job for a training run, and what happens when Slurm signals it.

`lda-sketch train` stops cleanly on SIGTERM or SIGUSR1 (Slurm's `--signal`): at the next iteration
boundary every rank agrees to stop, a checkpoint is written and the exit status is 130; the same
job submitted again resumes from it, bitwise as if never stopped. This example writes the job
script from scripts/cluster/train.sbatch with `#SBATCH --signal=USR1@300`
(`lda_sketch.sweep.slurm.train_job`), then runs it here, without Slurm: a stand-in `srun` runs the
command directly, and the example sends SIGUSR1 itself, as Slurm would 300 s before the limit.
Run: python examples/slurm_job.py [OUT_DIR]      (on a cluster: sbatch OUT_DIR/train.sbatch)"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lda_sketch import config
from lda_sketch.sweep.slurm import train_job

REPO = Path(__file__).resolve().parents[1]
out = Path(sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp()).resolve()
out.mkdir(parents=True, exist_ok=True)

# 1. The run's config and its job script.
cfg = config.from_dict({"model": {"n_topics": 8},
                        "sampler": {"n_iter": 300},
                        "data": {"embedded": True, "n_heldout": 50},
                        "eval": {"evaluate_every": 100},
                        "output": {"checkpoint_every": 100}})
cfg.save(out / "config.toml")
job = out / "train.sbatch"
job.write_text(train_job(REPO / "scripts" / "cluster" / "train.sbatch", out / "config.toml",
                         out / "run", signal="USR1@300", job_name="lda-example"))
print("".join(ln + "\n" for ln in job.read_text().splitlines()
              if ln.startswith(("#SBATCH", "CONFIG=", "OUT=", "[ -d", "srun"))))

# 2. A stand-in for Slurm: `srun` runs the command itself (and says which process it became),
# the job's venv is this interpreter. (The stand-in keeps this checkout's compiled kernels: a
# fresh NUMBA_CACHE_DIR would compile them all again.)
bin_dir = out / "standin" / "bin"
bin_dir.mkdir(parents=True, exist_ok=True)
(bin_dir / "srun").write_text('#!/bin/bash\necho $$ > "$SRUN_PID"\n'
                              'exec env -u NUMBA_CACHE_DIR "$@"\n')
(bin_dir / "lda-sketch").write_text(f'#!/bin/sh\nexec "{sys.executable}" -m lda_sketch "$@"\n')
(bin_dir / "activate").write_text(f'export PATH="{bin_dir}:$PATH"\n')
for f in bin_dir.iterdir():
    f.chmod(0o755)
env = dict(os.environ, VENV=str(out / "standin"), SRUN_PID=str(out / "srun.pid"),
           SLURM_CPUS_PER_TASK="1", PYTHONUNBUFFERED="1")
(out / "srun.pid").unlink(missing_ok=True)


def submit():
    return subprocess.Popen(["bash", str(job)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


# 3. The first job: "Slurm" signals the ranks once training is under way.
first = submit()
deadline = time.monotonic() + 240
while not ((out / "run" / "metrics.jsonl").exists() and (out / "srun.pid").exists()):
    if first.poll() is not None or time.monotonic() > deadline:
        sys.exit(f"the job ended before training began:\n{first.communicate()[1]}")
    time.sleep(0.05)
time.sleep(0.5)
os.kill(int((out / "srun.pid").read_text()), signal.SIGUSR1)
_, err = first.communicate(timeout=240)
print(f"first job: exit status {first.returncode}; {err.strip().splitlines()[-1]}")
print("checkpoints:", sorted(p.name for p in (out / "run" / "checkpoints").iterdir()))

# 4. The same job submitted again resumes from the checkpoint and finishes.
second = submit()
stdout, err = second.communicate(timeout=240)
assert second.returncode == 0, err
last = json.loads((out / "run" / "metrics.jsonl").read_text().splitlines()[-1])
print(f"second job: exit status {second.returncode}, resumed; {stdout.strip().splitlines()[-1]}")
print(f"iteration {last['iteration']}: held-out perplexity {last['perplexity']:.1f}")
