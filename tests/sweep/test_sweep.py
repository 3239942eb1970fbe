"""Sweeps: parsing and expansion, resumption after an interruption, summaries, the CLI."""
from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from lda_sketch import sweep as sweep_mod
from lda_sketch.exceptions import InputFormatError
from lda_sketch.run.train import train_run

REPO = Path(__file__).resolve().parents[2]
SMOKE = REPO / "configs" / "sweeps" / "smoke.toml"
SWEEPS = sorted((REPO / "configs" / "sweeps").glob("*.toml"))


def _write(tmp_path, text, name="s.toml"):
    p = tmp_path / name
    p.write_text(text)
    return p


BASE = f'base = "{(REPO / "configs" / "tiny.toml").as_posix()}"\n'


# --------------------------------------------------------------------------- parsing
@pytest.mark.parametrize("path", SWEEPS, ids=lambda p: p.name)
def test_shipped_sweep_files_expand_and_validate(path, tmp_path):
    sw = sweep_mod.load_sweep(path)
    runs = sw.runs(tmp_path)
    assert len(runs) == len(sw.points) * sw.trials
    labels = [r.label for r in runs]
    assert len(set(labels)) == len(labels)
    for r in runs:
        assert r.config.sampler.seed == runs[0].config.sampler.seed + r.trial
        for key, value in r.overrides.items():       # every point's own keys are applied
            s, k = key.split(".")
            got = getattr(getattr(r.config, s), k)
            assert got == value or str(Path(got)) == str((path.parent / value).resolve())


def test_paper_grids_are_the_documented_ones():
    """Exp. 1: 3 hashes x 3 bucket sizes of CM plus dense; Exp. 2: 3 rules x 3 sizes plus dense."""
    e1 = sweep_mod.load_sweep(REPO / "configs/sweeps/exp1.toml").runs("x")
    cm = {(r.config.sketch.n_hashes, r.config.sketch.n_buckets) for r in e1
          if r.config.sketch.backend == "countmin"}
    assert cm == {(d, 2**b) for d in (3, 4, 5) for b in (13, 14, 15)}
    assert {r.config.sketch.backend for r in e1} == {"countmin", "dense"}
    e2 = sweep_mod.load_sweep(REPO / "configs/sweeps/exp2.toml").runs("x")
    rules = {(r.config.sketch.increment, r.config.sketch.conservative, r.config.sketch.n_buckets)
             for r in e2 if r.config.sketch.backend == "countmin-morris"}
    assert len(rules) == 9
    assert {r.config.sketch.counter_base for r in e2 if r.point != "dense"} == {1.08}
    for r in e1 + e2:
        c = r.config
        assert (c.model.n_topics, c.model.alpha, c.model.beta, c.sampler.n_iter) == \
            (100, 0.1, 0.01, 60)
        assert r.trial in (0, 1, 2)


def test_grid_bundles_points_and_names(tmp_path):
    p = _write(tmp_path, BASE + """trials = 2
[set]
"sampler.n_iter" = 4
[grid]
"sketch.n_buckets" = [256, 1024]
rule = [{ name = "ind", "sketch.increment" = "independent" },
        { name = "cu", "sketch.increment" = "correlated", "sketch.conservative" = true }]
[[points]]
name = "dense"
"sketch.backend" = "dense"
""")
    runs = sweep_mod.load_sweep(p).runs(tmp_path / "out")
    assert sorted({r.point for r in runs}) == ["b10_cu", "b10_ind", "b8_cu", "b8_ind", "dense"]
    cu = [r for r in runs if r.point == "b8_cu"][0].config.sketch
    assert (cu.n_buckets, cu.increment, cu.conservative) == (256, "correlated", True)
    assert all(r.config.sampler.n_iter == 4 for r in runs)
    assert runs[0].run_dir == tmp_path / "out" / "b8_ind" / "trial-0"
    assert [r.label for r in sweep_mod.select(runs, ["dense/*"])] == \
        ["dense/trial-0", "dense/trial-1"]


