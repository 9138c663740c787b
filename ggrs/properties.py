"""The operator's properties: names, defaults, validation.

The same names, defaults and meanings as the Tercen operator's properties
(operator.json). They arrive as strings (Tercen's `propertyValues`, command-line
flags) or JSON values (a properties file); :func:`parse_properties` validates
all of them at the boundary, before any work, and returns typed values.
An empty string means "unset", as in Tercen.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from ggrs.errors import UsageError
from ggrs.scales import parse_transform

RawValue = str | bool | int | float | None


@dataclass(frozen=True)
class Property:
    """One operator property.

    Attributes:
        name: dotted name, as in operator.json (``plot.title``).
        kind: operator.json kind: ``EnumeratedProperty``, ``StringProperty`` or
            ``BooleanProperty``.
        default: the default, as operator.json writes it.
        description: one line for operator.json and ``--help``.
        parse: turns a non-empty string into the typed value or raises ValueError
            whose text says what is allowed.
        choices: allowed values of an enumerated property.
    """

    name: str
    kind: str
    default: str | bool
    description: str
    parse: Callable[[str], object]
    choices: tuple[str, ...] = ()


def _enum(*choices: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        value = text.strip().lower()
        if value not in choices:
            raise ValueError(f"allowed: {', '.join(choices)}")
        return value

    return parse


def _float(low: float | None = None, high: float | None = None) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise ValueError("expected a number") from None
        if not math.isfinite(value):
            raise ValueError("expected a finite number")
        if (low is not None and value < low) or (high is not None and value > high):
            raise ValueError(f"expected a number in [{low}, {high}]")
        return value

    return parse


def _positive_float(text: str) -> float:
    value = _float()(text)
    if value <= 0:
        raise ValueError("expected a number > 0")
    return value


#: The range of plot.width and plot.height, in pixels.
MIN_SIDE_PX, MAX_SIDE_PX = 100, 128_000


def _size(text: str) -> int | None:
    """Pixels in [MIN_SIDE_PX, MAX_SIDE_PX], or None for ``auto``."""
    value = text.strip().lower()
    if value == "auto":
        return None
    expected = f"expected 'auto' or a whole number of pixels in [{MIN_SIDE_PX}, {MAX_SIDE_PX}]"
    try:
        pixels = int(value)
    except ValueError:
        raise ValueError(expected) from None
    if not MIN_SIDE_PX <= pixels <= MAX_SIDE_PX:
        raise ValueError(expected)
    return pixels


def _unit_pair(text: str) -> tuple[float, float]:
    parts = text.split(",")
    try:
        pair = tuple(float(p) for p in parts)
    except ValueError:
        pair = ()
    if len(pair) != 2 or not all(0.0 <= v <= 1.0 for v in pair):
        raise ValueError("expected 'x,y' with both numbers in [0, 1]")
    return pair  # type: ignore[return-value]


def _bool(text: str) -> bool:
    value = text.strip().lower()
    if value in ("true", "1", "yes"):
        return True
    if value in ("false", "0", "no"):
        return False
    raise ValueError("expected true/false (also 1/0, yes/no)")


def _shapes(text: str) -> tuple[int, ...]:
    """ggplot2 pch codes 0-25 separated by ';', one per layer (empty items skipped)."""
    rule = "expected ';'-separated ggplot2 shape codes 0-25, one per layer, e.g. '19;17'"
    items = [item.strip() for item in text.split(";") if item.strip()]
    if not items:
        raise ValueError(f"no shape code; {rule}")
    for item in items:
        # Plain ASCII digits only: int() would also take '+5', '1_0' or '٣'.
        if not (item.isascii() and item.isdigit()) or int(item) > 25:
            raise ValueError(f"{item!r} is not a shape code; {rule}")
    return tuple(int(item) for item in items)


def _text(text: str) -> str:
    return text


def _transform(text: str) -> object:
    """An axis transform (ggrs.scales.parse_transform); its errors name what is allowed."""
    try:
        return parse_transform(text)
    except UsageError as exc:
        raise ValueError(str(exc)) from None


def _range(text: str) -> tuple[float, float]:
    """'min,max' in the axis's original units, min < max."""
    parts = text.split(",")
    try:
        pair = tuple(float(p) for p in parts)
    except ValueError:
        pair = ()
    if len(pair) != 2 or not all(math.isfinite(v) for v in pair):
        raise ValueError("expected 'min,max' with two finite numbers, e.g. '0,100'")
    if pair[0] >= pair[1]:
        raise ValueError(f"min must be below max; got min={pair[0]:g}, max={pair[1]:g}")
    return pair  # type: ignore[return-value]


