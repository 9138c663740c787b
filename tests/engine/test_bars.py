"""Bar rectangles: width from the x resolution, baselines, dodge; and their ranges."""

from __future__ import annotations

import numpy as np
import pytest

from ggrs.aggregate import Canvas, aggregate_rects
from ggrs.bars import bar_limits, bar_rects
from ggrs.errors import DataError, UsageError


def edges(rects) -> list[tuple[float, float, float, float]]:
    return [
        (float(a), float(b), float(c), float(d))
        for a, b, c, d in zip(rects.x0, rects.x1, rects.y0, rects.y1, strict=True)
    ]


def test_single_bars_width_from_smallest_gap_and_baseline_zero():
    # Distinct x 1, 2, 4: resolution 1, width 0.5 (exact in binary).
    r = bar_rects(np.array([1.0, 2.0, 4.0]), np.array([3.0, -2.0, 5.0]), width=0.5)
    assert edges(r) == [
        (0.75, 1.25, 0.0, 3.0),
        (1.75, 2.25, 0.0, -2.0),  # negative bar: from 0 down to -2
        (3.75, 4.25, 0.0, 5.0),
    ]
    assert r.panel is None
    assert r.category is None


def test_baseline_y0_and_one_distinct_x_has_resolution_one():
    r = bar_rects(np.array([3.0, 3.0]), np.array([5.0, 1.0]), y0=np.array([2.0, 4.0]), width=0.5)
    assert edges(r) == [(2.75, 3.25, 2.0, 5.0), (2.75, 3.25, 4.0, 1.0)]


def test_default_width_is_ggplot2s_0_9():
    r = bar_rects(np.array([0.0, 2.0]), np.array([1.0, 1.0]))
    np.testing.assert_allclose(r.x0, [-0.9, 1.1])
    np.testing.assert_allclose(r.x1, [0.9, 2.9])


def test_resolution_per_panel():
    x = np.array([0.0, 1.0, 0.0, 4.0, 8.0])
    r = bar_rects(x, np.ones(5), panel=np.array([0, 0, 1, 1, 1]), width=0.5)
    assert r.x0.tolist() == [-0.25, 0.75, -1.0, 3.0, 7.0]
    assert r.x1.tolist() == [0.25, 1.25, 1.0, 5.0, 9.0]
    assert r.panel.tolist() == [0, 0, 1, 1, 1]


def test_dodge_two_categories_one_missing_at_some_x():
    # x = 1: categories 0 and 1 share the slot [0.5, 1.5]; x = 2: only category 1.
    x = np.array([1.0, 1.0, 2.0])
    r = bar_rects(x, np.array([2.0, 3.0, 4.0]), category=np.array([1, 0, 1]), width=1.0)
    assert edges(r) == [(1.0, 1.5, 0.0, 2.0), (0.5, 1.0, 0.0, 3.0), (1.5, 2.5, 0.0, 4.0)]
    assert r.category.tolist() == [1, 0, 1]
    assert r.n_categories == 2


def test_dodge_three_categories_in_category_order():
    # x = 0: all three categories; x = 4: categories 0 and 2. Width 0.75 × 4 = 3.
    x = np.array([0.0, 0.0, 0.0, 4.0, 4.0])
    cat = np.array([2, 0, 1, 2, 0])
    r = bar_rects(x, np.arange(1.0, 6.0), category=cat, n_categories=3, width=0.75)
    assert r.x0.tolist() == [0.5, -1.5, -0.5, 4.0, 2.5]
    assert r.x1.tolist() == [1.5, -0.5, 0.5, 5.5, 4.0]
    assert r.n_categories == 3


def test_same_category_twice_at_one_x_shares_its_sub_slot():
    x = np.array([0.0, 0.0, 0.0])
    r = bar_rects(x, np.array([1.0, 2.0, 3.0]), category=np.array([0, 0, 1]), width=1.0)
    assert r.x0.tolist() == [-0.5, -0.5, 0.0]
    assert r.x1.tolist() == [0.0, 0.0, 0.5]


def test_non_finite_rows_are_dropped_with_their_codes():
    x = np.array([0.0, np.nan, 1.0, 2.0])
    y = np.array([1.0, 1.0, np.inf, 2.0])
    y0 = np.array([0.0, 0.0, 0.0, np.nan])
    r = bar_rects(x, y, y0=None, panel=np.array([0, 1, 1, 1]), width=0.5)
    assert r.panel.tolist() == [0, 1]
    assert edges(r) == [(-0.25, 0.25, 0.0, 1.0), (1.75, 2.25, 0.0, 2.0)]
    r = bar_rects(x, y, y0=y0, width=0.5)
    assert edges(r) == [(-0.25, 0.25, 0.0, 1.0)]
    empty = bar_rects(np.array([np.nan]), np.array([1.0]))
    assert len(empty) == 0


