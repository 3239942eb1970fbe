"""Count-min sketch of Morris approximate counters (``countmin-morris``; the paper's CM+A).

Same layout and hash functions as :mod:`~lda_sketch.stats.countmin` (``[n_hashes, n_buckets,
n_topics]``), but each cell is an 8-bit (or 16-bit) Morris code of base ``counter_base``
(:mod:`~lda_sketch.stats._morris_kernels`). Memory ``n_hashes * n_buckets * n_topics * counter_bits / 8``
bytes plus the exact ``n_k``: a quarter of the int32 sketch at 8 bits.

Three ways to increment a record's ``d`` cells (``increment``):

* ``"independent"``: every cell is its own Morris counter with its own draws. Each cell is
  unbiased, but the minimum of noisy cells is biased *downward* (even below the true count).
* ``"correlated"`` (Pitel & Fouquier): one uniform ``u`` per increment shared by the ``d`` cells;
  cell ``r`` moves iff ``u < b**-c_r``. Cells stay unbiased and the minimum is, in expectation,
  at least the true count (``mean_overestimates``).
* ``"conservative"``: correlated + conservative update: with ``c* = min_r c_r``, if
  ``u < b**-c*`` only the cells equal to ``c*`` move. ``mean_overestimates``; cells are no longer
  unbiased counters of their stream (they undercount collisions, which is the point).

The query is ``read(min_r c_r)``. A record ``(w, k, count)`` is applied in O(levels) work by
geometric skipping, exact in distribution
(see :mod:`~lda_sketch.stats._cmm_kernels`).
Record ``i`` of an ``add`` call draws with ``derive(key, i)``: **use a fresh key per call**
(e.g. ``derive(key, chunk)``) — two calls with one key reuse draws.

Merging is the Steele–Tristan addition per cell, keyed by ``(key, global cell index)``: unbiased
(``E[read(x ⊕ y)] = read(x) + read(y)``), commutative bit for bit, and a pure function of the
two sketches and the key. :meth:`CountMinMorrisStats.merge` equals the distributed 2-rank
owner-computes merge (:func:`lda_sketch.distributed.merge.merge_stats`) byte for byte.
Saturated cells stay at the top code.
"""
from __future__ import annotations

import functools
import math

import numpy as np

from .._validation import check_choice, check_float, param_error
from .. import rng
from ..limits import COUNTER_BITS, MAX_COUNTER_BASE
from . import register
from ._cmm_kernels import (CONSERVATIVE, CORRELATED, INDEPENDENT, cmm_add_records,
                           cmm_add_runs, cmm_estimate)
from ._morris_kernels import max_base, morris_merge_into, morris_round_add, morris_tables
from .budget import PLAIN
from .countmin_layout import CountMinLayout

#: How a record's d cells draw (the config's [sketch].increment); ``conservative`` (a flag, with
#: "correlated") makes the third rule, "conservative" in :data:`_RULES` and in the file format.
INCREMENTS = ("independent", "correlated")
_RULES = {"independent": INDEPENDENT, "correlated": CORRELATED, "conservative": CONSERVATIVE}
_GUARANTEES = {
    "independent": frozenset({"unbiased_cells"}),
    "correlated": frozenset({"unbiased_cells", "mean_overestimates"}),
    "conservative": frozenset({"mean_overestimates"}),
}


@functools.lru_cache(maxsize=16)
def _tables(base: float, bits: int):
    read, prob, log1m = morris_tables(base, bits)
    for a in (read, prob, log1m):
        a.flags.writeable = False  # shared between instances
    return read, prob, log1m


