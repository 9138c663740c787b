"""The render pipeline: a table in, one encoded image per page out.

Read :func:`render_data` top to bottom: it is the whole architecture as named
steps — colours → pages → panels → scales → layout → aggregate → shade →
compose → encode. Each step lives in its own module; this one wires them.
:func:`prepare` turns a table and a mapping into :class:`PlotData` (the Tercen
operator builds the same from the crosstab projection).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ggrs import bars, geoms, heatmap, io, memory, palettes, panels, scales, shade, stencils
from ggrs.aggregate import Canvas, gpu_backend, native_backend
from ggrs.aggregate.facets import FacetCodes
from ggrs.aggregate.rects import Rects
from ggrs.compose import layout, theme
from ggrs.compose.encode import encode_figure
from ggrs.compose.views import (
    AxisView,
    CategoricalLegend,
    ContinuousLegend,
    FigureView,
    Legend,
    PanelView,
)
from ggrs.errors import DataError, LayoutError, UsageError
from ggrs.plotdata import PlotData
from ggrs.properties import MAX_SIDE_PX, Properties

ProgressFn = Callable[[str], None]

# The colour of a category an explicit level → colour map leaves out (Tercen's).
_UNMAPPED_GREY = (128, 128, 128)
# Layer entries of a legend whose colours belong to a colour factor: shape only.
_LAYER_KEY_GREY = (77, 77, 77)

# Legend keys drawn as ggplot2 draws them for each chart kind.
_LEGEND_KEYS = {"point": "point", "line": "line", "bar": "bar", "heatmap": "bar"}

# Tercen's auto size: 800 px plus 400 per extra facet, then room for the legend.
_AUTO_BASE, _AUTO_STEP = 800, 400
_LEGEND_EXTRA = {"plot.width": 150, "plot.height": 100}
#: The largest image drawn, in pixels. A render peaks near 30 bytes per image
#: pixel (the crabs demo at 10000 × 10000: 3.1 GB), so a larger one is refused
#: with a message instead of running the machine out of memory.
MAX_IMAGE_PIXELS = 100_000_000


@dataclass(frozen=True)
class Aesthetics:
    """Which columns map to what. Only ``y`` is required.

    ``y`` may name several columns: each becomes a layer drawn over the others
    in the same panels, with its own colour (or shape) and legend entry.
    """

    y: str | tuple[str, ...]
    x: str | None = None
    color: str | None = None
    rows: tuple[str, ...] = ()
    cols: tuple[str, ...] = ()
    pages: tuple[str, ...] = ()

    @property
    def y_columns(self) -> tuple[str, ...]:
        """The y column of each layer."""
        return (self.y,) if isinstance(self.y, str) else tuple(self.y)

    def columns(self) -> list[str]:
        """Every column the plot reads, each once, in mapping order."""
        names = [self.x, *self.y_columns, self.color, *self.rows, *self.cols, *self.pages]
        return list(dict.fromkeys(n for n in names if n))


@dataclass(frozen=True)
class PlotRequest:
    """A whole plot: mapping, chart kind, facet scales, palette and properties.

    ``x_transform``/``y_transform`` are the data source's axis transforms (e.g.
    the Tercen crosstab's); the ``axis.x.transform``/``axis.y.transform``
    properties win over them. ``data_transformed`` says the positions (and any
    given cell limits) are already in transformed space, as Tercen sends them:
    then the transforms only place and label the ticks. ``color_stops``, when
    given, places a continuous palette's colours at data values ((value, (r, g,
    b)) in increasing value order, e.g. Tercen's quartile-rescaled palette):
    they replace ``palette`` for a numeric colour column and fix the colour
    limits to the first and last stop (values beyond take the end colours).
    ``level_colours`` names the colour of categorical levels by label (Tercen's
    explicit map); unnamed levels are grey.
    """

    aes: Aesthetics
    properties: Properties
    chart: str = "point"
    scales: str = "free_y"  # fixed | free_x | free_y | free (as ggplot2's facet_grid)
    palette: str | None = None
    point_size: float = 4.0
    x_transform: scales.Transform | None = None
    y_transform: scales.Transform | None = None
    data_transformed: bool = False
    color_stops: tuple[tuple[float, tuple[int, int, int]], ...] | None = None
    level_colours: tuple[tuple[str, tuple[int, int, int]], ...] = ()


@dataclass(frozen=True)
class RenderedPage:
    """One encoded image. ``label`` is the page's value ("" without pages)."""

    label: str
    image: bytes
    width: int
    height: int
    mimetype: str = "image/png"


