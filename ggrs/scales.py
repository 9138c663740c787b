"""Continuous position scales: training ranges, expansion, breaks and labels (pure numbers).

The defaults follow ggplot2: limits are the data range expanded by 5 % on each
side, major breaks come from the extended Wilkinson search (Talbot, Lin and
Hanrahan, "An Extension of Wilkinson's Algorithm for Positioning Tick Labels on
Axes", 2010) with the same step set and weights as ggplot2, minor breaks sit
half-way between majors, and labels share one fixed-point format.

Transforms (log, sqrt, asinh, logicle; :func:`parse_transform`) plug in
through :class:`Transform`: the aggregation, the limits and the breaks live in
transformed space, and the transform turns break positions into labels in the
original units (a log10 axis has breaks 0, 1, 2 labelled 1, 10, 100).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
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
    """True when the range is empty up to float rounding (like scales::zero_range),
    or so narrow (below 1e-300) that a tenth of it underflows to subnormals."""
    scale = max(abs(low), abs(high))
    return high - low <= max(1000 * np.finfo(np.float64).eps * scale, 1e-300)


# --- breaks ---------------------------------------------------------------------------


def _simplicity(i: int, j: int, lmin: float, lmax: float, lstep: float) -> float:
    # i: index of q in _Q; j: skip factor. Labelings that include zero score +1.
    rem = lmin % lstep
    has_zero = (rem < _EPS or lstep - rem < _EPS) and lmin <= 0 <= lmax
    return 1 - i / (len(_Q) - 1) - j + (1 if has_zero else 0)


def _coverage(dmin: float, dmax: float, lmin: float, lmax: float) -> float:
    # Ratios before squares: squaring a gap of 1e200 would overflow a Python float.
    unit = 0.1 * (dmax - dmin)
    return 1 - 0.5 * (((dmax - lmax) / unit) ** 2 + ((dmin - lmin) / unit) ** 2)


def _coverage_max(dmin: float, dmax: float, span: float) -> float:
    data_span = dmax - dmin
    if span > data_span:
        half = (span - data_span) / 2
        return 1 - (half / (0.1 * data_span)) ** 2
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


def _label_each(values: np.ndarray) -> tuple[str, ...]:
    """Each value in its own shortest exact text (breaks spanning decades: 0.01, 1, 1e+05)."""
    v = np.asarray(values, dtype=np.float64)
    # A break at 0 comes back from an inverse with rounding noise (2.8e-14): snap it.
    if v.size:
        v = np.where(np.abs(v) <= 1e-9 * float(np.abs(v).max()), 0.0, v)
    return tuple(format_labels(np.array([b]))[0] for b in v)


def _spaced_minor_breaks(breaks: np.ndarray, limits: tuple[float, float]) -> np.ndarray:
    """Minor breaks half-way between (possibly unevenly spaced) majors, in transformed space."""
    b = np.asarray(breaks, dtype=np.float64)
    if len(b) < 2:
        return np.array([])
    low, high = float(min(limits)), float(max(limits))
    # Extend by the neighbouring spacing so the ends of the axis get minors too.
    ext = np.concatenate(([2 * b[0] - b[1]], b, [2 * b[-1] - b[-2]]))
    mids = (ext[:-1] + ext[1:]) / 2
    return mids[(mids >= low) & (mids <= high)]


def _mapped_nice_breaks(transform: Transform, low: float, high: float, target: int) -> np.ndarray:
    """Nice breaks of the original range, placed at their transformed positions."""
    with np.errstate(invalid="ignore", over="ignore"):
        orig = np.sort(transform.inverse(np.array([low, high])))
    if not np.isfinite(orig).all():
        return np.array([])
    nice = nice_breaks(float(orig[0]), float(orig[1]), target)
    with np.errstate(invalid="ignore", divide="ignore"):
        pos = transform.forward(nice)
    return pos[np.isfinite(pos) & (pos >= low) & (pos <= high)]


def _thinned(exponents: np.ndarray, target: int) -> np.ndarray:
    """Every n-th exponent (multiples of n, so 0 stays) when there are too many for one axis."""
    stride = max(1, math.ceil(len(exponents) / (target + 2)))
    return exponents[exponents % stride == 0] if stride > 1 else exponents


class _HalfwayMinorBreaks:
    """Minor breaks half-way between majors in transformed space (curved axes)."""

    def minor_breaks(self, breaks: np.ndarray, limits: tuple[float, float]) -> np.ndarray:
        """Half-way between majors in transformed space."""
        return _spaced_minor_breaks(breaks, limits)


@dataclass(frozen=True)
class LogTransform(_HalfwayMinorBreaks):
    """Logarithm to ``base``; non-positive values have no position (NaN, dropped).

    Breaks are powers of the base in original units: decades (1, 10, 100) for
    base 10 and e (Tercen's "log" is ln, whose users still read decades), with 2
    and 5 between them when the axis spans under three decades; powers of two for
    base 2.
    """

    name: str = "log10"
    base: float = 10.0

    def forward(self, values: np.ndarray) -> np.ndarray:
        """log_base(x); NaN where x ≤ 0."""
        v = np.asarray(values, dtype=np.float64)
        positive = np.where(v > 0, v, np.nan)
        # log10/log2 are exact at powers of the base (log(1000)/log(10) is not).
        log = {10.0: np.log10, 2.0: np.log2}.get(self.base, np.log)
        with np.errstate(invalid="ignore", divide="ignore"):
            out = log(positive)
        return out if self.base in (10.0, 2.0, math.e) else out / math.log(self.base)

    def inverse(self, values: np.ndarray) -> np.ndarray:
        """base ** y."""
        v = np.asarray(values, dtype=np.float64)
        with np.errstate(over="ignore"):
            return np.exp(v) if self.base == math.e else np.power(self.base, v)

    def breaks(self, low: float, high: float, target: int) -> np.ndarray:
        """Powers of the base (or of ten) inside [low, high], given in transformed space."""
        step = 2.0 if self.base == 2.0 else 10.0
        # Work in exponents of `step` so that ln axes get decades too.
        scale = math.log(step) / math.log(self.base)
        k_low, k_high = math.ceil(low / scale - 1e-9), math.floor(high / scale + 1e-9)
        exponents = np.arange(k_low, k_high + 1)
        if step == 10.0 and (high - low) / scale < 3:
            # Short axes: 1-2-5 per decade (one decade below too, for the 2 and 5 of k_low - 1).
            decades = np.arange(k_low - 1, k_high + 1, dtype=np.float64)
            values = (np.array([1.0, 2.0, 5.0])[None, :] * 10.0 ** decades[:, None]).ravel()
            pos = self.forward(values)
            pos = pos[(pos >= low - 1e-12) & (pos <= high + 1e-12)]
        else:
            exponents = _thinned(exponents, target)
            pos = exponents.astype(np.float64) * scale
        if len(pos) < 2:
            # Less than a decade (or a doubling): ordinary nice breaks, mapped.
            return _mapped_nice_breaks(self, low, high, target)
        return np.sort(pos)

    def labels(self, breaks: np.ndarray) -> tuple[str, ...]:
        """Original values, each written on its own (1, 10, 100 or 0.01, 1e+06)."""
        values = self.inverse(breaks)
        # Powers of ten computed as 10**k are exact in decimal; round off exp() noise.
        return _label_each(np.array([float(f"{v:.12g}") for v in values]))


@dataclass(frozen=True)
class SqrtTransform(_HalfwayMinorBreaks):
    """Square root; negative values have no position (NaN, dropped)."""

    name: str = "sqrt"

    def forward(self, values: np.ndarray) -> np.ndarray:
        """sqrt(x); NaN where x < 0."""
        v = np.asarray(values, dtype=np.float64)
        with np.errstate(invalid="ignore"):
            return np.sqrt(np.where(v >= 0, v, np.nan))

    def inverse(self, values: np.ndarray) -> np.ndarray:
        """y², with negative positions (the expansion below 0) mapped to 0."""
        v = np.maximum(np.asarray(values, dtype=np.float64), 0.0)
        return v * v

    def breaks(self, low: float, high: float, target: int) -> np.ndarray:
        """Nice breaks of the original range, at their square roots."""
        return _mapped_nice_breaks(self, low, high, target)

    def labels(self, breaks: np.ndarray) -> tuple[str, ...]:
        """Original values in one common format."""
        return format_labels(np.array([float(f"{v:.12g}") for v in self.inverse(breaks)]))


def _symmetric_breaks(transform: Transform, low: float, high: float, target: int) -> np.ndarray:
    """0 and ±10^k in transformed space for axes that are linear near 0 and log beyond.

    Decades too close to 0 to be told apart (the linear region) are left out, so
    the region around 0 shows only 0. Where the whole axis is nearly linear,
    ordinary nice breaks of the original range are used instead.
    """
    orig = transform.inverse(np.array([low, high]))
    reach = float(np.max(np.abs(orig)))
    if reach == 0 or not math.isfinite(reach):
        return _mapped_nice_breaks(transform, low, high, target)
    # Slope at the far end against the slope at 0: near 1 means a linear axis.
    h = 1e-6 * reach
    slope_0 = float(np.diff(transform.forward(np.array([-h, h])))[0]) / (2 * h)
    slope_end = float(np.diff(transform.forward(np.array([reach - h, reach])))[0]) / h
    if slope_end > 0.5 * slope_0:
        return _mapped_nice_breaks(transform, low, high, target)
    zero = float(transform.forward(np.array([0.0]))[0])
    min_gap = (high - low) / (2 * target)
    exponents = np.arange(-30, math.floor(math.log10(reach)) + 1)
    pos = transform.forward(10.0**exponents) - zero
    exponents = exponents[pos >= min_gap]
    exponents = _thinned(exponents, target)
    decades = 10.0 ** exponents.astype(np.float64)
    values = np.concatenate((-decades[::-1], [0.0], decades))
    out = transform.forward(values)
    out = out[(out >= low) & (out <= high)]
    if len(out) < 4:
        # Few decades on the axis (e.g. asinh over ±10): 5 and 2 between them too,
        # as log axes do, each kept only where it clears the others.
        out = _spaced_outwards(transform, zero, low, high, reach, min_gap)
    if len(out) < 2:
        return _mapped_nice_breaks(transform, low, high, target)
    return out


def _spaced_outwards(
    transform: Transform, zero: float, low: float, high: float, reach: float, min_gap: float
) -> np.ndarray:
    """0 and ±{1, 5, 2}·10^k inside (low, high), each at least `min_gap` from the others.

    Decades are placed first, then fives, then twos, so a decade is never crowded
    out by a smaller neighbour.
    """
    powers = 10.0 ** np.arange(-30, math.floor(math.log10(reach)) + 1)
    kept = np.array([zero])
    for multiple in (1.0, 5.0, 2.0):
        for position in transform.forward(np.concatenate((multiple * powers, -multiple * powers))):
            if low <= position <= high and np.min(np.abs(kept - position)) >= min_gap:
                kept = np.append(kept, position)
    out = np.sort(kept)
    return out[(out >= low) & (out <= high)]


@dataclass(frozen=True)
class AsinhTransform(_HalfwayMinorBreaks):
    """asinh(x / cofactor): linear within about ±cofactor, logarithmic beyond (cytometry)."""

    cofactor: float = 1.0
    name: str = "asinh"

    def forward(self, values: np.ndarray) -> np.ndarray:
        """asinh(x / cofactor)."""
        return np.arcsinh(np.asarray(values, dtype=np.float64) / self.cofactor)

    def inverse(self, values: np.ndarray) -> np.ndarray:
        """cofactor · sinh(y)."""
        with np.errstate(over="ignore"):
            return self.cofactor * np.sinh(np.asarray(values, dtype=np.float64))

    def breaks(self, low: float, high: float, target: int) -> np.ndarray:
        """0 and ±10^k (see :func:`_symmetric_breaks`)."""
        return _symmetric_breaks(self, low, high, target)

    def labels(self, breaks: np.ndarray) -> tuple[str, ...]:
        """Original values, each on its own."""
        return _label_each(np.array([float(f"{v:.10g}") for v in self.inverse(breaks)]))


@dataclass(frozen=True)
class LogicleTransform(_HalfwayMinorBreaks):
    """The logicle scale (Parks, Roederer and Moore 2006; Moore and Parks 2012).

    Data value T sits at 1 and 0 at the scale value x1; the biexponential
    S(y) = a·e^(b·y) − c·e^(−d·y) + f maps scale to data for y ≥ x1, and
    S(y) = −S(2·x1 − y) below, so the scale is odd-symmetric around 0.

    Attributes:
        T: top of the data range (at scale 1).
        W: width of the linear region, in decades.
        M: decades of the whole scale.
        A: extra negative decades.
    """

    T: float = 262144.0
    W: float = 0.5
    M: float = 4.5
    A: float = 0.0
    name: str = "logicle"

    def _constants(self) -> tuple[float, float, float, float, float, float]:
        """(a, b, c, d, f, x1) of the biexponential."""
        return _logicle_constants(self.T, self.W, self.M, self.A)

    def _data(self, y: np.ndarray) -> np.ndarray:
        """S(y) for y ≥ x1 (no symmetry applied)."""
        a, b, c, d, f, _ = self._constants()
        return a * np.exp(b * y) - c * np.exp(-d * y) + f

    def inverse(self, values: np.ndarray) -> np.ndarray:
        """Scale → data: the biexponential, exact and vectorised."""
        _, _, _, _, _, x1 = self._constants()
        y = np.asarray(values, dtype=np.float64)
        below = y < x1
        with np.errstate(over="ignore"):
            out = self._data(np.where(below, 2 * x1 - y, y))
        return np.where(below, -out, out)

    def forward(self, values: np.ndarray) -> np.ndarray:
        """Data → scale: safeguarded Newton on the monotone biexponential, vectorised."""
        a, b, c, d, f, x1 = self._constants()
        x = np.asarray(values, dtype=np.float64)
        mag = np.abs(x)
        shape = mag.shape
        mag = mag.reshape(-1)
        ok = np.isfinite(mag)
        m = np.where(ok, mag, 0.0)
        # For y ≥ x1: a·e^(by) + f − c·e^(−d·x1) ≤ S(y) ≤ a·e^(by) + f, which brackets y.
        with np.errstate(divide="ignore", invalid="ignore"):
            lo = np.log(np.maximum(m - f, 1e-300) / a) / b
            hi = np.log(np.maximum(m - f + c * math.exp(-d * x1), 1e-300) / a) / b
        lo = np.maximum(lo, x1)
        hi = np.maximum(hi, lo)
        y = (lo + hi) / 2
        # Newton converges quadratically: once a step is below 1e-14 the value is at
        # machine precision, so converged values leave the working set.
        active = np.arange(m.size)
        ya, lo_a, hi_a, ma = y, lo, hi, m
        for _ in range(100):
            ey, emy = np.exp(b * ya), np.exp(-d * ya)
            err = a * ey - c * emy + f - ma
            slope = a * b * ey + c * d * emy
            # Keep the bracket around the root, so a wild Newton step falls back to bisection.
            hi_a = np.where(err > 0, ya, hi_a)
            lo_a = np.where(err <= 0, ya, lo_a)
            step = ya - err / slope
            new = np.where((step > lo_a) & (step < hi_a), step, (lo_a + hi_a) / 2)
            done = np.abs(new - ya) <= 1e-14 * np.maximum(1.0, np.abs(ya))
            done |= hi_a - lo_a <= 1e-15 * np.maximum(1.0, np.abs(ya))
            y[active] = new
            if done.all():
                break
            keep = ~done
            active, ya, lo_a, hi_a, ma = active[keep], new[keep], lo_a[keep], hi_a[keep], ma[keep]
        flat = x.reshape(-1)
        # 0 sits exactly at x1 (Newton would stop an ulp away), negatives mirror around it.
        y = np.where(m == 0, x1, y)
        out = np.where(flat < 0, 2 * x1 - y, y)
        out[~ok] = np.where(np.isnan(flat[~ok]), np.nan, np.copysign(np.inf, flat[~ok]))
        return out.reshape(shape)

    def breaks(self, low: float, high: float, target: int) -> np.ndarray:
        """0 and ±10^k (see :func:`_symmetric_breaks`)."""
        return _symmetric_breaks(self, low, high, target)

    def labels(self, breaks: np.ndarray) -> tuple[str, ...]:
        """Original values, each on its own (the Newton solve leaves ~1e-12 noise)."""
        return _label_each(np.array([float(f"{v:.10g}") for v in self.inverse(breaks)]))


@functools.lru_cache(maxsize=64)
def _logicle_constants(
    t: float, w: float, m: float, a_dec: float
) -> tuple[float, float, float, float, float, float]:
    """The biexponential's constants (a, b, c, d, f, x1) for logicle(T, W, M, A)."""
    w_frac = w / (m + a_dec)
    x2 = a_dec / (m + a_dec)
    x1 = x2 + w_frac
    x0 = x2 + 2 * w_frac
    b = (m + a_dec) * math.log(10.0)
    # d solves 2·(ln d − ln b) + w·(b + d) = 0, increasing in d, with the root in (0, b].
    lo, hi = 1e-300, b
    if w_frac > 0:
        for _ in range(200):
            mid = math.sqrt(lo * hi) if lo > 0 and hi / lo > 4 else (lo + hi) / 2
            if 2 * (math.log(mid) - math.log(b)) + w_frac * (b + mid) > 0:
                hi = mid
            else:
                lo = mid
        d = (lo + hi) / 2
    else:
        d = b
    c_a = math.exp(x0 * (b + d))
    mf_a = math.exp(b * x1) - c_a * math.exp(-d * x1)
    a = t / (math.exp(b) - mf_a - c_a * math.exp(-d))
    return a, b, c_a * a, d, -mf_a * a, x1


# name → (factory, {parameter: (default, must be > 0)})
_TRANSFORMS: dict[str, tuple[Callable[..., Transform], dict[str, tuple[float, bool]]]] = {
    "identity": (lambda: IDENTITY, {}),
    "log": (lambda: LogTransform("log", math.e), {}),
    "ln": (lambda: LogTransform("ln", math.e), {}),
    "log10": (lambda: LogTransform("log10", 10.0), {}),
    "log2": (lambda: LogTransform("log2", 2.0), {}),
    "sqrt": (SqrtTransform, {}),
    "asinh": (lambda cofactor: AsinhTransform(cofactor), {"cofactor": (1.0, True)}),
    "logicle": (
        lambda T, W, M, A: LogicleTransform(T, W, M, A),  # the paper's names
        {"T": (262144.0, True), "W": (0.5, False), "M": (4.5, True), "A": (0.0, False)},
    ),
}


def _transform_help() -> str:
    parts = []
    for name, (_, params) in _TRANSFORMS.items():
        if params:
            keys = ",".join(f"{k}={v:g}" for k, (v, _) in params.items())
            parts.append(f"{name}:{keys}")
        else:
            parts.append(name)
    return "; allowed: " + ", ".join(parts)


def parse_transform(text: str) -> Transform:
    """A transform from its name and optional parameters, ``name`` or ``name:key=val,key=val``.

    Names are case-insensitive; parameter names are as listed (logicle's T, W, M,
    A also match in lower case). "" is the identity.

    Args:
        text: e.g. ``log10``, ``asinh:cofactor=5``, ``logicle:T=10000,W=0.5``.

    Returns:
        The transform.

    Raises:
        UsageError: unknown name or parameter, a value that is not a finite
            number, or one out of range (cofactor ≤ 0, logicle W < 0 …).
    """
    name, _, rest = text.strip().partition(":")
    name = name.strip().lower() or "identity"
    if name not in _TRANSFORMS:
        raise UsageError(f"transform {text!r}: unknown name {name!r}{_transform_help()}")
    factory, params = _TRANSFORMS[name]
    values = {key: default for key, (default, _) in params.items()}
    by_lower = {key.lower(): key for key in params}
    for item in (part.strip() for part in rest.split(",")) if rest.strip() else ():
        key, eq, raw = item.partition("=")
        key = by_lower.get(key.strip().lower(), "") if eq else ""
        if not key:
            raise UsageError(
                f"transform {text!r}: {item!r} is not a parameter of {name}{_transform_help()}"
            )
        try:
            value = float(raw)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            raise UsageError(f"transform {text!r}: {key}={raw.strip()!r} is not a finite number")
        if params[key][1] and value <= 0:
            raise UsageError(f"transform {text!r}: {key} must be > 0, got {value:g}")
        if value < 0:
            raise UsageError(f"transform {text!r}: {key} must be ≥ 0, got {value:g}")
        values[key] = value
    if name == "logicle" and values["W"] * 2 >= values["M"]:
        raise UsageError(f"transform {text!r}: logicle needs 2·W < M")
    return factory(**values)


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
