"""Issue 25, item 6: the package installs like its peers. Optional dependencies (matplotlib,
mwparserfromhell) fail in one line naming the extra; the small configs ship inside the package
(``--config tiny`` from a wheel); ``lda-sketch info`` without an MPI library prints one line."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from types import SimpleNamespace

import pytest

from lda_sketch import configs
from lda_sketch.cli import demo, info
from lda_sketch.cli._command import config_path
from lda_sketch.cli.main import main
from lda_sketch.exceptions import InputFormatError, MissingDependencyError

REPO = Path(__file__).resolve().parents[2]


def _hide(monkeypatch, module: str) -> None:
    """Make ``import module`` (and its submodules) raise ImportError, as if not installed."""
    for name in [m for m in sys.modules if m == module or m.startswith(module + ".")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, module, None)


def _one_error_line(err: str, command: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"lda-sketch {command}: error: "), err
    return lines[0]


# ------------------------------------------------------------------ core dependencies

def test_core_dependencies_leave_figures_and_wikipedia_to_extras():
    project = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))["project"]
    core = " ".join(project["dependencies"])
    extras = project["optional-dependencies"]
    assert "matplotlib" not in core and "mwparserfromhell" not in core
    assert any(d.startswith("matplotlib") for d in extras["plot"])
    assert any(d.startswith("mwparserfromhell") for d in extras["wikipedia"])
    test = " ".join(extras["test"])  # the whole suite runs under `pip install -e ".[mpich,test]"`
    assert "matplotlib" in test and "mwparserfromhell" in test


def test_plot_without_matplotlib_is_one_line_naming_the_extra(tmp_path, capsys, monkeypatch):
    run = tmp_path / "run"
    run.mkdir()
    (run / "metrics.jsonl").write_text(
        "".join(json.dumps({"iteration": i, "perplexity": 100.0 - i, "elapsed": 0.1 * i}) + "\n"
                for i in (5, 10)))
    _hide(monkeypatch, "matplotlib")
    assert main(["plot", str(run), "--out", str(tmp_path / "fig")]) == 1
    line = _one_error_line(capsys.readouterr().err, "plot")
    assert line.endswith("figures need matplotlib, which is not installed: "
                         "pip install 'lda_sketch[plot]'")
    assert not list(tmp_path.glob("fig*"))


def test_wikipedia_reader_without_mwparserfromhell_is_one_line(tmp_path, capsys, monkeypatch):
    _hide(monkeypatch, "mwparserfromhell")
    out = tmp_path / "wiki"
    rc = main(["prep", "wikipedia-xml", str(REPO / "tests" / "data" / "wiki_mini.xml"),
               "--out", str(out), "--workers", "1", "--heldout", "0"])
    assert rc == 1
    line = _one_error_line(capsys.readouterr().err, "prep")
    assert line.endswith("the wikipedia-xml reader needs mwparserfromhell, which is not "
                         "installed: pip install 'lda_sketch[wikipedia]'")
    assert not out.exists()
    from data_prep.wikipedia import wikitext_to_text
    with pytest.raises(MissingDependencyError, match=r"lda_sketch\[wikipedia\]"):
        wikitext_to_text("'''Bold''' text")


def test_demo_without_matplotlib_reports_and_skips_the_figure(tmp_path, capsys, monkeypatch):
    rec = {"perplexity": 900.0, "unigram_perplexity": 1500.0, "n_scored": 1000, "iteration": 5}

    def model(nbytes):
        return SimpleNamespace(history=[rec], stats=SimpleNamespace(nbytes=nbytes),
                               top_words=lambda n: [[("word", 1.0)] * n] * 5)

    _hide(monkeypatch, "matplotlib")
    demo._report(model(1000), model(6000), tmp_path, 1.0, 1.0)
    out = capsys.readouterr().out
    figure = [ln for ln in out.splitlines() if ln.startswith("figure:")]
    assert figure == ["figure:  none (figures need matplotlib, which is not installed: "
                      "pip install 'lda_sketch[plot]')"]
    assert "held-out perplexity" in out and not list(tmp_path.iterdir())


# ------------------------------------------------------------------ shipped configs

@pytest.mark.parametrize("name", ["tiny", "demo"])
def test_shipped_configs_are_byte_identical_to_configs_dir(name):
    assert (configs.path(name).read_bytes()
            == (REPO / "configs" / f"{name}.toml").read_bytes()), (
        f"lda_sketch/configs/{name}.toml differs from configs/{name}.toml: copy it over")


def test_shipped_configs_are_package_data_and_need_no_paths():
    assert configs.names() == ["demo", "tiny"]
    data = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))
    assert "*.toml" in data["tool"]["setuptools"]["package-data"]["lda_sketch.configs"]
    for name in configs.names():  # relative [data] paths would resolve into site-packages
        section = tomllib.loads(configs.path(name).read_text("utf-8"))["data"]
        assert section.get("embedded") is True and "train" not in section


def test_config_path_prefers_a_file_then_a_shipped_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert config_path("tiny") == configs.path("tiny")
    assert config_path("demo.toml") == configs.path("demo")
    (tmp_path / "tiny").write_text("")  # an existing path wins over the shipped name
    assert config_path("tiny") == Path("tiny")
    for bad in ("tinyy", "configs/tiny.toml"):  # a path never falls back to a shipped name
        with pytest.raises(InputFormatError,
                           match=rf"^--config {bad}: no such file, .*\(those are: demo, tiny\)$"):
            config_path(bad)


def test_train_config_tiny_outside_a_clone(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["train", "--config", "tiny", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "n_topics = 8" in out and "checks passed" in out
    assert main(["train", "--config", "tinny", "--out", "r"]) == 1
    assert _one_error_line(capsys.readouterr().err, "train").endswith(
        "--config tinny: no such file, and not a config shipped with lda_sketch "
        "(those are: demo, tiny)")
    assert not (tmp_path / "r").exists()


# ------------------------------------------------------------------ info without MPI

def test_info_without_an_mpi_library_prints_one_line(capsys, monkeypatch):
    from lda_sketch.distributed import comm

    monkeypatch.setattr(comm, "mpi_versions", lambda: {
        "mpi4py": "unavailable (RuntimeError: cannot load MPI library\n"
                  "/nonexistent: cannot open shared object file: No such file or directory)"})
    assert info.run(SimpleNamespace()) == 0
    lines = capsys.readouterr().out.splitlines()
    assert all(re.match(r"[a-z0-9_]+ +\S", ln) for ln in lines), lines  # one line per key
    mpi = {ln.split()[0]: ln.split(None, 1)[1] for ln in lines if ln.startswith("mpi")}
    assert mpi["mpi_library"] == ("unavailable (RuntimeError: cannot load MPI library): "
                                  "install the 'mpich' extra or a system MPI")
    assert mpi["mpi4py"][0].isdigit()  # mpi4py itself is installed: its version


@pytest.mark.slow  # a subprocess
def test_info_cli_with_an_unloadable_mpi_library():
    env = dict(os.environ, MPI4PY_LIBMPI="/nonexistent/libmpi.so")
    res = subprocess.run([sys.executable, "-m", "lda_sketch", "info"], env=env,
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    if any(ln.startswith("mpi_standard") for ln in lines):
        pytest.skip("this mpi4py build ignores MPI4PY_LIBMPI")
    assert all(not ln.startswith((" ", "/")) for ln in lines), res.stdout
    mpi = [ln for ln in lines if ln.startswith("mpi_library")]
    assert len(mpi) == 1 and "install the 'mpich' extra or a system MPI" in mpi[0]