@register
class CountMinMorrisStats(CountMinLayout):
    """Count-min sketch of Morris counters.

    Parameters (defaults: :data:`~lda_sketch.stats.budget.PLAIN`): ``n_topics``, ``n_vocab``,
    ``n_hashes``, ``n_buckets`` (power of two >= 16), ``seed`` (hash functions), ``increment``
    (``"independent"`` or ``"correlated"``), ``conservative`` (with ``"correlated"``: the
    correlated + conservative rule; an error with ``"independent"``), ``counter_base`` (b > 1),
    ``counter_bits`` (8 -> uint8 codes; 16 -> uint16; ``b**(2**bits - 1)`` must stay below
    1e300, i.e. b <= 1.0106 at 16 bits).

    The same two keys as the config's ``[sketch]``; :attr:`rule` names the one of three update
    rules they select, and ``guarantees`` depends on it (the class attribute lists what all
    variants share). Files spell the conservative rule ``increment = "conservative"``
    (:meth:`file_params`), as they always have.
    """

    backend_id = "countmin-morris"
    guarantees = frozenset()
    fuses_support = True  # cmm_add_runs sets the exact support bits in its pass over z
    config_keys = ("n_hashes", "n_buckets", "increment", "conservative", "counter_base",
                   "counter_bits", "estimator", "support", "rescale", "head_words")
    warmup_variants = tuple({"n_buckets": 16, "increment": inc} for inc in INCREMENTS) + (
        {"n_buckets": 16, "conservative": True},
        {"n_buckets": 16, "counter_bits": 16, "counter_base": 1.001},
        {"n_buckets": 16, "estimator": "mean-min"},
        {"n_buckets": 16, "support": "exact", "rescale": True, "head_words": 2})

    @classmethod
    def _rule_label(cls, section) -> str:
        rule = "conservative" if section.conservative else section.increment
        base = PLAIN["counter_base"] if section.counter_base is None else section.counter_base
        return f"CM+A {section.counter_bits}-bit, base {base:g}, {rule}"

    def __init__(self, n_topics: int, n_vocab: int, n_hashes: int = PLAIN["n_hashes"],
                 n_buckets: int = PLAIN["n_buckets"], seed: int = 0,
                 increment: str = PLAIN["increment"], counter_base: float = PLAIN["counter_base"],
                 counter_bits: int = PLAIN["counter_bits"],
                 conservative: bool = PLAIN["conservative"], estimator: str = PLAIN["estimator"],
                 support: str = PLAIN["support"], rescale: bool = PLAIN["rescale"],
                 head_words: int = PLAIN["head_words"]):
        super().__init__(n_topics, n_vocab, n_hashes, n_buckets, seed, support=support,
                         rescale=rescale, head_words=head_words, increment=increment,
                         conservative=conservative, counter_base=counter_base,
                         counter_bits=counter_bits, estimator=estimator)
        self.guarantees = _GUARANTEES[self.rule]
        if self.estimator == "mean-min":  # it subtracts estimated noise: it can undercount
            self.guarantees = self.guarantees - {"mean_overestimates"}
        self.guarantees = self._support_guarantees(self.guarantees)
        self.read_table, self._prob, self._log1m = _tables(self.counter_base, self.counter_bits)

    @property
    def rule(self) -> str:
        """The update rule: "independent", "correlated" or "conservative"."""
        return "conservative" if self.conservative else self.increment

    @classmethod
    def _check_extra(cls, *, increment=PLAIN["increment"], conservative=PLAIN["conservative"],
                     counter_base=PLAIN["counter_base"], counter_bits=PLAIN["counter_bits"]
                     ) -> dict:
        owner = cls.__name__
        check_choice(increment, "increment", owner, INCREMENTS)
        if not isinstance(conservative, (bool, np.bool_)):
            raise param_error("conservative", owner, "a bool", conservative)
        if conservative and increment == "independent":
            # conservative update is justified for correlated counters only (paper, §3)
            raise param_error("conservative", owner,
                              "False when increment='independent' (conservative update needs "
                              "correlated counters; use increment='correlated')", conservative)
        if counter_bits not in COUNTER_BITS or isinstance(counter_bits, bool):
            raise param_error("counter_bits", owner, "one of " + ", ".join(map(str, COUNTER_BITS)),
                              counter_bits)
        hi = min(MAX_COUNTER_BASE, math.floor(max_base(counter_bits) * 1e4) / 1e4)
        base = check_float(counter_base, "counter_base", owner, lo=1.0, lo_open=True, hi=hi)
        return {"increment": increment, "conservative": bool(conservative), "counter_base": base,
                "counter_bits": int(counter_bits)}

    @classmethod
    def _dtype_for(cls, params: dict) -> np.dtype:
        return np.dtype(np.uint8 if params["counter_bits"] == 8 else np.uint16)

    def params(self) -> dict:
        return dict(super().params(), increment=self.increment,
                    **({"conservative": True} if self.conservative else {}),
                    counter_base=self.counter_base, counter_bits=self.counter_bits,
                    **self._estimator_param())

    def file_params(self) -> dict:
        """:meth:`params` with the rule in one key, ``increment``, as files have always had it
        (so the bytes of every file written before are the bytes written now)."""
        p = self.params()
        if p.pop("conservative", False):
            p["increment"] = "conservative"
        return p

    @classmethod
    def params_from_file(cls, params: dict) -> dict:
        if isinstance(params, dict) and params.get("increment") == "conservative":
            return {**params, "increment": "correlated", "conservative": True}
        return params

    @property
    def top_code(self) -> int:
        """The saturating code ``2**counter_bits - 1``."""
        return (1 << self.counter_bits) - 1

    def counter_relative_std(self) -> float:
        """``sqrt((b - 1) / 2)``: a single counter's standard deviation relative to its count."""
        return math.sqrt((self.counter_base - 1.0) / 2.0)

    def _add_into(self, cells, a, c, shift, w, t, n, k) -> None:
        """Apply ``n[i]`` increments to ``(w[i], t[i])`` of ``cells`` hashed by ``(a, c, shift)``;
        draws keyed by ``derive(k, i)``."""
        cmm_add_records(cells, self.n_k, a, c, shift, self._prob, self._log1m, k, w, t, n,
                        _RULES[self.rule])

    def _add_runs_into(self, words, tok_ptr, z, key, head_ids, head_key, support_bits) -> int:
        """The fused build into the hashed cells (``key``), the head's (rounded as
        :meth:`_add_head` with ``head_key``) and the exact support's ``support_bits`` (an empty
        bitmap: none); -1 or a bad index of z."""
        return cmm_add_runs(self._cells, self._head_cells, self.n_k, self._a, self._c, self._shift,
                            self._prob, self._log1m, self.read_table, key, head_key, head_ids,
                            words, tok_ptr, z, _RULES[self.rule], support_bits)

    def _add_head(self, w, t, n, key) -> None:
        """Head cells are collision-free, so a record's whole count is encoded at once
        (unbiased rounding between neighbouring codes) instead of Morris-incremented n times:
        same expectation, variance <= ((b-1) v)^2 / 4 instead of (b-1) n (n-1) / 2."""
        morris_round_add(self._head_cells, self.n_k, self.read_table, key, w, t, n)

    def _estimate_cells(self, cells, a, c, shift, w, out):
        return cmm_estimate(cells, self.read_table, a, c, shift, w, out)

    def _mean_min_read(self):
        return self.read_table, True  # codes, read through the table

    def fold_cells(self, dst, src, *, key, cell_offset: int) -> None:
        """Steele–Tristan addition of a flat code slice; cell ``i`` keyed by
        ``(key, cell_offset + i)``."""
        if dst.dtype != self._cells.dtype or src.dtype != dst.dtype or src.shape != dst.shape:
            raise ValueError(f"fold_cells needs two {self._cells.dtype} slices of one shape. "
                             f"Got {dst.dtype}{dst.shape} and {src.dtype}{src.shape}.")
        morris_merge_into(dst, src, self._prob, np.uint64(key), np.int64(cell_offset))
        self.cells_changed()

    def merge(self, other, *, key=0) -> None:
        """Unbiased randomized merge in place; equals a 2-rank fold with ``derive(key, 1)``."""
        self.check_compatible(other)
        self.fold_cells(self.cells.reshape(-1), other.cells.reshape(-1),
                        key=rng.derive(np.uint64(key), np.uint64(1)), cell_offset=0)
        self.n_k += other.n_k
        self._merge_support(other)
