"""Training configuration: TOML files <-> frozen dataclasses, with validation naming file and key.

A config file has the sections below (every key optional; defaults shown by
``lda-sketch train --help`` and in the README)::

    [model]    n_topics, alpha, beta, optimize_alpha_every, optimize_alpha_burnin
    [sketch]   backend, budget, and the layout keys the budget fills when unset: n_hashes,
               n_buckets, conservative, counter_base, increment, counter_bits, estimator,
               support, rescale, head_words
    [sampler]  sampler, init, n_iter, n_threads, seed
    [data]     train, heldout, embedded, n_heldout, split_seed
    [eval]     evaluate_every, fold_in_iters, coherence
    [output]   checkpoint_every, keep_checkpoints, doc_topics
    [run]      stall_timeout

Paths in ``[data]`` are relative to the config file and are stored absolute once loaded, so a
``resolved_config.toml`` reproduces its run from any working directory. Errors look like::

    configs/wiki.toml: [sketch].n_buckets must be a power of two >= 16, got 1000
    configs/wiki.toml: unknown key [sketch].n_bucket; did you mean 'n_buckets'?

The constraint table (:data:`FIELDS`) is the one source of truth for parameter names and ranges;
the :class:`~lda_sketch.api.estimator.LDASketch` estimator validates its arguments against it too.
"""
from __future__ import annotations

import dataclasses
import difflib
from dataclasses import dataclass, field
from pathlib import Path

import tomli_w

from . import limits
from ._validation import param_error
from .constraints import Bad, Constraint
from .exceptions import InputFormatError, InvalidParameterError
from .io.safe_read import REMEDY_CONFIG, loads_toml, read_toml
from .limits import MAX_CONFIG_BYTES
from .sampler import INITS, SAMPLERS
from .stats import BACKENDS
from .stats.budget import PLAIN
from .stats.countmin_morris import INCREMENTS  # "conservative" is a flag, as in the backend
from .stats.support import SUPPORTS

# Choice lists come from the registries, so a new backend or sampler is accepted everywhere.
SKETCH_BACKENDS = tuple(BACKENDS)
SAMPLER_NAMES = tuple(SAMPLERS)
ESTIMATORS = ("min", "mean-min")


def _f(default, constraint: Constraint, doc: str):
    return field(default=default, metadata={"constraint": constraint, "doc": doc})


# --------------------------------------------------------------------------- sections
@dataclass(frozen=True)
class ModelConfig:
    n_topics: int = _f(100, Constraint("int", 1, limits.MAX_TOPICS), "number of topics K")
    alpha: float = _f(0.1, Constraint("float", 0.0, None, True),
                      "symmetric doc-topic prior (per topic)")
    beta: float = _f(0.01, Constraint("float", 0.0, None, True),
                     "symmetric topic-word prior (called eta in Blei et al., lda, tomotopy)")
    optimize_alpha_every: int = _f(0, Constraint("int", 0, None),
                                   "iterations between alpha updates (0: off): Minka's fixed "
                                   "point for the symmetric alpha on the doc-topic counts, the "
                                   "same on every rank for any sharding (Mallet's "
                                   "--optimize-interval); `alpha` is the starting value and the "
                                   "model keeps the last one (docs/USAGE.md)")
    optimize_alpha_burnin: int = _f(20, Constraint("int", 0, None),
                                    "with optimize_alpha_every: no alpha update before this "
                                    "iteration")


