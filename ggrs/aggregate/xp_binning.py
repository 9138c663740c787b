"""The pixel arithmetic of :mod:`ggrs.aggregate.binning`, written once against an array module.

numpy and CuPy run this same code (``xp`` is either module), so the GPU backend
computes every point's bin with the very operations the tests check on the CPU.

Per axis, in float64, for panel p with range (lo[p], hi[p]) over n pixels and the
scale s[p] and translate t[p] of :class:`~ggrs.aggregate.binning.AxisTable`:

* kept when lo[p] ≤ v ≤ hi[p] (NaN and ±inf never are);
* pixel min(floor(v · s[p] + t[p]), n − 1).

The product and the sum are separate ufunc calls on purpose: one fused kernel
could be compiled into a fused multiply-add, which rounds once instead of twice
and would move points lying within an ulp of a pixel edge.

A kept point's flat bin is 1 + (layer · H + H − 1 − iy) · W + ix with
layer = panel · K + category, and a dropped point's bin is 0, exactly as
:meth:`~ggrs.aggregate.binning.BinPlan.block_flat` computes it; a count grid of
``n_bins + 1`` elements therefore collects the dropped points in element 0.

Counts are integers and equal on every device. Value sums are float64 sums
whose order of additions decides the last bits: with numpy, sums are formed per
chunk of :attr:`~ggrs.aggregate.binning.BinPlan.outer` points, in point order,
and equal the numpy backend bit for bit; CuPy adds with atomics in no fixed
order, so a pixel summing m values differs from the CPU by at most about
2 · (m − 1) · 2⁻⁵³ · Σ|v| (the classic bound for recursive summation, once per
order).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

from ggrs.aggregate.binning import AxisTable, BinPlan
from ggrs.aggregate.canvas import Canvas
from ggrs.aggregate.grids import Grids
from ggrs.aggregate.points import Points, check_code_range
from ggrs.errors import DataError


@dataclass(frozen=True)
class XpAxis:
    """One axis' per-panel tables as arrays of ``xp`` (one row when all panels share them)."""

    n: int
    shared: bool
    lo: Any
    hi: Any
    scale: Any
    translate: Any

    @classmethod
    def of(cls, table: AxisTable, xp: ModuleType) -> XpAxis:
        """Copy ``table`` to ``xp`` (a few hundred bytes: done once per aggregation)."""
        return cls(
            n=table.n,
            shared=table.shared,
            lo=xp.asarray(table.lo),
            hi=xp.asarray(table.hi),
            scale=xp.asarray(table.scale),
            translate=xp.asarray(table.translate),
        )


def axis_pixels(xp: ModuleType, values: Any, codes: Any | None, axis: XpAxis) -> tuple[Any, Any]:
    """Pixel index (int64, 0 for dropped points) and kept-flag of every value on one axis.

    Args:
        xp: numpy or cupy.
        values: float32 or float64 positions.
        codes: int64 panel codes, or None when there is one panel.
        axis: the axis' tables in ``xp``.
    """
    v = values.astype(xp.float64)
    if codes is None or axis.shared:
        lo, hi, scale, translate = axis.lo[0], axis.hi[0], axis.scale[0], axis.translate[0]
    else:
        lo, hi = xp.take(axis.lo, codes), xp.take(axis.hi, codes)
        scale, translate = xp.take(axis.scale, codes), xp.take(axis.translate, codes)
    ok = (v >= lo) & (v <= hi)
    u = xp.multiply(v, scale)
    u = xp.add(u, translate)
    u = xp.floor(u)
    u = xp.minimum(u, axis.n - 1)
    # Dropped points may hold NaN or ±inf here; zero them before the integer cast.
    u = xp.where(ok, u, 0.0)
    return u.astype(xp.int64), ok


