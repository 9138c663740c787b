"""Themes: the look of everything that is not data, as frozen values.

A :class:`Theme` is a flat set of elements (text, line, rect; ``None`` means
blank, like ggplot2's ``element_blank()``) plus sizes in points. The named
themes follow ggplot2 3.5's ``theme_grey()`` family at ``base_size = 11``;
``publish`` is Tercen's addition. :func:`apply_overrides` applies the operator
properties (``grid.major.disable``, ``legend.position``, …) on top.

Units: text sizes, margins and line widths are in points; one point is
96/72 px (:data:`PX_PER_PT`), so 11 pt text is 14.67 px tall.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from ggrs.errors import UsageError

RGB = tuple[int, int, int]

PX_PER_PT = 96.0 / 72.0

#: Legend positions accepted by ``legend.position``.
LEGEND_POSITIONS = ("right", "left", "top", "bottom", "inside", "none")
#: Title positions accepted by ``plot.title.position``.
TITLE_POSITIONS = ("top", "bottom", "left", "right")

_BASE_SIZE = 11.0
_HALF_LINE = _BASE_SIZE / 2
# ggplot2 gives line widths in mm and converts them with .pt (72.27 / 25.4) to R's
# lwd, whose unit is 1/96 inch, not a point. Its default 0.5 mm line therefore
# draws 1.42 px wide at 96 dpi, i.e. 1.07 pt; we store that true width.
_LINE = _BASE_SIZE / 22 * 72.27 / 25.4 * 72.0 / 96.0


def pt_to_px(points: float) -> float:
    """Convert points to pixels at 96 dpi."""
    return points * PX_PER_PT


def _hex(code: str) -> RGB:
    return (int(code[1:3], 16), int(code[3:5], 16), int(code[5:7], 16))


# R's grey levels come from X11's rgb.txt, whose rounding is not uniform
# (grey50 is #7F7F7F but grey30 is #4D4D4D), so they are spelled out.
WHITE = _hex("#FFFFFF")
BLACK = _hex("#000000")
GREY10 = _hex("#1A1A1A")
GREY15 = _hex("#262626")
GREY20 = _hex("#333333")
GREY30 = _hex("#4D4D4D")
GREY42 = _hex("#6B6B6B")
GREY50 = _hex("#7F7F7F")
GREY70 = _hex("#B3B3B3")
GREY85 = _hex("#D9D9D9")
GREY87 = _hex("#DEDEDE")
GREY90 = _hex("#E5E5E5")
GREY92 = _hex("#EBEBEB")


@dataclass(frozen=True)
class TextElement:
    """Text style: size in points, colour, weight."""

    size: float
    colour: RGB = BLACK
    bold: bool = False


@dataclass(frozen=True)
class LineElement:
    """Line style: colour and width in points."""

    colour: RGB
    width: float = _LINE


@dataclass(frozen=True)
class RectElement:
    """Filled rectangle: fill (None = transparent) and border (None = no border)."""

    fill: RGB | None
    colour: RGB | None = None
    width: float = _LINE


@dataclass(frozen=True)
class Theme:
    """Everything that styles the non-data part of a figure.

    Element fields hold ``None`` when the element is blank (not drawn, and
    taking no space where ggplot2 gives it none). Size fields are in points.

    Attributes:
        name: the theme's name (``gray``, ``bw``, …).
        plot_background: the whole image; blank draws white.
        panel_background: fill behind each panel's data.
        panel_border: rectangle drawn over each panel's edge (on top of data).
        grid_major, grid_minor: lines at major and minor breaks (under data).
        axis_line: line along the panel edge where an axis is drawn.
        axis_ticks: tick marks outside the panel at major breaks.
        axis_text: tick labels.
        axis_title: the x and y axis titles.
        title: the plot title.
        strip_background, strip_text: facet strips.
        legend_background, legend_key: legend box and the square behind each key.
        legend_title, legend_text: legend texts.
        legend_ticks: ticks across the colour bar.
        plot_margin: empty border around the image.
        panel_spacing: gap between facet panels.
        tick_length: tick mark length.
        tick_label_margin: gap between tick and tick label.
        axis_title_margin: gap between tick labels and axis title.
        title_margin: gap between title and the rest.
        strip_padding: padding around strip text on each side.
        legend_margin: padding inside the legend box.
        legend_spacing: gap between the legend box and the panels.
        legend_key_size: side of one legend key; the colour bar is 5 keys long.
        legend_text_margin: gap between a key and its label, and between title and keys.
        legend_position: right, left, top, bottom, inside or none.
        legend_position_inside: (x, y) of an inside legend, fractions of the panel area
            from its bottom-left corner.
        legend_justification: (x, y) anchor of the legend box; None = centred, or for
            an inside legend the same as ``legend_position_inside`` (as ggplot2 does).
        title_position: top, bottom, left or right.
        title_justification: (x, y); x places top/bottom titles along the panel area
            (0 left, 1 right), y places left/right titles (0 bottom, 1 top).
        x_tick_angle, y_tick_angle: tick label rotation in degrees, counter-clockwise.
    """

    name: str
    plot_background: RectElement | None
    panel_background: RectElement | None
    panel_border: RectElement | None
    grid_major: LineElement | None
    grid_minor: LineElement | None
    axis_line: LineElement | None
    axis_ticks: LineElement | None
    axis_text: TextElement | None
    axis_title: TextElement | None
    title: TextElement | None
    strip_background: RectElement | None
    strip_text: TextElement | None
    legend_background: RectElement | None
    legend_key: RectElement | None
    legend_title: TextElement | None
    legend_text: TextElement | None
    legend_ticks: LineElement | None
    plot_margin: float = _HALF_LINE
    panel_spacing: float = _HALF_LINE
    tick_length: float = _HALF_LINE / 2
    tick_label_margin: float = 0.8 * _HALF_LINE / 2
    axis_title_margin: float = _HALF_LINE / 2
    title_margin: float = _HALF_LINE
    strip_padding: float = 0.8 * _HALF_LINE
    legend_margin: float = _HALF_LINE
    legend_spacing: float = 2 * _HALF_LINE
    # 1.2 grid "lines" at grid's default 12 pt font and 1.2 line height.
    legend_key_size: float = 1.2 * 12 * 1.2
    legend_text_margin: float = _HALF_LINE
    legend_position: str = "right"
    legend_position_inside: tuple[float, float] = (0.95, 0.95)
    legend_justification: tuple[float, float] | None = None
    title_position: str = "top"
    title_justification: tuple[float, float] = (0.0, 0.5)
    x_tick_angle: float = 0.0
    y_tick_angle: float = 0.0


def _grey() -> Theme:
    """ggplot2's theme_grey(): grey panel, white grid, no border."""
    return Theme(
        name="gray",
        plot_background=RectElement(WHITE),
        panel_background=RectElement(GREY92),
        panel_border=None,
        grid_major=LineElement(WHITE),
        grid_minor=LineElement(WHITE, _LINE / 2),
        axis_line=None,
        axis_ticks=LineElement(GREY20),
        axis_text=TextElement(0.8 * _BASE_SIZE, GREY30),
        axis_title=TextElement(_BASE_SIZE),
        title=TextElement(1.2 * _BASE_SIZE),
        strip_background=RectElement(GREY85),
        strip_text=TextElement(0.8 * _BASE_SIZE, GREY10),
        legend_background=RectElement(WHITE),
        # Since ggplot2 3.5 the key inherits the panel background.
        legend_key=RectElement(GREY92),
        legend_title=TextElement(_BASE_SIZE),
        legend_text=TextElement(0.8 * _BASE_SIZE),
        legend_ticks=LineElement(WHITE, _LINE / 2),
    )


