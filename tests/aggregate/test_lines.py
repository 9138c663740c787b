"""Line aggregation: hand-drawn paths, ordering, chunk continuity and a plain reference."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from ggrs.aggregate import lines as lines_module
from ggrs.aggregate.canvas import Canvas
from ggrs.aggregate.lines import Lines, aggregate_lines, polyline_keys, polyline_order, thicken
from ggrs.errors import BackendUnavailable, DataError, UsageError

# 8 × 6 pixels of exactly one data unit each: pixel (col, row) covers
# [col, col + 1) × [row, row + 1), row 0 at the bottom in data space.
CANVAS = Canvas(8, 6, (0, 8), (0, 6))


def draw(xs, ys, canvas=CANVAS, **columns):
    """The single-panel count grid of one layer, rows as printed (top first)."""
    grids = aggregate_lines(Lines(np.array(xs, float), np.array(ys, float), **columns), canvas)
    return grids.count[0]


def picture(*rows):
    """A grid from strings of digits, top row first ('.' is 0)."""
    return np.array([[0 if c == "." else int(c) for c in row] for row in rows], dtype=np.uint32)


# --- a plain reference: one polyline, one segment, one pixel at a time -----------------


def _pixel(v, lo, hi, n):
    s = n / (hi - lo)
    return min(math.floor(v * s + (-lo * s)), n - 1)


def _clip(x0, y0, x1, y1, xlo, xhi, ylo, yhi):
    """Liang–Barsky on floats: (x0, y0, x1, y1, cut start, cut end) or None."""
    if (
        (x0 < xlo and x1 < xlo)
        or (x0 > xhi and x1 > xhi)
        or (y0 < ylo and y1 < ylo)
        or (y0 > yhi and y1 > yhi)
    ):
        return None
    dx, dy = x1 - x0, y1 - y0
    t0, t1 = 0.0, 1.0
    for p, q in ((-dx, x0 - xlo), (dx, xhi - x0), (-dy, y0 - ylo), (dy, yhi - y0)):
        if p == 0 and q < 0:
            return None
        if p < 0 and q < 0:
            t0 = max(t0, q / p)
        elif p > 0 and q < p:
            t1 = min(t1, q / p)
    if t0 > t1:
        return None
    sx, sy, ex, ey = x0, y0, x1, y1
    if t0 > 0:
        sx = min(max(x0 + t0 * dx, xlo), xhi)
        sy = min(max(y0 + t0 * dy, ylo), yhi)
    if t1 < 1:
        ex = min(max(x0 + t1 * dx, xlo), xhi)
        ey = min(max(y0 + t1 * dy, ylo), yhi)
    return sx, sy, ex, ey, t0 > 0, t1 < 1


def _bresenham(c0, r0, c1, r1):
    """Every pixel from (c0, r0) to (c1, r1), both ends included: datashader's loop."""
    dx, dy = c1 - c0, r1 - r0
    ix, iy = (dx > 0) - (dx < 0), (dy > 0) - (dy < 0)
    dx, dy = abs(dx) * 2, abs(dy) * 2
    path = [(c0, r0)]
    if dx >= dy:
        error = 2 * dy - dx
        while c0 != c1:
            if error >= 0 and (error or ix > 0):
                error -= 2 * dx
                r0 += iy
            error += 2 * dy
            c0 += ix
            path.append((c0, r0))
    else:
        error = 2 * dx - dy
        while r0 != r1:
            if error >= 0 and (error or iy > 0):
                error -= 2 * dy
                c0 += ix
            error += 2 * dx
            r0 += iy
            path.append((c0, r0))
    return path


