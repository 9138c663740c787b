"""The crosstab projection as plot columns: positions, facets, pages and colours.

Tercen sends positions quantized to 16 bits (``.xs``/``.ys`` in 0..65535) and
the axis range of every facet cell in separate range tables; a value is
``min + q / 65535 · (max − min)`` with its own cell's range (protocol §1.7,
§1.10). The main table is streamed in chunks of bounded size and each chunk
is dequantized straight into preallocated float32 columns, so peak memory is
the columns kept plus one chunk, whatever the number of rows. A chunk that
fails transiently is fetched again from its first row; the chunks before it
are kept.

Layers (several y factors) arrive as one table whose ``.axisIndex`` says the
layer of each row; bars bring their baselines as ``.y0s``, quantized on the
same y range as ``.ys``. Both are read only when the crosstab has them (more
than one layer; a bar chart).

Facet rows and columns keep Tercen's table order (the range tables and
``.ri``/``.ci`` refer to it); pages are the distinct values of the page
factors in the row table, in first-seen order.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ggrs import io, panels, tson
from ggrs.errors import DataError
from ggrs.plotdata import PlotData
from ggrs.tercen.client import TercenClient
from ggrs.tercen.context import OperatorContext, SchemaCache, TableInfo

log = logging.getLogger("ggrs.tercen")

QUANT_MAX = 65535.0
"""Largest quantized position; ``.xs``/``.ys`` run from 0 to this."""

DEFAULT_CHUNK_ROWS = 500_000
"""Rows per ``streamTable`` call of the main table (about 6–10 MB of TSON)."""

Call = Callable[[Callable[[], object], str], object]
ProgressFn = Callable[[int, int], None]


@dataclass(frozen=True)
class TercenData:
    """The projection as the render pipeline takes it, plus what the result needs.

    Attributes:
        plot: positions (float32, data or transformed units), facet factors with
            codes ``.ri``/``.ci`` and levels in Tercen's order, pages, colours,
            titles, and each facet cell's range from Tercen's range tables.
        page_values: per page, the value of each page factor (for the result columns).
        scales: ``fixed``, ``free_x``, ``free_y`` or ``free`` (which ranges vary per facet).
    """

    plot: PlotData
    page_values: tuple[tuple[str, ...], ...]
    scales: str


def read_table(
    client: TercenClient, call: Call, info: TableInfo, columns: Sequence[str] = ()
) -> pa.Table:
    """A whole (small) table: facet, range or colour level table.

    Raises:
        DataError: the payload is not a TSON table, or has fewer rows than the schema says.
    """
    if info.n_rows == 0:
        return pa.table({name: pa.array([], pa.string()) for name in columns or info.columns})
    payload = call(
        lambda: client.stream_table(info.id, list(columns), 0, info.n_rows), "stream table"
    )
    table = _decode(payload, info.id, 0)
    if table.num_rows != info.n_rows:
        raise DataError(
            f"table {info.id}: the server sent {table.num_rows} rows, its schema says {info.n_rows}"
        )
    return table


def _decode(payload: bytes, table_id: str, offset: int) -> pa.Table:
    try:
        return tson.table_from_tson(payload)
    except DataError as exc:
        raise type(exc)(
            f"table {table_id} (rows from {offset}): the server sent an unreadable table: {exc}"
        ) from None


def _labels(table: pa.Table, names: Sequence[str], separator: str) -> list[str]:
    """One label per row: the values of `names` as text, joined."""
    if not names:
        return [""] * table.num_rows
    texts = []
    for name in names:
        column = table.column(name)
        if pa.types.is_floating(column.type):
            # 3.0 → "3": Tercen factors hold integers as doubles.
            whole = pc.equal(column, pc.floor(column))
            as_int = pc.cast(pc.if_else(whole, column, None), pa.int64(), safe=False)
            text = pc.coalesce(pc.cast(as_int, pa.string()), pc.cast(column, pa.string()))
        else:
            text = pc.cast(column, pa.string())
        # A list per facet level, not per data row; pc.fill_null would import pandas
        # (pyarrow's scalar conversion checks for it): 0.1-0.4 s of a cold start.
        texts.append(["NA" if t is None else t for t in text.to_pylist()])
    return [separator.join(parts).strip('"') for parts in zip(*texts, strict=True)]


def _factor_names(table: pa.Table, exclude: Sequence[str]) -> list[str]:
    """Factor columns of a facet table: not Tercen's own (``.ri``...) nor page factors."""
    return [n for n in table.column_names if not n.startswith(".") and n not in exclude]


def _indices(table: pa.Table, name: str, n: int, what: str, table_id: str) -> np.ndarray | None:
    if name not in table.column_names:
        return None
    values = io.numpy_from_arrow(table.column(name)).astype(np.int64)
    bad = (values < 0) | (values >= n)
    if bad.any():
        raise DataError(
            f"{what} table {table_id}: {name} = {values[bad][0]} but there are only {n} facet "
            f"{'rows' if name == '.ri' else 'columns'}"
        )
    return values


