"""SVG and hybrid SVG output: valid XML, real text, exact data, and a real renderer's view.

The rendering tests run ``rsvg-convert`` (Debian's librsvg2-bin, which ``./bazelw``
installs) and compare its pixels with :func:`draw_figure`'s PNG image of the same
figure. Measured on the figures below: away from texts and key symbols the two
differ by at most 1 level (rounding of fractional edges); inside text boxes the
fonts are the same but the rasterisers are not (hinting, advances), so texts are
compared by where their ink lies, not pixel by pixel.
"""

from __future__ import annotations

import base64
import io
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from PIL import Image

from ggrs import pipeline, render
from ggrs.compose import svg
from ggrs.compose.encode import encode_figure, encode_png
from ggrs.compose.figure import draw_figure
from ggrs.compose.layout import compute_layout
from ggrs.compose.theme import theme_by_name
from ggrs.compose.views import CategoricalLegend
from ggrs.errors import UsageError
from ggrs.properties import parse_properties
from tests.compose.conftest import categorical_legend, continuous_legend, figure

NS = "{http://www.w3.org/2000/svg}"
RED = (200, 30, 30, 255)
HALF_BLUE = (0, 0, 200, 128)


def rasters_for(layout, seed: int = 0) -> np.ndarray:
    """Two blocks per panel, one opaque and one half transparent, plus sparse noise."""
    pw, ph = layout.panel_size
    r = np.zeros((len(layout.panels), ph, pw, 4), np.uint8)
    r[:, 10:60, 20:80] = RED
    r[:, 30:40, 50:150] = HALF_BLUE
    rng = np.random.default_rng(seed)
    hits = rng.random((len(layout.panels), ph, pw)) < 0.01
    r[hits] = (10, 120, 10, 77)
    return r


def setup(theme_name: str = "gray", legend=None, title: str = "My title"):
    fig = figure(legend=legend, title=title)
    theme = theme_by_name(theme_name)
    layout = compute_layout(fig, theme)
    return fig, layout, theme, rasters_for(layout)


def rsvg(data: bytes) -> np.ndarray:
    exe = shutil.which("rsvg-convert") or "/usr/bin/rsvg-convert"
    assert Path(exe).exists(), "rsvg-convert missing: apt-get install librsvg2-bin (./bazelw does)"
    done = subprocess.run([exe, "--format=png"], input=data, capture_output=True, check=True)
    with Image.open(io.BytesIO(done.stdout)) as image:
        return np.asarray(image.convert("RGBA"))


def texts(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter(f"{NS}text")]


@pytest.mark.parametrize("embed", [False, True], ids=["svg", "hsvg"])
def test_parses_as_svg_with_every_label_as_text(embed):
    fig, layout, theme, rasters = setup(legend=continuous_legend())
    root = ET.fromstring(svg.draw_svg(fig, layout, theme, rasters, embed_data=embed))
    assert root.tag == f"{NS}svg"
    assert (root.get("width"), root.get("height")) == ("900", "600")
    found = texts(root)
    assert found == [t.text for t in layout.texts()]
    for label in ("My title", "x value", "y value", "column 2", "row 1", "-2.5", "value", "0.5"):
        assert label in found
    family = {g.get("font-family") for g in root.iter(f"{NS}g") if g.find(f"{NS}text") is not None}
    assert family == {"'DejaVu Sans', sans-serif"}


def test_bold_and_rotated_texts_keep_their_style():
    fig, layout, theme, rasters = setup()
    root = ET.fromstring(svg.draw_svg(fig, layout, theme, rasters, embed_data=False))
    by_text = {t.text: t for t in root.iter(f"{NS}text")}
    # theme_grey: the y title turns 90° counter-clockwise, strips on the right -90°.
    assert "rotate(-90)" in by_text["y value"].get("transform")
    assert "rotate(90)" in by_text["row 0"].get("transform")
    assert by_text["x value"].get("font-size") == svg.num(11 * 96 / 72)
    assert by_text["x value"].get("fill") == "#000000"


def test_special_characters_are_escaped_and_come_back():
    title = "a<b> & \"c\" 'd'"
    fig, layout, theme, rasters = setup(title=title)
    data = svg.draw_svg(fig, layout, theme, rasters, embed_data=False)
    assert b"a&lt;b&gt; &amp; &quot;c&quot;" in data
    assert title in texts(ET.fromstring(data))


