"""Aggregation by a compiled C loop (``kernels.c``), loaded with ctypes.

numpy needs about twenty whole-block passes per point (axis arithmetic, range
tests, layer codes, the flat index, then the scatter); the C loop reads each
point once and adds it to the grid straight away, 2–3× faster. Unlike numba it
costs nothing to start: the library is built with the package (Bazel compiles
``kernels.c`` into ``libggrs_kernels.so`` beside this file) and loads in about a
millisecond, so short runs and small tables get it too.

The arithmetic is :mod:`ggrs.aggregate.binning`'s, in double precision, compiled
without FMA contraction, and value sums are added per chunk of
:attr:`~ggrs.aggregate.binning.BinPlan.outer` points in point order, so every grid
equals the numpy backend's bit for bit (tested).

The backend registers only when the library loads (:data:`load_problem` says why
it did not: a source checkout run without Bazel has no compiled library).
"""

from __future__ import annotations

import ctypes
from pathlib import Path

import numpy as np

from ggrs.aggregate.binning import BinPlan
from ggrs.aggregate.canvas import Canvas
from ggrs.aggregate.facets import FacetCodes
from ggrs.aggregate.grids import Grids
from ggrs.aggregate.points import Points, check_codes
from ggrs.aggregate.threads import count_split, run_split
from ggrs.errors import BackendUnavailable, DataError

LIBRARY = Path(__file__).with_name("libggrs_kernels.so")
"""Where the compiled kernels are looked for."""

# Element types as kernels.c numbers them.
_KINDS = {
    np.dtype(np.float32): 0,
    np.dtype(np.float64): 1,
    np.dtype(np.int8): 2,
    np.dtype(np.int16): 3,
    np.dtype(np.int32): 4,
    np.dtype(np.int64): 5,
    np.dtype(np.uint8): 6,
    np.dtype(np.uint16): 7,
    np.dtype(np.uint32): 8,
}

_p = ctypes.c_void_p
_i = ctypes.c_int
_n = ctypes.c_int64


def _load() -> tuple[ctypes.CDLL | None, str | None]:
    try:
        library = ctypes.CDLL(str(LIBRARY))
    except OSError as exc:
        return None, f"cannot load {LIBRARY.name}: {exc}"
    library.ggrs_count_single.argtypes = [_p, _p, _i, _p, _n, _n, _n, _n, _p]
    library.ggrs_count_single.restype = None
    library.ggrs_count_layers.argtypes = [
        _p, _p, _i,  # x, y, their kind
        _p, _i, _p, _i, _n,  # facet rows, kind, facet columns, kind, n_cols
        _p, _i, _n,  # category, kind, n_categories
        _p, _i,  # value, kind
        _p, _n, _n, _n,  # tables, n_panels, width, height
        _n, _n, _p, _p,  # start, stop, count, value_sum
    ]  # fmt: skip
    library.ggrs_count_layers.restype = None
    library.ggrs_group_limits.argtypes = [_p, _i, _p, _i, _p, _n, _n, _n, _p, _p]
    library.ggrs_group_limits.restype = _n
    return library, None


_library, load_problem = _load()
"""The loaded library (None when it is missing) and why it is missing (or None)."""


def available() -> bool:
    """Whether the compiled kernels loaded."""
    return _library is not None


def _address(column: np.ndarray | None) -> int | None:
    return None if column is None else column.ctypes.data


def _column(values: np.ndarray, what: str) -> np.ndarray:
    """``values`` as a contiguous array of a type the kernels read (copied only if not)."""
    values = np.ascontiguousarray(values)
    if values.dtype in _KINDS:
        return values
    wider = np.float64 if values.dtype.kind == "f" else np.int64
    if values.dtype.kind not in "fiub":
        raise BackendUnavailable(f"the native kernels cannot read {what} of type {values.dtype}")
    return values.astype(wider)


def _panel_columns(
    points: Points, n_panels: int
) -> tuple[np.ndarray | None, np.ndarray | None, int]:
    """(facet rows, facet columns, n_cols) for the kernel: FacetCodes are passed as
    their two columns (the panel code is computed per point); plain panel codes as
    rows with no columns."""
    panel = points.panel
    if panel is None or n_panels == 1:
        return None, None, 1
    if isinstance(panel, FacetCodes):
        return _column(panel.rows, "facet rows"), _column(panel.cols, "facet columns"), panel.n_cols
    return _column(panel, "panel codes"), None, 1