@dataclass(frozen=True)
class SketchConfig:
    backend: str = _f("countmin-morris", Constraint("choice", choices=SKETCH_BACKENDS),
                      "where n[w,k] lives: dense (exact), countmin (int32 cells), "
                      "countmin-morris (8-bit approximate counters)")
    budget: str | None = _f(None, Constraint("budget", optional=True),
                            "memory for the word-topic statistics: a fraction of the dense int32 "
                            "bytes (\"1/12\", 0.085) or a size (\"64MiB\"); the layout (rows, "
                            "buckets, head, support, update rule) is chosen from it and the word "
                            "counts, and explicit layout keys are kept. Unset: \"1/12\" unless a "
                            "layout key (n_hashes, n_buckets, head_words, support, rescale) is "
                            "set (docs/SKETCHES.md)")
    n_hashes: int | None = _f(None, Constraint("int", 1, limits.MAX_HASHES, optional=True),
                              "hash rows d of the count-min sketch (unset: from the budget; "
                              "3 with explicit layout keys)")
    n_buckets: int | None = _f(None, Constraint("pow2", limits.MIN_BUCKETS, limits.MAX_BUCKETS,
                                                optional=True),
                               "buckets per hash row w (unset: from the budget; 8192 with "
                               "explicit layout keys)")
    conservative: bool | None = _f(None, Constraint("bool", optional=True),
                                   "conservative update (with `countmin-morris`: the correlated "
                                   "+ conservative rule; refused with `increment = "
                                   "\"independent\"`; unset: true under a budget with "
                                   "correlated increments, else false)")
    counter_base: float | None = _f(None, Constraint("float", 1.0, limits.MAX_COUNTER_BASE, True,
                                                     optional=True),
                                    "Morris counter base b (read (b^c - 1)/(b - 1); unset: 1.08)")
    increment: str = _f(PLAIN["increment"], Constraint("choice", choices=INCREMENTS),
                        "how a key's d Morris cells draw: one uniform each or one shared")
    counter_bits: int = _f(PLAIN["counter_bits"], Constraint("choice", choices=limits.COUNTER_BITS),
                           "bits per Morris counter")
    estimator: str = _f(PLAIN["estimator"], Constraint("choice", choices=ESTIMATORS),
                        "count-min query: `min` over rows (never underestimates), or "
                        "`mean-min` (count-mean-min: subtracts each row's mean collision mass; "
                        "not recommended for training, see docs/RESULTS.md)")
    support: str | None = _f(None, Constraint("choice", choices=tuple(SUPPORTS), optional=True),
                      "count-min only: `exact` keeps one bit per (word, topic) so estimates are 0 "
                      "where no token holds the topic (V*K/8 bytes); `filter` a Bloom filter of "
                      "the words with tokens, for hashed ids (~1.25 bytes a word; see "
                      "docs/SKETCHES.md; unset: from the budget, `none` with explicit layout "
                      "keys)")
    rescale: bool | None = _f(None, Constraint("bool", optional=True),
                              "count-min only: keep each word's exact token count (4*V bytes) "
                              "and scale its estimates to sum to it (unset: false)")
    head_words: int | None = _f(None, Constraint("int", 0, limits.MAX_VOCAB_SKETCH, optional=True),
                                "count-min only: this many of the most frequent training words "
                                "get collision-free counters, K each (any vocabulary order; see "
                                "docs/SKETCHES.md; unset: from the budget, 0 with explicit "
                                "layout keys)")


@dataclass(frozen=True)
class SamplerConfig:
    sampler: str = _f("sca", Constraint("choice", choices=SAMPLER_NAMES),
                      "sca (the paper's exact SCA law by its faster kernel for K: alias below "
                      "600 topics, sparse from 600), sca-collapsed (the same, each token's "
                      "own assignment left out as in collapsed Gibbs: converges lower), "
                      "sca-sparse (the sca law by the sparse kernel at any K, summing only the "
                      "topics a document and a word share) or sem (plain reference); "
                      "docs/SAMPLER.md")
    init: str = _f("sparse", Constraint("choice", choices=INITS),
                   "initial topic assignment: sparse (20 topics per document), window, uniform")
    n_iter: int = _f(100, Constraint("int", 0, 10**7), "SCA iterations")
    n_threads: int | None = _f(None, Constraint("int", 1, 4096, optional=True),
                               "numba threads per rank (unset: numba's default)")
    seed: int = _f(0, Constraint("int", 0, limits.MAX_SEED), "seed of every random draw")


@dataclass(frozen=True)
class DataConfig:
    train: str | None = _f(None, Constraint("path", optional=True),
                           "training corpus directory (lda-sketch prep output)")
    heldout: str | None = _f(None, Constraint("path", optional=True),
                             "held-out corpus directory, same vocabulary as train")
    embedded: bool = _f(False, Constraint("bool"),
                        "use the built-in corpus instead of 'train' (data_prep.embedded)")
    n_heldout: int = _f(0, Constraint("int", 0, None),
                        "documents split off 'train' at random when 'heldout' is unset")
    split_seed: int = _f(0, Constraint("int", 0, limits.MAX_SEED),
                         "seed of that split (separate from sampler.seed, so trials over seeds "
                         "share one held-out set)")


@dataclass(frozen=True)
class EvalConfig:
    evaluate_every: int = _f(10, Constraint("int", 0, None),
                             "iterations between held-out evaluations (0: only at the end)")
    fold_in_iters: int = _f(100, Constraint("int", 1, 100000),
                            "EM steps folding in theta on the observed half of held-out docs")
    coherence: bool = _f(False, Constraint("bool"),
                         "add UMass/NPMI coherence of each topic's top 10 words and topic "
                         "diversity to every evaluation (over the held-out documents, else the "
                         "training documents)")


@dataclass(frozen=True)
class OutputConfig:
    checkpoint_every: int = _f(0, Constraint("int", 0, None),
                               "iterations between checkpoints (0: never)")
    keep_checkpoints: int = _f(2, Constraint("int", 1, None), "newest checkpoints kept on disk")
    doc_topics: bool = _f(False, Constraint("bool"),
                          "write each training document's final topic counts n_dk (sparse, one "
                          "file per rank) to `doc_topics/`")


