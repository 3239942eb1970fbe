"""Tables of floats as text (io/text_table.py): byte-identical to Python's '%.6g' for every
float, without a Python call per number (doc-topics.txt of `lda-sketch export`)."""
from __future__ import annotations

import io

import numpy as np
import pytest

from lda_sketch.io.text_table import format_rows, write_rows


def _expected(prefixes, values) -> bytes:
    return "".join(p + "\t".join("%.6g" % x for x in row) + "\n"
                   for p, row in zip(prefixes, values.tolist())).encode("utf-8")


EDGES = [0.0, -0.0, 1.0, 0.5, 1e-4, 1e-5, 9.999995e-5, 9.9999949e-5, 0.0999999, 0.09999995,
         999999.5, 999999.4, 123456.5, 1e6, 1e-15, 1e-16, 1e-100, 9.999995e-100, 1e-290,
         1e-291, 0.1234565, 0.12345650000000001, 5e-324, 2.2250738585072014e-308,
         1.7976931348623157e308, np.nan, np.inf, -np.inf, -1.5, -1e-300, 0.3, 0.1 + 0.2,
         100000.0, 123456.0, 10.5, 1.000005, 1.0000050000000001]


def test_edges_powers_of_ten_and_their_neighbours_match_python():
    p10 = 10.0 ** np.arange(-300, 10)
    vals = np.concatenate([EDGES, p10, np.nextafter(p10, 0), np.nextafter(p10, np.inf)])
    vals = np.resize(vals, (len(vals) + 6) // 7 * 7).reshape(-1, 7)
    prefixes = [f"{i}\tdoc {i}\t" for i in range(vals.shape[0])]
    assert format_rows(prefixes, vals) == _expected(prefixes, vals)


@pytest.mark.parametrize("seed", range(3))
def test_random_values_over_every_magnitude_and_rounding_ties_match_python(seed):
    rng = np.random.default_rng(seed)
    vals = np.concatenate([
        rng.dirichlet(np.full(20, 0.1), size=500).ravel(),        # theta-like
        10.0 ** rng.uniform(-310, 10, 20000),                     # every magnitude
        np.round(rng.random(5000), 7), np.round(rng.random(5000), 6) + 5e-7,   # near ties
        rng.standard_normal(2000)])
    vals = np.resize(vals, (len(vals) + 9) // 10 * 10).reshape(-1, 10)
    prefixes = [f"{i}\t\t" for i in range(vals.shape[0])]
    assert format_rows(prefixes, vals) == _expected(prefixes, vals)


def test_write_rows_in_chunks_with_unicode_prefixes_and_one_column():
    theta = np.random.default_rng(0).dirichlet(np.ones(3), size=10)
    prefixes = [f"{i}\tdöc-{i}\t" for i in range(10)]
    f = io.BytesIO()
    write_rows(f, prefixes, theta, rows_per_chunk=3)
    assert f.getvalue() == _expected(prefixes, theta)
    f = io.BytesIO()
    write_rows(f, ["a\t", "b\t"], np.array([[1.0], [0.25]]))
    assert f.getvalue() == b"a\t1\nb\t0.25\n"
    with pytest.raises(ValueError, match="one prefix per row"):
        write_rows(io.BytesIO(), ["a\t"], theta)
