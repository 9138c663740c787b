"""Grids → RGBA rasters: point size, opacity and colour, on a transparent background.

Point size: each point is a disk ``point_diameter`` pixels wide, centred on its
pixel; pixel (y, x) is covered by every point in pixel (y − dy, x − dx) with
dy² + dx² ≤ (diameter / 2)². The grids are spread by summing shifted copies, so
the covering counts stay exact integers.

Opacity: a pixel covered by n points of opacity α gets alpha 1 − (1 − α)ⁿ, exactly
what drawing the n points one over another gives.

Colour: a constant; for categories the count-weighted mean of the category
colours covering the pixel; for a continuous value the mean value of the covering
points, mapped through a lookup table over the given limits (clamped).

Written against an array module ``xp`` (numpy by default) with operations that
CuPy also has, so GPU grids shade on the GPU.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

from ggrs.aggregate.grids import Grids
from ggrs.compose.views import RGB
from ggrs.errors import UsageError


@dataclass(frozen=True)
class Constant:
    """Every point in one colour."""

    color: RGB


@dataclass(frozen=True)
class Categorical:
    """Category k in ``colors[k]``; needs grids counted per category."""

    colors: tuple[RGB, ...]


@dataclass(frozen=True)
class Continuous:
    """The mean value per pixel through ``lut`` (n, 3) uint8, ``limits`` at its two ends."""

    lut: np.ndarray
    limits: tuple[float, float]


Colouring = Constant | Categorical | Continuous


def disk_rows(diameter: float) -> dict[int, int]:
    """Half-width of the disk on each row offset: {dy: a} covers dx in [−a, a].

    Args:
        diameter: disk diameter in pixels, ≥ 1 (1 is the centre pixel only).
    """
    r2 = (diameter / 2) ** 2
    rows = {}
    for dy in range(-math.floor(diameter / 2), math.floor(diameter / 2) + 1):
        a = math.isqrt(max(int(r2 - dy * dy), 0))
        # isqrt of the integer part can be one short or long of the float bound.
        while (a + 1) ** 2 + dy * dy <= r2:
            a += 1
        while a > 0 and a * a + dy * dy > r2:
            a -= 1
        rows[dy] = a
    return rows


def spread(grid: Any, diameter: float, xp: ModuleType = np) -> Any:
    """Sum of ``grid`` shifted over a disk, on its last two axes (H, W).

    The disk is cut into rows: for every half-width a, a horizontal box sum of
    width 2a + 1 is built by adding two shifted copies to the previous one, and
    each row offset dy adds its box sum shifted by dy. That is O(diameter) passes
    instead of one per disk pixel; integer grids stay exact.

    Args:
        grid: (..., H, W) array of counts or sums.
        diameter: disk diameter in pixels, ≥ 1.
        xp: the array module of ``grid``.

    Returns:
        An array of the same shape: ``grid`` itself for a 1-pixel disk, else
        uint32 (unsigned input whose sums fit) or int64 for integers, float64
        otherwise.
    """
    rows = disk_rows(diameter)
    if len(rows) == 1 and rows[0] == 0:
        return grid
    if grid.dtype.kind in "iub":
        # uint32 sums are exact while max × disk area stays below 2**32.
        area = sum(2 * a + 1 for a in rows.values())
        small = grid.dtype.kind == "u" and int(grid.max()) * area < (1 << 32)
        grid = grid.astype(xp.uint32 if small else xp.int64)
    else:
        grid = grid.astype(xp.float64)
    h, w = grid.shape[-2:]
    out = xp.zeros_like(grid)
    box = grid.copy()
    width = 0
    for half in sorted(set(rows.values())):
        while width < half:
            width += 1
            if width < w:
                box[..., width:] += grid[..., :-width]
                box[..., :-width] += grid[..., width:]
        for dy, a in rows.items():
            if a != half or abs(dy) >= h:
                continue
            if dy > 0:
                out[..., dy:, :] += box[..., :-dy, :]
            elif dy < 0:
                out[..., :dy, :] += box[..., -dy:, :]
            else:
                out += box
    return out


# Longest alpha lookup table; smaller opacities compute 1 − (1 − α)ⁿ per pixel.
_MAX_TABLE = 1 << 16


def alpha_table(opacity: float) -> np.ndarray | None:
    """uint8 alpha for n = 0, 1, … covering points; the last entry holds for larger n.

    The table ends where round(255 · (1 − (1 − α)ⁿ)) reaches 255. Returns None when
    that takes more than 65536 entries (α below ~1e-4).
    """
    if opacity <= 0:
        return np.zeros(1, dtype=np.uint8)
    if opacity >= 1:
        return np.array([0, 255], dtype=np.uint8)
    # (1 − α)ⁿ < 0.5/255 rounds to full alpha.
    n_full = math.ceil(math.log(0.5 / 255) / math.log1p(-opacity))
    if n_full >= _MAX_TABLE:
        return None
    alpha = 1.0 - np.power(1.0 - opacity, np.arange(n_full + 1, dtype=np.float64))
    return np.rint(alpha * 255).astype(np.uint8)


def _lookup(table: Any, index: Any, xp: ModuleType) -> Any:
    """``table[index]``; ``index`` must be a fresh array the caller gives up.

    On numpy a uint32 ``index`` is overwritten in place: a second fresh array of
    this size costs more in page faults than the lookup itself. (numpy's
    mode="clip" writes straight into ``out``; CuPy's take has no ``mode``.)
    """
    if xp is np and index.dtype == np.uint32 and table.dtype == np.uint32:
        np.take(table, index, out=index, mode="clip")
        return index
    return xp.take(table, index)


def _alpha(n: Any, opacity: float, xp: ModuleType) -> Any:
    """Alpha of each pixel covered by ``n`` points, as uint32 shifted into the top byte."""
    table = alpha_table(opacity)
    if table is None:
        alpha = xp.rint(255 * (1.0 - xp.power(1.0 - opacity, n.astype(xp.float64))))
        return alpha.astype(xp.uint32) << 24
    table = xp.asarray(table).astype(xp.uint32) << 24
    return _lookup(table, xp.minimum(n, table.shape[0] - 1), xp)


def shade(
    grids: Grids,
    colouring: Colouring,
    *,
    point_diameter: float = 1.0,
    opacity: float = 1.0,
    xp: ModuleType = np,
) -> Any:
    """RGBA rasters of every panel: (P, H, W, 4) uint8, straight alpha, row 0 on top.

    Args:
        grids: the aggregated panels (per category for :class:`Categorical`, with
            value sums for :class:`Continuous`).
        colouring: how points are coloured.
        point_diameter: point disk diameter in pixels, ≥ 1.
        opacity: α of one point, in [0, 1].
        xp: array module of the grids (numpy, or cupy for GPU grids).

    Returns:
        The rasters; pixels no point covers are (0, 0, 0, 0).

    Raises:
        UsageError: invalid diameter or opacity, or a colouring that does not fit
            the grids.
    """
    if not (math.isfinite(point_diameter) and point_diameter >= 1):
        raise UsageError(f"point diameter must be at least 1 pixel; got {point_diameter!r}")
    if not (0.0 <= opacity <= 1.0):
        raise UsageError(f"opacity must lie in [0, 1]; got {opacity!r}")
    count = xp.asarray(grids.count)
    # Pixels are built as packed little-endian uint32 (R | G<<8 | B<<16 | A<<24):
    # one pass per step instead of four strided channel writes.
    if isinstance(colouring, Categorical):
        if count.ndim != 4 or count.shape[1] != len(colouring.colors):
            raise UsageError(
                f"categorical colouring has {len(colouring.colors)} colours but the grids have "
                f"{grids.n_categories} categories"
            )
        n, pixels = _categorical(count, colouring.colors, point_diameter, xp)
        xp.bitwise_or(pixels, _alpha(n, opacity, xp), out=pixels)
    elif count.ndim != 3:
        raise UsageError("grids are counted per category; shade them with a Categorical colouring")
    elif isinstance(colouring, Continuous):
        if grids.value_sum is None:
            raise UsageError("continuous colouring needs grids with value sums")
        n = spread(count, point_diameter, xp)
        value_sum = spread(xp.asarray(grids.value_sum), point_diameter, xp)
        index = _continuous_index(n, value_sum, colouring, xp)
        lut = _pack(xp.asarray(colouring.lut), xp)
        # One extra, transparent entry (index len(lut)) for uncovered pixels.
        lut = xp.concatenate([lut, xp.zeros(1, dtype=xp.uint32)])
        pixels = _lookup(lut, index, xp)
        xp.bitwise_or(pixels, _alpha(n, opacity, xp), out=pixels)
    else:
        n = spread(count, point_diameter, xp)
        colour = _pack(xp.asarray(np.array([colouring.color], dtype=np.uint8)), xp)
        table = alpha_table(opacity)
        if table is None:
            # Uncovered pixels have alpha 0; clear their colour too.
            pixels = _alpha(n, opacity, xp) | (colour * (n > 0).astype(xp.uint32))
        else:
            # Whole pixels by table lookup: entry 0 is transparent black.
            table = (xp.asarray(table).astype(xp.uint32) << 24) | colour
            table[0] = 0
            pixels = _lookup(table, xp.minimum(n, table.shape[0] - 1), xp)
    if not np.little_endian:
        pixels = pixels.astype("<u4")
    return pixels.view(xp.uint8).reshape(*pixels.shape, 4)


def _pack(rgb: Any, xp: ModuleType) -> Any:
    """(..., 3) uint8 colours → (...) uint32 R | G<<8 | B<<16."""
    c = rgb.astype(xp.uint32)
    return c[..., 0] | (c[..., 1] << 8) | (c[..., 2] << 16)


def _categorical(
    count: Any, colors: tuple[RGB, ...], diameter: float, xp: ModuleType
) -> tuple[Any, Any]:
    """Covering counts and packed count-weighted mean colours (P, H, W) uint32."""
    palette = np.array(colors, dtype=np.int64).reshape(-1, 3)
    n = count[:, 0].astype(xp.uint32)
    for k in range(1, count.shape[1]):
        xp.add(n, count[:, k], out=n)
    # Per-channel colour sums Σ_k count_k · colour_k; uint32 holds them unless a
    # pixel has ≥ 2**32 / 255 points. Spreading is linear, so the 3 sum grids are
    # spread instead of the K category grids.
    dtype = xp.uint32 if int(n.max()) < (1 << 32) // 255 else xp.int64
    tmp = xp.empty(n.shape, dtype=dtype)
    sums = []
    for c in range(3):
        total = xp.zeros(n.shape, dtype=dtype)
        for k in np.flatnonzero(palette[:, c]):
            xp.multiply(count[:, k], dtype(palette[k, c]), out=tmp)
            xp.add(total, tmp, out=total)
        sums.append(spread(total, diameter, xp))
    n = spread(n, diameter, xp)
    # Means only where points are: plots are mostly empty pixels.
    covered = xp.flatnonzero(n)
    inv = 1.0 / n.reshape(-1)[covered]
    packed = xp.zeros(covered.shape, dtype=xp.uint32)
    for c, total in enumerate(sums):
        mean = xp.rint(total.reshape(-1)[covered] * inv)
        xp.bitwise_or(packed, mean.astype(xp.uint32) << (8 * c), out=packed)
    rgb = xp.zeros(n.shape, dtype=xp.uint32)
    rgb.reshape(-1)[covered] = packed
    return n, rgb


def _continuous_index(n: Any, value_sum: Any, colouring: Continuous, xp: ModuleType) -> Any:
    """uint32 LUT index of the mean value per pixel, clamped; len(lut) where n = 0."""
    low, high = (float(v) for v in colouring.limits)
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise UsageError(
            f"colour limits {colouring.limits!r} must be finite and increasing; expand a "
            "constant value range first (ggrs.scales.expand_range)"
        )
    size = colouring.lut.shape[0]
    t = value_sum / xp.maximum(n, 1)
    t -= low
    t *= 1.0 / (high - low)
    xp.clip(t, 0.0, 1.0, out=t)
    t *= size - 1
    xp.rint(t, out=t)
    return xp.where(n > 0, t, size).astype(xp.uint32)
