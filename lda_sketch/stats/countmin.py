"""Count-min sketch of the word-topic counts with exact ``int32`` cells (``countmin``).

Cells are laid out ``[n_hashes, n_buckets, n_topics]``: the same ``n_hashes`` hash functions serve
every topic, so the estimate of word ``w`` for all ``K`` topics is the elementwise minimum of
``n_hashes`` contiguous K-vectors. Memory ``4 * n_hashes * n_buckets * n_topics`` bytes plus the
exact topic totals ``n_k`` (int64).

Guarantees (integer cells, non-negative counts):

* ``true <= estimate`` always; ``estimate <= true + (e / n_buckets) * n_k[k]`` with probability
  ``>= 1 - exp(-n_hashes)`` per query (:meth:`CountMinStats.error_bound`). Exact when the word
  has a collision-free row.
* ``merge`` is elementwise integer addition (``exact_merge``); without conservative update the
  sketch is linear, so the merge equals the sketch of the concatenated stream bit for bit.
* Cells saturate at ``2**31 - 1`` instead of wrapping; a cell can only get there if one topic
  receives more than 2**31 - 1 tokens in one sketch (an ``Allreduce(SUM)`` of such cells in the
  distributed layer would wrap, so keep per-iteration topic totals below that).

:class:`~lda_sketch.stats.countmin_layout.CountMinLayout` holds what the integer and the Morris
sketches share: parameters, hash functions, support, compatibility check and (de)serialization.
"""
from __future__ import annotations

import numpy as np

from ..exceptions import CorruptDataError, InvalidParameterError
from . import register
from ._cm_kernels import cm_add_records, cm_add_runs, cm_estimate, saturating_add_into
from .budget import PLAIN
from .countmin_layout import CountMinLayout

_NO_READ = np.zeros(1, np.float64)


@register
class CountMinStats(CountMinLayout):
    """Count-min sketch with ``int32`` cells, optionally with conservative update.

    Parameters (defaults: :data:`~lda_sketch.stats.budget.PLAIN`): ``n_topics``, ``n_vocab`` (word
    ids in ``[0, n_vocab)``, up to 2**32), ``n_hashes``
    (rows d), ``n_buckets`` (w, a power of two >= 16), ``seed`` (of the
    hash functions), ``conservative`` (weighted conservative update
    ``cell = max(cell, min_r cell_r + count)``: never underestimates, at most the plain estimate,
    but no longer linear: a merge sums cells, which never underestimates but differs from the
    sketch of the joint stream).
    """

    backend_id = "countmin"
    guarantees = frozenset({"never_underestimates", "exact_merge", "linear"})
    config_keys = ("n_hashes", "n_buckets", "conservative", "estimator", "support", "rescale",
                   "head_words")
    warmup_variants = ({"n_buckets": 16}, {"n_buckets": 16, "conservative": True},
                       {"n_buckets": 16, "estimator": "mean-min"},
                       {"n_buckets": 16, "support": "exact", "rescale": True, "head_words": 2})

    @classmethod
    def _rule_label(cls, section) -> str:
        return "CM (32-bit)" + (" + CU" if section.conservative else "")

    def __init__(self, n_topics: int, n_vocab: int, n_hashes: int = PLAIN["n_hashes"],
                 n_buckets: int = PLAIN["n_buckets"], seed: int = 0,
                 conservative: bool = PLAIN["conservative"], estimator: str = PLAIN["estimator"],
                 support: str = PLAIN["support"], rescale: bool = PLAIN["rescale"],
                 head_words: int = PLAIN["head_words"]):
        super().__init__(n_topics, n_vocab, n_hashes, n_buckets, seed, support=support,
                         rescale=rescale, head_words=head_words, conservative=conservative,
                         estimator=estimator)
        if self.conservative:
            self.guarantees = frozenset({"never_underestimates", "exact_merge"})
        if self.estimator == "mean-min":  # it subtracts estimated noise: it can undercount
            self.guarantees = self.guarantees - {"never_underestimates"}
        self.guarantees = self._support_guarantees(self.guarantees)

    @classmethod
    def _check_extra(cls, *, conservative=PLAIN["conservative"]) -> dict:
        if not isinstance(conservative, (bool, np.bool_)):
            raise InvalidParameterError(
                f"The 'conservative' parameter of {cls.__name__} must be a bool. "
                f"Got {conservative!r}.")
        return {"conservative": bool(conservative)}

    def params(self) -> dict:
        return dict(super().params(), conservative=self.conservative, **self._estimator_param())

    def _add_into(self, cells, a, c, shift, w, t, n, key) -> None:
        """Exact integer add into ``cells`` hashed by ``(a, c, shift)`` (``key`` unused)."""
        cm_add_records(cells, self.n_k, a, c, shift, w, t, n, self.conservative)

    def _add_runs_into(self, words, tok_ptr, z, key, head_ids, head_key, support_bits) -> int:
        """The fused build into the hashed and the head cells (keys unused; the support is set
        apart: ``fuses_support`` is False); -1 or a bad index of z."""
        return cm_add_runs(self._cells, self._head_cells, self.n_k, self._a, self._c, self._shift,
                           head_ids, words, tok_ptr, z, self.conservative)

    def _estimate_cells(self, cells, a, c, shift, w, out):
        return cm_estimate(cells, a, c, shift, w, out)

    def _mean_min_read(self):
        return _NO_READ, False  # the cells are the counts

    def fold_cells(self, dst, src, *, key, cell_offset: int) -> None:
        """Saturating integer addition of a flat cell slice (``key`` unused)."""
        saturating_add_into(dst, src)
        self.cells_changed()

    def merge(self, other, *, key=0) -> None:
        """Elementwise saturating sum of cells and ``n_k``. Exact, commutative, associative."""
        self.check_compatible(other)
        saturating_add_into(self.cells.reshape(-1), other.cells.reshape(-1))
        self.n_k += other.n_k
        self._merge_support(other)
        self.cells_changed()

    def _check_loaded(self) -> None:
        if (self.cells < 0).any():
            raise CorruptDataError("Serialized CountMinStats holds negative cells.")
