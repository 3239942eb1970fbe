"""Sweep files: parsing a base config, a grid and/or a list of points, and trials (seeds).

A sweep file (TOML)::

    base = "../wiki-reuters.toml"        # relative to the sweep file
    trials = 3                           # sampler.seed = base seed + trial
    description = "what this reproduces"

    [set]                                # dotted overrides applied to every point
    "sampler.n_iter" = 60

    [grid]                               # cartesian product of the axes below
    "sketch.n_buckets" = [8192, 16384]   # a dotted key -> a list of values
    rule = [                             # a bare name -> a list of override bundles
      { name = "independent", "sketch.increment" = "independent" },
      { name = "conservative", "sketch.increment" = "correlated", "sketch.conservative" = true },
    ]

    [[points]]                           # explicit points, added to the grid's
    name = "dense"
    "sketch.backend" = "dense"

Each point x trial runs in its own directory ``SWEEP_DIR/<point>/trial-<t>`` (an ordinary
:func:`~lda_sketch.run.train.train_run` directory, so ``lda-sketch train --config
RUN/resolved_config.toml`` reruns it alone). A point's name is that directory's name: it must be
a plain name (no ``/``, no leading ``.``), so no run can land outside ``SWEEP_DIR``.
Running: :mod:`lda_sketch.sweep.runner`; Slurm jobs: :mod:`lda_sketch.sweep.slurm`; summaries:
:mod:`lda_sketch.sweep.summary`.
"""
from __future__ import annotations

import fnmatch
import itertools
import re
from dataclasses import dataclass, field
from pathlib import Path

from .. import config as config_mod
from ..config import Config
from ..exceptions import InputFormatError
from ..io.safe_read import REMEDY_CONFIG, read_toml
from ..limits import MAX_CONFIG_BYTES

SWEEP_KEYS = ("base", "trials", "description", "set", "grid", "points")
# Short names used to build point names from grid values (anything else: the key's last part).
_SHORT = {"sketch.backend": "", "sketch.n_hashes": "d", "sketch.n_buckets": "b",
          "sketch.counter_base": "base", "sketch.increment": "", "sketch.conservative": "cu",
          "model.n_topics": "K", "sketch.counter_bits": "bits"}



@dataclass(frozen=True)
class SweepRun:
    """One point x trial: its name, overrides, the resolved config and its run directory."""

    point: str
    trial: int
    overrides: dict            # dotted key -> value, the point's own (not [set] or --set)
    config: Config
    run_dir: Path

    @property
    def label(self) -> str:
        return f"{self.point}/trial-{self.trial}"


@dataclass
class Sweep:
    """A parsed sweep file. ``runs(out_dir)`` expands it; ``points`` keeps the file's order."""

    source: Path
    base: Path
    trials: int
    description: str
    common: dict                 # [set] plus --set, dotted key -> value
    points: list = field(default_factory=list)   # [(name, {dotted: value}), ...]
    cli_overrides: tuple = ()

    def runs(self, out_dir) -> list[SweepRun]:
        """Every point x trial, points in file order (grid first, then [[points]])."""
        out = Path(out_dir)
        base_cfg = config_mod.load(self.base)
        here = self.source.resolve().parent
        common_cfg = _apply(base_cfg, self.common, f"{self.source} [set]", here)
        if self.cli_overrides:
            common_cfg = config_mod.apply_overrides(common_cfg, self.cli_overrides)
        seed0 = common_cfg.sampler.seed
        runs = []
        for name, ov in self.points:
            cfg = _apply(common_cfg, ov, f"{self.source} point {name!r}", here)
            for t in range(self.trials):
                tcfg = cfg.replace(sampler=_replace(cfg.sampler, seed=seed0 + t))
                runs.append(SweepRun(name, t, dict(ov), tcfg, out / name / f"trial-{t}"))
        return runs


# --------------------------------------------------------------------------- parsing
def load_sweep(path, cli_overrides=()) -> Sweep:
    """Parse and validate a sweep file (every point's config is validated by :meth:`runs`).

    ``cli_overrides`` (``["section.key=value", ...]``) apply to every point; overriding a key
    that the grid or a point sets is an error (pick points with ``--only`` instead).
    """
    path = Path(path)
    if not path.exists():
        raise InputFormatError(f"{path}: sweep file not found")
    data = read_toml(path, max_bytes=MAX_CONFIG_BYTES, error=InputFormatError,
                     remedy=REMEDY_CONFIG)
    for key in data:
        if key not in SWEEP_KEYS:
            raise InputFormatError(f"{path}: unknown top-level key {key!r}; a sweep file has "
                                   + ", ".join(SWEEP_KEYS))
    if "base" not in data or not isinstance(data["base"], str):
        raise InputFormatError(f"{path}: 'base' must name the base config, relative to the "
                               f"sweep file (e.g. base = \"../wiki-reuters.toml\")")
    base = (path.resolve().parent / data["base"]).resolve()
    if not base.is_file():
        raise InputFormatError(f"{path}: base config {data['base']!r} not found (looked for "
                               f"{base})")
    trials = data.get("trials", 1)
    if isinstance(trials, bool) or not isinstance(trials, int) or trials < 1:
        raise InputFormatError(f"{path}: 'trials' must be an int >= 1, got {trials!r}")
    common = _dotted_table(data.get("set", {}), f"{path} [set]")
    points = _grid_points(data.get("grid", {}), path) + _listed_points(data.get("points", []), path)
    if not points:
        raise InputFormatError(f"{path}: no points; add a [grid] table or [[points]] entries")
    names = [n for n, _ in points]
    for n in names:      # sanitized grid names have no '/', but "." or ".." would escape
        if n.startswith("."):
            _check_point_name(n, path)
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise InputFormatError(f"{path}: duplicate point names {dup}; give the points "
                               f"distinct 'name's")
    cli = tuple(cli_overrides)
    varied = {k for _, ov in points for k in ov}
    for item in cli:
        key = item.split("=", 1)[0].strip()
        if key in varied:
            raise InputFormatError(f"--set {item}: {key} is varied by the sweep's points; use "
                                   f"--only NAME_GLOB to pick points instead")
    return Sweep(path, base, trials, str(data.get("description", "")), common, points, cli)