def test_control_characters_cannot_break_the_xml():
    fig, layout, theme, rasters = setup(title="bell\x07here")
    root = ET.fromstring(svg.draw_svg(fig, layout, theme, rasters, embed_data=False))
    assert "bell\ufffdhere" in texts(root)


@pytest.mark.parametrize("embed", [False, True], ids=["svg", "hsvg"])
def test_same_bytes_every_time(embed):
    fig, layout, theme, rasters = setup(legend=continuous_legend())
    first = svg.draw_svg(fig, layout, theme, rasters, embed_data=embed)
    assert svg.draw_svg(fig, layout, theme, rasters.copy(), embed_data=embed) == first


def paint_paths(root: ET.Element, shape: tuple[int, int]) -> tuple[np.ndarray, int]:
    """Rebuild panel 0's RGBA raster from the data paths of the first data group."""
    h, w = shape
    out = np.zeros((h, w, 4), np.uint8)
    group = next(g for g in root.iter(f"{NS}g") if (g.get("transform") or "").startswith("tr"))
    n = 0
    for path in group.iter(f"{NS}path"):
        rgb = [int(path.get("fill")[i : i + 2], 16) for i in (1, 3, 5)]
        alpha = round(float(path.get("fill-opacity", "1")) * 255)
        for x, y, rw, rh, back in re.findall(r"M(\d+) (\d+)h(\d+)v(\d+)h-(\d+)z", path.get("d")):
            assert rw == back
            x, y, rw, rh = int(x), int(y), int(rw), int(rh)
            assert not out[y : y + rh, x : x + rw, 3].any(), "rectangles overlap"
            out[y : y + rh, x : x + rw] = (*rgb, alpha)
            n += 1
    return out, n


def test_vector_data_rebuilds_the_raster_exactly():
    fig, layout, theme, rasters = setup()
    data = svg.draw_svg(fig, layout, theme, rasters, embed_data=False)
    root = ET.fromstring(data)
    pw, ph = layout.panel_size
    rebuilt, n_rects = paint_paths(root, (ph, pw))
    np.testing.assert_array_equal(rebuilt[rebuilt[..., 3] > 0], rasters[0][rasters[0][..., 3] > 0])
    np.testing.assert_array_equal(rebuilt[..., 3] > 0, rasters[0][..., 3] > 0)
    # One path per colour; the red block is one rectangle cut by the blue bar.
    assert data.count(b"<path") == 3 * len(layout.panels)
    assert n_rects == len(svg.raster_runs(rasters[0])[0])


def test_runs_merge_into_rectangles_not_points():
    raster = np.zeros((50, 40, 4), np.uint8)
    raster[5:25, 3:13] = RED  # a 10×20 block: one rectangle
    raster[30, ::2] = HALF_BLUE  # 20 separate pixels on one row: 20 runs
    raster[40:45, 0:40] = (1, 2, 3, 4)  # full rows: one rectangle
    x, y, w, h, rgba = svg.raster_runs(raster)
    rects = sorted(
        zip(x.tolist(), y.tolist(), w.tolist(), h.tolist(), map(tuple, rgba.tolist()), strict=True)
    )
    assert len(rects) == 22
    assert (3, 5, 10, 20, RED) in rects
    assert (0, 40, 40, 5, (1, 2, 3, 4)) in rects
    assert [r for r in rects if r[4] == HALF_BLUE] == [
        (i, 30, 1, 1, HALF_BLUE) for i in range(0, 40, 2)
    ]


def test_many_points_in_few_pixels_make_few_elements():
    # 1e5 points on a 400×300 figure: the file is bounded by the raster's runs.
    rng = np.random.default_rng(1)
    table = pa.table({"x": rng.normal(size=100_000), "y": rng.normal(size=100_000)})
    props = parse_properties({"plot.width": "400", "plot.height": "300", "output.format": "svg"})
    pages = pipeline.render_table(
        table, pipeline.PlotRequest(aes=pipeline.Aesthetics(x="x", y="y"), properties=props)
    )
    data = pages[0].image
    assert pages[0].mimetype == "image/svg+xml"
    # Measured 2080 rectangles (runs merged down the blob's core), against 1e5 points.
    assert data.count(b"M") < 5_000
    assert len(data) < 60_000
    rsvg(data)