def reference(x, y, panel, group, category, value, n_categories, canvas):
    """Counts (and value sums) by the module's rules, written out polyline by polyline.

    Every drawn segment adds all its pixels, both ends included; where a segment
    ends uncut at a vertex and the next one starts there uncut, that vertex is
    taken off once (with the value of the segment that ends there).
    """
    k = max(n_categories, 1)
    h, w = canvas.height, canvas.width
    count = np.zeros((canvas.n_panels * k, h, w), dtype=np.int64)
    sums = np.zeros((canvas.n_panels * k, h, w))
    n = len(x)
    panel = np.zeros(n, int) if panel is None else panel
    group = np.zeros(n, int) if group is None else group
    cat = np.zeros(n, int) if category is None else category
    polylines = {}
    for i in range(n):
        polylines.setdefault((int(panel[i]), int(cat[i]), int(group[i])), []).append(i)
    for (p, c, _), idx in polylines.items():
        # Stable by x, NaN last.
        idx = sorted(idx, key=lambda i: (bool(np.isnan(x[i])), 0.0 if np.isnan(x[i]) else x[i]))
        (xlo, xhi), (ylo, yhi) = canvas.x_ranges[p], canvas.y_ranges[p]
        layer = p * k + c
        segments = []  # (pixels, cut start, cut end, value) or None for no segment
        for a, b in itertools.pairwise(idx):
            ok = all(
                np.isfinite(v)
                for v in (x[a], y[a], x[b], y[b]) + (() if value is None else (value[a], value[b]))
            )
            clipped = (
                _clip(float(x[a]), float(y[a]), float(x[b]), float(y[b]), xlo, xhi, ylo, yhi)
                if ok
                else None
            )
            if clipped is None:
                segments.append(None)
                continue
            sx, sy, ex, ey, cut0, cut1 = clipped
            path = _bresenham(
                _pixel(sx, xlo, xhi, w),
                _pixel(sy, ylo, yhi, h),
                _pixel(ex, xlo, xhi, w),
                _pixel(ey, ylo, yhi, h),
            )
            segments.append((path, cut0, cut1, 0.0 if value is None else float(value[a])))
        for j, seg in enumerate(segments):
            if seg is None:
                continue
            path, _, cut1, v = seg
            for col, row in path:
                count[layer, h - 1 - row, col] += 1
                sums[layer, h - 1 - row, col] += v
            nxt = segments[j + 1] if j + 1 < len(segments) else None
            if not cut1 and nxt is not None and not nxt[1]:
                col, row = path[-1]
                count[layer, h - 1 - row, col] -= 1
                sums[layer, h - 1 - row, col] -= v
    shape = (canvas.n_panels, k, h, w) if n_categories else (canvas.n_panels, h, w)
    return count.reshape(shape), sums.reshape(shape)


# --- hand-drawn cases ---------------------------------------------------------------


def test_horizontal_line():
    assert (
        draw([0.5, 7.5], [2.5, 2.5]).tolist()
        == picture("........", "........", "........", "11111111", "........", "........").tolist()
    )


def test_vertical_line_and_upper_limits_fall_into_the_last_pixel():
    # x = 8 and y = 6 are the upper limits: last column, top row.
    assert draw([8.0, 8.0], [0.0, 6.0]).tolist() == picture(*[".......1"] * 6).tolist()


def test_diagonal_line():
    expected = picture("........", "....1...", "...1....", "..1.....", ".1......", "1.......")
    np.testing.assert_array_equal(draw([0.5, 4.5], [0.5, 4.5]), expected)


def test_shallow_and_steep_lines_are_8_connected_with_bresenham_ties():
    # Δ = (7, 2): rows change at k·2/7 ≥ ½, i.e. from step 2 (2·2/7 = 0.57) and at 6.
    shallow = draw([0.5, 7.5], [0.5, 2.5])
    np.testing.assert_array_equal(
        shallow, picture(*["........"] * 3, "......11", "..1111..", "11......")
    )
    # Δ = (2, 4), steep: ties (k = 1, 3: ½ and 1½) round away from the start going up.
    steep = draw([0.5, 2.5], [0.5, 4.5])
    np.testing.assert_array_equal(
        steep, picture("........", "..1.....", "..1.....", ".1......", ".1......", "1.......")
    )
    # The same segment going down (mirror in y, starting at the top): ties towards the start.
    down = draw([0.5, 2.5], [4.5, 0.5])
    np.testing.assert_array_equal(
        down, picture("........", "1.......", "1.......", ".1......", ".1......", "..1.....")
    )


