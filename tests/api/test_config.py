"""Config files: validation naming file and key, suggestions, overrides, round trip, paths."""
from __future__ import annotations

from pathlib import Path

import pytest

from lda_sketch import config as config_mod
from lda_sketch.exceptions import InputFormatError, InvalidParameterError

REPO = Path(__file__).resolve().parents[2]


def write(tmp_path, text, name="wiki.toml"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_bad_value_names_file_key_and_requirement(tmp_path):
    p = write(tmp_path, "[sketch]\nn_buckets = 1000\n")
    with pytest.raises(InputFormatError) as e:
        config_mod.load(p)
    assert str(e.value) == (f"{p}: [sketch].n_buckets must be a power of two >= 16 and <= 2**31 (or unset), "
                            f"got 1000")


@pytest.mark.parametrize("text, fragment", [
    ("[model]\nalpha = 0\n", "[model].alpha must be a float > 0.0, got 0"),
    ("[model]\nn_topics = 70000\n", "[model].n_topics must be an int in the range [1, 65535]"),
    ("[model]\nn_topics = 2.5\n", "[model].n_topics must be an int"),
    ("[sketch]\nbackend = \"cm\"\n", "[sketch].backend must be one of 'dense', 'countmin', "
                                      "'countmin-morris', got 'cm'"),
    ("[sketch]\nconservative = 1\n", "[sketch].conservative must be true or false (or unset), got 1"),
    ("[sampler]\nn_threads = 0\n", "[sampler].n_threads must be an int in the range [1, 4096]"),
])
def test_each_kind_of_bad_value(tmp_path, text, fragment):
    with pytest.raises(InputFormatError, match="wiki.toml: ") as e:
        config_mod.load(write(tmp_path, text))
    assert fragment in str(e.value)


def test_unknown_key_and_section_suggest_close_match(tmp_path):
    with pytest.raises(InputFormatError, match=r"unknown key \[sketch\]\.n_bucket; did you mean "
                                               r"'n_buckets'\?"):
        config_mod.load(write(tmp_path, "[sketch]\nn_bucket = 1024\n"))
    with pytest.raises(InputFormatError, match=r"unknown section \[sampeler\]; did you mean "
                                               r"'sampler'\?"):
        config_mod.load(write(tmp_path, "[sampeler]\nseed = 1\n"))
    with pytest.raises(InputFormatError, match="valid keys: "):
        config_mod.load(write(tmp_path, "[model]\nzzz = 1\n"))


def test_invalid_toml_and_missing_file(tmp_path):
    with pytest.raises(InputFormatError, match="wiki.toml: not valid TOML"):
        config_mod.load(write(tmp_path, "[model\n"))
    with pytest.raises(InputFormatError, match="nope.toml: config file not found"):
        config_mod.load(tmp_path / "nope.toml")


def test_overrides_are_typed_and_validated(tmp_path):
    cfg = config_mod.load(write(tmp_path, "[model]\nn_topics = 10\n"), [
        "sketch.n_buckets=2**16", "model.alpha=0.5", "sketch.conservative=true",
        "sampler.n_threads=2", "sketch.backend=dense", "sampler.seed=1_000"])
    assert cfg.sketch.n_buckets == 65536 and cfg.model.alpha == 0.5
    assert cfg.sketch.conservative is True and cfg.sampler.n_threads == 2
    assert cfg.sketch.backend == "dense" and cfg.sampler.seed == 1000
    assert cfg.model.n_topics == 10
    assert cfg.with_overrides(["sampler.n_threads=none"]).sampler.n_threads is None
    with pytest.raises(InputFormatError, match=r"--set sketch.n_buckets=1000: \[sketch\]"
                                               r"\.n_buckets must be a power of two"):
        cfg.with_overrides(["sketch.n_buckets=1000"])
    with pytest.raises(InputFormatError, match=r"\[model\]\.n_topics must be an int .*got 'ten'"):
        cfg.with_overrides(["model.n_topics=ten"])
    with pytest.raises(InputFormatError, match="did you mean 'n_hashes'"):
        cfg.with_overrides(["sketch.n_hash=4"])
    with pytest.raises(InputFormatError, match="expected section.key=value"):
        cfg.with_overrides(["sketch.n_hashes"])


def test_paths_relative_to_config_file_and_round_trip(tmp_path):
    sub = tmp_path / "configs"
    sub.mkdir()
    p = write(sub, '[data]\ntrain = "../corpora/train"\nn_heldout = 5\n[sampler]\nn_iter = 3\n')
    cfg = config_mod.load(p)
    assert cfg.data.train == str((tmp_path / "corpora" / "train").resolve())
    out = tmp_path / "resolved_config.toml"
    cfg.save(out)
    again = config_mod.load(out)
    assert again == cfg and again.to_dict() == cfg.to_dict()
    assert again.data.heldout is None and again.sampler.n_threads is None


@pytest.mark.parametrize("name", ["tiny", "demo", "reuters", "wiki-reuters"])
def test_shipped_configs_validate(name):
    cfg = config_mod.load(REPO / "configs" / f"{name}.toml")
    assert cfg.model.n_topics >= 2 and cfg.sampler.n_iter >= 1


def test_estimator_uses_the_same_table_with_sklearn_message():
    assert config_mod.check_param(4096, "n_buckets", "LDASketch", "sketch") == 4096
    with pytest.raises(InvalidParameterError, match=r"^The 'n_buckets' parameter of LDASketch "
                                                    r"must be a power of two >= 16"):
        config_mod.check_param(1000, "n_buckets", "LDASketch", "sketch")
