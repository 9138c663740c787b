"""Bar geometry: one rectangle per table row, from its baseline to its y value.

Rules (ggplot2's ``geom_col`` with ``position_dodge``):

* Width: ``width`` × the resolution of x in the bar's panel, the smallest gap
  between two distinct x values there (1 when the panel has one distinct x).
  ggplot2 takes the smallest resolution over all panels instead; per panel keeps
  free-x facets readable and is the same whenever the panels share their x values.
* Height: from the baseline y0 (Tercen's ``.y0s``; 0 when absent) to y, so a bar
  whose y is below its baseline goes down.
* Dodge: the rows of a panel that share an x value and have a category split the
  bar's slot [x − w/2, x + w/2] into equal sub-slots, one per category present at
  that x, in category order (ggplot2 ``position_dodge``: an x where only two of
  three categories have a bar gets two half-width bars). Rows with the same
  panel, x and category share a sub-slot and are drawn over one another.
* Bars are not stacked: ``position_stack`` is not implemented.
* Rows with a non-finite x, y or baseline are dropped.

The rectangles go to :func:`ggrs.aggregate.rects.aggregate_rects`; the ranges
the position scales must cover come from :func:`bar_limits`.
"""

from __future__ import annotations

import math

import numpy as np

from ggrs.aggregate.rects import Rects
from ggrs.errors import DataError, UsageError


def _floats(name: str, values: object, n: int | None) -> np.ndarray:
    arr = np.asarray(values)
    if arr.dtype.kind not in "fiu" or arr.ndim != 1:
        raise DataError(
            f"bar column {name!r} must be a 1-D numeric array; got dtype {arr.dtype}, "
            f"shape {arr.shape}"
        )
    if n is not None and len(arr) != n:
        raise DataError(f"bar column {name!r} has {len(arr)} values but x has {n}")
    return arr.astype(np.float64, copy=False)


def _codes(name: str, values: object, n: int) -> np.ndarray:
    arr = np.asarray(values)
    if arr.dtype.kind not in "iu" or arr.ndim != 1:
        raise DataError(
            f"bar column {name!r} must be 1-D integer codes; got dtype {arr.dtype}, "
            f"shape {arr.shape} (factorise the column first)"
        )
    if len(arr) != n:
        raise DataError(f"bar column {name!r} has {len(arr)} values but x has {n}")
    if len(arr) and int(arr.min()) < 0:
        raise DataError(f"bar column {name!r} has negative codes (min {int(arr.min())})")
    return arr.astype(np.int64, copy=False)


def bar_rects(
    x: np.ndarray,
    y: np.ndarray,
    y0: np.ndarray | None = None,
    panel: np.ndarray | None = None,
    category: np.ndarray | None = None,
    n_categories: int = 0,
    width: float = 0.9,
    value: np.ndarray | None = None,
) -> Rects:
    """The rectangles of a dodged bar chart (see the module notes for the rules).

    Args:
        x: bar centres, one per row.
        y: bar tops (or bottoms, for bars below their baseline).
        y0: baselines per row, or None for 0.
        panel: integer panel codes per row, or None for one panel.
        category: integer category codes per row (dodged and coloured), or None.
        n_categories: K for the rectangles' categories (0: max(category) + 1).
        width: bar width as a fraction of the x resolution, > 0.
        value: continuous colour value per row, carried to the rectangles, or None.

    Returns:
        One rectangle per kept row, in row order; ``x0 < x1`` and ``y0`` is the
        baseline, ``y1`` the value.

    Raises:
        UsageError: ``width`` is not a positive finite number.
        DataError: columns of different lengths or wrong types, negative codes.
    """
    if isinstance(width, bool) or not (
        isinstance(width, int | float) and math.isfinite(width) and width > 0
    ):
        raise UsageError(f"bar width must be a positive number (0.9 is ggplot2's); got {width!r}")
    xs = _floats("x", x, None)
    n = len(xs)
    ys = _floats("y", y, n)
    base = np.zeros(n) if y0 is None else _floats("y0", y0, n)
    pan = None if panel is None else _codes("panel", panel, n)
    cat = None if category is None else _codes("category", category, n)
    val = None if value is None else _floats("value", value, n)
    keep = np.isfinite(xs) & np.isfinite(ys) & np.isfinite(base)
    if not keep.all():
        xs, ys, base = xs[keep], ys[keep], base[keep]
        pan = None if pan is None else pan[keep]
        cat = None if cat is None else cat[keep]
        val = None if val is None else val[keep]
    m = len(xs)
    pan_or_zero = np.zeros(m, dtype=np.int64) if pan is None else pan
    cat_or_zero = np.zeros(m, dtype=np.int64) if cat is None else cat
    # Rows sorted by (panel, x, category). Rows with equal keys get equal
    # rectangles, so the sort need not be stable.
    distinct_x, x_code = np.unique(xs, return_inverse=True)
    n_x = len(distinct_x)
    n_cat = int(cat_or_zero.max()) + 1 if m else 1
    n_pan = int(pan_or_zero.max()) + 1 if m else 1
    if n_pan * n_x * n_cat < (1 << 62):
        # One integer sort of a combined key: ≈3× faster than a three-key lexsort.
        key = (pan_or_zero * n_x + x_code) * n_cat + cat_or_zero
        order = np.argsort(key)
    else:
        order = np.lexsort((cat_or_zero, x_code, pan_or_zero))
    sp, sx, sc = pan_or_zero[order], xs[order], cat_or_zero[order]
    new_panel = np.ones(m, dtype=bool)
    new_panel[1:] = sp[1:] != sp[:-1]
    new_x = new_panel.copy()
    new_x[1:] |= sx[1:] != sx[:-1]
    new_cat = new_x.copy()
    new_cat[1:] |= sc[1:] != sc[:-1]
    slot = _slot_widths(sx, sp, new_panel, new_x) * width
    # Dodge: rank of each row's category among those present at its (panel, x).
    x_group = np.cumsum(new_x) - 1
    cat_rank = np.cumsum(new_cat) - 1
    first_rank = cat_rank[new_x]
    rank = cat_rank - first_rank[x_group]
    present = np.diff(np.append(first_rank, cat_rank[-1] + 1 if m else 0))[x_group]
    # ggplot2's pos_dodge arithmetic: sub-slot centres, then ± half a sub-slot, so
    # an undodged bar is exactly x ± slot / 2.
    sub = slot / present
    centre = sx + slot * ((rank + 0.5) / present - 0.5)
    left = np.empty(m)
    left[order] = centre - sub / 2
    right = np.empty(m)
    right[order] = centre + sub / 2
    return Rects(
        x0=left,
        x1=right,
        y0=base,
        y1=ys,
        panel=pan,
        category=cat,
        value=val,
        n_categories=n_categories if cat is not None else 0,
    )


