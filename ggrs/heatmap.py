"""Heatmap geometry: the facet grid becomes the plot, one coloured tile per cell.

Tercen's heatmap (chart type ``chartheatmap``) puts every (column, row) facet cell
on one categorical x/y grid: x is labelled with the column facet labels, y with
the row facet labels, the first row at the top. Each table row falls into the
cell of its ``.ci``/``.ri`` codes; the colour value of a cell is aggregated over
its rows with the ``heatmap.cell.aggregation`` property (:data:`AGGREGATIONS`).

The steps, each vectorised over rows or pixels (no loop per row or per tile):

1. :func:`cell_values` / :func:`cell_categories`: one value (or category) per cell;
2. :func:`cell_colours`: cell colours through the usual colourings of :mod:`ggrs.shade`;
3. :func:`tile_raster`: the cell colours blown up to the panel's pixels in one
   gather, so a 1,000 × 1,000 heatmap is one array operation, not a million tiles;
4. :func:`heatmap_axes`: the two categorical axes for composition.

Without a colour factor Tercen reads only ``.ci``/``.ri`` for a heatmap and paints
every cell that has a row in the layer's constant colour (a
:class:`~ggrs.shade.Constant` colouring of any column's cell values reproduces
that); :mod:`ggrs.pipeline` colours the cells by y through the continuous
palette instead, which shows the data.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ggrs.compose.views import AxisView
from ggrs.errors import DataError, UsageError
from ggrs.shade import Categorical, Colouring, Constant, Continuous

#: Values of ``heatmap.cell.aggregation``; ``last`` is Tercen's default.
AGGREGATIONS = ("last", "first", "mean", "median")


def _check_how(how: str) -> None:
    if how not in AGGREGATIONS:
        raise UsageError(
            f"heatmap.cell.aggregation must be one of {', '.join(AGGREGATIONS)}; got {how!r}"
        )


def _check_size(name: str, n: object) -> int:
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise UsageError(f"heatmap {name} must be a positive integer; got {n!r}")
    return int(n)


def _codes(name: str, codes: object, n_levels: int, n_rows: int | None) -> np.ndarray:
    """Validated intp codes in 0..n_levels-1 (of length ``n_rows`` when given)."""
    arr = np.asarray(codes)
    if arr.dtype.kind not in "iu" or arr.ndim != 1:
        raise DataError(
            f"heatmap {name} must be 1-D integer codes; got dtype {arr.dtype}, shape "
            f"{arr.shape} (factorise the column first)"
        )
    if n_rows is not None and len(arr) != n_rows:
        raise DataError(f"heatmap {name} has {len(arr)} entries but the values have {n_rows}")
    if len(arr):
        lo, hi = int(arr.min()), int(arr.max())
        if lo < 0 or hi >= n_levels:
            raise DataError(
                f"heatmap {name} span {lo}..{hi} but must lie in 0..{n_levels - 1} "
                f"({n_levels} levels)"
            )
    return arr.astype(np.intp, copy=False)


def _cell_index(
    n_values: int, row_codes: object, col_codes: object, n_rows: object, n_cols: object
) -> tuple[np.ndarray, int, int]:
    """Flat cell index row · C + col of every table row, with R and C."""
    r = _check_size("n_rows", n_rows)
    c = _check_size("n_cols", n_cols)
    rows = _codes("row codes", row_codes, r, n_values)
    cols = _codes("column codes", col_codes, c, n_values)
    cell = rows * c
    cell += cols
    return cell, r, c


def _rows_mask(ok: object, n: int) -> np.ndarray | None:
    """The rows to use as a bool mask, or None for all of them."""
    if ok is None:
        return None
    mask = np.asarray(ok)
    if mask.dtype != np.bool_ or mask.shape != (n,):
        raise DataError(
            f"heatmap row mask must be {n} booleans (one per table row); got dtype "
            f"{mask.dtype}, shape {mask.shape}"
        )
    # A zero-stride view (every row finite, as ggrs.pipeline.prepare makes) needs no pass.
    if mask.strides == (0,):
        return None if n == 0 or bool(mask[0]) else mask
    return None if mask.all() else mask


def _by_order(cell: np.ndarray, keep: np.ndarray | None, n_cells: int, last: bool) -> np.ndarray:
    """Per cell, the table row (index) of its last or first kept row; −1 when none."""
    if keep is None:
        index = np.arange(len(cell), dtype=np.intp)
    else:
        index = np.flatnonzero(keep)
        cell = cell[index]
    # ufunc.at is defined for repeated indices (a fancy assignment is not).
    if last:
        chosen = np.full(n_cells, -1, dtype=np.intp)
        np.maximum.at(chosen, cell, index)
        return chosen
    none = np.iinfo(np.intp).max
    chosen = np.full(n_cells, none, dtype=np.intp)
    np.minimum.at(chosen, cell, index)
    chosen[chosen == none] = -1
    return chosen


def _fill_by_order(
    out: np.ndarray, values: np.ndarray, cell: np.ndarray, keep: np.ndarray | None, how: str
) -> None:
    """``out[c]`` ← the value of cell c's last (``how`` = "last") or first kept row;
    cells without one keep their fill."""
    chosen = _by_order(cell, keep, len(out), last=how == "last")
    found = chosen >= 0
    out[found] = values[chosen[found]]


def cell_values(
    values: np.ndarray,
    row_codes: np.ndarray,
    col_codes: np.ndarray,
    n_rows: int,
    n_cols: int,
    how: str = "last",
    *,
    ok: np.ndarray | None = None,
) -> np.ndarray:
    """One value per heatmap cell, aggregated over the table rows in the cell.

    NaN and infinite values are left out (missing), as are the rows ``ok`` marks
    False; a cell with no such value is NaN.

    Args:
        values: the continuous colour value of each table row.
        row_codes: facet row code (Tercen ``.ri``) per table row, 0..n_rows-1.
        col_codes: facet column code (``.ci``) per table row, 0..n_cols-1.
        n_rows, n_cols: R and C, the grid size.
        how: ``last``/``first`` (the value of the cell's last / first table row,
            in table order), ``mean`` or ``median`` (the mean of the two middle
            values for an even count, as numpy).

    Returns:
        (R, C) float64, row 0 = facet row 0 (drawn at the top).

    Raises:
        UsageError: unknown ``how`` or a grid size below 1.
        DataError: codes out of range, columns of different lengths or types.
    """
    _check_how(how)
    if values is None:
        raise DataError(
            "heatmap cell values are missing (None): pass the colour column's values, or y "
            "when there is no colour factor"
        )
    v = np.asarray(values)
    if v.dtype.kind not in "fiu" or v.ndim != 1:
        raise DataError(
            f"heatmap values must be a 1-D numeric array; got dtype {v.dtype}, shape {v.shape}"
        )
    v = v.astype(np.float64, copy=False)
    cell, r, c = _cell_index(len(v), row_codes, col_codes, n_rows, n_cols)
    n_cells = r * c
    rows = _rows_mask(ok, len(v))
    finite = np.isfinite(v)
    if rows is not None:
        finite &= rows
    keep = None if finite.all() else finite
    out = np.full(n_cells, np.nan)
    if how in ("last", "first"):
        _fill_by_order(out, v, cell, keep, how)
        return out.reshape(r, c)
    if keep is not None:
        cell, v = cell[keep], v[keep]
    counts = np.bincount(cell, minlength=n_cells)
    found = counts > 0
    # The median of one or two values is their mean: the common heatmap (one row
    # per cell) needs no sort.
    if how == "mean" or (len(counts) and int(counts.max()) <= 2):
        sums = np.bincount(cell, weights=v, minlength=n_cells)
        out[found] = sums[found] / counts[found]
        return out.reshape(r, c)
    out[found] = _medians(v, cell, counts, n_cells)[found]
    return out.reshape(r, c)


def _medians(v: np.ndarray, cell: np.ndarray, counts: np.ndarray, n_cells: int) -> np.ndarray:
    """Median of the values of each cell (garbage for empty cells)."""
    m = len(v)
    by_value = np.argsort(v)
    if n_cells * m < (1 << 62):
        # One integer sort by (cell, rank of value) instead of a two-key lexsort
        # (≈3× faster): the keys are distinct, their remainder is the value rank.
        key = cell[by_value] * m
        key += np.arange(m)
        key.sort()
        ordered = v[by_value[key % m]]
    else:
        ordered = v[np.lexsort((v, cell))]
    start = np.cumsum(counts) - counts
    # Clamped so that empty cells (whose results are discarded) index in bounds.
    lo = np.clip(start + (counts - 1) // 2, 0, m - 1)
    hi = np.clip(start + counts // 2, 0, m - 1)
    a, b = ordered[lo], ordered[hi]
    # For odd counts lo == hi: take the value itself (a + a could overflow).
    return np.where(lo == hi, a, (a + b) / 2)


def cell_categories(
    codes: np.ndarray,
    row_codes: np.ndarray,
    col_codes: np.ndarray,
    n_rows: int,
    n_cols: int,
    how: str = "last",
    n_categories: int = 0,
    *,
    ok: np.ndarray | None = None,
) -> np.ndarray:
    """One category per heatmap cell, for categorical colour.

    ``last``/``first`` take the category of the cell's last / first table row.
    A mean or a median of categories has no meaning, so ``mean`` and ``median``
    both take the most frequent category of the cell (ties: the lowest code, i.e.
    the first level). Tercen itself always takes the last ``.colorLevels`` value,
    whatever the property says.

    Args:
        codes: category code per table row, 0..K-1.
        row_codes, col_codes, n_rows, n_cols: the cell of each row, as in
            :func:`cell_values`.
        how: one of :data:`AGGREGATIONS`.
        n_categories: K (0: max(codes) + 1), used to validate the codes.
        ok: bool per table row, False to leave the row out; None uses every row.

    Returns:
        (R, C) int64 category codes, −1 for cells without rows.

    Raises:
        UsageError: unknown ``how``, grid size below 1 or negative K.
        DataError: codes out of range, columns of different lengths or types.
    """
    _check_how(how)
    arr = np.asarray(codes)
    if isinstance(n_categories, bool) or not isinstance(n_categories, int | np.integer):
        raise UsageError(f"n_categories must be a non-negative integer; got {n_categories!r}")
    if n_categories < 0:
        raise UsageError(f"n_categories must be a non-negative integer; got {n_categories!r}")
    k = int(n_categories)
    if k == 0:
        k = int(arr.max()) + 1 if arr.dtype.kind in "iu" and arr.ndim == 1 and len(arr) else 1
    cat = _codes("category codes", arr, k, None)
    cell, r, c = _cell_index(len(cat), row_codes, col_codes, n_rows, n_cols)
    keep = _rows_mask(ok, len(cat))
    n_cells = r * c
    out = np.full(n_cells, -1, dtype=np.int64)
    if how in ("last", "first"):
        _fill_by_order(out, cat, cell, keep, how)
        return out.reshape(r, c)
    if keep is not None:
        cell, cat = cell[keep], cat[keep]
    # Most frequent: count each (cell, category) pair among the sorted pair keys.
    key = np.sort(cell.astype(np.int64) * k + cat)
    if len(key) == 0:
        return out.reshape(r, c)
    starts = np.flatnonzero(np.concatenate(([True], key[1:] != key[:-1])))
    pair_count = np.diff(np.append(starts, len(key)))
    pair = key[starts]
    pair_cell, pair_cat = pair // k, pair % k
    most = np.zeros(n_cells, dtype=np.int64)
    np.maximum.at(most, pair_cell, pair_count)
    winner = pair_count == most[pair_cell]
    best = np.full(n_cells, k, dtype=np.int64)
    np.minimum.at(best, pair_cell[winner], pair_cat[winner])
    found = best < k
    out[found] = best[found]
    return out.reshape(r, c)


def cell_colours(cells: np.ndarray, colouring: Colouring) -> np.ndarray:
    """Colours of the cells: (R, C, 4) uint8, transparent where a cell is empty.

    Args:
        cells: (R, C) float values from :func:`cell_values` (NaN = empty) for
            :class:`~ggrs.shade.Continuous` and :class:`~ggrs.shade.Constant`, or
            int codes from :func:`cell_categories` (−1 = empty) for
            :class:`~ggrs.shade.Categorical`.
        colouring: continuous values go through the LUT over ``limits`` (clamped,
            as points are shaded); categories take ``colors[code]``; a constant
            paints every non-empty cell.

    Raises:
        UsageError: a colouring that does not fit the cells (too few colours,
            category codes for a continuous colouring, bad limits).
    """
    cells = np.asarray(cells)
    if cells.ndim != 2:
        raise UsageError(f"heatmap cells must be a 2-D (rows, columns) array; got {cells.shape}")
    if isinstance(colouring, Categorical):
        if cells.dtype.kind not in "iu":
            raise UsageError(
                "categorical heatmap colours need integer cell codes (cell_categories)"
            )
        k = len(colouring.colors)
        if cells.size and int(cells.max()) >= k:
            raise UsageError(
                f"heatmap cell category {int(cells.max())} has no colour: {k} colours given"
            )
        table = np.zeros((k + 1, 4), dtype=np.uint8)
        table[:k, :3] = np.array(colouring.colors, dtype=np.uint8).reshape(-1, 3)
        table[:k, 3] = 255
        # Code −1 (empty) picks the last, transparent entry.
        return _lookup(table, np.where(cells < 0, k, cells))
    if cells.dtype.kind != "f":
        raise UsageError("continuous and constant heatmap colours need float cell values")
    empty = np.isnan(cells)
    if isinstance(colouring, Constant):
        out = np.zeros((*cells.shape, 4), dtype=np.uint8)
        out[~empty] = (*colouring.color, 255)
        return out
    if not isinstance(colouring, Continuous):
        raise UsageError(f"unknown colouring {colouring!r}")
    low, high = (float(v) for v in colouring.limits)
    if not (np.isfinite(low) and np.isfinite(high) and low < high):
        raise UsageError(
            f"colour limits {colouring.limits!r} must be finite and increasing; expand a "
            "constant value range first (ggrs.scales.expand_range)"
        )
    lut = np.asarray(colouring.lut, dtype=np.uint8)
    size = lut.shape[0]
    table = np.zeros((size + 1, 4), dtype=np.uint8)
    table[:size, :3] = lut
    table[:size, 3] = 255
    # The same index arithmetic as ggrs.shade for points: clamp, scale, round.
    t = (np.where(empty, low, cells) - low) * (1.0 / (high - low))
    np.clip(t, 0.0, 1.0, out=t)
    t *= size - 1
    np.rint(t, out=t)
    index = np.where(empty, size, t.astype(np.intp))
    return _lookup(table, index)


def _lookup(table: np.ndarray, index: np.ndarray) -> np.ndarray:
    """``table[index]`` for an (n, 4) uint8 table: one uint32 gather, not four bytes."""
    packed = np.ascontiguousarray(table).view(np.uint32).reshape(-1)
    return np.take(packed, index).view(np.uint8).reshape(*index.shape, 4)


def pixel_cells(n_cells: int, n_pixels: int) -> np.ndarray:
    """The cell each pixel of an axis shows: the one under the pixel's centre.

    Pixel i (centre i + 0.5) shows cell floor((i + 0.5) · n_cells / n_pixels),
    computed exactly in integers. Equivalently, cell j spans the pixels from
    j · n_pixels / n_cells rounded (halves down) to the same for j + 1: with at
    least as many pixels as cells every cell gets one pixel or more and widths
    differ by at most one; with fewer pixels than cells the cells between pixel
    centres are not shown at all (each pixel shows one cell, no blending).
    """
    i = np.arange(n_pixels, dtype=np.int64)
    return ((2 * i + 1) * n_cells) // (2 * n_pixels)


def tile_raster(rgba_cells: np.ndarray, width: int, height: int) -> np.ndarray:
    """The heatmap panel: each cell's colour over its tile of pixels, row 0 at the top.

    Args:
        rgba_cells: (R, C, 4) uint8 cell colours, row 0 = the top row of tiles.
        width, height: panel size in pixels.

    Returns:
        (height, width, 4) uint8; see :func:`pixel_cells` for which pixels show
        which cell.

    Raises:
        UsageError: wrong shape or dtype, or a size below 1 pixel.
    """
    cells = np.asarray(rgba_cells)
    if cells.dtype != np.uint8 or cells.ndim != 3 or cells.shape[2] != 4 or 0 in cells.shape:
        raise UsageError(
            f"heatmap cell colours must be a non-empty (rows, columns, 4) uint8 array; got "
            f"dtype {cells.dtype}, shape {cells.shape}"
        )
    w = _check_size("width", width)
    h = _check_size("height", height)
    r, c = cells.shape[:2]
    # One uint32 per pixel: a single 2-D gather instead of four channel copies.
    packed = np.ascontiguousarray(cells).view(np.uint32).reshape(r, c)
    rows = pixel_cells(r, h)
    cols = pixel_cells(c, w)
    return packed[rows[:, None], cols[None, :]].view(np.uint8).reshape(h, w, 4)


def heatmap_axes(row_labels: Sequence[str], col_labels: Sequence[str]) -> tuple[AxisView, AxisView]:
    """The categorical x and y axes of a heatmap with these facet labels.

    Cell j of an axis spans [j, j + 1) in data units (limits (0, C) and (0, R),
    no expansion), its break and label at the centre j + 0.5. Composition puts
    unit 0 of y at the bottom, so facet row i sits at y = R − 1 − i + 0.5 and the
    first row is at the top; the y breaks are listed bottom to top (increasing,
    like every axis), i.e. with the row labels reversed.

    Returns:
        ``(x, y)``: x labelled with ``col_labels`` left to right, y with
        ``row_labels`` top to bottom.

    Raises:
        UsageError: no labels on an axis.
    """
    axes = []
    for name, labels in (("column", col_labels), ("row", row_labels)):
        labels = tuple(str(s) for s in labels)
        if not labels:
            raise UsageError(f"a heatmap needs at least one {name} label (one per facet {name})")
        n = len(labels)
        axes.append(
            AxisView(
                limits=(0.0, float(n)),
                breaks=tuple(j + 0.5 for j in range(n)),
                labels=labels if name == "column" else labels[::-1],
                categorical=True,
            )
        )
    return axes[0], axes[1]
