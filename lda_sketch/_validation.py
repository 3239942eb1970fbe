"""Parameter validation with one message shape::

    The 'n_buckets' parameter of CountMinStats must be a power of two >= 16. Got 1000.
"""
from __future__ import annotations

import numbers

from .exceptions import InvalidParameterError


def param_error(name: str, owner: str, requirement: str, value) -> InvalidParameterError:
    """Build the standard error: ``The '{name}' parameter of {owner} must be {requirement}. Got {value!r}.``"""
    return InvalidParameterError(
        f"The '{name}' parameter of {owner} must be {requirement}. Got {value!r}."
    )


def check_int(value, name: str, owner: str, *, lo=None, hi=None) -> int:
    """Return ``value`` as int if it is an integer in ``[lo, hi]`` (either bound optional)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise param_error(name, owner, _range_text("an int", lo, hi), value)
    v = int(value)
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        raise param_error(name, owner, _range_text("an int", lo, hi), value)
    return v


def check_float(value, name: str, owner: str, *, lo=None, hi=None, lo_open=False) -> float:
    """Return ``value`` as float if it is a finite real in the given range."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise param_error(name, owner, _range_text("a float", lo, hi, lo_open), value)
    v = float(value)
    bad = v != v or v in (float("inf"), float("-inf"))
    if lo is not None and (v <= lo if lo_open else v < lo):
        bad = True
    if hi is not None and v > hi:
        bad = True
    if bad:
        raise param_error(name, owner, _range_text("a float", lo, hi, lo_open), value)
    return v


def check_power_of_two(value, name: str, owner: str, *, lo: int = 1, hi: int | None = None) -> int:
    """Return ``value`` if it is an int power of two in ``[lo, hi]``."""
    req = f"a power of two >= {lo}" + (f" and <= {hi}" if hi is not None else "")
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise param_error(name, owner, req, value)
    v = int(value)
    if v < lo or (hi is not None and v > hi) or v & (v - 1):
        raise param_error(name, owner, req, value)
    return v


def check_choice(value, name: str, owner: str, choices) -> str:
    """Return ``value`` if it is one of ``choices`` (strings)."""
    if value not in choices:
        listed = ", ".join(repr(c) for c in choices)
        raise param_error(name, owner, f"one of {listed}", value)
    return value


def _range_text(kind, lo, hi, lo_open=False):
    if lo is not None and hi is not None:
        return f"{kind} in the range {'(' if lo_open else '['}{lo}, {hi}]"
    if lo is not None:
        return f"{kind} {'>' if lo_open else '>='} {lo}"
    if hi is not None:
        return f"{kind} <= {hi}"
    return kind