def test_single_pixel_segment_and_lone_points():
    # Two points in one pixel: one segment, drawn as that pixel.
    grid = draw([2.2, 2.8], [3.1, 3.9])
    assert grid.sum() == 1 and grid[2, 2] == 1
    # One point is no line; nor are points whose neighbours are gaps.
    assert draw([2.5], [2.5]).sum() == 0
    assert draw([1.5, 2.5, 3.5], [1.5, np.nan, 1.5]).sum() == 0


def test_vertex_counted_once_and_a_revisited_pixel_twice():
    v = draw([0.5, 3.5, 6.5], [0.5, 3.5, 0.5])
    np.testing.assert_array_equal(
        v, picture("........", "........", "...1....", "..1.1...", ".1...1..", "1.....1.")
    )
    # Equal x keep input order: up column 0 to row 5, back down to row 2.
    col = draw([0.5, 0.5, 0.5], [0.5, 5.5, 2.5])[:, 0]
    assert col.tolist() == [1, 2, 2, 2, 1, 1]
    # Consecutive points in one pixel (the common case of dense lines) add nothing.
    dense = draw([0.1, 0.5, 0.9, 1.2, 1.8], [0.5, 0.6, 0.4, 0.5, 0.5])
    assert dense[5, :2].tolist() == [1, 1] and dense.sum() == 2


def test_non_finite_points_break_the_polyline():
    for bad in (np.nan, np.inf, -np.inf):
        grids = aggregate_lines(
            Lines(np.array([0.5, 3.5, 4.5, 5.5, 7.5]), np.array([0.5, 0.5, bad, 0.5, 0.5])),
            CANVAS,
        )
        assert grids.count[0, 5].tolist() == [1, 1, 1, 1, 0, 1, 1, 1]
        assert grids.count.sum() == 7 and grids.dropped == 1
    # A NaN x has no place in x order: it sorts last and breaks nothing.
    grids = aggregate_lines(Lines(np.array([0.5, np.nan, 7.5]), np.full(3, 0.5)), CANVAS)
    assert grids.count[0, 5].tolist() == [1] * 8 and grids.dropped == 1


def test_segments_are_clipped_at_the_panel_edges():
    # Through the panel from far left to far right: every column once.
    assert draw([-40.0, 50.0], [2.5, 2.5])[3].tolist() == [1] * 8
    # Leaving through the top and coming back: drawn up to the edge on both sides
    # (the cut ends are the top row's pixels), nothing of the part outside.
    tent = draw([0.5, 4.0, 7.5], [0.5, 12.0, 0.5])
    assert tent[0].tolist() == [0, 0, 1, 0, 0, 1, 0, 0]
    assert tent.sum() == 12
    # Entirely outside, beside or over a corner: nothing.
    assert draw([-5.0, -1.0], [1.0, 5.0]).sum() == 0
    assert draw([-3.0, 1.0], [5.0, 9.0]).sum() == 0
    # Ending exactly on the upper limit: the last pixel, as a point there.
    assert draw([0.5, 8.0], [0.5, 0.5])[5].tolist() == [1] * 8


def test_two_panels_with_different_ranges():
    canvas = Canvas(8, 6, [(0, 8), (0, 80)], [(0, 6), (-6, 0)])
    x = np.array([0.5, 7.5, 5.0, 75.0])
    y = np.array([0.5, 0.5, -5.5, -5.5])
    grids = aggregate_lines(Lines(x, y, panel=np.array([0, 0, 1, 1])), canvas)
    assert grids.count.shape == (2, 6, 8)
    assert grids.count[0, 5].tolist() == [1] * 8 and grids.count[0].sum() == 8
    assert grids.count[1, 5].tolist() == [1] * 8 and grids.count[1].sum() == 8
    # The same points in other panels are other polylines: no segment joins them.
    assert grids.count.sum() == 16


