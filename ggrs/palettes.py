"""Tercen's named palettes (ggrs/data/palettes.json): categorical colours and continuous LUTs."""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from importlib import resources
from typing import NamedTuple

import numpy as np

from ggrs.compose.views import RGB
from ggrs.errors import DataError, UsageError


@functools.cache
def _palettes() -> dict[str, tuple[str, str, tuple[RGB, ...]]]:
    """lower-case name → (name, type, colours), read once from the packaged JSON."""
    text = resources.files("ggrs").joinpath("data/palettes.json").read_text(encoding="utf-8")
    table = {}
    for entry in json.loads(text):
        name = entry["name"]
        colours = tuple(_rgb(name, c) for c in entry["colors"])
        table[name.lower()] = (name, entry["type"], colours)
    return table


def _rgb(palette: str, text: str) -> RGB:
    """'#RRGGBB' or '#RRGGBBAA' (alpha ignored) → (r, g, b)."""
    digits = text[1:] if text.startswith("#") else ""
    if len(digits) not in (6, 8):
        raise DataError(f"palette {palette!r} has colour {text!r}; expected #RRGGBB or #RRGGBBAA")
    try:
        return (int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16))
    except ValueError as exc:
        raise DataError(f"palette {palette!r} has colour {text!r}, not hexadecimal") from exc


def palette_names() -> tuple[str, ...]:
    """All palette names, as spelled in the data file."""
    return tuple(name for name, _, _ in _palettes().values())


def palette_colors(name: str) -> tuple[RGB, ...]:
    """The colours of palette ``name`` (case-insensitive), in order.

    Raises:
        UsageError: no palette has that name; the message lists them.
    """
    entry = _palettes().get(name.lower())
    if entry is None:
        raise UsageError(f"unknown palette {name!r}; choose one of {', '.join(palette_names())}")
    return entry[2]


def categorical_colors(n: int, name: str = "Palette-1") -> tuple[RGB, ...]:
    """``n`` colours for categories 0..n-1, cycling through the palette when n exceeds it."""
    colours = palette_colors(name)
    return tuple(colours[i % len(colours)] for i in range(n))


def stops(name: str) -> tuple[tuple[float, RGB], ...]:
    """The palette's colours at evenly spaced positions 0..1 (a colour bar's stops)."""
    colours = palette_colors(name)
    if len(colours) == 1:
        return ((0.0, colours[0]), (1.0, colours[0]))
    last = len(colours) - 1
    return tuple((i / last, c) for i, c in enumerate(colours))


def continuous_lut(name: str, n: int = 256) -> np.ndarray:
    """An (n, 3) uint8 lookup table interpolating linearly in RGB between the stops.

    Entry 0 is the first colour and entry n − 1 the last.

    Raises:
        UsageError: unknown palette, or n < 2.
    """
    if n < 2:
        raise UsageError(f"a colour lookup table needs at least 2 entries; got {n!r}")
    positions, colours = zip(*stops(name), strict=True)
    rgb = np.array(colours, dtype=np.float64)
    at = np.linspace(0.0, 1.0, n)
    lut = np.stack([np.interp(at, positions, rgb[:, c]) for c in range(3)], axis=1)
    return np.rint(lut).astype(np.uint8)


class ScaledPalette(NamedTuple):
    """A continuous colour scale whose stops sit at data values.

    Attributes:
        lut: (n, 3) uint8, entry 0 at ``limits[0]`` and entry n − 1 at ``limits[1]``.
        limits: the first and last stop's values; values beyond take the end colours.
        stops: the same stops at positions in [0, 1] of ``limits`` (a colour bar's).
    """

    lut: np.ndarray
    limits: tuple[float, float]
    stops: tuple[tuple[float, RGB], ...]


def data_stops_lut(stops: Sequence[tuple[float, RGB]], n: int = 256) -> ScaledPalette:
    """A lookup table interpolating linearly in RGB between stops given in data units.

    Used where the data source places the colours itself (Tercen's palettes,
    rescaled to the colour column's quartiles) instead of spreading a named
    palette over the data's range.

    Args:
        stops: (value, (r, g, b)) pairs in increasing value order; equal values
            make a sharp step.
        n: number of LUT entries.

    Raises:
        DataError: fewer than two stops, a value that is not finite, values out of
            order, a colour outside 0-255, or first and last value equal.
        UsageError: n < 2.
    """
    if n < 2:
        raise UsageError(f"a colour lookup table needs at least 2 entries; got {n!r}")
    if len(stops) < 2:
        raise DataError(f"colour stops {list(stops)!r}: need at least two (value, colour) pairs")
    values = np.array([float(v) for v, _ in stops], dtype=np.float64)
    rgb = np.array([tuple(c) for _, c in stops], dtype=np.float64)
    if rgb.shape[1] != 3 or (rgb < 0).any() or (rgb > 255).any():
        raise DataError(f"colour stops {list(stops)!r}: colours must be (r, g, b) in 0-255")
    if not np.isfinite(values).all() or (np.diff(values) < 0).any():
        raise DataError(
            f"colour stop values {values.tolist()} must be finite and in increasing order"
        )
    low, high = float(values[0]), float(values[-1])
    if not high > low:
        raise DataError(
            f"colour stops all sit at {low:g}: a colour scale needs two different values"
        )
    at = np.linspace(low, high, n)
    lut = np.stack([np.interp(at, values, rgb[:, c]) for c in range(3)], axis=1)
    positions = (values - low) / (high - low)
    colours = tuple(tuple(int(x) for x in c) for _, c in stops)
    return ScaledPalette(
        lut=np.rint(lut).astype(np.uint8),
        limits=(low, high),
        stops=tuple((float(p), c) for p, c in zip(positions, colours, strict=True)),  # type: ignore[misc]
    )
