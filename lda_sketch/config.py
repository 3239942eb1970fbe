"""Training configuration: TOML files <-> frozen dataclasses, with validation naming file and key.

A config file has the sections below (every key optional; defaults shown by
``lda-sketch train --help`` and in the README)::

    [model]    n_topics, alpha, beta
    [sketch]   backend, n_hashes, n_buckets, conservative, counter_base, increment, counter_bits,
               estimator
    [sampler]  sampler, init, n_iter, n_threads, seed
    [data]     train, heldout, embedded, n_heldout, split_seed
    [eval]     evaluate_every, fold_in_iters
    [output]   checkpoint_every, keep_checkpoints

Paths in ``[data]`` are relative to the config file and are stored absolute once loaded, so a
``resolved_config.toml`` reproduces its run from any working directory. Errors look like::

    configs/wiki.toml: [sketch].n_buckets must be a power of two >= 16, got 1000
    configs/wiki.toml: unknown key [sketch].n_bucket; did you mean 'n_buckets'?

The constraint table (:data:`FIELDS`) is the one source of truth for parameter names and ranges;
the :class:`~lda_sketch.model.LDASketch` estimator validates its arguments against it too.
"""
from __future__ import annotations

import dataclasses
import difflib
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from ._validation import _range_text, param_error
from .exceptions import InputFormatError, InvalidParameterError

SKETCH_BACKENDS = ("dense", "countmin", "countmin-morris")
SAMPLERS = ("sca", "sem")
INITS = ("sparse", "uniform")
INCREMENTS = ("independent", "correlated")


# --------------------------------------------------------------------------- constraints
class _Bad(Exception):
    """Internal: a value violates a constraint; ``args[0]`` is the requirement text."""


@dataclass(frozen=True)
class Constraint:
    """Type and range of one config key. ``check`` returns the normalised value or raises _Bad."""

    kind: str                      # "int" | "float" | "pow2" | "bool" | "choice" | "path"
    lo: Any = None
    hi: Any = None
    lo_open: bool = False
    choices: tuple = ()
    optional: bool = False         # None allowed (omitted from TOML)

    @property
    def requirement(self) -> str:
        if self.kind == "int":
            text = _range_text("an int", self.lo, self.hi)
        elif self.kind == "float":
            text = _range_text("a float", self.lo, self.hi, self.lo_open)
        elif self.kind == "pow2":
            text = f"a power of two >= {self.lo}" + (
                f" and <= 2**{self.hi.bit_length() - 1}" if self.hi else "")
        elif self.kind == "bool":
            text = "true or false"
        elif self.kind == "choice":
            text = "one of " + ", ".join(repr(c) for c in self.choices)
        else:
            text = "a path (string)"
        return text + (" (or unset)" if self.optional else "")

    def check(self, v):
        if v is None:
            if self.optional:
                return None
            raise _Bad(self.requirement)
        k = self.kind
        if k in ("int", "pow2"):
            if isinstance(v, bool) or not isinstance(v, int):
                raise _Bad(self.requirement)
            if (self.lo is not None and v < self.lo) or (self.hi is not None and v > self.hi):
                raise _Bad(self.requirement)
            if k == "pow2" and v & (v - 1):
                raise _Bad(self.requirement)
            return int(v)
        if k == "float":
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise _Bad(self.requirement)
            v = float(v)
            if v != v or v in (float("inf"), float("-inf")):
                raise _Bad(self.requirement)
            if self.lo is not None and (v <= self.lo if self.lo_open else v < self.lo):
                raise _Bad(self.requirement)
            if self.hi is not None and v > self.hi:
                raise _Bad(self.requirement)
            return v
        if k == "bool":
            if not isinstance(v, bool):
                raise _Bad(self.requirement)
            return v
        if k == "choice":
            if v not in self.choices:
                raise _Bad(self.requirement)
            return v
        if not isinstance(v, (str, Path)):
            raise _Bad(self.requirement)
        return str(v)

    def parse_text(self, text: str):
        """Type a ``--set`` value string by this key's kind (raises _Bad)."""
        t = text.strip()
        if self.optional and t.lower() in ("none", "null", ""):
            return None
        try:
            if self.kind in ("int", "pow2"):
                if "**" in t:  # "2**16" is how sketch widths are usually written
                    base, exp = t.split("**")
                    return int(base) ** int(exp)
                return int(t.replace("_", ""))
            if self.kind == "float":
                return float(t)
        except ValueError:
            raise _Bad(self.requirement) from None
        if self.kind == "bool":
            if t.lower() in ("true", "1", "yes"):
                return True
            if t.lower() in ("false", "0", "no"):
                return False
            raise _Bad(self.requirement)
        return t


def _f(default, constraint: Constraint, doc: str):
    return field(default=default, metadata={"constraint": constraint, "doc": doc})


# --------------------------------------------------------------------------- sections
@dataclass(frozen=True)
class ModelConfig:
    n_topics: int = _f(100, Constraint("int", 1, 65535), "number of topics K")
    alpha: float = _f(0.1, Constraint("float", 0.0, None, True),
                      "symmetric doc-topic prior (per topic)")
    beta: float = _f(0.01, Constraint("float", 0.0, None, True),
                     "symmetric topic-word prior (called eta in Blei et al., lda, tomotopy)")