def _cell_ranges(
    table: pa.Table, low: str, high: str, shape: tuple[int, int], what: str, table_id: str
) -> tuple[np.ndarray, np.ndarray]:
    """(low, high) per facet cell, replicated over the index columns the table lacks."""
    lo = np.full(shape, np.nan)
    hi = np.full(shape, np.nan)
    for name in (low, high):
        if name not in table.column_names:
            raise DataError(f"{what} table {table_id} has no {name} column: {table.column_names}")
    lows = io.numpy_from_arrow(table.column(low)).astype(np.float64)
    highs = io.numpy_from_arrow(table.column(high)).astype(np.float64)
    ri = _indices(table, ".ri", shape[0], what, table_id)
    ci = _indices(table, ".ci", shape[1], what, table_id)
    if ri is not None and ci is not None:
        lo[ri, ci], hi[ri, ci] = lows, highs
    elif ri is not None:
        lo[ri, :], hi[ri, :] = lows[:, None], highs[:, None]
    elif ci is not None:
        lo[:, ci], hi[:, ci] = lows[None, :], highs[None, :]
    elif len(lows):
        lo[:], hi[:] = lows[0], highs[0]
    return lo, hi


def _pages(
    row_table: pa.Table, page_factors: Sequence[str], table_id: str
) -> tuple[np.ndarray, tuple[str, ...], tuple[tuple[str, ...], ...]]:
    """Page code per row-table row, page labels, and each page's factor values."""
    n = max(row_table.num_rows, 1)
    if not page_factors:
        return np.zeros(n, dtype=np.int32), ("",), ((),)
    missing = [f for f in page_factors if f not in row_table.column_names]
    if missing:
        raise DataError(
            f"page factors {missing} are not in the row table {table_id} "
            f"(columns: {row_table.column_names})"
        )
    per_factor = [_labels(row_table, [f], "") for f in page_factors]
    combos = list(zip(*per_factor, strict=True))
    first_seen = list(dict.fromkeys(combos))
    code = {combo: i for i, combo in enumerate(first_seen)}
    codes = np.array([code[c] for c in combos], dtype=np.int32)  # one per facet row
    return codes, tuple("_".join(c) for c in first_seen), tuple(first_seen)