@dataclass(frozen=True)
class _Page:
    """The rows of one page and the facet grid of the levels present on it."""

    x: np.ndarray
    y: np.ndarray
    finite: np.ndarray
    rows: panels.Factor
    cols: panels.Factor
    category: np.ndarray | None
    n_categories: int
    value: np.ndarray | None
    x_limits: np.ndarray | None
    y_limits: np.ndarray | None
    layer: np.ndarray | None = None
    n_layers: int = 1
    y0: np.ndarray | None = None
    ranges: np.ndarray | None = None  # as PlotData.ranges, for this page's rows


def render_table(
    table: pa.Table, request: PlotRequest, progress: ProgressFn | None = None
) -> list[RenderedPage]:
    """Renders `table` as `request` says, one image per page.

    Raises:
        DataError: a mapped column is missing or cannot be plotted.
        UsageError: a mapping or property value is not allowed.
        LayoutError: the image size leaves the panels no room.
    """
    pages = render_data(prepare(table, request.aes), request, progress)
    if table.nbytes >= memory.RELEASE_FROM_BYTES:
        memory.release_freed()  # the render's grids and scratch are garbage now
    return pages


def render_data(
    data: PlotData, request: PlotRequest, progress: ProgressFn | None = None
) -> list[RenderedPage]:
    """Renders prepared columns, one image per page (see :func:`render_table`)."""
    report = progress or (lambda message: None)
    props = request.properties
    backend = _backend_name(props["backend"])
    if request.chart not in geoms.CHARTS:
        raise UsageError(
            f"chart {request.chart!r} is not available; choose one of {', '.join(geoms.CHARTS)}"
        )
    plot_theme = _theme(props)

    if request.chart == "heatmap" and data.color_codes is None and data.color_values is None:
        # A heatmap without a colour factor colours its cells by the y value (in
        # its own units: the axes of a heatmap are the facets, not x and y).
        data = replace(data, color_values=data.y, color_title=data.y_title)

    # Axis transforms: positions move to transformed space once, for every page.
    data, axis_settings = _transform_axes(data, request, report)

    # Colours are trained on the whole table so that pages compare.
    legend, colourings = _train_colour(data, request, props)

    rendered = []
    for page_code, page_label in enumerate(data.pages.labels):
        name = page_label or "plot"
        # Pages: the rows of this page and the facet levels present on it.
        page = _select_page(data, page_code)
        if request.chart == "heatmap":
            fig, plan, rasters = _heatmap_page(page, data, props, plot_theme, legend, colourings[0])
        else:
            fig, plan, rasters = _layered_page(
                page, data, request, plot_theme, legend, colourings, axis_settings, backend, report
            )
        report(f"{name}: drew {len(page.x):,} rows in {fig.n_rows}x{fig.n_cols} panels")

        # Compose the figure around the rasters, then encode it.
        encoded, mimetype = encode_figure(
            fig, plan, plot_theme, rasters, props["output.format"], props["png.compression"]
        )
        report(f"{name}: encoded {len(encoded):,} bytes")
        rendered.append(RenderedPage(page_label, encoded, fig.width, fig.height, mimetype))
    return rendered


def _layered_page(
    page: _Page,
    data: PlotData,
    request: PlotRequest,
    plot_theme: theme.Theme,
    legend: Legend | None,
    colourings: Sequence[shade.Colouring],
    axis_settings: AxisSettings,
    backend: str,
    report: ProgressFn,
) -> tuple[FigureView, layout.Layout, np.ndarray]:
    """Points, lines or bars in a facet grid: scales, layout, then each layer drawn."""
    props = request.properties
    n_rows, n_cols = page.rows.n_levels, page.cols.n_levels
    layers = _page_layers(page)
    scale_page = page
    if request.chart == "bar":
        # Bars reach from their baseline and are as wide as the x spacing allows:
        # the scales are trained on the rectangles, not on the points, and given
        # cell ranges (Tercen's) widen to hold them.
        layers, rects = geoms.dodged_bars(layers)
        scale_page = _rect_page(page, rects)

    # Scales: x and y ranges per panel (free per facet row/column as asked).
    panel_views = _train_scales(scale_page, request.scales, data, axis_settings)

    # Layout: measured before drawing, so the panels' pixel size is known.
    width, height = _figure_size(props, n_rows, n_cols, legend)
    fig = FigureView(
        width=width,
        height=height,
        n_rows=n_rows,
        n_cols=n_cols,
        panels=panel_views,
        col_strips=page.cols.labels if page.cols.names else (),
        row_strips=page.rows.labels if page.rows.names else (),
        title=props["plot.title"],
        x_title=props["axis.x.label"] or data.x_title,
        y_title=props["axis.y.label"] or data.y_title,
        legend=legend,
    )
    plan = layout.compute_layout(fig, plot_theme)

    # Aggregate and shade each layer (one pass over its rows for all panels),
    # then lay the layers over one another in order.
    canvas = _canvas(plan.panel_size, panel_views)
    shapes = props["point.shapes"]
    size = request.point_size * props["point.size.multiplier"]
    rasters = []
    for index, layer in enumerate(layers):
        style = geoms.Style(
            colouring=colourings[index % len(colourings)],
            size=size,
            opacity=props["opacity"],
            shape=stencils.layer_shape(shapes, index),
            backend=backend,
        )
        drawn, device = geoms.draw(request.chart, layer, canvas, style)
        report(f"layer {index + 1}/{len(layers)}: {device}")
        rasters.append(drawn)
    return fig, plan, rasters[0] if len(rasters) == 1 else shade.composite(rasters)


