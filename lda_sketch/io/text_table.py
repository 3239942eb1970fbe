"""Tables of numbers as text, fast: rows of floats written like ``'%.6g' % x``, tab-separated,
without a Python call per number (``doc-topics.txt`` of ``lda-sketch export``).

The numbers are formatted by numba kernels (``io/_text_kernels.py``); the few values they cannot
settle exactly (near a rounding tie, outside [1e-290, 1e6), not finite, negative) by Python's
``%`` itself, so the text is byte-identical to ``'%.6g' % x`` for every float
(tests/unit/test_text_table.py).
"""
from __future__ import annotations

import numpy as np

from ._text_kernels import odd_values
from ._text_kernels import write_rows as _write_rows_kernel

#: Most bytes one value takes (``'-1.23457e-100'``) plus its separator.
MAX_CELL = 14


def format_rows(prefixes, values) -> bytes:
    """The text of :func:`write_rows` as bytes."""
    values = np.ascontiguousarray(values, np.float64)
    if values.ndim != 2 or len(prefixes) != values.shape[0]:
        raise ValueError(f"{len(prefixes)} prefixes for values of shape {values.shape}; "
                         f"expected one prefix per row of a 2-d array")
    n, k = values.shape
    pre = [p.encode("utf-8") for p in prefixes]
    prefix = np.frombuffer(b"".join(pre), np.uint8)
    prefix_ptr = np.zeros(n + 1, np.int64)
    np.cumsum([len(p) for p in pre], out=prefix_ptr[1:])
    out = np.empty(prefix.shape[0] + n * max(k, 1) * MAX_CELL, np.uint8)
    none = np.zeros(0, np.int64)
    used = _write_rows_kernel(prefix, prefix_ptr, values, none, np.zeros(0, np.uint8),
                              np.zeros(1, np.int64), out)
    if used < 0:  # odd values (rare): Python formats them, the kernel copies them in
        flat = values.reshape(-1)
        odd_pos = np.flatnonzero(odd_values(flat)).astype(np.int64)
        odd = [("%.6g" % x).encode("ascii") for x in flat[odd_pos].tolist()]
        odd_ptr = np.zeros(len(odd) + 1, np.int64)
        np.cumsum([len(b) for b in odd], out=odd_ptr[1:])
        odd_bytes = np.frombuffer(b"".join(odd), np.uint8)
        used = _write_rows_kernel(prefix, prefix_ptr, values, odd_pos, odd_bytes, odd_ptr, out)
    return out[:used].tobytes()


def write_rows(f, prefixes, values, *, rows_per_chunk: int = 4096) -> None:
    """Write one line per row of the 2-d float array ``values`` to the binary file ``f``:
    ``prefixes[i]`` (str, written as UTF-8, e.g. ``"0\\tdoc-a\\t"``), then the row's values as
    ``'%.6g'`` separated by tabs, then a newline."""
    values = np.asarray(values, np.float64)
    if values.ndim != 2 or len(prefixes) != values.shape[0]:
        raise ValueError(f"{len(prefixes)} prefixes for values of shape {values.shape}; "
                         f"expected one prefix per row of a 2-d array")
    step = max(1, int(rows_per_chunk))
    for a in range(0, values.shape[0], step):
        f.write(format_rows(prefixes[a:a + step], values[a:a + step]))
