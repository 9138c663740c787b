"""Chart kinds and layers through the pipeline: what reaches the image, as numbers."""

from __future__ import annotations

import io

import numpy as np
import pyarrow as pa
import pytest
from PIL import Image

from ggrs import pipeline, scales
from ggrs.compose.views import CategoricalLegend
from ggrs.errors import UsageError
from ggrs.properties import parse_properties


def request(aes: pipeline.Aesthetics, chart: str = "point", **props: str) -> pipeline.PlotRequest:
    return pipeline.PlotRequest(
        aes=aes, properties=parse_properties(props), chart=chart, point_size=1.0
    )


def rgb(page: pipeline.RenderedPage) -> np.ndarray:
    with Image.open(io.BytesIO(page.image)) as image:
        return np.asarray(image.convert("RGB"))


def test_unknown_chart_names_the_choices():
    table = pa.table({"y": [1.0, 2.0]})
    with pytest.raises(UsageError, match=r"chart 'pie'.*point, line, bar, heatmap"):
        pipeline.render_table(table, request(pipeline.Aesthetics(y="y"), "pie"))


def test_several_y_columns_become_stacked_layers():
    table = pa.table({"t": [1.0, 2.0, 3.0], "a": [1.0, 2.0, 3.0], "b": [7.0, 8.0, 9.0]})
    data = pipeline.prepare(table, pipeline.Aesthetics(y=("a", "b"), x="t"))
    np.testing.assert_array_equal(data.y, [1, 2, 3, 7, 8, 9])
    np.testing.assert_array_equal(data.x, [1, 2, 3, 1, 2, 3])
    assert data.layers.labels == ("a", "b")
    np.testing.assert_array_equal(data.layers.codes, [0, 0, 0, 1, 1, 1])
    assert len(data.rows.codes) == len(data.pages.codes) == 6
    assert data.y_title == "a, b"


def test_layers_get_palette_colours_and_one_legend_entry_each():
    table = pa.table({"a": [1.0, 2.0], "b": [3.0, 4.0]})
    aes = pipeline.Aesthetics(y=("a", "b"))
    data = pipeline.prepare(table, aes)
    legend, colourings = pipeline._train_colour(data, request(aes), request(aes).properties)
    assert isinstance(legend, CategoricalLegend)
    assert legend.labels == ("a", "b")
    assert tuple(c.color for c in colourings) == legend.colors
    assert legend.colors[0] != legend.colors[1]


def test_page_layers_split_rows_in_layer_order():
    table = pa.table({"a": [1.0, 2.0], "b": [3.0, 4.0], "f": ["p", "q"]})
    data = pipeline.prepare(table, pipeline.Aesthetics(y=("a", "b"), cols=("f",)))
    layers = pipeline._page_layers(pipeline._select_page(data, 0))
    assert [list(layer.y) for layer in layers] == [[1.0, 2.0], [3.0, 4.0]]
    assert [list(layer.panel) for layer in layers] == [[0, 1], [0, 1]]


def test_bar_scales_reach_the_baseline_and_the_bar_edges():
    table = pa.table({"x": [1.0, 2.0, 3.0], "y": [5.0, 6.0, 7.0]})
    data = pipeline.prepare(table, pipeline.Aesthetics(y="y", x="x"))
    page = pipeline._select_page(data, 0)
    _, rects = pipeline.geoms.dodged_bars(pipeline._page_layers(page))
    (view,) = pipeline._train_scales(pipeline._rect_page(page, rects), "free_y", data)
    # Bars 0.9 wide around x = 1..3, from 0 up to y: ggplot2's ranges before expansion.
    assert view.x.limits == scales.train_axis(0.55, 3.45).limits
    assert view.y.limits == scales.train_axis(0.0, 7.0).limits


def test_bar_chart_paints_from_zero_to_the_value():
    table = pa.table({"x": [1.0, 2.0], "y": [2.0, 4.0]})
    aes = pipeline.Aesthetics(y="y", x="x")
    props = {"plot.width": "300", "plot.height": "300", "theme": "void"}
    (page,) = pipeline.render_table(table, request(aes, "bar", **props))
    image = rgb(page)
    painted = np.any(image != 255, axis=2)
    columns = np.flatnonzero(painted.any(axis=0))
    heights = painted.sum(axis=0)
    # Two bars, the second twice as tall as the first (within a pixel).
    left = heights[columns[0] + 2]
    right = heights[columns[-1] - 2]
    assert abs(right - 2 * left) <= 2