@pytest.mark.parametrize("text, match", [
    ('trials = 1\n[grid]\n"sketch.n_buckets" = [256]\n', "'base'"),
    (BASE + 'trials = 0\n[grid]\n"sketch.n_buckets" = [256]\n', "'trials'"),
    (BASE + 'trials = 1\n', "no points"),
    (BASE + '[grid]\n"sketch.n_bucket" = [256]\n', "'sketch.n_bucket' is not a config key"),
    (BASE + '[grid]\n"sketch.n_buckets" = []\n', "non-empty list"),
    (BASE + '[grid]\nrule = [1, 2]\n', r"\[grid\].rule\[0\]: expected an inline table"),
    (BASE + 'trails = 3\n', "unknown top-level key 'trails'"),
    (BASE + '[[points]]\nname = "a"\n[[points]]\nname = "a"\n', "duplicate point names"),
])
def test_bad_sweep_files_name_file_and_key(tmp_path, text, match):
    p = _write(tmp_path, text)
    with pytest.raises(InputFormatError, match=match) as err:
        sweep_mod.load_sweep(p)
    assert str(p) in str(err.value)


def test_bad_value_names_the_point(tmp_path):
    p = _write(tmp_path, BASE + '[[points]]\nname = "odd"\n"sketch.n_buckets" = 1000\n')
    with pytest.raises(InputFormatError, match=r"point 'odd'.*n_buckets must be a power of two"):
        sweep_mod.load_sweep(p).runs(tmp_path)


@pytest.mark.parametrize("name", ["../evil", "..", ".", ".hidden", "a/b", "/abs", "a\\b",
                                  "x/../../y"])
def test_point_name_cannot_escape_the_sweep_dir(tmp_path, name):
    """A point's name is its run directory's name: explicit names are refused, not rewritten."""
    p = _write(tmp_path, BASE + f"[[points]]\nname = '{name}'\n")
    with pytest.raises(InputFormatError, match="must be a plain name") as err:
        sweep_mod.load_sweep(p)
    assert str(p) in str(err.value) and repr(name) in str(err.value)


def test_grid_names_cannot_escape_the_sweep_dir(tmp_path):
    p = _write(tmp_path, BASE + '[grid]\nrule = [{ name = "..", "sketch.n_hashes" = 3 }]\n')
    with pytest.raises(InputFormatError, match=r"point name '\.\.' must be a plain name"):
        sweep_mod.load_sweep(p)
    ok = _write(tmp_path, BASE + '[[points]]\nname = "b13_K20+cu=1.5"\n', "ok.toml")
    out = tmp_path / "out"
    (run,) = sweep_mod.load_sweep(ok).runs(out)
    assert run.run_dir.resolve().parent.parent == out.resolve()


def test_cli_override_of_a_varied_key_is_refused():
    with pytest.raises(InputFormatError, match="varied by the sweep"):
        sweep_mod.load_sweep(SMOKE, ["sketch.n_buckets=1024"])
    sw = sweep_mod.load_sweep(SMOKE, ["sampler.n_iter=2"])
    assert {r.config.sampler.n_iter for r in sw.runs("x")} == {2}


# --------------------------------------------------------------------------- running
class _Stop(Exception):
    pass


def test_interrupted_sweep_resumes_bitwise_and_skips_done(tmp_path):
    sw = sweep_mod.load_sweep(SMOKE)
    runs = sweep_mod.select(sw.runs(tmp_path / "a"), ["b9/trial-0"])
    ref = sweep_mod.select(sw.runs(tmp_path / "b"), ["b9/trial-0"])[0]
    run = runs[0]
    assert sweep_mod.run_status(run) == "new"

    def stop(it):   # interrupted after the iteration-3 checkpoint, before the end
        if it == 4:
            raise _Stop
    with pytest.raises(_Stop):
        train_run(run.config, run.run_dir, progress=False, after_step=stop)
    assert sweep_mod.run_status(run) == "partial"
    assert sweep_mod.run_one(run, progress=False) == "partial"
    assert sweep_mod.run_status(run) == "done"
    assert sweep_mod.run_one(run, progress=False) == "done"        # skipped
    sweep_mod.run_one(ref, progress=False)
    got = [r["perplexity"] for r in sweep_mod.read_metrics(run.run_dir)]
    want = [r["perplexity"] for r in sweep_mod.read_metrics(ref.run_dir)]
    assert len(got) == 2 and got == want


