"""Line charts: polylines rasterised into per-panel count grids, and their stroke width.

A :class:`Lines` layer holds points; the points of one polyline share a panel, a
group code and (with categorical colour) a category. :func:`aggregate_lines`
returns the same :class:`~ggrs.aggregate.grids.Grids` as points, so
:mod:`ggrs.shade` colours both; :func:`thicken` turns the 1-pixel paths into
strokes of the line width first.

Rules (all exact integer counts):

* Order: within each polyline the points are ordered by x, ties in input order
  (a stable sort on (polyline, x); NaN x sorts last). Chunks of the table
  concatenated in any interleaving give the same grid, as long as points of one
  polyline with equal x keep their relative order (always true for distinct x).
* Breaks: a point with a non-finite x, y (or value) is a gap; no segment
  touches it. Such points are counted in ``Grids.dropped``. A run of one point
  draws nothing (a line needs two points).
* Pixels: a point's pixel is the one :mod:`ggrs.aggregate.binning` gives it, so
  a line passes through the pixels of its points.
* Clipping: a segment that leaves its panel is cut at the panel's edge in data
  space (Liang–Barsky); the cut point is clamped onto the range and takes the
  edge pixel. A segment entirely outside draws nothing.
* Rasterisation: between its end pixels a segment takes ``max(|Δcol|, |Δrow|)``
  steps along its major axis; at step k the minor axis is offset by
  k·|Δminor|/|Δmajor| rounded to the nearest integer, ties away from the start
  when the major axis runs towards higher pixel indices (right, or up in data
  space) and towards it otherwise. This is the pixel path of datashader's
  Bresenham (``Canvas.line``), an 8-connected path.
* Counting: every pixel a polyline passes adds 1; a vertex shared by two
  consecutive drawn segments adds 1, not 2. Each segment counts its pixels from
  its start up to, not including, its end; its end pixel is counted too when the
  polyline does not continue from that vertex (last segment, next point a gap,
  or the segment cut at the panel edge). A polyline that passes a pixel twice
  counts 2 there.
* Colour: a polyline has one category (the category is part of its identity:
  points of one group with two categories make two polylines, as colour implies
  grouping in ggplot2). With a continuous value, each segment's pixels carry the
  value of its start point (ggplot2's ``geom_path`` colours a segment by its
  first point); ``value_sum / count`` is the mean over the passes.

Performance: at most one sort, of the cheapest kind that is correct (see
:func:`polyline_order`): none when every polyline already is one run in x
order, a radix sort of the narrow polyline key when x is in order within each
polyline, else a radix sort of (key, x). Then blocks of :data:`BLOCK` sorted
points: pixels, segment steps, the few cut segments clipped, inner pixels of
short segments emitted by a loop over k and of long ones expanded with
``np.repeat``/``cumsum``, all counted with ``np.add.at``. The work is
O(N + Σ segment lengths in pixels).

datashader's ``Canvas.line`` follows the same path rule but counts a vertex
twice when the next point falls into the same pixel (its zero-length segments
add their pixel again), which dense lines do constantly, so it is not a
backend here: the grids would differ.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

from ggrs.aggregate.binning import AxisTable
from ggrs.aggregate.canvas import Canvas
from ggrs.aggregate.grids import Grids
from ggrs.aggregate.points import check_codes, init_columns
from ggrs.errors import BackendUnavailable, DataError, UsageError

# Points per block: the dozen int64/float64 temporaries of a block stay in the
# L2 cache, and the ~80 numpy calls per block cost < 10 % at this size.
BLOCK = 1 << 16

# Interior pixel steps expanded at once: bounds the temporaries (8 arrays of
# 8 bytes per step, 64 MiB) when segments are long.
EXPAND = 1 << 20

_ONE = np.uint32(1)


@dataclass(frozen=True, eq=False)
class Lines:
    """Columns of one layer of polylines, all of the same length N.

    One polyline per (panel, group, category); its points may come in any order
    and are drawn in order of x.

    Attributes:
        x: float32 or float64 positions in data units of the point's panel.
        y: like ``x``.
        panel: integer panel codes 0..P-1, or None when there is one panel.
        group: non-negative integer polyline codes within a panel, or None for
            one polyline per panel (and category).
        category: integer category codes 0..K-1 for categorical colour, or None.
        value: float values for continuous colour (a segment carries its start
            point's value), or None.
        n_categories: K, the number of category levels (unused levels included).
            0 means "max(category) + 1"; ignored when ``category`` is None.
    """

    x: np.ndarray
    y: np.ndarray
    panel: np.ndarray | None = None
    group: np.ndarray | None = None
    category: np.ndarray | None = None
    value: np.ndarray | None = None
    n_categories: int = 0

    def __post_init__(self) -> None:
        init_columns(self, "lines", ("x", "y"), ("panel", "group", "category"))

    def __len__(self) -> int:
        return len(self.x)


def _check_codes(lines: Lines, canvas: Canvas) -> int:
    """Validate the code columns against the canvas; return G = max(group) + 1."""
    check_codes(lines, canvas, "lines")
    if lines.group is None or len(lines.group) == 0:
        return 1
    lo, hi = int(lines.group.min()), int(lines.group.max())
    if lo < 0:
        raise DataError(
            f"group codes span {lo}..{hi} but must be non-negative (factorise the group "
            "column first, e.g. with np.unique(..., return_inverse=True))"
        )
    return hi + 1


def polyline_keys(lines: Lines, n_panels: int, n_groups: int) -> np.ndarray | None:
    """Polyline identity per point, ((panel · K + category) · G + group), narrow dtype.

    Returns None when every point belongs to one polyline. The key of a point
    also gives its grid layer: ``key // G`` (see :mod:`ggrs.aggregate.binning`).

    Raises:
        DataError: more polylines than an int64 key can number.
    """
    k = max(lines.n_categories, 1)
    n_keys = n_panels * k * n_groups
    if n_keys >= 1 << 63:
        raise DataError(
            f"{n_panels} panels × {k} categories × {n_groups} groups are too many polylines "
            "to number; factorise the group column (np.unique(..., return_inverse=True))"
        )
    if n_keys == 1:
        return None
    dtype = np.uint16 if n_keys <= 1 << 16 else np.uint32 if n_keys <= 1 << 32 else np.int64
    key = np.zeros(len(lines), dtype=dtype)
    if lines.panel is not None and n_panels > 1:
        np.copyto(key, lines.panel, casting="unsafe")
    if lines.category is not None:
        np.multiply(key, dtype(k), out=key)
        np.add(key, lines.category, out=key, casting="unsafe")
    if lines.group is not None and n_groups > 1:
        np.multiply(key, dtype(n_groups), out=key)
        np.add(key, lines.group, out=key, casting="unsafe")
    return key


# Keys below this count are tallied with np.bincount to see whether each
# polyline is one contiguous run (the tally costs about one pass over the keys).
_TALLY_KEYS = 1 << 20


def _in_order(key: np.ndarray | None, x: np.ndarray) -> bool:
    """True when every polyline is one contiguous run of points in x order (NaN last).

    The polylines themselves may come in any order: their pixels add up the same.
    """
    if len(x) < 2:
        return True
    # x[i] ≤ x[i+1], or x[i+1] is NaN (NaN sorts last, after any x[i]).
    ok = x[:-1] <= x[1:]
    ok |= np.isnan(x[1:])
    if key is None:
        return bool(ok.all())
    change = key[:-1] != key[1:]
    if not (ok | change).all():
        return False
    runs = int(np.count_nonzero(change)) + 1
    if key.dtype != np.int64 and int(key.max()) < _TALLY_KEYS:
        return runs == int(np.count_nonzero(np.bincount(key)))
    return bool((key[:-1] <= key[1:]).all())


def _digits(values: np.ndarray) -> list[np.ndarray] | None:
    """16-bit digits, least significant first, whose unsigned order is numpy's sort order.

    Integers are split as they are (non-negative codes). Floats are first made
    canonical where numpy's sort sees equal values: −0 becomes +0 (x + 0) and
    every NaN the positive quiet NaN (numpy puts NaN last); then the sign bit is
    flipped for positives and all bits for negatives, the usual order-preserving
    map of IEEE 754 onto unsigned integers. Returns None for a dtype without such
    a map here (int64 keys): the caller falls back to a comparison sort.
    """
    if values.dtype == np.uint16:
        return [values]
    if values.dtype == np.uint32:
        return [(values & 0xFFFF).astype(np.uint16), (values >> 16).astype(np.uint16)]
    if values.dtype not in (np.float32, np.float64):
        return None
    canon = values + values.dtype.type(0)
    canon[np.isnan(canon)] = np.nan
    utype = np.uint32 if values.dtype == np.float32 else np.uint64
    bits = canon.view(utype)
    top = utype(1) << utype(8 * values.dtype.itemsize - 1)
    u = np.where(bits >= top, ~bits, bits | top)
    return [
        (u >> utype(shift)).astype(np.uint16) for shift in range(0, 8 * values.dtype.itemsize, 16)
    ]


def _radix_order(key: np.ndarray | None, x: np.ndarray) -> np.ndarray | None:
    """Stable order by (key, x) from a lexsort of 16-bit digits (:func:`_digits`).

    np.lexsort of 16-bit integer keys runs a radix sort per key: 3 (float32 x,
    ≤ 16-bit key) to 6 linear passes, about 2.5× faster than np.lexsort((x, key))
    with its comparison sort of floats; the result is the same. Returns None when
    the key has no 16-bit digits (int64).
    """
    digits = _digits(x)
    if key is not None:
        key_digits = _digits(key)
        if key_digits is None:
            return None
        digits += key_digits
    return np.lexsort(digits)


def polyline_order(key: np.ndarray | None, x: np.ndarray) -> np.ndarray | None:
    """Indices that put each polyline's points together in x order; None if they are.

    The order is stable: equal x keep their input order. When a sort is needed
    it is the one by (key, x). Cheapest first: an O(N) check whether every
    polyline already is one run in x order (:func:`_in_order`); else a
    stable sort of the narrow integer key alone (a radix sort for ≤ 16-bit keys),
    kept when x is then in order within every polyline (series that arrive in
    chunks, each chunk in x order); else a radix sort on (key, x)
    (:func:`_radix_order`), or ``np.lexsort`` for int64 keys.
    """
    return _order(key, x)[0]


def _order(
    key: np.ndarray | None, x: np.ndarray
) -> tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None]:
    """:func:`polyline_order`, plus x and the key in that order when it is the key sort."""
    if _in_order(key, x):
        return None, None, None
    # The key sort alone suffices only if x is in order within every polyline
    # in input order; a prefix that is not rules it out without the full sort.
    head = slice(0, min(len(x), BLOCK))
    if key is not None and _in_order(*_by_key(key[head], x[head])[1:]):
        by_key, ks, xs = _by_key(key, x)
        if _in_order(ks, xs):
            return by_key, xs, ks
    order = _radix_order(key, x)
    return (np.lexsort((x, key)) if order is None else order), None, None


def _by_key(key: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The stable order by key alone, and key and x in that order."""
    order = np.argsort(key, kind="stable")
    return order, _sorted_key(key, order), x[order]


def _sorted_key(key: np.ndarray, order: np.ndarray) -> np.ndarray:
    """``key[order]`` for an order sorted by key.

    Rebuilt from the key counts when they are few: sequential writes instead of
    a random gather.
    """
    if key.dtype == np.int64 or int(key.max()) >= _TALLY_KEYS:
        return key[order]
    counts = np.bincount(key)
    return np.repeat(np.arange(len(counts), dtype=key.dtype), counts)


def _sorted_columns(
    lines: Lines, key: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    """x, y, value and key in polyline order: the columns themselves when in order.

    Sorted copies are gathered once, whole (8–16 bytes a point for x and y),
    rather than block by block: the gather of x done by the order check is
    reused and the key is rebuilt instead of gathered.
    """
    order, xs, ks = _order(key, lines.x)
    if order is None:
        return lines.x, lines.y, lines.value, key
    x = lines.x[order] if xs is None else xs
    if key is not None and ks is None:
        ks = _sorted_key(key, order)
    value = None if lines.value is None else lines.value[order]
    return x, lines.y[order], value, ks


class _Plan:
    """Per-panel axis tables and grid geometry of one aggregation."""

    def __init__(self, lines: Lines, canvas: Canvas, n_groups: int) -> None:
        self.width = canvas.width
        self.height = canvas.height
        self.n_panels = canvas.n_panels
        self.n_categories = lines.n_categories
        self.n_layers = self.n_panels * max(self.n_categories, 1)
        self.n_groups = n_groups
        self.x = AxisTable(canvas.x_ranges, canvas.width)
        self.y = AxisTable(canvas.y_ranges, canvas.height)
        k = max(self.n_categories, 1)
        # Panel of each layer, to look up per-panel ranges.
        self.layer_panel = np.arange(self.n_layers, dtype=np.intp) // k
        # Flat index of the bottom-left pixel of each layer (row 0 is the top).
        hw = self.height * self.width
        self.flat_base = np.arange(self.n_layers, dtype=np.int64) * hw + (self.height - 1) * (
            self.width
        )

    def grids(self, count: np.ndarray, value_sum: np.ndarray | None, dropped: int) -> Grids:
        """Wrap the flat (layer, row, column) grids as :class:`Grids`."""
        return Grids.from_flat(
            count, value_sum, dropped, n_panels=self.n_panels, n_categories=self.n_categories,
            height=self.height, width=self.width,
        )  # fmt: skip


def _axis_table(table: AxisTable, panel: np.ndarray | None, name: str) -> np.ndarray:
    """Per-point ``name`` of the axis (lo, hi, scale, translate), or its shared scalar."""
    values = getattr(table, name)
    if table.shared or panel is None:
        return values[0]
    return np.take(values, panel, mode="clip")


def _pixel(v: np.ndarray, table: AxisTable, panel: np.ndarray | None) -> np.ndarray:
    """min(floor(v · s + t), n − 1) as int64 for in-range v (binning's arithmetic).

    For lo ≤ v, v · s + t ≥ 0 (see :mod:`~ggrs.aggregate.binning`), so the cast's
    truncation is the floor; out-of-range and non-finite v give unused garbage.
    float32 v are promoted by the float64 scale, so both dtypes round alike.
    """
    u = v * _axis_table(table, panel, "scale")
    u += _axis_table(table, panel, "translate")
    np.minimum(u, table.n - 1, out=u)
    return u.astype(np.int64)


def _inside(v: np.ndarray, table: AxisTable, panel: np.ndarray | None) -> np.ndarray | None:
    """lo ≤ v ≤ hi per point (False for NaN and ±inf), or None when all are.

    With a shared range, the block's min and max decide for all (a NaN makes
    both NaN and fails the test), which spares three passes in the usual case.
    """
    if table.shared or panel is None:
        lo, hi = table.lo[0], table.hi[0]
        if v.min() >= lo and v.max() <= hi:
            return None
        ok = v >= lo
        ok &= v <= hi
        return ok
    ok = v >= np.take(table.lo, panel, mode="clip")
    ok &= v <= np.take(table.hi, panel, mode="clip")
    return ok


def _clip(
    x0: np.ndarray,
    y0: np.ndarray,
    x1: np.ndarray,
    y1: np.ndarray,
    panel: np.ndarray | None,
    plan: _Plan,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Liang–Barsky clip of finite float64 segments to their panels, in data space.

    Returns the pixel columns and rows of both clipped ends (int64) and whether
    each segment has a part inside its panel. An end that is not cut keeps its
    exact coordinates; a cut one is clamped onto the range (rounding may put
    ``x0 + t·Δx`` an ulp outside).
    """
    xlo, xhi = _axis_table(plan.x, panel, "lo"), _axis_table(plan.x, panel, "hi")
    ylo, yhi = _axis_table(plan.y, panel, "lo"), _axis_table(plan.y, panel, "hi")
    dx, dy = x1 - x0, y1 - y0
    t0 = np.zeros(len(x0))
    t1 = np.ones(len(x0))
    # Wholly beyond one edge: rejected before any division (as datashader does).
    accept = ~(
        ((x0 < xlo) & (x1 < xlo))
        | ((x0 > xhi) & (x1 > xhi))
        | ((y0 < ylo) & (y1 < ylo))
        | ((y0 > yhi) & (y1 > yhi))
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        for p, q in ((-dx, x0 - xlo), (dx, xhi - x0), (-dy, y0 - ylo), (dy, yhi - y0)):
            r = q / p
            # Entering (p < 0) raises t0, leaving (p > 0) lowers t1; only for an
            # end outside that edge (q < 0 resp. q < p), so ends inside keep
            # t = 0 and t = 1 exactly.
            enter = (p < 0) & (q < 0)
            leave = (p > 0) & (q < p)
            np.maximum(t0, r, out=t0, where=enter)
            np.minimum(t1, r, out=t1, where=leave)
            # (p == 0 with q < 0, parallel and outside, is "wholly beyond" above.)
    accept &= t0 <= t1
    ends = []
    for t, cut, vx, vy in ((t0, t0 > 0, x0, y0), (t1, t1 < 1, x1, y1)):
        cx = np.where(cut, x0 + t * dx, vx)
        cy = np.where(cut, y0 + t * dy, vy)
        # Cut ends may round an ulp outside; ends of rejected segments may lie
        # anywhere (their pixels are unused).
        np.clip(cx, xlo, xhi, out=cx)
        np.clip(cy, ylo, yhi, out=cy)
        ends.append((_pixel(cx, plan.x, panel), _pixel(cy, plan.y, panel)))
    (c0, r0), (c1, r1) = ends
    return c0, r0, c1, r1, accept


# Inner steps 1.._LOOP_K are emitted by a loop over k on the segments long
# enough, longer rests by np.repeat expansion: dense lines are mostly 0–3 pixel
# segments, where the loop needs a third of the passes of an expansion.
_LOOP_K = 3


def _add(count: np.ndarray, flat: np.ndarray, value_sum: np.ndarray | None, w: Any) -> None:
    """Add 1 (and the values ``w``) at the flat bins ``flat``."""
    np.add.at(count, flat, _ONE)
    if value_sum is not None:
        np.add.at(value_sum, flat, w)


def _inner(
    c0: np.ndarray,
    r0: np.ndarray,
    c1: np.ndarray,
    r1: np.ndarray,
    f0: np.ndarray,
    w: np.ndarray | None,
    width: int,
    count: np.ndarray,
    value_sum: np.ndarray | None,
) -> None:
    """Count the inner pixels (steps 1..n−1) of segments of n ≥ 2 steps.

    Step k moves the major axis by k and the minor one by Bresenham's offset
    round(k · minor / major), ties away from the start when the major axis runs
    to higher indices and towards it otherwise: floor((2k · minor + major − d) /
    (2 · major)) with d = 1 for the negative direction. In flat bins (rows
    counted downwards) that is f0 + A · k + B · offset.
    """
    dc, dr = c1 - c0, r1 - r0
    adc, adr = np.abs(dc), np.abs(dr)
    x_major = adc >= adr
    major = np.where(x_major, adc, adr)
    two_minor = 2 * np.where(x_major, adr, adc)
    cst = major - (np.where(x_major, dc, dr) < 0)
    two_major = 2 * major
    sc, down = np.sign(dc), -width * np.sign(dr)
    a_k = np.where(x_major, sc, down)
    b_off = np.where(x_major, down, sc)
    cols = [major, two_minor, cst, two_major, a_k, b_off, f0]
    if w is not None:
        cols.append(w)
    k = 1
    while True:
        # The segments with more than k steps, narrowed after every step.
        major, two_minor, cst, two_major, a_k, b_off, f0 = cols[:7]
        wk = cols[7] if w is not None else None
        if k > _LOOP_K:
            break
        off = k * two_minor
        off += cst
        off //= two_major
        off *= b_off
        off += f0
        off += k * a_k
        _add(count, off, value_sum, wk)
        k += 1
        keep = np.flatnonzero(major > k)
        if len(keep) == 0:
            return
        cols = [c[keep] for c in cols]
    # Steps k..n−1 of the longer segments, in batches of about EXPAND steps.
    # Per-segment constants are spread with np.repeat (sequential writes), not
    # gathered by segment index.
    m = major - k
    total = np.cumsum(m)
    cuts = np.searchsorted(total, np.arange(EXPAND, int(total[-1]), EXPAND), side="left")
    bounds = [0, *np.minimum(cuts + 1, len(m)).tolist(), len(m)]
    for lo, hi in itertools.pairwise(bounds):
        if lo == hi:
            continue
        sl, mb = slice(lo, hi), m[lo:hi]
        kk = np.arange(int(mb.sum()), dtype=np.int64)
        kk -= np.repeat(np.cumsum(mb) - mb - k, mb)
        off = kk * np.repeat(two_minor[sl], mb)
        off += np.repeat(cst[sl], mb)
        off //= np.repeat(two_major[sl], mb)
        off *= np.repeat(b_off[sl], mb)
        off += np.repeat(f0[sl], mb)
        kk *= np.repeat(a_k[sl], mb)
        off += kk
        _add(count, off, value_sum, None if wk is None else np.repeat(wk[sl], mb))


def _rasterise(
    xs: np.ndarray,
    ys: np.ndarray,
    values: np.ndarray | None,
    key: np.ndarray | None,
    plan: _Plan,
) -> Grids:
    """Count the pixel paths of all polylines, block by block over the sorted points."""
    n = len(xs)
    w = plan.width
    count = np.zeros(plan.n_layers * plan.height * w, dtype=np.uint32)
    value_sum = None if values is None else np.zeros(len(count))
    dropped = 0
    per_panel = plan.n_panels > 1 and not (plan.x.shared and plan.y.shared)
    # NaN and ±inf points yield garbage pixels (cast of NaN) that are never used.
    with np.errstate(invalid="ignore", over="ignore"):
        for a in range(0, n, BLOCK):
            b = min(n, a + BLOCK)
            # Segments start at points a..b−1; whether the polyline continues
            # after the last of them needs point b + 1.
            e = min(n, b + 2)
            x, y = xs[a:e], ys[a:e]
            v = None if values is None else values[a:e]
            k = None if key is None else key[a:e]
            layer = None
            if plan.n_layers > 1:
                layer = (k // plan.n_groups if plan.n_groups > 1 else k).astype(np.intp)
            panel = plan.layer_panel[layer] if per_panel else None
            in_x = _inside(x, plan.x, panel)
            in_y = _inside(y, plan.y, panel)
            fin = inside = None
            if in_x is not None or in_y is not None or (v is not None and not np.isfinite(v).all()):
                fin = np.isfinite(x)
                fin &= np.isfinite(y)
                if v is not None:
                    fin &= np.isfinite(v)
                dropped += (b - a) - int(np.count_nonzero(fin[: b - a]))
                inside = fin.copy()
                for ok in (in_x, in_y):
                    if ok is not None:
                        inside &= ok
            col = _pixel(x, plan.x, panel)
            row = _pixel(y, plan.y, panel)
            flat = row * -w
            flat += col
            flat += plan.flat_base[0] if layer is None else plan.flat_base[layer]
            block = _Block(x, y, v, k, fin, inside, col, row, flat, layer)
            _segments(block, b - a, plan, count, value_sum)
    return plan.grids(count, value_sum, dropped)


@dataclass
class _Block:
    """The sorted points of one block window, with their pixels.

    ``fin`` (finite) and ``inside`` (in the panel) are None when every point is.
    """

    x: np.ndarray
    y: np.ndarray
    v: np.ndarray | None
    key: np.ndarray | None
    fin: np.ndarray | None
    inside: np.ndarray | None
    col: np.ndarray
    row: np.ndarray
    flat: np.ndarray
    layer: np.ndarray | None


def _segments(
    blk: _Block, n_starts: int, plan: _Plan, count: np.ndarray, value_sum: np.ndarray | None
) -> None:
    """Add the pixels of the segments starting at the first ``n_starts`` window points."""
    n_seg = len(blk.x) - 1
    s = min(n_starts, n_seg)
    if s <= 0:
        return
    # exists: both ends finite, one polyline; None when all segments exist.
    exists = None
    if blk.key is not None:
        exists = blk.key[:-1] == blk.key[1:]
    if blk.fin is not None:
        both = blk.fin[:-1] & blk.fin[1:]
        exists = both if exists is None else exists & both
    # cont: the polyline continues from the end vertex (the next segment exists
    # and starts inside the panel), which then counts that pixel as its start.
    cont = np.ones(s, dtype=bool) if exists is None else np.zeros(s, dtype=bool)
    if exists is not None:
        nxt = exists[1 : s + 1]
        cont[: len(nxt)] = nxt
    if s == n_seg:
        cont[-1] = False
    if blk.inside is not None:
        cont &= blk.inside[1 : s + 1]
    draw = None if exists is None else exists[:s]
    c0, r0, f0 = blk.col[:s], blk.row[:s], blk.flat[:s]
    c1, r1, f1 = blk.col[1 : s + 1], blk.row[1 : s + 1], blk.flat[1 : s + 1]
    if blk.inside is not None:
        slow = ~(blk.inside[:s] & blk.inside[1 : s + 1])
        if draw is not None:
            slow &= draw
        i = np.flatnonzero(slow)
        if len(i):
            c0, r0, f0, c1, r1, f1 = (a.copy() for a in (c0, r0, f0, c1, r1, f1))
            draw = np.ones(s, dtype=bool) if draw is None else draw.copy()
            panel = None if blk.layer is None else plan.layer_panel[blk.layer[i]]
            # float64 before any arithmetic: float32 differences would round otherwise.
            x0, x1 = blk.x[i].astype(np.float64), blk.x[i + 1].astype(np.float64)
            y0, y1 = blk.y[i].astype(np.float64), blk.y[i + 1].astype(np.float64)
            cc0, rr0, cc1, rr1, accept = _clip(x0, y0, x1, y1, panel, plan)
            c0[i], r0[i], c1[i], r1[i] = cc0, rr0, cc1, rr1
            base = plan.flat_base[0 if blk.layer is None else blk.layer[i]]
            f0[i] = base - rr0 * plan.width + cc0
            f1[i] = base - rr1 * plan.width + cc1
            draw[i] = accept
    steps = np.abs(c1 - c0)
    np.maximum(steps, np.abs(r1 - r0), out=steps)
    v = blk.v
    for mask, flat in ((steps >= 1, f0), (~cont, f1)):
        if draw is not None:
            mask &= draw
        j = np.flatnonzero(mask)
        _add(count, flat[j], value_sum, None if v is None else v[j])
    mask = steps >= 2
    if draw is not None:
        mask &= draw
    j = np.flatnonzero(mask)
    if len(j):
        _inner(
            c0[j], r0[j], c1[j], r1[j], f0[j], None if v is None else v[j].astype(np.float64),
            plan.width, count, value_sum,
        )  # fmt: skip


def aggregate_lines(lines: Lines, canvas: Canvas, backend: str = "auto") -> Grids:
    """Rasterise polylines into per-panel count grids (see the module rules).

    Args:
        lines: coordinates plus optional panel, group, category or value columns.
        canvas: panel pixel size and per-panel data ranges.
        backend: "auto" or "numpy" (datashader's ``Canvas.line`` counts a vertex
            twice where consecutive points share a pixel, so it is not offered).

    Returns:
        Grids of passes per pixel (per category when the lines have categories),
        value sums when they carry values, and ``dropped`` = the number of points
        with a non-finite coordinate (or value), which break their polyline.

    Raises:
        UsageError: unknown backend name.
        BackendUnavailable: backend "datashader" (see above).
        DataError: panel, category or group codes outside their ranges.
    """
    if backend == "datashader":
        raise BackendUnavailable(
            "aggregation backend 'datashader' does not draw lines by ggrs's rule (its "
            "Canvas.line counts a vertex twice where consecutive points share a pixel); "
            "use backend='numpy' or 'auto'"
        )
    if backend not in ("auto", "numpy"):
        raise UsageError(f"unknown line aggregation backend {backend!r}; choose auto or numpy")
    n_groups = _check_codes(lines, canvas)
    plan = _Plan(lines, canvas, n_groups)
    key = polyline_keys(lines, plan.n_panels, n_groups)
    return _rasterise(*_sorted_columns(lines, key), plan)


def thicken(grids: Grids, width: float, xp: ModuleType = np) -> Grids:
    """Strokes ``width`` pixels wide from the 1-pixel paths of :func:`aggregate_lines`.

    Shade the result as 1-pixel points: ``shade(thicken(grids, w), colouring,
    point_diameter=1, opacity=α)``, with w = point size × line-width multiplier.

    A stroke of width w covers the pixels of a disk of diameter w (the disk of
    :func:`ggrs.shade.disk_rows`, as points use) around every pixel of its path.
    Summing the disk (:func:`ggrs.shade.spread`, right for points) would count a
    pixel beside a path once per path pixel in its disk, about w times, so a
    translucent line (alpha 1 − (1 − α)ⁿ) would turn nearly opaque. Here:

    * count: the maximum of the path counts over the disk (a grey dilation). A
      single polyline gives exactly 1 on its whole stroke (also where it bends),
      n coincident passes give n; strokes that overlap only beside each other's
      paths count as the denser one. It never exceeds the number of passes whose
      stroke covers the pixel (each pass through a pixel of the disk covers it).
    * value_sum: count × the mean value of the passes in the disk (disk sum of
      value_sum / disk sum of count), so ``value_sum / count`` is that mean.

    With categories each category is thickened on its own; the colour of a
    pixel is then the count-weighted mean of the categories covering it.

    Args:
        grids: line grids, (P, H, W) or (P, K, H, W).
        width: stroke width in pixels, finite and ≥ 1 (1 returns the paths).
        xp: array module of the grids (numpy or cupy).

    Returns:
        New grids: count uint32, value_sum float64 (when present), same dropped.

    Raises:
        UsageError: width not finite or below 1.
    """
    real = isinstance(width, int | float | np.integer | np.floating) and not isinstance(width, bool)
    if not (real and math.isfinite(width) and width >= 1):
        raise UsageError(f"line width must be at least 1 pixel; got {width!r}")
    # Lazy: ggrs.shade imports ggrs.aggregate (via grids), so a top-level import
    # would be circular.
    from ggrs.shade import centred_filter, disk_rows, spread_planes

    rows = disk_rows(width)
    if rows == {0: 0}:
        return grids
    count = xp.asarray(grids.count)
    thick = centred_filter(count, rows, xp, combine=xp.maximum)
    value_sum = None
    if grids.value_sum is not None:
        n, sums = spread_planes([count, xp.asarray(grids.value_sum)], float(width), xp)
        mean = sums / xp.maximum(n.astype(xp.float64), 1.0)
        value_sum = mean * thick
    return Grids(count=thick, value_sum=value_sum, dropped=grids.dropped)