def test_line_chart_joins_points_in_x_order():
    # Rows out of x order: (2, 3) → (0, 0) → (1, 3). In x order the line is a peak
    # 0 → 1 → 2; in row order it would also join (2, 3) straight down to (0, 0).
    table = pa.table({"x": [2.0, 0.0, 1.0], "y": [3.0, 0.0, 3.0]})
    aes = pipeline.Aesthetics(y="y", x="x")
    props = {"plot.width": "200", "plot.height": "200", "theme": "void"}
    req = request(aes, "line", **props)
    data = pipeline.prepare(table, aes)
    page = pipeline._select_page(data, 0)
    (view,) = pipeline._train_scales(page, "free_y", data)
    canvas = pipeline._canvas((100, 100), (view,))
    (layer,) = pipeline._page_layers(page)
    grid = pipeline.geoms.aggregate_layer("line", layer, canvas).count[0]
    # The point half-way along the row-order chord (1, 1.5) is off the x-order line.
    x_pixel = int((1.0 - view.x.limits[0]) / (view.x.limits[1] - view.x.limits[0]) * 100)
    y_pixel = 99 - int((1.5 - view.y.limits[0]) / (view.y.limits[1] - view.y.limits[0]) * 100)
    assert grid[y_pixel - 2 : y_pixel + 3, x_pixel - 2 : x_pixel + 3].sum() == 0
    # And the x-order line reaches the top at x = 1 (the peak).
    top = 99 - int((3.0 - view.y.limits[0]) / (view.y.limits[1] - view.y.limits[0]) * 100)
    assert grid[top - 1 : top + 2, x_pixel - 1 : x_pixel + 2].sum() > 0
    (image,) = pipeline.render_table(table, req)
    assert np.any(rgb(image) != 255)


