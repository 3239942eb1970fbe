"""Count-min parameter helpers (the DataSketches formulas) and a byte budget -> shape rule.

With ``n_buckets = w`` and ``n_hashes = d``, an integer count-min estimate satisfies, per query
and per topic ``k``, ``true <= est <= true + (e / w) * n_k`` with probability ``>= 1 - exp(-d)``.
"""
from __future__ import annotations

import math

from .._validation import check_float, check_int, param_error
from ._morris_kernels import max_base

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
    ``n_vocab * ceil(n_topics / 8)`` bytes, ``support="filter"`` the word filter's (at most
    ``10 * n_vocab`` bits, rounded up to a power of two): the budget is split between support and
    cells.
    """
    from .support import SUPPORTS

    owner = "suggest_sketch"
    budget = check_int(byte_budget, "byte_budget", owner, lo=1)
    K = check_int(n_topics, "n_topics", owner, lo=1)
    if support not in SUPPORTS:
        raise param_error("support", owner, "one of " + ", ".join(map(repr, SUPPORTS)), support)
    if support != "none":
        if n_vocab is None:
            raise param_error("n_vocab", owner, f"an int >= 1 with support={support!r}", n_vocab)
        reserved = SUPPORTS[support].nbytes_for(check_int(n_vocab, "n_vocab", owner, lo=1), K)
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


def suggest_head_sketch(byte_budget: int, n_topics: int, n_vocab: int, counter_bytes: int = 1,
                        confidence: float = 0.95, *,
                        frequency_ordered: bool = True) -> tuple[int, int, int]:
    """``(n_hashes, n_buckets, head_words)`` for a count-min sketch with a collision-free head.

    Issue 13's rule, without a support (the default layout, support included, is chosen by
    :func:`lda_sketch.stats.budget.choose_layout`): about half the budget to the hashed cells (the largest power-of-two width with ``n_hashes * n_buckets * n_topics *
    counter_bytes <= byte_budget / 2``), the rest to the head (one counter per topic for each of
    the ``head_words`` most frequent words), every structure counted (``8 * n_topics`` for
    ``n_k``). With ``V = 74,829``, ``K = 100`` and 0.085x the dense bytes: ``(3, 4096, 13230)``.
    ``frequency_ordered=False`` (ids not numbered by decreasing frequency: a ``CountVectorizer``
    vocabulary, feature hashing) also counts the head's stored word ids, 4 bytes each.
    """
    owner = "suggest_head_sketch"
    budget = check_int(byte_budget, "byte_budget", owner, lo=1)
    K = check_int(n_topics, "n_topics", owner, lo=1)
    V = check_int(n_vocab, "n_vocab", owner, lo=1)
    d, w = suggest_sketch(budget // 2, K, counter_bytes, confidence)
    per_word = K * int(counter_bytes) + (0 if frequency_ordered else 4)
    head = (budget - d * w * K * int(counter_bytes) - 8 * K) // per_word
    return d, w, int(min(max(head, 0), V))


def suggest_counter_base(max_count: int, counter_bits: int = 8, headroom: float = 2.0) -> float:
    """Smallest Morris base (to 1e-4) whose top code reads at least ``headroom * max_count``.

    A smaller base means less counter noise (relative sd ``sqrt((b - 1) / 2)``); the top code
    ``2**counter_bits - 1`` reads ``(b**top - 1) / (b - 1)``, which must exceed the largest count
    a cell will hold (at most the most frequent word's count, for a collision-free head).
    E.g. ``suggest_counter_base(36_029)`` is 1.0307 at 8 bits.
    """
    owner = "suggest_counter_base"
    n = check_int(max_count, "max_count", owner, lo=1)
    if counter_bits not in (8, 16):
        raise param_error("counter_bits", owner, "one of 8, 16", counter_bits)
    room = check_float(headroom, "headroom", owner, lo=1.0)
    top = (1 << counter_bits) - 1

    def log_read(b):  # log((b**top - 1) / (b - 1)) without overflow
        return top * math.log(b) + math.log1p(-b ** -top) - math.log(b - 1)

    target = math.log(room * n)
    lo, hi = 1.0 + 1e-9, math.floor(min(2.0, max_base(counter_bits)) * 1e4) / 1e4
    if log_read(hi) < target:
        raise param_error("max_count", owner, f"small enough for {counter_bits}-bit counters",
                          max_count)
    for _ in range(60):  # bisection on the monotone read of the top code
        mid = (lo + hi) / 2
        if log_read(mid) >= target:
            hi = mid
        else:
            lo = mid
    return math.ceil(hi * 1e4) / 1e4
