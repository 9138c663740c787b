"""Continuous position scales: training ranges, expansion, breaks and labels (pure numbers).

The defaults follow ggplot2: limits are the data range expanded by 5 % on each
side, major breaks come from the extended Wilkinson search (Talbot, Lin and
Hanrahan, "An Extension of Wilkinson's Algorithm for Positioning Tick Labels on
Axes", 2010) with the same step set and weights as ggplot2, minor breaks sit
half-way between majors, and labels share one fixed-point format.

Transforms (log, asinh, logicle) plug in through :class:`Transform`: the
aggregation and the breaks live in transformed space, and the transform turns
break positions into labels. Only the identity exists today.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from ggrs.compose.views import AxisView
from ggrs.errors import DataError, UsageError

# Step multipliers, most to least preferred, and the weights of simplicity,
# coverage, density and legibility: the ggplot2 (scales::extended_breaks) choice.
_Q = (1.0, 5.0, 2.0, 2.5, 4.0, 3.0)
_WEIGHTS = (0.25, 0.2, 0.5, 0.05)
_EPS = 1e-10

# Chunk length for passes that need a temporary mask (finite_range).
_CHUNK = 1 << 20


# --- training -------------------------------------------------------------------------


def finite_range(values: np.ndarray, column: str) -> tuple[float, float]:
    """Smallest and largest finite value of a column; NaN and ±inf are ignored.

    Args:
        values: a numeric array.
        column: the column's name, for the error message.

    Returns:
        (low, high) as floats.

    Raises:
        DataError: the column is empty or has no finite value.
    """
    arr = np.asarray(values).reshape(-1)
    if arr.size:
        # Fast path: one min and one max pass; NaN or inf show up in the result.
        low, high = arr.min(), arr.max()
        if np.isfinite(low) and np.isfinite(high):
            return float(low), float(high)
        low, high = math.inf, -math.inf
        for start in range(0, arr.size, _CHUNK):
            chunk = arr[start : start + _CHUNK]
            ok = np.isfinite(chunk)
            if ok.any():
                low = min(low, float(chunk.min(where=ok, initial=math.inf)))
                high = max(high, float(chunk.max(where=ok, initial=-math.inf)))
        if low <= high:
            return low, high
    raise DataError(
        f"column {column!r} has no finite values ({arr.size} rows, all NaN, infinite or "
        "missing); map a numeric column with data to this axis"
    )


def expand_range(
    low: float, high: float, mult: float = 0.05, add: float = 0.0
) -> tuple[float, float]:
    """Widen (low, high) by ``mult`` × its width plus ``add`` on each side (ggplot2 default).

    A zero-width range (low == high, up to rounding) cannot be expanded
    multiplicatively; it becomes value ± 0.5 when the value is 0 and value ± 5 %
    of |value| otherwise, and is not expanded further.

    Args:
        low, high: finite data range, low ≤ high.
        mult: multiplicative expansion per side.
        add: additive expansion per side, in data units.

    Returns:
        The expanded (low, high).

    Raises:
        UsageError: a bound is not finite, or low > high.
    """
    low, high = float(low), float(high)
    if not (math.isfinite(low) and math.isfinite(high)) or low > high:
        raise UsageError(f"cannot expand the range ({low!r}, {high!r}): need finite low ≤ high")
    if _zero_width(low, high):
        centre = (low + high) / 2
        half = 0.5 if centre == 0 else 0.05 * abs(centre)
        return centre - half, centre + half
    span = high - low
    return low - span * mult - add, high + span * mult + add


def _zero_width(low: float, high: float) -> bool:
    """True when the range is empty up to float rounding (like scales::zero_range)."""
    scale = max(abs(low), abs(high))
    return high - low <= 1000 * np.finfo(np.float64).eps * scale


# --- breaks ---------------------------------------------------------------------------


def _simplicity(i: int, j: int, lmin: float, lmax: float, lstep: float) -> float:
    # i: index of q in _Q; j: skip factor. Labelings that include zero score +1.
    rem = lmin % lstep
    has_zero = (rem < _EPS or lstep - rem < _EPS) and lmin <= 0 <= lmax
    return 1 - i / (len(_Q) - 1) - j + (1 if has_zero else 0)


def _coverage(dmin: float, dmax: float, lmin: float, lmax: float) -> float:
    span = dmax - dmin
    return 1 - 0.5 * ((dmax - lmax) ** 2 + (dmin - lmin) ** 2) / (0.1 * span) ** 2


def _coverage_max(dmin: float, dmax: float, span: float) -> float:
    data_span = dmax - dmin
    if span > data_span:
        half = (span - data_span) / 2
        return 1 - half**2 / (0.1 * data_span) ** 2
    return 1.0


def _density(k: int, m: int, dmin: float, dmax: float, lmin: float, lmax: float) -> float:
    r = (k - 1) / (lmax - lmin)
    rt = (m - 1) / (max(lmax, dmax) - min(dmin, lmin))
    return 2 - max(r / rt, rt / r)


def _density_max(k: int, m: int) -> float:
    return 2 - (k - 1) / (m - 1) if k >= m else 1.0


def _extended(dmin: float, dmax: float, m: int) -> tuple[int, int, int, int, int]:
    """Best labeling as integers: (first, count, stride, q index, exponent).

    The labels are (first + i · stride) · Q[q] · 10**exponent for i < count, so
    they can be built without accumulating rounding error.
    """
    w_s, w_c, w_d, w_l = _WEIGHTS
    best_score = -2.0
    best: tuple[int, int, int, int, int] | None = None
    j = 1
    while True:
        for i, q in enumerate(_Q):
            sm = 1 - i / (len(_Q) - 1) - j + 1
            if best is not None and w_s * sm + w_c + w_d + w_l < best_score:
                return best
            k = 2
            while True:
                dm = _density_max(k, m)
                if w_s * sm + w_c + w_d * dm + w_l < best_score:
                    break
                delta = (dmax - dmin) / (k + 1) / j / q
                z = math.ceil(math.log10(delta))
                while True:
                    step = j * q * 10.0**z
                    cm = _coverage_max(dmin, dmax, step * (k - 1))
                    if w_s * sm + w_c * cm + w_d * dm + w_l < best_score:
                        break
                    unit = step / j
                    min_start = math.floor(dmax / step) * j - (k - 1) * j
                    max_start = math.ceil(dmin / step) * j
                    for start in range(min_start, max_start + 1):
                        lmin = start * unit
                        lmax = lmin + step * (k - 1)
                        score = (
                            w_s * _simplicity(i, j, lmin, lmax, step)
                            + w_c * _coverage(dmin, dmax, lmin, lmax)
                            + w_d * _density(k, m, dmin, dmax, lmin, lmax)
                            + w_l
                        )
                        if score > best_score:
                            best_score = score
                            best = (start, k, j, i, z)
                    z += 1
                k += 1
        j += 1


def _decimal(multiple: int, i: int, z: int) -> float:
    """multiple · Q[i] · 10**z as the double nearest to that decimal."""
    # 2·Q[i] is an integer for every step in _Q, so the numerator is exact and one
    # correctly rounded division or multiplication gives the nearest double.
    num = multiple * round(2 * _Q[i])
    return num * 10.0**z / 2 if z >= 0 else num / (2 * 10 ** (-z))


def nice_breaks(low: float, high: float, target: int = 5) -> np.ndarray:
    """Major break positions inside [low, high] (extended Wilkinson search).

    Args:
        low, high: the axis limits (usually expanded), low ≤ high.
        target: the number of breaks to aim for.

    Returns:
        Increasing float64 breaks b with low ≤ b ≤ high, each the double nearest
        to a short decimal (0.3, never 0.30000000000000004). A zero-width range
        gives the single value.

    Raises:
        UsageError: non-finite bounds, low > high or target < 2.
    """
    low, high = float(low), float(high)
    if not (math.isfinite(low) and math.isfinite(high)) or low > high:
        raise UsageError(f"cannot place breaks in ({low!r}, {high!r}): need finite low ≤ high")
    if target < 2:
        raise UsageError(f"target number of breaks must be at least 2; got {target!r}")
    if _zero_width(low, high):
        return np.array([low])
    start, count, stride, i, z = _extended(low, high, target)
    values = np.array([_decimal(start + n * stride, i, z) for n in range(count)])
    return values[(values >= low) & (values <= high)]


def _step_decimals(step: float) -> int:
    """Digits after the point needed to write ``step`` exactly (at most 15)."""
    for digits in range(16):
        if abs(round(step, digits) - step) <= 1e-9 * abs(step):
            return digits
    return 15


def minor_breaks(breaks: np.ndarray, limits: tuple[float, float]) -> np.ndarray:
    """Minor breaks half-way between majors, extended to the limits (ggplot2 style).

    Args:
        breaks: increasing, evenly spaced major breaks.
        limits: the axis limits.

    Returns:
        Minor positions inside ``limits``, excluding the majors; empty with fewer
        than two majors.
    """
    b = np.asarray(breaks, dtype=np.float64)
    if len(b) < 2:
        return np.array([])
    low, high = float(min(limits)), float(max(limits))
    step = float(b[1] - b[0])
    # One more major interval on each side whose half-way point may be in range.
    ext = np.concatenate(([b[0] - step], b, [b[-1] + step]))
    mids = (ext[:-1] + ext[1:]) / 2
    mids = np.round(mids, _step_decimals(step / 2))
    return mids[(mids >= low) & (mids <= high)]


# --- labels ---------------------------------------------------------------------------


def format_labels(breaks: np.ndarray) -> tuple[str, ...]:
    """Label texts for breaks: the shortest common format that writes each one exactly.

    Like R's ``format`` (what ggplot2 shows): every label gets the same number of
    decimals ("0.00", "0.25", …), and scientific notation in R's style ("1e+06",
    "2.5e-05") is used when it is narrower than fixed-point, e.g. for millions in
    round steps or tiny values. No thousands separators, never "-0".

    Args:
        breaks: break positions.

    Returns:
        One string per break.
    """
    b = np.asarray(breaks, dtype=np.float64).reshape(-1)
    if b.size == 0:
        return ()
    diffs = np.diff(np.unique(b))
    spacing = float(diffs.min()) if diffs.size else 0.0
    magnitude = float(np.abs(b).max())
    # Each label must give its value to within a millionth of the spacing (or of
    # the value itself when there is only one).
    tol = 1e-6 * (spacing if spacing > 0 else max(magnitude, 1e-300))
    fixed = _shortest(b, "f", tol)
    scientific = _shortest(b, "e", tol)
    width = max(map(len, fixed))
    texts = fixed if width <= max(map(len, scientific)) else scientific
    return tuple(t[1:] if t.startswith("-") and float(t) == 0 else t for t in texts)


def _shortest(values: np.ndarray, style: str, tol: float) -> list[str]:
    """Texts in ``style`` ("f" or "e") with the fewest common digits that meet ``tol``."""
    for digits in range(18):
        texts = [f"{v:.{digits}{style}}" for v in values]
        if all(abs(float(t) - v) <= tol for t, v in zip(texts, values, strict=True)):
            return texts
    return [repr(float(v)) for v in values]


# --- transforms -----------------------------------------------------------------------


class Transform(Protocol):
    """A position transform: data are aggregated, and breaks placed, in transformed space."""

    name: str

    def forward(self, values: np.ndarray) -> np.ndarray:
        """Data values → transformed space."""
        ...

    def inverse(self, values: np.ndarray) -> np.ndarray:
        """Transformed space → data values."""
        ...

    def breaks(self, low: float, high: float, target: int) -> np.ndarray:
        """Major breaks, in transformed space, inside the transformed limits."""
        ...

    def minor_breaks(self, breaks: np.ndarray, limits: tuple[float, float]) -> np.ndarray:
        """Minor breaks, in transformed space."""
        ...

    def labels(self, breaks: np.ndarray) -> tuple[str, ...]:
        """Texts for breaks given in transformed space (data values shown)."""
        ...


@dataclass(frozen=True)
class IdentityTransform:
    """The linear scale: transformed space is data space."""

    name: str = "identity"

    def forward(self, values: np.ndarray) -> np.ndarray:
        """Return ``values`` unchanged."""
        return np.asarray(values, dtype=np.float64)

    def inverse(self, values: np.ndarray) -> np.ndarray:
        """Return ``values`` unchanged."""
        return np.asarray(values, dtype=np.float64)

    def breaks(self, low: float, high: float, target: int) -> np.ndarray:
        """:func:`nice_breaks`."""
        return nice_breaks(low, high, target)

    def minor_breaks(self, breaks: np.ndarray, limits: tuple[float, float]) -> np.ndarray:
        """:func:`minor_breaks`."""
        return minor_breaks(breaks, limits)

    def labels(self, breaks: np.ndarray) -> tuple[str, ...]:
        """:func:`format_labels` of the breaks."""
        return format_labels(self.inverse(breaks))


IDENTITY = IdentityTransform()


def train_axis(
    low: float,
    high: float,
    *,
    expand: bool = True,
    target: int = 5,
    mult: float = 0.05,
    add: float = 0.0,
    transform: Transform = IDENTITY,
) -> AxisView:
    """A continuous axis for a data range: limits, major and minor breaks, labels.

    Args:
        low, high: the finite data range in transformed space (see
            :func:`finite_range`); equal values are widened (:func:`expand_range`).
        expand: widen the limits by ``mult`` and ``add`` (ggplot2's default);
            False keeps the data range as the limits.
        target: the number of major breaks to aim for.
        mult, add: the expansion, see :func:`expand_range`.
        transform: turns break positions into labels.

    Returns:
        The trained :class:`~ggrs.compose.views.AxisView`.

    Raises:
        UsageError: non-finite bounds or low > high.
    """
    # Without expansion a zero-width range still needs widening.
    limits = expand_range(low, high, mult, add) if expand else expand_range(low, high, 0.0, 0.0)
    breaks = transform.breaks(limits[0], limits[1], target)
    return AxisView(
        limits=(float(limits[0]), float(limits[1])),
        breaks=tuple(float(b) for b in breaks),
        labels=transform.labels(breaks),
        minor_breaks=tuple(float(b) for b in transform.minor_breaks(breaks, limits)),
    )
