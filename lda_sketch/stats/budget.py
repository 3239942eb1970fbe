"""A byte budget for the word-topic statistics, turned into a count-min layout.

``[sketch].budget`` (or ``LDASketch(budget=...)``) is a fraction of the dense bytes (``"1/12"``,
``0.085``) or a size (``"64MiB"``, ``"2.5MB"``, ``"3000000"``). The dense bytes are those of an
int32 ``V_eff x K`` matrix, where ``V_eff`` counts the ids that hold training tokens (all of a
``prep`` vocabulary; for a feature-hashed corpus, far fewer than ``2**H``).

:func:`choose_layout` splits the bytes, in this order (the rule measured in docs/RESULTS.md,
"Fidelity in and out of the training domain"):

1. **support**: the exact (word, topic) bitmap (``V * ceil(K/8)`` bytes) when it takes at most
   :data:`SUPPORT_MAX_SHARE` of the budget, else a Bloom filter of the words with tokens when
   most ids hold none (hashed corpora), else nothing. Without it a zero cell reads its
   buckets' collision mass, which normalising phi takes from the real words.
2. **hashed rows**: 3 rows of the largest power-of-two width whose cells take at most
   :data:`TAIL_SHARE` of what is left. Three rows at a wide width beat more rows or a larger head
   at the same bytes, in training and in the read-out (``scripts/fidelity_readout.py``).
3. **head**: the rest buys collision-free counters for the most frequent words (``head_words``).

With an 8-bit Morris backend the update rule is correlated + conservative (conservative update
keeps colliding words from adding to each other's cells) at base 1.08. On the shared Wikipedia
split (V = 71,669, K = 100) 1/12 gives support + 3 x 4096 + a head of 2,277 words (0.0833x), and
0.045 gives 3 x 2048 + 6,748 head words without support (the bitmap would take 69 % of it).

Keys the user sets explicitly are kept; the budget chooses only the others, and a layout that
the explicit keys push over the budget is refused with the numbers.
"""
from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass

import numpy as np

from .._validation import param_error
from ..exceptions import InvalidParameterError
from .support import SUPPORTS

#: The budget used when a config sets neither ``budget`` nor any layout key.
DEFAULT_BUDGET = "1/12"
#: The keys that fix a layout. Setting one of them without a budget turns the budget off.
LAYOUT_KEYS = ("n_hashes", "n_buckets", "head_words", "support", "rescale")
#: The update-rule keys the budget also chooses when unset (else their plain defaults apply).
RULE_KEYS = ("conservative", "counter_base")
#: The defaults of the count-min keys, stated once: the values unset layout and rule keys take
#: when no budget applies (the paper's sketch), the backends' constructor defaults, and the
#: config's defaults of the keys a budget does not choose (increment, counter_bits, estimator).
PLAIN = {"n_hashes": 3, "n_buckets": 2**13, "head_words": 0, "support": "none",
         "rescale": False, "conservative": False, "counter_base": 1.08,
         "increment": "correlated", "counter_bits": 8, "estimator": "min"}
#: The support bitmap is kept while it takes at most this share of the budget (at 1/12 it takes
#: 39 %, at 0.045 69 %, where layouts with it trained 20-40 points worse; docs/RESULTS.md).
SUPPORT_MAX_SHARE = 0.5
#: The hashed rows' share of what the support leaves: the widest power-of-two width within it
#: (3 x 4096 at 1/12 on Wikipedia; narrower tails with larger heads trained worse).
TAIL_SHARE = 0.85
TAIL_ROWS = 3
MIN_BUCKETS = 16
_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "kib": 2**10, "mib": 2**20,
          "gib": 2**30}
_OWNER = "SketchConfig"


@dataclass(frozen=True)
class Budget:
    """A parsed budget: ``fraction`` of the dense bytes, or ``nbytes`` bytes (one is None)."""

    fraction: float | None = None
    nbytes: int | None = None

    def bytes_for(self, n_topics: int, n_vocab_eff: int) -> int:
        """The budget in bytes for ``n_topics`` and ``n_vocab_eff`` ids holding tokens."""
        if self.nbytes is not None:
            return self.nbytes
        return int(self.fraction * dense_bytes(n_topics, n_vocab_eff))


def dense_bytes(n_topics: int, n_vocab: int) -> int:
    """Bytes of the dense backend: int32 ``V x K`` cells and int64 ``n_k``."""
    return 4 * int(n_vocab) * int(n_topics) + 8 * int(n_topics)