def _page_layers(page: _Page) -> list[geoms.Layer]:
    """The page's rows split by layer (one layer when the data has none)."""
    panel = None
    if page.rows.n_levels * page.cols.n_levels > 1:
        # Panel codes computed a block at a time, not stored: 50 MB less at 5e7 rows.
        panel = FacetCodes(page.rows.codes, page.cols.codes, page.cols.n_levels)

    def layer(rows: np.ndarray | None) -> geoms.Layer:
        return geoms.Layer(
            x=_take(page.x, rows),
            y=_take(page.y, rows),
            panel=_take(panel, rows),
            category=_take(page.category, rows),
            n_categories=page.n_categories,
            value=_take(page.value, rows),
            y0=_take(page.y0, rows),
        )

    if page.layer is None:
        return [layer(None)]
    order = np.argsort(page.layer, kind="stable")
    bounds = np.searchsorted(page.layer[order], np.arange(page.n_layers + 1))
    return [layer(order[bounds[k] : bounds[k + 1]]) for k in range(page.n_layers)]


def _rect_page(page: _Page, rects: Rects) -> _Page:
    """A page whose rows are the rectangles' corners, to train scales on bars;
    given cell limits widen to the bars' extent."""
    n_rows, n_cols = page.rows.n_levels, page.cols.n_levels
    panel = np.zeros(len(rects), np.int64) if rects.panel is None else rects.panel.astype(np.int64)
    panel = np.tile(panel, 2)
    x = np.concatenate((rects.x0, rects.x1))
    y = np.concatenate((rects.y0, rects.y1))
    rows = panels.Factor(panel // n_cols, page.rows.labels, page.rows.names)
    cols = panels.Factor(panel % n_cols, page.cols.labels, page.cols.names)
    x_cover, y_cover = bars.bar_limits(rects, n_rows * n_cols)

    def widened(cells: np.ndarray | None, cover: np.ndarray) -> np.ndarray | None:
        if cells is None:
            return None
        flat = cells.reshape(-1, 2)
        low, high = np.fmin(flat[:, 0], cover[:, 0]), np.fmax(flat[:, 1], cover[:, 1])
        return np.column_stack((low, high)).reshape(cells.shape)

    return replace(
        page, x=x, y=y, finite=np.isfinite(x) & np.isfinite(y), rows=rows, cols=cols,
        category=None, value=None, layer=None, y0=None, ranges=None,
        x_limits=widened(page.x_limits, x_cover), y_limits=widened(page.y_limits, y_cover),
    )  # fmt: skip


def _heatmap_page(
    page: _Page,
    data: PlotData,
    props: Properties,
    plot_theme: theme.Theme,
    legend: Legend | None,
    colouring: shade.Colouring,
) -> tuple[FigureView, layout.Layout, np.ndarray]:
    """The facet grid as one panel of tiles, first facet row at the top."""
    n_rows, n_cols = page.rows.n_levels, page.cols.n_levels
    x_axis, y_axis = heatmap.heatmap_axes(page.rows.labels, page.cols.labels)
    width, height = _figure_size(props, 1, 1, legend)
    fig = FigureView(
        width=width,
        height=height,
        n_rows=1,
        n_cols=1,
        panels=(PanelView(row=0, col=0, x=x_axis, y=y_axis),),
        title=props["plot.title"],
        x_title=props["axis.x.label"] or ", ".join(page.cols.names),
        y_title=props["axis.y.label"] or ", ".join(page.rows.names),
        legend=legend,
    )
    plan = layout.compute_layout(fig, plot_theme)
    how = props["heatmap.cell.aggregation"]
    # Every row counts, whatever its x and y: the cell is its position; rows
    # without a finite colour value are left out by cell_values itself.
    if page.category is not None:
        cells = heatmap.cell_categories(
            page.category, page.rows.codes, page.cols.codes, n_rows, n_cols, how
        )
    else:
        cells = heatmap.cell_values(
            page.value, page.rows.codes, page.cols.codes, n_rows, n_cols, how
        )
    tiles = heatmap.cell_colours(cells, colouring)
    width, height = plan.panel_size
    return fig, plan, heatmap.tile_raster(tiles, width, height)[None]


def _select_page(data: PlotData, page_code: int) -> _Page:
    rows = None if data.pages.n_levels == 1 else np.flatnonzero(data.pages.codes == page_code)
    row_factor, kept_rows = _present(data.rows, rows)
    col_factor, kept_cols = _present(data.cols, rows)

    def cells(limits: np.ndarray | None) -> np.ndarray | None:
        return None if limits is None else limits[np.ix_(kept_rows, kept_cols)]

    return _Page(
        x=_take(data.x, rows),
        y=_take(data.y, rows),
        finite=_take(data.finite, rows),
        rows=row_factor,
        cols=col_factor,
        category=_take(data.color_codes.codes, rows) if data.color_codes else None,
        n_categories=data.color_codes.n_levels if data.color_codes else 0,
        value=_take(data.color_values, rows),
        x_limits=cells(data.x_limits),
        y_limits=cells(data.y_limits),
        layer=_take(data.layers.codes, rows) if data.layers else None,
        n_layers=data.layers.n_levels if data.layers else 1,
        y0=_take(data.y0, rows),
        ranges=data.ranges if rows is None else None,
    )


def _canvas(panel_size: tuple[int, int], panel_views: tuple[PanelView, ...]) -> Canvas:
    width, height = panel_size
    return Canvas(
        width=width,
        height=height,
        x_ranges=np.array([p.x.limits for p in panel_views], dtype=np.float64),
        y_ranges=np.array([p.y.limits for p in panel_views], dtype=np.float64),
    )


def _backend_name(choice: str) -> str:
    """The ``backend`` property, checked before any work: ``gpu`` needs a usable GPU."""
    if choice == "gpu":
        gpu_backend.require_gpu()  # raises BackendUnavailable naming what is missing
    return choice


def _column(table: pa.Table, name: str, role: str) -> pa.ChunkedArray:
    if name not in table.column_names:
        raise DataError(
            f"{role}={name}: no such column; the table has {', '.join(table.column_names)}"
        )
    return table.column(name)


def _numeric(table: pa.Table, name: str, role: str) -> np.ndarray:
    """A numeric column as a float array (NaN for nulls); text is refused."""
    column = _column(table, name, role)
    kind = column.type
    if pa.types.is_null(kind):
        # A column with no value at all (a CSV reader's type for all-empty or all-NaN
        # text): missing numbers, as an all-NaN float column is.
        return np.full(len(column), np.nan)
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    if not (pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind)):
        raise DataError(
            f"{role}={name}: the column holds {kind}, not numbers; map a numeric column "
            f"to {role} (text columns can be --color, --rows, --cols or --pages)"
        )
    view = io.numeric_view(column)
    if view is not None and view.dtype.kind == "f":
        return view  # the readers' numeric columns: one chunk, no nulls, no copy
    if not pa.types.is_floating(column.type):
        column = pc.cast(column, pa.float64())
    if isinstance(column, pa.ChunkedArray):
        # combine_chunks copies even a single chunk.
        column = column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()
    if column.null_count:
        column = column.fill_null(float("nan"))
    return io.numpy_from_arrow(column)


