"""Rectangle coverage grids: hand examples and a pixel-by-pixel reference."""

from __future__ import annotations

import numpy as np
import pytest

from ggrs.aggregate import Canvas, Rects, aggregate_rects
from ggrs.errors import DataError, UsageError


def reference(rects: Rects, canvas: Canvas) -> tuple[np.ndarray, np.ndarray | None]:
    """Count per pixel the rectangles whose [low, high) contains the pixel centre, loop by loop."""
    p_n, k = canvas.n_panels, rects.n_categories
    count = np.zeros((p_n, max(k, 1), canvas.height, canvas.width), dtype=np.int64)
    value = np.zeros((p_n, canvas.height, canvas.width))
    for i in range(len(rects)):
        edges = [float(getattr(rects, n)[i]) for n in ("x0", "x1", "y0", "y1")]
        v = None if rects.value is None else float(rects.value[i])
        if not all(np.isfinite(edges)) or (v is not None and not np.isfinite(v)):
            continue
        p = 0 if rects.panel is None else int(rects.panel[i])
        c = 0 if rects.category is None else int(rects.category[i])
        (xlo, xhi), (ylo, yhi) = canvas.x_ranges[p], canvas.y_ranges[p]
        xw, yw = (xhi - xlo) / canvas.width, (yhi - ylo) / canvas.height
        a, b = sorted(edges[:2])
        lo, hi = sorted(edges[2:])
        for row in range(canvas.height):
            cy = ylo + (canvas.height - 1 - row + 0.5) * yw
            if not lo <= cy < hi:
                continue
            for col in range(canvas.width):
                cx = xlo + (col + 0.5) * xw
                if a <= cx < b:
                    count[p, c, row, col] += 1
                    if v is not None:
                        value[p, row, col] += v
    count = count if k else count[:, 0]
    return count, (value if rects.value is not None else None)


def rects1(x0, x1, y0, y1, **kw) -> Rects:
    return Rects(*(np.array(v, dtype=np.float64) for v in (x0, x1, y0, y1)), **kw)


def test_one_rect_by_hand():
    # Range (0, 4) over 4 pixels: centres at 0.5, 1.5, 2.5, 3.5.
    grids = aggregate_rects(rects1([1.0], [3.0], [0.0], [1.6]), Canvas(4, 4, (0, 4), (0, 4)))
    assert grids.count.dtype == np.uint32
    # x covers centres 1.5 and 2.5; y covers 0.5 and 1.5 (the two bottom rows).
    assert grids.count.tolist() == [
        [[0, 0, 0, 0], [0, 0, 0, 0], [0, 1, 1, 0], [0, 1, 1, 0]],
    ]
    assert grids.value_sum is None
    assert grids.dropped == 0


def test_shared_edges_are_counted_once_and_order_of_edges_is_free():
    # Two tiles meeting at x = 2 (a pixel edge) and a bar going down (y0 > y1).
    r = rects1([0.0, 4.0], [2.0, 2.0], [0.0, 4.0], [4.0, 0.0])
    grids = aggregate_rects(r, Canvas(4, 1, (0, 4), (0, 4)))
    assert grids.count.tolist() == [[[1, 1, 1, 1]]]


def test_lower_edge_on_a_centre_is_in_upper_is_out():
    # [0.5, 2.5): centre 0.5 in, 2.5 out.
    grids = aggregate_rects(rects1([0.5], [2.5], [0], [1]), Canvas(4, 1, (0, 4), (0, 1)))
    assert grids.count.tolist() == [[[1, 1, 0, 0]]]


def test_thin_outside_and_non_finite_rects_are_dropped():
    r = rects1(
        [1.1, 5.0, np.nan, 0.0, 0.0],
        [1.4, 6.0, 1.0, np.inf, 4.0],
        [0.0, 0.0, 0.0, 0.0, 0.0],
        [1.0, 1.0, 1.0, 1.0, 1.0],
    )
    grids = aggregate_rects(r, Canvas(4, 1, (0, 4), (0, 1)))
    # Only the last rect covers anything: the thin one misses every pixel centre.
    assert grids.count.tolist() == [[[1, 1, 1, 1]]]
    assert grids.dropped == 4


def test_rect_beyond_the_panel_is_clipped():
    grids = aggregate_rects(rects1([-10.0], [1.0], [-5.0], [50.0]), Canvas(3, 2, (0, 3), (0, 2)))
    assert grids.count.tolist() == [[[1, 0, 0], [1, 0, 0]]]
    assert grids.dropped == 0


def test_panels_categories_and_free_ranges():
    r = rects1(
        [0.0, 0.0, 10.0],
        [1.0, 2.0, 20.0],
        [0.0, 0.0, 0.0],
        [2.0, 1.0, 1.0],
        panel=np.array([0, 0, 1]),
        category=np.array([1, 0, 1]),
        n_categories=2,
    )
    canvas = Canvas(2, 2, [(0, 2), (10, 30)], [(0, 2), (0, 2)])
    grids = aggregate_rects(r, canvas)
    assert grids.count.shape == (2, 2, 2, 2)
    assert grids.count[0, 0].tolist() == [[0, 0], [1, 1]]
    assert grids.count[0, 1].tolist() == [[1, 0], [1, 0]]
    assert grids.count[1, 0].tolist() == [[0, 0], [0, 0]]
    assert grids.count[1, 1].tolist() == [[0, 0], [1, 0]]


def test_value_sums():
    r = rects1([0.0, 1.0], [2.0, 2.0], [0.0, 0.0], [1.0, 1.0], value=np.array([2.5, 4.0]))
    grids = aggregate_rects(r, Canvas(2, 1, (0, 2), (0, 1)))
    assert grids.count.tolist() == [[[1, 2]]]
    assert grids.value_sum.tolist() == [[[2.5, 6.5]]]


