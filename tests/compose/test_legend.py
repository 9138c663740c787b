"""Legend keys: one shape per entry (layers), glyphs by chart kind, PNG and SVG alike."""

from __future__ import annotations

import io
import shutil
import subprocess

import numpy as np
import pytest
from PIL import Image

from ggrs import stencils
from ggrs.compose import svg
from ggrs.compose.chrome import Rect
from ggrs.compose.figure import draw_figure
from ggrs.compose.layout import compute_layout
from ggrs.compose.legend import KEY_RADIUS, KeySymbol, draw_symbol, key_glyphs
from ggrs.compose.theme import theme_by_name
from ggrs.compose.views import AxisView, CategoricalLegend, FigureView, PanelView
from ggrs.errors import UsageError

COLOURS = ((230, 0, 0), (0, 160, 0), (0, 0, 230))
KEY_FILL = (235, 235, 235)  # theme_gray's legend key


def figure(legend):
    x = AxisView((0.0, 1.0), (0.25, 0.75), ("0.25", "0.75"))
    return FigureView(400, 300, 1, 1, (PanelView(0, 0, x, x),), legend=legend)


def render(legend):
    theme = theme_by_name("gray")
    layout = compute_layout(figure(legend), theme)
    pw, ph = layout.panel_size
    rasters = np.zeros((1, ph, pw, 4), np.uint8)
    return layout, np.asarray(draw_figure(figure(legend), layout, theme, rasters)).astype(int)


def test_entry_shapes_default_to_the_one_shape():
    legend = CategoricalLegend("g", ("a", "b"), COLOURS[:2], shape=17)
    assert legend.entry_shapes == (17, 17)
    layered = CategoricalLegend("", ("a", "b"), COLOURS[:2], shapes=(0, 21))
    assert layered.entry_shapes == (0, 21)


def test_entries_must_match_in_number():
    with pytest.raises(ValueError, match="2 labels but 1 shapes"):
        CategoricalLegend("", ("a", "b"), COLOURS[:2], shapes=(19,))
    with pytest.raises(ValueError, match="2 labels but 3 colours"):
        CategoricalLegend("", ("a", "b"), COLOURS)


def test_shapes_do_not_move_the_keys():
    plain = compute_layout(
        figure(CategoricalLegend("", ("a", "b", "c"), COLOURS)), theme_by_name("gray")
    )
    layered = compute_layout(
        figure(CategoricalLegend("", ("a", "b", "c"), COLOURS, shapes=(0, 19, 21))),
        theme_by_name("gray"),
    )
    assert layered.legend.keys == plain.legend.keys
    keys = layered.legend.keys
    # Three equal squares stacked in one column, one key size apart.
    assert len({k[0] for k in keys}) == 1 and len({k[2] - k[0] for k in keys}) == 1
    side = keys[0][2] - keys[0][0]
    assert all(k[3] - k[1] == side for k in keys)
    assert [k[1] - keys[0][1] for k in keys] == [0, side, 2 * side]


def test_each_entry_draws_its_own_shape_and_colour():
    legend = CategoricalLegend("", ("open", "solid", "outlined"), COLOURS, shapes=(0, 19, 21))
    layout, img = render(legend)
    (o, s, f) = [img[k[1] : k[3], k[0] : k[2]] for k in layout.legend.keys]
    centre = o.shape[0] // 2
    # Open square: key fill in the middle, its colour on the stroke.
    assert tuple(o[centre, centre]) == KEY_FILL
    assert (np.abs(o - COLOURS[0]).max(axis=2) <= 40).any()
    # Solid circle: its colour in the middle, no black.
    assert np.abs(s[centre, centre] - COLOURS[1]).max() <= 40
    assert not (s.max(axis=2) <= 40).any()
    # Filled circle: its colour in the middle, a black outline around it.
    assert np.abs(f[centre, centre] - COLOURS[2]).max() <= 40
    assert (f.max(axis=2) <= 40).any()


def test_legend_and_data_share_one_geometry():
    # The key square of a 5-pixel-radius symbol, drawn at the data's size: the
    # legend's open square covers the stencil's outline pixels and no others.
    image = Image.new("RGB", (25, 25), KEY_FILL)
    draw_symbol(image, (0, 0, 25, 25), 0, (0, 0, 0))  # radius 0.2 × 25 = 5 px
    dark = np.asarray(image)[..., 0] < 120
    outline = stencils.stencil(0, 10).outline  # half-side 5, centred on pixel 12
    expected = np.zeros((25, 25), bool)
    reach = outline.shape[0] // 2
    expected[12 - reach : 12 + reach + 1, 12 - reach : 12 + reach + 1] = outline
    np.testing.assert_array_equal(dark, expected)