def load_data(
    client: TercenClient,
    ctx: OperatorContext,
    schemas: SchemaCache,
    call: Call | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    progress: ProgressFn | None = None,
) -> TercenData:
    """Streams the main table and builds the plot columns.

    Args:
        client: the Tercen client.
        ctx: from :func:`ggrs.tercen.context.load_context`.
        schemas: the run's schema cache.
        call: wraps each remote call (retries); default calls directly.
        chunk_rows: rows per ``streamTable`` call of the main table.
        progress: called with (rows done, total rows) after each chunk.

    Raises:
        DataError: a table is malformed, lacks a required column, or refers to a facet
            cell without an axis range.
        RemoteError: a call failed for good.
    """
    call = call or (lambda fn, what: fn())
    report = progress or (lambda done, total: None)
    if chunk_rows < 1:
        raise ValueError(f"chunk_rows must be positive, got {chunk_rows}")

    # Facets: one level per row of the column/row tables (one level when empty).
    col_table = read_table(client, call, ctx.col_table)
    row_table = read_table(client, call, ctx.row_table)
    n_cols, n_rows = max(col_table.num_rows, 1), max(row_table.num_rows, 1)
    col_names = _factor_names(col_table, ())
    row_names = _factor_names(row_table, ctx.page_factors)
    col_labels = _labels(col_table, col_names, ", ") or [""]
    row_labels = _labels(row_table, row_names, ", ") or [""]
    page_of_row, page_labels, page_values = _pages(row_table, ctx.page_factors, ctx.row_table.id)

    # Axis ranges per facet cell, from the range tables.
    y_info = ctx.y_table
    wanted = [".ri", ".ci", ".minY", ".maxY", ".minX", ".maxX"]
    y_table = read_table(client, call, y_info, [c for c in wanted if c in y_info.columns])
    shape = (n_rows, n_cols)
    y_lo, y_hi = _cell_ranges(y_table, ".minY", ".maxY", shape, "Y-axis", y_info.id)
    x_by_col = False
    if ".minX" in y_table.column_names:
        x_lo, x_hi = _cell_ranges(y_table, ".minX", ".maxX", shape, "Y-axis", y_info.id)
        x_by_col = ".ci" in y_table.column_names
    elif ctx.x_table is not None:
        x_info = ctx.x_table
        x_cols = [c for c in (".ri", ".ci", ".minX", ".maxX") if c in x_info.columns]
        x_table = read_table(client, call, x_info, x_cols)
        x_lo, x_hi = _cell_ranges(x_table, ".minX", ".maxX", shape, "X-axis", x_info.id)
        x_by_col = ".ci" in x_table.column_names
    else:
        # No x factor: x is the row number, as Tercen quantizes it over [1, total rows].
        x_lo = np.full(shape, 1.0)
        x_hi = np.full(shape, float(max(ctx.main.n_rows, 1)))
    y_by_row = ".ri" in y_table.column_names
    scales = {(True, True): "free", (True, False): "free_x", (False, True): "free_y"}.get(
        (x_by_col, y_by_row), "fixed"
    )

    # The main table, chunk by chunk, dequantized into the final columns.
    main = ctx.main
    if ".ys" not in main.columns:
        raise DataError(f"main table {main.id} has no .ys column (columns: {main.columns})")
    columns = [c for c in (".ri", ".ci", ".xs", ".ys") if c in main.columns]
    colour = ctx.colour
    colour_column = None
    if colour is not None:
        colour_column = colour.factor if colour.continuous else ".colorLevels"
        if colour_column not in main.columns:
            raise DataError(
                f"colour factor {colour.factor!r}: the main table {main.id} has no "
                f"{colour_column} column (columns: {main.columns})"
            )
        columns.append(colour_column)

    # Bars rise from their baseline .y0s, quantized on the y range like .ys.
    with_y0 = ctx.chart == "bar" and ".y0s" in main.columns
    if with_y0:
        columns.append(".y0s")
    n_layers = max(ctx.n_layers, 1)
    if n_layers > 1:
        if ".axisIndex" not in main.columns:
            raise DataError(
                f"the crosstab has {n_layers} layers but the main table {main.id} has no "
                f".axisIndex column (columns: {main.columns})"
            )
        columns.append(".axisIndex")

    total = main.n_rows
    x = np.empty(total, dtype=np.float32)
    y = np.empty(total, dtype=np.float32)
    y0 = np.empty(total, dtype=np.float32) if with_y0 else None
    layer = np.empty(total, dtype=panels.code_dtype(n_layers)) if n_layers > 1 else None
    # Facet and page codes in the narrowest type (1 byte per row for < 128 levels).
    ri = np.zeros(total, dtype=panels.code_dtype(n_rows))
    ci = np.zeros(total, dtype=panels.code_dtype(n_cols))
    colour_out = None
    if colour is not None:
        colour_out = np.empty(total, dtype=np.float32 if colour.continuous else np.int32)
    y_lo32, y_scale = _flat(y_lo, y_hi)
    x_lo32, x_scale = _flat(x_lo, x_hi)
    started = time.perf_counter()
    for offset in range(0, total, chunk_rows):
        limit = min(chunk_rows, total - offset)
        payload = call(
            lambda o=offset, n=limit: client.stream_table(main.id, columns, o, n),
            f"stream rows {offset:,}+{limit:,}",
        )
        chunk = _decode(payload, main.id, offset)
        del payload
        if chunk.num_rows != limit:
            raise DataError(
                f"main table {main.id}: asked for rows {offset:,}..{offset + limit - 1:,}, "
                f"the server sent {chunk.num_rows:,}"
            )
        part = slice(offset, offset + limit)
        r = _codes(chunk, ".ri", n_rows, main.id)
        c = _codes(chunk, ".ci", n_cols, main.id)
        cell = _cell(r, c, n_cols)
        _dequantize(chunk, ".ys", cell, y_lo32, y_scale, y[part], main.id, "Y", shape)
        if y0 is not None:
            _dequantize(chunk, ".y0s", cell, y_lo32, y_scale, y0[part], main.id, "Y", shape)
        if layer is not None:
            layer[part] = _codes(chunk, ".axisIndex", n_layers, main.id)
        if ".xs" in chunk.column_names:
            _dequantize(chunk, ".xs", cell, x_lo32, x_scale, x[part], main.id, "X", shape)
        else:
            x[part] = np.arange(offset + 1, offset + limit + 1, dtype=np.float32)
        if r is not None:
            ri[part] = r
        if c is not None:
            ci[part] = c
        if colour_out is not None:
            values = io.numpy_from_arrow(chunk.column(colour_column))
            colour_out[part] = values
        del chunk
        report(offset + limit, total)
    elapsed = time.perf_counter() - started
    log.info("streamed %s rows in %.2fs (%s rows/s)", f"{total:,}", elapsed,
             f"{total / elapsed:,.0f}" if elapsed > 0 else "-")  # fmt: skip

    color_codes = color_values = None
    if colour is not None and not colour.continuous:
        color_codes = _colour_factor(client, call, colour_out, colour.table, colour.factor)
    elif colour is not None:
        color_values = colour_out
    page_dtype = panels.code_dtype(len(page_labels))
    page_codes = (page_of_row.astype(page_dtype)[ri] if len(page_labels) > 1
                  else np.zeros(total, page_dtype))  # fmt: skip
    pages = panels.Factor(page_codes, page_labels, tuple(ctx.page_factors))
    plot = PlotData(
        x=x,
        y=y,
        finite=np.isfinite(x) & np.isfinite(y),
        rows=panels.Factor(ri, tuple(row_labels), tuple(row_names)),
        cols=panels.Factor(ci, tuple(col_labels), tuple(col_names)),
        pages=pages,
        color_codes=color_codes,
        color_values=color_values,
        x_title=ctx.x_title or ("row number" if ctx.x_table is None else ""),
        y_title=ctx.y_title,
        color_title=colour.factor if colour is not None else "",
        x_limits=np.stack([x_lo, x_hi], axis=-1).astype(np.float64),
        y_limits=np.stack([y_lo, y_hi], axis=-1).astype(np.float64),
        layers=_layers(layer, ctx.layer_names, n_layers),
        y0=y0,
    )
    return TercenData(plot=plot, page_values=page_values, scales=scales)


