"""Point shapes: ggplot2's ``shape`` (R ``pch`` codes 0–25) as geometry and as pixel stencils.

One definition of every shape, used twice: the legend draws :func:`symbol`'s
geometry with Pillow (supersampled, smooth), and shading rasterises the same
geometry into pixel masks (:func:`stencil`) that spread the per-pixel counts
(:func:`ggrs.shade.spread`), so a key symbol and the data points match.

Sizes follow R's GESymbol (graphics engine), relative to the circle radius r:
squares 0, 7, 12, 14, 15 have half-side r and 22 the circle's area (r·√(π/4));
triangles have the circle's area; diamonds 5 and 9 reach √2·r, 18 r, 23 the
circle's area; the plus of 3, 8, 9 reaches √2·r; 20 is ⅔ of the circle.

The kinds of shape:

- 0–14 are open: only their stroke is drawn, in the point colour.
- 15–20 are solid: only their interior, in the point colour.
- 21–25 are filled and outlined. ggplot2 draws their outline in the ``colour``
  aesthetic and leaves the ``fill`` empty by default; ggrs has one colour per
  point, and Tercen users expect a filled symbol, so the interior gets the point
  colour and the outline :data:`OUTLINE` (black) — as ggplot2 draws
  ``shape = 21, fill = <colour>, colour = "black"``.

Coordinates are pixels relative to the point's centre, y growing downwards.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np

from ggrs.errors import UsageError

RGB = tuple[int, int, int]
Point = tuple[float, float]

#: The ggplot2 / R pch codes ggrs draws.
SHAPES = range(26)
#: Outline colour of the filled shapes 21–25.
OUTLINE: RGB = (0, 0, 0)
#: Stroke width as a fraction of the circle radius (R's default line width at point size).
STROKE = 0.25

# R's size constants: squares (SQRC), diamonds (DMDC) and triangles (TRC*) of the circle's area.
_SQRC = math.sqrt(math.pi / 4)
_DMDC = math.sqrt(math.pi / 4) * math.sqrt(2)
_TRC0 = math.sqrt(4 * math.pi / (3 * math.sqrt(3)))
_TRC1 = _TRC0 * math.sqrt(3) / 2
_TRC2 = _TRC0 / 2
# R's "small" dot (pch 20) against its RADIUS: 0.25 / 0.375.
_SMALL = 2 / 3
# Pixel-centre tests are closed: a centre exactly on an edge is inside.
_EPS = 1e-9


@dataclass(frozen=True)
class Circle:
    """A circle of ``radius`` around the centre."""

    radius: float


@dataclass(frozen=True)
class Polygon:
    """A convex polygon, its vertices in order."""

    points: tuple[Point, ...]


@dataclass(frozen=True)
class Segment:
    """A straight line from ``start`` to ``end``."""

    start: Point
    end: Point


Part = Circle | Polygon | Segment


@dataclass(frozen=True)
class Symbol:
    """One point shape at one size.

    Attributes:
        solid: parts whose interior is painted in the point colour.
        stroked: parts drawn as lines ``STROKE``·r wide: in the point colour, or in
            :data:`OUTLINE` when ``outlined``.
        outlined: True for 21–25, whose stroke outlines the solid parts.
        bordered: True for 19: R draws its border in the fill colour, so the
            legend's symbol is half a stroke larger than 16. The data stencil of 19
            keeps the exact point diameter (the disk ``shade`` has always drawn).
    """

    solid: tuple[Part, ...] = ()
    stroked: tuple[Part, ...] = ()
    outlined: bool = False
    bordered: bool = False


def check_shape(shape: object) -> int:
    """``shape`` as an int pch code 0–25.

    Raises:
        UsageError: anything else (bools, floats, strings, codes outside 0–25).
    """
    if isinstance(shape, bool) or not isinstance(shape, int | np.integer) or shape not in SHAPES:
        raise UsageError(
            f"point shape must be a ggplot2 shape code 0-25 (R's pch); got {shape!r}. "
            "Set point.shapes to e.g. '19;17'"
        )
    return int(shape)


def layer_shape(shapes: tuple[int, ...], layer: int) -> int:
    """The shape of layer ``layer``: ``shapes`` cycle when there are more layers.

    Raises:
        UsageError: ``shapes`` is empty.
    """
    if not shapes:
        raise UsageError("point.shapes holds no shape code; give at least one, e.g. '19'")
    return check_shape(shapes[layer % len(shapes)])


def _square(half: float) -> Polygon:
    return Polygon(((-half, -half), (half, -half), (half, half), (-half, half)))


def _diamond(half: float) -> Polygon:
    return Polygon(((-half, 0.0), (0.0, -half), (half, 0.0), (0.0, half)))


def _triangle(r: float, up: bool = True) -> Polygon:
    top, base, half = _TRC0 * r, _TRC2 * r, _TRC1 * r
    s = -1.0 if up else 1.0
    return Polygon(((0.0, s * top), (half, -s * base), (-half, -s * base)))


def _plus(arm: float) -> tuple[Segment, ...]:
    return Segment((-arm, 0.0), (arm, 0.0)), Segment((0.0, -arm), (0.0, arm))


def _times(arm: float) -> tuple[Segment, ...]:
    return Segment((-arm, -arm), (arm, arm)), Segment((-arm, arm), (arm, -arm))


def symbol(shape: int, radius: float) -> Symbol:
    """The geometry of pch ``shape`` whose circle has ``radius`` (R's GESymbol).

    Raises:
        UsageError: ``shape`` is not a code 0–25.
    """
    shape = check_shape(shape)
    r = radius
    root2 = math.sqrt(2)
    if shape == 11:
        # Two opposed triangles; R puts each base halfway between the other's base and apex.
        top, half = _TRC0 * r, _TRC1 * r
        base = (_TRC2 * r + top) / 2
        down = Polygon(((0.0, -top), (half, base), (-half, base)))
        up = Polygon(((0.0, top), (half, -base), (-half, -base)))
        return Symbol(stroked=(down, up))
    open_shapes: dict[int, tuple[Part, ...]] = {
        0: (_square(r),),
        1: (Circle(r),),
        2: (_triangle(r),),
        3: _plus(root2 * r),
        4: _times(r),
        5: (_diamond(root2 * r),),
        6: (_triangle(r, up=False),),
        7: (_square(r), *_times(r)),
        8: (*_times(r), *_plus(root2 * r)),
        9: (_diamond(root2 * r), *_plus(root2 * r)),
        10: (Circle(r), *_plus(r)),
        12: (_square(r), *_plus(r)),
        13: (Circle(r), *_times(r)),
        14: (_square(r), Polygon(((0.0, -r), (r, r), (-r, r)))),
    }
    if shape in open_shapes:
        return Symbol(stroked=open_shapes[shape])
    solid: dict[int, Part] = {
        15: _square(r),
        16: Circle(r),
        17: _triangle(r),
        18: _diamond(r),
        19: Circle(r),
        20: Circle(_SMALL * r),
        21: Circle(r),
        22: _square(_SQRC * r),
        23: _diamond(_DMDC * r),
        24: _triangle(r),
        25: _triangle(r, up=False),
    }
    part = solid[shape]
    if shape >= 21:
        return Symbol(solid=(part,), stroked=(part,), outlined=True)
    return Symbol(solid=(part,), bordered=shape == 19)


def _extent(part: Part) -> float:
    """Largest |x| or |y| the part reaches."""
    if isinstance(part, Circle):
        return part.radius
    points = part.points if isinstance(part, Polygon) else (part.start, part.end)
    return max(max(abs(x), abs(y)) for x, y in points)


@dataclass(frozen=True, eq=False)
class Stencil:
    """The pixels one point of a shape covers, around its centre pixel.

    Both masks are (2·reach + 1, 2·reach + 1) bool arrays with the point's own
    pixel at [reach, reach]; ``mask[reach + dy, reach + dx]`` says whether the
    point covers the pixel dy rows down and dx columns right of it.

    Attributes:
        fill: pixels painted in the point colour (the interior of 15–25).
        outline: pixels of the stroke (0–14 in the point colour; 21–25 in
            :data:`OUTLINE`). ``fill`` and ``outline`` never share a pixel.
        outlined: True for 21–25.
    """

    fill: np.ndarray
    outline: np.ndarray
    outlined: bool

    @property
    def reach(self) -> int:
        """Offsets run from −reach to reach on both axes."""
        return self.fill.shape[0] // 2

    @property
    def covered(self) -> np.ndarray:
        """Every pixel the point paints: ``fill | outline``."""
        return self.fill | self.outline


def stroke_pixels(radius: float) -> int:
    """Stroke width of stencils in whole pixels: ``STROKE``·radius to the nearest odd number, ≥ 1.

    Odd, so the stroke sits centred on the shape's edge pixels.
    """
    raw = max(1.0, STROKE * radius)
    return 2 * math.floor((raw - 1) / 2 + 0.5) + 1


def stencil(shape: int, diameter: float) -> Stencil:
    """Pixel masks of pch ``shape`` for a point of ``diameter`` pixels (the circle's diameter).

    A pixel belongs to a solid part when its centre lies inside or on the part. A
    circle's or polygon's stroke of width w = 2k + 1 (:func:`stroke_pixels`) is the
    part grown by k pixels minus the part shrunk by k + 1 (4-neighbour steps), so
    it is a closed ring exactly w pixels across with no gaps at any size; a
    segment's stroke holds the pixels whose centres lie within w/2 of it, between
    its ends. The filled shapes 21–25 keep for ``fill`` the part shrunk by k + 1:
    the outline lies over the fill's edge, as R strokes over its fill.

    Shape 19 (and 16) at diameter d is the disk ``dx² + dy² ≤ (d/2)²``; a stroked
    circle of whole-number radius leaves out the four lone pixels on its axes.

    Raises:
        UsageError: ``shape`` is not 0–25, or ``diameter`` is not a finite number ≥ 1.
    """
    real = isinstance(diameter, numbers.Real) and not isinstance(diameter, bool)
    if not (real and math.isfinite(diameter) and diameter >= 1):
        raise UsageError(f"point diameter must be at least 1 pixel; got {diameter!r}")
    radius = diameter / 2
    sym = symbol(shape, radius)
    k = (stroke_pixels(radius) - 1) // 2
    parts = sym.solid + sym.stroked
    n = math.ceil(max(_extent(p) for p in parts)) + k + 2
    ys, xs = np.mgrid[-n : n + 1, -n : n + 1]
    solid = np.zeros(xs.shape, dtype=bool)
    for part in sym.solid:
        solid |= _inside(part, xs, ys)
    stroke = np.zeros(xs.shape, dtype=bool)
    interior = np.zeros(xs.shape, dtype=bool)
    for part in sym.stroked:
        if isinstance(part, Segment):
            stroke |= _near_segment(part, xs, ys, k + 0.5)
            continue
        inside = _inside(part, xs, ys)
        if isinstance(part, Circle):
            # A whole-number radius puts one lone pixel on each axis at distance r; a
            # ring drawn around it would show a spike and a notch there.
            r = part.radius
            tips = ((xs == 0) & (np.abs(ys) == r)) | ((ys == 0) & (np.abs(xs) == r))
            inside &= ~tips
        core = _shrink(inside, k + 1)
        stroke |= _grow(inside, k) & ~core
        interior |= core
    # 21-25: the fill is what the outline leaves of the solid part.
    fill = interior & ~stroke if sym.outlined else solid
    return _cropped(fill, stroke, sym.outlined)


def _inside(part: Circle | Polygon, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Pixel centres inside or on ``part``."""
    if isinstance(part, Circle):
        # Integer offsets against r²: the very test ggrs.shade.disk_rows makes.
        return xs * xs + ys * ys <= part.radius**2
    pts = part.points
    area2 = sum(
        x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(pts, pts[1:] + pts[:1], strict=True)
    )
    sign = 1.0 if area2 > 0 else -1.0
    inside = np.ones(xs.shape, dtype=bool)
    for (x0, y0), (x1, y1) in zip(pts, pts[1:] + pts[:1], strict=True):
        cross = (x1 - x0) * (ys - y0) - (y1 - y0) * (xs - x0)
        inside &= sign * cross >= -_EPS * math.hypot(x1 - x0, y1 - y0)
    return inside


def _near_segment(seg: Segment, xs: np.ndarray, ys: np.ndarray, half: float) -> np.ndarray:
    """Pixel centres within ``half`` of the segment, flat ends (R's lines of points are short)."""
    (x0, y0), (x1, y1) = seg.start, seg.end
    dx, dy = x1 - x0, y1 - y0
    length = math.hypot(dx, dy)
    if length == 0:
        return (xs - x0) ** 2 + (ys - y0) ** 2 <= half * half + _EPS
    along = ((xs - x0) * dx + (ys - y0) * dy) / length
    across = np.abs((xs - x0) * dy - (ys - y0) * dx) / length
    return (along >= -_EPS) & (along <= length + _EPS) & (across <= half + _EPS)


def _grow(mask: np.ndarray, steps: int) -> np.ndarray:
    """``mask`` dilated ``steps`` times by the 4-neighbour cross."""
    out = mask.copy()
    for _ in range(steps):
        grown = out.copy()
        grown[1:] |= out[:-1]
        grown[:-1] |= out[1:]
        grown[:, 1:] |= out[:, :-1]
        grown[:, :-1] |= out[:, 1:]
        out = grown
    return out


def _shrink(mask: np.ndarray, steps: int) -> np.ndarray:
    """``mask`` eroded ``steps`` times by the 4-neighbour cross (outside the array is empty)."""
    out = mask.copy()
    for _ in range(steps):
        shrunk = out.copy()
        shrunk[1:] &= out[:-1]
        shrunk[:-1] &= out[1:]
        shrunk[:, 1:] &= out[:, :-1]
        shrunk[:, :-1] &= out[:, 1:]
        shrunk[[0, -1], :] = False
        shrunk[:, [0, -1]] = False
        out = shrunk
    return out


def _cropped(fill: np.ndarray, outline: np.ndarray, outlined: bool) -> Stencil:
    """The stencil cut to the smallest square around the centre that holds every pixel."""
    n = fill.shape[0] // 2
    ys, xs = np.nonzero(fill | outline)
    reach = int(max(np.abs(ys - n).max(), np.abs(xs - n).max())) if len(ys) else 0
    cut = slice(n - reach, n + reach + 1)
    return Stencil(fill[cut, cut].copy(), outline[cut, cut].copy(), outlined)


def runs(mask: np.ndarray) -> dict[int, tuple[tuple[int, int], ...]]:
    """Row runs of a centred stencil mask: {dy: ((a, b), …)}, each run covering dx in [a, b].

    Rows without pixels are left out; runs within a row are in increasing order.
    """
    reach = mask.shape[0] // 2
    out: dict[int, tuple[tuple[int, int], ...]] = {}
    for i, row in enumerate(np.asarray(mask, dtype=bool)):
        # Run starts and ends are where the padded row changes value.
        edges = np.flatnonzero(np.diff(np.concatenate(([False], row, [False])).astype(np.int8)))
        if len(edges):
            out[i - reach] = tuple(
                (int(s) - reach, int(e) - 1 - reach)
                for s, e in zip(edges[::2], edges[1::2], strict=True)
            )
    return out


def picture(mask: np.ndarray) -> tuple[str, ...]:
    """A mask as text rows: ``#`` a covered pixel, ``.`` an uncovered one (tests, debugging)."""
    return tuple("".join("#" if v else "." for v in row) for row in np.asarray(mask, dtype=bool))
