"""Shading: opacity compositing, disk and shape spreading, colour mixing, LUT mapping, layers."""

from __future__ import annotations

import weakref

import numpy as np
import pytest

from ggrs import shade, stencils
from ggrs.aggregate import Grids
from ggrs.errors import UsageError
from ggrs.properties import parse_properties


def counts(rows):
    return np.array([rows], dtype=np.uint32)


def brute_force_spread(grid, diameter):
    """Σ over every disk offset of the shifted grid, one pixel offset at a time."""
    r = diameter / 2
    h, w = grid.shape[-2:]
    out = np.zeros(grid.shape, dtype=np.int64)
    reach = int(np.floor(r))
    for dy in range(-reach, reach + 1):
        for dx in range(-reach, reach + 1):
            if dx * dx + dy * dy > r * r:
                continue
            for y in range(h):
                for x in range(w):
                    if 0 <= y - dy < h and 0 <= x - dx < w:
                        out[..., y, x] += grid[..., y - dy, x - dx]
    return out


@pytest.fixture(params=["shifted", "pointwise"])
def spread_way(request, monkeypatch):
    """Forces spreading one way: shifted sums over the grid, or point by point."""
    pointwise = request.param == "pointwise"
    monkeypatch.setattr(shade, "_pointwise_is_cheaper", lambda count, runs: pointwise)
    # Blocks of a few covered pixels: the block loop runs many times.
    monkeypatch.setattr(shade, "PAIRS_PER_BLOCK", 50)
    return request.param


@pytest.mark.parametrize("opacity", [0.3, 0.05, 0.9])
def test_alpha_is_one_minus_transparency_to_the_n(opacity):
    n = np.arange(0, 200, dtype=np.uint32)
    rgba = shade.shade(Grids(counts([n])), shade.Constant((1, 2, 3)), opacity=opacity)
    expected = np.rint(255 * (1 - (1 - opacity) ** n.astype(np.float64)))
    np.testing.assert_array_equal(rgba[0, 0, :, 3], expected)
    assert rgba[0, 0, -1, 3] == 255


def test_opaque_and_invisible_points():
    grid = Grids(counts([[0, 1, 7]]))
    opaque = shade.shade(grid, shade.Constant((9, 8, 7)), opacity=1.0)
    assert opaque[0, 0].tolist() == [[0, 0, 0, 0], [9, 8, 7, 255], [9, 8, 7, 255]]
    invisible = shade.shade(grid, shade.Constant((9, 8, 7)), opacity=0.0)
    assert invisible[0, 0, :, 3].tolist() == [0, 0, 0]


def test_disk_spreading_by_hand(spread_way):
    grid = np.zeros((1, 5, 5), dtype=np.uint32)
    grid[0, 0, 0] = 2
    grid[0, 2, 2] = 1
    assert shade.spread(grid, 1.0) is grid
    # Diameter 2: the pixel and its four neighbours (radius 1).
    assert shade.spread(grid, 2.0)[0].tolist() == [
        [2, 2, 0, 0, 0],
        [2, 0, 1, 0, 0],
        [0, 1, 1, 1, 0],
        [0, 0, 1, 0, 0],
        [0, 0, 0, 0, 0],
    ]
    # Diameter 3: a 3 × 3 square (corners at distance √2 ≤ 1.5).
    assert shade.spread(grid, 3.0)[0].tolist() == [
        [2, 2, 0, 0, 0],
        [2, 3, 1, 1, 0],
        [0, 1, 1, 1, 0],
        [0, 1, 1, 1, 0],
        [0, 0, 0, 0, 0],
    ]


@pytest.mark.parametrize("diameter", [1.5, 2.0, 3.0, 4.5, 6.0, 9.0])
def test_spread_equals_sum_over_disk_offsets(diameter, spread_way):
    rng = np.random.default_rng(1)
    grid = rng.integers(0, 4, (2, 9, 13)).astype(np.uint32)
    np.testing.assert_array_equal(shade.spread(grid, diameter), brute_force_spread(grid, diameter))


