"""Draw a laid-out figure as SVG: the same picture as :mod:`ggrs.compose.figure`, in vector form.

Everything :func:`ggrs.compose.figure.draw_figure` paints is emitted in the
same order and at the same pixel geometry (one SVG user unit = one pixel):
plot background, panel backgrounds, minor then major grid, ticks, strips, data,
panel borders, axis lines, legend, texts, key glyphs. The geometry is not
computed here: the chrome's rectangles are :func:`ggrs.compose.chrome.figure_chrome`'s,
the legend's :func:`ggrs.compose.legend.legend_chrome`'s and
:func:`ggrs.compose.legend.key_glyphs`', the ones the PNG path paints. Chrome
rectangles keep their fractional edges, so a renderer's anti-aliasing covers
partly covered pixels as :mod:`ggrs.compose.paint`'s box filter does.

Texts are ``<text>`` elements in the bundled font's family (DejaVu Sans), so
they stay selectable and searchable; each sits on the baseline where the PNG
path puts its glyphs (:func:`ggrs.compose.text.baseline_origin`), rotated like
ggplot2's ``angle``.

The data layer is either

* embedded (``hsvg``): each panel's RGBA raster as a PNG ``<image>``, exact
  pixels at a size independent of the point count; or
* vector (``svg``): the aggregated raster, never the input points. Pixels of one
  RGBA value that follow each other on a row form a run; runs with the same
  columns and colour on consecutive rows merge into one rectangle; every
  colour becomes one ``<path>`` of ``M x y h w v h h -w z`` rectangles. The
  element count is bounded by the panel's pixels (in practice a few runs per
  row), not by the number of points. Numbers are written to ASCII by numpy
  digit arithmetic, not one Python format call per rectangle.

Output bytes depend only on the inputs: no timestamps, ids numbered in drawing
order, fixed number formatting.
"""

from __future__ import annotations

import base64
import math
import re
from collections.abc import Iterable, Sequence

import numpy as np
from PIL import Image

from ggrs import stencils
from ggrs.compose import chrome, encode, figure, text
from ggrs.compose import legend as legend_draw
from ggrs.compose.chrome import Rect
from ggrs.compose.layout import Box, Layout, PlacedText
from ggrs.compose.legend import ColourBar, KeySymbol
from ggrs.compose.theme import Theme, pt_to_px
from ggrs.compose.views import FigureView

RGB = tuple[int, int, int]

#: Font family of every text: the bundled DejaVu Sans (regular and bold faces); a
#: viewer without it falls back to its own sans-serif rather than a serif default.
FONT_FAMILY = "'DejaVu Sans', sans-serif"

# Characters XML 1.0 does not allow even escaped; a label holding one would make
# the whole file unreadable, so each is written as U+FFFD (a visible box).
# Characters XML 1.0 cannot hold; lone surrogates come from undecodable bytes in
# command-line arguments (Python's surrogateescape) and cannot even be encoded.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_EPS = 1e-9


def draw_svg(
    fig: FigureView,
    layout: Layout,
    theme: Theme,
    rasters: np.ndarray,
    *,
    embed_data: bool,
    png_compression: str = "fast",
) -> bytes:
    """Render the figure as an SVG document (UTF-8 bytes).

    Args:
        fig: the figure the layout was computed for.
        layout: from :func:`ggrs.compose.layout.compute_layout` with the same theme.
        theme: the resolved theme.
        rasters: (P, H, W, 4) uint8, straight alpha, as for
            :func:`ggrs.compose.figure.draw_figure`.
        embed_data: True: each panel's raster as an embedded PNG image (hybrid
            SVG); False: the rasters as vector rectangles.
        png_compression: compression of the embedded PNGs (``fast``,
            ``default`` or ``best``).

    Returns:
        The SVG file's bytes, ``fig.width`` × ``fig.height`` user units (pixels).

    Raises:
        UsageError: the rasters' shape or dtype does not match the layout, or
            ``png_compression`` is not a known setting.
    """
    figure.check_rasters(layout, rasters)
    encode.compression_mode(png_compression)  # checked for svg too: one rule for both
    out = _Writer(layout.width, layout.height)

    parts = chrome.figure_chrome(fig, layout, theme)
    out.rect(0, 0, layout.width, layout.height, parts.background)
    for index, (x0, y0, _, _) in zip(parts.panel_templates, layout.panels, strict=True):
        out.rects(r.moved(x0, y0) for r in parts.templates[index])
    out.rects(parts.under)

    for raster, box in zip(rasters, layout.panels, strict=True):
        if embed_data:
            out.image(box, encode.encode_png(Image.fromarray(raster, "RGBA"), png_compression))
        else:
            out.raw(vector_raster(raster, box[0], box[1]))

    out.rects(parts.over)
    has_legend = layout.legend is not None and fig.legend is not None
    if has_legend:
        _legend(out, legend_draw.legend_chrome(fig.legend, layout.legend, theme))

    out.raw(f'<g font-family="{FONT_FAMILY}">')
    for placed in layout.texts():
        out.raw(text_element(placed))
    out.raw("</g>")
    if has_legend:
        _keys(out, legend_draw.key_glyphs(fig.legend, layout.legend))
    return out.finish()


