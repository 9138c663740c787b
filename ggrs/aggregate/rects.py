"""Rectangles → per-pixel grids: how many rectangles cover each pixel (bars, tiles).

A pixel is covered by a rectangle when the pixel's centre lies inside it, the
lower edges included and the upper ones excluded: two rectangles that share an
edge (dodged bars, neighbouring tiles) never cover the same pixel twice, and a
rectangle narrower than a pixel may cover no pixel centre at all (it is then
counted as dropped).

Pixel arithmetic is the one of :mod:`ggrs.aggregate.binning`: on an axis with
range (lo, hi) and n pixels, u(v) = v · s + t with s = n / (hi − lo) and
t = −lo · s, so pixel i spans u ∈ [i, i + 1) and its centre is u = i + 0.5. A
rectangle [a, b) covers the centres of pixels i with a ≤ centre < b, i.e.
i ∈ [ceil(u(a) − 0.5), ceil(u(b) − 0.5)), clipped to [0, n).

All rectangles are added at once: each becomes +1 at two corners and −1 at the
other two of a (layers, H + 1, W + 1) difference array (``np.add.at``), and
two cumulative sums turn that into exact integer coverage counts. The cost is
one pass over the rectangles plus two over the grid, whatever the rectangles'
sizes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ggrs.aggregate.binning import AxisTable
from ggrs.aggregate.canvas import Canvas
from ggrs.aggregate.grids import Grids

# Shared column checks: rectangles take the same dtypes as points.
from ggrs.aggregate.points import check_codes, init_columns


@dataclass(frozen=True, eq=False)
class Rects:
    """Columns of one layer of axis-aligned rectangles, all of the same length N.

    The two x edges (and the two y edges) may come in either order: a bar going
    down from its baseline has y1 < y0.

    Attributes:
        x0, x1: float32 or float64 x edges in data units of the rectangle's panel.
        y0, y1: like ``x0``/``x1``, for y.
        panel: integer panel codes 0..P-1, or None when there is one panel.
        category: integer category codes 0..K-1 for categorical colour, or None.
        value: float values for continuous colour (summed per pixel), or None.
        n_categories: K, the number of category levels (unused levels included).
            0 means "max(category) + 1"; ignored when ``category`` is None.
    """

    x0: np.ndarray
    x1: np.ndarray
    y0: np.ndarray
    y1: np.ndarray
    panel: np.ndarray | None = None
    category: np.ndarray | None = None
    value: np.ndarray | None = None
    n_categories: int = 0

    def __post_init__(self) -> None:
        init_columns(self, "rectangles", ("x0", "x1", "y0", "y1"), ("panel", "category"))

    def __len__(self) -> int:
        return len(self.x0)


def _spans(
    a: np.ndarray, b: np.ndarray, panel: np.ndarray | None, table: AxisTable, thin: bool
) -> tuple[np.ndarray, np.ndarray]:
    """First and one-past-last pixel whose centre lies in [min(a, b), max(a, b)), clipped.

    With ``thin``, an extent > 0 that overlaps the range but holds no pixel
    centre gets the one pixel under its midpoint (clipped into the range).
    Non-finite edges give garbage spans; the caller drops those rectangles.
    """
    if panel is None or table.shared:
        scale, translate = table.scale[0], table.translate[0]
    else:
        scale, translate = table.scale[panel], table.translate[panel]
    # Same operations as binning (v · s + t), so pixel edges agree with points.
    u_lo = np.minimum(a, b, dtype=np.float64)
    u_hi = np.maximum(a, b, dtype=np.float64)
    for u in (u_lo, u_hi):
        np.multiply(u, scale, out=u)
        np.add(u, translate, out=u)
    first, stop = u_lo - 0.5, u_hi - 0.5
    for edge in (first, stop):
        np.ceil(edge, out=edge)
        np.clip(edge, 0, table.n, out=edge)
    if thin:
        lost = (first >= stop) & (u_hi > u_lo) & (u_hi > 0) & (u_lo < table.n)
        if lost.any():
            mid = np.clip(np.floor((u_lo[lost] + u_hi[lost]) / 2), 0, table.n - 1)
            first[lost] = mid
            stop[lost] = mid + 1
    return first.astype(np.intp), stop.astype(np.intp)


def aggregate_rects(rects: Rects, canvas: Canvas, *, keep_thin: bool = False) -> Grids:
    """Count, per pixel of every panel, the rectangles that cover the pixel's centre.

    Args:
        rects: rectangle edges plus optional panel codes, category codes or values.
        canvas: panel pixel size and per-panel data ranges.
        keep_thin: a rectangle thinner than a pixel may fall between pixel centres
            and vanish (a bar chart with more bars than pixels loses some); with
            True, such a rectangle takes, on that axis, the one pixel under its
            midpoint, so every rectangle of non-zero width and height that
            overlaps its panel is drawn. Zero-extent rectangles stay invisible.

    Returns:
        The grids, row 0 at the top of each panel: uint32 counts of shape (P, H, W),
        or (P, K, H, W) per category; with values, ``value_sum`` holds the sum of
        the covering rectangles' values per pixel (accumulated in float64 through
        cumulative sums, so a sum may differ from the plain one by a few ulps, and
        pixels with count 0 may hold a residue near 0 that shading ignores).
        ``dropped`` counts the rectangles with a non-finite edge or value, or that
        cover no pixel centre of their panel (outside it, or thinner than a pixel
        unless ``keep_thin``).

    Raises:
        DataError: panel or category codes outside the canvas / category count.
    """
    check_codes(rects, canvas, "rectangles")
    w, h = canvas.width, canvas.height
    k = rects.n_categories
    n_layers = canvas.n_panels * max(k, 1)
    panel = None if rects.panel is None else rects.panel.astype(np.intp, copy=False)
    with np.errstate(invalid="ignore", over="ignore"):
        c0, c1 = _spans(rects.x0, rects.x1, panel, AxisTable(canvas.x_ranges, w), keep_thin)
        i0, i1 = _spans(rects.y0, rects.y1, panel, AxisTable(canvas.y_ranges, h), keep_thin)
    finite = (
        np.isfinite(rects.x0)
        & np.isfinite(rects.x1)
        & np.isfinite(rects.y0)
        & np.isfinite(rects.y1)
    )
    if rects.value is not None:
        finite &= np.isfinite(rects.value)
    keep = finite & (c0 < c1) & (i0 < i1)
    dropped = len(rects) - int(np.count_nonzero(keep))
    if dropped:
        c0, c1, i0, i1 = c0[keep], c1[keep], i0[keep], i1[keep]
    # Data pixel iy counts from the bottom; grid row H − 1 − iy from the top, so
    # the y span [i0, i1) becomes the rows [H − i1, H − i0).
    r0, r1 = h - i1, h - i0
    layer = np.zeros(len(c0), dtype=np.intp)
    if panel is not None:
        layer += panel[keep] if dropped else panel
    if k:
        layer *= k
        layer += rects.category[keep] if dropped else rects.category
    # Flat indices of the four corners in the (layers, H + 1, W + 1) difference array.
    stride = (h + 1) * (w + 1)
    row_start = layer * stride
    top = row_start + r0 * (w + 1)
    bottom = row_start + r1 * (w + 1)
    plus = np.concatenate((top + c0, bottom + c1))
    minus = np.concatenate((top + c1, bottom + c0))
    size = n_layers * stride
    # Partial sums never exceed the number of rectangles, so int32 is exact below
    # 2**31 of them and halves the grid passes' memory traffic.
    dtype = np.int32 if len(rects) < (1 << 31) else np.int64
    diff = np.zeros(size, dtype=dtype)
    # ufunc.at with a typed scalar takes numpy's fast indexed loop, in place.
    np.add.at(diff, plus, dtype(1))
    np.add.at(diff, minus, dtype(-1))
    # Coverage is never negative; astype makes the one contiguous copy of the view.
    count = _integrate(diff, n_layers, h, w).astype(np.uint32)
    value_sum = None
    if rects.value is not None:
        v = rects.value[keep] if dropped else rects.value
        v = v.astype(np.float64, copy=False)
        vdiff = np.zeros(size)
        np.add.at(vdiff, plus, np.concatenate((v, v)))
        np.subtract.at(vdiff, minus, np.concatenate((v, v)))
        value_sum = np.ascontiguousarray(_integrate(vdiff, n_layers, h, w))
        value_sum = value_sum.reshape(canvas.n_panels, h, w)
    shape = (canvas.n_panels, k, h, w) if k else (canvas.n_panels, h, w)
    return Grids(count=count.reshape(shape), value_sum=value_sum, dropped=dropped)


def _integrate(diff: np.ndarray, n_layers: int, h: int, w: int) -> np.ndarray:
    """Coverage (n_layers, H, W) from a flat (n_layers, H + 1, W + 1) difference array."""
    grid = diff.reshape(n_layers, h + 1, w + 1)
    np.cumsum(grid, axis=1, out=grid)
    np.cumsum(grid, axis=2, out=grid)
    return grid[:, :h, :w]