def test_point_size_spreads_alpha():
    grid = np.zeros((1, 3, 3), dtype=np.uint32)
    grid[0, 1, 1] = 1
    rgba = shade.shade(Grids(grid), shade.Constant((5, 5, 5)), point_diameter=3, opacity=0.5)
    assert (rgba[0, ..., 3] == 128).all()


def test_categorical_colours_are_count_weighted_means():
    red, blue, green = (255, 0, 0), (0, 0, 255), (0, 200, 0)
    grid = np.zeros((1, 3, 1, 3), dtype=np.uint32)
    grid[0, 0, 0] = [3, 1, 0]  # red
    grid[0, 1, 0] = [1, 0, 0]  # blue
    grid[0, 2, 0] = [0, 0, 0]  # green
    rgba = shade.shade(Grids(grid), shade.Categorical((red, blue, green)), opacity=1.0)
    assert rgba[0, 0].tolist() == [
        [191, 0, 64, 255],  # 3 red + 1 blue: (765/4, 0, 255/4) rounded
        [255, 0, 0, 255],
        [0, 0, 0, 0],
    ]


def test_categorical_mixing_under_a_spread_disk():
    grid = np.zeros((1, 2, 1, 2), dtype=np.uint32)
    grid[0, 0, 0, 0] = 1  # category 0 on the left pixel
    grid[0, 1, 0, 1] = 3  # category 1 on the right pixel
    colours = shade.Categorical(((200, 0, 0), (0, 0, 100)))
    rgba = shade.shade(Grids(grid), colours, point_diameter=3, opacity=0.5)
    # Both pixels are covered by all 4 points.
    assert rgba[0, 0].tolist() == [[50, 0, 75, 239], [50, 0, 75, 239]]


def test_continuous_mean_through_lut_clamped():
    lut = np.array([[0, 0, 0], [100, 100, 100], [200, 200, 200]], dtype=np.uint8)
    count = counts([[1, 2, 1, 1, 0]])
    value_sum = np.array([[[-50.0, 2.0, 10.0, 5.0, 0.0]]])
    rgba = shade.shade(Grids(count, value_sum), shade.Continuous(lut, (0.0, 10.0)))
    # means -50 (clamped to 0), 1, 10, 5, and an empty pixel
    assert rgba[0, 0].tolist() == [
        [0, 0, 0, 255],
        [0, 0, 0, 255],
        [200, 200, 200, 255],
        [100, 100, 100, 255],
        [0, 0, 0, 0],
    ]


def test_shape_and_dtype_of_many_panels():
    grid = np.random.default_rng(0).integers(0, 3, (12, 30, 40)).astype(np.uint32)
    rgba = shade.shade(Grids(grid), shade.Constant((1, 2, 3)), point_diameter=2.5, opacity=0.2)
    assert rgba.shape == (12, 30, 40, 4)
    assert rgba.dtype == np.uint8
    covered = shade.spread(grid, 2.5) > 0
    assert (rgba[covered][:, :3] == [1, 2, 3]).all()
    assert (rgba[~covered] == 0).all()


def test_colouring_must_fit_the_grids():
    plain = Grids(counts([[1]]))
    with pytest.raises(UsageError, match="2 colours but the grids have 0 categories"):
        shade.shade(plain, shade.Categorical(((1, 1, 1), (2, 2, 2))))
    with pytest.raises(UsageError, match="needs grids with value sums"):
        shade.shade(plain, shade.Continuous(np.zeros((2, 3), np.uint8), (0, 1)))
    with pytest.raises(UsageError, match="must be finite and increasing"):
        shade.shade(
            Grids(counts([[1]]), np.ones((1, 1, 1))),
            shade.Continuous(np.zeros((2, 3), np.uint8), (1, 1)),
        )
    with pytest.raises(UsageError, match="at least 1 pixel"):
        shade.shade(plain, shade.Constant((0, 0, 0)), point_diameter=0.5)
    with pytest.raises(UsageError, match=r"opacity must lie in \[0, 1\]"):
        shade.shade(plain, shade.Constant((0, 0, 0)), opacity=1.5)


