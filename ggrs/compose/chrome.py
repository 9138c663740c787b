"""Chrome geometry: the figure's non-data, non-text parts as filled rectangles.

Panel backgrounds, grid lines, ticks, strips, panel borders and axis lines are
all axis-aligned, so each is a list of :class:`Rect` in continuous pixel
coordinates, in drawing order. This module decides *which* rectangles go
*where*; the two drawers only render them: :mod:`ggrs.compose.figure` paints
them into pixels (:mod:`ggrs.compose.paint`'s exact-coverage fill) and
:mod:`ggrs.compose.svg` writes them as ``<rect>`` elements. So the PNG and the
SVG of one figure cannot disagree on the chrome.

Lines are centred with :func:`snap`, so whole-pixel widths cover whole pixels
and a 1 px line is one crisp pixel column rather than two half-grey ones. Grid
lines are clipped to their panel here, and the rectangles of a panel's
background and grid are given relative to the panel's top-left corner: panels
with the same pair of scales share one template, which the PNG path paints
once and copies.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ggrs.compose.layout import Box, Layout, x_pixel, y_pixel
from ggrs.compose.theme import WHITE, LineElement, Theme, pt_to_px
from ggrs.compose.views import AxisView, FigureView

RGB = tuple[int, int, int]


class Rect(NamedTuple):
    """A rectangle filled with one colour; edges may be fractional (partly covered pixels).

    A named tuple rather than a dataclass: a large facet grid has thousands of
    grid lines, and tuples are several times cheaper to make.
    """

    x0: float
    y0: float
    x1: float
    y1: float
    colour: RGB

    def moved(self, dx: float, dy: float) -> Rect:
        """The same rectangle shifted by (``dx``, ``dy``) pixels."""
        return Rect(self.x0 + dx, self.y0 + dy, self.x1 + dx, self.y1 + dy, self.colour)


@dataclass(frozen=True)
class FigureChrome:
    """Every chrome rectangle of a figure, by layer, each layer in drawing order.

    Attributes:
        background: colour of the whole image (drawn first).
        templates: distinct panel backgrounds with their minor then major grid
            lines, relative to the panel's top-left corner and clipped to the panel.
        panel_templates: the index into ``templates`` of each panel, in
            ``layout.panels`` order; panels with equal scales share one.
        under: drawn after the panels' templates and before the data: ticks, strips.
        over: drawn over the data: panel borders, then axis lines.
    """

    background: RGB
    templates: tuple[tuple[Rect, ...], ...]
    panel_templates: tuple[int, ...]
    under: tuple[Rect, ...]
    over: tuple[Rect, ...]


def figure_chrome(fig: FigureView, layout: Layout, theme: Theme) -> FigureChrome:
    """The chrome of ``fig`` laid out as ``layout`` and styled by ``theme``.

    Args:
        fig: the figure the layout was computed for.
        layout: from :func:`ggrs.compose.layout.compute_layout` with the same theme.
        theme: the resolved theme.

    Returns:
        The rectangles by layer (the legend's are :func:`ggrs.compose.legend.legend_chrome`'s).
    """
    bg = theme.plot_background
    pw, ph = layout.panel_size
    index: dict[tuple[AxisView, AxisView], int] = {}
    templates: list[tuple[Rect, ...]] = []
    for view in fig.panels:
        key = (view.x, view.y)
        if key not in index:
            index[key] = len(templates)
            templates.append(panel_template(pw, ph, view.x, view.y, theme))
    over: list[Rect] = []
    border = theme.panel_border
    if border is not None and border.colour is not None:
        for box in layout.panels:
            over += inner_border(box, pt_to_px(border.width), border.colour)
    return FigureChrome(
        background=WHITE if bg is None or bg.fill is None else bg.fill,
        templates=tuple(templates),
        panel_templates=tuple(index[(v.x, v.y)] for v in fig.panels),
        under=(*_ticks(layout, theme), *_strips(layout, theme)),
        over=(*over, *_axis_lines(layout, theme)),
    )


def panel_template(
    width: int, height: int, x: AxisView, y: AxisView, theme: Theme
) -> tuple[Rect, ...]:
    """A ``width`` × ``height`` panel's background, then minor and major grid lines.

    Coordinates are relative to the panel's top-left corner; grid lines are
    clipped to the panel.
    """
    box = (0, 0, width, height)
    out: list[Rect] = []
    fill = theme.panel_background
    if fill is not None and fill.fill is not None:
        out.append(Rect(0, 0, width, height, fill.fill))
    for element, minor in ((theme.grid_minor, True), (theme.grid_major, False)):
        if element is not None:
            out += _grid(box, x, element, minor, vertical=True)
            out += _grid(box, y, element, minor, vertical=False)
    return tuple(out)


def inner_border(box: Box, width: float, colour: RGB, skip: tuple[str, ...] = ()) -> list[Rect]:
    """A rectangle outline of ``width`` px just inside ``box``, as up to four rectangles.

    Args:
        box: the rectangle.
        width: line width in pixels (at most half the box's side).
        colour: line colour.
        skip: sides not to draw ("top", "bottom", "left", "right").
    """
    x0, y0, x1, y1 = box
    width = min(width, (x1 - x0) / 2, (y1 - y0) / 2)
    out: list[Rect] = []
    if "top" not in skip:
        out.append(Rect(x0, y0, x1, y0 + width, colour))
    if "bottom" not in skip:
        out.append(Rect(x0, y1 - width, x1, y1, colour))
    top = y0 if "top" in skip else y0 + width
    bottom = y1 if "bottom" in skip else y1 - width
    if "left" not in skip:
        out.append(Rect(x0, top, x0 + width, bottom, colour))
    if "right" not in skip:
        out.append(Rect(x1 - width, top, x1, bottom, colour))
    return out


def snap(pos: float, width: float) -> float:
    """Centre for a line of ``width`` px drawn at ``pos``, aligned to the pixel grid.

    Odd (and sub-pixel) widths are centred on the pixel containing ``pos``;
    even widths on the nearest pixel boundary.
    """
    if width < 1.0 or round(width) % 2 == 1:
        return math.floor(pos) + 0.5
    return float(math.floor(pos + 0.5))


def line_centre(pos: float, width: float, lo: int, hi: int) -> float:
    """Snapped line centre (:func:`snap`), kept inside [lo, hi).

    Keeps a line at a panel's edge break inside its own panel.
    """
    return min(max(snap(pos, width), lo + 0.5), hi - 0.5)


def _clipped(x0: float, y0: float, x1: float, y1: float, colour: RGB, box: Box) -> list[Rect]:
    """The rectangle cut to ``box``; nothing when nothing is left."""
    x0, y0 = max(x0, box[0]), max(y0, box[1])
    x1, y1 = min(x1, box[2]), min(y1, box[3])
    return [Rect(x0, y0, x1, y1, colour)] if x1 > x0 and y1 > y0 else []


def _grid(
    box: Box, view: AxisView, element: LineElement, minor: bool, vertical: bool
) -> list[Rect]:
    x0, y0, x1, y1 = box
    breaks = np.asarray(view.minor_breaks if minor else view.breaks, dtype=np.float64)
    if minor and breaks.size and view.breaks:
        # ggplot2 draws minor lines only where there is no major line.
        major = np.asarray(view.breaks, dtype=np.float64)
        scale = max(abs(view.limits[1] - view.limits[0]), 1e-300)
        near = np.abs(breaks[:, None] - major[None, :]).min(axis=1) <= 1e-9 * scale
        breaks = breaks[~near]
    if breaks.size == 0:
        return []
    units = view.to_unit(breaks)
    width = pt_to_px(element.width)
    out: list[Rect] = []
    for u in units[(units >= -1e-9) & (units <= 1 + 1e-9)]:
        if vertical:
            c = line_centre(x_pixel(box, float(u)), width, x0, x1)
            out += _clipped(c - width / 2, y0, c + width / 2, y1, element.colour, box)
        else:
            c = line_centre(y_pixel(box, float(u)), width, y0, y1)
            out += _clipped(x0, c - width / 2, x1, c + width / 2, element.colour, box)
    return out


def _ticks(layout: Layout, theme: Theme) -> list[Rect]:
    """Tick marks outside the panel edges that carry an axis."""
    ticks, length = theme.axis_ticks, layout.tick_length
    if ticks is None or length <= 0:
        return []
    w = pt_to_px(ticks.width)
    out: list[Rect] = []
    for axis in layout.axes:
        x0, y0, x1, y1 = layout.panel_box(axis.row, axis.col)
        for pos in axis.ticks:
            if axis.axis == "x":
                c = line_centre(pos, w, x0, x1)
                out.append(Rect(c - w / 2, y1, c + w / 2, y1 + length, ticks.colour))
            else:
                c = line_centre(pos, w, y0, y1)
                out.append(Rect(x0 - length, c - w / 2, x0, c + w / 2, ticks.colour))
    return out


def _axis_lines(layout: Layout, theme: Theme) -> list[Rect]:
    """Axis lines just inside the panel edges that carry an axis."""
    line = theme.axis_line
    if line is None:
        return []
    w = pt_to_px(line.width)
    out: list[Rect] = []
    for axis in layout.axes:
        x0, y0, x1, y1 = layout.panel_box(axis.row, axis.col)
        if axis.axis == "x":
            out.append(Rect(x0, y1 - w, x1, y1, line.colour))
        else:
            out.append(Rect(x0, y0, x0 + w, y1, line.colour))
    return out


def _strips(layout: Layout, theme: Theme) -> list[Rect]:
    rect = theme.strip_background
    if rect is None:
        return []
    # Where the panel has its own border, the strip's side along the panel is left
    # to it: ggplot2 centres both lines on the shared edge, so they read as one.
    shared = theme.panel_border is not None and theme.panel_border.colour is not None
    sides = [(box, "bottom") for box in layout.col_strips]
    sides += [(box, "left") for box in layout.row_strips]
    out: list[Rect] = []
    for box, panel_side in sides:
        if rect.fill is not None:
            out.append(Rect(*box, rect.fill))
        if rect.colour is not None:
            skip = (panel_side,) if shared else ()
            out += inner_border(box, pt_to_px(rect.width), rect.colour, skip)
    return out