def test_bars_aggregate_onto_pixels():
    # Two dodged bars at x = 1 over 8 pixels of (0, 2): each half-slot is 2 pixels.
    r = bar_rects(np.array([1.0, 1.0]), np.array([1.0, 0.5]), category=np.array([0, 1]), width=1.0)
    grids = aggregate_rects(r, Canvas(8, 2, (0, 2), (0, 1)))
    assert grids.count[0, 0].tolist() == [[0, 0, 1, 1, 0, 0, 0, 0], [0, 0, 1, 1, 0, 0, 0, 0]]
    assert grids.count[0, 1].tolist() == [[0, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 1, 1, 0, 0]]


def test_limits_cover_full_width_and_baseline():
    r = bar_rects(
        np.array([1.0, 2.0, 10.0]),
        np.array([3.0, -2.0, 5.0]),
        y0=np.array([1.0, 0.0, 2.0]),
        panel=np.array([0, 0, 2]),
        width=0.5,
    )
    x_ranges, y_ranges = bar_limits(r, 3)
    assert x_ranges[0].tolist() == [0.75, 2.25]
    assert y_ranges[0].tolist() == [-2.0, 3.0]
    assert np.isnan(x_ranges[1]).all() and np.isnan(y_ranges[1]).all()
    assert x_ranges[2].tolist() == [9.75, 10.25]
    assert y_ranges[2].tolist() == [2.0, 5.0]  # baseline 2 is the low end
    x1, y1 = bar_limits(bar_rects(np.array([0.0]), np.array([4.0]), width=0.5), 1)
    assert x1.tolist() == [[-0.25, 0.25]]
    assert y1.tolist() == [[0.0, 4.0]]  # default baseline 0 included


def test_bad_input():
    one = np.array([1.0])
    with pytest.raises(UsageError, match="bar width must be a positive number"):
        bar_rects(one, one, width=0.0)
    with pytest.raises(UsageError, match="bar width"):
        bar_rects(one, one, width=float("nan"))
    with pytest.raises(DataError, match="'y' has 2 values but x has 1"):
        bar_rects(one, np.array([1.0, 2.0]))
    with pytest.raises(DataError, match="'x' must be a 1-D numeric array; got dtype <U1"):
        bar_rects(np.array(["a"]), one)
    with pytest.raises(DataError, match="'category' has negative codes"):
        bar_rects(one, one, category=np.array([-1]))
    with pytest.raises(DataError, match="'panel' must be 1-D integer codes"):
        bar_rects(one, one, panel=np.array([0.5]))
    with pytest.raises(DataError, match="no panel codes"):
        bar_limits(bar_rects(one, one), 2)
    with pytest.raises(DataError, match="must lie in 0"):
        bar_limits(bar_rects(one, one, panel=np.array([3])), 2)
    with pytest.raises(UsageError, match="n_panels must be a positive integer"):
        bar_limits(bar_rects(one, one), 0)


def test_dodge_is_per_panel():
    # The same x in two panels: two categories in panel 0, one in panel 1.
    r = bar_rects(
        np.array([0.0, 0.0, 0.0]),
        np.ones(3),
        panel=np.array([0, 1, 0]),
        category=np.array([0, 1, 1]),
        width=1.0,
    )
    assert r.x0.tolist() == [-0.5, -0.5, 0.0]
    assert r.x1.tolist() == [0.0, 0.5, 0.5]


def test_random_bars_against_a_plain_reference():
    rng = np.random.default_rng(5)
    n = 300
    x = rng.choice([0.0, 0.5, 1.5, 3.0, 7.0], n)
    panel = rng.integers(0, 3, n)
    panel[panel == 2] = 1  # panel 2 is empty
    x[panel == 1] *= 4.0  # another resolution there
    cat = rng.integers(0, 4, n)
    y, y0 = rng.normal(size=n), rng.normal(size=n)
    r = bar_rects(x, y, y0, panel, cat, 4, width=0.8)
    for i in range(n):
        in_panel = panel == panel[i]
        distinct = np.unique(x[in_panel])
        resolution = np.diff(distinct).min() if len(distinct) > 1 else 1.0
        slot = 0.8 * resolution
        present = sorted(set(cat[in_panel & (x == x[i])].tolist()))
        sub = slot / len(present)
        left = x[i] - slot / 2 + present.index(cat[i]) * sub
        assert (r.x0[i], r.x1[i], r.y0[i], r.y1[i]) == pytest.approx(
            (left, left + sub, y0[i], y[i]), rel=1e-12, abs=1e-12
        )


def test_undodged_bar_edges_are_exactly_x_plus_minus_half_the_slot():
    # As ggplot2 computes them: x ± 0.9 / 2, with no rounding from the dodge arithmetic.
    r = bar_rects(np.array([1.0, 2.0, 3.0]), np.ones(3), category=np.array([0, 1, 2]))
    assert r.x0.tolist() == [1.0 - 0.45, 2.0 - 0.45, 3.0 - 0.45]
    assert r.x1.tolist() == [1.0 + 0.45, 2.0 + 0.45, 3.0 + 0.45]