def test_categories_colour_whole_polylines():
    x = np.array([0.5, 7.5, 0.5, 7.5, 0.5, 3.5, 7.5])
    y = np.array([0.5, 0.5, 2.5, 2.5, 4.5, 4.5, 4.5])
    group = np.array([0, 0, 1, 1, 2, 2, 2])
    # Group 2's middle point has another category: colour implies grouping, so the
    # points of category 1 in group 2 form their own polyline (0.5 → 7.5, row 4).
    category = np.array([0, 0, 2, 2, 1, 0, 1])
    grids = aggregate_lines(Lines(x, y, group=group, category=category, n_categories=4), CANVAS)
    assert grids.count.shape == (1, 4, 6, 8)
    assert grids.count[0, 0, 5].tolist() == [1] * 8 and grids.count[0, 0].sum() == 8
    assert grids.count[0, 2, 3].tolist() == [1] * 8 and grids.count[0, 2].sum() == 8
    assert grids.count[0, 1, 1].tolist() == [1] * 8 and grids.count[0, 1].sum() == 8
    assert grids.count[0, 3].sum() == 0


def test_values_follow_the_start_point_of_each_segment():
    grids = aggregate_lines(
        Lines(np.array([0.5, 3.5, 7.5]), np.full(3, 0.5), value=np.array([1.0, 10.0, 100.0])),
        CANVAS,
    )
    assert grids.count[0, 5].tolist() == [1] * 8
    # Pixels 0..2 from the first segment, 3..7 from the second (the vertex starts it).
    assert grids.value_sum[0, 5].tolist() == [1.0] * 3 + [10.0] * 5


# --- ordering and chunks ------------------------------------------------------------


def test_unsorted_x_draws_the_sorted_polyline():
    x = np.array([0.5, 3.5, 7.5, 5.5])
    y = np.array([0.5, 5.5, 0.5, 3.5])
    order = np.array([2, 0, 3, 1])
    shuffled = draw(x[order], y[order])
    np.testing.assert_array_equal(shuffled, draw(x, y))
    assert shuffled[0, 3] == 1  # through (3.5, 5.5), not straight from 0.5 to 7.5


def _series(rng, n, n_groups, ties):
    """n points of n_groups random walks, sorted by (group, x) as whole series arrive."""
    x = rng.uniform(0, 100, n)
    if ties:
        x = np.round(x, 1)
    y = rng.normal(0, 1, n).cumsum() / 10
    group = rng.integers(0, n_groups, n)
    order = np.lexsort((x, group))
    return x[order], y[order], group[order]


def test_chunks_in_any_order_make_one_polyline():
    rng = np.random.default_rng(1)
    x, y, group = _series(rng, 3000, 7, ties=False)
    canvas = Canvas(64, 48, (0, 100), (-3, 3))
    whole = aggregate_lines(Lines(x, y, group=group), canvas).count
    # Cut into chunks, chunks shuffled and concatenated: groups interleave, each
    # group's points arrive in several pieces and out of x order.
    cuts = np.sort(rng.choice(np.arange(1, 3000), 40, replace=False))
    pieces = np.split(np.arange(3000), cuts)
    rng.shuffle(pieces)
    idx = np.concatenate(pieces)
    assert not (np.diff(x[idx][group[idx] == 0]) >= 0).all()
    chunked = aggregate_lines(Lines(x[idx], y[idx], group=group[idx]), canvas).count
    np.testing.assert_array_equal(chunked, whole)
    # Every row in its own chunk: a full shuffle.
    perm = rng.permutation(3000)
    shuffled = aggregate_lines(Lines(x[perm], y[perm], group=group[perm]), canvas).count
    np.testing.assert_array_equal(shuffled, whole)
    assert whole.sum() > 500


