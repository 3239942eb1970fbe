"""Configs shipped inside the package, so ``--config tiny`` works from a wheel without a clone.

The ``.toml`` files here are copies of the repository's ``configs/tiny.toml`` and
``configs/demo.toml`` (the source of truth; a test keeps them byte-identical). Both read the
embedded corpus, so no path inside them depends on where they are installed.
"""
from __future__ import annotations

from pathlib import Path

_HERE = Path(__file__).resolve().parent


def names() -> list[str]:
    """The shipped config names, sorted (``["demo", "tiny"]``)."""
    return sorted(p.stem for p in _HERE.glob("*.toml"))


def path(name: str) -> Path | None:
    """The shipped config called ``name`` (``"tiny"`` or ``"tiny.toml"``), or None."""
    stem = name.removesuffix(".toml")
    return _HERE / f"{stem}.toml" if stem in names() else None
