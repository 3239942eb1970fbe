"""One typed path from config to backend: defaults, choices and limits live in one place each."""
import dataclasses
import inspect
import logging
import re
import warnings
from pathlib import Path

import numpy as np
import pytest

from lda_sketch import config as config_mod
from lda_sketch.cli.main import main as cli_main
from lda_sketch.config import Config, SketchConfig
from lda_sketch.run.engine import EngineParams
from lda_sketch.api.estimator import LDASketch
from lda_sketch.exceptions import InputFormatError
from lda_sketch.sampler import INITS, SAMPLERS
from lda_sketch.stats import BACKENDS
from lda_sketch.run.train import check_setup

ROOT = Path(__file__).resolve().parents[2]


def test_estimator_defaults_are_the_config_defaults():
    sig = inspect.signature(LDASketch.__init__).parameters
    est = {k: sig[k].default for k in config_mod.PARAM_SECTIONS}
    cfg = {k: config_mod.param_default(k) for k in config_mod.PARAM_SECTIONS}
    assert est == cfg
    assert LDASketch().to_config() == Config()


def test_readme_key_table_is_the_config_description():
    assert config_mod.markdown_table() in (ROOT / "README.md").read_text("utf-8")


def test_choice_lists_come_from_the_registries():
    fields = {f.name: f.metadata["constraint"] for f in dataclasses.fields(SketchConfig)}
    assert set(fields["backend"].choices) == set(BACKENDS)
    sampler_fields = {f.name: f.metadata["constraint"]
                      for f in dataclasses.fields(config_mod.SamplerConfig)}
    assert set(sampler_fields["sampler"].choices) == set(SAMPLERS)
    assert set(sampler_fields["init"].choices) == set(INITS) >= {"sparse", "window", "uniform"}


@pytest.mark.parametrize("name", sorted(BACKENDS))
def test_each_backend_reads_exactly_its_declared_keys(name):
    cls = BACKENDS[name]
    section_keys = {f.name for f in dataclasses.fields(SketchConfig)}
    ctor = set(inspect.signature(cls.__init__).parameters) - {"self", "n_topics", "n_vocab",
                                                                 "seed"}
    assert set(cls.config_keys) <= section_keys
    assert set(cls.config_keys) == ctor  # every constructor keyword is reachable from a config
    section = SketchConfig(backend=name, n_buckets=64, n_hashes=2)
    stats = cls.from_config(section, n_topics=3, n_vocab=50, seed=4)
    params = stats.params()
    given = cls.config_params(section)  # unset keys: the plain sketch's defaults
    assert name == "dense" or (given["n_buckets"], given["n_hashes"]) == (64, 2)
    for k in cls.config_keys:
        if k in params:
            assert params[k] == given[k], k


def test_unread_settings_are_reported_not_dropped():
    section = SketchConfig(backend="dense", n_buckets=64, conservative=True)
    assert BACKENDS["dense"].unread_settings(section) == {"n_buckets": 64, "conservative": True}
    assert BACKENDS["countmin"].unread_settings(SketchConfig(counter_base=1.1)) == {
        "counter_base": 1.1}
    assert BACKENDS["countmin-morris"].unread_settings(SketchConfig(conservative=True)) == {}


def test_engine_params_carry_the_conservative_flag_through():
    cfg = Config().replace(sketch=SketchConfig(conservative=True))
    p = EngineParams.from_config(cfg, np.ones(100, np.int64))
    assert p.sketch.conservative is True
    assert p.check_backend(100)["conservative"] is True


@pytest.mark.parametrize("sets,needle", [
    (["sketch.counter_bits=16", "sketch.counter_base=1.5"], "'counter_base' parameter"),
    (["sketch.increment=independent", "sketch.conservative=true"], "'conservative' parameter"),
    (["sketch.conservative=true", "sketch.estimator=mean-min"], "'estimator' parameter"),
])
def test_dry_run_refuses_exactly_what_train_refuses(tmp_path, capsys, sets, needle):
    """Settings valid key by key but refused by the backend: --dry-run and train say the same."""
    args = ["--config", str(ROOT / "configs" / "tiny.toml")]
    for s in sets:
        args += ["--set", s]
    assert cli_main(["train", *args, "--dry-run"]) == 1
    dry = capsys.readouterr().err
    assert cli_main(["train", *args, "--out", str(tmp_path / "run")]) == 1
    real = capsys.readouterr().err
    assert needle in dry and dry.strip().splitlines()[-1] == real.strip().splitlines()[-1]
    assert "tiny.toml: [sketch]" in dry and not (tmp_path / "run").exists()