def _bw() -> Theme:
    """theme_bw(): white panel, grey92 grid, grey20 border."""
    return dataclasses.replace(
        _grey(),
        name="bw",
        panel_background=RectElement(WHITE),
        panel_border=RectElement(None, GREY20),
        grid_major=LineElement(GREY92),
        grid_minor=LineElement(GREY92, _LINE / 2),
        strip_background=RectElement(GREY85, GREY20),
        legend_key=RectElement(WHITE),
    )


def _linedraw() -> Theme:
    """theme_linedraw(): black lines of various widths on white."""
    return dataclasses.replace(
        _bw(),
        name="linedraw",
        axis_text=TextElement(0.8 * _BASE_SIZE, BLACK),
        axis_ticks=LineElement(BLACK, _LINE / 2),
        panel_border=RectElement(None, BLACK),
        grid_major=LineElement(BLACK, _LINE * 0.1),
        grid_minor=LineElement(BLACK, _LINE * 0.05),
        strip_background=RectElement(BLACK),
        strip_text=TextElement(0.8 * _BASE_SIZE, WHITE),
    )


def _light() -> Theme:
    """theme_light(): light grey lines and border on white."""
    return dataclasses.replace(
        _grey(),
        name="light",
        panel_background=RectElement(WHITE),
        panel_border=RectElement(None, GREY70),
        grid_major=LineElement(GREY87, _LINE / 2),
        grid_minor=LineElement(GREY87, _LINE / 4),
        axis_ticks=LineElement(GREY70, _LINE / 2),
        strip_background=RectElement(GREY70),
        strip_text=TextElement(0.8 * _BASE_SIZE, WHITE),
        legend_key=RectElement(WHITE),
    )