THEMES = ("gray", "bw", "linedraw", "light", "dark", "minimal", "classic", "void", "publish")
LEGEND_POSITIONS = ("right", "left", "top", "bottom", "inside", "none")

_DEFINITIONS: tuple[Property, ...] = (
    Property("theme", "EnumeratedProperty", "gray", "Base theme, as ggplot2's theme_<name>; "
             "publish is white with axis lines and no grid.", _enum(*THEMES), THEMES),
    Property("plot.width", "StringProperty", "", "Image width in pixels (100-128000) or "
             "'auto': 800 + 400 per extra facet column, plus legend space.", _size),
    Property("plot.height", "StringProperty", "", "Image height in pixels (100-128000) or "
             "'auto': 800 + 400 per extra facet row, plus legend space.", _size),
    Property("backend", "EnumeratedProperty", "auto", "Aggregation backend: cpu, gpu, or auto "
             "(the GPU when one is usable and the data is large).",
             _enum("auto", "cpu", "gpu"), ("auto", "cpu", "gpu")),
    Property("output.format", "EnumeratedProperty", "png", "Image format of the result: png; "
             "svg (all vector, the data as merged pixel runs); hsvg (vector text and axes, the "
             "data panels embedded as PNG).", _enum("png", "svg", "hsvg"), ("png", "svg", "hsvg")),
    Property("legend.position", "EnumeratedProperty", "right", "Where the colour legend goes.",
             _enum(*LEGEND_POSITIONS), LEGEND_POSITIONS),
    Property("legend.position.inside", "StringProperty", "", "Legend anchor 'x,y' in [0,1] of "
             "the panel area when legend.position is inside; empty = 0.95,0.95.", _unit_pair),
    Property("legend.justification", "StringProperty", "", "Which point of the legend box "
             "sits at its anchor, 'x,y' in [0,1].", _unit_pair),
    Property("png.compression", "EnumeratedProperty", "fast", "PNG compression: fast (palette "
             "or zlib level 1), default (level 6) or best (level 9).",
             _enum("fast", "default", "best"), ("fast", "default", "best")),
    Property("plot.title", "StringProperty", "", "Plot title; empty for none.", _text),
    Property("plot.title.position", "EnumeratedProperty", "top", "Side of the title.",
             _enum("top", "bottom", "left", "right"), ("top", "bottom", "left", "right")),
    Property("plot.title.justification", "StringProperty", "0.5,0.5", "Title justification "
             "'hjust,vjust' in [0,1].", _unit_pair),
    Property("axis.x.label", "StringProperty", "", "X axis title; empty = the x column's name.",
             _text),
    Property("axis.y.label", "StringProperty", "", "Y axis title; empty = the y column's name.",
             _text),
    Property("point.size.multiplier", "StringProperty", "1", "Multiplies the point size "
             "(0.01-100).", _float(0.01, 100.0)),
    Property("opacity", "StringProperty", "1", "Opacity of the data in [0, 1]; overlapping "
             "points add up.", _float(0.0, 1.0)),
    Property("axis.x.tick.rotation", "StringProperty", "0", "Rotation of x tick labels in "
             "degrees.", _float(-360.0, 360.0)),
    Property("axis.y.tick.rotation", "StringProperty", "0", "Rotation of y tick labels in "
             "degrees.", _float(-360.0, 360.0)),
    Property("grid.major.disable", "BooleanProperty", False, "Hide major grid lines.", _bool),
    Property("grid.minor.disable", "BooleanProperty", False, "Hide minor grid lines.", _bool),
    Property("axis.lines.disable", "BooleanProperty", False, "Hide axis lines, ticks and the "
             "panel border.", _bool),
    Property("text.disable", "BooleanProperty", False, "Hide axis titles, tick labels and the "
             "title.", _bool),
    Property("plot.title.font.size", "StringProperty", "", "Title font size in points; empty = "
             "theme default (13.2).", _positive_float),
    Property("axis.label.font.size", "StringProperty", "", "Axis title font size in points; "
             "empty = theme default (11).", _positive_float),
    Property("axis.tick.font.size", "StringProperty", "", "Tick label font size in points; "
             "empty = theme default (8.8).", _positive_float),
    Property("axis.line.width", "StringProperty", "", "Axis line and panel border width in "
             "points; empty = theme default.", _float(0.0, 100.0)),
    Property("filename", "StringProperty", "plot", "File name stem of the result; pages add "
             "_<page>.", _text),
    Property("heatmap.cell.aggregation", "EnumeratedProperty", "last", "How a heatmap cell "
             "with several values is coloured.", _enum("last", "first", "mean", "median"),
             ("last", "first", "mean", "median")),
    Property("point.shapes", "StringProperty", "19", "ggplot2 shape codes (0-25), one per "
             "layer, separated by ';'.", _shapes),
    Property("axis.x.transform", "StringProperty", "", "X axis transform: log (natural), "
             "ln, log10, log2, sqrt, asinh:cofactor=1, logicle:T=262144,W=0.5,M=4.5,A=0; "
             "empty = linear.", _transform),
    Property("axis.y.transform", "StringProperty", "", "Y axis transform, as "
             "axis.x.transform.", _transform),
    Property("axis.x.range", "StringProperty", "", "X axis range 'min,max' in data units; "
             "points outside are clipped. Empty = from the data.", _range),
    Property("axis.y.range", "StringProperty", "", "Y axis range 'min,max' in data units; "
             "points outside are clipped. Empty = from the data.", _range),
)  # fmt: skip