def _dotted_table(table, where: str) -> dict:
    if not isinstance(table, dict):
        raise InputFormatError(f"{where}: expected a table of \"section.key\" = value")
    out = {}
    for k, v in table.items():
        if k == "name":
            continue
        if k.count(".") != 1 or tuple(k.split(".")) not in config_mod.FIELDS:
            raise InputFormatError(f"{where}: {k!r} is not a config key (section.key, e.g. "
                                   f"\"sketch.n_buckets\"; see `lda-sketch train --help`)")
        out[k] = v
    return out


def _grid_points(grid, path: Path) -> list:
    if not isinstance(grid, dict):
        raise InputFormatError(f"{path}: [grid] must be a table of axes")
    axes = []
    for key, values in grid.items():
        where = f"{path} [grid].{key}"
        if not isinstance(values, list) or not values:
            raise InputFormatError(f"{where}: expected a non-empty list of values")
        if "." in key:       # a config key and its values
            _dotted_table({key: values[0]}, f"{path} [grid]")
            axes.append([(_value_name(key, v), {key: v}) for v in values])
        else:                # a named axis of override bundles
            opts = []
            for i, b in enumerate(values):
                if not isinstance(b, dict) or not isinstance(b.get("name"), str):
                    raise InputFormatError(f"{where}[{i}]: expected an inline table with a "
                                           f"'name' and dotted overrides")
                opts.append((b["name"], _dotted_table(b, f"{where}[{i}]")))
            axes.append(opts)
    points = []
    for combo in itertools.product(*axes) if axes else []:
        ov = {}
        for _, o in combo:
            ov.update(o)
        points.append((_safe_name("_".join(n for n, _ in combo if n)), ov))
    return points


def _listed_points(items, path: Path) -> list:
    if not isinstance(items, list):
        raise InputFormatError(f"{path}: [[points]] must be an array of tables")
    out = []
    for i, item in enumerate(items):
        where = f"{path} [[points]][{i}]"
        if not isinstance(item, dict):
            raise InputFormatError(f"{where}: expected a table")
        ov = _dotted_table(item, where)
        if item.get("name"):
            _check_point_name(str(item["name"]), path)
        name = item.get("name") or "_".join(_value_name(k, v) for k, v in ov.items()) or "base"
        out.append((_safe_name(str(name)), ov))
    return out


def _value_name(key: str, v) -> str:
    short = _SHORT.get(key, key.split(".")[1])
    if isinstance(v, bool):
        return short if v else f"no{short}"
    if key == "sketch.n_buckets" and isinstance(v, int) and v > 0 and not v & (v - 1):
        return f"b{v.bit_length() - 1}"
    return f"{short}{v}"


def _check_point_name(name: str, path: Path) -> None:
    """Refuse a point name that is not a plain directory name (it could leave SWEEP_DIR)."""
    if name.startswith(".") or ".." in name or "/" in name or "\\" in name:
        raise InputFormatError(f"{path}: point name {name!r} must be a plain name (letters, "
                               f"digits, '_', '-', '.', '+', '='; no '/', no leading '.'); "
                               f"rename the point")


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._=+-]+", "-", name).strip("-") or "point"


def _apply(cfg: Config, overrides: dict, where: str, base_dir: Path) -> Config:
    if not overrides:
        return cfg
    data = cfg.to_dict()
    for k, v in overrides.items():
        s, key = k.split(".")
        data[s][key] = v
    # Relative data paths in a sweep file are relative to that file (the base config's own
    # paths are already absolute in ``cfg``).
    return config_mod.from_dict(data, source=where, base_dir=base_dir)


def _replace(section, **kw):
    import dataclasses
    return dataclasses.replace(section, **kw)


def select(runs: list[SweepRun], only: list[str] | None) -> list[SweepRun]:
    """Runs whose point name or ``point/trial-t`` label matches any glob in ``only``."""
    if not only:
        return runs
    return [r for r in runs
            if any(fnmatch.fnmatchcase(r.point, g) or fnmatch.fnmatchcase(r.label, g)
                   for g in only)]