@dataclass(frozen=True)
class SketchConfig:
    backend: str = _f("countmin-morris", Constraint("choice", choices=SKETCH_BACKENDS),
                      "where n[w,k] lives: dense (exact), countmin (int32 cells), "
                      "countmin-morris (8-bit approximate counters)")
    n_hashes: int = _f(3, Constraint("int", 1, 16), "hash rows d of the count-min sketch")
    n_buckets: int = _f(2**13, Constraint("pow2", 16, 2**30), "buckets per hash row w")
    conservative: bool = _f(False, Constraint("bool"), "conservative update")
    counter_base: float = _f(1.08, Constraint("float", 1.0, 2.0, True),
                             "Morris counter base b (read (b^c - 1)/(b - 1))")
    increment: str = _f("correlated", Constraint("choice", choices=INCREMENTS),
                        "how a key's d Morris cells draw: one uniform each or one shared")
    counter_bits: int = _f(8, Constraint("int", 1, 16), "bits per Morris counter")
    estimator: str = _f("min", Constraint("choice", choices=("min", "mean-min")),
                        "count-min query: min over rows (never underestimates) or mean-min "
                        "(subtracts each row's mean collision mass; nearly unbiased)")


@dataclass(frozen=True)
class SamplerConfig:
    sampler: str = _f("sca", Constraint("choice", choices=SAMPLERS),
                      "sca (fast word-major kernel) or sem (plain reference)")
    init: str = _f("sparse", Constraint("choice", choices=INITS), "initial topic assignment")
    n_iter: int = _f(100, Constraint("int", 0, 10**7), "SCA iterations")
    n_threads: int | None = _f(None, Constraint("int", 1, 4096, optional=True),
                               "numba threads per rank (unset: numba's default)")
    seed: int = _f(0, Constraint("int", 0, 2**63 - 1), "seed of every random draw")


@dataclass(frozen=True)
class DataConfig:
    train: str | None = _f(None, Constraint("path", optional=True),
                           "training corpus directory (lda-sketch prep output)")
    heldout: str | None = _f(None, Constraint("path", optional=True),
                             "held-out corpus directory, same vocabulary as train")
    embedded: bool = _f(False, Constraint("bool"),
                        "use the built-in corpus instead of 'train' (lda_sketch.embedded)")
    n_heldout: int = _f(0, Constraint("int", 0, None),
                        "documents split off 'train' at random when 'heldout' is unset")
    split_seed: int = _f(0, Constraint("int", 0, 2**63 - 1),
                         "seed of that split (separate from sampler.seed, so trials over seeds "
                         "share one held-out set)")


@dataclass(frozen=True)
class EvalConfig:
    evaluate_every: int = _f(10, Constraint("int", 0, None),
                             "iterations between held-out evaluations (0: only at the end)")
    fold_in_iters: int = _f(100, Constraint("int", 1, 100000),
                            "EM steps folding in theta on the observed half of held-out docs")


@dataclass(frozen=True)
class OutputConfig:
    checkpoint_every: int = _f(0, Constraint("int", 0, None),
                               "iterations between checkpoints (0: never)")
    keep_checkpoints: int = _f(2, Constraint("int", 1, None), "newest checkpoints kept on disk")


SECTIONS: dict[str, type] = {"model": ModelConfig, "sketch": SketchConfig,
                             "sampler": SamplerConfig, "data": DataConfig, "eval": EvalConfig,
                             "output": OutputConfig}
FIELDS: dict[tuple[str, str], Constraint] = {
    (s, f.name): f.metadata["constraint"]
    for s, cls in SECTIONS.items() for f in dataclasses.fields(cls)}
_PATH_KEYS = {("data", "train"), ("data", "heldout")}


@dataclass(frozen=True)
class Config:
    """A whole run's configuration. ``source`` is the file it came from (for messages only)."""

    model: ModelConfig = field(default_factory=ModelConfig)
    sketch: SketchConfig = field(default_factory=SketchConfig)
    sampler: SamplerConfig = field(default_factory=SamplerConfig)
    data: DataConfig = field(default_factory=DataConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    output: OutputConfig = field(default_factory=OutputConfig)
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

    def backend_params(self) -> dict:
        """The ``[sketch]`` keys other than ``backend`` (``make_stats`` keeps those it accepts)."""
        d = dataclasses.asdict(self.sketch)
        d.pop("backend")
        return d


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
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputFormatError(f"{path}: config file not found") from None
    except OSError as exc:
        raise InputFormatError(f"{path}: cannot read config ({exc.strerror})") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputFormatError(f"{path}: not valid TOML ({exc})") from None
    cfg = from_dict(data, source=str(path), base_dir=path.resolve().parent)
    return apply_overrides(cfg, overrides) if overrides else cfg


def loads(text: str, *, source: str = "<string>", base_dir=None) -> Config:
    """Parse TOML text (paths relative to ``base_dir``, default the working directory)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputFormatError(f"{source}: not valid TOML ({exc})") from None
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
        except _Bad as bad:
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
    except _Bad as bad:
        raise InputFormatError(f"{where}[{section}].{key} must be {bad.args[0]}, "
                               f"got {value!r}") from None


def check_param(value, name: str, owner: str, section: str):
    """Validate an estimator argument against the config table (scikit-learn message shape)."""
    try:
        return FIELDS[(section, name)].check(value)
    except _Bad as bad:
        raise param_error(name, owner, bad.args[0], value) from None


def _suggest(word: str, options) -> str:
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    if close:
        return f"; did you mean {close[0]!r}?"
    return "; valid keys: " + ", ".join(sorted(options))


def describe() -> str:
    """A text table of every key, its default and meaning (for ``--help`` and the README)."""
    lines = []
    for s, cls in SECTIONS.items():
        for f in dataclasses.fields(cls):
            lines.append(f"  {s + '.' + f.name:26s} {f.default!r:18s} {f.metadata['doc']}")
    return "\n".join(lines)


__all__ = ["Config", "ModelConfig", "SketchConfig", "SamplerConfig", "DataConfig", "EvalConfig",
           "OutputConfig", "FIELDS", "SECTIONS", "load", "loads", "from_dict", "apply_overrides",
           "check_param", "describe", "InvalidParameterError"]
