"""Facet panel codes computed per block: the same codes and grids as a stored column."""

from __future__ import annotations

import numpy as np
import pytest

from ggrs.aggregate import Canvas, Points, aggregate, available_backends
from ggrs.aggregate.facets import FacetCodes
from ggrs.errors import DataError


def facet_codes(n: int = 1000, n_rows: int = 3, n_cols: int = 4, seed: int = 0) -> FacetCodes:
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, n_rows, n).astype(np.int8)
    cols = rng.integers(0, n_cols, n).astype(np.int8)
    return FacetCodes(rows, cols, n_cols)


def test_slices_arrays_and_selections_are_the_stored_codes():
    codes = facet_codes()
    stored = codes.rows.astype(np.int64) * 4 + codes.cols
    np.testing.assert_array_equal(codes[10:20], stored[10:20])
    np.testing.assert_array_equal(np.asarray(codes), stored)
    pick = np.array([5, 1, 999])
    picked = codes[pick]
    assert isinstance(picked, FacetCodes)
    np.testing.assert_array_equal(np.asarray(picked), stored[pick])
    assert len(codes) == 1000 and codes.ndim == 1
    assert codes[7] == int(stored[7]) and list(codes[pick]) == stored[pick].tolist()
    assert codes.bounds() == (int(stored.min()), int(stored.max()))


def test_the_code_type_holds_every_panel():
    # 200 rows × 200 columns of int8 facets: codes up to 39,999 need int32.
    codes = FacetCodes(np.array([127], np.int8), np.array([127], np.int8), 200)
    assert codes[:].tolist() == [127 * 200 + 127]
    assert codes.dtype == np.int32


def test_bad_codes_are_refused():
    with pytest.raises(DataError, match=r"column codes span 0\.\.4 but must lie in 0\.\.3"):
        FacetCodes(np.zeros(2, np.int8), np.array([0, 4], np.int8), 4).bounds()
    with pytest.raises(DataError, match="differ in length"):
        FacetCodes(np.zeros(2, np.int8), np.zeros(3, np.int8), 4)
    with pytest.raises(DataError, match="1-D integers"):
        FacetCodes(np.zeros(2), np.zeros(2, np.int8), 4)


BACKENDS = [b for b in ("numpy", "native", "numba") if b in available_backends()]


@pytest.mark.parametrize("backend", BACKENDS)
def test_aggregation_from_facet_codes_equals_a_stored_column(backend):
    rng = np.random.default_rng(3)
    n = 50_000
    codes = facet_codes(n, seed=1)
    x, y = rng.normal(size=n), rng.normal(size=n)
    category = rng.integers(0, 5, n).astype(np.int8)
    ranges = np.tile([-3.0, 3.0], (12, 1))
    free = np.c_[np.full(12, -2.5), np.linspace(0.5, 3.0, 12)]  # y free per panel
    canvas = Canvas(width=40, height=30, x_ranges=ranges, y_ranges=free)
    lazy = aggregate(Points(x, y, panel=codes, category=category), canvas, backend)
    stored = aggregate(Points(x, y, panel=np.asarray(codes), category=category), canvas, backend)
    np.testing.assert_array_equal(lazy.count, stored.count)
    assert lazy.dropped == stored.dropped
    reference = aggregate(Points(x, y, panel=codes, category=category), canvas, "numpy")
    np.testing.assert_array_equal(lazy.count, reference.count)
    assert 0 < lazy.dropped == reference.dropped


def test_out_of_range_facets_stop_aggregation():
    codes = FacetCodes(np.array([0, 3], np.int8), np.array([0, 1], np.int8), 2)  # panel 7
    canvas = Canvas(width=4, height=4, x_ranges=[(0.0, 1.0)] * 4, y_ranges=[(0.0, 1.0)] * 4)
    with pytest.raises(DataError, match=r"panel codes span 0\.\.7 but must lie in 0\.\.3"):
        aggregate(Points(np.zeros(2), np.zeros(2), panel=codes), canvas)
