"""Legend geometry and drawing: colour bar, key squares and key glyphs by chart kind.

Geometry comes from :class:`ggrs.compose.layout.LegendLayout`; texts are drawn
with the figure's other texts. :func:`legend_chrome` (background, colour bar,
bar ticks, key squares) and :func:`key_glyphs` (what each key shows) are the
one definition of the legend's parts, which :mod:`ggrs.compose.figure` paints
here and :mod:`ggrs.compose.svg` writes as vector elements.

Key glyphs follow ggplot2's ``draw_key_*`` by the legend's ``key`` kind:
``point`` the entry's pch symbol (R's ``pch`` codes 0–25, geometry from
:func:`ggrs.stencils.symbol`, the same the data points are shaded with),
``line`` a horizontal line across the key, ``bar`` a filled square a little
inside the key. Symbols are drawn 4× supersampled on a copy of the key's
pixels and box-filtered down, so edges are smooth whatever the background.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from ggrs import stencils
from ggrs.compose import chrome, paint
from ggrs.compose.chrome import Rect
from ggrs.compose.layout import LegendLayout
from ggrs.compose.theme import Theme, pt_to_px
from ggrs.compose.views import CategoricalLegend, ContinuousLegend, Legend

RGB = tuple[int, int, int]
Box = tuple[int, int, int, int]

_SUPERSAMPLE = 4

#: Radius of a key's point symbol as a fraction of the key's side (R's RADIUS at
#: the key's point size).
KEY_RADIUS = 0.2

#: Width of a ``line`` key's line as a fraction of the key's side: 1.5 px in the
#: default 23 px key, and growing with the key as the point symbol does.
LINE_KEY_WIDTH = 1.5 / 23

#: Horizontal extent of a ``line`` key's line: from this fraction of the key's
#: width to one minus it (ggplot2's draw_key_path).
LINE_KEY_MARGIN = 0.1

#: Inset in pixels of a ``bar`` key's square from each side of the key: about
#: ggplot2's (half of 0.5 mm, the default bar linewidth), whole so edges stay crisp.
BAR_KEY_INSET = 1

#: pch codes the legend draws (all of ggrs.stencils.SHAPES).


@dataclass(frozen=True)
class ColourBar:
    """A continuous legend's colour bar: ``stops`` interpolated along ``box``.

    Attributes:
        box: the bar's pixels.
        stops: (position in [0, 1], colour) pairs, as :attr:`ContinuousLegend.stops`.
        vertical: True when the bar runs upwards (low end at the bottom); else
            it runs left to right.
    """

    box: Box
    stops: tuple[tuple[float, RGB], ...]
    vertical: bool


@dataclass(frozen=True)
class KeySymbol:
    """A point key: pch ``shape`` in ``colour``, centred in the key ``box``."""

    box: Box
    shape: int
    colour: RGB

    @property
    def centre(self) -> tuple[float, float]:
        """The key's centre in continuous pixel coordinates."""
        x0, y0, x1, y1 = self.box
        return (x0 + x1) / 2, (y0 + y1) / 2

    @property
    def radius(self) -> float:
        """The symbol's circle radius in pixels (:data:`KEY_RADIUS` of the key's side)."""
        x0, y0, x1, y1 = self.box
        return KEY_RADIUS * min(x1 - x0, y1 - y0)


def gradient(stops: tuple[tuple[float, RGB], ...], units: np.ndarray) -> np.ndarray:
    """Colours (n, 3) uint8 at positions ``units`` in [0, 1], linear in RGB between stops."""
    if not stops:
        return np.zeros((len(units), 3), dtype=np.uint8)
    pos = np.array([p for p, _ in stops], dtype=np.float64)
    cols = np.array([c for _, c in stops], dtype=np.float64)
    out = np.stack([np.interp(units, pos, cols[:, k]) for k in range(3)], axis=1)
    return (out + 0.5).astype(np.uint8)