def _factor(table: pa.Table, names: Sequence[str], role: str, separator: str) -> panels.Factor:
    for name in names:
        _column(table, name, role)
    return panels.table_factor(table, names, separator)


def prepare(table: pa.Table, aes: Aesthetics) -> PlotData:
    """Validates the mapping against the table and extracts the columns.

    Raises:
        DataError: a mapped column is missing, or x/y hold no numbers.
    """
    ys = [_numeric(table, name, "y") for name in aes.y_columns]
    y = ys[0]
    # Tercen's convention: without an x factor, x is the row number.
    x = _numeric(table, aes.x, "x") if aes.x else np.arange(1, table.num_rows + 1, dtype=y.dtype)
    if any(v.dtype != x.dtype for v in ys):
        x = x.astype(np.float64, copy=False)
        ys = [v.astype(np.float64, copy=False) for v in ys]
    color_codes = color_values = None
    if aes.color:
        kind = _column(table, aes.color, "color").type
        if pa.types.is_floating(kind) or pa.types.is_decimal(kind):
            color_values = _numeric(table, aes.color, "color")
        else:  # text, booleans and integer codes are categories
            color_codes = panels.table_factor(table, [aes.color])
    rows = _factor(table, aes.rows, "rows", ", ")
    cols = _factor(table, aes.cols, "cols", ", ")
    pages = _factor(table, aes.pages, "pages", "_")
    layers = None
    if len(ys) > 1:
        # Layers are stacked: every per-row column repeats once per y column.
        n_layers = len(ys)
        y = np.concatenate(ys)
        x = np.tile(x, n_layers)
        color_values = None if color_values is None else np.tile(color_values, n_layers)
        color_codes = None if color_codes is None else _tiled(color_codes, n_layers)
        rows, cols, pages = (_tiled(f, n_layers) for f in (rows, cols, pages))
        codes = np.repeat(np.arange(n_layers, dtype=panels.code_dtype(n_layers)), table.num_rows)
        layers = panels.Factor(codes, aes.y_columns, ("layer",))
    # Usually every position is finite: min/max propagate NaN and ±inf, so four
    # reductions tell, and a zero-stride all-True view then stands in for the
    # full-size mask (which would cost a byte per row and three passes). The four
    # are then the data ranges too, which the scales reuse.
    ranges = None
    finite = np.broadcast_to(np.True_, x.shape)
    if len(x):
        bounds = np.array([(x.min(), x.max()), (y.min(), y.max())], dtype=np.float64)
        if np.isfinite(bounds).all():
            ranges = bounds
        else:
            finite = np.isfinite(x) & np.isfinite(y)
    return PlotData(
        x=x,
        y=y,
        finite=finite,
        rows=rows,
        cols=cols,
        pages=pages,
        color_codes=color_codes,
        color_values=color_values,
        x_title=aes.x or "row number",
        y_title=", ".join(aes.y_columns),
        color_title=aes.color or "",
        layers=layers,
        ranges=ranges,
    )


