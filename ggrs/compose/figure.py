"""Draw a laid-out figure: chrome around the data rasters, into one RGB image.

Drawing order follows ggplot2: plot background, panel backgrounds, minor then
major grid, data, panel border and axis lines, ticks, strips, texts, legend.

What lies under the data or outside the panels is painted on a numpy canvas
(:mod:`ggrs.compose.paint`). A panel's background and grid depend only on its
two scales, so each distinct (x, y) pair is painted once and copied into every
panel that shares it. The canvas then becomes one Pillow image, each panel's
RGBA raster is pasted with its own alpha (Pillow's C blend, exact rounding),
and the few things drawn over the data (borders, axis lines, legend) and the
texts follow.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from ggrs.compose import legend as legend_draw
from ggrs.compose import paint, text
from ggrs.compose.layout import Box, Layout, x_pixel, y_pixel
from ggrs.compose.theme import WHITE, LineElement, Theme, pt_to_px
from ggrs.compose.views import AxisView, FigureView
from ggrs.errors import UsageError


def draw_figure(fig: FigureView, layout: Layout, theme: Theme, rasters: np.ndarray) -> Image.Image:
    """Render the figure: chrome from ``theme`` and ``layout``, data from ``rasters``.

    Args:
        fig: the figure the layout was computed for.
        layout: from :func:`ggrs.compose.layout.compute_layout` with the same theme.
        theme: the resolved theme.
        rasters: (P, H, W, 4) uint8, straight (not premultiplied) alpha; P =
            ``n_rows * n_cols`` in row-major panel order, (W, H) =
            ``layout.panel_size``; row 0 of each raster is the top of its panel.

    Returns:
        An RGB image of ``fig.width`` × ``fig.height`` pixels.

    Raises:
        UsageError: the rasters' shape or dtype does not match the layout.
    """
    pw, ph = layout.panel_size
    expected = (len(layout.panels), ph, pw, 4)
    if rasters.shape != expected or rasters.dtype != np.uint8:
        raise UsageError(
            f"panel rasters must be uint8 of shape {expected}, "
            f"got {rasters.dtype} {tuple(rasters.shape)}"
        )
    canvas = np.empty((layout.height, layout.width, 3), dtype=np.uint8)
    bg = theme.plot_background
    paint.fill_solid(canvas, bg.fill if bg is not None and bg.fill is not None else WHITE)

    templates: dict[tuple[AxisView, AxisView], np.ndarray] = {}
    for view, (x0, y0, x1, y1) in zip(fig.panels, layout.panels, strict=True):
        key = (view.x, view.y)
        if key not in templates:
            templates[key] = _panel_template(canvas[y0:y1, x0:x1], view.x, view.y, theme)
        canvas[y0:y1, x0:x1] = templates[key]
    _ticks(canvas, layout, theme)
    _strips(canvas, layout, theme)

    image = Image.fromarray(canvas)
    for raster, box in zip(rasters, layout.panels, strict=True):
        tile = Image.fromarray(raster)
        image.paste(tile, box, tile)

    border = theme.panel_border
    if border is not None and border.colour is not None:
        for box in layout.panels:
            paint.inner_border(image, box, pt_to_px(border.width), border.colour)
    _axis_lines(image, layout, theme)
    if layout.legend is not None and fig.legend is not None:
        legend_draw.paint_legend(image, fig.legend, layout.legend, theme)

    for placed in layout.texts():
        style = placed.style
        text.draw_text(
            image,
            placed.text,
            style.size,
            placed.anchor,
            style.colour,
            bold=style.bold,
            angle=placed.angle,
            hjust=placed.hjust,
            vjust=placed.vjust,
        )
    if layout.legend is not None and fig.legend is not None:
        legend_draw.draw_symbols(image, fig.legend, layout.legend)
    return image


def _panel_template(under: np.ndarray, x: AxisView, y: AxisView, theme: Theme) -> np.ndarray:
    """Panel background with minor then major grid lines, for one pair of scales."""
    tile = under.copy()
    fill = theme.panel_background
    if fill is not None and fill.fill is not None:
        paint.fill_solid(tile, fill.fill)
    h, w = tile.shape[:2]
    box = (0, 0, w, h)
    for element, minor in ((theme.grid_minor, True), (theme.grid_major, False)):
        if element is not None:
            _grid(tile, box, x, element, minor, vertical=True)
            _grid(tile, box, y, element, minor, vertical=False)
    return tile


def _line_centre(pos: float, width: float, lo: int, hi: int) -> float:
    """Snapped line centre, kept inside [lo, hi) so edge breaks stay within their panel."""
    return min(max(paint.snap(pos, width), lo + 0.5), hi - 0.5)


def _grid(
    canvas: np.ndarray,
    box: Box,
    view: AxisView,
    element: LineElement,
    minor: bool,
    vertical: bool,
) -> None:
    x0, y0, x1, y1 = box
    breaks = np.asarray(view.minor_breaks if minor else view.breaks, dtype=np.float64)
    if minor and breaks.size and view.breaks:
        # ggplot2 draws minor lines only where there is no major line.
        major = np.asarray(view.breaks, dtype=np.float64)
        scale = max(abs(view.limits[1] - view.limits[0]), 1e-300)
        near = np.abs(breaks[:, None] - major[None, :]).min(axis=1) <= 1e-9 * scale
        breaks = breaks[~near]
    if breaks.size == 0:
        return
    units = view.to_unit(breaks)
    width = pt_to_px(element.width)
    for u in units[(units >= -1e-9) & (units <= 1 + 1e-9)]:
        if vertical:
            c = _line_centre(x_pixel(box, float(u)), width, x0, x1)
            paint.vline(canvas, c, y0, y1, width, element.colour, clip=box)
        else:
            c = _line_centre(y_pixel(box, float(u)), width, y0, y1)
            paint.hline(canvas, c, x0, x1, width, element.colour, clip=box)


def _ticks(canvas: np.ndarray, layout: Layout, theme: Theme) -> None:
    """Tick marks outside the panel edges that carry an axis."""
    ticks, length = theme.axis_ticks, layout.tick_length
    if ticks is None or length <= 0:
        return
    w = pt_to_px(ticks.width)
    for axis in layout.axes:
        x0, y0, x1, y1 = layout.panel_box(axis.row, axis.col)
        for pos in axis.ticks:
            if axis.axis == "x":
                c = _line_centre(pos, w, x0, x1)
                paint.vline(canvas, c, y1, y1 + length, w, ticks.colour)
            else:
                c = _line_centre(pos, w, y0, y1)
                paint.hline(canvas, c, x0 - length, x0, w, ticks.colour)


def _axis_lines(image: Image.Image, layout: Layout, theme: Theme) -> None:
    """Axis lines just inside the panel edges that carry an axis (over the data)."""
    line = theme.axis_line
    if line is None:
        return
    w = pt_to_px(line.width)
    for axis in layout.axes:
        x0, y0, x1, y1 = layout.panel_box(axis.row, axis.col)
        if axis.axis == "x":
            paint.fill_rect_image(image, x0, y1 - w, x1, y1, line.colour)
        else:
            paint.fill_rect_image(image, x0, y0, x0 + w, y1, line.colour)


def _strips(canvas: np.ndarray, layout: Layout, theme: Theme) -> None:
    rect = theme.strip_background
    if rect is None:
        return
    # Where the panel has its own border, the strip's side along the panel is left
    # to it: ggplot2 centres both lines on the shared edge, so they read as one.
    shared = theme.panel_border is not None and theme.panel_border.colour is not None
    sides = [(box, "bottom") for box in layout.col_strips]
    sides += [(box, "left") for box in layout.row_strips]
    for box, panel_side in sides:
        if rect.fill is not None:
            paint.fill_rect(canvas, *box, rect.fill)
        if rect.colour is not None:
            skip = (panel_side,) if shared else ()
            paint.inner_border(canvas, box, pt_to_px(rect.width), rect.colour, skip)