def test_tiny_opacity_without_a_table():
    n = np.array([0, 1, 10**4, 10**6, 10**8], dtype=np.uint32)
    rgba = shade.shade(Grids(counts([n])), shade.Constant((1, 2, 3)), opacity=1e-6)
    expected = np.rint(255 * (1 - (1 - 1e-6) ** n.astype(np.float64)))
    np.testing.assert_array_equal(rgba[0, 0, :, 3], expected)
    assert rgba[0, 0, 0].tolist() == [0, 0, 0, 0]
    assert rgba[0, 0, 3].tolist() == [1, 2, 3, 161]


# --------------------------------------------------------------------------- point shapes


def pic(text):
    """Mask rows written on one line: ``"#.# .#."`` → ("#.#", ".#.")."""
    return tuple(text.split())


@pytest.mark.parametrize(
    ("shape", "diameter", "fill", "outline"),
    [
        # Open square: half-side r = 2.5, the ring of pixel centres on its edge.
        (0, 5, (), pic("##### #...# #...# #...# #####")),
        # Open circle: the disk of radius 2.5 less its 3 × 3 interior.
        (1, 5, (), pic(".###. #...# #...# #...# .###.")),
        # Radius 4 is whole: the lone pixels at (0, ±4), (±4, 0) are left out of the ring.
        (1, 8, (), pic(".#####. #.....# #.....# #.....# #.....# #.....# .#####.")),
        # Plus: arms √2·r = 3.54 long, flat ends.
        (3, 5, (), pic("...#... ...#... ...#... ####### ...#... ...#... ...#...")),
        # Times: arms r = 1.5 along both diagonals.
        (4, 3, (), pic("#.# .#. #.#")),
        # Filled triangle of the circle's area, apex TRC0·r = 2.33 up, base TRC2·r = 1.17 down.
        (17, 3, pic("..#.. ..#.. .###. .###. ....."), ()),
        # Bullet: ⅔ of the circle, radius 1.
        (20, 3, pic(".#. ### .#."), ()),
        # Filled circle with its outline over the edge: 9 fill pixels, 12 outline pixels.
        (21, 5, pic("..... .###. .###. .###. ....."),
         pic(".###. #...# #...# #...# .###.")),
        # Square of the circle's area: half-side 2.5·√(π/4) = 2.22.
        (22, 5, pic("..... .###. .###. .###. ....."),
         pic("##### #...# #...# #...# #####")),
    ],
)  # fmt: skip
def test_stencil_pixels_by_hand(shape, diameter, fill, outline):
    st = stencils.stencil(shape, diameter)
    blank = tuple("." * st.fill.shape[1] for _ in range(st.fill.shape[0]))
    assert stencils.picture(st.fill) == (fill or blank)
    assert stencils.picture(st.outline) == (outline or blank)
    assert st.outlined == (shape >= 21)


@pytest.mark.parametrize("diameter", [1, 1.5, 2, 3, 4.5, 5, 8, 13, 20])
def test_solid_circles_are_the_disk(diameter):
    rows = shade.disk_rows(diameter)
    reach = max(rows)
    expected = np.zeros((2 * reach + 1, 2 * reach + 1), dtype=bool)
    for dy, a in rows.items():
        expected[reach + dy, reach - a : reach + a + 1] = True
    for shape in (16, 19):
        st = stencils.stencil(shape, diameter)
        np.testing.assert_array_equal(st.fill, expected)
        assert not st.outline.any()