def test_finished_run_with_a_changed_config_is_an_error(tmp_path):
    run = sweep_mod.select(sweep_mod.load_sweep(SMOKE).runs(tmp_path), ["dense/trial-0"])[0]
    sweep_mod.run_one(run, progress=False)
    changed = sweep_mod.select(sweep_mod.load_sweep(SMOKE, ["model.alpha=0.5"]).runs(tmp_path),
                               ["dense/trial-0"])[0]
    with pytest.raises(InputFormatError, match=r"different config \(model.alpha\)"):
        sweep_mod.run_status(changed)
    longer = sweep_mod.select(sweep_mod.load_sweep(SMOKE, ["sampler.n_iter=9"]).runs(tmp_path),
                              ["dense/trial-0"])[0]
    assert sweep_mod.run_status(longer) == "partial"        # extended from its last checkpoint
    sweep_mod.run_one(longer, progress=False)
    assert sweep_mod.read_metrics(run.run_dir)[-1]["iteration"] == 9


def test_summary_statistics_from_metrics(tmp_path):
    """mean and sample sd over finished trials; s/iteration weighted by iterations per record."""
    plan = {"description": "t", "runs": [{"point": "p", "trial": t, "run_dir": f"p/trial-{t}"}
                                         for t in range(3)]}
    (tmp_path / "plan.json").write_text(json.dumps(plan))
    for t, (final, ts) in enumerate([(100.0, 1.0), (110.0, 2.0), (999.0, 5.0)]):
        d = tmp_path / "p" / f"trial-{t}"
        d.mkdir(parents=True)
        recs = [{"iteration": 2, "perplexity": final + 50, "t_sample": ts, "t_build": 0.0,
                 "t_merge": 0.0, "bytes_merged": 10, "stats_nbytes": 64,
                 "unigram_perplexity": 500.0},
                {"iteration": 3, "perplexity": final, "t_sample": 4 * ts, "t_build": ts,
                 "t_merge": 0.0, "bytes_merged": 40, "stats_nbytes": 64,
                 "unigram_perplexity": 500.0}]
        (d / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs))
        if t < 2:                      # trial 2 is unfinished: not in the statistics
            (d / "done").write_text("")
    rows = sweep_mod.summarize(tmp_path)
    r = rows[0]
    assert (r["trials_done"], r["trials"], r["iterations"]) == (2, 3, 3)
    assert r["final_perplexity_mean"] == pytest.approx(105.0)
    assert r["final_perplexity_sd"] == pytest.approx(7.0710678, rel=1e-6)
    assert r["best_perplexity_mean"] == pytest.approx(105.0)
    # trial 0: (2*1 + 1*5)/3 = 7/3 s; trial 1: 14/3 s
    assert r["s_per_iter_mean"] == pytest.approx(3.5)
    assert r["bytes_merged_per_iter_mean"] == pytest.approx(20.0)
    with open(tmp_path / "summary.csv") as f:
        assert list(csv.DictReader(f))[0]["trials_done"] == "2"
    md = (tmp_path / "summary.md").read_text()
    assert "| p | 105.0 ± 7.1 |" in md and "2/3" in md