def test_interleaved_streams_keep_the_order_of_ties():
    # Equal x within a group keep their arrival order (a vertical zigzag at that
    # x), so a stream that interleaves the groups but keeps each group's own row
    # order draws the same polylines, ties included.
    rng = np.random.default_rng(4)
    x, y, group = _series(rng, 3000, 7, ties=True)
    canvas = Canvas(64, 48, (0, 100), (-3, 3))
    whole = aggregate_lines(Lines(x, y, group=group), canvas).count
    # A random merge of the groups: the i-th arrival of group g is g's i-th point.
    arrivals = rng.permutation(group)
    idx = np.empty(3000, dtype=np.intp)
    idx[np.argsort(arrivals, kind="stable")] = np.arange(3000)
    assert (group[idx] == arrivals).all() and not (np.diff(group[idx]) >= 0).all()
    merged = aggregate_lines(Lines(x[idx], y[idx], group=group[idx]), canvas).count
    np.testing.assert_array_equal(merged, whole)
    # Reversing tied points does change the picture: the tie order is honoured.
    flipped = np.lexsort((-np.arange(3000), x, group))
    other = aggregate_lines(Lines(x[flipped], y[flipped], group=group[flipped]), canvas).count
    assert not np.array_equal(other, whole)


def test_polyline_order_takes_the_cheapest_correct_path(monkeypatch):
    x = np.array([3.0, 1.0, 2.0, 0.0, np.nan, 5.0])
    key = np.array([1, 0, 1, 0, 0, 1], dtype=np.uint16)
    expected = np.lexsort((x, key))
    assert expected.tolist() == [3, 1, 4, 2, 0, 5]
    np.testing.assert_array_equal(polyline_order(key, x), expected)
    # Already sorted by (key, x), NaN last: no sort at all.
    assert polyline_order(key[expected], x[expected]) is None
    # Each polyline one run in x order, the polylines in any order: no sort either.
    assert polyline_order(np.array([3, 3, 1, 2, 2], np.uint16), np.arange(5.0)) is None
    assert polyline_order(np.array([3, 1, 3], np.uint16), np.arange(3.0)).tolist() == [1, 0, 2]
    # x in order within each key, keys interleaved: the key sort alone.
    x2 = np.array([0.0, 10.0, 1.0, 11.0, 2.0])
    key2 = np.array([0, 1, 0, 1, 0], dtype=np.uint16)
    np.testing.assert_array_equal(polyline_order(key2, x2), [0, 2, 4, 1, 3])
    np.testing.assert_array_equal(polyline_order(None, np.array([2.0, 1.0])), [1, 0])
    # A prefix of one block decides whether the key sort may do; one that passes
    # while the rest does not still gets the full sort.
    monkeypatch.setattr(lines_module, "BLOCK", 3)
    x3 = np.array([0.0, 10.0, 1.0, 11.0, 0.5])
    np.testing.assert_array_equal(polyline_order(key2, x3), np.lexsort((x3, key2)))
    np.testing.assert_array_equal(polyline_order(key2, x2), [0, 2, 4, 1, 3])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("key_dtype", [None, np.uint16, np.uint32, np.int64])
def test_radix_order_equals_lexsort(dtype, key_dtype):
    rng = np.random.default_rng(8)
    special = np.array(
        [np.nan, -np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-40, -1e-40, 3.0, -3.0], dtype=dtype
    )
    x = np.concatenate([rng.normal(0, 1e3, 3000).astype(dtype), rng.choice(special, 2000)])
    x[rng.random(5000) < 0.2] = np.round(x[:1000].mean())  # ties
    rng.shuffle(x)
    key = None if key_dtype is None else rng.integers(0, 7, 5000).astype(key_dtype)
    if key_dtype == np.uint32:
        key = key * np.uint32(70000)  # both 16-bit digits in use
    expected = np.argsort(x, kind="stable") if key is None else np.lexsort((x, key))
    np.testing.assert_array_equal(polyline_order(key, x), expected)


