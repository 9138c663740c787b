"""Continuous colours as Tercen places them: palette stops in data units.

A crosstab's Jet or Ramp palette carries colour elements, each a value and a
colour (protocol §1.8). Tercen turns them into stops as follows, and so does
:func:`continuous_stops`:

* a user-defined palette (or the ``Divergent`` ramp) keeps its elements as given;
* any other palette spreads all colours of the *named* palette evenly over the
  elements' [min, max];
* unless the palette is user-defined, when the colour table's column schema
  gives the colour column's quartiles Q1, Q2, Q3, the stops are then moved
  linearly from their [first, last] onto [Q2 − 1.5·IQR, Q2 + 1.5·IQR]
  (IQR = Q3 − Q1), so that a few outliers do not wash out the colours.

Values beyond the first or last stop take that stop's colour. Unlike Tercen's
own operator, the legend's colour bar uses the same (rescaled) stops as the
points.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from ggrs import palettes
from ggrs.errors import DataError
from ggrs.tercen.context import ColourSpec

log = logging.getLogger("ggrs.tercen")

RGB = tuple[int, int, int]
Stops = tuple[tuple[float, RGB], ...]

WHISKER = 1.5
"""Half the rescaled range in IQRs on each side of the median (a box plot's whisker)."""


def palette_stops(elements: Sequence[tuple[float, RGB]], name: str, keep_elements: bool) -> Stops:
    """Stops in data units before any rescale, sorted by value.

    Args:
        elements: the palette's (value, colour) elements, in any order.
        name: the named palette whose colours are spread over the elements' range.
        keep_elements: use the elements' own values and colours instead
            (user-defined palettes and the Divergent ramp).

    Raises:
        DataError: there is no element.
        UsageError: the named palette is unknown to ggrs.
    """
    if not elements:
        raise DataError(f"palette {name!r} has no colour elements; Tercen sends at least one")
    if keep_elements:
        return tuple(sorted(((float(v), tuple(c)) for v, c in elements), key=lambda s: s[0]))
    values = [float(v) for v, _ in elements]
    low, high = min(values), max(values)
    colours = palettes.palette_colors(name)
    if len(colours) == 1:
        return ((low, colours[0]), (high, colours[0]))
    last = len(colours) - 1
    return tuple((low + i / last * (high - low), c) for i, c in enumerate(colours))


def quartile_rescale(stops: Stops, quartiles: tuple[float, float, float]) -> Stops:
    """`stops` moved linearly from [first, last] onto [Q2 − 1.5·IQR, Q2 + 1.5·IQR].

    Stops that span no range, or quartiles with IQR = 0, leave the stops as
    they are (with a warning): there is no linear map between the two ranges.
    """
    q1, q2, q3 = (float(q) for q in quartiles)
    iqr = q3 - q1
    new_low, new_high = q2 - WHISKER * iqr, q2 + WHISKER * iqr
    old_low, old_high = stops[0][0], stops[-1][0]
    if not (old_high > old_low and new_high > new_low):
        log.warning(
            "colour quartiles %s: cannot rescale stops %g..%g onto %g..%g; stops kept",
            (q1, q2, q3), old_low, old_high, new_low, new_high,
        )  # fmt: skip
        return stops
    factor = (new_high - new_low) / (old_high - old_low)
    return tuple((new_low + (v - old_low) * factor, c) for v, c in stops)


def continuous_stops(spec: ColourSpec, palette: str) -> Stops | None:
    """The stops (value in data units, colour) Tercen would colour `spec`'s column with.

    Args:
        spec: a continuous colour factor from the task context.
        palette: the palette name to spread (``spec.palette``, or the name the
            operator resolved it to when ggrs does not know it).

    Returns:
        The stops, or None when the crosstab gave no colour elements (no
        workflow palette): the renderer then spreads `palette` over the
        column's own range.

    Raises:
        DataError: `spec` is categorical.
    """
    if not spec.continuous:
        raise DataError(f"colour factor {spec.factor!r} is categorical: it has no colour stops")
    if not spec.elements:
        return None
    keep = spec.user_defined or spec.palette.lower() == "divergent"
    stops = palette_stops(spec.elements, palette, keep)
    quartiles = spec.table.quartiles.get(spec.factor) if spec.table is not None else None
    if not spec.user_defined and quartiles is not None:
        stops = quartile_rescale(stops, quartiles)
    return _spanning(stops)


def _spanning(stops: Stops) -> Stops:
    """`stops` as they are when they span a range; else the first and last colour
    around their one value (a constant colour column, a one-element palette), as
    ggplot2 widens a zero-width range: ±0.5 around 0, else ±5 %."""
    low, high = stops[0][0], stops[-1][0]
    if len(stops) >= 2 and high > low:
        return stops
    half = 0.5 if low == 0 else 0.05 * abs(low)
    return ((low - half, stops[0][1]), (low + half, stops[-1][1]))