def _tiled(factor: panels.Factor, times: int) -> panels.Factor:
    return panels.Factor(np.tile(factor.codes, times), factor.labels, factor.names)


def _take(values: np.ndarray | None, rows: np.ndarray | None) -> np.ndarray | None:
    if values is None or rows is None:
        return values
    return values[rows]


def _present(factor: panels.Factor, rows: np.ndarray | None) -> tuple[panels.Factor, np.ndarray]:
    """The factor restricted to `rows`, keeping only the levels that occur there,
    and the kept levels' original codes."""
    if rows is None:
        return factor, np.arange(factor.n_levels)
    codes = factor.codes[rows]
    counts = np.bincount(codes, minlength=factor.n_levels)
    keep = np.flatnonzero(counts)
    remap = (np.cumsum(counts > 0) - 1).astype(panels.code_dtype(len(keep)))
    labels = tuple(factor.labels[i] for i in keep) or ("",)
    return panels.Factor(remap[codes], labels, factor.names), keep


def _group_limits(values: np.ndarray, ok: np.ndarray, codes: np.ndarray, n: int) -> np.ndarray:
    """(n, 2) min/max of the finite `values` per group code; NaN for empty groups.

    `ok` marks the rows to use (their values must be finite); a zero-stride view
    (as :func:`prepare` makes when every row is finite) is recognised without a pass.
    """
    limits = np.full((n, 2), np.nan)
    all_ok = (ok.ndim == 1 and ok.strides[0] == 0 and (len(ok) == 0 or bool(ok[0]))) or bool(
        ok.all()
    )
    if n == 1 and all_ok:
        if len(values):
            limits[0] = (values.min(), values.max())
        return limits
    # The compiled pass (one read of each row) where the kernels are built.
    compiled = native_backend.group_limits(
        values, None if n == 1 else codes, n, None if all_ok else ok
    )
    if compiled is not None:
        return compiled
    # Exact, pandas-free (pyarrow's group_by imports pandas) and without full-size
    # temporaries: ufunc.at with matching dtypes takes numpy's fast path, and left-out
    # rows are replaced by ±inf block by block, so they never win a min or a max.
    kind = values.dtype if values.dtype.kind == "f" else np.dtype(np.float64)
    low = np.full(n, np.inf, dtype=kind)
    high = np.full(n, -np.inf, dtype=kind)
    block = 1 << 16
    scratch = np.empty(min(block, len(values)), dtype=kind)

    def reduce(
        into: np.ndarray, ufunc: np.ufunc, group: np.ndarray | None, part: np.ndarray
    ) -> None:
        if group is None:  # one group: a plain reduction is faster than ufunc.at
            into[0] = ufunc(into[0], ufunc.reduce(part))
        else:
            ufunc.at(into, group, part)

    for start in range(0, len(values), block):
        part = values[start : start + block]
        group = None if n == 1 else codes[start : start + block].astype(np.intp, copy=False)
        if all_ok and part.dtype == kind:
            reduce(low, np.minimum, group, part)
            reduce(high, np.maximum, group, part)
            continue
        left_out = ~ok[start : start + block]
        tmp = scratch[: len(part)]
        np.copyto(tmp, part)
        np.putmask(tmp, left_out, np.inf)
        reduce(low, np.minimum, group, tmp)
        np.copyto(tmp, part)
        np.putmask(tmp, left_out, -np.inf)
        reduce(high, np.maximum, group, tmp)
    # Only finite values were kept, so an infinite bound means the group had none.
    # (+ 0.0 turns -0.0 into 0.0, as the compiled pass does.)
    found = np.isfinite(low)
    limits[found, 0], limits[found, 1] = low[found] + 0.0, high[found] + 0.0
    return limits


