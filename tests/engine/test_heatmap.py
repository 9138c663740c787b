"""Heatmap cells: aggregation modes by hand, colours, tiles on pixels, axes."""

from __future__ import annotations

import numpy as np
import pytest

from ggrs.compose.layout import y_pixel
from ggrs.errors import DataError, UsageError
from ggrs.heatmap import (
    AGGREGATIONS,
    cell_categories,
    cell_colours,
    cell_values,
    heatmap_axes,
    pixel_cells,
    tile_raster,
)
from ggrs.shade import Categorical, Constant, Continuous

NAN = np.nan

# A 2 × 3 grid; rows in table order as (row code, column code, value).
TABLE = [
    (0, 0, 1.0),
    (0, 0, 5.0),
    (1, 1, 7.0),
    (0, 0, 2.0),
    (1, 2, 4.0),
    (0, 1, NAN),
    (1, 2, 8.0),
    (1, 1, -1.0),
    (0, 1, 3.0),
    (1, 0, NAN),
    (1, 1, 0.0),
    (0, 0, 10.0),
    (1, 2, np.inf),
]
RI = np.array([t[0] for t in TABLE], dtype=np.int8)
CI = np.array([t[1] for t in TABLE], dtype=np.int16)
VALUES = np.array([t[2] for t in TABLE])

# Per cell, the finite values in table order (NaN and inf are missing):
# (0,0) 1 5 2 10 · (0,1) 3 · (0,2) none · (1,0) none · (1,1) 7 -1 0 · (1,2) 4 8
EXPECTED = {
    "last": [[10.0, 3.0, NAN], [NAN, 0.0, 8.0]],
    "first": [[1.0, 3.0, NAN], [NAN, 7.0, 4.0]],
    "mean": [[4.5, 3.0, NAN], [NAN, 2.0, 6.0]],
    "median": [[3.5, 3.0, NAN], [NAN, 0.0, 6.0]],
}


@pytest.mark.parametrize("how", AGGREGATIONS)
def test_cell_values_by_hand(how):
    got = cell_values(VALUES, RI, CI, 2, 3, how)
    assert got.dtype == np.float64
    assert got.shape == (2, 3)
    np.testing.assert_array_equal(got, np.array(EXPECTED[how]))


def test_default_is_last():
    np.testing.assert_array_equal(cell_values(VALUES, RI, CI, 2, 3), np.array(EXPECTED["last"]))


def test_median_of_at_most_two_values_per_cell():
    # The sort-free path: medians of 1 and 2 values.
    got = cell_values(
        np.array([1.0, 5.0, 2.0]), np.array([0, 1, 0]), np.array([0, 0, 0]), 2, 1, "median"
    )
    assert got.tolist() == [[1.5], [5.0]]


def test_median_against_numpy():
    rng = np.random.default_rng(7)
    n, r, c = 400, 4, 5
    ri, ci = rng.integers(0, r, n), rng.integers(0, c, n)
    v = rng.normal(size=n).round(1)  # many ties
    v[::17] = np.nan
    got = cell_values(v, ri, ci, r, c, "median")
    for i in range(r):
        for j in range(c):
            cell = v[(ri == i) & (ci == j)]
            want = np.median(cell[np.isfinite(cell)])
            assert got[i, j] == want


def test_values_may_be_integers_and_empty():
    got = cell_values(np.array([3, 4]), np.array([0, 0]), np.array([1, 1]), 1, 2, "mean")
    np.testing.assert_array_equal(got, [[NAN, 3.5]])
    empty = cell_values(np.zeros(0), np.zeros(0, int), np.zeros(0, int), 2, 2, "median")
    assert np.isnan(empty).all()


def test_categories_last_first_and_most_frequent():
    codes = np.array([2, 1, 2, 0, 1, 0, 3, 0], dtype=np.int8)
    ri = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    ci = np.array([0, 0, 0, 1, 0, 0, 0, 0])
    # (0,0): 2 1 2 · (0,1): 0 · (1,0): 1 0 3 0 · (1,1): none
    assert cell_categories(codes, ri, ci, 2, 2, "last").tolist() == [[2, 0], [0, -1]]
    assert cell_categories(codes, ri, ci, 2, 2, "first").tolist() == [[2, 0], [1, -1]]
    for how in ("mean", "median"):
        got = cell_categories(codes, ri, ci, 2, 2, how, n_categories=4)
        assert got.tolist() == [[2, 0], [0, -1]]
    # A tie (1 once, 0 once) goes to the lower code.
    tie = cell_categories(np.array([1, 0]), np.array([0, 0]), np.array([0, 0]), 1, 1, "mean")
    assert tie.tolist() == [[0]]