def test_polyline_keys_are_narrow_and_give_the_layer():
    lines = Lines(
        np.zeros(4), np.zeros(4), panel=[0, 1, 2, 2], group=[5, 0, 3, 3], category=[1, 0, 1, 0]
    )
    key = polyline_keys(lines, 3, 6)
    assert key.dtype == np.uint16
    assert (key // 6).tolist() == [1, 2, 5, 4]  # layer = panel · K + category
    assert (key % 6).tolist() == [5, 0, 3, 3]
    assert polyline_keys(Lines(np.zeros(2), np.zeros(2)), 1, 1) is None
    assert polyline_keys(Lines(np.zeros(2), np.zeros(2), group=[0, 1]), 1, 70000).dtype == (
        np.uint32
    )


# --- against the reference ----------------------------------------------------------


def _random_case(rng, trial):
    n = int(rng.integers(0, 60))
    p = 1 if trial % 3 == 0 else int(rng.integers(2, 4))
    w, h = int(rng.integers(1, 13)), int(rng.integers(1, 11))
    x_ranges = np.sort(rng.uniform(-5, 5, (p, 2)), axis=1)
    y_ranges = np.sort(rng.uniform(-5, 5, (p, 2)), axis=1)
    canvas = Canvas(w, h, x_ranges, y_ranges)
    dtype = np.float32 if trial % 4 == 1 else np.float64
    # Ranges wider than the panels: many segments are cut or outside.
    x = rng.uniform(-7, 7, n).astype(dtype)
    y = rng.uniform(-7, 7, n).astype(dtype)
    tie = rng.random(n) < 0.1
    x[tie] = np.round(x[tie])  # some ties
    y[rng.random(n) < 0.05] = np.nan
    x[rng.random(n) < 0.03] = np.inf
    panel = rng.integers(0, p, n) if p > 1 else None
    group = rng.integers(0, 3, n) if trial % 2 else None
    category = value = None
    k = 0
    if trial % 5 == 2:
        k = 3
        category = rng.integers(0, k, n)
    elif trial % 5 == 3:
        value = rng.normal(0, 1, n)
        value[rng.random(n) < 0.05] = np.nan
    return Lines(x, y, panel, group, category, value, k), canvas


@pytest.mark.parametrize("block", [lines_module.BLOCK, 3])
def test_random_lines_equal_the_reference(monkeypatch, block):
    # Tiny blocks and expansion batches put block edges and batch edges everywhere;
    # no key tally takes the paths for huge numbers of polylines.
    monkeypatch.setattr(lines_module, "BLOCK", block)
    if block == 3:
        monkeypatch.setattr(lines_module, "EXPAND", 4)
        monkeypatch.setattr(lines_module, "_TALLY_KEYS", 0)
    rng = np.random.default_rng(2026)
    drawn = 0
    for trial in range(120):
        lines, canvas = _random_case(rng, trial)
        grids = aggregate_lines(lines, canvas)
        count, sums = reference(
            lines.x, lines.y, lines.panel, lines.group, lines.category, lines.value,
            lines.n_categories, canvas,
        )  # fmt: skip
        np.testing.assert_array_equal(grids.count, count, err_msg=f"trial {trial}")
        if lines.value is not None:
            np.testing.assert_allclose(grids.value_sum, sums, atol=1e-9, err_msg=f"{trial}")
        bad = ~(np.isfinite(lines.x) & np.isfinite(lines.y))
        if lines.value is not None:
            bad |= ~np.isfinite(lines.value)
        assert grids.dropped == int(bad.sum())
        drawn += int(count.sum())
    assert drawn > 1000  # the cases draw something


def test_long_segments_equal_the_reference():
    # Segments hundreds of pixels long in every direction, in many expansion batches.
    rng = np.random.default_rng(9)
    canvas = Canvas(300, 200, (0, 1), (0, 1))
    x = rng.uniform(-0.2, 1.2, 400)
    y = rng.uniform(-0.2, 1.2, 400)
    group = rng.integers(0, 4, 400)
    grids = aggregate_lines(Lines(x, y, group=group), canvas)
    count, _ = reference(x, y, None, group, None, None, 0, canvas)
    np.testing.assert_array_equal(grids.count, count)
    assert count.sum() > 20000


# --- validation ---------------------------------------------------------------------


def test_bad_input_is_refused_with_the_reason():
    with pytest.raises(DataError, match="dtype int64"):
        Lines(np.array([1, 2]), np.array([1.0, 2.0]))
    with pytest.raises(DataError, match="differ in length"):
        Lines(np.zeros(2), np.zeros(2), group=np.zeros(3, int))
    with pytest.raises(DataError, match=r"group.*float64"):
        Lines(np.zeros(2), np.zeros(2), group=np.zeros(2))
    with pytest.raises(UsageError, match="both a category and a value"):
        Lines(np.zeros(2), np.zeros(2), category=[0, 1], value=np.zeros(2))
    with pytest.raises(DataError, match="non-negative"):
        aggregate_lines(Lines(np.zeros(2), np.zeros(2), group=[-1, 0]), CANVAS)
    with pytest.raises(DataError, match=r"panel codes span 0..2 but must lie in 0..1"):
        aggregate_lines(
            Lines(np.zeros(2), np.zeros(2), panel=[0, 2]), Canvas(4, 4, (0, 1), [(0, 1)] * 2)
        )
    with pytest.raises(DataError, match="no panel codes"):
        aggregate_lines(Lines(np.zeros(2), np.zeros(2)), Canvas(4, 4, (0, 1), [(0, 1)] * 2))
    with pytest.raises(DataError, match="category codes span"):
        aggregate_lines(Lines(np.zeros(2), np.zeros(2), category=[0, 3], n_categories=2), CANVAS)
    with pytest.raises(BackendUnavailable, match="vertex twice"):
        aggregate_lines(Lines(np.zeros(2), np.zeros(2)), CANVAS, backend="datashader")
    with pytest.raises(UsageError, match="'gpu'"):
        aggregate_lines(Lines(np.zeros(2), np.zeros(2)), CANVAS, backend="gpu")


def test_empty_lines():
    grids = aggregate_lines(Lines(np.zeros(0), np.zeros(0), group=np.zeros(0, int)), CANVAS)
    assert grids.count.shape == (1, 6, 8) and grids.count.sum() == 0 and grids.dropped == 0


# --- thickening ---------------------------------------------------------------------


def test_thicken_gives_one_pass_over_the_whole_stroke():
    grids = aggregate_lines(Lines(np.array([0.5, 3.5, 6.5]), np.array([0.5, 3.5, 0.5])), CANVAS)
    thick = thicken(grids, 3)
    # Width 3 is the 3 × 3 disk: one polyline covers its stroke exactly once,
    # including around the vertex, where a disk sum would give up to 7.
    np.testing.assert_array_equal(
        thick.count[0],
        picture("........", "..111...", ".11111..", "1111111.", "11111111", "111.1111"),
    )
    assert thick.count.dtype == np.uint32
    # Two coincident polylines: 2 on the whole stroke.
    two = aggregate_lines(
        Lines(np.array([0.5, 7.5, 0.5, 7.5]), np.full(4, 2.5), group=np.array([0, 0, 1, 1])),
        CANVAS,
    )
    assert two.count[0, 3].tolist() == [2] * 8
    assert thicken(two, 3).count[0, 2:5].tolist() == [[2] * 8] * 3
    # Width 1 is the path itself; numpy numbers are widths too.
    assert thicken(grids, 1) is grids
    np.testing.assert_array_equal(thicken(grids, np.float32(3.0)).count, thick.count)


def test_thicken_keeps_categories_apart_and_averages_values():
    cat = aggregate_lines(
        Lines(np.array([0.5, 7.5]), np.full(2, 0.5), category=np.array([1, 1]), n_categories=2),
        CANVAS,
    )
    thick = thicken(cat, 3)
    assert thick.count.shape == (1, 2, 6, 8)
    assert thick.count[0, 0].sum() == 0
    assert thick.count[0, 1, 4:].tolist() == [[1] * 8] * 2
    # Values 1 (row 0) and 3 (row 2): the pixel between sees both passes, mean 2.
    val = aggregate_lines(
        Lines(
            np.array([0.5, 7.5, 0.5, 7.5]),
            np.array([0.5, 0.5, 2.5, 2.5]),
            group=np.array([0, 0, 1, 1]),
            value=np.array([1.0, 1.0, 3.0, 3.0]),
        ),
        CANVAS,
    )
    thick = thicken(val, 3)
    mean = thick.value_sum[0] / np.maximum(thick.count[0], 1)
    assert mean[4].tolist() == [2.0] * 8  # row 1 in data space, between the lines
    assert mean[5].tolist() == [1.0] * 8 and mean[3].tolist() == [3.0] * 8
    assert thick.count[0, 4].tolist() == [1] * 8


@pytest.mark.parametrize("width", [0.5, float("nan"), float("inf"), "3", True, None])
def test_thicken_refuses_bad_widths(width):
    grids = aggregate_lines(Lines(np.array([0.5, 7.5]), np.full(2, 0.5)), CANVAS)
    with pytest.raises(UsageError, match="line width must be at least 1 pixel"):
        thicken(grids, width)


def test_thickened_translucent_line_shades_at_its_opacity():
    # The pipeline's call: one line of opacity ½ has alpha 128 on its whole stroke,
    # where a disk sum (spread) would reach 1 − ½³ or more beside the path.
    from ggrs.shade import Constant, shade

    grids = aggregate_lines(Lines(np.array([0.5, 3.5, 6.5]), np.array([0.5, 3.5, 0.5])), CANVAS)
    rgba = shade(thicken(grids, 3), Constant((255, 0, 0)), point_diameter=1, opacity=0.5)
    alpha = rgba[0, ..., 3]
    assert set(np.unique(alpha).tolist()) == {0, 128}
    np.testing.assert_array_equal(alpha > 0, thicken(grids, 3).count[0] > 0)


def test_datashader_draws_the_same_paths_but_counts_repeated_pixels_again():
    # Why datashader is no backend for lines: its Canvas.line follows the same
    # pixel paths (equal grids once consecutive points in one pixel are merged),
    # but counts such a pixel once more per repeated point.
    ds = pytest.importorskip("datashader")
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(12)
    x = np.sort(rng.uniform(0, 1, 3000))
    y = rng.normal(0, 1, 3000).cumsum()
    y = (y - y.min()) / (y.max() - y.min())
    w, h, lo, hi = 90, 60, 0.2, 0.8  # cut at every edge
    ours = aggregate_lines(Lines(x, y), Canvas(w, h, (lo, hi), (lo, hi))).count[0]

    def datashader(keep):
        cvs = ds.Canvas(plot_width=w, plot_height=h, x_range=(lo, hi), y_range=(lo, hi))
        agg = cvs.line(pd.DataFrame({"x": x[keep], "y": y[keep]}), "x", "y", agg=ds.count())
        return np.asarray(agg.data[::-1], dtype=np.uint32)

    inside = (x >= lo) & (x <= hi) & (y >= lo) & (y <= hi)
    col = np.minimum(np.floor(x * (w / (hi - lo)) + (-lo * (w / (hi - lo)))), w - 1)
    row = np.minimum(np.floor(y * (h / (hi - lo)) + (-lo * (h / (hi - lo)))), h - 1)
    repeat = (col[1:] == col[:-1]) & (row[1:] == row[:-1]) & inside[1:] & inside[:-1]
    assert repeat.sum() > 100
    # Keep the last point of each run in one pixel: the next segment starts there.
    np.testing.assert_array_equal(datashader(~np.r_[repeat, False]), ours)
    assert datashader(np.ones(3000, dtype=bool)).sum() > ours.sum()