def legend_chrome(
    legend: Legend, layout: LegendLayout, theme: Theme
) -> tuple[Rect | ColourBar, ...]:
    """The legend's background, colour bar, bar ticks and key squares, in drawing order.

    Texts and key glyphs are not included (they are drawn after the texts).
    """
    out: list[Rect | ColourBar] = []
    bg = theme.legend_background
    if bg is not None:
        if bg.fill is not None:
            out.append(Rect(*layout.box, bg.fill))
        if bg.colour is not None:
            out += chrome.inner_border(layout.box, pt_to_px(bg.width), bg.colour)
    if isinstance(legend, ContinuousLegend) and layout.bar is not None:
        out.append(ColourBar(layout.bar, legend.stops, layout.vertical))
        out += _bar_ticks(layout, theme)
    key = theme.legend_key
    if isinstance(legend, CategoricalLegend) and key is not None:
        for box in layout.keys:
            if key.fill is not None:
                out.append(Rect(*box, key.fill))
            if key.colour is not None:
                out += chrome.inner_border(box, pt_to_px(key.width), key.colour)
    return tuple(out)


def _bar_ticks(layout: LegendLayout, theme: Theme) -> list[Rect]:
    ticks = theme.legend_ticks
    if ticks is None or layout.bar is None:
        return []
    x0, y0, x1, y1 = layout.bar
    w = max(pt_to_px(ticks.width), 1.0)
    out: list[Rect] = []
    # ggplot2 draws white ticks a fifth of the bar's thickness in from both edges.
    # A tick at the very end of the bar would only read as a notch, so those are left out.
    if layout.vertical:
        length = (x1 - x0) / 5
        for pos in layout.bar_ticks:
            c = chrome.snap(pos, w)
            if y0 + 1 < c < y1 - 1:
                out.append(Rect(x0, c - w / 2, x0 + length, c + w / 2, ticks.colour))
                out.append(Rect(x1 - length, c - w / 2, x1, c + w / 2, ticks.colour))
    else:
        length = (y1 - y0) / 5
        for pos in layout.bar_ticks:
            c = chrome.snap(pos, w)
            if x0 + 1 < c < x1 - 1:
                out.append(Rect(c - w / 2, y0, c + w / 2, y0 + length, ticks.colour))
                out.append(Rect(c - w / 2, y1 - length, c + w / 2, y1, ticks.colour))
    return out