@pytest.mark.parametrize("diameter", [1, 3, 5, 8, 20])
def test_stencil_kinds(diameter):
    for shape in stencils.SHAPES:
        st = stencils.stencil(shape, diameter)
        assert not (st.fill & st.outline).any(), shape
        if diameter >= 5:  # hollow shapes leave their centre pixel empty
            hollow = shape in (0, 1, 2, 5, 6, 11, 14)
            assert st.covered[st.reach, st.reach] != hollow, shape
        if shape <= 14:
            assert not st.fill.any() and st.outline.any(), shape
        elif shape <= 20:
            assert st.fill.any() and not st.outline.any(), shape
        else:
            assert st.outline.any(), shape


def test_strokes_widen_with_size():
    assert [stencils.stroke_pixels(r) for r in (0.5, 4, 6, 8, 10, 14, 18)] == [1, 1, 1, 3, 3, 3, 5]
    # Diameter 20: a 3-pixel ring on row 0 of the open circle.
    st = stencils.stencil(1, 20)
    assert stencils.picture(st.outline)[st.reach] == "###" + "." * 15 + "###"


def test_row_runs():
    mask = np.array(
        [
            [1, 0, 0, 0, 1],
            [0, 0, 0, 0, 0],
            [1, 1, 0, 1, 1],
            [0, 0, 0, 0, 0],
            [0, 1, 1, 1, 0],
        ],
        dtype=bool,
    )
    assert stencils.runs(mask) == {-2: ((-2, -2), (2, 2)), 0: ((-2, -1), (1, 2)), 2: ((-1, 1),)}


def brute_force_stencil(grid, mask):
    """Σ over every covered stencil offset of the shifted grid, one offset at a time."""
    reach = mask.shape[0] // 2
    h, w = grid.shape[-2:]
    out = np.zeros(grid.shape, dtype=np.int64 if grid.dtype.kind in "iu" else np.float64)
    for i, j in zip(*np.nonzero(mask), strict=True):
        dy, dx = i - reach, j - reach
        for y in range(h):
            for x in range(w):
                if 0 <= y - dy < h and 0 <= x - dx < w:
                    out[..., y, x] += grid[..., y - dy, x - dx]
    return out


@pytest.mark.parametrize(
    ("shape", "diameter"), [(0, 5), (2, 8), (6, 4), (11, 7), (14, 9), (21, 12), (24, 6)]
)
def test_spread_over_a_stencil_equals_sum_over_its_offsets(shape, diameter, spread_way):
    rng = np.random.default_rng(shape)
    grid = rng.integers(0, 4, (2, 11, 13)).astype(np.uint32)
    st = stencils.stencil(shape, diameter)
    for mask in (st.fill, st.outline):
        np.testing.assert_array_equal(shade.spread(grid, mask), brute_force_stencil(grid, mask))


def test_spread_of_a_disk_mask_equals_spread_of_its_diameter(spread_way):
    grid = np.random.default_rng(5).integers(0, 9, (1, 20, 30)).astype(np.uint32)
    disk = stencils.stencil(19, 7).fill
    np.testing.assert_array_equal(shade.spread(grid, disk), shade.spread(grid, 7.0))
    assert not shade.spread(grid, np.zeros((3, 3), bool)).any()
    float_grid = grid.astype(np.float64) / 4
    np.testing.assert_array_equal(
        shade.spread(float_grid, stencils.stencil(2, 5).outline),
        brute_force_stencil(grid, stencils.stencil(2, 5).outline) / 4,
    )


def test_spread_planes_spread_sums_over_the_count_planes_points(spread_way):
    rng = np.random.default_rng(8)
    count = np.where(rng.random((3, 12, 17)) < 0.2, rng.integers(1, 5, (3, 12, 17)), 0)
    count = count.astype(np.uint32)
    sums = count * rng.random(count.shape)  # zero wherever count is
    mask = stencils.stencil(24, 6).fill  # a triangle: not symmetric
    n, spread_sums = shade.spread_planes([count, sums], mask)
    np.testing.assert_array_equal(n, brute_force_stencil(count, mask))
    expected = brute_force_stencil(sums, mask)
    np.testing.assert_allclose(spread_sums, expected, rtol=1e-13, atol=0)
    assert n.dtype == np.uint32 and spread_sums.dtype == np.float64


