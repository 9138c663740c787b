from __future__ import annotations

import itertools

import pytest

from ggrs.compose.layout import (
    MIN_PANEL_PX,
    Layout,
    compute_layout,
    x_label_justification,
    y_label_justification,
)
from ggrs.compose.theme import ThemeOverrides, apply_overrides, theme_by_name
from ggrs.compose.views import AxisView, CategoricalLegend, FigureView, PanelView
from ggrs.errors import LayoutError


def themed(**overrides) -> object:
    return apply_overrides(theme_by_name("gray"), ThemeOverrides(**overrides))


def named_boxes(layout: Layout) -> list[tuple[str, tuple[int, int, int, int]]]:
    """Every box that must not overlap another."""
    out = [(f"panel{i}", b) for i, b in enumerate(layout.panels)]
    out += [(f"col_strip{i}", b) for i, b in enumerate(layout.col_strips)]
    out += [(f"row_strip{i}", b) for i, b in enumerate(layout.row_strips)]
    for a in layout.axes:
        out += [(f"{a.axis}{a.row}{a.col}:{t.text}", t.box) for t in a.labels]
    for name in ("title", "x_title", "y_title"):
        t = getattr(layout, name)
        if t is not None:
            out.append((name, t.box))
    if layout.legend is not None:
        out.append(("legend", layout.legend.box))
    return out