# --- numbers, colours and text ------------------------------------------------


def num(value: float) -> str:
    """``value`` with at most 3 decimals, no trailing zeros, never ``-0``."""
    s = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def colour(rgb: RGB) -> str:
    """``#rrggbb``."""
    return f"#{rgb[0]:02x}{rgb[1]:02x}{rgb[2]:02x}"


def escape(s: str) -> str:
    """``s`` safe inside XML text and double-quoted attributes."""
    s = _XML_INVALID.sub("\ufffd", s)
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def text_element(placed: PlacedText) -> str:
    """One ``<text>`` whose glyphs land where :func:`ggrs.compose.text.draw_text` puts them.

    Empty for blank text, which the PNG path does not draw either.
    """
    style = placed.style
    angle = placed.angle
    origin = text.baseline_origin(
        placed.text,
        style.size,
        placed.anchor,
        bold=style.bold,
        angle=angle,
        hjust=placed.hjust,
        vjust=placed.vjust,
    )
    if origin is None:
        return ""
    ox, oy = origin
    attrs = [f'font-size="{num(pt_to_px(style.size))}"']
    if style.bold:
        attrs.append('font-weight="bold"')
    attrs.append(f'fill="{colour(style.colour)}"')
    if abs(angle % 360.0) < _EPS or abs(angle % 360.0 - 360.0) < _EPS:
        where = f'x="{num(ox)}" y="{num(oy)}"'
    else:
        where = f'transform="translate({num(ox)} {num(oy)}) rotate({num(-angle)})"'
    return f"<text {where} {' '.join(attrs)}>{escape(text.single_line(placed.text))}</text>"


# --- the document -------------------------------------------------------------


class _Writer:
    """Collects SVG fragments in drawing order."""

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self._parts: list[bytes] = [
            b'<?xml version="1.0" encoding="UTF-8"?>\n',
            (
                f'<svg xmlns="http://www.w3.org/2000/svg" '
                f'xmlns:xlink="http://www.w3.org/1999/xlink" version="1.1" width="{width}" '
                f'height="{height}" viewBox="0 0 {width} {height}" xml:space="preserve">\n'
            ).encode(),
        ]
        self._ids = 0

    def raw(self, fragment: str | bytes) -> None:
        if fragment:
            self._parts.append(fragment if isinstance(fragment, bytes) else fragment.encode())

    def next_id(self, prefix: str) -> str:
        self._ids += 1
        return f"{prefix}{self._ids}"

    def rect(
        self,
        x0: float,
        y0: float,
        x1: float,
        y1: float,
        fill: RGB | str,
        clip: Box | None = None,
    ) -> None:
        """A rectangle clipped to the image (and ``clip``), as :func:`paint.fill_rect`.

        ``fill`` is a colour, or an SVG paint such as ``url(#id)``.
        """
        cx0, cy0, cx1, cy1 = clip if clip is not None else (0, 0, self.width, self.height)
        x0, x1 = max(x0, cx0, 0), min(x1, cx1, self.width)
        y0, y1 = max(y0, cy0, 0), min(y1, cy1, self.height)
        if x1 <= x0 or y1 <= y0:
            return
        self.raw(
            f'<rect x="{num(x0)}" y="{num(y0)}" width="{num(x1 - x0)}" '
            f'height="{num(y1 - y0)}" fill="{fill if isinstance(fill, str) else colour(fill)}"/>\n'
        )

    def rects(self, rects: Iterable[Rect]) -> None:
        """Each chrome rectangle as :meth:`rect`, in order."""
        for r in rects:
            self.rect(r.x0, r.y0, r.x1, r.y1, r.colour)

    def image(self, box: Box, png: bytes) -> None:
        """A PNG image filling ``box``, pixel for pixel (SVG 1.1's xlink:href, so
        that older viewers show it too)."""
        x0, y0, x1, y1 = box
        self.raw(
            f'<image x="{x0}" y="{y0}" width="{x1 - x0}" height="{y1 - y0}" '
            'preserveAspectRatio="none" image-rendering="optimizeSpeed" '
            'xlink:href="data:image/png;base64,'
        )
        self.raw(base64.b64encode(png))
        self.raw('"/>\n')

    def finish(self) -> bytes:
        self._parts.append(b"</svg>\n")
        return b"".join(self._parts)


# --- legend -------------------------------------------------------------------


