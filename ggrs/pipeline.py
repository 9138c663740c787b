"""The render pipeline: a table in, one encoded image per page out.

Read :func:`render_data` top to bottom: it is the whole architecture as named
steps — colours → pages → panels → scales → layout → aggregate → shade →
compose → encode. Each step lives in its own module; this one wires them.
:func:`prepare` turns a table and a mapping into :class:`PlotData` (the Tercen
operator builds the same from the crosstab projection).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ggrs import palettes, panels, scales, shade
from ggrs.aggregate import Canvas, Points, aggregate
from ggrs.compose import figure, layout, theme
from ggrs.compose.encode import encode_png
from ggrs.compose.views import (
    AxisView,
    CategoricalLegend,
    ContinuousLegend,
    FigureView,
    Legend,
    PanelView,
)
from ggrs.errors import BackendUnavailable, DataError, UsageError
from ggrs.plotdata import PlotData
from ggrs.properties import Properties

ProgressFn = Callable[[str], None]

# Tercen's auto size: 800 px plus 400 per extra facet, then room for the legend.
_AUTO_BASE, _AUTO_STEP = 800, 400
_LEGEND_EXTRA = {"plot.width": 150, "plot.height": 100}


@dataclass(frozen=True)
class Aesthetics:
    """Which columns map to what. Only ``y`` is required."""

    y: str
    x: str | None = None
    color: str | None = None
    rows: tuple[str, ...] = ()
    cols: tuple[str, ...] = ()
    pages: tuple[str, ...] = ()

    def columns(self) -> list[str]:
        """Every column the plot reads, each once, in mapping order."""
        names = [self.x, self.y, self.color, *self.rows, *self.cols, *self.pages]
        return list(dict.fromkeys(n for n in names if n))


@dataclass(frozen=True)
class PlotRequest:
    """A whole plot: mapping, chart kind, facet scales, palette and properties."""

    aes: Aesthetics
    properties: Properties
    chart: str = "point"
    scales: str = "free_y"  # fixed | free_x | free_y | free (as ggplot2's facet_grid)
    palette: str | None = None
    point_size: float = 4.0


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

    @property
    def panel(self) -> np.ndarray:
        return self.rows.codes * self.cols.n_levels + self.cols.codes


def render_table(
    table: pa.Table, request: PlotRequest, progress: ProgressFn | None = None
) -> list[RenderedPage]:
    """Renders `table` as `request` says, one image per page.

    Raises:
        DataError: a mapped column is missing or cannot be plotted.
        UsageError: a mapping or property value is not allowed.
        LayoutError: the image size leaves the panels no room.
    """
    return render_data(prepare(table, request.aes), request, progress)


def render_data(
    data: PlotData, request: PlotRequest, progress: ProgressFn | None = None
) -> list[RenderedPage]:
    """Renders prepared columns, one image per page (see :func:`render_table`)."""
    report = progress or (lambda message: None)
    props = request.properties
    backend = _backend_name(props["backend"])
    if request.chart != "point":
        raise UsageError(f"chart {request.chart!r} is not available; use point")
    plot_theme = _theme(props)

    # Colours are trained on the whole table so that pages compare.
    legend, colouring = _train_colour(data, request, props)

    rendered = []
    for page_code, page_label in enumerate(data.pages.labels):
        name = page_label or "plot"
        # Pages: the rows of this page and the facet levels present on it.
        page = _select_page(data, page_code)
        n_rows, n_cols = page.rows.n_levels, page.cols.n_levels

        # Scales: x and y ranges per panel (free per facet row/column as asked).
        panel_views = _train_scales(page, request.scales, data)

        # Layout: measured before drawing, so the panels' pixel size is known.
        fig = FigureView(
            width=_image_size(props, n_cols, "plot.width", legend, "right", "left"),
            height=_image_size(props, n_rows, "plot.height", legend, "top", "bottom"),
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

        # Aggregate: one pass over the page's points into every panel's grid.
        grids = aggregate(_points(page), _canvas(plan.panel_size, panel_views), backend=backend)
        report(f"{name}: aggregated {len(page.x):,} points into {n_rows}x{n_cols} panels")

        # Shade: grids → RGBA rasters, point size and opacity applied.
        rasters = shade.shade(
            grids,
            colouring,
            point_diameter=request.point_size * props["point.size.multiplier"],
            opacity=props["opacity"],
        )

        # Compose the figure around the rasters, then encode it.
        image = figure.draw_figure(fig, plan, plot_theme, rasters)
        encoded = encode_png(image, props["png.compression"])
        report(f"{name}: drew {n_rows * n_cols} panels, {len(encoded):,} bytes")
        rendered.append(RenderedPage(page_label, encoded, image.width, image.height))
    return rendered


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
    )


def _points(page: _Page) -> Points:
    return Points(
        x=page.x,
        y=page.y,
        panel=page.panel if page.rows.n_levels * page.cols.n_levels > 1 else None,
        category=page.category,
        value=page.value,
        n_categories=page.n_categories,
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
    """The aggregation backend for the ``backend`` property."""
    if choice == "gpu":
        raise BackendUnavailable(
            "backend=gpu: no GPU backend is available in this build (CuPy is not installed); "
            "use backend=cpu or auto"
        )
    # auto and cpu: the CPU backends, small inputs on numpy, large on datashader.
    return "auto"


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
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    if not (pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind)):
        raise DataError(
            f"{role}={name}: the column holds {kind}, not numbers; map a numeric column "
            f"to {role} (text columns can be --color, --rows, --cols or --pages)"
        )
    if not pa.types.is_floating(column.type):
        column = pc.cast(column, pa.float64())
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if array.null_count:
        array = array.fill_null(float("nan"))
    return array.to_numpy(zero_copy_only=False)


def _factor(table: pa.Table, names: Sequence[str], role: str, separator: str) -> panels.Factor:
    for name in names:
        _column(table, name, role)
    return panels.table_factor(table, names, separator)


def prepare(table: pa.Table, aes: Aesthetics) -> PlotData:
    """Validates the mapping against the table and extracts the columns.

    Raises:
        DataError: a mapped column is missing, or x/y hold no numbers.
    """
    y = _numeric(table, aes.y, "y")
    # Tercen's convention: without an x factor, x is the row number.
    x = _numeric(table, aes.x, "x") if aes.x else np.arange(1, table.num_rows + 1, dtype=y.dtype)
    if x.dtype != y.dtype:
        x, y = x.astype(np.float64, copy=False), y.astype(np.float64, copy=False)
    color_codes = color_values = None
    if aes.color:
        kind = _column(table, aes.color, "color").type
        if pa.types.is_floating(kind) or pa.types.is_decimal(kind):
            color_values = _numeric(table, aes.color, "color")
        else:  # text, booleans and integer codes are categories
            color_codes = panels.table_factor(table, [aes.color])
    return PlotData(
        x=x,
        y=y,
        finite=np.isfinite(x) & np.isfinite(y),
        rows=_factor(table, aes.rows, "rows", ", "),
        cols=_factor(table, aes.cols, "cols", ", "),
        pages=_factor(table, aes.pages, "pages", "_"),
        color_codes=color_codes,
        color_values=color_values,
        x_title=aes.x or "row number",
        y_title=aes.y,
        color_title=aes.color or "",
    )


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
    remap = np.cumsum(counts > 0, dtype=np.int32) - 1
    labels = tuple(factor.labels[i] for i in keep) or ("",)
    return panels.Factor(remap[codes], labels, factor.names), keep


def _group_limits(values: np.ndarray, ok: np.ndarray, codes: np.ndarray, n: int) -> np.ndarray:
    """(n, 2) min/max of the finite `values` per group code; NaN for empty groups."""
    limits = np.full((n, 2), np.nan)
    if n == 1:
        selected = values[ok] if not ok.all() else values
        if len(selected):
            limits[0] = (selected.min(), selected.max())
        return limits
    grouped = (
        pa.Table.from_arrays([pa.array(codes), pa.array(values, mask=~ok)], names=["g", "v"])
        .group_by("g")
        .aggregate([("v", "min_max")])
    )
    group = grouped.column("g").to_numpy()
    bounds = grouped.column("v_min_max").combine_chunks()
    low = bounds.field("min").to_numpy(zero_copy_only=False)
    high = bounds.field("max").to_numpy(zero_copy_only=False)
    limits[group, 0], limits[group, 1] = low, high
    return limits


def _train_scales(page: _Page, mode: str, data: PlotData) -> tuple[PanelView, ...]:
    """x and y axes of every panel: given per cell, or trained from the data with
    `mode` freeing x per facet column and/or y per facet row."""
    overall_x = _group_limits(page.x, page.finite, page.rows.codes, 1)[0]
    overall_y = _group_limits(page.y, page.finite, page.rows.codes, 1)[0]
    if np.isnan(overall_y[0]) and page.y_limits is None:
        raise DataError(
            f"nothing to plot: no row has finite values in both x ({data.x_title}) "
            f"and y ({data.y_title})"
        )
    n_rows, n_cols = page.rows.n_levels, page.cols.n_levels
    if page.x_limits is not None:
        x_cells = _filled(page.x_limits.reshape(-1, 2), overall_x).reshape(n_rows, n_cols, 2)
    else:
        if mode in ("free_x", "free"):
            x_limits = _group_limits(page.x, page.finite, page.cols.codes, n_cols)
        else:
            x_limits = np.tile(overall_x, (n_cols, 1))
        x_cells = np.broadcast_to(_filled(x_limits, overall_x)[None, :, :], (n_rows, n_cols, 2))
    if page.y_limits is not None:
        y_cells = _filled(page.y_limits.reshape(-1, 2), overall_y).reshape(n_rows, n_cols, 2)
    else:
        if mode in ("free_y", "free"):
            y_limits = _group_limits(page.y, page.finite, page.rows.codes, n_rows)
        else:
            y_limits = np.tile(overall_y, (n_rows, 1))
        y_cells = np.broadcast_to(_filled(y_limits, overall_y)[:, None, :], (n_rows, n_cols, 2))
    axes: dict[tuple[float, float], AxisView] = {}

    def axis(limits: np.ndarray) -> AxisView:
        key = (float(limits[0]), float(limits[1]))
        if key not in axes:  # equal ranges share one axis (drawn once per row/column)
            axes[key] = scales.train_axis(*key)
        return axes[key]

    return tuple(
        PanelView(row=r, col=c, x=axis(x_cells[r, c]), y=axis(y_cells[r, c]))
        for r in range(n_rows)
        for c in range(n_cols)
    )


def _filled(limits: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    """Groups without a range take the overall one (or 0-1 when there is none)."""
    if np.isnan(fallback).any():
        fallback = np.array([0.0, 1.0])
    return np.where(np.isnan(limits).any(axis=1, keepdims=True), fallback, limits)


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
) -> tuple[Legend | None, shade.Colouring]:
    """The legend and the colouring rule for shading."""
    shapes = props["point.shapes"]
    if data.color_codes is not None:
        factor = data.color_codes
        colours = palettes.categorical_colors(factor.n_levels, request.palette or "Palette-1")
        legend = CategoricalLegend(
            title=data.color_title, labels=factor.labels, colors=colours, shape=shapes[0]
        )
        return legend, shade.Categorical(colours)
    if data.color_values is not None:
        values = data.color_values
        finite = values[np.isfinite(values)]
        if not len(finite):
            raise DataError(f"color={data.color_title}: the column has no finite values")
        low, high = float(finite.min()), float(finite.max())
        name = request.palette or "Viridis"
        breaks = scales.nice_breaks(low, high) if high > low else np.array([low])
        breaks = breaks[(breaks >= low) & (breaks <= high)]
        legend = ContinuousLegend(
            title=data.color_title,
            limits=(low, high),
            breaks=tuple(float(b) for b in breaks),
            labels=scales.format_labels(breaks),
            stops=palettes.stops(name),
        )
        return legend, shade.Continuous(palettes.continuous_lut(name), (low, high))
    first = palettes.categorical_colors(1, request.palette or "Palette-1")[0]
    return None, shade.Constant(first)