def test_setup_refuses_an_empty_corpus():
    from lda_sketch.io.corpus import Corpus
    import numpy as np

    empty = Corpus(np.zeros(1, np.int64), np.zeros(0, np.int32), 10)
    with pytest.raises(InputFormatError, match="no tokens"):
        check_setup(Config(source="x.toml"), empty)


def test_set_exponent_is_bounded_and_names_the_key():
    cfg = Config()
    with pytest.raises(InputFormatError, match=re.escape("[model].n_topics")):
        cfg.with_overrides(["model.n_topics=7**300000000"])
    assert cfg.with_overrides(["sketch.n_buckets=2**16"]).sketch.n_buckets == 65536


def test_exact_parts_train_save_and_load_end_to_end(split, tmp_path):
    """support / head_words / rescale reach the backend from the estimator, train, count in the
    bytes, and survive save/load bitwise (format version 2)."""
    from lda_sketch.model.topic_model import TopicModel

    train, held = split
    kw = dict(backend="countmin-morris", n_buckets=64, n_iter=8, seed=2, fold_in_iters=20)
    plain = LDASketch(6, **kw).fit(train, heldout=held)
    full = LDASketch(6, support="exact", head_words=50, rescale=True, **kw).fit(train,
                                                                              heldout=held)
    V = train.n_vocab
    # The head goes to the 50 most frequent training words; their ids are stored (4 bytes each)
    # unless they are the ids 0..49.
    counts = np.bincount(train.word_ids, minlength=V)
    top = np.sort(np.argsort(-counts, kind="stable")[:50])
    head = full.stats_._head_index
    assert (head.is_prefix and top[-1] == 49) or head.ids.tolist() == top.tolist()
    assert full.stats_.nbytes == plain.stats_.nbytes + 50 * 6 + V * 1 + 4 * V + head.nbytes
    assert {"exact_zeros"} <= full.stats_.guarantees
    ppl_dense = LDASketch(6, backend="dense", **{k: v for k, v in kw.items()
                                                 if k not in ("backend", "n_buckets")}
                          ).fit(train, heldout=held).history_[-1]["perplexity"]
    ppl = full.history_[-1]["perplexity"]
    assert np.isfinite(ppl) and ppl < 1.5 * ppl_dense
    full.save(tmp_path / "m")
    back = TopicModel.load(tmp_path / "m")
    assert back.stats.params() == full.stats_.params()
    words = np.arange(V)
    assert np.array_equal(back.stats.estimate(words), full.stats_.estimate(words))


def test_the_estimator_warns_about_unread_settings_as_train_logs_them(caplog):
    """`LDASketch(backend="dense", n_buckets=...)` warns; `lda-sketch train` logs the same line."""
    from data_prep.synthetic import planted_corpus

    corpus = planted_corpus(20, 3, 60, 20, seed=0)[0]
    with pytest.warns(UserWarning, match=r"LDASketch: backend 'dense' does not read "
                                         r"\[sketch\].n_buckets = 64"):
        LDASketch(3, backend="dense", n_buckets=64, n_iter=1).fit(corpus)
    cfg = Config(source="x.toml").replace(sketch=SketchConfig(backend="dense", n_buckets=64))
    with caplog.at_level(logging.WARNING, logger="lda_sketch.run.train"):
        check_setup(cfg, corpus)
    assert "x.toml: backend 'dense' does not read [sketch].n_buckets = 64" in caplog.text
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing unread: no warning
        LDASketch(3, backend="dense", n_iter=1).fit(corpus)


def test_each_sketch_default_is_stated_once():
    """The backends' constructor defaults and the config's are stats.budget.PLAIN's."""
    from lda_sketch.stats.budget import PLAIN

    for cls in (BACKENDS["countmin"], BACKENDS["countmin-morris"]):
        params = inspect.signature(cls).parameters
        for key in cls.config_keys:
            assert params[key].default == PLAIN[key], (cls.__name__, key)
    for f in dataclasses.fields(SketchConfig):
        if f.name in PLAIN:
            assert f.default in (None, PLAIN[f.name]), f.name  # None: filled from PLAIN
    assert {f.name for f in dataclasses.fields(SketchConfig) if f.default is None
            } - {"budget"} <= set(PLAIN)