def group_limits(
    values: np.ndarray, codes: np.ndarray | None, n_groups: int, ok: np.ndarray | None = None
) -> np.ndarray | None:
    """(n_groups, 2) float64 min/max of ``values`` per group code in one compiled pass,
    or None when the kernels are not built or cannot read these columns.

    Args:
        values: float32 or float64 values; the rows used must be finite.
        codes: integer group code per row (0..n_groups-1), or None for one group.
        n_groups: the number of groups.
        ok: bool per row, the rows to use; None uses every row.

    Returns:
        Per group (min, max); NaN for a group without rows.

    Raises:
        DataError: the columns differ in length or are not 1-D, or a used row's code
            lies outside 0..n_groups-1.
    """
    if _library is None or values.dtype not in (np.float32, np.float64) or n_groups < 1:
        return None
    # The kernel reads codes[i] and ok[i] for every row of values: check first.
    for name, column in (("values", values), ("group codes", codes), ("row mask", ok)):
        if column is not None and (column.ndim != 1 or len(column) != len(values)):
            raise DataError(
                f"group limits: {name} of shape {column.shape} for {len(values)} values "
                "(1-D columns of one length are needed)"
            )
    values = np.ascontiguousarray(values)
    if codes is not None:
        codes = _column(codes, "group codes")
    if ok is not None:
        ok = np.ascontiguousarray(ok, dtype=bool)

    def reduce(start: int, stop: int) -> tuple[np.ndarray, np.ndarray, int]:
        low = np.full(n_groups, np.inf)
        high = np.full(n_groups, -np.inf)
        bad = _library.ggrs_group_limits(
            values.ctypes.data, _KINDS[values.dtype],
            _address(codes), 0 if codes is None else _KINDS[codes.dtype],
            _address(ok), start, stop, n_groups, low.ctypes.data, high.ctypes.data,
        )  # fmt: skip
        return low, high, bad

    parts = run_split(reduce, len(values))
    low = np.minimum.reduce([part[0] for part in parts])
    high = np.maximum.reduce([part[1] for part in parts])
    bad = sum(part[2] for part in parts)
    if bad:
        raise DataError(f"{bad:,} group codes lie outside 0..{n_groups - 1}")
    # + 0.0: a limit of -0.0 becomes 0.0 (which zero the min picks depends on the
    # order of rows; an axis should not say "-0").
    limits = np.stack([low, high], axis=1) + 0.0
    limits[~np.isfinite(low)] = np.nan
    return limits


def aggregate_native(points: Points, canvas: Canvas) -> Grids:
    """Aggregate ``points`` on ``canvas`` with the compiled C loop.

    See :func:`ggrs.aggregate.aggregate` for the arguments and the result.

    Raises:
        BackendUnavailable: the compiled library is missing.
        DataError: panel or category codes outside the canvas (the compiled loop
            does not check its indices, so they are checked here first).
    """
    if _library is None:
        raise BackendUnavailable(
            f"aggregation backend 'native' is not available ({load_problem}); build ggrs "
            "with Bazel (it compiles the kernels) or use backend='numpy'"
        )
    check_codes(points, canvas)
    plan = BinPlan(points, canvas)
    n = len(points)
    x, y = _column(points.x, "x"), _column(points.y, "y")
    if x.dtype != y.dtype:
        x, y = x.astype(np.float64, copy=False), y.astype(np.float64, copy=False)
    coord = _KINDS[x.dtype]
    tables = plan.axis_tables()
    width, height, nb = plan.width, plan.height, plan.n_bins
    if plan.n_layers == 1 and points.value is None:
        axes = tables[:, 0].copy()

        def count_single(start: int, stop: int, grid: np.ndarray) -> None:
            _library.ggrs_count_single(
                x.ctypes.data, y.ctypes.data, coord, axes.ctypes.data, width, height,
                start, stop, grid.ctypes.data,
            )  # fmt: skip

        count = count_split(count_single, n, nb)
        return plan.grids(count[1:], None, int(count[0]))

    rows, cols, n_cols = _panel_columns(points, plan.n_panels)
    category = None if points.category is None else _column(points.category, "categories")
    value = None if points.value is None else _column(points.value, "values")

    def kind(column: np.ndarray | None) -> int:
        return 0 if column is None else _KINDS[column.dtype]

    def count_layers(start: int, stop: int, grid: np.ndarray, sums: np.ndarray | None) -> None:
        _library.ggrs_count_layers(
            x.ctypes.data, y.ctypes.data, coord,
            _address(rows), kind(rows), _address(cols), kind(cols), n_cols,
            _address(category), kind(category), plan.n_categories,
            _address(value), kind(value),
            tables.ctypes.data, plan.n_panels, width, height,
            start, stop, grid.ctypes.data, _address(sums),
        )  # fmt: skip

    if value is None:
        count = count_split(lambda a, b, grid: count_layers(a, b, grid, None), n, nb)
        return plan.grids(count[1:], None, int(count[0]))
    return plan.summed(n, count_layers)