def _legend(out: _Writer, parts: Iterable[Rect | ColourBar]) -> None:
    """Background, colour bar and its ticks, key squares (texts and key glyphs come later)."""
    for part in parts:
        if isinstance(part, ColourBar):
            _bar(out, part)
        else:
            out.rect(part.x0, part.y0, part.x1, part.y1, part.colour)


def _bar(out: _Writer, bar: ColourBar) -> None:
    """The colour bar as a linear gradient through its stops (low end bottom/left)."""
    gid = out.next_id("bar")
    ends = 'x1="0" y1="1" x2="0" y2="0"' if bar.vertical else 'x1="0" y1="0" x2="1" y2="0"'
    # Stops are exact RGB values of the legend: the PNG bar samples the same
    # linear interpolation at pixel centres (legend.gradient).
    stops = "".join(
        f'<stop offset="{num(pos)}" stop-color="{colour(rgb)}"/>' for pos, rgb in bar.stops
    )
    out.raw(f'<defs><linearGradient id="{gid}" {ends}>{stops}</linearGradient></defs>\n')
    out.rect(*bar.box, f"url(#{gid})")


def _keys(out: _Writer, glyphs: Iterable[Rect | KeySymbol]) -> None:
    """Key glyphs: point symbols as vector shapes, line and bar keys as rectangles."""
    for glyph in glyphs:
        if isinstance(glyph, KeySymbol):
            out.raw(symbol_element(glyph.shape, glyph.centre, glyph.radius, glyph.colour))
        else:
            out.rect(glyph.x0, glyph.y0, glyph.x1, glyph.y1, glyph.colour)


def symbol_element(shape: int, centre: tuple[float, float], radius: float, rgb: RGB) -> str:
    """ggplot2 point shape ``shape`` (R pch 0–25) as a ``<g>`` of vector parts.

    The geometry is :func:`ggrs.stencils.symbol`'s, which the raster paths share,
    placed as the PNG legend places it: stroked corners and line ends (and the
    fill of an outlined polygon) on pixel centres, so thin strokes stay crisp.

    Raises:
        UsageError: ``shape`` is not a code 0–25.
    """
    sym = stencils.symbol(shape, radius)
    width = stencils.STROKE * radius
    lw = num(width)
    cx, cy = centre
    body: list[str] = []
    fill = colour(rgb)
    for part in sym.solid:
        # R draws 19's border in its fill colour: half a stroke larger than 16.
        border = f' stroke="{fill}" stroke-width="{lw}"' if sym.bordered else ""
        body.append(_part(part, cx, cy, sym.outlined, f'fill="{fill}"{border}'))
    stroke = colour(stencils.OUTLINE) if sym.outlined else fill
    for part in sym.stroked:
        if isinstance(part, stencils.Circle):
            # The PNG legend strokes circles inside their radius (Pillow's outline).
            part = stencils.Circle(part.radius - width / 2)
        body.append(_part(part, cx, cy, True, f'fill="none" stroke="{stroke}" stroke-width="{lw}"'))
    return f'<g stroke-linejoin="round">{"".join(body)}</g>\n'


def _part(part: stencils.Part, cx: float, cy: float, snap: bool, paint_attrs: str) -> str:
    """One part centred at (cx, cy); ``snap`` moves its vertices to pixel centres."""

    def place(x: float, y: float) -> str:
        x, y = cx + x, cy + y
        if snap:
            x, y = math.floor(x) + 0.5, math.floor(y) + 0.5
        return f"{num(x)},{num(y)}"

    if isinstance(part, stencils.Circle):
        return f'<circle cx="{num(cx)}" cy="{num(cy)}" r="{num(part.radius)}" {paint_attrs}/>'
    if isinstance(part, stencils.Polygon):
        pts = " ".join(place(x, y) for x, y in part.points)
        return f'<polygon points="{pts}" {paint_attrs}/>'
    return f'<polyline points="{place(*part.start)} {place(*part.end)}" {paint_attrs}/>'


# --- the data layer as vector rectangles --------------------------------------