def _slot_widths(
    sx: np.ndarray, sp: np.ndarray, new_panel: np.ndarray, new_x: np.ndarray
) -> np.ndarray:
    """Per sorted row, its panel's x resolution: the smallest gap between distinct x."""
    m = len(sx)
    if m == 0:
        return np.zeros(0)
    distinct = np.flatnonzero(new_x)
    dx, dp = sx[distinct], sp[distinct]
    gaps = np.diff(dx)
    same_panel = dp[1:] == dp[:-1]
    panel_index = np.cumsum(new_panel) - 1
    n_groups = int(panel_index[-1]) + 1
    resolution = np.full(n_groups, np.inf)
    np.minimum.at(resolution, panel_index[distinct[1:]][same_panel], gaps[same_panel])
    # A panel with a single distinct x has no gap: ggplot2's resolution is then 1.
    resolution[np.isinf(resolution)] = 1.0
    return resolution[panel_index]


def bar_limits(rects: Rects, n_panels: int) -> tuple[np.ndarray, np.ndarray]:
    """The x and y range per panel that the bars cover, full width and baseline included.

    Recommended use in the pipeline's scale training, which trains ranges per
    facet row/column from row arrays: train x on ``concatenate((x0, x1))`` and y
    on ``concatenate((y0, y1))`` with the panel's facet codes repeated twice (the
    bars then fit exactly, as points would), or merge these per-panel ranges into
    the trained ones with min/max. Either way the baseline (0 by default) is in
    the y range, as in ggplot2.

    Args:
        rects: bar rectangles from :func:`bar_rects`.
        n_panels: P, the number of panels the codes refer to.

    Returns:
        ``(x_ranges, y_ranges)``: (P, 2) float64 arrays of (low, high); NaN rows
        for panels without bars.

    Raises:
        DataError: panel codes outside 0..P-1, or codes missing when P > 1.
    """
    if isinstance(n_panels, bool) or not isinstance(n_panels, int | np.integer) or n_panels < 1:
        raise UsageError(f"n_panels must be a positive integer; got {n_panels!r}")
    if rects.panel is None:
        if n_panels != 1:
            raise DataError(f"{n_panels} panels but the bars have no panel codes")
        codes = np.zeros(len(rects), dtype=np.intp)
    else:
        codes = rects.panel.astype(np.intp, copy=False)
        if len(codes) and (int(codes.min()) < 0 or int(codes.max()) >= n_panels):
            raise DataError(
                f"bar panel codes span {int(codes.min())}..{int(codes.max())} but must lie "
                f"in 0..{n_panels - 1}"
            )
    out = []
    for a, b in ((rects.x0, rects.x1), (rects.y0, rects.y1)):
        low = np.full(n_panels, np.inf)
        high = np.full(n_panels, -np.inf)
        for edge in (a, b):
            np.minimum.at(low, codes, edge.astype(np.float64, copy=False))
            np.maximum.at(high, codes, edge.astype(np.float64, copy=False))
        ranges = np.column_stack((low, high))
        ranges[~np.isfinite(low)] = np.nan
        out.append(ranges)
    return out[0], out[1]
