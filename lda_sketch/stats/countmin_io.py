"""Persistence of the count-min layout (:class:`~.countmin_layout.CountMinLayout`): the LDSK
container of :mod:`.serialization` with arrays ``cells`` and ``n_k``, plus ``support``,
``word_totals``, ``head`` and ``head_ids`` when those parts exist (format version 2).

A friend module of :mod:`.countmin_layout`: it reads and sets the layout's private arrays.
"""
from __future__ import annotations

import numpy as np

from ..exceptions import CorruptDataError
from . import serialization
from ._hash_kernels import seed_hash
from .support import SUPPORTS


def serialize(stats) -> bytearray:
    """The bytes of ``stats`` (a CountMinLayout): arrays ``cells``, ``n_k`` and its exact parts."""
    return packed(stats).to_bytearray()


def packed(stats) -> serialization.Packed:
    """:func:`serialize`'s bytes over the live arrays (streamed to a file without a copy)."""
    arrays = {"cells": stats._cells, "n_k": stats.n_k}
    if stats._support is not None:
        arrays.update(stats._support.arrays())
    if stats._word_totals is not None:
        arrays["word_totals"] = stats._word_totals.totals
    if stats.head_words:
        arrays["head"] = stats._head_cells[0]
    if not stats._head_index.is_prefix:
        arrays["head_ids"] = stats._head_index.ids
    return serialization.packed(stats.backend_id, stats.file_params(), stats.seed_hash, arrays,
                                version=1 if len(arrays) == 2 else 2)


def deserialize(cls, data, *, seed: int | None = None):
    """The ``cls`` backend serialized in ``data``: inverse of :func:`serialize`. Recomputes the hash functions from the stored seed and
    checks the stored ``seed_hash`` against them; with ``seed`` given, also requires it to be
    the stored seed. Sizes are checked before anything is allocated. Raises
    :class:`CorruptDataError`.
    """
    _, params, stored_hash, arrays = serialization.unpack(data, expect_backend=cls.backend_id)
    name = cls.__name__
    try:
        if not isinstance(params, dict):
            raise TypeError("params is not an object")
        p = cls._check_params(**cls.params_from_file(params))
    except (TypeError, ValueError) as exc:
        raise CorruptDataError(f"Serialized {name} has bad parameters: {exc}") from None
    if seed_hash(p["seed"]) != stored_hash:
        raise CorruptDataError(
            f"Serialized {name}: stored seed_hash 0x{stored_hash:016x} does not match the "
            f"hash functions of seed {p['seed']} (0x{seed_hash(p['seed']):016x}).")
    if seed is not None and int(seed) != p["seed"]:
        raise CorruptDataError(f"Serialized {name} was built with seed {p['seed']}, "
                               f"not the expected seed {seed}.")
    shape = (p["n_hashes"], p["n_buckets"], p["n_topics"])
    dtype = cls._dtype_for(p)
    kind = SUPPORTS[p["support"]]
    expected = ({"cells", "n_k"} | (set(kind.ARRAYS) if kind is not None else set())
                | ({"word_totals"} if p["rescale"] else set())
                | ({"head"} if p["head_words"] else set()))
    if p["head_words"] and "head_ids" in arrays:  # a head chosen by frequency
        expected.add("head_ids")
    if set(arrays) != expected:
        raise CorruptDataError(f"Serialized {name} must hold arrays "
                               + " and ".join(map(repr, sorted(expected)))
                               + f". Got {sorted(arrays)}.")
    cells, n_k = arrays["cells"], arrays["n_k"]
    if cells.shape != shape or cells.dtype != dtype:
        raise CorruptDataError(f"Serialized {name}: cells are {cells.dtype}{cells.shape}, "
                               f"parameters need {dtype}{shape}.")
    if n_k.shape != (p["n_topics"],) or n_k.dtype != np.int64 or (n_k < 0).any():
        raise CorruptDataError(f"Serialized {name}: n_k must be non-negative int64 of shape "
                               f"({p['n_topics']},).")
    obj = cls(**p)
    if obj.head_words:
        head = arrays["head"]
        if head.shape != obj._head_cells.shape[1:] or head.dtype != dtype:
            raise CorruptDataError(f"Serialized {name}: head is {head.dtype}{head.shape}, "
                                   f"parameters need {dtype}{obj._head_cells.shape[1:]}.")
        obj._cells[...] = cells
        obj._head_cells[0] = head
        if "head_ids" in arrays:
            try:
                obj._head_index.load(arrays["head_ids"])
            except ValueError as exc:
                raise CorruptDataError(f"Serialized {name}: {exc}.") from None
    else:
        obj._cells = np.ascontiguousarray(cells)
        obj._storage = obj._cells.reshape(-1)
    obj.n_k = np.ascontiguousarray(n_k)
    if obj._support is not None:
        try:
            obj._support.load_arrays(arrays)
        except ValueError as exc:
            raise CorruptDataError(f"Serialized {name}: {exc}.") from None
    if obj._word_totals is not None:
        try:
            obj._word_totals.load(arrays["word_totals"])
        except ValueError as exc:
            raise CorruptDataError(f"Serialized {name}: {exc}.") from None
    obj.cells_changed()
    obj._check_loaded()
    return obj
