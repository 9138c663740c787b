"""The pixel-index arithmetic every backend shares, so their grids are identical.

Per axis, for a panel with range (lo, hi) and n pixels, in float64 (this is
datashader's own arithmetic, ``Canvas.points`` on a linear axis):

* scale s = n / (hi − lo) and translate t = −lo · s;
* a value v is kept when lo ≤ v ≤ hi (NaN and ±inf never are);
* its pixel is min(floor(v · s + t), n − 1), so ``hi`` falls into the last pixel.

For v ≥ lo, v · s + t ≥ 0 in floating point (rounding is monotonic and
t = −(lo · s) exactly), so floor and datashader's truncation agree. When the
pixel width is a power of two (e.g. range (0, 8) over 8 pixels) the pixel edges
lo + i·w are exact and the result equals ``numpy.histogram2d``; otherwise a value
within an ulp of an inner edge may land in the neighbouring pixel.

The grid row of a point is ``layer · H + (H − 1 − iy)`` (row 0 = top of the
panel), with ``layer = panel · K + category``: panels and categories are stacked
vertically into one tall grid, which lets one pass over the data fill all of them.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ggrs.aggregate.canvas import Canvas
from ggrs.aggregate.grids import Grids
from ggrs.aggregate.points import Points

# Points per numpy block: a handful of float64 temporaries of this length stay in
# the L2 cache, and the Python overhead per block (~20 ufunc calls) stays < 5 %.
BLOCK = 1 << 16

# Points per datashader call (a multiple of BLOCK). Each call costs about 1 ms of
# fixed overhead plus one pass over the grid, so calls must be large; the float32
# columns built for it cost 8 bytes per point (16 MiB here).
OUTER = 1 << 21


class AxisTable:
    """Per-panel range, scale and translate of one axis (one row when all panels share it).

    Attributes:
        n: pixels along the axis.
        shared: True when every panel has the same range (tables have one row).
        lo, hi, scale, translate: per-panel float64 tables.
        u_band: (low, high) of u(hi) = hi · s + t over the panels, widened to
            include n; only points whose u is 0 or inside this band can be
            misjudged by the range test on u (see :meth:`BinPlan._free_axis`).
    """

    def __init__(self, ranges: np.ndarray, n: int) -> None:
        lo = np.ascontiguousarray(ranges[:, 0])
        hi = np.ascontiguousarray(ranges[:, 1])
        self.shared = bool((lo == lo[0]).all() and (hi == hi[0]).all())
        if self.shared:
            lo, hi = lo[:1], hi[:1]
        self.n = n
        self.lo = lo
        self.hi = hi
        # Same operations, in the same order, as datashader's
        # Axis.compute_scale_and_translate, so both backends round identically.
        self.scale = n / (hi - lo)
        self.translate = -lo * self.scale
        u_hi = hi * self.scale + self.translate
        self.u_band = (min(float(u_hi.min()), float(n)), max(float(u_hi.max()), float(n)))

    def scalar(self, name: str) -> np.float64:
        """The shared value of ``name`` ("lo", "hi", "scale", "translate")."""
        return np.float64(getattr(self, name)[0])


class Scratch:
    """Reusable per-block buffers, so the block loop allocates nothing."""

    def __init__(self, size: int) -> None:
        self.col = np.empty(size)
        self.row = np.empty(size)
        self.tmp = np.empty(size)
        self.ok = np.empty(size, dtype=bool)
        self.mask = np.empty(size, dtype=bool)
        self.axis_ok = np.empty(size, dtype=bool)
        self.doubt = np.empty(size, dtype=bool)
        self.codes = np.empty(size, dtype=np.intp)
        self.layer = np.empty(size, dtype=np.intp)
        self.index = np.empty(size, dtype=np.intp)


class BinPlan:
    """Pixel indices of points on a canvas, computed block by block.

    Attributes:
        width, height: panel size in pixels (W, H).
        n_panels: P.
        n_categories: K, or 0 without categories.
        n_layers: P · max(K, 1), the panels (× categories) stacked in the grid.
        n_bins: n_layers · H · W.
        x, y: the two axes' tables.
        block_size: points per numpy block.
        outer: points per datashader call, a multiple of ``block_size`` (the sum grids
            of both backends are accumulated per chunk of this size, so their
            rounding matches).
    """

    def __init__(self, points: Points, canvas: Canvas) -> None:
        self.points = points
        self.width = canvas.width
        self.height = canvas.height
        self.n_panels = canvas.n_panels
        self.n_categories = points.n_categories
        self.n_layers = self.n_panels * max(self.n_categories, 1)
        self.n_bins = self.n_layers * self.height * self.width
        self.x = AxisTable(canvas.x_ranges, canvas.width)
        self.y = AxisTable(canvas.y_ranges, canvas.height)
        # Row of the bottom pixel of each layer: data row iy maps to base − iy.
        self.base = np.arange(self.n_layers, dtype=np.float64) * self.height + (self.height - 1)
        # 1 + flat index of that row's first pixel (element 0 collects dropped points).
        self.flat_base = self.base * self.width + 1
        # Read at call time so tests can shrink them to exercise many blocks.
        self.block_size = BLOCK
        # A datashader call allocates and adds a whole grid, so calls must carry
        # at least as many points as there are bins to keep that cost minor.
        outer = max(OUTER, self.n_bins)
        self.outer = -(-outer // BLOCK) * BLOCK

    def _panel_codes(self, a: int, b: int, s: Scratch) -> np.ndarray | None:
        """Panel codes of block [a, b) as intp (gathers with intp are ~25 % faster)."""
        panel = self.points.panel
        if panel is None or self.n_panels == 1:
            return None
        if panel.dtype == np.intp:
            return panel[a:b]
        codes = s.codes[: b - a]
        np.copyto(codes, panel[a:b], casting="unsafe")
        return codes

    def _layers(self, a: int, b: int, codes: np.ndarray | None, s: Scratch) -> np.ndarray | None:
        """Layer code per point of block [a, b), or None when there is one layer."""
        if self.n_layers == 1:
            return None
        category = self.points.category
        if category is None:
            return codes
        lay = s.layer[: b - a]
        np.copyto(lay, category[a:b], casting="unsafe")
        if codes is not None:
            tmp = s.index[: b - a]
            np.multiply(codes, self.n_categories, out=tmp)
            np.add(lay, tmp, out=lay)
        return lay

    @staticmethod
    def _shared_axis(values: np.ndarray, table: AxisTable, out: np.ndarray, s: Scratch) -> None:
        """Pixels of one axis whose range all panels share; s.axis_ok ← lo ≤ v ≤ hi."""
        n = len(values)
        ok, mask = s.axis_ok[:n], s.mask[:n]
        np.copyto(out, values)
        np.greater_equal(out, table.scalar("lo"), out=ok)
        np.less_equal(out, table.scalar("hi"), out=mask)
        np.logical_and(ok, mask, out=ok)
        np.multiply(out, table.scalar("scale"), out=out)
        np.add(out, table.scalar("translate"), out=out)
        np.floor(out, out=out)
        # Clamp the top edge (u = n) into the last pixel. Only points at or beyond
        # the upper limit need it, so a test beats a full np.minimum (3× cheaper).
        np.greater_equal(out, table.n, out=mask)
        if mask.any():
            out[np.flatnonzero(mask)] = table.n - 1

    @staticmethod
    def _free_axis(
        values: np.ndarray, codes: np.ndarray, table: AxisTable, out: np.ndarray, s: Scratch
    ) -> None:
        """Pixels of one axis with per-panel ranges; s.axis_ok ← lo[p] ≤ v ≤ hi[p].

        The range test runs on u = v · s + t instead of v, which saves two gathers
        per point. u is monotonic in v and u(lo) = 0 exactly, so u > 0 ⇔ v > lo
        except at u = 0, and u < u(hi) ⇒ v < hi, u > u(hi) ⇒ v > hi. Only points
        with u = 0 or u within ``table.u_band`` (a few ulps around n) can be
        misjudged; those few are tested exactly on v (and clamped to n − 1).
        """
        n = len(values)
        ok, mask, doubt, tmp = s.axis_ok[:n], s.mask[:n], s.doubt[:n], s.tmp[:n]
        np.copyto(out, values)
        # mode="clip" skips the bounds check (codes were validated up front) and
        # is about 1.5× faster than the default.
        np.take(table.scale, codes, out=tmp, mode="clip")
        np.multiply(out, tmp, out=out)
        np.take(table.translate, codes, out=tmp, mode="clip")
        np.add(out, tmp, out=out)
        band_lo, band_hi = table.u_band
        np.greater_equal(out, 0.0, out=ok)
        np.less_equal(out, band_hi, out=mask)
        np.logical_and(ok, mask, out=ok)
        np.greater_equal(out, band_lo, out=doubt)
        np.equal(out, 0.0, out=mask)
        np.logical_or(doubt, mask, out=doubt)
        np.logical_and(doubt, ok, out=doubt)
        np.floor(out, out=out)
        if doubt.any():
            i = np.flatnonzero(doubt)
            v = values[i].astype(np.float64)
            p = codes[i]
            ok[i] = (v >= table.lo[p]) & (v <= table.hi[p])
            out[i] = np.minimum(out[i], table.n - 1)

    def _axis(
        self,
        values: np.ndarray,
        codes: np.ndarray | None,
        table: AxisTable,
        out: np.ndarray,
        s: Scratch,
        first: bool,
    ) -> None:
        """Floor pixel indices of ``values`` into ``out``; the range test into s.ok."""
        n = len(values)
        if codes is None or table.shared:
            self._shared_axis(values, table, out, s)
        else:
            self._free_axis(values, codes, table, out, s)
        if first:
            np.copyto(s.ok[:n], s.axis_ok[:n])
        else:
            np.logical_and(s.ok[:n], s.axis_ok[:n], out=s.ok[:n])

    def _pixels(self, a: int, b: int, s: Scratch, columns: bool) -> np.ndarray | None:
        """Pixel iy into s.row, ix into s.col (if ``columns``), kept-flags into s.ok.

        Returns the intp panel codes of the block (None for one panel).
        """
        pts = self.points
        n = b - a
        codes = self._panel_codes(a, b, s)
        self._axis(pts.y[a:b], codes, self.y, s.row[:n], s, first=True)
        if columns:
            self._axis(pts.x[a:b], codes, self.x, s.col[:n], s, first=False)
        if pts.value is not None:
            mask = s.mask[:n]
            np.isfinite(pts.value[a:b], out=mask)
            np.logical_and(s.ok[:n], mask, out=s.ok[:n])
        return codes

    def block_rows(self, a: int, b: int, s: Scratch, *, columns: bool = True) -> np.ndarray | None:
        """Grid rows (and pixel columns) of the points in [a, b), for datashader.

        Afterwards ``s.row[:n]`` holds the global grid row, and ``s.ok[:n]``
        whether the point is kept (in range on the tested axes, finite value);
        rows and columns of dropped points are meaningless.

        Args:
            a, b: block bounds, b − a ≤ the scratch size.
            s: scratch buffers.
            columns: also compute pixel columns; False leaves x to datashader, whose
                own test and arithmetic on the raw x are the same as ours.

        Returns:
            ``s.col[:n]`` with the pixel columns, or None when ``columns`` is False.
        """
        n = b - a
        codes = self._pixels(a, b, s, columns)
        row = s.row[:n]
        self._from_base(self.base, row, self._layers(a, b, codes, s), s)
        return s.col[:n] if columns else None

    @staticmethod
    def _from_base(base: np.ndarray, row: np.ndarray, layer: np.ndarray | None, s: Scratch) -> None:
        """``row`` ← base[layer] − row in place (row 0 is the top of each layer)."""
        if layer is None:
            np.subtract(base[0], row, out=row)
        else:
            tmp = s.tmp[: len(row)]
            np.take(base, layer, out=tmp, mode="clip")
            np.subtract(tmp, row, out=row)

    def block_flat(self, a: int, b: int, s: Scratch) -> np.ndarray:
        """Flat bins of the points in [a, b), for numpy.

        Returns:
            ``s.index[:n]``: 1 + (row · W + column) for kept points and 0 for
            dropped ones, so a grid of ``n_bins + 1`` counts keeps its dropped
            points in element 0 (a multiply by the kept-flag is ~5× cheaper than a
            masked store).
        """
        n = b - a
        codes = self._pixels(a, b, s, columns=True)
        row, col, idx = s.row[:n], s.col[:n], s.index[:n]
        np.multiply(row, self.width, out=row)
        self._from_base(self.flat_base, row, self._layers(a, b, codes, s), s)
        np.add(row, col, out=row)
        # Dropped points may hold NaN or ±inf here; their garbage integers are
        # zeroed by the multiply (the caller ignores the invalid-cast flag).
        np.copyto(idx, row, casting="unsafe")
        np.multiply(idx, s.ok[:n], out=idx)
        return idx

    def axis_tables(self) -> np.ndarray:
        """(8, P) float64 for the compiled kernels: x lo, hi, scale, translate, then
        y's, one column per panel (a shared axis repeated)."""
        x, y = self.x, self.y
        rows = [x.lo, x.hi, x.scale, x.translate, y.lo, y.hi, y.scale, y.translate]
        return np.ascontiguousarray(np.stack([np.broadcast_to(r, (self.n_panels,)) for r in rows]))

    def summed(self, n: int, add: Callable[[int, int, np.ndarray, np.ndarray], None]) -> Grids:
        """Counts and value sums of ``n`` points, the sums added per chunk of
        :attr:`outer` points into a partial grid and the partials summed in point
        order: the association of additions of every backend, so their sums agree
        bit for bit.

        Args:
            n: the number of points.
            add: ``add(start, stop, count, sums)`` adds the points [start, stop)
                to the flat grids (entry 0: dropped points).
        """
        count = np.zeros(self.n_bins + 1, dtype=np.uint32)
        value_sum = np.zeros(self.n_bins + 1)
        partial = np.empty(self.n_bins + 1)
        # Entry 0 (dropped points) may add inf to -inf, and kept sums may overflow:
        # as in the numpy backend, those are results, not warnings.
        with np.errstate(over="ignore", invalid="ignore"):
            for c0 in range(0, n, self.outer):
                partial[:] = 0.0
                add(c0, min(n, c0 + self.outer), count, partial)
                np.add(value_sum, partial, out=value_sum)
        return self.grids(count[1:], value_sum[1:], int(count[0]))

    def grids(self, count: np.ndarray, value_sum: np.ndarray | None, dropped: int) -> Grids:
        """Wrap flat (layer, row, column) grids of ``n_bins`` values as :class:`Grids`."""
        return Grids.from_flat(
            count, value_sum, dropped, n_panels=self.n_panels, n_categories=self.n_categories,
            height=self.height, width=self.width,
        )  # fmt: skip