def parse_budget(value) -> Budget:
    """``"1/12"``, ``0.085``, ``"64MiB"``, ``"2.5MB"``, ``3000000`` -> :class:`Budget`.

    A number or fraction below 1 is a fraction of the dense bytes; a size with a unit, or an
    integer >= 1, is bytes."""
    expected = ("a fraction of the dense bytes in (0, 1) such as \"1/12\" or 0.085, or a size "
                "such as \"64MiB\" or \"2.5MB\"")
    if isinstance(value, bool) or value is None:
        raise param_error("budget", _OWNER, expected, value)
    if isinstance(value, (int, float)):
        text = repr(value)
    else:
        text = str(value).strip()
    m = re.fullmatch(r"(\d+)\s*/\s*(\d+)", text)
    if m:
        num, den = int(m.group(1)), int(m.group(2))
        if den > 0 and 0 < num < den:
            return Budget(fraction=num / den)
        raise param_error("budget", _OWNER, expected, value)
    m = re.fullmatch(r"(\d+(?:\.\d*)?|\.\d+)(?:e([+-]?\d+))?\s*([A-Za-z]*)", text)
    if not m or m.group(3).lower() not in _UNITS:
        raise param_error("budget", _OWNER, expected, value)
    x = float(m.group(1)) * (10 ** int(m.group(2)) if m.group(2) else 1)
    unit = m.group(3).lower()
    if not unit and 0 < x < 1:
        return Budget(fraction=x)
    nbytes = x * _UNITS[unit]
    if not math.isfinite(nbytes) or nbytes < 1 or (not unit and x != int(x)):
        raise param_error("budget", _OWNER, expected, value)
    return Budget(nbytes=int(nbytes))


def is_resolved(section) -> bool:
    """Whether every layout key of ``section`` is set (as after :func:`resolve_sketch`): nothing
    is left for a budget to choose, so no word counts are needed."""
    return all(getattr(section, k) is not None for k in LAYOUT_KEYS)


def needs_counts(section) -> bool:
    """Whether ``section`` leaves layout keys to a byte budget: only the training word counts
    (:func:`resolve_sketch`) can fill them."""
    return uses_budget(section) and not is_resolved(section)


def filled_keys(sketch_table: dict) -> set:
    """``{("sketch", key)}`` for the layout and rule keys a ``[sketch]`` table (as in
    ``Config.to_dict()``) leaves unset: a run fills them in, so a saved config that has them is
    not a different config."""
    return {("sketch", k) for k in LAYOUT_KEYS + RULE_KEYS if k not in sketch_table}


def uses_budget(section) -> bool:
    """Whether ``section`` (a ``[sketch]`` config) gets its layout from a budget: a budget is
    set, or no layout key is (then :data:`DEFAULT_BUDGET` applies)."""
    if section.backend == "dense":
        return False
    return section.budget is not None or all(getattr(section, k) is None for k in LAYOUT_KEYS)


def choose_layout(budget_bytes: int, n_topics: int, n_vocab: int, n_vocab_eff: int, *,
                  counter_bytes: int = 1, fixed: dict | None = None,
                  frequency_ordered: bool = True) -> dict:
    """The layout keys (``n_hashes``, ``n_buckets``, ``head_words``, ``support``, ``rescale``)
    for ``budget_bytes``, every structure counted as the backends' ``nbytes`` count it.

    ``counter_bytes``: bytes per cell (1 for 8-bit Morris, 2 for 16-bit, 4 for int32).
    ``frequency_ordered=False``: ids not numbered by decreasing count, so the head stores its
    word ids (4 bytes each, :mod:`.head`). ``fixed``: keys the user set; they are kept and the rest are chosen around them. When the
    preferred support or row count leaves no room for 16 buckets, less support and fewer rows
    are tried. Raises ``InvalidParameterError`` when no layout of at least 16 buckets fits.
    """
    fixed = {k: v for k, v in (fixed or {}).items() if v is not None}
    K, V, cb = int(n_topics), int(n_vocab), int(counter_bytes)
    if "support" in fixed:
        supports = [fixed["support"]]
    elif SUPPORTS["exact"].nbytes_for(V, K) <= SUPPORT_MAX_SHARE * budget_bytes:
        supports = ["exact", "none"]
    elif n_vocab_eff < V / 2:
        supports = ["filter", "none"]
    else:
        supports = ["none"]
    rows = [int(fixed["n_hashes"])] if "n_hashes" in fixed else list(range(TAIL_ROWS, 0, -1))
    for support in supports:
        for d in rows:
            layout = _fit(int(budget_bytes), K, V, n_vocab_eff, cb, fixed, support, d,
                          0 if frequency_ordered else 4)
            if layout is not None:
                return layout
    d, support = rows[-1], supports[-1]
    kind = SUPPORTS[support]
    head = int(fixed.get("head_words", 0))
    w = int(fixed.get("n_buckets", MIN_BUCKETS))
    need = (8 * K + (d * w + head) * K * cb + (0 if frequency_ordered else 4 * head)
            + (kind.nbytes_for(n_vocab_eff if support == "filter" else V, K) if kind else 0)
            + (4 * V if fixed.get("rescale") else 0))
    raise param_error("budget", _OWNER,
                      f">= {need:,} bytes for {d} hash row(s) x {w} buckets x {K} topics x {cb} "
                      f"byte(s)" + (f", support {support!r}" if kind else "")
                      + (f", {head:,} head words" if head else "")
                      + "; raise the budget or drop an explicit layout key",
                      f"{int(budget_bytes):,} bytes")