def _layers(codes: np.ndarray | None, names: Sequence[str], n: int) -> panels.Factor | None:
    """The ``.axisIndex`` codes as a factor labelled by each layer's y factor name."""
    if codes is None:
        return None
    labels = tuple(names[i] if i < len(names) and names[i] else f"Layer {i + 1}" for i in range(n))
    return panels.Factor(codes, labels, ("layer",))


def _cell(r: np.ndarray | None, c: np.ndarray | None, n_cols: int) -> np.ndarray | None:
    """Flat facet cell index ``ri * n_cols + ci``; a missing index column counts as 0."""
    if r is None:
        return c
    cell = r.astype(np.int64) * n_cols
    return cell + c if c is not None else cell


def _flat(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-cell offset and step of one quantum, flattened to index by ``ri * n_cols + ci``."""
    return lo.ravel().astype(np.float32), ((hi - lo) / QUANT_MAX).ravel().astype(np.float32)


def _codes(chunk: pa.Table, name: str, n: int, table_id: str) -> np.ndarray | None:
    if name not in chunk.column_names:
        return None
    codes = io.numpy_from_arrow(chunk.column(name))
    if len(codes) and (codes.min() < 0 or codes.max() >= n):
        has = {".ri": "the facet table has {} rows", ".ci": "the facet table has {} columns",
               ".axisIndex": "the crosstab has {} layers"}[name].format(n)  # fmt: skip
        raise DataError(
            f"main table {table_id}: {name} runs from {codes.min()} to {codes.max()}, but {has}"
        )
    return codes.astype(np.int32, copy=False)


def _dequantize(
    chunk: pa.Table,
    name: str,
    cell: np.ndarray | None,
    lo: np.ndarray,
    step: np.ndarray,
    out: np.ndarray,
    table_id: str,
    axis: str,
    shape: tuple[int, int],
) -> None:
    """``out = lo[cell] + q * step[cell]``, refusing cells without a range."""
    q = io.numpy_from_arrow(chunk.column(name))
    if cell is None:
        offset, scale = lo[:1], step[:1]
        cell = np.zeros(len(q), dtype=np.int32)
    else:
        offset, scale = lo, step
    base = offset[cell] if len(offset) > 1 else np.broadcast_to(offset[0], q.shape)
    if np.isnan(base).any():
        first = int(cell[np.flatnonzero(np.isnan(base))[0]])
        raise DataError(
            f"main table {table_id}: no {axis}-axis range for facet cell "
            f"(.ri={first // shape[1]}, .ci={first % shape[1]}) in the range tables"
        )
    np.multiply(q, scale[cell] if len(scale) > 1 else scale[0], out=out, casting="unsafe")
    out += base


def _colour_factor(
    client: TercenClient,
    call: Call,
    levels: np.ndarray,
    table: TableInfo | None,
    factor: str,
) -> panels.Factor:
    """Categorical colours: ``.colorLevels`` codes, labels from the ``color_0`` table rows."""
    labels: list[str] = []
    if table is not None and table.n_rows:
        level_table = read_table(client, call, table)
        names = [n for n in level_table.column_names if not n.startswith(".")]
        labels = _labels(level_table, names or level_table.column_names, ", ")
    if len(levels) and levels.min() < 0:
        raise DataError(f"colour factor {factor!r}: .colorLevels holds negative levels")
    n_levels = max(len(labels), int(levels.max()) + 1 if len(levels) else 1)
    labels += [str(i) for i in range(len(labels), n_levels)]
    return panels.Factor(levels, tuple(labels), (factor,))
