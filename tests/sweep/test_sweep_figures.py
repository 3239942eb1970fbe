"""`lda-sketch plot SWEEP_DIR`: the sweep figures installed with the package (sweep/figures.py);
matplotlib stays optional, its absence one clear error."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from lda_sketch import config as config_mod
from lda_sketch.cli.main import main as cli_main

REPO = Path(__file__).resolve().parents[2]
FIGS = [f"{k}.{e}" for k in ("perplexity_iter", "perplexity_time", "frontier")
        for e in ("png", "pdf")]


@pytest.fixture
def sweep_dir(tmp_path):
    """A finished two-point, two-trial sweep directory (plan.json, configs, metrics, done)."""
    d = tmp_path / "sw"
    points = {"b9": {"backend": "countmin", "n_buckets": 512, "n_hashes": 2},
              "dense": {"backend": "dense"}}
    plan = {"description": "t", "runs": [{"point": p, "trial": t, "run_dir": f"{p}/trial-{t}"}
                                         for p in points for t in (0, 1)]}
    d.mkdir()
    (d / "plan.json").write_text(json.dumps(plan))
    for i, (p, sk) in enumerate(points.items()):
        for t in (0, 1):
            run = d / p / f"trial-{t}"
            run.mkdir(parents=True)
            config_mod.from_dict({"sketch": sk, "sampler": {"seed": t}}).save(
                run / "resolved_config.toml")
            recs = [{"iteration": it, "perplexity": 900.0 - 100 * it + 10 * i + t,
                     "elapsed": 0.5 * it, "stats_nbytes": 4096 * (i + 1)} for it in (1, 2, 3)]
            (run / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs))
            (run / "done").write_text("")
    return d


def test_plot_detects_a_sweep_directory_and_draws_its_figures(sweep_dir, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    out = tmp_path / "figs" / "exp"
    assert cli_main(["plot", str(sweep_dir), "--out", str(out), "--panel-by", "backend"]) == 0
    assert sorted(p.name for p in out.parent.iterdir()) == sorted(f"exp_{f}" for f in FIGS)
    assert all((out.parent / f"exp_{f}").stat().st_size > 0 for f in FIGS)
    assert capsys.readouterr().out.count("exp_") == 6


def test_plot_refuses_runs_mixed_with_sweeps_and_unfinished_sweeps(sweep_dir, tmp_path,
                                                                   capsys):
    assert cli_main(["plot", str(sweep_dir), str(tmp_path), "--out", str(tmp_path / "x")]) == 1
    assert "not a sweep directory" in capsys.readouterr().err
    for done in sweep_dir.glob("*/trial-*/done"):
        done.unlink()
    assert cli_main(["plot", str(sweep_dir), "--out", str(tmp_path / "x")]) == 1
    assert "--unfinished" in capsys.readouterr().err


def test_without_matplotlib_plot_says_how_to_install_it(sweep_dir, tmp_path, capsys,
                                                        monkeypatch):
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)   # `import matplotlib` fails
    assert cli_main(["plot", str(sweep_dir), "--out", str(tmp_path / "x")]) == 1
    err = capsys.readouterr().err
    assert "need matplotlib" in err and "pip install 'lda_sketch[plot]'" in err
    assert "Traceback" not in err


@pytest.mark.slow
def test_the_script_is_a_thin_wrapper_of_the_package(sweep_dir, tmp_path):
    pytest.importorskip("matplotlib")
    subprocess.run([sys.executable, str(REPO / "scripts/plot_sweep.py"), str(sweep_dir),
                    "--name", "t", "--out", str(tmp_path / "f")], check=True,
                   capture_output=True)
    assert sorted(p.name for p in (tmp_path / "f").iterdir()) == sorted(f"t_{f}" for f in FIGS)


def test_points_that_differ_beside_the_rows_get_their_own_panel():
    """The backend labels its variant: head, support and rescale separate panels; d and w not."""
    from lda_sketch.config import Config, SketchConfig
    from lda_sketch.sweep.figures import variant

    def label(**kw):
        return variant(Config().replace(sketch=SketchConfig(**kw)))

    plain = dict(backend="countmin-morris", n_hashes=3, n_buckets=4096)
    labels = {label(**plain), label(**plain, head_words=100), label(**plain, support="exact"),
              label(**plain, rescale=True), label(backend="countmin", n_buckets=64),
              label(backend="dense")}
    assert len(labels) == 6
    assert label(**plain) == label(**{**plain, "n_hashes": 2, "n_buckets": 64})
    assert label(backend="dense") == "dense"