@pytest.mark.parametrize("seed", [0, 1])
def test_random_rects_against_reference(seed):
    rng = np.random.default_rng(seed)
    n = 60
    x = rng.uniform(-2, 12, (2, n))
    y = rng.uniform(-1, 7, (2, n))
    x[0, :5] = np.nan  # some non-finite rects
    panel = rng.integers(0, 3, n)
    canvas = Canvas(13, 7, [(0, 10), (-1, 3), (2, 12)], [(0, 6), (-1, 7), (1, 2)])
    r = Rects(x[0], x[1], y[0], y[1], panel=panel, category=rng.integers(0, 3, n))
    got = aggregate_rects(r, canvas)
    want, _ = reference(r, canvas)
    np.testing.assert_array_equal(got.count, want)
    assert got.count.sum() > 100  # the test covers real overlaps
    rv = Rects(x[0], x[1], y[0], y[1], panel=panel, value=rng.uniform(-1, 1, n))
    got_v = aggregate_rects(rv, canvas)
    want_count, want_value = reference(rv, canvas)
    np.testing.assert_array_equal(got_v.count, want_count)
    np.testing.assert_allclose(got_v.value_sum, want_value, atol=1e-12)


def test_dropped_count_matches_reference():
    rng = np.random.default_rng(3)
    x0, y0 = rng.uniform(0, 8, 40), rng.uniform(0, 8, 40)
    r = Rects(x0, x0 + rng.uniform(0, 1.5, 40), y0, y0 + rng.uniform(0, 1.5, 40))
    canvas = Canvas(8, 8, (0, 8), (0, 8))
    got = aggregate_rects(r, canvas)
    # A rect is dropped exactly when it covers no pixel: check one by one.
    one = [
        Rects(r.x0[i : i + 1], r.x1[i : i + 1], r.y0[i : i + 1], r.y1[i : i + 1]) for i in range(40)
    ]
    empty = sum(1 for single in one if not reference(single, canvas)[0].any())
    assert 0 < empty < len(r)
    assert got.dropped == empty


def test_bad_input():
    canvas = Canvas(2, 2, [(0, 1), (0, 1)], (0, 1))
    with pytest.raises(DataError, match=r"panel codes span 2\.\.2 but must lie in 0\.\.1"):
        aggregate_rects(rects1([0], [1], [0], [1], panel=np.array([2])), canvas)
    with pytest.raises(DataError, match="no panel codes"):
        aggregate_rects(rects1([0], [1], [0], [1]), canvas)
    with pytest.raises(DataError, match=r"category codes span 3\.\.3 but must lie in 0\.\.1"):
        aggregate_rects(
            rects1([0], [1], [0], [1], panel=np.array([0]), category=np.array([3]), n_categories=2),
            canvas,
        )
    with pytest.raises(DataError, match="differ in length"):
        rects1([0, 1], [1], [0], [1])
    with pytest.raises(DataError, match="dtype int64"):
        Rects(np.array([0]), np.array([1.0]), np.array([0.0]), np.array([1.0]))
    with pytest.raises(UsageError, match="both a category and a value"):
        rects1([0], [1], [0], [1], category=np.array([0]), value=np.array([1.0]))
    with pytest.raises(UsageError, match="n_categories"):
        rects1([0], [1], [0], [1], category=np.array([0]), n_categories=-1)


def test_keep_thin_gives_sub_pixel_rects_the_pixel_under_their_midpoint():
    canvas = Canvas(4, 2, (0, 4), (0, 2))
    r = rects1(
        [1.1, 2.6, -3.0, 3.0, 5.0, 1.0],
        [1.4, 2.9, 0.2, 3.0, 6.0, 2.0],
        [0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
        [2.0, 0.3, 2.0, 2.0, 2.0, 0.0],
    )
    # thin in x; thin in x and y; overlaps the left edge; zero width; outside;
    # zero height.
    plain = aggregate_rects(r, canvas)
    assert plain.count.sum() == 0
    assert plain.dropped == 6
    kept = aggregate_rects(r, canvas, keep_thin=True)
    assert kept.count.tolist() == [[[1, 1, 0, 0], [1, 1, 1, 0]]]
    assert kept.dropped == 3
    # Rects that already cover a pixel centre are unchanged.
    wide = rects1([0.0], [2.0], [0.0], [2.0])
    np.testing.assert_array_equal(
        aggregate_rects(wide, canvas, keep_thin=True).count, aggregate_rects(wide, canvas).count
    )


def test_a_thin_rect_takes_the_pixel_under_its_midpoint_not_its_left_edge():
    canvas = Canvas(4, 2, (0, 4), (0, 2))
    # [1.6, 2.4) covers no pixel centre (1.5, 2.5); its midpoint 2.0 is in pixel 2.
    kept = aggregate_rects(rects1([1.6], [2.4], [0.0], [2.0]), canvas, keep_thin=True)
    assert kept.count.tolist() == [[[0, 0, 1, 0], [0, 0, 1, 0]]]


def test_a_nan_value_drops_its_rect_and_leaves_the_sums_alone():
    canvas = Canvas(2, 1, (0, 2), (0, 1))
    r = rects1([0.0, 0.0], [2.0, 1.0], [0.0, 0.0], [1.0, 1.0], value=np.array([np.nan, 0.3]))
    grids = aggregate_rects(r, canvas)
    assert grids.dropped == 1
    assert grids.count.tolist() == [[[1, 0]]]
    assert grids.value_sum.tolist() == [[[0.3, 0.0]]]
