"""Legend drawing: colour bar gradient and ticks, key squares and ggplot2 point shapes.

Geometry comes from :class:`ggrs.compose.layout.LegendLayout`; texts are drawn
with the figure's other texts. Point shapes follow R's ``pch`` codes 0–25 with
R's relative sizes (squares of the circle's area, triangles of the same area,
…). Symbols are drawn 4× supersampled on a copy of the key's pixels and
box-filtered down, so edges are smooth whatever the background.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw

from ggrs.compose import paint
from ggrs.compose.layout import LegendLayout
from ggrs.compose.theme import Theme, pt_to_px
from ggrs.compose.views import CategoricalLegend, ContinuousLegend, Legend

RGB = tuple[int, int, int]
Box = tuple[int, int, int, int]

_SUPERSAMPLE = 4
# Symbol radius as a fraction of the key side (R's RADIUS at the key's point size).
_RADIUS = 0.2
# Outline width as a fraction of the radius (R's default lwd for shapes).
_STROKE = 0.25
_OUTLINE = (0, 0, 0)

# R's size constants (engine.c): squares and triangles of the circle's area.
_SQRC = math.sqrt(math.pi / 4)
_DMDC = math.sqrt(math.pi / 4) * math.sqrt(2)
_TRC0 = math.sqrt(4 * math.pi / (3 * math.sqrt(3)))
_TRC1 = _TRC0 * math.sqrt(3) / 2
_TRC2 = _TRC0 / 2

#: pch codes drawn exactly; any other code is drawn as 19 (solid circle).
SUPPORTED_SHAPES = frozenset(range(26))


def gradient(stops: tuple[tuple[float, RGB], ...], units: np.ndarray) -> np.ndarray:
    """Colours (n, 3) uint8 at positions ``units`` in [0, 1], linear in RGB between stops."""
    if not stops:
        return np.zeros((len(units), 3), dtype=np.uint8)
    pos = np.array([p for p, _ in stops], dtype=np.float64)
    cols = np.array([c for _, c in stops], dtype=np.float64)
    out = np.stack([np.interp(units, pos, cols[:, k]) for k in range(3)], axis=1)
    return (out + 0.5).astype(np.uint8)


def paint_legend(image: Image.Image, legend: Legend, layout: LegendLayout, theme: Theme) -> None:
    """Draw the legend's background, key squares, colour bar and bar ticks (not texts).

    It draws on the image, after the data, because an inside legend covers a panel.
    """
    bg = theme.legend_background
    if bg is not None:
        if bg.fill is not None:
            image.paste(bg.fill, layout.box)
        if bg.colour is not None:
            paint.inner_border(image, layout.box, pt_to_px(bg.width), bg.colour)
    if isinstance(legend, ContinuousLegend) and layout.bar is not None:
        _paint_bar(image, legend, layout, theme)
    key = theme.legend_key
    if isinstance(legend, CategoricalLegend) and key is not None:
        for box in layout.keys:
            if key.fill is not None:
                image.paste(key.fill, box)
            if key.colour is not None:
                paint.inner_border(image, box, pt_to_px(key.width), key.colour)


def _paint_bar(
    image: Image.Image, legend: ContinuousLegend, layout: LegendLayout, theme: Theme
) -> None:
    x0, y0, x1, y1 = layout.bar
    if layout.vertical:
        n = y1 - y0
        units = (n - 0.5 - np.arange(n)) / n  # bottom = low end
        colours = np.broadcast_to(gradient(legend.stops, units)[:, None, :], (n, x1 - x0, 3))
    else:
        n = x1 - x0
        units = (np.arange(n) + 0.5) / n
        colours = np.broadcast_to(gradient(legend.stops, units)[None, :, :], (y1 - y0, n, 3))
    image.paste(Image.fromarray(np.ascontiguousarray(colours)), (x0, y0))
    ticks = theme.legend_ticks
    if ticks is None:
        return
    w = max(pt_to_px(ticks.width), 1.0)
    fill = paint.fill_rect_image
    # ggplot2 draws white ticks a fifth of the bar's thickness in from both edges.
    # A tick at the very end of the bar would only read as a notch, so those are left out.
    if layout.vertical:
        length = (x1 - x0) / 5
        for pos in layout.bar_ticks:
            c = paint.snap(pos, w)
            if y0 + 1 < c < y1 - 1:
                fill(image, x0, c - w / 2, x0 + length, c + w / 2, ticks.colour)
                fill(image, x1 - length, c - w / 2, x1, c + w / 2, ticks.colour)
    else:
        length = (y1 - y0) / 5
        for pos in layout.bar_ticks:
            c = paint.snap(pos, w)
            if x0 + 1 < c < x1 - 1:
                fill(image, c - w / 2, y0, c + w / 2, y0 + length, ticks.colour)
                fill(image, c - w / 2, y1 - length, c + w / 2, y1, ticks.colour)


def draw_symbols(image: Image.Image, legend: Legend, layout: LegendLayout) -> None:
    """Draw each category's point shape centred in its key square."""
    if not isinstance(legend, CategoricalLegend):
        return
    for box, colour in zip(layout.keys, legend.colors, strict=True):
        draw_symbol(image, box, legend.shape, colour)