def test_hsvg_embeds_each_panel_raster_exactly():
    fig, layout, theme, rasters = setup()
    root = ET.fromstring(svg.draw_svg(fig, layout, theme, rasters, embed_data=True))
    images = list(root.iter(f"{NS}image"))
    assert len(images) == len(layout.panels)
    for image, raster, (x0, y0, x1, y1) in zip(images, rasters, layout.panels, strict=True):
        geometry = [image.get(k) for k in ("x", "y", "width", "height")]
        assert geometry == [str(x0), str(y0), str(x1 - x0), str(y1 - y0)]
        # SVG 1.1's xlink:href: older viewers ignore a bare href.
        href = image.get("{http://www.w3.org/1999/xlink}href")
        assert href.startswith("data:image/png;base64,")
        with Image.open(io.BytesIO(base64.b64decode(href.split(",", 1)[1]))) as png:
            assert png.mode == "RGBA"
            np.testing.assert_array_equal(np.asarray(png), raster)


def text_ink_centre(gray: np.ndarray, box, background: int) -> tuple[float, float, float]:
    """Centre (x, y) of the ink in ``box`` and its total, ink = distance from the background."""
    x0, y0, x1, y1 = box
    ink = np.abs(gray[y0:y1, x0:x1] - background)
    ys, xs = np.indices(ink.shape)
    total = ink.sum()
    return (xs * ink).sum() / total, (ys * ink).sum() / total, total


@pytest.mark.parametrize(
    "theme_name,legend",
    [
        ("gray", continuous_legend()),
        ("bw", categorical_legend(21)),
        ("classic", categorical_legend(4)),
        ("dark", None),
    ],
)
@pytest.mark.parametrize("embed", [False, True], ids=["svg", "hsvg"])
def test_rsvg_renders_what_the_png_path_draws(theme_name, legend, embed):
    fig, layout, theme, rasters = setup(theme_name, legend)
    png = np.asarray(draw_figure(fig, layout, theme, rasters)).astype(np.int16)
    shown = rsvg(svg.draw_svg(fig, layout, theme, rasters, embed_data=embed))
    assert shown.shape == (600, 900, 4)
    assert (shown[..., 3] == 255).all()  # the plot background covers everything
    shown = shown[..., :3].astype(np.int16)
    diff = np.abs(shown - png).max(axis=2)
    assert diff.mean() < 1.0  # measured 0.55–0.80 with text anti-aliasing
    # Chrome, colour bar and data: the same pixels but for rounding.
    near_text = np.zeros(diff.shape, bool)
    for x0, y0, x1, y1 in [t.box for t in layout.texts()] + list(
        layout.legend.keys if layout.legend else []
    ):
        near_text[max(y0 - 2, 0) : y1 + 2, max(x0 - 2, 0) : x1 + 2] = True
    assert diff[~near_text].max() <= 1
    # Texts: the same ink in the same place (within 3.5 px over a title-long
    # label: the two rasterisers advance glyphs slightly differently).
    gray_png, gray_svg = png.sum(axis=2), shown.sum(axis=2)
    for placed in layout.texts():
        x0, y0, x1, y1 = placed.box
        # Labels sit on one flat colour (plot background or strip): the commonest value.
        values, counts = np.unique(gray_png[y0 - 2 : y1 + 2, x0 - 2 : x1 + 2], return_counts=True)
        background = int(values[counts.argmax()])
        a = text_ink_centre(gray_png, placed.box, background)
        b = text_ink_centre(gray_svg, placed.box, background)
        assert abs(a[0] - b[0]) < 3.5 and abs(a[1] - b[1]) < 1.0, placed.text
        assert 0.7 < b[2] / a[2] < 1.3, placed.text


def test_encode_figure_png_is_the_png_path():
    fig, layout, theme, rasters = setup()
    data, mimetype = encode_figure(fig, layout, theme, rasters, "png", "fast")
    assert mimetype == "image/png"
    assert data == encode_png(draw_figure(fig, layout, theme, rasters), "fast")