def flat_bins(
    xp: ModuleType,
    plan: BinPlan,
    x_axis: XpAxis,
    y_axis: XpAxis,
    x: Any,
    y: Any,
    panel: Any | None,
    category: Any | None,
    value: Any | None,
) -> Any:
    """Flat bins (int64) of one chunk of points: 1 + row · W + column, or 0 when dropped.

    Args:
        xp: numpy or cupy; every array argument lives in it.
        plan: the grid geometry (width, height, panels, categories).
        x_axis, y_axis: the axes' tables in ``xp``.
        x, y: positions of the chunk.
        panel: panel codes, or None for one panel.
        category: category codes, or None.
        value: values for continuous colour (non-finite ones are dropped), or None.
    """
    codes = None if panel is None or plan.n_panels == 1 else panel.astype(xp.int64)
    with np.errstate(over="ignore", invalid="ignore"):
        iy, ok = axis_pixels(xp, y, codes, y_axis)
        ix, ok_x = axis_pixels(xp, x, codes, x_axis)
    ok &= ok_x
    if value is not None:
        ok &= xp.isfinite(value)
    h, w = plan.height, plan.width
    row = (h - 1) - iy
    layer = codes
    if category is not None:
        layer = category.astype(xp.int64)
        if codes is not None:
            layer = layer + codes * plan.n_categories
    if layer is not None:
        row += layer * h
    flat = row * w
    flat += ix
    flat += 1
    return xp.where(ok, flat, 0)


def check_chunk_codes(xp: ModuleType, name: str, codes: Any, n: int) -> None:
    """Raise DataError when ``codes`` (one chunk) fall outside 0..n-1.

    The test and message of :func:`ggrs.aggregate.points.check_code_range`, with
    the smallest and largest code found on the chunk where it already lives (on a
    GPU: no pass over host memory).
    """
    if len(codes):
        check_code_range(name, int(xp.min(codes)), int(xp.max(codes)), n)


def chunks(n: int, size: int) -> Iterator[tuple[int, int]]:
    """Bounds [a, b) of consecutive chunks of at most ``size`` points covering 0..n."""
    if size < 1:
        raise ValueError(f"chunk size must be at least 1; got {size}")
    for a in range(0, n, size):
        yield a, min(n, a + size)


def aggregate_xp(
    points: Points, canvas: Canvas, xp: ModuleType = np, chunk: int | None = None
) -> Grids:
    """Aggregate host ``points`` on ``canvas`` with array module ``xp``; grids stay in ``xp``.

    Each chunk of the host columns is copied to ``xp`` once (``xp.asarray``: a
    host-to-device transfer with CuPy, a no-op with numpy), binned with
    :func:`flat_bins` and counted with ``xp.bincount``.

    Args:
        points: the points, in host memory.
        canvas: panel size and ranges.
        xp: numpy or cupy.
        chunk: points per chunk; default :attr:`BinPlan.outer`, the chunking that
            makes numpy's value sums equal the numpy backend's bit for bit.

    Returns:
        Grids whose arrays belong to ``xp`` (count uint32, value_sum float64).

    Raises:
        DataError: panel or category codes outside the canvas / category count.
    """
    plan = BinPlan(points, canvas)
    if points.panel is None and plan.n_panels != 1:
        raise DataError(f"the canvas has {plan.n_panels} panels but the points have no panel codes")
    n = len(points)
    nb = plan.n_bins + 1
    x_axis, y_axis = XpAxis.of(plan.x, xp), XpAxis.of(plan.y, xp)
    count = xp.zeros(nb, dtype=xp.int64)
    value_sum = None if points.value is None else xp.zeros(nb, dtype=xp.float64)
    for a, b in chunks(n, chunk or plan.outer):
        x, y = xp.asarray(points.x[a:b]), xp.asarray(points.y[a:b])
        panel = None if points.panel is None else xp.asarray(points.panel[a:b])
        category = None if points.category is None else xp.asarray(points.category[a:b])
        value = None if points.value is None else xp.asarray(points.value[a:b])
        if panel is not None:
            check_chunk_codes(xp, "panel", panel, plan.n_panels)
        if category is not None:
            check_chunk_codes(xp, "category", category, plan.n_categories)
        idx = flat_bins(xp, plan, x_axis, y_axis, x, y, panel, category, value)
        count += xp.bincount(idx, minlength=nb)
        if value_sum is not None:
            # Dropped points add their (maybe non-finite) values to element 0,
            # which is discarded.
            with np.errstate(invalid="ignore"):
                value_sum += xp.bincount(idx, weights=value.astype(xp.float64), minlength=nb)
    dropped = int(count[0])
    return plan.grids(
        count[1:].astype(xp.uint32), None if value_sum is None else value_sum[1:], dropped
    )