def draw_symbol(image: Image.Image, box: Box, shape: int, colour: RGB) -> None:
    """Draw ggplot2 point shape ``shape`` (R pch) in ``colour`` centred in ``box``.

    Shapes 0–14 are outlines, 15–20 solid, 21–25 filled with ``colour`` and
    outlined in black. Codes outside 0–25 fall back to 19.
    """
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    if w <= 0 or h <= 0:
        return
    ss = _SUPERSAMPLE
    tile = image.crop(box).resize((w * ss, h * ss), Image.Resampling.NEAREST)
    draw = ImageDraw.Draw(tile)
    radius = _RADIUS * min(w, h) * ss
    _shape(draw, w * ss / 2, h * ss / 2, radius, shape if shape in SUPPORTED_SHAPES else 19, colour)
    image.paste(tile.resize((w, h), Image.Resampling.BOX), box)


def _shape(draw: ImageDraw.ImageDraw, x: float, y: float, r: float, pch: int, col: RGB) -> None:
    """R's GESymbol geometry at centre (x, y), radius r (y grows downwards)."""
    lw = max(1, round(_STROKE * r))

    def circle(rad: float, fill: RGB | None, outline: RGB | None) -> None:
        draw.ellipse(
            (x - rad, y - rad, x + rad, y + rad),
            fill=fill,
            outline=outline,
            width=lw if outline else 0,
        )

    def poly(points: list[tuple[float, float]], fill: RGB | None, outline: RGB | None) -> None:
        if fill is not None:
            draw.polygon(points, fill=fill)
        if outline is not None:
            draw.line([*points, points[0], points[1]], fill=outline, width=lw, joint="curve")

    def square(half: float) -> list[tuple[float, float]]:
        lo, hi = -half, half
        return [(x + lo, y + lo), (x + hi, y + lo), (x + hi, y + hi), (x + lo, y + hi)]

    def diamond(half: float) -> list[tuple[float, float]]:
        return [(x - half, y), (x, y - half), (x + half, y), (x, y + half)]

    def triangle(rad: float, up: bool = True) -> list[tuple[float, float]]:
        top, base, half = _TRC0 * rad, _TRC2 * rad, _TRC1 * rad
        s = -1 if up else 1
        return [(x, y + s * top), (x + half, y - s * base), (x - half, y - s * base)]

    def plus(arm: float) -> None:
        draw.line([(x - arm, y), (x + arm, y)], fill=col, width=lw)
        draw.line([(x, y - arm), (x, y + arm)], fill=col, width=lw)

    def cross(arm: float) -> None:
        draw.line([(x - arm, y - arm), (x + arm, y + arm)], fill=col, width=lw)
        draw.line([(x - arm, y + arm), (x + arm, y - arm)], fill=col, width=lw)

    if pch == 0:
        poly(square(r * _SQRC), None, col)
    elif pch == 1:
        circle(r, None, col)
    elif pch == 2:
        poly(triangle(r), None, col)
    elif pch == 3:
        plus(r * math.sqrt(2))
    elif pch == 4:
        cross(r)
    elif pch == 5:
        poly(diamond(r * math.sqrt(2)), None, col)
    elif pch == 6:
        poly(triangle(r, up=False), None, col)
    elif pch == 7:
        poly(square(r), None, col)
        cross(r)
    elif pch == 8:
        plus(r * math.sqrt(2))
        cross(r)
    elif pch == 9:
        poly(diamond(r * math.sqrt(2)), None, col)
        plus(r * math.sqrt(2))
    elif pch == 10:
        circle(r, None, col)
        plus(r)
    elif pch == 11:
        # Two opposed triangles; R puts their bases halfway between base and apex.
        top, half = _TRC0 * r, _TRC1 * r
        base = (_TRC2 * r + top) / 2
        poly([(x, y - top), (x + half, y + base), (x - half, y + base)], None, col)
        poly([(x, y + top), (x + half, y - base), (x - half, y - base)], None, col)
    elif pch == 12:
        poly(square(r), None, col)
        plus(r)
    elif pch == 13:
        circle(r, None, col)
        cross(r)
    elif pch == 14:
        poly(square(r), None, col)
        poly([(x, y - r), (x + r, y + r), (x - r, y + r)], None, col)
    elif pch == 15:
        poly(square(r * _SQRC), col, None)
    elif pch == 16:
        circle(r, col, None)
    elif pch == 17:
        poly(triangle(r), col, None)
    elif pch == 18:
        poly(diamond(r), col, None)
    elif pch == 20:
        circle(r * 2 / 3, col, None)
    elif pch == 21:
        circle(r, col, _OUTLINE)
    elif pch == 22:
        poly(square(r * _SQRC), col, _OUTLINE)
    elif pch == 23:
        poly(diamond(r * _DMDC), col, _OUTLINE)
    elif pch == 24:
        poly(triangle(r), col, _OUTLINE)
    elif pch == 25:
        poly(triangle(r, up=False), col, _OUTLINE)
    else:  # 19: solid circle, drawn with its border so it is a little larger than 16
        circle(r + lw / 2, col, None)