PROPERTIES: dict[str, Property] = {p.name: p for p in _DEFINITIONS}


@dataclass(frozen=True)
class Properties(Mapping[str, object]):
    """Validated property values, typed; every property has a value (its default if unset)."""

    values: Mapping[str, object]

    def __getitem__(self, name: str) -> object:
        return self.values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.values)

    def __len__(self) -> int:
        return len(self.values)


def _as_text(name: str, value: RawValue) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return value
    raise UsageError(f"property {name}: expected a string, got {type(value).__name__} {value!r}")


def parse_properties(raw: Mapping[str, RawValue], *, ignore_unknown: bool = False) -> Properties:
    """Validates raw property values and fills in the defaults.

    Args:
        raw: property name → value as given (strings, or JSON scalars from a file).
            Empty strings and None mean unset.
        ignore_unknown: skip names that are not properties (Tercen sends extra
            ones) instead of failing.

    Returns:
        Every property's typed value.

    Raises:
        UsageError: naming the property, the value and what is allowed.
    """
    unknown = sorted(set(raw) - set(PROPERTIES))
    if unknown and not ignore_unknown:
        raise UsageError(
            f"unknown properties: {', '.join(unknown)}. Known: {', '.join(PROPERTIES)}"
        )
    values: dict[str, object] = {}
    for name, prop in PROPERTIES.items():
        text = _as_text(name, raw.get(name))
        if text.strip() == "":
            text = _as_text(name, prop.default)
        if text.strip() == "":
            values[name] = "" if prop.parse is _text else None
            continue
        try:
            values[name] = prop.parse(text)
        except ValueError as exc:
            raise UsageError(f"property {name}={text!r} is not valid: {exc}") from None
    if values["filename"] == "":
        values["filename"] = "plot"
    return Properties(values)


def read_properties_file(path: str | Path) -> dict[str, RawValue]:
    """Reads a JSON object of property name → value.

    Raises:
        UsageError: when the file is missing, not JSON, or not a flat object.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"properties file {path} does not exist") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"properties file {path} is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise UsageError(f"properties file {path} must hold a JSON object of name: value")
    for name, value in data.items():
        if not isinstance(value, str | bool | int | float) and value is not None:
            raise UsageError(
                f"properties file {path}: {name} must be a string, number or boolean, "
                f"got {type(value).__name__}"
            )
    return data
