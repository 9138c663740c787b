"""Text measurement and drawing: the only module that touches ImageFont.

Fonts are the bundled DejaVu Sans (``ggrs_fonts``) with Pillow's BASIC layout
engine, so output never depends on the system's fonts or on raqm.

A label's box is its ink extent horizontally, and vertically the font's
ascender-to-descender band (measured on reference glyphs, widened for glyphs
that reach further). Using one band for every label of a font keeps the
baselines of neighbouring labels aligned ("ace" and "Ag" in two strips) while
staying as tight as ggplot2's text heights. Rotation is counter-clockwise in
degrees, like ggplot2's ``angle``. Boxes are integer pixel rectangles
``(x0, y0, x1, y1)``, half-open.
"""

from __future__ import annotations

import math
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

import ggrs_fonts
from ggrs.compose.theme import PX_PER_PT

RGB = tuple[int, int, int]
Box = tuple[int, int, int, int]

# Ascender and descender references: tall letters and descending letters.
_REFERENCE = "Hdlgjpqy"
_EPS = 1e-9


@lru_cache(maxsize=64)
def font(size_pt: float, bold: bool = False) -> ImageFont.FreeTypeFont:
    """The bundled font at ``size_pt`` points (cached)."""
    path = ggrs_fonts.BOLD if bold else ggrs_fonts.REGULAR
    return ImageFont.truetype(
        str(path), size=size_pt * PX_PER_PT, layout_engine=ImageFont.Layout.BASIC
    )


@lru_cache(maxsize=64)
def _band(size_pt: float, bold: bool) -> tuple[int, int]:
    _, top, _, bottom = font(size_pt, bold).getbbox(_REFERENCE, anchor="ls")
    return -int(top), int(bottom)


@lru_cache(maxsize=8192)
def _ink(text: str, size_pt: float, bold: bool) -> tuple[int, int, int, int]:
    """(left bearing, ascent, width, height) of ``text``'s box; zeros when it has no ink."""
    if not text or text.isspace():
        return 0, 0, 0, 0
    left, top, right, bottom = font(size_pt, bold).getbbox(text, anchor="ls")
    ascent, descent = _band(size_pt, bold)
    ascent = max(ascent, -int(top))
    descent = max(descent, int(bottom))
    return int(left), ascent, int(right - left), ascent + descent


def single_line(text: str) -> str:
    """``text`` as it is drawn: line breaks become spaces.

    Labels are single lines; a stray newline would break the baseline anchor.
    """
    return text.replace("\r", " ").replace("\n", " ")


def _trig(angle: float) -> tuple[float, float]:
    rad = math.radians(angle)
    c, s = math.cos(rad), math.sin(rad)
    # Exact zeros at multiples of 90° keep boxes of rotated text integer-sized.
    return (0.0 if abs(c) < _EPS else c), (0.0 if abs(s) < _EPS else s)


def _rotated_size(w: float, h: float, angle: float) -> tuple[float, float]:
    c, s = _trig(angle)
    return w * abs(c) + h * abs(s), w * abs(s) + h * abs(c)


def measure(text: str, size_pt: float, bold: bool = False, angle: float = 0.0) -> tuple[int, int]:
    """Size in pixels of the box of ``text`` rotated by ``angle`` degrees.

    Args:
        text: one line of text; empty or blank text measures (0, 0).
        size_pt: font size in points.
        bold: use the bold face.
        angle: counter-clockwise rotation in degrees.

    Returns:
        (width, height) of the axis-aligned box around the rotated text, rounded up.
    """
    _, _, w, h = _ink(single_line(text), size_pt, bold)
    if w == 0:
        return 0, 0
    rw, rh = _rotated_size(w, h, angle)
    return math.ceil(rw - _EPS), math.ceil(rh - _EPS)


def _axis_aligned(angle: float) -> bool:
    r = angle % 90.0
    return r < _EPS or 90.0 - r < _EPS


def _centre(
    w: float, h: float, anchor: tuple[float, float], angle: float, hjust: float, vjust: float
) -> tuple[float, float]:
    """Screen position of the text box centre when point (hjust, vjust) sits at ``anchor``."""
    c, s = _trig(angle)
    dx, dy = (0.5 - hjust) * w, (0.5 - vjust) * h  # text frame, y up
    # Rotate counter-clockwise, then flip y for screen coordinates (y down).
    return anchor[0] + c * dx - s * dy, anchor[1] - (s * dx + c * dy)