def key_glyphs(legend: Legend, layout: LegendLayout) -> tuple[Rect | KeySymbol, ...]:
    """What each key of a categorical legend shows, by the legend's ``key`` kind.

    ``point``: a :class:`KeySymbol` per entry. ``line``: a horizontal line of
    :data:`LINE_KEY_WIDTH` × the key's side, centred (snapped like the chrome's
    lines) and spanning the middle 80 % of the key. ``bar``: the key filled
    :data:`BAR_KEY_INSET` px in from each side. A continuous legend has none.
    """
    if not isinstance(legend, CategoricalLegend):
        return ()
    out: list[Rect | KeySymbol] = []
    for box, colour, shape in zip(layout.keys, legend.colors, legend.entry_shapes, strict=True):
        x0, y0, x1, y1 = box
        w, h = x1 - x0, y1 - y0
        if w <= 0 or h <= 0:
            continue
        if legend.key == "line":
            width = LINE_KEY_WIDTH * min(w, h)
            c = chrome.snap(y0 + h / 2, width)
            margin = LINE_KEY_MARGIN * w
            out.append(Rect(x0 + margin, c - width / 2, x1 - margin, c + width / 2, colour))
        elif legend.key == "bar":
            inset = min(BAR_KEY_INSET, (min(w, h) - 1) // 2)
            out.append(Rect(x0 + inset, y0 + inset, x1 - inset, y1 - inset, colour))
        else:
            out.append(KeySymbol(box, shape, colour))
    return tuple(out)


def paint_legend(image: Image.Image, legend: Legend, layout: LegendLayout, theme: Theme) -> None:
    """Paint :func:`legend_chrome` (background, colour bar, ticks, key squares; not texts).

    It draws on the image, after the data, because an inside legend covers a panel.
    """
    for part in legend_chrome(legend, layout, theme):
        if isinstance(part, ColourBar):
            _paint_bar(image, part)
        else:
            paint.fill_rect_image(image, part.x0, part.y0, part.x1, part.y1, part.colour)


def _paint_bar(image: Image.Image, bar: ColourBar) -> None:
    """The bar's colours sampled at pixel centres along it."""
    x0, y0, x1, y1 = bar.box
    if bar.vertical:
        n = y1 - y0
        units = (n - 0.5 - np.arange(n)) / n  # bottom = low end
        colours = np.broadcast_to(gradient(bar.stops, units)[:, None, :], (n, x1 - x0, 3))
    else:
        n = x1 - x0
        units = (np.arange(n) + 0.5) / n
        colours = np.broadcast_to(gradient(bar.stops, units)[None, :, :], (y1 - y0, n, 3))
    image.paste(Image.fromarray(np.ascontiguousarray(colours)), (x0, y0))


def draw_keys(image: Image.Image, legend: Legend, layout: LegendLayout) -> None:
    """Draw each entry's :func:`key_glyphs` glyph, in its colour, in its key square."""
    for glyph in key_glyphs(legend, layout):
        if isinstance(glyph, KeySymbol):
            draw_symbol(image, glyph.box, glyph.shape, glyph.colour)
        else:
            paint.fill_rect_image(image, glyph.x0, glyph.y0, glyph.x1, glyph.y1, glyph.colour)


def draw_symbol(image: Image.Image, box: Box, shape: int, colour: RGB) -> None:
    """Draw ggplot2 point shape ``shape`` (R pch 0–25) in ``colour`` centred in ``box``.

    The geometry is :func:`ggrs.stencils.symbol`'s, the one the data points are
    shaded with: 0–14 are strokes, 15–20 solid, 21–25 filled with ``colour`` and
    outlined in :data:`ggrs.stencils.OUTLINE`.

    Raises:
        UsageError: ``shape`` is not a code 0–25.
    """
    shape = stencils.check_shape(shape)
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    if w <= 0 or h <= 0:
        return
    ss = _SUPERSAMPLE
    tile = image.crop(box).resize((w * ss, h * ss), Image.Resampling.NEAREST)
    radius = KeySymbol(box, shape, colour).radius * ss
    _draw(ImageDraw.Draw(tile), w * ss / 2, h * ss / 2, radius, shape, colour)
    image.paste(tile.resize((w, h), Image.Resampling.BOX), box)


def _draw(draw: ImageDraw.ImageDraw, x: float, y: float, r: float, pch: int, col: RGB) -> None:
    """The symbol's solid parts, then its strokes, centred at (x, y) with circle radius r.

    Coordinates are in the supersampled tile. Stroked polygon corners and line
    ends move to the nearest output pixel centre, so a thin stroke covers whole
    pixels instead of smearing over two.
    """
    lw = max(1, round(stencils.STROKE * r))
    symbol = stencils.symbol(pch, r)
    stroke_col = stencils.OUTLINE if symbol.outlined else col
    # 19 carries R's border in the fill colour: half a stroke larger than 16.
    grow = lw / 2 if symbol.bordered else 0.0

    def place(points: tuple[stencils.Point, ...], snap: bool) -> list[tuple[float, float]]:
        if not snap:
            return [(x + px, y + py) for px, py in points]
        ss = _SUPERSAMPLE
        return [((((x + px) // ss) + 0.5) * ss, (((y + py) // ss) + 0.5) * ss) for px, py in points]

    for part in symbol.solid:
        if isinstance(part, stencils.Circle):
            rad = part.radius + grow
            draw.ellipse((x - rad, y - rad, x + rad, y + rad), fill=col)
        elif isinstance(part, stencils.Polygon):
            # An outlined polygon is snapped like its outline, so the two still meet.
            draw.polygon(place(part.points, symbol.outlined), fill=col)
    for part in symbol.stroked:
        if isinstance(part, stencils.Circle):
            rad = part.radius
            draw.ellipse((x - rad, y - rad, x + rad, y + rad), outline=stroke_col, width=lw)
        elif isinstance(part, stencils.Polygon):
            points = place(part.points, True)
            # Closed, and one vertex past the start so the first corner is joined too.
            draw.line([*points, points[0], points[1]], fill=stroke_col, width=lw, joint="curve")
        else:
            draw.line(place((part.start, part.end), True), fill=stroke_col, width=lw)
