"""Pixel primitives on an RGB numpy canvas: rectangles and lines with exact coverage.

Chrome lines (grid, ticks, borders, axis lines) are all axis-aligned, so they
are drawn as rectangles with fractional edges: a pixel partly covered is
blended by the covered fraction (a box filter, i.e. exact anti-aliasing).
:func:`snap` centres lines so that whole-pixel widths cover whole pixels and
a 1 px line is one crisp pixel column rather than two half-grey ones.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image

RGB = tuple[int, int, int]
Box = tuple[int, int, int, int]


def snap(pos: float, width: float) -> float:
    """Centre for a line of ``width`` px drawn at ``pos``, aligned to the pixel grid.

    Odd (and sub-pixel) widths are centred on the pixel containing ``pos``;
    even widths on the nearest pixel boundary.
    """
    if width < 1.0 or round(width) % 2 == 1:
        return math.floor(pos) + 0.5
    return float(math.floor(pos + 0.5))


def fill_solid(region: np.ndarray, colour: RGB) -> None:
    """Set every pixel of an (h, w, 3) uint8 region to ``colour``, fast.

    numpy broadcasts a 3-tuple over a large image slowly (about 10 ms for
    1600×1200); one tiled row assigned to every row is about 20× faster.
    """
    h, w = region.shape[:2]
    if h == 0 or w == 0:
        return
    if colour[0] == colour[1] == colour[2]:
        region.fill(colour[0])
        return
    region[...] = np.tile(np.asarray(colour, dtype=np.uint8), w).reshape(w, 3)


def _coverage(lo: float, hi: float, start: int, stop: int) -> np.ndarray:
    px = np.arange(start, stop, dtype=np.float32)
    return np.clip(np.minimum(hi, px + 1) - np.maximum(lo, px), 0.0, 1.0)


def fill_rect(
    canvas: np.ndarray,
    x0: float,
    y0: float,
    x1: float,
    y1: float,
    colour: RGB,
    clip: Box | None = None,
) -> None:
    """Fill a rectangle with fractional edges, blending partly covered pixels.

    Args:
        canvas: (H, W, 3) uint8 image, modified in place.
        x0, y0, x1, y1: the rectangle in continuous pixel coordinates.
        colour: fill colour.
        clip: optional box to clip to (besides the canvas).
    """
    h, w = canvas.shape[:2]
    cx0, cy0, cx1, cy1 = clip if clip is not None else (0, 0, w, h)
    x0, x1 = max(x0, cx0, 0), min(x1, cx1, w)
    y0, y1 = max(y0, cy0, 0), min(y1, cy1, h)
    if x1 <= x0 or y1 <= y0:
        return
    ix0, ix1 = math.floor(x0), math.ceil(x1)
    iy0, iy1 = math.floor(y0), math.ceil(y1)
    cov_x = _coverage(x0, x1, ix0, ix1)
    cov_y = _coverage(y0, y1, iy0, iy1)
    region = canvas[iy0:iy1, ix0:ix1]
    if cov_x.min() >= 1.0 and cov_y.min() >= 1.0:
        fill_solid(region, colour)
        return
    cov = (cov_y[:, None] * cov_x[None, :])[..., None]
    src = np.asarray(colour, dtype=np.float32)
    blended = region + (src - region) * cov
    region[...] = (blended + 0.5).astype(np.uint8)


def fill_rect_image(
    image: Image.Image, x0: float, y0: float, x1: float, y1: float, colour: RGB
) -> None:
    """:func:`fill_rect` on a Pillow RGB image (for chrome drawn over the data).

    Only the rectangle's few pixels travel to numpy and back, so a thin line
    costs little however large the image.
    """
    w, h = image.size
    bx0, by0 = max(math.floor(x0), 0), max(math.floor(y0), 0)
    bx1, by1 = min(math.ceil(x1), w), min(math.ceil(y1), h)
    if bx1 <= bx0 or by1 <= by0:
        return
    if x0 == bx0 and y0 == by0 and x1 == bx1 and y1 == by1:
        image.paste(colour, (bx0, by0, bx1, by1))
        return
    patch = np.array(image.crop((bx0, by0, bx1, by1)))
    fill_rect(patch, x0 - bx0, y0 - by0, x1 - bx0, y1 - by0, colour)
    image.paste(Image.fromarray(patch), (bx0, by0))


def vline(
    canvas: np.ndarray,
    x: float,
    y0: float,
    y1: float,
    width: float,
    colour: RGB,
    clip: Box | None = None,
) -> None:
    """A vertical line of ``width`` px centred at ``x`` (see :func:`snap`), from y0 to y1."""
    fill_rect(canvas, x - width / 2, y0, x + width / 2, y1, colour, clip)


def hline(
    canvas: np.ndarray,
    y: float,
    x0: float,
    x1: float,
    width: float,
    colour: RGB,
    clip: Box | None = None,
) -> None:
    """A horizontal line of ``width`` px centred at ``y``, from x0 to x1."""
    fill_rect(canvas, x0, y - width / 2, x1, y + width / 2, colour, clip)


def inner_border(
    target: np.ndarray | Image.Image,
    box: Box,
    width: float,
    colour: RGB,
    skip: tuple[str, ...] = (),
) -> None:
    """A rectangle outline of ``width`` px just inside ``box`` (numpy canvas or image).

    Args:
        target: the canvas or image to draw on.
        box: the rectangle.
        width: line width in pixels.
        colour: line colour.
        skip: sides not to draw ("top", "bottom", "left", "right").
    """
    fill = fill_rect_image if isinstance(target, Image.Image) else fill_rect
    x0, y0, x1, y1 = box
    width = min(width, (x1 - x0) / 2, (y1 - y0) / 2)
    if "top" not in skip:
        fill(target, x0, y0, x1, y0 + width, colour)
    if "bottom" not in skip:
        fill(target, x0, y1 - width, x1, y1, colour)
    top = y0 if "top" in skip else y0 + width
    bottom = y1 if "bottom" in skip else y1 - width
    if "left" not in skip:
        fill(target, x0, top, x0 + width, bottom, colour)
    if "right" not in skip:
        fill(target, x1 - width, top, x1, bottom, colour)
