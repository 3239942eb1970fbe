"""The type and range of one config key (:class:`Constraint`), and how ``--set`` text is typed.

:mod:`lda_sketch.config` declares one :class:`Constraint` per key; values are checked against it
when a file is loaded, when ``--set`` is applied, and when the estimator is fitted.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import limits
from ._validation import _range_text


class Bad(Exception):
    """Internal: a value violates a constraint; ``args[0]`` is the requirement text."""


@dataclass(frozen=True)
class Constraint:
    """Type and range of one config key. ``check`` returns the normalised value or raises Bad."""

    kind: str                      # "int" | "float" | "pow2" | "bool" | "choice" | "path" | "budget"
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
        elif self.kind == "budget":
            text = ("a fraction of the dense bytes such as \"1/12\" or 0.085, or a size such as "
                    "\"64MiB\"")
        else:
            text = "a path (string)"
        return text + (" (or unset)" if self.optional else "")

    def check(self, v):
        if v is None:
            if self.optional:
                return None
            raise Bad(self.requirement)
        k = self.kind
        if k in ("int", "pow2"):
            if isinstance(v, bool) or not isinstance(v, int):
                raise Bad(self.requirement)
            if (self.lo is not None and v < self.lo) or (self.hi is not None and v > self.hi):
                raise Bad(self.requirement)
            if k == "pow2" and v & (v - 1):
                raise Bad(self.requirement)
            return int(v)
        if k == "float":
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise Bad(self.requirement)
            v = float(v)
            if v != v or v in (float("inf"), float("-inf")):
                raise Bad(self.requirement)
            if self.lo is not None and (v <= self.lo if self.lo_open else v < self.lo):
                raise Bad(self.requirement)
            if self.hi is not None and v > self.hi:
                raise Bad(self.requirement)
            return v
        if k == "bool":
            if not isinstance(v, bool):
                raise Bad(self.requirement)
            return v
        if k == "choice":
            if v not in self.choices:
                raise Bad(self.requirement)
            return v
        if k == "budget":
            from .exceptions import InvalidParameterError
            from .stats.budget import parse_budget

            try:
                parse_budget(v)
            except InvalidParameterError:
                raise Bad(self.requirement) from None
            return v if isinstance(v, str) else float(v) if isinstance(v, float) else int(v)
        if not isinstance(v, (str, Path)):
            raise Bad(self.requirement)
        return str(v)

    def parse_text(self, text: str):
        """Type a ``--set`` value string by this key's kind (raises Bad)."""
        t = text.strip()
        if self.kind == "choice" and t in self.choices:  # support = "none" is a choice, not unset
            return t
        if self.optional and t.lower() in ("none", "null", ""):
            return None
        try:
            if self.kind in ("int", "pow2") or (self.kind == "choice" and all(
                    isinstance(c, int) for c in self.choices)):
                if "**" in t:  # "2**16" is how sketch widths are usually written
                    base, exp = (int(x.replace("_", "")) for x in t.split("**"))
                    if not 0 <= exp <= limits.MAX_SET_EXPONENT or abs(base) > 2**32:
                        raise Bad(f"{self.requirement} (a**b needs |a| <= 2**32 and "
                                   f"0 <= b <= {limits.MAX_SET_EXPONENT})")
                    return base ** exp
                return int(t.replace("_", ""))
            if self.kind == "float":
                return float(t)
        except ValueError:
            raise Bad(self.requirement) from None
        if self.kind == "bool":
            if t.lower() in ("true", "1", "yes"):
                return True
            if t.lower() in ("false", "0", "no"):
                return False
            raise Bad(self.requirement)
        return t