@dataclass(frozen=True)
class AxisSettings:
    """Transforms and manual ranges of the two position axes.

    Attributes:
        x_transform, y_transform: place the ticks and write their labels.
        x_range, y_range: manual limits in transformed space (from
            ``axis.x.range``/``axis.y.range``), or None to train from the data.
    """

    x_transform: scales.Transform = scales.IDENTITY
    y_transform: scales.Transform = scales.IDENTITY
    x_range: tuple[float, float] | None = None
    y_range: tuple[float, float] | None = None


def _transform_axes(
    data: PlotData, request: PlotRequest, report: ProgressFn
) -> tuple[PlotData, AxisSettings]:
    """The axes' transforms and manual ranges, and the data moved to transformed space.

    Values without a position on a transformed axis (≤ 0 on log, < 0 on sqrt)
    become NaN, are left out of the ranges and the image, and are counted in a
    progress message. Data marked ``data_transformed`` is left as it is.

    Raises:
        UsageError: a manual range has no position on its axis (min ≤ 0 on log).
    """
    props = request.properties
    settings: dict[str, object] = {}
    changes: dict[str, object] = {}
    finite = data.finite
    for axis in ("x", "y"):
        transform = props[f"axis.{axis}.transform"] or getattr(request, f"{axis}_transform")
        transform = transform or scales.IDENTITY
        settings[f"{axis}_transform"] = transform
        manual = props[f"axis.{axis}.range"]
        if manual is not None:
            low, high = (float(v) for v in transform.forward(np.array(manual, dtype=np.float64)))
            if not (np.isfinite(low) and np.isfinite(high) and low < high):
                raise UsageError(
                    f"property axis.{axis}.range={manual[0]:g},{manual[1]:g} is not valid: "
                    f"it has no position on the {transform.name} axis (log axes need min > 0, "
                    "sqrt axes min ≥ 0)"
                )
            settings[f"{axis}_range"] = (low, high)
        if transform is scales.IDENTITY or request.data_transformed:
            continue
        values = transform.forward(getattr(data, axis))
        ok = np.isfinite(values)
        dropped = int(np.count_nonzero(finite & ~ok))
        if dropped:
            report(
                f"{axis} ({getattr(data, f'{axis}_title')}): {dropped:,} values have no position "
                f"on the {transform.name} axis (≤ 0 on log, < 0 on sqrt) and are left out"
            )
        finite = finite & ok
        changes[axis] = values
        cells = getattr(data, f"{axis}_limits")
        if cells is not None:
            changes[f"{axis}_limits"] = transform.forward(cells)
        if axis == "y" and request.chart == "bar":
            changes["y0"] = _bar_baseline(data.y0, values, ok, transform)
    if changes:
        data = replace(data, finite=finite, ranges=None, **changes)
    return data, AxisSettings(**settings)  # type: ignore[arg-type]


def _bar_baseline(
    y0: np.ndarray | None, y: np.ndarray, ok: np.ndarray, transform: scales.Transform
) -> np.ndarray | None:
    """Bar baselines moved to the transformed y axis.

    Given baselines are transformed like y. The default baseline 0 goes where 0
    lies on the axis (0 on sqrt and asinh, logicle's x1); on log axes, where 0 has
    no position, bars rise from the smallest y instead (ggplot2 draws them from
    the panel's bottom edge).
    """
    if y0 is not None:
        return transform.forward(y0)
    zero = float(transform.forward(np.zeros(1))[0])
    if np.isfinite(zero):
        return None if zero == 0.0 else np.full(len(y), zero)
    low = float(y[ok].min()) if ok.any() else 0.0
    return np.full(len(y), low)