@dataclass(frozen=True)
class RunConfig:
    stall_timeout: float | None = _f(None, Constraint("float", 0.0, 10**7, lo_open=True,
                                                      optional=True),
                                     "seconds a rank may keep the others waiting in a collective "
                                     "before the job is stopped, naming it (exit status 75; "
                                     "unset: max(10 x the median iteration, 120 s); "
                                     "distributed/liveness.py)")


SECTIONS: dict[str, type] = {"model": ModelConfig, "sketch": SketchConfig,
                             "sampler": SamplerConfig, "data": DataConfig, "eval": EvalConfig,
                             "output": OutputConfig, "run": RunConfig}
FIELDS: dict[tuple[str, str], Constraint] = {
    (s, f.name): f.metadata["constraint"]
    for s, cls in SECTIONS.items() for f in dataclasses.fields(cls)}
_PATH_KEYS = {("data", "train"), ("data", "heldout")}

#: Estimator (:class:`~lda_sketch.api.estimator.LDASketch`) parameter -> its config section, in the
#: estimator's signature order. Defaults are shared: the estimator's are the config's.
PARAM_SECTIONS = {
    "n_topics": "model", "alpha": "model", "beta": "model",
    "backend": "sketch", "budget": "sketch", "n_hashes": "sketch", "n_buckets": "sketch",
    "counter_base": "sketch", "increment": "sketch", "conservative": "sketch",
    "counter_bits": "sketch", "estimator": "sketch", "support": "sketch", "rescale": "sketch",
    "head_words": "sketch",
    "sampler": "sampler", "init": "sampler", "n_iter": "sampler", "seed": "sampler",
    "n_threads": "sampler",
    "evaluate_every": "eval", "fold_in_iters": "eval",
}


def param_default(name: str):
    """The config default of estimator parameter ``name``."""
    cls = SECTIONS[PARAM_SECTIONS[name]]
    return next(f.default for f in dataclasses.fields(cls) if f.name == name)


#: The exact backend's section (the oracle of the sketches; warm-up and tests build engines on it).
DENSE_SKETCH = SketchConfig(backend="dense")