def raster_runs(raster: np.ndarray) -> tuple[np.ndarray, ...]:
    """The visible pixels of one RGBA raster as rectangles of one colour each.

    Pixels of equal RGBA next to each other on a row form a run; runs with the
    same start, end and colour on consecutive rows merge into one rectangle.
    Fully transparent pixels are left out. Every visible pixel lies in exactly
    one rectangle.

    Args:
        raster: (H, W, 4) uint8, straight alpha.

    Returns:
        ``(x, y, width, height, rgba)``: int64 arrays of the rectangles, and
        (n, 4) uint8 colours, sorted by colour, then x, width and y.
    """
    h, w = raster.shape[:2]
    packed = np.ascontiguousarray(raster).view(np.uint32).reshape(h, w)
    change = np.empty((h, w), dtype=bool)
    change[:, 0] = True
    np.not_equal(packed[:, 1:], packed[:, :-1], out=change[:, 1:])
    starts = np.flatnonzero(change)
    ends = np.empty_like(starts)
    ends[:-1] = starts[1:]
    ends[-1:] = h * w  # column 0 always starts a run, so no run crosses a row end
    rgba = raster.reshape(-1, 4)[starts]
    visible = rgba[:, 3] > 0
    starts, ends, rgba = starts[visible], ends[visible], rgba[visible]
    row, x = np.divmod(starts, w)
    width = ends - starts
    key = packed.reshape(-1)[starts]
    order = np.lexsort((row, width, x, key))
    row, x, width, key, rgba = row[order], x[order], width[order], key[order], rgba[order]
    # A run continues the previous one's rectangle when it is the same run one row down.
    cont = np.zeros(len(row), dtype=bool)
    cont[1:] = (
        (key[1:] == key[:-1])
        & (x[1:] == x[:-1])
        & (width[1:] == width[:-1])
        & (row[1:] == row[:-1] + 1)
    )
    first = np.flatnonzero(~cont)
    height = np.diff(np.append(first, len(row)))
    return x[first], row[first], width[first], height, rgba[first]


def vector_raster(raster: np.ndarray, left: int = 0, top: int = 0) -> bytes:
    """One panel's raster as SVG paths, one per colour, placed at (``left``, ``top``).

    Args:
        raster: (H, W, 4) uint8, straight alpha.
        left, top: the panel's top-left pixel in the image.

    Returns:
        A ``<g>`` element (bytes); empty when no pixel is visible.
    """
    x, y, width, height, rgba = raster_runs(raster)
    if len(x) == 0:
        return b""
    body = ascii_join([b"M", x, b" ", y, b"h", width, b"v", height, b"h-", width, b"z"], len(x))
    ends = np.cumsum(body[1])
    # Rectangles are sorted by colour: a path per run of equal colours.
    new = np.ones(len(x), dtype=bool)
    new[1:] = np.any(rgba[1:] != rgba[:-1], axis=1)
    firsts = np.flatnonzero(new)
    lasts = np.append(firsts[1:], len(x)) - 1
    starts = np.concatenate(([0], ends[:-1]))
    data = body[0]
    # crispEdges: neighbouring runs of different colours meet without a seam
    # when the file is zoomed (anti-aliased edges would let the background through).
    parts = [f'<g transform="translate({left} {top})" shape-rendering="crispEdges">\n'.encode()]
    for i, j in zip(firsts.tolist(), lasts.tolist(), strict=True):
        r, g, b, a = rgba[i].tolist()
        opacity = "" if a == 255 else f' fill-opacity="{num_alpha(a)}"'
        parts.append(f'<path fill="{colour((r, g, b))}"{opacity} d="'.encode())
        parts.append(data[int(starts[i]) : int(ends[j])])
        parts.append(b'"/>\n')
    parts.append(b"</g>\n")
    return b"".join(parts)


def num_alpha(a: int) -> str:
    """An 8-bit alpha as an opacity with 4 decimals: ``round(opacity × 255)`` gives ``a`` back."""
    s = f"{a / 255:.4f}".rstrip("0").rstrip(".")
    return s or "0"


def ascii_join(pieces: Sequence[bytes | np.ndarray], n: int) -> tuple[bytes, np.ndarray]:
    """Row i of the result is the concatenation of every piece's row i, in ASCII.

    Args:
        pieces: literal bytes (the same in every row) or int arrays of ``n``
            non-negative values (written in decimal, no leading zeros).
        n: number of rows.

    Returns:
        The concatenated rows as one bytes object, and each row's length.
    """
    cols: list[np.ndarray] = []
    masks: list[np.ndarray] = []
    for piece in pieces:
        if isinstance(piece, bytes):
            lit = np.frombuffer(piece, dtype=np.uint8)
            cols.append(np.broadcast_to(lit, (n, len(lit))))
            masks.append(np.ones((n, len(lit)), dtype=bool))
            continue
        values = np.asarray(piece, dtype=np.int64)
        if values.size and values.min() < 0:
            raise ValueError("ascii_join writes non-negative integers only")
        top = int(values.max()) if values.size else 0
        digits = max(1, math.floor(math.log10(top)) + 1) if top > 0 else 1
        powers = 10 ** np.arange(digits - 1, -1, -1, dtype=np.int64)
        cols.append((values[:, None] // powers % 10 + 48).astype(np.uint8))
        masks.append((values[:, None] >= powers) | (powers == 1))
    table = np.concatenate(cols, axis=1)
    mask = np.concatenate(masks, axis=1)
    return table[mask].tobytes(), mask.sum(axis=1)