def _train_scales(
    page: _Page, mode: str, data: PlotData, settings: AxisSettings | None = None
) -> tuple[PanelView, ...]:
    """x and y axes of every panel: a manual range, given per cell, or trained from
    the data with `mode` freeing x per facet column and/or y per facet row.

    Positions, cell limits and manual ranges are in transformed space; the
    settings' transforms place the ticks and label them in the original units.
    """
    settings = settings or AxisSettings()
    if page.ranges is not None:
        overall_x, overall_y = page.ranges
    else:
        overall_x = _group_limits(page.x, page.finite, page.rows.codes, 1)[0]
        overall_y = _group_limits(page.y, page.finite, page.rows.codes, 1)[0]
    if np.isnan(overall_y[0]) and page.y_limits is None and settings.y_range is None:
        raise DataError(
            f"nothing to plot: no row has finite values in both x ({data.x_title}) "
            f"and y ({data.y_title})"
        )
    n_rows, n_cols = page.rows.n_levels, page.cols.n_levels
    shape = (n_rows, n_cols, 2)
    if page.x_limits is not None:
        x_cells = _filled(page.x_limits.reshape(-1, 2), overall_x).reshape(shape)
    else:  # one range per facet column (free) or one for all
        free = mode in ("free_x", "free")
        x_by_col = _axis_limits(page.x, page.finite, page.cols, free, overall_x)
        x_cells = np.broadcast_to(x_by_col[None, :, :], shape)
    if page.y_limits is not None:
        y_cells = _filled(page.y_limits.reshape(-1, 2), overall_y).reshape(shape)
    else:  # one range per facet row (free) or one for all
        free = mode in ("free_y", "free")
        y_by_row = _axis_limits(page.y, page.finite, page.rows, free, overall_y)
        y_cells = np.broadcast_to(y_by_row[:, None, :], shape)
    axes: dict[tuple[str, float, float], AxisView] = {}

    def axis(limits: np.ndarray, name: str) -> AxisView:
        manual = getattr(settings, f"{name}_range")
        transform = getattr(settings, f"{name}_transform")
        key = (name, *(manual or (float(limits[0]), float(limits[1]))))
        if key not in axes:  # equal ranges share one axis (drawn once per row/column)
            # A manual range is the axis exactly: no expansion, points beyond it clipped.
            axes[key] = scales.train_axis(
                key[1], key[2], expand=manual is None, transform=transform
            )
        return axes[key]

    return tuple(
        PanelView(row=r, col=c, x=axis(x_cells[r, c], "x"), y=axis(y_cells[r, c], "y"))
        for r in range(n_rows)
        for c in range(n_cols)
    )


def _axis_limits(
    values: np.ndarray, ok: np.ndarray, facet: panels.Factor, free: bool, overall: np.ndarray
) -> np.ndarray:
    """(levels, 2) data range per facet level when `free`, else the overall range."""
    # One level's range is the overall one: no second pass over the rows.
    if free and facet.n_levels > 1:
        limits = _group_limits(values, ok, facet.codes, facet.n_levels)
    else:
        limits = np.tile(overall, (facet.n_levels, 1))
    return _filled(limits, overall)