def _dark() -> Theme:
    """theme_dark(): grey50 panel with darker grid, the inverse of light."""
    return dataclasses.replace(
        _grey(),
        name="dark",
        panel_background=RectElement(GREY50),
        grid_major=LineElement(GREY42, _LINE / 2),
        grid_minor=LineElement(GREY42, _LINE / 4),
        axis_ticks=LineElement(GREY20, _LINE / 2),
        strip_background=RectElement(GREY15),
        strip_text=TextElement(0.8 * _BASE_SIZE, GREY90),
        legend_key=RectElement(GREY50),
    )


def _minimal() -> Theme:
    """theme_minimal(): only the grid; no backgrounds, border or ticks."""
    return dataclasses.replace(
        _bw(),
        name="minimal",
        plot_background=None,
        panel_background=None,
        panel_border=None,
        axis_ticks=None,
        strip_background=None,
        legend_background=None,
        legend_key=None,
    )


def _classic() -> Theme:
    """theme_classic(): axis lines, no grid, boxed strips."""
    return dataclasses.replace(
        _bw(),
        name="classic",
        panel_border=None,
        grid_major=None,
        grid_minor=None,
        axis_line=LineElement(BLACK),
        # ggplot2 3.5 made classic's ticks and tick labels black.
        axis_ticks=LineElement(BLACK),
        axis_text=TextElement(0.8 * _BASE_SIZE, BLACK),
        strip_background=RectElement(WHITE, BLACK, 2 * _LINE),
        legend_key=None,
    )


def _void() -> Theme:
    """theme_void(): nothing but data, strips text, title and legend."""
    return dataclasses.replace(
        _grey(),
        name="void",
        plot_background=None,
        panel_background=None,
        grid_major=None,
        grid_minor=None,
        axis_ticks=None,
        axis_text=None,
        axis_title=None,
        strip_background=None,
        strip_text=TextElement(0.8 * _BASE_SIZE, BLACK),
        legend_background=None,
        legend_key=None,
        plot_margin=0.0,
        tick_length=0.0,
    )


def _publish() -> Theme:
    """Tercen's publish: white, no grid, black axis lines and text, bold title."""
    return dataclasses.replace(
        _classic(),
        name="publish",
        axis_text=TextElement(0.8 * _BASE_SIZE, BLACK),
        title=TextElement(1.2 * _BASE_SIZE, BLACK, bold=True),
        strip_background=None,
        strip_text=TextElement(0.8 * _BASE_SIZE + 0.5, BLACK, bold=True),
        legend_ticks=LineElement(WHITE, _LINE / 2),
    )


_THEMES = {
    "gray": _grey,
    "bw": _bw,
    "linedraw": _linedraw,
    "light": _light,
    "dark": _dark,
    "minimal": _minimal,
    "classic": _classic,
    "void": _void,
    "publish": _publish,
}

#: Theme names accepted by :func:`theme_by_name`, in operator.json order.
THEME_NAMES = tuple(_THEMES)


def theme_by_name(name: str) -> Theme:
    """The named theme (case-insensitive; ``grey`` is accepted for ``gray``).

    Raises:
        UsageError: the name is not one of :data:`THEME_NAMES`.
    """
    key = name.strip().lower()
    if key == "grey":
        key = "gray"
    try:
        return _THEMES[key]()
    except KeyError:
        raise UsageError(
            f"unknown theme {name!r}; expected one of: {', '.join(THEME_NAMES)}"
        ) from None


@dataclass(frozen=True)
class ThemeOverrides:
    """The operator properties that restyle a theme; ``None`` keeps the theme's value.

    Attributes:
        grid_major_disable: ``grid.major.disable``.
        grid_minor_disable: ``grid.minor.disable``.
        axis_lines_disable: ``axis.lines.disable`` (axis lines, ticks, panel border).
        text_disable: ``text.disable`` (axis titles, tick labels, title).
        title_font_size: ``plot.title.font.size`` in pt.
        axis_label_font_size: ``axis.label.font.size`` (axis titles) in pt.
        axis_tick_font_size: ``axis.tick.font.size`` (tick labels) in pt.
        axis_line_width: ``axis.line.width`` (panel border and axis lines) in pt.
        legend_position: ``legend.position``, case-insensitive.
        legend_position_inside: ``legend.position.inside`` (x, y) in [0, 1].
        legend_justification: ``legend.justification`` (x, y) in [0, 1].
        title_position: ``plot.title.position``, case-insensitive.
        title_justification: ``plot.title.justification`` (x, y) in [0, 1].
        x_tick_rotation, y_tick_rotation: tick label angles in degrees.
    """

    grid_major_disable: bool = False
    grid_minor_disable: bool = False
    axis_lines_disable: bool = False
    text_disable: bool = False
    title_font_size: float | None = None
    axis_label_font_size: float | None = None
    axis_tick_font_size: float | None = None
    axis_line_width: float | None = None
    legend_position: str | None = None
    legend_position_inside: tuple[float, float] | None = None
    legend_justification: tuple[float, float] | None = None
    title_position: str | None = None
    title_justification: tuple[float, float] | None = None
    x_tick_rotation: float | None = None
    y_tick_rotation: float | None = None


