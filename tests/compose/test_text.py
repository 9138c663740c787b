from __future__ import annotations

import itertools

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from ggrs.compose import text


def ink_box(image: Image.Image) -> tuple[int, int, int, int]:
    a = np.asarray(image.convert("L")) < 255
    ys, xs = np.nonzero(a)
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def test_measure_grows_with_size():
    sizes = [6, 8, 8.8, 11, 13.2, 20, 30]
    dims = [text.measure("Sample 123", s) for s in sizes]
    for (w0, h0), (w1, h1) in itertools.pairwise(dims):
        assert w1 > w0 and h1 > h0


def test_measure_bold_is_wider():
    assert text.measure("Width", 11, bold=True)[0] > text.measure("Width", 11)[0]


def test_measure_rotation():
    w, h = text.measure("label", 11)
    assert text.measure("label", 11, angle=90) == (h, w)
    assert text.measure("label", 11, angle=-90) == (h, w)
    w45, h45 = text.measure("label", 11, angle=45)
    assert w45 == h45 == pytest.approx((w + h) / 2**0.5, abs=1)


def test_blank_text_measures_zero():
    assert text.measure("", 11) == (0, 0)
    assert text.measure("   ", 11) == (0, 0)


def test_labels_share_a_baseline_band():
    # Same height whatever the letters, so strip and tick labels line up.
    assert text.measure("ace", 11)[1] == text.measure("Ag", 11)[1]


def test_font_is_bundled_and_basic_layout():
    f = text.font(11)
    assert f.layout_engine == ImageFont.Layout.BASIC
    assert "DejaVu" in f.getname()[0]


@pytest.mark.parametrize("angle", [0, 90, -90, 180, 45, -30])
def test_drawn_ink_stays_in_the_box(angle):
    image = Image.new("RGB", (200, 200), "white")
    box = text.draw_text(
        image, "Mg 4.5", 11, (100, 100), (0, 0, 0), angle=angle, hjust=1.0, vjust=1.0
    )
    assert box == text.text_box("Mg 4.5", 11, (100, 100), angle=angle, hjust=1.0, vjust=1.0)
    x0, y0, x1, y1 = ink_box(image)
    assert box[0] <= x0 and box[1] <= y0 and x1 <= box[2] and y1 <= box[3]
    # Along the text, the ink fills the box (no slack beyond antialiasing).
    if angle in (0, 180):
        assert (x1 - x0) >= (box[2] - box[0]) - 2
    elif angle in (90, -90):
        assert (y1 - y0) >= (box[3] - box[1]) - 2


def test_anchor_justification():
    # hjust=1, vjust=0.5 puts the right end of the box at the anchor, centred vertically.
    _, y0, x1, y1 = text.text_box("12.5", 11, (50.0, 40.0), hjust=1.0, vjust=0.5)
    assert x1 == 50
    assert abs((y0 + y1) / 2 - 40) <= 0.5
    # 90°: the text reads upwards and its end (hjust=1) is at the top.
    _, y0, _, _ = text.text_box("12.5", 11, (50.0, 40.0), angle=90, hjust=1.0, vjust=0.5)
    assert y0 == 40


@pytest.mark.parametrize("label,bold", [("Mg 4.5", False), ("jy", True), ("a\nb", False)])
def test_baseline_origin_is_where_draw_text_starts_the_baseline(label, bold):
    # Upright: the pen started at the origin with a baseline-left anchor draws
    # exactly draw_text's pixels.
    anchor = (60.3, 40.6)
    drawn = Image.new("L", (160, 80), 0)
    text.draw_text(drawn, label, 11, anchor, 255, bold=bold, hjust=0.2, vjust=0.7)
    ox, oy = text.baseline_origin(label, 11, anchor, bold=bold, hjust=0.2, vjust=0.7)
    assert (ox, oy) == (int(ox), int(oy))
    pen = Image.new("L", (160, 80), 0)
    font = text.font(11, bold)
    pen_draw = ImageDraw.Draw(pen)
    pen_draw.text((ox, oy), text.single_line(label), fill=255, font=font, anchor="ls")
    np.testing.assert_array_equal(np.asarray(pen), np.asarray(drawn))


def test_baseline_origin_turns_with_the_text():
    anchor = (100.0, 100.0)
    x0, y0, _, _ = text.text_box("Mg", 11, anchor)
    left, ascent = np.subtract(text.baseline_origin("Mg", 11, anchor), (x0, y0))
    assert left <= 0 < ascent
    # 90° counter-clockwise: the baseline runs up the box's left part from its bottom.
    x0, _, _, y1 = text.text_box("Mg", 11, anchor, angle=90)
    assert text.baseline_origin("Mg", 11, anchor, angle=90) == (x0 + ascent, y1 + left)
    # 180°: upside down, starting at the right.
    _, _, x1, y1 = text.text_box("Mg", 11, anchor, angle=180)
    assert text.baseline_origin("Mg", 11, anchor, angle=180) == (x1 + left, y1 - ascent)
    # Other angles: the origin lies the same distance from the box's centre.
    box = text.text_box("Mg", 11, anchor, angle=30)
    ox, oy = text.baseline_origin("Mg", 11, anchor, angle=30)
    w, h = text.measure("Mg", 11)
    upright = np.hypot(-left - w / 2, ascent - h / 2)
    assert np.hypot(ox - (box[0] + box[2]) / 2, oy - (box[1] + box[3]) / 2) == pytest.approx(
        upright, abs=0.5
    )


def test_blank_text_has_no_baseline():
    assert text.baseline_origin("  ", 11, (5.0, 5.0)) is None
    assert text.single_line("a\r\nb") == "a  b"