def overlaps(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def grid_box(layout: Layout) -> tuple[int, int, int, int]:
    return (
        min(p[0] for p in layout.panels),
        min(p[1] for p in layout.panels),
        max(p[2] for p in layout.panels),
        max(p[3] for p in layout.panels),
    )


POSITIONS = ["right", "left", "top", "bottom", "inside", "none"]


@pytest.mark.parametrize("position", POSITIONS)
@pytest.mark.parametrize("kind", ["continuous", "categorical"])
def test_boxes_inside_image_and_disjoint(make_figure, legends, position, kind):
    fig = make_figure(legend=legends[kind](), title="A title")
    layout = compute_layout(fig, themed(legend_position=position))
    boxes = named_boxes(layout)
    for name, (x0, y0, x1, y1) in boxes:
        assert 0 <= x0 <= x1 <= fig.width and 0 <= y0 <= y1 <= fig.height, name
    for (na, a), (nb, b) in itertools.combinations(boxes, 2):
        if position == "inside" and "legend" in (na, nb):
            continue  # an inside legend overlays the panels by design
        assert not overlaps(a, b), (na, a, nb, b)


def test_all_panels_have_the_same_size(make_figure):
    layout = compute_layout(make_figure(901, 613, 3, 4), theme_by_name("gray"))
    sizes = {(b[2] - b[0], b[3] - b[1]) for b in layout.panels}
    assert sizes == {layout.panel_size}
    assert layout.panel_box(2, 3) == layout.panels[11]
    # Rows and columns are aligned: equal x per column, equal y per row.
    for r, c in itertools.product(range(3), range(4)):
        assert layout.panel_box(r, c)[0] == layout.panel_box(0, c)[0]
        assert layout.panel_box(r, c)[1] == layout.panel_box(r, 0)[1]


def test_strips_are_adjacent_to_their_panels(make_figure):
    layout = compute_layout(make_figure(), theme_by_name("gray"))
    assert len(layout.col_strips) == 3 and len(layout.row_strips) == 2
    for c, strip in enumerate(layout.col_strips):
        panel = layout.panel_box(0, c)
        assert (strip[0], strip[2], strip[3]) == (panel[0], panel[2], panel[1])
        assert strip[3] - strip[1] > 10
    for r, strip in enumerate(layout.row_strips):
        panel = layout.panel_box(r, 2)
        assert (strip[0], strip[1], strip[3]) == (panel[2], panel[1], panel[3])
    # Row strip text reads top to bottom.
    assert {t.angle for t in layout.strip_labels[3:]} == {-90.0}


def test_no_strips_without_facet_labels(make_figure):
    layout = compute_layout(make_figure(strips=False), theme_by_name("gray"))
    assert layout.col_strips == () and layout.row_strips == ()


@pytest.mark.parametrize("position", ["right", "left", "top", "bottom"])
def test_legend_on_the_requested_side(make_figure, legends, position):
    fig = make_figure(legend=legends["continuous"]())
    layout = compute_layout(fig, themed(legend_position=position))
    lx0, ly0, lx1, ly1 = layout.legend.box
    gx0, gy0, gx1, gy1 = grid_box(layout)
    everything = [b for n, b in named_boxes(layout) if n != "legend"]
    if position == "right":
        assert lx0 >= max(b[2] for b in everything)
        assert lx1 <= fig.width
    elif position == "left":
        assert lx1 <= min(b[0] for b in everything)
        assert lx0 >= 0
    elif position == "top":
        assert ly1 <= min(b[1] for b in everything)
    else:
        assert ly0 >= max(b[3] for b in everything)
    # Centred along the panel area by default.
    if position in ("right", "left"):
        assert gy0 - 40 < ly0 and ly1 < gy1
    else:
        assert abs((lx0 + lx1) / 2 - (gx0 + gx1 + 30) / 2) < 40


def test_inside_legend_sits_at_the_given_fractions(make_figure, legends):
    fig = make_figure(legend=legends["categorical"]())
    layout = compute_layout(fig, themed(legend_position="inside", legend_position_inside=(1, 0)))
    _, _, lx1, ly1 = layout.legend.box
    _, _, gx1, gy1 = grid_box(layout)
    # Justification defaults to the position: bottom-right corner at the grid's corner.
    assert (lx1, ly1) == (gx1, gy1)
    # An inside legend takes no space: panels are as large as without a legend.
    without = compute_layout(make_figure(), theme_by_name("gray"))
    assert layout.panel_size == without.panel_size


def test_legend_none_or_absent(make_figure, legends):
    fig = make_figure(legend=legends["continuous"]())
    assert compute_layout(fig, themed(legend_position="none")).legend is None
    assert compute_layout(make_figure(), theme_by_name("gray")).legend is None


def test_a_legend_takes_space_from_the_panels(make_figure, legends):
    plain = compute_layout(make_figure(), theme_by_name("gray")).panel_size
    right = compute_layout(make_figure(legend=legends["continuous"]()), theme_by_name("gray"))
    bottom = compute_layout(
        make_figure(legend=legends["categorical"]()), themed(legend_position="bottom")
    )
    assert right.panel_size[0] < plain[0] and right.panel_size[1] == plain[1]
    assert bottom.panel_size[1] < plain[1] and bottom.panel_size[0] == plain[0]


def test_bigger_tick_fonts_shrink_panels(make_figure):
    small = compute_layout(make_figure(), themed(axis_tick_font_size=6)).panel_size
    large = compute_layout(make_figure(), themed(axis_tick_font_size=16)).panel_size
    assert large[0] < small[0] and large[1] < small[1]


def test_disabled_text_gives_panels_more_room(make_figure):
    fig = make_figure(title="T")
    plain = compute_layout(fig, theme_by_name("gray"))
    bare = compute_layout(fig, themed(text_disable=True))
    assert bare.title is None and bare.x_title is None and bare.y_title is None
    assert all(a.labels == () for a in bare.axes)
    assert bare.panel_size[0] > plain.panel_size[0] and bare.panel_size[1] > plain.panel_size[1]


def test_too_small_raises_layout_error(make_figure):
    fig = make_figure(100, 100, 5, 10)
    with pytest.raises(LayoutError) as err:
        compute_layout(fig, theme_by_name("gray"))
    message = str(err.value)
    assert "100×100" in message and "50 panels" in message
    assert "at least" in message


def test_layout_error_names_a_size_that_works(make_figure):
    fig = make_figure(100, 100, 5, 10)
    with pytest.raises(LayoutError) as err:
        compute_layout(fig, theme_by_name("gray"))
    need_w, need_h = str(err.value).rsplit("at least ", 1)[1].split(" ")[0].split("×")
    bigger = make_figure(int(need_w), int(need_h), 5, 10)
    pw, ph = compute_layout(bigger, theme_by_name("gray")).panel_size
    assert pw >= MIN_PANEL_PX and ph >= MIN_PANEL_PX


def test_shared_y_per_row_draws_y_axes_on_the_first_column_only(make_figure):
    layout = compute_layout(make_figure(y_per_row=True), theme_by_name("gray"))
    assert {(a.row, a.col) for a in layout.axes if a.axis == "y"} == {(0, 0), (1, 0)}
    assert {(a.row, a.col) for a in layout.axes if a.axis == "x"} == {(1, 0), (1, 1), (1, 2)}
    # The two rows have different scales and different labels.
    assert layout.axis("y", 0, 0).labels[0].text != layout.axis("y", 1, 0).labels[0].text


def test_free_y_per_panel_draws_y_axes_everywhere_and_widens_gutters(make_figure):
    shared = compute_layout(make_figure(y_per_panel=False), theme_by_name("gray"))
    free = compute_layout(make_figure(y_per_panel=True), theme_by_name("gray"))
    assert len([a for a in free.axes if a.axis == "y"]) == 6
    gap_shared = shared.panel_box(0, 1)[0] - shared.panel_box(0, 0)[2]
    gap_free = free.panel_box(0, 1)[0] - free.panel_box(0, 0)[2]
    assert gap_free > gap_shared
    for a in free.axes:
        if a.axis == "y" and a.col > 0:
            left_panel = free.panel_box(a.row, a.col - 1)
            assert all(t.box[0] >= left_panel[2] for t in a.labels)


def test_free_x_per_panel_draws_x_axes_under_every_row(make_axis):
    panels = tuple(
        PanelView(r, c, make_axis(0, 10 * (r + 1), 2.0 * (r + 1)), make_axis(0, 1, 0.5))
        for r in range(2)
        for c in range(2)
    )
    fig = FigureView(600, 500, 2, 2, panels)
    layout = compute_layout(fig, theme_by_name("gray"))
    assert {(a.row, a.col) for a in layout.axes if a.axis == "x"} == {
        (0, 0),
        (0, 1),
        (1, 0),
        (1, 1),
    }
    top_labels = layout.axis("x", 0, 0).labels
    assert all(t.box[3] <= layout.panel_box(1, 0)[1] for t in top_labels)


def crowded(angle: float) -> Layout:
    values = tuple(float(v) for v in range(0, 41))
    x = AxisView((0.0, 40.0), values, tuple(f"{v * 250:.1f}" for v in values))
    y = AxisView((0.0, 1.0), (0.0, 1.0), ("0", "1"))
    fig = FigureView(420, 300, 1, 1, (PanelView(0, 0, x, y),))
    return compute_layout(fig, themed(x_tick_rotation=angle))


def test_crowded_axis_culls_overlapping_labels():
    axis = crowded(0).axis("x", 0, 0)
    assert len(axis.ticks) == 41  # every tick is still drawn
    assert 2 <= len(axis.kept) < 41
    assert axis.kept[0] == 0
    assert [t.text for t in axis.labels] == [f"{k * 250:.1f}" for k in axis.kept]
    for a, b in itertools.pairwise(axis.labels):
        assert a.box[2] <= b.box[0]


def test_rotated_labels_keep_more():
    flat = len(crowded(0).axis("x", 0, 0).kept)
    tilted = len(crowded(45).axis("x", 0, 0).kept)
    upright = len(crowded(90).axis("x", 0, 0).kept)
    assert flat < tilted < upright


def test_rotated_labels_hang_below_their_ticks():
    layout = crowded(45)
    axis = layout.axis("x", 0, 0)
    panel = layout.panel_box(0, 0)
    for t, k in zip(axis.labels, axis.kept, strict=True):
        tick_x = axis.ticks[axis.tick_breaks.index(k)]
        assert t.box[1] >= panel[3] + layout.tick_length
        # Ends at its tick: the box's right edge is near the tick (within the text height).
        assert abs(t.box[2] - tick_x) < 12
    assert min(t.box[0] for t in axis.labels) >= 0  # overhang taken from the panel, not clipped


def test_rotated_x_labels_take_height():
    flat = crowded(0).panel_size
    upright = crowded(90).panel_size
    assert upright[1] < flat[1]


def test_title_positions(make_figure):
    fig = make_figure(title="The title")
    for position in ("top", "bottom", "left", "right"):
        layout = compute_layout(fig, themed(title_position=position))
        t = layout.title.box
        others = [b for n, b in named_boxes(layout) if n != "title"]
        if position == "top":
            assert t[3] <= min(b[1] for b in others)
        elif position == "bottom":
            assert t[1] >= max(b[3] for b in others)
        elif position == "left":
            assert t[2] <= min(b[0] for b in others)
            assert layout.title.angle == 90
        else:
            assert t[0] >= max(b[2] for b in others)
            assert layout.title.angle == -90


def test_title_justification(make_figure):
    fig = make_figure(title="The title")
    left = compute_layout(fig, themed(title_justification=(0, 0.5)))
    centre = compute_layout(fig, themed(title_justification=(0.5, 0.5)))
    gx0, _, gx1, _ = grid_box(left)
    assert left.title.box[0] == gx0
    assert abs((centre.title.box[0] + centre.title.box[2]) / 2 - (gx0 + gx1) / 2) <= 1


def test_long_strip_labels_shrink_instead_of_clipping(make_axis):
    x, y = make_axis(0, 1, 0.5), make_axis(0, 1, 0.5)
    panels = tuple(PanelView(0, c, x, y) for c in range(4))
    fig = FigureView(
        500, 300, 1, 4, panels, col_strips=tuple("a rather long facet label" for _ in range(4))
    )
    layout = compute_layout(fig, theme_by_name("gray"))
    for strip, label in zip(layout.col_strips, layout.strip_labels, strict=True):
        assert strip[0] <= label.box[0] and label.box[2] <= strip[2]
    assert layout.strip_labels[0].style.size < theme_by_name("gray").strip_text.size


def test_text_longer_than_the_image_is_a_layout_error(make_figure):
    fig = make_figure(300, 300, 1, 1, title="a very long title " * 10)
    with pytest.raises(LayoutError, match="title"):
        compute_layout(fig, theme_by_name("gray"))


def test_many_categories_wrap_into_legend_columns(make_figure):
    n = 40
    legend = CategoricalLegend(
        "k", tuple(f"level {i}" for i in range(n)), tuple((i, i, i) for i in range(n))
    )
    layout = compute_layout(make_figure(900, 300, 1, 1, legend=legend), theme_by_name("gray"))
    keys = layout.legend.keys
    assert len(keys) == n and len({k[0] for k in keys}) > 1  # more than one column
    lx0, ly0, lx1, ly1 = layout.legend.box
    assert ly0 >= 0 and ly1 <= 300
    for k in keys:
        assert lx0 <= k[0] and k[2] <= lx1 and ly0 <= k[1] and k[3] <= ly1
    for t in layout.legend.labels:
        assert lx0 <= t.box[0] and t.box[2] <= lx1


def test_void_theme_has_no_axis_space(make_figure):
    fig = make_figure(strips=False, x_title="", y_title="")
    layout = compute_layout(fig, theme_by_name("void"))
    assert layout.tick_length == 0
    assert all(a.labels == () for a in layout.axes)
    gx0, gy0, gx1, gy1 = grid_box(layout)
    assert (gx0, gy0) == (0, 0) and fig.width - gx1 < 3 and fig.height - gy1 < 2


@pytest.mark.parametrize(
    "angle,expected", [(0, (0.5, 1.0)), (45, (1.0, 1.0)), (90, (1.0, 0.5)), (-45, (0.0, 1.0))]
)
def test_x_label_justification(angle, expected):
    assert x_label_justification(angle) == expected


@pytest.mark.parametrize("angle,expected", [(0, (1.0, 0.5)), (90, (0.5, 0.0)), (45, (1.0, 0.0))])
def test_y_label_justification(angle, expected):
    assert y_label_justification(angle) == expected
