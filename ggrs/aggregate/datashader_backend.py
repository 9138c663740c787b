"""Aggregation with datashader's numba kernels (fast for large tables; 1–2 s cold start).

datashader and pandas are imported inside :func:`aggregate_datashader` only, so
importing ggrs never pays for them.

* One panel, no categories, no value: datashader bins the raw x and y itself
  (no copy, no extra memory); its arithmetic is the one in
  :mod:`ggrs.aggregate.binning`, and the grid is flipped so row 0 is the top.
* Otherwise numpy computes each point's global grid row (panels and categories
  stacked, see :mod:`~ggrs.aggregate.binning`) block by block into a float32
  column of exact integers (NaN for dropped points), and, when the panels do not
  share the x range, the pixel column the same way. datashader then counts on a
  canvas whose range maps those numbers onto themselves (scale 1, translate −0),
  so its truncation yields exactly our indices. Plain counts on one tall canvas
  are about twice as fast as ``ds.by`` over panels.
"""

from __future__ import annotations

from types import ModuleType

import numpy as np

from ggrs.aggregate.binning import BinPlan, Scratch
from ggrs.aggregate.canvas import Canvas
from ggrs.aggregate.grids import Grids
from ggrs.aggregate.numpy_backend import aggregate_numpy
from ggrs.aggregate.points import Points
from ggrs.errors import BackendUnavailable

# float32 holds every integer below 2**24 exactly: the stacked row and column
# indices travel as float32 (half the memory and bandwidth of float64) below that.
_F32_EXACT = 1 << 24


def _modules() -> tuple[ModuleType, ModuleType]:
    """Import datashader and pandas, or raise BackendUnavailable."""
    try:
        import datashader as ds
        import pandas as pd
    except ImportError as exc:
        raise BackendUnavailable(
            f"aggregation backend 'datashader' cannot be imported ({exc}); install "
            "datashader or use backend='numpy'"
        ) from exc
    return ds, pd


def aggregate_datashader(points: Points, canvas: Canvas) -> Grids:
    """Aggregate ``points`` on ``canvas`` with datashader (see :func:`ggrs.aggregate.aggregate`)."""
    ds, pd = _modules()
    plan = BinPlan(points, canvas)
    n = len(points)
    if n == 0:
        return aggregate_numpy(points, canvas)
    if plan.n_layers == 1 and points.value is None:
        return _raw(ds, pd, plan)
    return _stacked(ds, pd, plan)


def _raw(ds: ModuleType, pd: ModuleType, plan: BinPlan) -> Grids:
    pts = plan.points
    x, y = plan.x, plan.y
    cvs = ds.Canvas(
        plot_width=plan.width,
        plot_height=plan.height,
        x_range=(float(x.lo[0]), float(x.hi[0])),
        y_range=(float(y.lo[0]), float(y.hi[0])),
    )
    df = pd.DataFrame({"x": pts.x, "y": pts.y}, copy=False)
    agg = cvs.points(df, "x", "y", ds.count())
    # datashader's row 0 is the lowest y; ours is the top.
    count = np.ascontiguousarray(agg.data[::-1], dtype=np.uint32)
    dropped = len(pts) - int(count.sum(dtype=np.uint64))
    return plan.grids(count.reshape(-1), None, dropped)


def _stacked(ds: ModuleType, pd: ModuleType, plan: BinPlan) -> Grids:
    pts = plan.points
    n = len(pts)
    w, rows = plan.width, plan.n_layers * plan.height
    raw_x = plan.x.shared
    fdt = np.float32 if max(rows, w) < _F32_EXACT else np.float64
    x_range = (float(plan.x.lo[0]), float(plan.x.hi[0])) if raw_x else (0.0, float(w))
    # Range (0, rows) over ``rows`` pixels gives datashader scale 1.0 and
    # translate −0.0, so its int(v · 1.0 − 0.0) is our integer v.
    cvs = ds.Canvas(plot_width=w, plot_height=rows, x_range=x_range, y_range=(0.0, float(rows)))
    reduction = ds.count() if pts.value is None else ds.summary(n=ds.count(), s=ds.sum("v"))
    size = min(plan.outer, n)
    ybuf = np.empty(size, dtype=fdt)
    xbuf = None if raw_x else np.empty(size, dtype=fdt)
    count = np.zeros((rows, w), dtype=np.uint32)
    value_sum = None if pts.value is None else np.zeros((rows, w))
    s = Scratch(min(plan.block_size, size))
    for c0 in range(0, n, plan.outer):
        c1 = min(n, c0 + plan.outer)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            for a in range(c0, c1, plan.block_size):
                b = min(c1, a + plan.block_size)
                m = b - a
                col = plan.block_rows(a, b, s, columns=not raw_x)
                # x / 0 = ±inf and 0 / 0 = NaN: datashader drops both, and a divide
                # by the kept-flag is ~5× cheaper than a masked store of NaN.
                ok = s.ok[:m]
                np.divide(s.row[:m], ok, out=s.row[:m])
                np.copyto(ybuf[a - c0 : b - c0], s.row[:m], casting="same_kind")
                if col is not None:
                    np.divide(col, ok, out=col)
                    np.copyto(xbuf[a - c0 : b - c0], col, casting="same_kind")
        m = c1 - c0
        columns = {"x": pts.x[c0:c1] if raw_x else xbuf[:m], "y": ybuf[:m]}
        if value_sum is not None:
            columns["v"] = pts.value[c0:c1]
        agg = cvs.points(pd.DataFrame(columns, copy=False), "x", "y", reduction)
        if value_sum is None:
            np.add(count, agg.data, out=count)
        else:
            np.add(count, agg["n"].data, out=count)
            sums = agg["s"].data
            # datashader leaves pixels without points at NaN.
            np.add(value_sum, sums, out=value_sum, where=~np.isnan(sums))
    dropped = n - int(count.sum(dtype=np.uint64))
    return plan.grids(
        count.reshape(-1), None if value_sum is None else value_sum.reshape(-1), dropped
    )
