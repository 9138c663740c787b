"""Grids → RGBA rasters: point size, opacity and colour, on a transparent background.

Point size and shape: each point covers a stencil of pixels around its own
pixel: for the default shape 19 a disk ``point_diameter`` pixels wide, pixel
(y, x) covered by every point in pixel (y − dy, x − dx) with dy² + dx² ≤
(diameter / 2)²; for the other ggplot2 shapes (R pch 0–25) the masks of
:mod:`ggrs.stencils`. The grids are spread by summing shifted copies, so the
covering counts stay exact integers. Open shapes (0–14) paint their stroke in
the point colour, solid ones (15–20) their interior; 21–25 paint the interior in
the point colour and their outline in black over it (:func:`composite`).

Opacity: a pixel covered by n points of opacity α gets alpha 1 − (1 − α)ⁿ, exactly
what drawing the n points one over another gives.

Colour: a constant; for categories the count-weighted mean of the category
colours covering the pixel; for a continuous value the mean value of the covering
points, mapped through a lookup table over the given limits (clamped).

Layers (several y-factors in one panel) are shaded one by one, each with its
own colouring and shape, and stacked with :func:`composite`.

Written against an array module ``xp`` (numpy by default) with operations that
CuPy also has, so GPU grids shade on the GPU.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

from ggrs import stencils
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


@dataclass(frozen=True, eq=False)
class Mixed:
    """Per-category counts reduced to what shading needs (see :func:`mix`): the
    points per pixel and the per-channel sums Σ_k count_k · colour_k, each
    (P, H, W). Shading it gives the rasters that shading its grids gives.

    Attributes:
        count: points per pixel, uint32.
        sums: the red, green and blue sums (uint32, or int64 when a pixel's sum
            could overflow it).
        n_categories: K, the categories the sums were made from.
        dropped: points outside every panel (as in :class:`Grids`).
    """

    count: Any
    sums: tuple[Any, Any, Any]
    n_categories: int
    dropped: int = 0


def mix(grids: Grids, colouring: Categorical, xp: ModuleType = np) -> Mixed:
    """Reduce grids counted per category to the four planes shading needs.

    The K count planes are the largest array of a categorical plot (15 MB for 12
    panels × 8 colours at 200 × 200): a caller that mixes first and drops the
    grids keeps them out of the memory peak of shading.

    Raises:
        UsageError: the grids are not counted per category, or their categories
            and the colours differ in number.
    """
    count = xp.asarray(grids.count)
    if count.ndim != 4 or count.shape[1] != len(colouring.colors):
        raise UsageError(
            f"categorical colouring has {len(colouring.colors)} colours but the grids have "
            f"{count.shape[1] if count.ndim == 4 else 0} categories"
        )
    palette = np.array(colouring.colors, dtype=np.int64).reshape(-1, 3)
    n = count[:, 0].astype(xp.uint32)
    for k in range(1, count.shape[1]):
        xp.add(n, count[:, k], out=n)
    # uint32 holds the sums unless a pixel has ≥ 2**32 / 255 points.
    dtype = xp.uint32 if int(n.max()) < (1 << 32) // 255 else xp.int64
    tmp = xp.empty(n.shape, dtype=dtype)
    sums = []
    for c in range(3):
        total = xp.zeros(n.shape, dtype=dtype)
        for k in np.flatnonzero(palette[:, c]):
            xp.multiply(count[:, k], dtype(palette[k, c]), out=tmp)
            xp.add(total, tmp, out=total)
        sums.append(total)
    return Mixed(n, (sums[0], sums[1], sums[2]), count.shape[1], grids.dropped)


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


Footprint = float | np.ndarray


def spread(grid: Any, footprint: Footprint, xp: ModuleType = np) -> Any:
    """Sum of ``grid`` shifted over a footprint, on its last two axes (H, W).

    The footprint is cut into row runs (:func:`ggrs.stencils.runs`): each run of
    width L on row dy adds a horizontal box sum of width L, shifted by the run's
    place. The box sums are built by adding shifted copies to the previous one in
    order of width, so a footprint costs one pass per run plus one per unit of its
    widest run — O(rows), not O(area); integer grids stay exact. A footprint whose
    every row is one run centred on the point (the disk, filled squares and
    diamonds) grows its boxes by two columns a step. A sparse numpy grid (few
    points for its size: small tables, large images) is spread point by point
    instead, each covered pixel adding its value over the footprint.

    Args:
        grid: (..., H, W) array of counts or sums.
        footprint: a disk diameter in pixels (≥ 1), or a centred (2R+1, 2R+1) bool
            mask (:class:`ggrs.stencils.Stencil` ``fill``/``outline``).
        xp: the array module of ``grid``.

    Returns:
        An array of the same shape: ``grid`` itself for a 1-pixel footprint, else
        uint32 (unsigned input whose sums fit) or int64 for integers, float64
        otherwise.
    """
    return spread_planes([grid], footprint, xp)[0]


# Spreading point by point costs ~8 ns per (covered pixel, footprint pixel) pair,
# shifted sums ~0.5 ns per grid cell and pass, a pass per run of the footprint
# and per column of its widest run (measured on 0.5 and 2.6 million cells,
# diameters 3 to 8): point by point while pairs ≤ cells × passes / this.
POINTWISE_RATIO = 16


def spread_planes(planes: Sequence[Any], footprint: Footprint, xp: ModuleType = np) -> list[Any]:
    """:func:`spread` of each plane: a count grid first, then grids that are zero
    wherever it is (sums over the same points).

    The planes share the work that depends only on where the points are: which
    way to spread, and for sparse grids the covered pixels' places.
    """
    if isinstance(footprint, np.ndarray):
        row_runs = stencils.runs(footprint)
    else:
        row_runs = {dy: ((-a, a),) for dy, a in disk_rows(footprint).items()}
    if row_runs == {0: ((0, 0),)}:
        return list(planes)
    runs = [b - a + 1 for rr in row_runs.values() for a, b in rr]
    area = sum(runs)
    if xp is np and _pointwise_is_cheaper(planes[0], runs):
        return _spread_pointwise(planes, row_runs, area)
    planes = [_widen(xp.asarray(p), area, xp) for p in planes]
    if all(len(rr) == 1 and rr[0][0] == -rr[0][1] for rr in row_runs.values()):
        rows = {dy: rr[0][1] for dy, rr in row_runs.items()}
        return [centred_filter(p, rows, xp) for p in planes]
    return [_spread_runs(p, row_runs, xp) for p in planes]


def _pointwise_is_cheaper(count: np.ndarray, runs: list[int]) -> bool:
    """Whether spreading ``count`` over a footprint of these row runs costs less point
    by point than by shifted sums (see POINTWISE_RATIO)."""
    pairs = int(np.count_nonzero(count)) * sum(runs)
    return pairs * POINTWISE_RATIO <= count.size * (len(runs) + max(runs, default=0))


def _spread_dtype(dtype: Any, largest: int, area: int, xp: ModuleType) -> Any:
    """What spreading a grid of ``dtype`` whose largest value is ``largest`` sums in."""
    if dtype.kind in "iub":
        # uint32 sums are exact while max × footprint area stays below 2**32.
        small = dtype.kind == "u" and largest * area < (1 << 32)
        return xp.uint32 if small else xp.int64
    return xp.float64


def _widen(grid: Any, area: int, xp: ModuleType) -> Any:
    largest = int(grid.max()) if grid.dtype.kind == "u" and grid.size else 0
    return grid.astype(_spread_dtype(grid.dtype, largest, area, xp))


# Covered pixels are spread a block at a time, so the temporary index arrays
# stay near this many (pixel, footprint pixel) pairs whatever the point size.
PAIRS_PER_BLOCK = 1 << 18


def _spread_pointwise(
    planes: Sequence[Any], row_runs: dict[int, tuple[tuple[int, int], ...]], area: int
) -> list[np.ndarray]:
    """:func:`spread_planes` point by point: each pixel that ``planes[0]`` covers adds
    each plane's value there over the footprint."""
    shape = planes[0].shape
    covered = np.flatnonzero(planes[0])
    values = [_widen(np.asarray(plane).reshape(-1)[covered], area, np) for plane in planes]
    outs = [np.zeros(shape, dtype=v.dtype) for v in values]
    dy = [y for y, rr in row_runs.items() for a, b in rr for _ in range(a, b + 1)]
    dx = [x for rr in row_runs.values() for a, b in rr for x in range(a, b + 1)]
    offsets = np.array(dy, dtype=np.int64), np.array(dx, dtype=np.int64)
    block = max(1, PAIRS_PER_BLOCK // max(area, 1))
    # Blocks and pairs go in covered-pixel order: float sums add in a fixed order.
    for start in range(0, covered.size, block):
        targets, valid = _footprint_targets(covered[start : start + block], shape, *offsets)
        for v, out in zip(values, outs, strict=True):
            weights = np.broadcast_to(v[start : start + block, None], valid.shape)[valid]
            np.add.at(out.reshape(-1), targets, weights)
    return outs


def _footprint_targets(
    covered: np.ndarray, shape: tuple[int, ...], dy: np.ndarray, dx: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Flat indices (covered pixel, footprint pixel (dy, dx)) that each covered
    pixel adds to, and which of those pairs lie inside the pixel's own panel."""
    h, w = shape[-2:]
    panel, within = np.divmod(covered, h * w)
    y, x = np.divmod(within, w)
    ty = y[:, None] + dy
    tx = x[:, None] + dx
    valid = (ty >= 0) & (ty < h) & (tx >= 0) & (tx < w)
    targets = (panel[:, None] * h + ty) * w + tx
    return targets[valid], valid


def centred_filter(
    grid: Any, rows: dict[int, int], xp: ModuleType = np, combine: Any = None
) -> Any:
    """``combine`` (add by default, or maximum) of ``grid`` over the footprint whose
    row dy covers dx in [−a, a] for {dy: a}, on the last two axes.

    Boxes grow two columns a step and each row offset adds its box shifted by dy:
    O(rows) passes. With add it is :func:`spread`'s sum; with maximum a grey
    dilation (line strokes, :func:`ggrs.aggregate.lines.thicken`). ``grid`` must be
    non-negative (the output starts at 0).
    """
    combine = xp.add if combine is None else combine
    h, w = grid.shape[-2:]
    out = xp.zeros_like(grid)
    box = grid.copy()
    width = 0
    for half in sorted(set(rows.values())):
        while width < half:
            width += 1
            if width < w:
                combine(box[..., width:], grid[..., :-width], out=box[..., width:])
                combine(box[..., :-width], grid[..., width:], out=box[..., :-width])
        for dy, a in rows.items():
            if a != half or abs(dy) >= h:
                continue
            if dy > 0:
                combine(out[..., dy:, :], box[..., :-dy, :], out=out[..., dy:, :])
            elif dy < 0:
                combine(out[..., :dy, :], box[..., -dy:, :], out=out[..., :dy, :])
            else:
                combine(out, box, out=out)
    return out


def _spread_runs(
    grid: Any, row_runs: dict[int, tuple[tuple[int, int], ...]], xp: ModuleType
) -> Any:
    """Any runs: box[x] = Σ grid[x − j] for j < L, grown one column a step."""
    h, w = grid.shape[-2:]
    by_width: dict[int, list[tuple[int, int]]] = {}
    for dy, rr in row_runs.items():
        for a, b in rr:
            by_width.setdefault(b - a + 1, []).append((dy, a))
    # A run starting left of the point (a < 0) reads the box up to −a columns past
    # the right edge, where it still sums the grid's last columns.
    pad = max(0, -min(a for runs in by_width.values() for _, a in runs))
    padded = xp.zeros((*grid.shape[:-1], w + pad), dtype=grid.dtype)
    padded[..., :w] = grid
    out = xp.zeros_like(grid)
    box = padded.copy()
    length = 1
    for width in sorted(by_width):
        while length < width:
            if length < w + pad:
                box[..., length:] += padded[..., :-length]
            length += 1
        # Σ_{dx=a..b} grid[y − dy, x − dx] = box[y − dy, x − a].
        for dy, a in by_width[width]:
            if abs(dy) >= h or a >= w:
                continue
            y0, y1 = max(dy, 0), h + min(dy, 0)
            x0 = max(a, 0)
            out[..., y0:y1, x0:w] += box[..., y0 - dy : y1 - dy, x0 - a : w - a]
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
    grids: Grids | Mixed,
    colouring: Colouring,
    *,
    point_diameter: float = 1.0,
    opacity: float = 1.0,
    shape: int = 19,
    xp: ModuleType = np,
) -> Any:
    """RGBA rasters of every panel: (P, H, W, 4) uint8, straight alpha, row 0 on top.

    Args:
        grids: the aggregated panels (per category for :class:`Categorical`, or
            already :func:`mix`-ed; with value sums for :class:`Continuous`).
        colouring: how points are coloured.
        point_diameter: point diameter in pixels (the circle's), ≥ 1.
        opacity: α of one point, in [0, 1].
        shape: ggplot2 point shape, R pch code 0–25 (:mod:`ggrs.stencils`). 21–25
            get the point colour inside and a black outline over it; the outline
            pixels count every point, whatever its colour.
        xp: array module of the grids (numpy, or cupy for GPU grids).

    Returns:
        The rasters; pixels no point covers are (0, 0, 0, 0).

    Raises:
        UsageError: invalid diameter, opacity or shape, or a colouring that does
            not fit the grids.
    """
    if not (math.isfinite(point_diameter) and point_diameter >= 1):
        raise UsageError(f"point diameter must be at least 1 pixel; got {point_diameter!r}")
    if not (0.0 <= opacity <= 1.0):
        raise UsageError(f"opacity must lie in [0, 1]; got {opacity!r}")
    shape = stencils.check_shape(shape)
    if isinstance(grids, Mixed):
        if not isinstance(colouring, Categorical) or grids.n_categories != len(colouring.colors):
            raise UsageError(
                f"mixed grids of {grids.n_categories} categories need a categorical colouring "
                "of as many colours"
            )
    elif isinstance(colouring, Categorical):
        grids = mix(grids, colouring, xp)
    count = xp.asarray(grids.count)  # points per pixel (P, H, W) from here on
    if count.ndim != 3:
        raise UsageError("grids are counted per category; shade them with a Categorical colouring")
    if isinstance(colouring, Continuous) and grids.value_sum is None:
        raise UsageError("continuous colouring needs grids with value sums")
    if shape in (16, 19):
        # The disk itself: the plain diameter takes spread's disk rows directly.
        return _paint(grids, colouring, point_diameter, opacity, xp)
    stencil = stencils.stencil(shape, point_diameter)
    if not stencil.outlined:
        return _paint(grids, colouring, stencil.covered, opacity, xp)
    # 21-25: the fill in the point colour, then the outline of every point over it.
    outline = _paint(Grids(count), Constant(stencils.OUTLINE), stencil.outline, opacity, xp)
    if not stencil.fill.any():
        return outline
    return composite([_paint(grids, colouring, stencil.fill, opacity, xp), outline], xp=xp)


def _paint(
    grids: Grids | Mixed,
    colouring: Colouring,
    footprint: Footprint,
    opacity: float,
    xp: ModuleType,
) -> Any:
    """:func:`shade` for one footprint, grids and colouring already checked (and
    categories mixed)."""
    count = xp.asarray(grids.count)
    # Pixels are built as packed little-endian uint32 (R | G<<8 | B<<16 | A<<24):
    # one pass per step instead of four strided channel writes.
    if isinstance(grids, Mixed):
        n, pixels = _categorical(grids, footprint, xp)
        xp.bitwise_or(pixels, _alpha(n, opacity, xp), out=pixels)
    elif isinstance(colouring, Continuous):
        n, value_sum = spread_planes([count, xp.asarray(grids.value_sum)], footprint, xp)
        index = _continuous_index(n, value_sum, colouring, xp)
        lut = _pack(xp.asarray(colouring.lut), xp)
        # One extra, transparent entry (index len(lut)) for uncovered pixels.
        lut = xp.concatenate([lut, xp.zeros(1, dtype=xp.uint32)])
        pixels = _lookup(lut, index, xp)
        xp.bitwise_or(pixels, _alpha(n, opacity, xp), out=pixels)
    else:
        n = spread(count, footprint, xp)
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


def composite(layers: Sequence[Any], *, xp: ModuleType = np) -> Any:
    """Straight-alpha "over" of RGBA rasters, ``layers[0]`` at the bottom.

    Each step puts the next layer t over the result b so far, alphas a = A/255:
    a = a_t + a_b·(1 − a_t) and colour = (c_t·a_t + c_b·a_b·(1 − a_t)) / a. Both
    are computed exactly in integers and rounded half up to uint8; a pixel where
    both are transparent stays (0, 0, 0, 0).

    Args:
        layers: one or more (P, H, W, 4) uint8 rasters of one shape, as
            :func:`shade` returns them.
        xp: their array module (numpy, or cupy).

    Returns:
        A new (P, H, W, 4) uint8 raster (``layers[0]`` itself when it is the only one).

    Raises:
        UsageError: no layers, or a layer of another shape or dtype.
    """
    if not layers:
        raise UsageError("composite needs at least one layer")
    first = layers[0]
    for i, layer in enumerate(layers):
        if layer.dtype != np.uint8 or layer.ndim != 4 or layer.shape[-1] != 4:
            raise UsageError(
                f"layer {i} must be a (P, H, W, 4) uint8 RGBA raster; got {layer.dtype} "
                f"{tuple(layer.shape)}"
            )
        if layer.shape != first.shape:
            raise UsageError(
                f"layer {i} has shape {tuple(layer.shape)} but layer 0 has {tuple(first.shape)}; "
                "shade every layer on the same canvas"
            )
    out = first
    for top in layers[1:]:
        out = _over(top, out, xp)
    return out


def _over(top: Any, bottom: Any, xp: ModuleType) -> Any:
    """One "over" step on packed pixels; the exact formula only where both are see-through.

    A transparent top leaves the bottom, an opaque top (or a top over nothing) is
    the result itself: that is what the formula gives there, and those are
    nearly all pixels of point layers.
    """
    u32 = xp.uint32
    t32 = xp.ascontiguousarray(top).view("<u4")[..., 0]
    b32 = xp.ascontiguousarray(bottom).view("<u4")[..., 0]
    at = t32 >> 24
    ab = b32 >> 24
    out = xp.where(at == 0, b32, t32)
    # Both transparent: (0, 0, 0, 0), whatever colour bytes the inputs hold.
    out[(out >> 24) == 0] = 0
    # at in 1..254 (unsigned wrap-around) and ab > 0.
    mixed = xp.flatnonzero(((at - 1) < 254) & (ab != 0))
    if mixed.size:
        t = t32.reshape(-1)[mixed]
        b = b32.reshape(-1)[mixed]
        at, ab = t >> 24, b >> 24
        # In 1/255² units: the weights of the two colours, and the result's alpha.
        wt = at * 255
        wb = ab * (255 - at)
        n = wt + wb
        # Round half up; every product stays below 2**26.
        packed = ((2 * n + 255) // 510) << 24
        for shift in (0, 8, 16):
            num = ((t >> shift) & 0xFF) * wt + ((b >> shift) & 0xFF) * wb
            packed |= ((2 * num + n) // (2 * n)) << shift
        out.reshape(-1)[mixed] = packed.astype(u32)
    return out.astype("<u4", copy=False).view(xp.uint8).reshape(*out.shape, 4)


def _pack(rgb: Any, xp: ModuleType) -> Any:
    """(..., 3) uint8 colours → (...) uint32 R | G<<8 | B<<16."""
    c = rgb.astype(xp.uint32)
    return c[..., 0] | (c[..., 1] << 8) | (c[..., 2] << 16)


def _categorical(mixed: Mixed, footprint: Footprint, xp: ModuleType) -> tuple[Any, Any]:
    """Covering counts and packed count-weighted mean colours (P, H, W) uint32.

    Spreading is linear, so the three channel sums are spread instead of the K
    category grids."""
    n, *sums = spread_planes([xp.asarray(mixed.count), *mixed.sums], footprint, xp)
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