def _fit(budget, K, V, v_eff, cb, fixed, support, d, id_bytes) -> dict | None:
    """The layout with ``support`` and ``d`` rows in ``budget`` bytes, or None if none fits."""
    left = budget - 8 * K  # n_k
    kind = SUPPORTS[support]
    if kind is not None:
        left -= kind.nbytes_for(v_eff if support == "filter" else V, K)
    rescale = bool(fixed.get("rescale", False))
    if rescale:
        left -= 4 * V
    head = fixed.get("head_words")
    if head is not None:
        left -= int(head) * (K * cb + id_bytes)
    if "n_buckets" in fixed:
        w = int(fixed["n_buckets"])
    else:
        share = left if head is not None else TAIL_SHARE * left
        w = int(share // (d * K * cb)) if share > 0 else 0
        w = 1 << (w.bit_length() - 1) if w >= MIN_BUCKETS else 0
    left -= d * w * K * cb
    if w < MIN_BUCKETS or left < 0:
        return None
    if head is None:
        head = max(0, min(left // (K * cb + id_bytes), V))
    return {"n_hashes": d, "n_buckets": w, "head_words": int(head), "support": support,
            "rescale": rescale}


def resolve_sketch(section, n_topics: int, word_counts) -> tuple[object, dict | None]:
    """``(section', info)``: ``section`` (a ``[sketch]`` SketchConfig) with every unset layout
    and rule key filled in, from its budget when :func:`uses_budget`, else from :data:`PLAIN`.

    ``word_counts`` (n_vocab,): the global training word counts (``V_eff`` = ids with tokens).
    ``info`` (None without a budget): ``{"budget", "budget_bytes", "n_vocab_eff", "stats_bytes",
    "bytes_ratio", "chosen"}`` where ``chosen`` lists the keys the budget set.
    """
    from . import BACKENDS  # here: the registry imports the backends, which import this

    reads = set(BACKENDS[section.backend].config_keys)
    counts = np.asarray(word_counts)
    V = int(counts.shape[0])
    if not uses_budget(section):
        fill = {k: v for k, v in PLAIN.items() if getattr(section, k) is None and k in reads}
        return dataclasses.replace(section, **fill), None
    budget = parse_budget(section.budget if section.budget is not None else DEFAULT_BUDGET)
    v_eff = int(np.count_nonzero(counts)) or V
    nbytes = budget.bytes_for(n_topics, v_eff)
    morris = section.backend == "countmin-morris"
    cb = (section.counter_bits // 8) if morris else 4
    fixed = {k: getattr(section, k) for k in LAYOUT_KEYS if getattr(section, k) is not None}
    ordered = bool(np.all(counts[1:] <= counts[:-1]))  # the head is the id prefix
    try:
        layout = choose_layout(nbytes, n_topics, V, v_eff, counter_bytes=cb, fixed=fixed,
                               frequency_ordered=ordered)
    except InvalidParameterError:
        if section.budget is not None:
            raise
        # The default budget on a vocabulary too small for any sketch: the smallest one.
        layout = {"n_hashes": 1, "n_buckets": MIN_BUCKETS, "head_words": 0, "support": "none",
                  "rescale": False}
        layout.update(fixed)
    rule = {"conservative": morris and section.increment == "correlated",
            "counter_base": PLAIN["counter_base"]}
    chosen = {k: v for k, v in layout.items() if k not in fixed}
    chosen.update({k: v for k, v in rule.items() if getattr(section, k) is None and k in reads})
    out = dataclasses.replace(section, **chosen)
    total = (8 * n_topics + (out.n_hashes * out.n_buckets + out.head_words) * n_topics * cb
             + (0 if ordered else 4 * out.head_words)
             + (SUPPORTS[out.support].nbytes_for(v_eff if out.support == "filter" else V,
                                                 n_topics) if out.support != "none" else 0)
             + (4 * V if out.rescale else 0))
    info = {"budget": str(section.budget if section.budget is not None else DEFAULT_BUDGET),
            "budget_bytes": int(nbytes), "n_vocab_eff": v_eff, "stats_bytes": int(total),
            "bytes_ratio": total / dense_bytes(n_topics, v_eff), "chosen": chosen}
    return out, info


def describe_layout(section) -> str:
    """One line naming a resolved ``[sketch]`` layout, e.g. ``3 x 4096 conservative 8-bit
    cells (base 1.08) + 3107 head words + exact support``."""
    if section.backend == "dense":
        return "dense int32 counts"
    morris = section.backend == "countmin-morris"
    cells = (f"{section.counter_bits}-bit Morris cells (base {section.counter_base:g}, "
             f"{section.increment}{' + conservative' if section.conservative else ''})"
             if morris else f"int32 cells{' (conservative)' if section.conservative else ''}")
    parts = [f"{section.n_hashes} x {section.n_buckets} {cells}"]
    if section.head_words:
        parts.append(f"{section.head_words:,} collision-free head words")
    if section.support != "none":
        parts.append(f"{section.support} support")
    if section.rescale:
        parts.append("per-word totals")
    return " + ".join(parts)