@pytest.mark.parametrize("fmt,embedded", [("svg", False), ("HSVG ", True)])
def test_encode_figure_svg_formats(fmt, embedded):
    fig, layout, theme, rasters = setup()
    data, mimetype = encode_figure(fig, layout, theme, rasters, fmt, "default")
    assert mimetype == "image/svg+xml"
    assert data == svg.draw_svg(
        fig, layout, theme, rasters, embed_data=embedded, png_compression="default"
    )


def test_bad_format_compression_and_rasters_are_refused():
    fig, layout, theme, rasters = setup()
    with pytest.raises(
        UsageError, match=r"output\.format must be one of png, svg, hsvg; got 'pdf'"
    ):
        encode_figure(fig, layout, theme, rasters, "pdf", "fast")
    with pytest.raises(UsageError, match=r"png\.compression"):
        svg.draw_svg(fig, layout, theme, rasters, embed_data=True, png_compression="max")
    with pytest.raises(UsageError, match="panel rasters must be uint8"):
        svg.draw_svg(fig, layout, theme, rasters[:, :, :, :3], embed_data=False)


def test_output_format_property_accepts_the_three_formats():
    for fmt in ("png", "svg", "hsvg"):
        assert parse_properties({"output.format": fmt})["output.format"] == fmt
    with pytest.raises(UsageError, match=r"output\.format"):
        parse_properties({"output.format": "pdf"})


def test_render_refuses_an_output_named_for_another_format():
    render.check_output_extension(Path("plot.svg"), "hsvg")
    render.check_output_extension(Path("plot.PNG"), "png")
    render.check_output_extension(Path("plot"), "svg")  # no image extension: as given
    with pytest.raises(UsageError, match=r"plot\.png ends in \.png .* name the file plot\.svg"):
        render.check_output_extension(Path("plot.png"), "svg")
    with pytest.raises(UsageError, match=r"writes \.png files"):
        render.check_output_extension(Path("a.svg"), "png")


def test_ascii_join_writes_decimal_rows():
    data, lengths = svg.ascii_join([b"M", np.array([0, 7, 1234]), b",", np.array([10, 0, 5])], 3)
    assert data == b"M0,10M7,0M1234,5"
    assert lengths.tolist() == [5, 4, 7]


def test_numbers_are_fixed_format():
    assert [svg.num(v) for v in (0.0, -0.0001, 1.5, 2.0, 1 / 3, -7.25)] == [
        "0",
        "0",
        "1.5",
        "2",
        "0.333",
        "-7.25",
    ]
    assert all(round(float(svg.num_alpha(a)) * 255) == a for a in range(256))


@pytest.mark.parametrize("first", range(0, 26, 3))
def test_key_symbols_are_the_png_legend_shapes(first):
    shapes = tuple(min(s, 25) for s in range(first, first + 3))
    legend = CategoricalLegend("group", ("a", "bb", "ccc"), categorical_legend().colors, 19, shapes)
    fig, layout, theme, rasters = setup("bw", legend)
    png = np.asarray(draw_figure(fig, layout, theme, rasters)).astype(np.int16)
    shown = rsvg(svg.draw_svg(fig, layout, theme, rasters, embed_data=True))[..., :3]
    for x0, y0, x1, y1 in layout.legend.keys:
        diff = np.abs(shown[y0:y1, x0:x1].astype(np.int16) - png[y0:y1, x0:x1])
        # Same geometry, two anti-aliasers (4× box filter vs coverage): measured ≤ 4.6.
        assert diff.mean() < 6, shapes


def test_undecodable_text_and_zoomed_runs():
    fig, layout, theme, rasters = setup()
    # A lone surrogate (an undecodable byte of a command-line argument) is replaced.
    assert "\ufffd" in svg.text_element(replace(layout.texts()[0], text="a\udcffb"))
    root = ET.fromstring(svg.draw_svg(fig, layout, theme, rasters, embed_data=False))
    # Data runs render edge to edge: no anti-aliased seams between colours.
    groups = [g for g in root.iter(f"{NS}g") if g.get("shape-rendering") == "crispEdges"]
    assert len(groups) == len(layout.panels)