def _check_size(prop: str, value: float | None, zero_ok: bool = False) -> None:
    if value is None:
        return
    if not (math.isfinite(value) and (value > 0 or (zero_ok and value == 0))):
        kind = "a non-negative" if zero_ok else "a positive"
        raise UsageError(f"{prop} must be {kind} number, got {value!r}")


def _check_pair(prop: str, value: tuple[float, float] | None) -> None:
    if value is None:
        return
    if len(value) != 2 or not all(math.isfinite(v) and 0.0 <= v <= 1.0 for v in value):
        raise UsageError(f"{prop} must be two numbers in [0, 1] (x,y), got {value!r}")


def _check_choice(prop: str, value: str | None, choices: tuple[str, ...]) -> str | None:
    if value is None:
        return None
    key = value.strip().lower()
    if key not in choices:
        raise UsageError(f"{prop} must be one of {', '.join(choices)}; got {value!r}")
    return key


def _resize(element: TextElement | None, size: float | None) -> TextElement | None:
    if element is None or size is None:
        return element
    return dataclasses.replace(element, size=size)


def apply_overrides(theme: Theme, overrides: ThemeOverrides) -> Theme:
    """Return ``theme`` restyled by the operator properties in ``overrides``.

    Args:
        theme: the base theme (usually from :func:`theme_by_name`).
        overrides: the property values; ``None`` / False fields keep the theme's value.

    Returns:
        A new theme; ``theme`` itself is unchanged.

    Raises:
        UsageError: a size is not positive, a fraction is outside [0, 1], a
            position is unknown, or an angle is not finite.
    """
    o = overrides
    _check_size("plot.title.font.size", o.title_font_size)
    _check_size("axis.label.font.size", o.axis_label_font_size)
    _check_size("axis.tick.font.size", o.axis_tick_font_size)
    _check_size("axis.line.width", o.axis_line_width, zero_ok=True)
    _check_pair("legend.position.inside", o.legend_position_inside)
    _check_pair("legend.justification", o.legend_justification)
    _check_pair("plot.title.justification", o.title_justification)
    legend_position = _check_choice("legend.position", o.legend_position, LEGEND_POSITIONS)
    title_position = _check_choice("plot.title.position", o.title_position, TITLE_POSITIONS)
    angles = (
        ("axis.x.tick.rotation", o.x_tick_rotation),
        ("axis.y.tick.rotation", o.y_tick_rotation),
    )
    for prop, angle in angles:
        if angle is not None and not math.isfinite(angle):
            raise UsageError(f"{prop} must be a finite number of degrees, got {angle!r}")

    t = theme
    changes: dict[str, object] = {}
    if o.axis_line_width is not None:
        if t.panel_border is not None:
            changes["panel_border"] = dataclasses.replace(t.panel_border, width=o.axis_line_width)
        if t.axis_line is not None:
            changes["axis_line"] = dataclasses.replace(t.axis_line, width=o.axis_line_width)
    changes["axis_text"] = _resize(t.axis_text, o.axis_tick_font_size)
    changes["axis_title"] = _resize(t.axis_title, o.axis_label_font_size)
    changes["title"] = _resize(t.title, o.title_font_size)
    if o.grid_major_disable:
        changes["grid_major"] = None
    if o.grid_minor_disable:
        changes["grid_minor"] = None
    if o.axis_lines_disable:
        changes.update(axis_line=None, axis_ticks=None, panel_border=None)
    if o.text_disable:
        changes.update(axis_title=None, axis_text=None, title=None)
    if legend_position is not None:
        changes["legend_position"] = legend_position
    if o.legend_position_inside is not None:
        changes["legend_position_inside"] = tuple(o.legend_position_inside)
    if o.legend_justification is not None:
        changes["legend_justification"] = tuple(o.legend_justification)
    if title_position is not None:
        changes["title_position"] = title_position
    if o.title_justification is not None:
        changes["title_justification"] = tuple(o.title_justification)
    if o.x_tick_rotation is not None:
        changes["x_tick_angle"] = float(o.x_tick_rotation)
    if o.y_tick_rotation is not None:
        changes["y_tick_angle"] = float(o.y_tick_rotation)
    return dataclasses.replace(t, **changes)
