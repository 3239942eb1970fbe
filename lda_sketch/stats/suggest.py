"""Count-min parameter helpers (the DataSketches formulas) and a byte budget -> shape rule.

With ``n_buckets = w`` and ``n_hashes = d``, an integer count-min estimate satisfies, per query
and per topic ``k``, ``true <= est <= true + (e / w) * n_k`` with probability ``>= 1 - exp(-d)``.
"""
from __future__ import annotations

import math

from .._validation import check_float, check_int, param_error

MIN_BUCKETS = 16


def min_buckets(relative_error: float) -> int:
    """``ceil(e / relative_error)``: buckets the bound needs (not rounded to a power of 2)."""
    eps = check_float(relative_error, "relative_error", "suggest_n_buckets", lo=0.0, hi=1.0,
                      lo_open=True)
    return math.ceil(math.e / eps)


def suggest_n_buckets(relative_error: float) -> int:
    """Smallest valid ``n_buckets`` (a power of two >= 16) with ``e / n_buckets <= relative_error``.

    ``relative_error`` is the additive error as a fraction of the topic's total count ``n_k``.
    """
    need = max(MIN_BUCKETS, min_buckets(relative_error))
    return 1 << (need - 1).bit_length()


def suggest_n_hashes(confidence: float) -> int:
    """``ceil(ln(1 / (1 - confidence)))``: rows needed for the bound to hold with ``confidence``."""
    conf = check_float(confidence, "confidence", "suggest_n_hashes", lo=0.0, hi=1.0)
    if conf >= 1.0:
        raise param_error(
            "confidence", "suggest_n_hashes", "a float in the range [0, 1)", confidence)
    return max(1, math.ceil(math.log(1.0 / (1.0 - conf))))


def suggest_sketch(byte_budget: int, n_topics: int, counter_bytes: int,
                   confidence: float = 0.95, *, n_vocab: int | None = None,
                   support: str = "none") -> tuple[int, int]:
    """``(n_hashes, n_buckets)`` fitting ``byte_budget`` bytes, every structure counted.

    ``n_hashes = suggest_n_hashes(confidence)`` (3 at the default 0.95, the paper's choice) and
    ``n_buckets`` is the largest power of two with
    ``n_hashes * n_buckets * n_topics * counter_bytes + 8 * n_topics + support_bytes <=
    byte_budget``. ``counter_bytes`` is 4 (int32 count-min), 1 (8-bit Morris) or 2 (16-bit
    Morris). ``support="exact"`` (needs ``n_vocab``) first sets aside the support bitmap's
    ``n_vocab * ceil(n_topics / 8)`` bytes: the budget is split between support and cells.
    """
    from .support import SUPPORTS, ExactSupport

    owner = "suggest_sketch"
    budget = check_int(byte_budget, "byte_budget", owner, lo=1)
    K = check_int(n_topics, "n_topics", owner, lo=1)
    if support not in SUPPORTS:
        raise param_error("support", owner, "one of " + ", ".join(map(repr, SUPPORTS)), support)
    if support == "exact":
        if n_vocab is None:
            raise param_error("n_vocab", owner, "an int >= 1 with support='exact'", n_vocab)
        reserved = ExactSupport.nbytes_for(check_int(n_vocab, "n_vocab", owner, lo=1), K)
    else:
        reserved = 0
    budget -= reserved
    if counter_bytes not in (1, 2, 4):
        raise param_error("counter_bytes", owner, "one of 1, 2, 4",
                                                     counter_bytes)
    d = suggest_n_hashes(confidence)
    per_bucket = d * K * int(counter_bytes)
    w = (budget - 8 * K) // per_bucket
    if w < MIN_BUCKETS:
        need = MIN_BUCKETS * per_bucket + 8 * K + reserved
        raise param_error(
            "byte_budget", owner,
            f">= {need} for {d} hashes x {MIN_BUCKETS} buckets x {K} topics x {counter_bytes} "
            f"bytes{' plus the support' if reserved else ''}; raise the budget or lower the "
            "confidence", byte_budget)
    return d, 1 << (w.bit_length() - 1)