@pytest.mark.slow
def test_cli_smoke_sweep_dry_run_run_and_summary(tmp_path):
    out = tmp_path / "sw"
    cmd = [sys.executable, "-m", "lda_sketch", "sweep", str(SMOKE), "--out", str(out)]
    dry = subprocess.run(cmd + ["--dry-run"], capture_output=True, text=True, check=True)
    assert "4 runs" in dry.stdout and dry.stdout.count(" new ") == 4
    res = subprocess.run(cmd + ["--no-progress", "--parallel", "2", "--summarize"],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    for point in ("b9", "dense"):
        for t in (0, 1):
            d = out / point / f"trial-{t}"
            assert (d / "done").is_file() and (d / "model" / "model.json").is_file()
    rows = list(csv.DictReader(open(out / "summary.csv")))
    assert [(r["point"], r["trials_done"]) for r in rows] == [("b9", "2"), ("dense", "2")]
    dense = float(rows[1]["stats_nbytes_mean"])
    assert float(rows[0]["stats_nbytes_mean"]) < dense
    again = subprocess.run(cmd + ["--dry-run"], capture_output=True, text=True, check=True)
    assert again.stdout.count(" done ") == 4
    summ = subprocess.run([sys.executable, "-m", "lda_sketch", "sweep-summary", str(out)],
                          capture_output=True, text=True, check=True)
    assert "| dense |" in summ.stdout
    # The figure and table scripts on the same sweep directory.
    figs = tmp_path / "figs"
    subprocess.run([sys.executable, str(REPO / "scripts/plot_sweep.py"), str(out), "--name", "t",
                    "--out", str(figs)], check=True, capture_output=True)
    assert sorted(p.name for p in figs.iterdir()) == sorted(
        f"t_{k}.{e}" for k in ("perplexity_iter", "perplexity_time", "frontier")
        for e in ("png", "pdf"))
    table = subprocess.run([sys.executable, str(REPO / "scripts/results_tables.py"), "table",
                            str(out)], check=True, capture_output=True, text=True).stdout
    assert re.search(r"\| dense \|.*\| 1\.000× \|", table)
    assert "| 2^9 | 2^11 |" in table


def test_emit_jobs_writes_one_sbatch_per_point(tmp_path):
    sw = sweep_mod.load_sweep(SMOKE, ["sampler.n_iter=3"])
    runs = sw.runs(tmp_path)
    paths = sweep_mod.emit_jobs(sw, runs, tmp_path, REPO / "scripts/cluster/train.sbatch")
    assert sorted(p.name for p in paths) == ["b9.sbatch", "dense.sbatch"]
    text = paths[0].read_text()
    assert text.startswith("#!/bin/bash") and "#SBATCH --job-name=lda-b9" in text
    assert "--only b9" in text and "--set sampler.n_iter=3" in text
    assert "lda-sketch train" not in text and "CONFIG" not in text
    assert "sbatch" in (tmp_path / "jobs" / "submit_all.sh").read_text()
    # the launcher is the template's: no PMI plugin is hard-coded
    assert "--mpi=pmix" not in text and "srun ${SRUN_MPI:+--mpi=$SRUN_MPI} lda-sketch sweep" in text
    custom = tmp_path / "site.sbatch"
    custom.write_text("#!/bin/bash\n#SBATCH --nodes=2\nset -e\nsrun --mpi=pmi2 lda-sketch train\n")
    job = sweep_mod.emit_jobs(sw, runs, tmp_path / "site", custom)[0].read_text()
    assert "srun --mpi=pmi2 lda-sketch sweep" in job


def test_reuse_takes_identical_finished_runs_only(tmp_path, monkeypatch):
    """--reuse links a finished run with an identical config (seed included), and only that."""
    first = sweep_mod.load_sweep(SMOKE).runs(tmp_path / "a")
    src = sweep_mod.select(first, ["dense/trial-0"])[0]
    sweep_mod.run_one(src, progress=False)
    partial = sweep_mod.select(first, ["b9/trial-0"])[0]   # unfinished runs are never reused
    partial.run_dir.mkdir(parents=True)
    (partial.run_dir / "resolved_config.toml").write_text(
        (src.run_dir / "resolved_config.toml").read_text())
    second = sweep_mod.load_sweep(SMOKE).runs(tmp_path / "b")
    other = sweep_mod.load_sweep(SMOKE, ["model.alpha=0.5"]).runs(tmp_path / "c")
    reused = sweep_mod.reuse_finished(second + other, [tmp_path / "a"])
    assert [(r.label, s) for r, s in reused] == [("dense/trial-0", src.run_dir)]
    dst = sweep_mod.select(second, ["dense/trial-0"])[0]
    assert sweep_mod.run_status(dst) == "done"
    assert (dst.run_dir / "reused_from").read_text().strip() == str(src.run_dir.resolve())
    assert sweep_mod.read_metrics(dst.run_dir) == sweep_mod.read_metrics(src.run_dir)
    assert not list(dst.run_dir.parent.glob(".*"))        # no temporary directory left
    for r in second + other:
        if r is not dst:
            assert sweep_mod.run_status(r) == "new", r.label

    def no_training(*a, **k):
        raise AssertionError("a reused run was trained again")
    monkeypatch.setattr("lda_sketch.run.train.train_run", no_training)
    assert sweep_mod.run_one(dst, progress=False) == "done"


@pytest.mark.slow
def test_cli_reuse_rejects_a_missing_directory(tmp_path):
    res = subprocess.run([sys.executable, "-m", "lda_sketch", "sweep", str(SMOKE), "--out",
                          str(tmp_path / "o"), "--reuse", str(tmp_path / "nope")],
                         capture_output=True, text=True, check=False)
    assert res.returncode != 0 and "--reuse" in res.stderr and "nope" in res.stderr


def _workers_of(out: Path) -> list[int]:
    """PIDs of live sweep worker processes writing into ``out`` (from /proc)."""
    pids = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            argv = (d / "cmdline").read_bytes().split(b"\0")
            state = next((ln for ln in (d / "status").read_text().splitlines()
                          if ln.startswith("State:")), "")
        except OSError:
            continue
        if b"--only" in argv and str(out).encode() in argv and "zombie" not in state:
            pids.append(int(d.name))
    return pids


@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="needs Linux /proc")
@pytest.mark.slow
def test_parallel_sweep_terminated_stops_its_workers(tmp_path):
    """SIGTERM to ``sweep --parallel`` ends its workers too (no orphan keeps training)."""
    import os
    import signal
    import time

    out = tmp_path / "sw"
    cmd = [sys.executable, "-m", "lda_sketch", "sweep", str(SMOKE), "--out", str(out),
           "--no-progress", "--parallel", "2", "--set", "sampler.n_iter=100000",
           "--set", "eval.evaluate_every=0"]
    parent = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while len(_workers_of(out)) < 2 and time.monotonic() < deadline:
            assert parent.poll() is None, parent.stderr.read()
            time.sleep(0.2)
        workers = _workers_of(out)
        assert len(workers) == 2
        parent.send_signal(signal.SIGTERM)
        rc = parent.wait(timeout=30)
        assert rc != 0
        assert "rerun the same command to resume" in parent.stderr.read()
        assert _workers_of(out) == []
    finally:
        if parent.poll() is None:
            parent.kill()
        for pid in _workers_of(out):
            os.kill(pid, signal.SIGKILL)


@pytest.mark.slow
def test_reproduce_script_targets_exist_and_bad_target_is_refused():
    """Every sweep target of scripts/reproduce.sh has its sweep file; an unknown one exits 2."""
    import os
    import shutil

    script = REPO / "scripts" / "reproduce.sh"
    text = script.read_text()
    for name in ("exp1", "exp2", "appE-grid", "appE-base", "table3", "backends100"):
        assert f"{name})" in text or f"{name}|" in text or f"|{name})" in text
        assert (REPO / "configs" / "sweeps" / f"{name}.toml").is_file()
    if shutil.which("bash") is None:
        pytest.skip("bash is not installed")
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    res = subprocess.run(["bash", str(script), "no-such-target"], capture_output=True, text=True,
                         env=env)
    assert res.returncode == 2
    assert "unknown target 'no-such-target'" in res.stderr and "appE-grid" in res.stderr