def test_heatmap_is_one_panel_of_tiles_first_row_on_top():
    table = pa.table(
        {
            "r": ["top", "top", "bottom", "bottom", "top"],
            "c": ["left", "right", "left", "right", "left"],
            "v": [1.0, 2.0, 3.0, 4.0, 5.0],
        }
    )
    aes = pipeline.Aesthetics(y="v", rows=("r",), cols=("c",))
    props = {"plot.width": "400", "plot.height": "400", "heatmap.cell.aggregation": "mean"}
    data = pipeline.prepare(table, aes)
    data = pipeline.replace(data, color_values=data.y)  # as render_data does for heatmaps
    # Levels sort alphabetically, so facet row 0 is "bottom": drawn at the top.
    page = pipeline._select_page(data, 0)
    legend, (colouring,) = pipeline._train_colour(data, request(aes), request(aes).properties)
    fig, _, rasters = pipeline._heatmap_page(
        page, data, parse_properties(props), pipeline._theme(parse_properties(props)), legend,
        colouring,
    )  # fmt: skip
    assert (fig.n_rows, fig.n_cols) == (1, 1)
    assert fig.panels[0].x.labels == ("left", "right")
    assert fig.panels[0].y.categorical and fig.panels[0].x.categorical
    raster = rasters[0]
    h, w = raster.shape[:2]
    lut, (low, high) = colouring.lut, colouring.limits

    def colour(value):
        return tuple(lut[round((value - low) / (high - low) * (len(lut) - 1))])

    # Cell means: bottom/left 3, bottom/right 4, top/left (1+5)/2 = 3, top/right 2.
    assert tuple(raster[h // 4, w // 4, :3]) == colour(3.0)  # first row ("bottom") on top
    assert tuple(raster[h // 4, 3 * w // 4, :3]) == colour(4.0)
    assert tuple(raster[3 * h // 4, 3 * w // 4, :3]) == colour(2.0)
    assert (raster[..., 3] == 255).all()


def test_bar_layers_are_dodged_side_by_side():
    table = pa.table({"x": [1.0, 2.0], "a": [2.0, 4.0], "b": [3.0, 5.0]})
    data = pipeline.prepare(table, pipeline.Aesthetics(y=("a", "b"), x="x"))
    page = pipeline._select_page(data, 0)
    layers, every = pipeline.geoms.dodged_bars(pipeline._page_layers(page))
    first, second = (layer.rects for layer in layers)
    # Each x's 0.9-wide slot is split between the two layers, a on the left.
    np.testing.assert_allclose(first.x0, [0.55, 1.55])
    np.testing.assert_allclose(first.x1, [1.0, 2.0])
    np.testing.assert_allclose(second.x0, [1.0, 2.0])
    np.testing.assert_allclose(second.y1, [3.0, 5.0])
    assert first.category is None and len(every) == 4


def test_bars_widen_given_cell_limits_to_hold_the_bars():
    table = pa.table({"x": [1.0, 2.0, 3.0], "y": [5.0, 6.0, 7.0]})
    data = pipeline.prepare(table, pipeline.Aesthetics(y="y", x="x"))
    data = pipeline.replace(
        data, x_limits=np.array([[[1.0, 3.0]]]), y_limits=np.array([[[5.0, 7.0]]])
    )
    page = pipeline._select_page(data, 0)
    _, rects = pipeline.geoms.dodged_bars(pipeline._page_layers(page))
    (view,) = pipeline._train_scales(pipeline._rect_page(page, rects), "free_y", data)
    assert view.x.limits == scales.train_axis(0.55, 3.45).limits
    assert view.y.limits == scales.train_axis(0.0, 7.0).limits


def test_heatmap_cells_ignore_x_and_keep_the_colour_in_original_units():
    table = pa.table(
        {"r": ["a", "b"], "c": ["u", "u"], "x": [1.0, float("nan")], "v": [10.0, 1000.0]}
    )
    aes = pipeline.Aesthetics(y="v", x="x", rows=("r",), cols=("c",))
    props = {"plot.width": "300", "plot.height": "300", "axis.y.transform": "log10"}
    req = request(aes, "heatmap", **props)
    (page,) = pipeline.render_table(table, req)
    data = pipeline.replace(pipeline.prepare(table, aes), color_values=np.array([10.0, 1000.0]))
    legend, _ = pipeline._train_colour(data, req, req.properties)
    assert legend.limits == (10.0, 1000.0)  # not log10 units
    # The NaN x of row "b" does not blank its tile: the same picture as without x.
    without_x = request(pipeline.replace(aes, x=None), "heatmap", **props)
    (same,) = pipeline.render_table(table, without_x)
    np.testing.assert_array_equal(rgb(page), rgb(same))


def test_bars_on_a_log_axis_rise_from_the_smallest_value():
    transform = scales.parse_transform("log10")
    y = transform.forward(np.array([10.0, 1000.0]))
    ok = np.isfinite(y)
    np.testing.assert_array_equal(pipeline._bar_baseline(None, y, ok, transform), [1.0, 1.0])
    np.testing.assert_array_equal(
        pipeline._bar_baseline(np.array([100.0, 100.0]), y, ok, transform), [2.0, 2.0]
    )
    sqrt = scales.parse_transform("sqrt")
    assert pipeline._bar_baseline(None, y, ok, sqrt) is None  # 0 stays 0


def test_lines_of_one_point_each_are_explained(caplog):
    table = pa.table({"x": [1.0, 2.0, 3.0], "y": [1.0, 2.0, 3.0], "g": ["a", "b", "c"]})
    aes = pipeline.Aesthetics(y="y", x="x", color="g")
    with caplog.at_level("WARNING", logger="ggrs"):
        pipeline.render_table(table, request(aes, "line"))
    assert "no line has two points" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="ggrs"):
        pipeline.render_table(table, request(pipeline.Aesthetics(y="y", x="x"), "line"))
    assert caplog.text == ""


def test_layers_with_a_colour_factor_list_their_shapes_after_the_colours():
    table = pa.table({"a": [1.0, 2.0], "b": [3.0, 4.0], "g": ["p", "q"]})
    aes = pipeline.Aesthetics(y=("a", "b"), color="g")
    req = request(aes, "point", **{"point.shapes": "19;2"})
    legend, (colouring,) = pipeline._train_colour(pipeline.prepare(table, aes), req, req.properties)
    assert legend.labels == ("p", "q", "a", "b")
    assert legend.entry_shapes == (19, 19, 19, 2)
    assert legend.colors[:2] == colouring.colors
    assert legend.colors[2] == legend.colors[3] != legend.colors[0]


def test_bars_on_a_logicle_axis_rise_from_where_zero_is():
    logicle = scales.parse_transform("logicle:T=1000,W=0.5,M=3,A=0")
    zero = float(logicle.forward(np.zeros(1))[0])
    assert zero > 0  # logicle puts 0 above the bottom of its scale
    y = logicle.forward(np.array([10.0, 100.0]))
    baseline = pipeline._bar_baseline(None, y, np.isfinite(y), logicle)
    np.testing.assert_array_equal(baseline, [zero, zero])
