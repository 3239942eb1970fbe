"""Kernels of ``io/text_table.py``: floats written as ``'%.6g'`` text into byte buffers.

A value ``x`` in [1e-290, 1e6) has six significant digits ``m = rint(x * 10**(5 - e))`` with
``e = floor(log10(x))`` (corrected by one where log10 or the rounding lands outside
[1e5, 1e6)); the scaled value is within 1e-9 of the exact one, so ``m`` equals ``%``'s exact
decimal rounding unless the scaled value lies within 1e-7 of a tie.
Such values, those outside the range and anything not finite are *odd*: :func:`odd_values`
flags them and the caller formats them with Python's ``%`` (:func:`write_rows` copies those
bytes in).
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

#: Powers of ten: exact up to 10**22, within an ulp beyond; the tie margin (1e-7 on values of
#: 1e5..1e6) is a billion times the error either leaves, so ``m`` is always the exact rounding.
_POW10 = 10.0 ** np.arange(306)
_LO = 1e-290  # 10**(5 - e) stays finite


@njit(cache=True)
def _six_digits(x):
    """``(m, e, ok)``: six significant digits and the decimal exponent of ``x``; ``ok`` false
    when the arithmetic cannot settle them exactly (see the module docstring)."""
    if not (x >= _LO and x < 1e6):
        return 0, 0, False
    e = int(math.floor(math.log10(x)))
    for _ in range(2):
        if e < -300 or e > 5:
            return 0, 0, False
        m = np.rint(x * _POW10[5 - e])
        if m >= 1e6:
            e += 1
        elif m < 1e5:
            e -= 1
        else:
            break
    if e < -300 or e > 5:
        return 0, 0, False
    s = x * _POW10[5 - e]
    m = np.rint(s)
    if m < 1e5 or m >= 1e6 or abs(s - math.floor(s) - 0.5) < 1e-7:
        return 0, 0, False
    return int(m), e, True


@njit(cache=True)
def _is_zero(x) -> bool:
    return x == 0.0 and math.copysign(1.0, x) > 0.0  # -0.0 is '-0': Python's


@njit(cache=True)
def odd_values(values):
    """bool (n,) over the flat float64 ``values``: True where Python must format the value."""
    out = np.zeros(values.shape[0], np.bool_)
    for i in range(values.shape[0]):
        x = values[i]
        if not _is_zero(x):
            out[i] = not _six_digits(x)[2]
    return out


@njit(cache=True)
def _put(x, out, p, d) -> int:
    """Write ``'%.6g' % x`` at ``out[p:]``; returns the new position, or -1 when ``x`` is odd
    (nothing written). ``d``: uint8 (6,) scratch."""
    if _is_zero(x):
        out[p] = 48
        return p + 1
    m, e, ok = _six_digits(x)
    if not ok:
        return -1
    for j in range(5, -1, -1):
        d[j] = 48 + m % 10
        m //= 10
    last = 5                          # the last non-zero digit
    while last > 0 and d[last] == 48:
        last -= 1
    if e >= 0 and e <= 5:             # fixed notation: ddd.ddd
        for j in range(e + 1):
            out[p] = d[j]
            p += 1
        if last > e:
            out[p] = 46
            p += 1
            for j in range(e + 1, last + 1):
                out[p] = d[j]
                p += 1
    elif e >= -4:                     # fixed notation: 0.000ddd
        out[p] = 48
        out[p + 1] = 46
        p += 2
        for _ in range(-e - 1):
            out[p] = 48
            p += 1
        for j in range(last + 1):
            out[p] = d[j]
            p += 1
    else:                             # scientific: d.ddddde-XX
        out[p] = d[0]
        p += 1
        if last > 0:
            out[p] = 46
            p += 1
            for j in range(1, last + 1):
                out[p] = d[j]
                p += 1
        out[p] = 101
        out[p + 1] = 45
        p += 2
        if -e >= 100:
            out[p] = 48 + (-e) // 100
            p += 1
        out[p] = 48 + (-e) // 10 % 10
        out[p + 1] = 48 + (-e) % 10
        p += 2
    return p


@njit(cache=True)
def write_rows(prefix, prefix_ptr, values, odd_pos, odd_bytes, odd_ptr, out) -> int:
    """Rows ``prefix[prefix_ptr[r]:prefix_ptr[r + 1]]`` + the values of row ``r`` of the 2-d
    ``values`` tab-separated + ``'\\n'`` into ``out`` (large enough); returns the bytes written.
    ``odd_pos`` (sorted flat positions) take their text from ``odd_bytes[odd_ptr[i]:...]``; an
    odd value not among them stops the kernel, which returns ``-1 - its flat position``."""
    n, k = values.shape
    p = 0
    o = 0
    d = np.empty(6, np.uint8)
    for r in range(n):
        for b in range(prefix_ptr[r], prefix_ptr[r + 1]):
            out[p] = prefix[b]
            p += 1
        for c in range(k):
            if o < odd_pos.shape[0] and odd_pos[o] == r * k + c:
                for b in range(odd_ptr[o], odd_ptr[o + 1]):
                    out[p] = odd_bytes[b]
                    p += 1
                o += 1
            else:
                p = _put(values[r, c], out, p, d)
                if p < 0:
                    return -1 - (r * k + c)
            out[p] = 9 if c < k - 1 else 10
            p += 1
        if k == 0:
            out[p] = 10
            p += 1
    return p