def test_spread_sums_past_uint32_in_int64(spread_way):
    grid = np.zeros((2, 6, 6), dtype=np.uint32)
    grid[1, 2, 3] = grid[1, 3, 3] = 3 << 30
    out = shade.spread(grid, 3.0)
    assert out.dtype == np.int64
    assert out[1, 2:4, 2:5].tolist() == [[6 << 30] * 3] * 2
    assert out[1, 1, 3] == out[1, 4, 3] == 3 << 30
    assert not out[0].any()


def test_spread_goes_point_by_point_only_where_that_is_cheaper(monkeypatch):
    pointwise = []
    original = shade._spread_pointwise
    monkeypatch.setattr(shade, "_spread_pointwise", lambda *a: pointwise.append(1) or original(*a))
    sparse = np.zeros((1, 100, 100), dtype=np.uint32)
    sparse[0, ::10, ::10] = 1  # 100 points × 21 footprint pixels ≪ 10,000 cells × passes
    np.testing.assert_array_equal(shade.spread(sparse, 5.0), brute_force_spread(sparse, 5.0))
    assert pointwise == [1]
    dense = np.ones((1, 100, 100), dtype=np.uint32)
    assert (shade.spread(dense, 5.0)[0, 2:-2, 2:-2] == 21).all()
    assert pointwise == [1]


def one_point(size=9):
    grid = np.zeros((1, size, size), dtype=np.uint32)
    grid[0, size // 2, size // 2] = 1
    return grid


def test_open_shapes_colour_only_their_stroke():
    rgba = shade.shade(Grids(one_point()), shade.Constant((9, 8, 7)), point_diameter=5, shape=0)
    alpha = rgba[0, ..., 3] > 0
    assert stencils.picture(alpha[2:7, 2:7]) == ("#####", "#...#", "#...#", "#...#", "#####")
    assert alpha.sum() == 16
    assert (rgba[0][alpha] == [9, 8, 7, 255]).all()
    assert (rgba[0][~alpha] == 0).all()


def test_shape_21_fills_in_the_point_colour_and_outlines_in_black():
    rgba = shade.shade(
        Grids(one_point()), shade.Constant((200, 100, 0)), point_diameter=5, shape=21
    )
    st = stencils.stencil(21, 5)
    assert (rgba[0, 2:7, 2:7][st.fill] == [200, 100, 0, 255]).all()
    assert (rgba[0, 2:7, 2:7][st.outline] == [0, 0, 0, 255]).all()
    assert rgba[0, ..., 3].astype(bool).sum() == 21


def test_outline_over_fill_is_composited_exactly():
    # Two points 3 pixels apart: pixel (4, 4) is in the fill of the left one
    # (offset (0, 1)) and on the outline of the right one (offset (0, −2)).
    grid = np.zeros((1, 9, 10), dtype=np.uint32)
    grid[0, 4, 3] = 1
    grid[0, 4, 6] = 1
    rgba = shade.shade(
        Grids(grid), shade.Constant((200, 100, 0)), point_diameter=5, shape=21, opacity=0.5
    )
    # One fill (α 128/255) under one outline (α 128/255): alpha 255·(a + a(1 − a)) = 191.75;
    # colour c·a(1 − a) / (a + a(1 − a)) = c · 16256 / 48896.
    assert rgba[0, 4, 4].tolist() == [66, 33, 0, 192]
    # Fill only (left point's interior, no outline of the right one there).
    assert rgba[0, 4, 3].tolist() == [200, 100, 0, 128]


def test_shape_21_outline_counts_every_category():
    grid = np.zeros((1, 2, 9, 9), dtype=np.uint32)
    grid[0, 0, 4, 4] = 1
    grid[0, 1, 4, 4] = 2
    colours = shade.Categorical(((255, 0, 0), (0, 0, 255)))
    rgba = shade.shade(Grids(grid), colours, point_diameter=5, shape=22, opacity=0.5)
    # 3 points on the outline: α = 1 − 0.5³; the fill is the count-weighted mean colour.
    assert rgba[0, 2, 2].tolist() == [0, 0, 0, 223]
    assert rgba[0, 4, 4].tolist() == [85, 0, 170, 223]


@pytest.mark.parametrize("bad", [99, -1, 26, "19", 19.0, True, None])
def test_bad_shapes_are_usage_errors(bad):
    with pytest.raises(UsageError, match="shape code 0-25"):
        shade.shade(Grids(one_point()), shade.Constant((0, 0, 0)), shape=bad)
    with pytest.raises(UsageError, match="shape code 0-25"):
        stencils.stencil(bad, 5)


def test_layers_cycle_through_the_shapes():
    assert [stencils.layer_shape((19, 17), i) for i in range(5)] == [19, 17, 19, 17, 19]
    with pytest.raises(UsageError, match="no shape code"):
        stencils.layer_shape((), 0)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("99", "'99' is not a shape code"),
        ("-1", "'-1' is not a shape code"),
        ("abc", "'abc' is not a shape code"),
        ("19;1.5", "'1.5' is not a shape code"),
        (";", "no shape code"),
    ],
)
def test_point_shapes_property_is_validated(raw, message):
    with pytest.raises(UsageError) as info:
        parse_properties({"point.shapes": raw})
    text = str(info.value)
    assert "point.shapes" in text and message in text and "0-25" in text


