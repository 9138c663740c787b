"""Shading: opacity compositing, disk spreading, colour mixing and LUT mapping."""

from __future__ import annotations

import numpy as np
import pytest

from ggrs import shade
from ggrs.aggregate import Grids
from ggrs.errors import UsageError


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


def test_disk_spreading_by_hand():
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
def test_spread_equals_sum_over_disk_offsets(diameter):
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