def test_cell_colours():
    lut = np.array([[0, 0, 0], [100, 100, 100], [200, 200, 200]], dtype=np.uint8)
    values = np.array([[0.0, 1.0, 2.0, NAN, -5.0, 0.9]])
    rgba = cell_colours(values, Continuous(lut, (0.0, 2.0)))
    assert rgba.dtype == np.uint8
    assert rgba[0, :, 0].tolist() == [0, 100, 200, 0, 0, 100]
    assert rgba[0, :, 3].tolist() == [255, 255, 255, 0, 255, 255]
    codes = np.array([[1, -1], [0, 1]])
    rgba = cell_colours(codes, Categorical(((255, 0, 0), (0, 0, 255))))
    assert rgba.tolist() == [[[0, 0, 255, 255], [0, 0, 0, 0]], [[255, 0, 0, 255], [0, 0, 255, 255]]]
    rgba = cell_colours(np.array([[1.0, NAN]]), Constant((1, 2, 3)))
    assert rgba.tolist() == [[[1, 2, 3, 255], [0, 0, 0, 0]]]


@pytest.mark.parametrize(
    ("n_cells", "n_pixels", "want"),
    [
        (3, 10, [0, 0, 0, 1, 1, 1, 1, 2, 2, 2]),  # boundaries 10/3 → 3, 20/3 → 7
        (2, 4, [0, 0, 1, 1]),
        (4, 6, [0, 1, 1, 2, 3, 3]),  # boundaries 1.5 → 1 (halves down), 3, 4.5 → 4
        (5, 3, [0, 2, 4]),  # more cells than pixels: the cell under each centre
        (1, 3, [0, 0, 0]),
    ],
)
def test_pixel_cells(n_cells, n_pixels, want):
    assert pixel_cells(n_cells, n_pixels).tolist() == want


def test_tile_raster():
    cells = np.zeros((2, 3, 4), dtype=np.uint8)
    cells[..., 0] = [[1, 2, 3], [4, 5, 6]]
    cells[..., 3] = 255
    out = tile_raster(cells, 10, 3)
    assert out.shape == (3, 10, 4)
    assert out.dtype == np.uint8
    # Rows: pixel centres 0.5, 1.5, 2.5 of 3 → cells 0, 1, 1 (1.5 · 2/3 = 1).
    assert out[..., 0].tolist() == [
        [1, 1, 1, 2, 2, 2, 2, 3, 3, 3],
        [4, 4, 4, 5, 5, 5, 5, 6, 6, 6],
        [4, 4, 4, 5, 5, 5, 5, 6, 6, 6],
    ]
    assert (out[..., 3] == 255).all()
    big = np.arange(4 * 100 * 100, dtype=np.uint32).view(np.uint8).reshape(100, 100, 16)
    small = tile_raster(big[..., :4].copy(), 7, 5)
    np.testing.assert_array_equal(small, big[..., :4][pixel_cells(100, 5)][:, pixel_cells(100, 7)])


def test_heatmap_axes_first_row_on_top():
    x, y = heatmap_axes(["r0", "r1", "r2"], ["a", "b"])
    assert x.categorical and y.categorical
    assert x.limits == (0.0, 2.0)
    assert x.breaks == (0.5, 1.5)
    assert x.labels == ("a", "b")
    assert y.limits == (0.0, 3.0)
    assert y.breaks == (0.5, 1.5, 2.5)
    assert y.labels == ("r2", "r1", "r0")
    # On a panel from pixel row 0 to 300, "r0" sits in the top third.
    box = (0, 0, 100, 300)
    pos = {
        lab: y_pixel(box, float(u)) for lab, u in zip(y.labels, y.to_unit(y.breaks), strict=True)
    }
    assert pos == {"r0": 50.0, "r1": 150.0, "r2": 250.0}


