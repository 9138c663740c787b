"""Chrome geometry as numbers, and both drawers (PNG and SVG) drawing exactly it."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pytest

from ggrs.compose import chrome, svg
from ggrs.compose.chrome import Rect
from ggrs.compose.figure import draw_figure
from ggrs.compose.layout import compute_layout
from ggrs.compose.legend import legend_chrome
from ggrs.compose.theme import pt_to_px, theme_by_name
from ggrs.compose.views import AxisView, FigureView, PanelView
from tests.compose.conftest import categorical_legend, continuous_legend, figure

NS = "{http://www.w3.org/2000/svg}"
RED = (255, 0, 0)


def one_panel(x: AxisView, y: AxisView) -> FigureView:
    return FigureView(400, 300, 1, 1, (PanelView(0, 0, x, y),))


@pytest.mark.parametrize(
    "pos,width,centre",
    [
        (10.2, 1.0, 10.5),  # odd: the pixel holding pos
        (10.7, 3.0, 10.5),
        (10.7, 0.4, 10.5),  # sub-pixel: as odd
        (10.2, 2.0, 10.0),  # even: the nearest pixel boundary
        (10.7, 2.0, 11.0),
        (10.7, 1.6, 11.0),  # rounds to 2: even
    ],
)
def test_snap_centres_lines_on_the_pixel_grid(pos, width, centre):
    assert chrome.snap(pos, width) == centre


def test_line_centre_stays_inside_its_panel():
    assert chrome.line_centre(100.0, 1.0, 0, 100) == 99.5
    assert chrome.line_centre(-0.3, 2.0, 0, 100) == 0.5
    assert chrome.line_centre(40.2, 1.0, 0, 100) == 40.5


def test_inner_border_is_four_rectangles_inside_the_box():
    assert chrome.inner_border((10, 20, 30, 26), 2, RED) == [
        Rect(10, 20, 30, 22, RED),
        Rect(10, 24, 30, 26, RED),
        Rect(10, 22, 12, 24, RED),
        Rect(28, 22, 30, 24, RED),
    ]
    # A skipped side lets the two sides next to it run to the box's edge.
    assert chrome.inner_border((0, 0, 10, 10), 1, RED, ("bottom",)) == [
        Rect(0, 0, 10, 1, RED),
        Rect(0, 1, 1, 10, RED),
        Rect(9, 1, 10, 10, RED),
    ]
    # Never wider than half the box.
    assert chrome.inner_border((0, 0, 4, 100), 5, RED)[0] == Rect(0, 0, 4, 2, RED)


def test_panel_template_background_then_grid_clipped_to_the_panel():
    theme = theme_by_name("gray")
    # Breaks at both edges: their lines are pulled inside and cut at the panel's edge.
    x = AxisView((0.0, 1.0), (0.0, 1.0), ("0", "1"), (0.5,))
    y = AxisView((0.0, 1.0))
    major = pt_to_px(theme.grid_major.width)
    minor = pt_to_px(theme.grid_minor.width)
    rects = chrome.panel_template(100, 50, x, y, theme)
    assert rects == (
        Rect(0, 0, 100, 50, theme.panel_background.fill),
        Rect(50.5 - minor / 2, 0, 50.5 + minor / 2, 50, theme.grid_minor.colour),
        Rect(0, 0, 0.5 + major / 2, 50, theme.grid_major.colour),
        Rect(99.5 - major / 2, 0, 100, 50, theme.grid_major.colour),
    )


def test_minor_lines_under_major_ones_are_left_out():
    theme = theme_by_name("gray")
    x = AxisView((0.0, 4.0), (2.0,), ("2",), (1.0, 2.0, 3.0))
    rects = chrome.panel_template(40, 40, x, AxisView((0.0, 1.0)), theme)
    minor = pt_to_px(theme.grid_minor.width)
    lines = [(r.x0 + r.x1) / 2 for r in rects if r.x1 - r.x0 == pytest.approx(minor)]
    assert lines == [10.5, 30.5]
    assert len(rects) == 1 + 2 + 1  # background, two minor lines, one major


def test_panels_with_the_same_scales_share_one_template():
    fig = figure(n_rows=2, n_cols=3)  # y differs per row
    theme = theme_by_name("gray")
    parts = chrome.figure_chrome(fig, compute_layout(fig, theme), theme)
    assert len(parts.templates) == 2
    assert parts.panel_templates == (0, 0, 0, 1, 1, 1)
    per_panel = figure(n_rows=2, n_cols=3, y_per_panel=True)
    parts = chrome.figure_chrome(per_panel, compute_layout(per_panel, theme), theme)
    assert parts.panel_templates == (0, 1, 2, 3, 4, 5)


def test_layers_hold_ticks_and_strips_under_borders_and_axis_lines_over():
    fig = figure(n_rows=2, n_cols=3)
    bw = theme_by_name("bw")
    layout = compute_layout(fig, bw)
    parts = chrome.figure_chrome(fig, layout, bw)
    n_ticks = sum(len(a.ticks) for a in layout.axes)
    # Strips: fill and three sides each (the side along the bordered panel is the panel's).
    n_strips = len(layout.col_strips) + len(layout.row_strips)
    assert len(parts.under) == n_ticks + 4 * n_strips
    assert {r.colour for r in parts.under[:n_ticks]} == {bw.axis_ticks.colour}
    assert parts.under[n_ticks] == Rect(*layout.col_strips[0], bw.strip_background.fill)
    assert len(parts.over) == 4 * len(layout.panels)
    assert parts.background == bw.plot_background.fill
    classic = theme_by_name("classic")
    layout = compute_layout(fig, classic)
    over = chrome.figure_chrome(fig, layout, classic).over
    assert len(over) == len(layout.axes)
    x_axis = next(a for a in layout.axes if a.axis == "x")
    x0, _, x1, y1 = layout.panel_box(x_axis.row, x_axis.col)
    w = pt_to_px(classic.axis_line.width)
    assert Rect(x0, y1 - w, x1, y1, classic.axis_line.colour) in over


def svg_rects(data: bytes) -> list[tuple[str, ...]]:
    """(x, y, width, height, fill) of every <rect>, in document order."""
    root = ET.fromstring(data)
    keys = ("x", "y", "width", "height", "fill")
    return [tuple(r.get(k) for k in keys) for r in root.iter(f"{NS}rect")]


def as_svg(rects, width: int, height: int) -> list[tuple[str, ...]]:
    """The rectangles as the SVG writer states them: cut to the image, 3 decimals."""
    out = []
    for r in rects:
        x0, y0, x1, y1 = max(r.x0, 0), max(r.y0, 0), min(r.x1, width), min(r.y1, height)
        if x1 > x0 and y1 > y0:
            fill = r.colour if isinstance(r.colour, str) else svg.colour(r.colour)
            out.append((svg.num(x0), svg.num(y0), svg.num(x1 - x0), svg.num(y1 - y0), fill))
    return out


@pytest.mark.parametrize("theme_name", ["gray", "bw", "classic", "linedraw"])
@pytest.mark.parametrize("legend", [None, continuous_legend(), categorical_legend()])
def test_svg_writes_exactly_the_chrome_the_png_path_paints(theme_name, legend):
    fig = figure(legend=legend, title="t")
    theme = theme_by_name(theme_name)
    layout = compute_layout(fig, theme)
    pw, ph = layout.panel_size
    rasters = np.zeros((len(layout.panels), ph, pw, 4), np.uint8)
    data = svg.draw_svg(fig, layout, theme, rasters, embed_data=True)
    parts = chrome.figure_chrome(fig, layout, theme)
    expected = [Rect(0, 0, layout.width, layout.height, parts.background)]
    for index, (x0, y0, _, _) in zip(parts.panel_templates, layout.panels, strict=True):
        expected += [r.moved(x0, y0) for r in parts.templates[index]]
    expected += [*parts.under, *parts.over]
    if legend is not None:
        for part in legend_chrome(legend, layout.legend, theme):
            # The colour bar is one rectangle painted with its gradient.
            expected.append(part if isinstance(part, Rect) else Rect(*part.box, "url(#bar1)"))
    glyph_rects = len(expected)
    assert svg_rects(data)[:glyph_rects] == as_svg(expected, layout.width, layout.height)
    # And the PNG path paints those rectangles: a pixel fully inside each (when
    # nothing later covers it) has the rectangle's colour.
    image = np.asarray(draw_figure(fig, layout, theme, rasters))
    text_boxes = [t.box for t in layout.texts()]
    checked = 0
    for i, r in enumerate(expected):
        if not isinstance(r.colour, tuple) or r.x1 - r.x0 < 1 or r.y1 - r.y0 < 1:
            continue
        cx, cy = int((r.x0 + r.x1) // 2), int((r.y0 + r.y1) // 2)
        if not (r.x0 <= cx and cx + 1 <= r.x1 and r.y0 <= cy and cy + 1 <= r.y1):
            continue
        later = [
            q
            for q in expected[i + 1 :]
            if q.x0 < cx + 1 and q.x1 > cx and q.y0 < cy + 1 and q.y1 > cy
        ]
        covered = any(b[0] <= cx < b[2] and b[1] <= cy < b[3] for b in text_boxes)
        keys = layout.legend.keys if layout.legend is not None else ()
        in_key = any(b[0] <= cx < b[2] and b[1] <= cy < b[3] for b in keys)
        if later or covered or in_key:
            continue
        assert tuple(image[cy, cx]) == r.colour, (i, r)
        checked += 1
    assert checked > 20
