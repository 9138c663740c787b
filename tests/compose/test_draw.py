from __future__ import annotations

import numpy as np
import pytest

from ggrs.compose.figure import draw_figure
from ggrs.compose.layout import compute_layout
from ggrs.compose.theme import THEME_NAMES, ThemeOverrides, apply_overrides, theme_by_name
from ggrs.compose.views import AxisView, FigureView, PanelView
from ggrs.errors import UsageError

RED = (255, 0, 0)


def single(legend=None, width=400, height=300) -> FigureView:
    # Breaks at 0.25 and 0.75 only: the panel centre (0.5) is on no grid line.
    x = AxisView((0.0, 1.0), (0.25, 0.75), ("0.25", "0.75"), (0.125, 0.375, 0.625, 0.875))
    y = AxisView((0.0, 1.0), (0.25, 0.75), ("0.25", "0.75"))
    return FigureView(width, height, 1, 1, (PanelView(0, 0, x, y),), legend=legend)


def render(fig, theme, fill=None):
    layout = compute_layout(fig, theme)
    pw, ph = layout.panel_size
    rasters = np.zeros((len(layout.panels), ph, pw, 4), np.uint8)
    if fill is not None:
        fill(rasters)
    return layout, np.asarray(draw_figure(fig, layout, theme, rasters))


