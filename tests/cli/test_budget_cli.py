"""The byte budget from the command line: the dry run prints the layout, the run stores it, and
``evaluate --bands`` splits the held-out log-likelihood by frequency band."""
from __future__ import annotations

import json
from pathlib import Path

from lda_sketch.cli.main import main as cli_main
from lda_sketch.config import load as load_config
from lda_sketch.model.topic_model import TopicModel

TINY = Path(__file__).resolve().parents[2] / "configs" / "tiny.toml"


def test_dry_run_prints_the_layout_the_budget_chooses(capsys):
    assert cli_main(["train", "--config", str(TINY), "--dry-run", "--set",
                     "sketch.budget=1/12"]) == 0
    out = capsys.readouterr().out
    assert "# sketch budget 1/12 = 12,162 bytes (4,559 words with tokens)" in out
    assert "n_hashes = 3, n_buckets = 256, head_words = 174, support = 'exact'" in out
    assert "# layout: 3 x 256 8-bit Morris cells (base 1.08, correlated + conservative)" in out


def test_an_explicit_key_overrides_the_budget_and_an_overfull_one_is_refused(capsys):
    assert cli_main(["train", "--config", str(TINY), "--dry-run", "--set",
                     "sketch.head_words=100"]) == 0
    out = capsys.readouterr().out
    assert "head_words" not in out.split("chosen")[1].splitlines()[0]  # kept, not chosen
    assert "+ 100 collision-free head words + exact support" in out
    assert cli_main(["train", "--config", str(TINY), "--dry-run", "--set",
                     "sketch.n_buckets=65536"]) == 1  # with the budget 1/6 of tiny.toml
    err = capsys.readouterr().err
    assert "The 'budget' parameter of SketchConfig must be >=" in err
    assert "raise the budget or drop an explicit layout key" in err


def test_the_run_stores_the_chosen_layout_and_evaluate_reports_bands(tmp_path, capsys):
    run = tmp_path / "run"
    assert cli_main(["train", "--config", str(TINY), "--out", str(run), "--set",
                     "sampler.n_iter=3", "--no-progress"]) == 0
    saved = load_config(run / "resolved_config.toml").sketch
    model = TopicModel.load(run / "model")
    assert saved.budget == "1/6" and saved.support == "exact" and saved.head_words > 0
    assert model.config.sketch == saved
    assert model.stats.nbytes <= 4 * model.n_vocab * model.n_topics / 6 + 8 * model.n_topics
    capsys.readouterr()
    assert cli_main(["evaluate", str(run), "--bands", "100,1000", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert list(res["bands"]) == ["1-100", "100-1k", "1k+"]
    assert sum(b["n_scored"] for b in res["bands"].values()) == res["n_scored"]
    assert abs(sum(b["loglik"] for b in res["bands"].values()) - res["loglik"]) < 1e-6 * abs(
        res["loglik"])