def test_point_shapes_property_values():
    assert parse_properties({"point.shapes": "21; 0;;25"})["point.shapes"] == (21, 0, 25)
    assert parse_properties({"point.shapes": ""})["point.shapes"] == (19,)  # unset: the default


# --------------------------------------------------------------------------- layers


def float_over(layers):
    """Straight-alpha "over" in float64, bottom layer first."""
    out = np.zeros(layers[0].shape, dtype=np.float64)
    for layer in layers:
        c, a = layer[..., :3] / 255.0, layer[..., 3:] / 255.0
        oc, oa = out[..., :3], out[..., 3:]
        alpha = a + oa * (1 - a)
        with np.errstate(invalid="ignore", divide="ignore"):
            colour = np.where(alpha > 0, (c * a + oc * oa * (1 - a)) / alpha, 0.0)
        out = np.concatenate([colour, alpha], axis=-1)
    return out * 255


def test_composite_matches_float_over_within_rounding():
    rng = np.random.default_rng(7)
    layers = [rng.integers(0, 256, (2, 16, 24, 4)).astype(np.uint8) for _ in range(2)]
    layers[1][0, :4, :, 3] = 0  # transparent top
    layers[1][0, 4:8, :, 3] = 255  # opaque top
    layers[0][1, :4, :, 3] = 0  # nothing below
    layers[0][1, :2, :, 3] = 0
    layers[1][1, :2, :, 3] = 0  # nothing at all
    out = shade.composite(layers)
    assert out.dtype == np.uint8 and out.shape == layers[0].shape
    assert np.abs(out - float_over(layers)).max() <= 0.5 + 1e-9
    assert (out[1, :2] == 0).all()
    np.testing.assert_array_equal(out[0, 4:8], layers[1][0, 4:8])
    np.testing.assert_array_equal(out[0, :4, :, 3], layers[0][0, :4, :, 3])


def test_composite_puts_the_first_layer_at_the_bottom():
    red = np.array([[[[255, 0, 0, 255]]]], dtype=np.uint8)
    half_blue = np.array([[[[0, 0, 255, 128]]]], dtype=np.uint8)
    assert shade.composite([red, half_blue])[0, 0, 0].tolist() == [127, 0, 128, 255]
    assert shade.composite([half_blue, red])[0, 0, 0].tolist() == [255, 0, 0, 255]
    assert shade.composite([red]) is red
    three = shade.composite([red, half_blue, half_blue])
    assert np.abs(three - float_over([red, half_blue, half_blue])).max() <= 0.5 + 1e-9