def test_transparent_raster_shows_the_panel_fill():
    layout, img = render(single(), theme_by_name("gray"))
    x0, y0, x1, y1 = layout.panels[0]
    assert tuple(img[(y0 + y1) // 2, (x0 + x1) // 2]) == (235, 235, 235)
    assert img.shape == (300, 400, 3)
    assert tuple(img[0, 0]) == (255, 255, 255)  # plot background


def test_opaque_raster_pixel_lands_at_its_mapped_position():
    def mark(r):
        r[0, 10, 20] = (*RED, 255)

    layout, img = render(single(), theme_by_name("gray"), mark)
    x0, y0, _, _ = layout.panels[0]
    assert tuple(img[y0 + 10, x0 + 20]) == RED
    assert tuple(img[y0 + 10, x0 + 21]) != RED
    assert tuple(img[y0 + 11, x0 + 20]) != RED


def test_half_transparent_raster_blends_over_the_panel():
    def half(r):
        r[0, 5, 5] = (0, 0, 0, 128)

    layout, img = render(single(), theme_by_name("gray"), half)
    x0, y0, _, _ = layout.panels[0]
    assert tuple(img[y0 + 5, x0 + 5]) == (117, 117, 117)  # round(235 * 127 / 255)


@pytest.mark.parametrize("name,colour", [("gray", (255, 255, 255)), ("bw", (235, 235, 235))])
def test_major_grid_line_at_break(name, colour):
    layout, img = render(single(), theme_by_name(name))
    x0, y0, x1, y1 = layout.panels[0]
    pw = x1 - x0
    gx = int(np.floor(x0 + 0.25 * pw))
    mid_y = (y0 + y1) // 2
    assert tuple(img[mid_y, gx]) == colour
    # The neighbouring column two pixels away is plain panel background.
    fill = theme_by_name(name).panel_background.fill
    assert tuple(img[mid_y, gx + 3]) == fill


def test_grid_disabled_leaves_plain_panel():
    theme = apply_overrides(
        theme_by_name("gray"), ThemeOverrides(grid_major_disable=True, grid_minor_disable=True)
    )
    layout, img = render(single(), theme)
    x0, y0, x1, y1 = layout.panels[0]
    inner = img[y0 + 2 : y1 - 2, x0 + 2 : x1 - 2]
    assert (inner == 235).all()


def test_minor_grid_is_fainter_than_major():
    layout, img = render(single(), theme_by_name("gray"))
    x0, y0, x1, y1 = layout.panels[0]
    pw, mid_y = x1 - x0, (y0 + y1) // 2
    major = img[mid_y, int(np.floor(x0 + 0.25 * pw))]
    minor = img[mid_y, int(np.floor(x0 + 0.125 * pw))]
    assert 235 < int(minor[0]) < int(major[0]) == 255


def test_data_covers_grid_and_border_covers_data():
    def solid(r):
        r[...] = (*RED, 255)

    layout, img = render(single(), theme_by_name("bw"), solid)
    x0, y0, x1, y1 = layout.panels[0]
    assert tuple(img[(y0 + y1) // 2, int(np.floor(x0 + 0.25 * (x1 - x0)))]) == RED
    # bw's grey20 border is drawn over the data on the panel's outermost pixels.
    assert tuple(img[(y0 + y1) // 2, x0]) != RED
    assert int(img[(y0 + y1) // 2, x0][0]) < 100


def test_ticks_and_strip_colours():
    fig = FigureView(400, 300, 1, 1, single().panels, col_strips=("facet",), row_strips=("r",))
    layout, img = render(fig, theme_by_name("gray"))
    sx0, sy0, _, _ = layout.col_strips[0]
    assert tuple(img[sy0 + 1, sx0 + 1]) == (217, 217, 217)
    axis = layout.axis("x", 0, 0)
    _, _, _, py1 = layout.panels[0]
    tx = int(np.floor(axis.ticks[0]))
    assert int(img[py1 + 1, tx][0]) < 120  # grey20 tick below the panel


def test_continuous_legend_bar_runs_low_to_high(legends):
    layout, img = render(single(legends["continuous"]()), theme_by_name("gray"))
    bx0, by0, bx1, by1 = layout.legend.bar
    cx = (bx0 + bx1) // 2
    bottom, top = img[by1 - 1, cx].astype(int), img[by0, cx].astype(int)
    assert np.abs(bottom - (68, 1, 84)).max() <= 3
    assert np.abs(top - (253, 231, 37)).max() <= 3


@pytest.mark.parametrize("shape", [19, 15, 17, 18, 21])
def test_categorical_key_symbols_are_filled(legends, shape):
    legend = legends["categorical"](shape)
    layout, img = render(single(legend), theme_by_name("gray"))
    for box, colour in zip(layout.legend.keys, legend.colors, strict=True):
        cx, cy = (box[0] + box[2]) // 2, (box[1] + box[3]) // 2
        assert np.abs(img[cy, cx].astype(int) - colour).max() <= 40, shape


@pytest.mark.parametrize("shape", [0, 1, 2])
def test_hollow_key_symbols_show_the_key_background(legends, shape):
    legend = legends["categorical"](shape)
    layout, img = render(single(legend), theme_by_name("gray"))
    for box, colour in zip(layout.legend.keys, legend.colors, strict=True):
        cx, cy = (box[0] + box[2]) // 2, (box[1] + box[3]) // 2
        assert tuple(img[cy, cx]) == (235, 235, 235)
        key = img[box[1] : box[3], box[0] : box[2]].astype(int)
        assert (np.abs(key - colour).max(axis=2) <= 40).any()  # the outline is there


@pytest.mark.parametrize("name", THEME_NAMES)
def test_every_theme_draws(make_figure, legends, name):
    fig = make_figure(legend=legends["categorical"](), title="t")
    _, img = render(fig, theme_by_name(name))
    assert img.shape == (fig.height, fig.width, 3)
    assert (img != img[0, 0]).any()


def test_drawing_is_deterministic(make_figure, legends):
    fig = make_figure(legend=legends["continuous"](), title="t")
    theme = apply_overrides(theme_by_name("gray"), ThemeOverrides(x_tick_rotation=30))
    _, a = render(fig, theme)
    _, b = render(fig, theme)
    assert np.array_equal(a, b)


def test_wrong_raster_shape_is_a_usage_error():
    fig = single()
    theme = theme_by_name("gray")
    layout = compute_layout(fig, theme)
    pw, ph = layout.panel_size
    with pytest.raises(UsageError, match="shape"):
        draw_figure(fig, layout, theme, np.zeros((1, ph + 1, pw, 4), np.uint8))
    with pytest.raises(UsageError):
        draw_figure(fig, layout, theme, np.zeros((1, ph, pw, 4), np.float32))