@pytest.mark.parametrize("bad", [99, -1, 26])
def test_bad_shape_codes_are_usage_errors(bad):
    image = Image.new("RGB", (20, 20))
    with pytest.raises(UsageError, match="shape code 0-25"):
        draw_symbol(image, (0, 0, 20, 20), bad, (0, 0, 0))


def test_key_kind_must_be_known():
    assert CategoricalLegend("", ("a",), COLOURS[:1]).key == "point"
    with pytest.raises(ValueError, match="legend key must be one of point, line, bar; got 'area'"):
        CategoricalLegend("", ("a",), COLOURS[:1], key="area")


def keys_of(kind):
    legend = CategoricalLegend("g", ("a", "b", "c"), COLOURS, key=kind)
    layout, img = render(legend)
    assert layout.legend.keys[0] == (348, 116, 371, 139)  # 23 px keys, one under the other
    return legend, layout, img


def test_point_keys_are_the_entry_symbols():
    legend, layout, _ = keys_of("point")
    glyphs = key_glyphs(legend, layout.legend)
    assert glyphs[0] == KeySymbol((348, 116, 371, 139), 19, COLOURS[0])
    assert glyphs[0].centre == (359.5, 127.5)
    assert glyphs[0].radius == pytest.approx(KEY_RADIUS * 23)


def test_line_keys_are_a_horizontal_line_across_the_key():
    legend, layout, img = keys_of("line")
    glyphs = key_glyphs(legend, layout.legend)
    # 1.5 px wide on the pixel boundary nearest the centre, 10 % in from each side.
    assert [(g.x0, g.y0, g.x1, g.y1, g.colour) for g in glyphs] == [
        (pytest.approx(350.3), 127.25, pytest.approx(368.7), 128.75, COLOURS[0]),
        (pytest.approx(350.3), 150.25, pytest.approx(368.7), 151.75, COLOURS[1]),
        (pytest.approx(350.3), 173.25, pytest.approx(368.7), 174.75, COLOURS[2]),
    ]
    key = img[116:139, 348:371]
    # Rows 11 and 12 of the key are 3/4 covered; the ends 0.7 × that; the rest is key fill.
    red_on_fill = (231, 59, 59)
    assert (key[11:13, 3:20] == red_on_fill).all()
    assert (key[11:13, [2, 20]] == (232, 112, 112)).all()
    key[11:13, 2:21] = KEY_FILL
    assert (key == KEY_FILL).all()


def test_bar_keys_are_a_filled_square_a_pixel_inside_the_key():
    legend, layout, img = keys_of("bar")
    assert key_glyphs(legend, layout.legend)[1] == Rect(349, 140, 370, 161, COLOURS[1])
    key = img[139:162, 348:371]
    assert (key[1:-1, 1:-1] == COLOURS[1]).all()
    key[1:-1, 1:-1] = KEY_FILL
    assert (key == KEY_FILL).all()


@pytest.mark.parametrize("kind", ["point", "line", "bar"])
def test_png_and_svg_draw_the_same_keys(kind):
    legend = CategoricalLegend("g", ("a", "b", "c"), COLOURS, shape=1, key=kind)
    theme = theme_by_name("gray")
    fig = figure(legend)
    layout = compute_layout(fig, theme)
    pw, ph = layout.panel_size
    rasters = np.zeros((1, ph, pw, 4), np.uint8)
    png = np.asarray(draw_figure(fig, layout, theme, rasters)).astype(int)
    data = svg.draw_svg(fig, layout, theme, rasters, embed_data=True)
    exe = shutil.which("rsvg-convert") or "/usr/bin/rsvg-convert"
    done = subprocess.run([exe, "--format=png"], input=data, capture_output=True, check=True)
    with Image.open(io.BytesIO(done.stdout)) as image:
        shown = np.asarray(image.convert("RGB")).astype(int)
    glyphs = key_glyphs(legend, layout.legend)
    # Key glyphs come after the group of texts.
    tail = data[data.index(b"</g>", data.index(b"<g font-family")) :]
    if kind == "point":
        assert tail.count(b"<circle") == 3
    else:
        assert tail.count(b"<rect") == 3
        for g in glyphs:
            assert f'x="{svg.num(g.x0)}" y="{svg.num(g.y0)}"'.encode() in tail
    for x0, y0, x1, y1 in layout.legend.keys:
        diff = np.abs(shown[y0:y1, x0:x1] - png[y0:y1, x0:x1])
        if kind == "point":
            # Same geometry, two anti-aliasers (4× box filter vs coverage).
            assert diff.mean() < 6
        else:
            # Rectangles: the same coverage but for rounding.
            assert diff.max() <= 1