def test_bad_input():
    ri, ci = np.array([0]), np.array([0])
    with pytest.raises(
        UsageError,
        match=r"heatmap\.cell\.aggregation must be one of last, first, mean, median; got 'max'",
    ):
        cell_values(np.array([1.0]), ri, ci, 1, 1, "max")
    with pytest.raises(UsageError, match=r"heatmap\.cell\.aggregation"):
        cell_categories(np.array([0]), ri, ci, 1, 1, "sum")
    with pytest.raises(DataError, match=r"column codes span 2\.\.2 but must lie in 0\.\.1"):
        cell_values(np.array([1.0]), ri, np.array([2]), 1, 2)
    with pytest.raises(DataError, match=r"row codes span -1\.\.-1"):
        cell_values(np.array([1.0]), np.array([-1]), ci, 1, 1)
    with pytest.raises(DataError, match="row codes has 2 entries but the values have 1"):
        cell_values(np.array([1.0]), np.array([0, 0]), ci, 1, 1)
    with pytest.raises(DataError, match="must be 1-D integer codes"):
        cell_values(np.array([1.0]), np.array([0.0]), ci, 1, 1)
    with pytest.raises(DataError, match=r"heatmap cell values are missing \(None\)"):
        cell_values(None, ri, ci, 1, 1)
    with pytest.raises(DataError, match="heatmap values must be a 1-D numeric array"):
        cell_values(np.array(["x"]), ri, ci, 1, 1)
    with pytest.raises(UsageError, match="heatmap n_rows must be a positive integer; got 0"):
        cell_values(np.array([1.0]), ri, ci, 0, 1)
    with pytest.raises(DataError, match=r"category codes span 3\.\.3 but must lie in 0\.\.1"):
        cell_categories(np.array([3]), ri, ci, 1, 1, n_categories=2)
    with pytest.raises(UsageError, match="n_categories"):
        cell_categories(np.array([0]), ri, ci, 1, 1, n_categories=-1)
    with pytest.raises(UsageError, match=r"\(rows, columns, 4\) uint8"):
        tile_raster(np.zeros((2, 2, 3), dtype=np.uint8), 4, 4)
    with pytest.raises(UsageError, match=r"\(rows, columns, 4\) uint8"):
        tile_raster(np.zeros((2, 2, 4), dtype=np.float64), 4, 4)
    with pytest.raises(UsageError, match="heatmap width must be a positive integer"):
        tile_raster(np.zeros((2, 2, 4), dtype=np.uint8), 0, 4)
    with pytest.raises(UsageError, match="at least one row label"):
        heatmap_axes([], ["a"])
    with pytest.raises(UsageError, match="category 2 has no colour: 2 colours given"):
        cell_colours(np.array([[2]]), Categorical(((0, 0, 0), (1, 1, 1))))
    with pytest.raises(UsageError, match="need float cell values"):
        cell_colours(np.array([[2]]), Constant((0, 0, 0)))
    with pytest.raises(UsageError, match="finite and increasing"):
        cell_colours(np.array([[2.0]]), Continuous(np.zeros((2, 3), np.uint8), (1.0, 1.0)))


@pytest.mark.parametrize("how", AGGREGATIONS)
def test_rows_left_out_by_ok(how):
    # Leaving out the last (0,0) row (10.0) and the only (0,1) value (3.0).
    ok = np.ones(len(VALUES), dtype=bool)
    ok[[8, 11]] = False
    got = cell_values(VALUES, RI, CI, 2, 3, how, ok=ok)
    want = np.array(EXPECTED[how])
    want[0, 0] = {"last": 2.0, "first": 1.0, "mean": 8.0 / 3.0, "median": 2.0}[how]
    want[0, 1] = NAN
    np.testing.assert_array_equal(got, want)
    # A zero-stride all-True mask (as pipeline.prepare makes) changes nothing.
    every = np.broadcast_to(np.True_, VALUES.shape)
    np.testing.assert_array_equal(cell_values(VALUES, RI, CI, 2, 3, how, ok=every), EXPECTED[how])
    none = np.broadcast_to(np.False_, VALUES.shape)
    assert np.isnan(cell_values(VALUES, RI, CI, 2, 3, how, ok=none)).all()


def test_categories_with_ok():
    codes = np.array([2, 1, 2, 1])
    ri, ci = np.zeros(4, int), np.zeros(4, int)
    ok = np.array([True, True, True, False])
    assert cell_categories(codes, ri, ci, 1, 1, "last", ok=ok).tolist() == [[2]]
    assert cell_categories(codes, ri, ci, 1, 1, "mean", ok=~ok).tolist() == [[1]]
    assert cell_categories(codes, ri, ci, 1, 1, "first", ok=~ok).tolist() == [[1]]
    with pytest.raises(DataError, match="row mask must be 4 booleans"):
        cell_categories(codes, ri, ci, 1, 1, ok=np.ones(3, bool))
    with pytest.raises(DataError, match="row mask must be 4 booleans"):
        cell_values(codes, ri, ci, 1, 1, ok=np.ones(4))
