"""Draw a laid-out figure: chrome around the data rasters, into one RGB image.

Drawing order follows ggplot2: plot background, panel backgrounds with minor
then major grid, ticks and strips, the data, panel borders and axis lines, the
legend's chrome, the texts, and last the legend's key symbols.

The chrome's geometry is :mod:`ggrs.compose.chrome`'s (and the legend's
:mod:`ggrs.compose.legend`'s), shared with the SVG drawer; this module paints
it. What lies under the data or outside the panels is painted on a numpy
canvas (:mod:`ggrs.compose.paint`). A panel's background and grid depend only
on its two scales, so each distinct template is painted once and copied into
every panel that shares it. The canvas then becomes one Pillow image, each
panel's RGBA raster is pasted with its own alpha (Pillow's C blend, exact
rounding), and the few things drawn over the data (borders, axis lines,
legend) and the texts follow.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from ggrs.compose import chrome, paint, text
from ggrs.compose import legend as legend_draw
from ggrs.compose.layout import Layout
from ggrs.compose.theme import Theme
from ggrs.compose.views import FigureView
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
    check_rasters(layout, rasters)
    parts = chrome.figure_chrome(fig, layout, theme)
    canvas = np.empty((layout.height, layout.width, 3), dtype=np.uint8)
    paint.fill_solid(canvas, parts.background)
    tiles: dict[int, np.ndarray] = {}
    for index, (x0, y0, x1, y1) in zip(parts.panel_templates, layout.panels, strict=True):
        if index not in tiles:
            tile = canvas[y0:y1, x0:x1].copy()
            paint.fill_rects(tile, parts.templates[index])
            tiles[index] = tile
        canvas[y0:y1, x0:x1] = tiles[index]
    paint.fill_rects(canvas, parts.under)

    image = Image.fromarray(canvas)
    for raster, box in zip(rasters, layout.panels, strict=True):
        data = Image.fromarray(raster)
        image.paste(data, box, data)

    paint.fill_rects(image, parts.over)
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
        legend_draw.draw_keys(image, fig.legend, layout.legend)
    return image


def check_rasters(layout: Layout, rasters: np.ndarray) -> None:
    """Check that ``rasters`` holds one uint8 RGBA raster per panel of ``layout``.

    Raises:
        UsageError: the shape or dtype is not (P, H, W, 4) uint8 with P panels
            of ``layout.panel_size`` (W, H).
    """
    pw, ph = layout.panel_size
    expected = (len(layout.panels), ph, pw, 4)
    if rasters.shape != expected or rasters.dtype != np.uint8:
        raise UsageError(
            f"panel rasters must be uint8 of shape {expected}, "
            f"got {rasters.dtype} {tuple(rasters.shape)}"
        )