def test_composite_rejects_mismatched_layers():
    a = np.zeros((1, 2, 3, 4), np.uint8)
    with pytest.raises(UsageError, match="at least one layer"):
        shade.composite([])
    with pytest.raises(UsageError, match=r"layer 1 has shape \(1, 3, 3, 4\)"):
        shade.composite([a, np.zeros((1, 3, 3, 4), np.uint8)])
    with pytest.raises(UsageError, match="uint8 RGBA"):
        shade.composite([a, a.astype(np.float32)])


@pytest.mark.parametrize(
    ("shape", "diameter"), [(19, 1.0), (19, 5.0), (1, 6.0), (21, 7.0), (24, 4.0)]
)
def test_mixed_grids_shade_as_the_grids_they_came_from(shape, diameter):
    rng = np.random.default_rng(shape)
    count = rng.integers(0, 4, (2, 3, 9, 11)).astype(np.uint32)  # P, K, H, W
    colours = shade.Categorical(((250, 10, 10), (10, 200, 30), (0, 0, 255)))
    grids = Grids(count, dropped=5)
    mixed = shade.mix(grids, colours)
    assert mixed.count.shape == (2, 9, 11) and mixed.dropped == 5 and mixed.n_categories == 3
    np.testing.assert_array_equal(mixed.count, count.sum(axis=1))
    np.testing.assert_array_equal(mixed.sums[1], count[:, 0] * 10 + count[:, 1] * 200)
    style = {"point_diameter": diameter, "opacity": 0.6, "shape": shape}
    np.testing.assert_array_equal(
        shade.shade(mixed, colours, **style), shade.shade(grids, colours, **style)
    )


def test_mixed_grids_need_their_categorical_colouring():
    grids = Grids(np.ones((1, 2, 3, 3), np.uint32))
    mixed = shade.mix(grids, shade.Categorical(((1, 1, 1), (2, 2, 2))))
    with pytest.raises(UsageError, match="mixed grids of 2 categories need a categorical"):
        shade.shade(mixed, shade.Categorical(((1, 1, 1),)))
    with pytest.raises(UsageError, match="mixed grids of 2 categories"):
        shade.shade(mixed, shade.Constant((0, 0, 0)))
    with pytest.raises(UsageError, match="1 colours but the grids have 2 categories"):
        shade.mix(grids, shade.Categorical(((1, 1, 1),)))


def test_drawing_drops_the_category_planes_before_shading(monkeypatch):
    # The K count planes are the largest array of a categorical plot: draw mixes
    # them and lets them go before shading allocates (the memory peak).
    from ggrs import geoms
    from ggrs.aggregate import Canvas

    seen = {}
    aggregate = geoms.aggregate_layer

    def spy_aggregate(*args, **kwargs):
        grids = aggregate(*args, **kwargs)
        seen["grids"] = weakref.ref(grids)
        return grids

    real_shade = shade.shade

    def spy_shade(grids, *args, **kwargs):
        seen["alive while shading"] = seen["grids"]() is not None
        return real_shade(grids, *args, **kwargs)

    monkeypatch.setattr(geoms, "aggregate_layer", spy_aggregate)
    monkeypatch.setattr(shade, "shade", spy_shade)
    x = np.array([0.1, 0.5, 0.9])
    layer = geoms.Layer(x, x, category=np.array([0, 1, 1]), n_categories=2)
    style = geoms.Style(shade.Categorical(((255, 0, 0), (0, 0, 255))), size=3.0)
    rasters, note = geoms.draw("point", layer, Canvas(8, 8, (0, 1), (0, 1)), style)
    assert seen["alive while shading"] is False
    assert rasters.shape == (1, 8, 8, 4) and note.endswith(", 0 not drawn")
