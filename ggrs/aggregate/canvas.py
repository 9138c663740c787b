"""Where points land: the pixel size of a panel and each panel's data ranges.

A :class:`Canvas` holds no data. Every panel has the same pixel size; each panel
has its own x and y range so facets with free scales aggregate in one pass.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ggrs.errors import UsageError


def _ranges(name: str, ranges: object) -> np.ndarray:
    """Validate ``ranges`` as a (P, 2) float64 array of finite, increasing pairs."""
    arr = np.array(ranges, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr.reshape(1, -1)
    if arr.ndim != 2 or arr.shape[1] != 2 or arr.shape[0] == 0:
        raise UsageError(
            f"canvas {name} must be a (low, high) pair or an array of shape (panels, 2); "
            f"got shape {np.shape(ranges)}"
        )
    bad = ~(np.isfinite(arr).all(axis=1) & (arr[:, 0] < arr[:, 1]))
    if bad.any():
        p = int(np.flatnonzero(bad)[0])
        raise UsageError(
            f"canvas {name}[{p}] = ({float(arr[p, 0])!r}, {float(arr[p, 1])!r}) is not a finite "
            "range with low < high; expand degenerate ranges first (ggrs.scales.expand_range)"
        )
    arr.flags.writeable = False
    return arr


@dataclass(frozen=True, eq=False)
class Canvas:
    """Pixel geometry of the panels and the data range each panel shows.

    Pixel ``i`` of an axis with range (lo, hi) and ``n`` pixels covers
    [lo + i·w, lo + (i + 1)·w) with w = (hi − lo) / n; ``hi`` itself falls into the
    last pixel (see :mod:`ggrs.aggregate.binning` for the exact arithmetic).

    Attributes:
        width: pixels across one panel.
        height: pixels down one panel.
        x_ranges: (P, 2) float64 array of (low, high) per panel. A single pair is
            accepted and repeated for every panel.
        y_ranges: like ``x_ranges``, for y.
    """

    width: int
    height: int
    x_ranges: np.ndarray
    y_ranges: np.ndarray

    def __post_init__(self) -> None:
        for name in ("width", "height"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
                raise UsageError(f"canvas {name} must be a positive integer; got {value!r}")
            object.__setattr__(self, name, int(value))
        xr = _ranges("x_ranges", self.x_ranges)
        yr = _ranges("y_ranges", self.y_ranges)
        if len(xr) != len(yr):
            if len(xr) == 1:
                xr = np.repeat(xr, len(yr), axis=0)
            elif len(yr) == 1:
                yr = np.repeat(yr, len(xr), axis=0)
            else:
                raise UsageError(
                    f"canvas has {len(xr)} x ranges but {len(yr)} y ranges; give one pair per "
                    "panel, or a single pair shared by all panels"
                )
            xr.flags.writeable = False
            yr.flags.writeable = False
        for name, arr, n in (("x_ranges", xr, self.width), ("y_ranges", yr, self.height)):
            with np.errstate(over="ignore", divide="ignore"):
                scale = n / (arr[:, 1] - arr[:, 0])
            bad = ~(np.isfinite(scale) & (scale > 0))
            if bad.any():
                p = int(np.flatnonzero(bad)[0])
                raise UsageError(
                    f"canvas {name}[{p}] = ({float(arr[p, 0])!r}, {float(arr[p, 1])!r}) is too "
                    f"wide or too narrow to map onto {n} pixels in float64"
                )
        object.__setattr__(self, "x_ranges", xr)
        object.__setattr__(self, "y_ranges", yr)

    @property
    def n_panels(self) -> int:
        """Number of panels P."""
        return int(self.x_ranges.shape[0])