@dataclass(frozen=True)
class Config:
    """A whole run's configuration. ``source`` is the file it came from (for messages only)."""

    model: ModelConfig = field(default_factory=ModelConfig)
    sketch: SketchConfig = field(default_factory=SketchConfig)
    sampler: SamplerConfig = field(default_factory=SamplerConfig)
    data: DataConfig = field(default_factory=DataConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    output: OutputConfig = field(default_factory=OutputConfig)
    run: RunConfig = field(default_factory=RunConfig)
    source: str | None = field(default=None, compare=False)

    # ------------------------------------------------------------------ conversion
    def to_dict(self) -> dict:
        """Nested plain dict; unset (None) values are omitted, as TOML has no null."""
        return {s: {k: v for k, v in dataclasses.asdict(getattr(self, s)).items()
                    if v is not None} for s in SECTIONS}

    def to_toml(self) -> str:
        return tomli_w.dumps(self.to_dict())

    def save(self, path) -> None:
        """Write as TOML atomically (``resolved_config.toml``)."""
        from .io.atomic import write_text_atomic
        write_text_atomic(path, "# lda_sketch resolved configuration (paths absolute)\n"
                          + self.to_toml())

    def replace(self, **sections) -> "Config":
        return dataclasses.replace(self, **sections)

    def with_overrides(self, overrides) -> "Config":
        """Apply ``["section.key=value", ...]`` (typed by the key's declared kind)."""
        return apply_overrides(self, overrides)



# --------------------------------------------------------------------------- building
def from_dict(data: dict, *, source: str | None = None, base_dir=None) -> Config:
    """Validate a nested dict (as parsed from TOML) into a :class:`Config`.

    Unknown sections/keys raise with a close-match suggestion; relative ``[data]`` paths are
    resolved against ``base_dir`` (the config file's directory).
    """
    where = f"{source}: " if source else ""
    if not isinstance(data, dict):
        raise InputFormatError(f"{where}expected a table of sections, got {type(data).__name__}")
    sections = {}
    for sname, table in data.items():
        if sname not in SECTIONS:
            raise InputFormatError(f"{where}unknown section [{sname}]{_suggest(sname, SECTIONS)}")
        if not isinstance(table, dict):
            raise InputFormatError(f"{where}[{sname}] must be a table of keys, got "
                                   f"{type(table).__name__}")
    for sname, cls in SECTIONS.items():
        table = data.get(sname, {})
        names = [f.name for f in dataclasses.fields(cls)]
        values = {}
        for key, value in table.items():
            if key not in names:
                raise InputFormatError(
                    f"{where}unknown key [{sname}].{key}{_suggest(key, names)}")
            values[key] = _check(sname, key, value, where)
            if (sname, key) in _PATH_KEYS and values[key] is not None and base_dir is not None:
                values[key] = str((Path(base_dir) / values[key]).resolve())
        sections[sname] = cls(**values)
    return Config(**sections, source=source)


def load(path, overrides=()) -> Config:
    """Read a TOML config file, apply dotted ``overrides`` and validate everything."""
    path = Path(path)
    if not path.exists():
        raise InputFormatError(f"{path}: config file not found")
    data = read_toml(path, max_bytes=MAX_CONFIG_BYTES, error=InputFormatError,
                     remedy=REMEDY_CONFIG)
    cfg = from_dict(data, source=str(path), base_dir=path.resolve().parent)
    return apply_overrides(cfg, overrides) if overrides else cfg


def loads(text: str, *, source: str = "<string>", base_dir=None) -> Config:
    """Parse TOML text (paths relative to ``base_dir``, default the working directory)."""
    data = loads_toml(text, source, error=InputFormatError)
    return from_dict(data, source=source, base_dir=base_dir if base_dir is not None else Path.cwd())


def apply_overrides(cfg: Config, overrides) -> Config:
    """Return ``cfg`` with ``"section.key=value"`` overrides applied and validated.

    Values are typed by the key's declared kind (``2**16`` and ``1_000`` are accepted for ints;
    ``none`` unsets an optional key). Relative paths are taken relative to the working directory.
    """
    data = cfg.to_dict()
    for item in overrides:
        where = f"--set {item}: "
        if "=" not in item:
            raise InputFormatError(
                f"{where}expected section.key=value (e.g. sketch.n_buckets=65536)")
        dotted, text = item.split("=", 1)
        dotted = dotted.strip()
        if dotted.count(".") != 1:
            raise InputFormatError(f"{where}the key must be section.key, e.g. model.n_topics")
        sname, key = dotted.split(".")
        if sname not in SECTIONS:
            raise InputFormatError(f"{where}unknown section [{sname}]{_suggest(sname, SECTIONS)}")
        names = [f.name for f in dataclasses.fields(SECTIONS[sname])]
        if key not in names:
            raise InputFormatError(f"{where}unknown key [{sname}].{key}{_suggest(key, names)}")
        con = FIELDS[(sname, key)]
        try:
            value = con.parse_text(text)
        except Bad as bad:
            raise InputFormatError(f"{where}[{sname}].{key} must be {bad.args[0]}, "
                                   f"got {text!r}") from None
        value = _check(sname, key, value, where)
        if (sname, key) in _PATH_KEYS and value is not None:
            value = str(Path(value).resolve())
        if value is None:
            data[sname].pop(key, None)
        else:
            data[sname][key] = value
    out = from_dict(data, source=cfg.source)
    return out


def _check(section: str, key: str, value, where: str):
    try:
        return FIELDS[(section, key)].check(value)
    except Bad as bad:
        raise InputFormatError(f"{where}[{section}].{key} must be {bad.args[0]}, "
                               f"got {value!r}") from None


def check_param(value, name: str, owner: str, section: str):
    """Validate an estimator argument against the config table (scikit-learn message shape)."""
    try:
        return FIELDS[(section, name)].check(value)
    except Bad as bad:
        raise param_error(name, owner, bad.args[0], value) from None


def _suggest(word: str, options) -> str:
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    if close:
        return f"; did you mean {close[0]!r}?"
    return "; valid keys: " + ", ".join(sorted(options))


def markdown_table() -> str:
    """The README's table of config keys (a test checks the README holds it verbatim)."""
    def show(v):
        if v is None:
            return "unset"
        return tomli_w.dumps({"x": v})[4:].strip()

    lines = ["| key | default | meaning |", "|---|---|---|"]
    for s, cls in SECTIONS.items():
        for f in dataclasses.fields(cls):
            lines.append(f"| `{s}.{f.name}` | `{show(f.default)}` | {f.metadata['doc']} |")
    return "\n".join(lines)


def describe() -> str:
    """A text table of every key, its default and meaning (for ``--help`` and the README)."""
    lines = []
    for s, cls in SECTIONS.items():
        for f in dataclasses.fields(cls):
            lines.append(f"  {s + '.' + f.name:28s} {f.default!r:18s} {f.metadata['doc']}")
    return "\n".join(lines)


__all__ = ["Config", "ModelConfig", "SketchConfig", "SamplerConfig", "DataConfig", "EvalConfig",
           "OutputConfig", "FIELDS", "SECTIONS", "load", "loads", "from_dict", "apply_overrides",
           "check_param", "describe", "markdown_table", "param_default", "PARAM_SECTIONS", "InvalidParameterError"]