def text_box(
    text: str,
    size_pt: float,
    anchor: tuple[float, float],
    *,
    bold: bool = False,
    angle: float = 0.0,
    hjust: float = 0.5,
    vjust: float = 0.5,
) -> Box:
    """Where :func:`draw_text` will put ``text``, without drawing it.

    Args:
        text: one line of text.
        size_pt: font size in points.
        anchor: (x, y) pixel position of the text's justification point.
        bold: use the bold face.
        angle: counter-clockwise rotation in degrees.
        hjust: 0 = start of the text, 1 = end, along the (rotated) text direction.
        vjust: 0 = bottom of the text band, 1 = top, across the text direction.

    Returns:
        The integer box ``(x0, y0, x1, y1)`` the ink is drawn into; an empty
        box at the anchor for blank text.
    """
    _, _, w, h = _ink(single_line(text), size_pt, bold)
    if w == 0:
        x, y = round(anchor[0]), round(anchor[1])
        return x, y, x, y
    cx, cy = _centre(w, h, anchor, angle, hjust, vjust)
    rw, rh = _rotated_size(w, h, angle)
    if _axis_aligned(angle):
        rw, rh = round(rw), round(rh)
        x0 = math.floor(cx - rw / 2 + 0.5)
        y0 = math.floor(cy - rh / 2 + 0.5)
        return x0, y0, x0 + rw, y0 + rh
    return (
        math.floor(cx - rw / 2),
        math.floor(cy - rh / 2),
        math.ceil(cx + rw / 2),
        math.ceil(cy + rh / 2),
    )


def baseline_origin(
    text: str,
    size_pt: float,
    anchor: tuple[float, float],
    *,
    bold: bool = False,
    angle: float = 0.0,
    hjust: float = 0.5,
    vjust: float = 0.5,
) -> tuple[float, float] | None:
    """Where :func:`draw_text` puts the start of ``text``'s baseline (the pen's origin).

    :func:`draw_text` draws the upright ink box with the pen's baseline origin
    at (−left bearing, ascent) from its corner, then turns the box into place
    about its centre (right angles: into exactly :func:`text_box`'s box); the
    origin here goes through the same turn. A renderer that writes
    :func:`single_line` ``(text)`` in the bundled font from this point, its
    baseline turned by ``angle``, puts the glyphs where :func:`draw_text` does.

    Arguments are those of :func:`text_box`.

    Returns:
        The (x, y) pixel position, continuous; None for blank text (nothing is drawn).
    """
    text = single_line(text)
    left, ascent, w, h = _ink(text, size_pt, bold)
    if w == 0:
        return None
    if _axis_aligned(angle):
        x0, y0, x1, y1 = text_box(
            text, size_pt, anchor, bold=bold, angle=angle, hjust=hjust, vjust=vjust
        )
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    else:
        cx, cy = _centre(w, h, anchor, angle, hjust, vjust)
    c, s = _trig(angle)
    dx, dy = -left - w / 2, ascent - h / 2  # origin from the upright box's centre, y down
    return cx + c * dx + s * dy, cy - s * dx + c * dy


_TRANSPOSE = {
    1: Image.Transpose.ROTATE_90,
    2: Image.Transpose.ROTATE_180,
    3: Image.Transpose.ROTATE_270,
}


def _mask(text: str, size_pt: float, bold: bool) -> Image.Image:
    left, ascent, w, h = _ink(text, size_pt, bold)
    mask = Image.new("L", (w, h), 0)
    ImageDraw.Draw(mask).text(
        (-left, ascent), text, fill=255, font=font(size_pt, bold), anchor="ls"
    )
    return mask


def draw_text(
    image: Image.Image,
    text: str,
    size_pt: float,
    anchor: tuple[float, float],
    colour: RGB,
    *,
    bold: bool = False,
    angle: float = 0.0,
    hjust: float = 0.5,
    vjust: float = 0.5,
) -> Box:
    """Draw ``text`` onto ``image`` with its (hjust, vjust) point at ``anchor``.

    Arguments are those of :func:`text_box`, plus the target image and the
    colour. Right-angle rotations are exact pixel transposes (crisp); other
    angles are resampled bicubically into exactly the box :func:`text_box`
    returns.

    Returns:
        The box drawn into (the same as :func:`text_box`).
    """
    text = single_line(text)
    box = text_box(text, size_pt, anchor, bold=bold, angle=angle, hjust=hjust, vjust=vjust)
    if box[2] == box[0]:
        return box
    mask = _mask(text, size_pt, bold)
    if _axis_aligned(angle):
        quarter = round(angle / 90.0) % 4
        if quarter:
            mask = mask.transpose(_TRANSPOSE[quarter])
    else:
        mask = _rotate_into(mask, box, anchor, angle, hjust, vjust)
    image.paste(colour, box, mask)
    return box


def _rotate_into(
    mask: Image.Image,
    box: Box,
    anchor: tuple[float, float],
    angle: float,
    hjust: float,
    vjust: float,
) -> Image.Image:
    """Resample the upright ``mask`` rotated by ``angle`` into an image the size of ``box``."""
    w, h = mask.size
    c, s = _trig(angle)
    ox, oy = box[0] - anchor[0], box[1] - anchor[1]
    # Inverse map from output (screen) coordinates to mask coordinates: undo the
    # screen flip, rotate back by -angle, move the (hjust, vjust) point back.
    ax, ay = hjust * w, vjust * h
    data = (c, -s, c * ox - s * oy + ax, s, c, h - ay + s * ox + c * oy)
    size = (box[2] - box[0], box[3] - box[1])
    return mask.transform(size, Image.Transform.AFFINE, data, resample=Image.Resampling.BICUBIC)