def _filled(limits: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    """Groups without a range take the overall one (or 0-1 when there is none)."""
    if np.isnan(fallback).any():
        fallback = np.array([0.0, 1.0])
    return np.where(np.isnan(limits).any(axis=1, keepdims=True), fallback, limits)


def _figure_size(
    props: Properties, n_rows: int, n_cols: int, legend: Legend | None
) -> tuple[int, int]:
    """The image's (width, height) in pixels (see :func:`_image_size`).

    Raises:
        LayoutError: the image would be larger than can be drawn (the auto size
            of a large facet grid, or two large sides).
    """
    width = _image_size(props, n_cols, "plot.width", legend, "right", "left")
    height = _image_size(props, n_rows, "plot.height", legend, "top", "bottom")
    if max(width, height) > MAX_SIDE_PX or width * height > MAX_IMAGE_PIXELS:
        auto = [
            f"{n} facet {kind}"
            for name, n, kind in (
                ("plot.width", n_cols, "columns"),
                ("plot.height", n_rows, "rows"),
            )
            if not props[name] and n > 1
        ]
        why = f", the auto size for {' and '.join(auto)}" if auto else ""
        raise LayoutError(
            f"the image would be {width} × {height} px ({width * height / 1e6:,.0f} "
            f"megapixels{why}); ggrs draws at most {MAX_SIDE_PX} px a side and "
            f"{MAX_IMAGE_PIXELS // 1_000_000} megapixels: set plot.width and plot.height, "
            "or split the facets over pages"
        )
    return width, height


def _image_size(
    props: Properties, n_facets: int, name: str, legend: Legend | None, *legend_sides: str
) -> int:
    """plot.width/plot.height, or Tercen's auto rule with room for a legend on that side."""
    if props[name]:
        return int(props[name])
    size = _AUTO_BASE + (n_facets - 1) * _AUTO_STEP
    if legend is not None and props["legend.position"] in legend_sides:
        size += _LEGEND_EXTRA[name]
    return size


def _theme(props: Properties) -> theme.Theme:
    """The named theme with the property overrides applied."""
    overrides = theme.ThemeOverrides(
        grid_major_disable=props["grid.major.disable"],
        grid_minor_disable=props["grid.minor.disable"],
        axis_lines_disable=props["axis.lines.disable"],
        text_disable=props["text.disable"],
        title_font_size=props["plot.title.font.size"],
        axis_label_font_size=props["axis.label.font.size"],
        axis_tick_font_size=props["axis.tick.font.size"],
        axis_line_width=props["axis.line.width"],
        legend_position=props["legend.position"],
        legend_position_inside=props["legend.position.inside"],
        legend_justification=props["legend.justification"],
        title_position=props["plot.title.position"],
        title_justification=props["plot.title.justification"],
        x_tick_rotation=props["axis.x.tick.rotation"],
        y_tick_rotation=props["axis.y.tick.rotation"],
    )
    return theme.apply_overrides(theme.theme_by_name(props["theme"]), overrides)


def _train_colour(
    data: PlotData, request: PlotRequest, props: Properties
) -> tuple[Legend | None, tuple[shade.Colouring, ...]]:
    """The legend and each layer's colouring rule for shading.

    A colour factor colours every layer alike (layers then differ by shape, and
    a point chart's key lists the layers after the colours, in grey with their
    shapes); without one, each layer takes the next palette colour and an entry.
    """
    shapes = props["point.shapes"]
    if data.color_codes is not None:
        factor = data.color_codes
        colours = palettes.categorical_colors(factor.n_levels, request.palette or "Palette-1")
        if request.level_colours:
            # The data source named each level's colour (Tercen's explicit map);
            # levels it does not name are grey, as in Tercen.
            chosen = dict(request.level_colours)
            colours = tuple(chosen.get(label, _UNMAPPED_GREY) for label in factor.labels)
        labels, key_colours = factor.labels, colours
        key_shapes = (stencils.layer_shape(shapes, 0),) * factor.n_levels
        if data.layers is not None and request.chart == "point":
            n_layers = data.layers.n_levels
            labels += data.layers.labels
            key_colours += (_LAYER_KEY_GREY,) * n_layers
            key_shapes += tuple(stencils.layer_shape(shapes, i) for i in range(n_layers))
        legend = CategoricalLegend(
            title=data.color_title,
            labels=labels,
            colors=key_colours,
            shapes=key_shapes,
            key=_LEGEND_KEYS[request.chart],
        )
        return legend, (shade.Categorical(colours),)
    if data.color_values is not None:
        values = data.color_values
        finite = values[np.isfinite(values)]
        if not len(finite):
            raise DataError(f"color={data.color_title}: the column has no finite values")
        if request.color_stops is not None:
            # The data source placed the colours itself (Tercen's quartile rescale).
            scaled = palettes.data_stops_lut(request.color_stops)
            (low, high), lut, bar_stops = scaled.limits, scaled.lut, scaled.stops
        else:
            low, high = float(finite.min()), float(finite.max())
            name = request.palette or "Viridis"
            lut, bar_stops = palettes.continuous_lut(name), palettes.stops(name)
        breaks = scales.nice_breaks(low, high) if high > low else np.array([low])
        breaks = breaks[(breaks >= low) & (breaks <= high)]
        if high <= low:  # one value: the colour bar still needs a span
            low, high = scales.expand_range(low, high)
        legend = ContinuousLegend(
            title=data.color_title,
            limits=(low, high),
            breaks=tuple(float(b) for b in breaks),
            labels=scales.format_labels(breaks),
            stops=bar_stops,
        )
        return legend, (shade.Continuous(lut, (low, high)),)
    if data.layers is not None:
        factor = data.layers
        colours = palettes.categorical_colors(factor.n_levels, request.palette or "Palette-1")
        legend = CategoricalLegend(
            title="",
            labels=factor.labels,
            colors=colours,
            shapes=tuple(stencils.layer_shape(shapes, i) for i in range(factor.n_levels)),
            key=_LEGEND_KEYS[request.chart],
        )
        return legend, tuple(shade.Constant(c) for c in colours)
    first = palettes.categorical_colors(1, request.palette or "Palette-1")[0]
    return None, (shade.Constant(first),)
