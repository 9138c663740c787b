"""Pipeline steps as numbers: pages, facet grids, axis ranges, image size."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from ggrs import pipeline, scales
from ggrs.errors import UsageError
from ggrs.panels import Factor
from ggrs.properties import parse_properties


def data(**extra) -> pipeline.PlotData:
    x = np.array([1.0, 2.0, 3.0, 4.0])
    y = np.array([10.0, 20.0, 300.0, 400.0])
    return pipeline.PlotData(
        x=x,
        y=y,
        finite=np.isfinite(x) & np.isfinite(y),
        rows=Factor(np.array([0, 0, 1, 1], dtype=np.int32), ("a", "b"), ("r",)),
        cols=Factor(np.zeros(4, dtype=np.int32), ("",), ()),
        pages=Factor(np.array([0, 1, 0, 1], dtype=np.int32), ("p", "q"), ("page",)),
        **extra,
    )


def panel_limits(plot_data: pipeline.PlotData, page: int, mode: str = "free_y"):
    selected = pipeline._select_page(plot_data, page)
    views = pipeline._train_scales(selected, mode, plot_data)
    return [(v.x.limits, v.y.limits) for v in views]


def test_free_y_trains_each_facet_row_on_the_page():
    (row_a, row_b) = panel_limits(data(), page=0)  # rows 0 and 2 of the table
    assert row_a[1] == scales.train_axis(10.0, 10.0).limits
    assert row_b[1] == scales.train_axis(300.0, 300.0).limits
    assert row_a[0] == row_b[0] == scales.train_axis(1.0, 3.0).limits


def test_fixed_scales_share_one_range():
    (row_a, row_b) = panel_limits(data(), page=1, mode="fixed")
    assert row_a == row_b == (scales.train_axis(2, 4).limits, scales.train_axis(20, 400).limits)


def test_given_cell_limits_win_and_missing_cells_fall_back():
    y_limits = np.array([[[0.0, 100.0]], [[np.nan, np.nan]]])
    (row_a, row_b) = panel_limits(data(y_limits=y_limits), page=0)
    assert row_a[1] == scales.train_axis(0.0, 100.0).limits
    assert row_b[1] == scales.train_axis(10.0, 300.0).limits  # the page's overall range


def test_auto_size_adds_facets_and_legend_room():
    props = parse_properties({})
    assert pipeline._image_size(props, 3, "plot.width", None, "right", "left") == 1600
    legend = object()
    assert pipeline._image_size(props, 1, "plot.width", legend, "right", "left") == 950
    assert pipeline._image_size(props, 2, "plot.height", legend, "top", "bottom") == 1200
    sized = parse_properties({"plot.width": "640"})
    assert pipeline._image_size(sized, 5, "plot.width", legend, "right", "left") == 640


def test_one_image_per_page_in_label_order():
    table = pa.table({"y": [1.0, 2.0, 3.0], "p": ["b", "a", "b"]})
    request = pipeline.PlotRequest(
        aes=pipeline.Aesthetics(y="y", pages=("p",)),
        properties=parse_properties({"plot.width": "300", "plot.height": "200"}),
    )
    pages = pipeline.render_table(table, request)
    assert [(p.label, p.width, p.height) for p in pages] == [("a", 300, 200), ("b", 300, 200)]
    assert all(p.image.startswith(b"\x89PNG") for p in pages)


def test_other_charts_are_refused_clearly():
    table = pa.table({"y": [1.0]})
    request = pipeline.PlotRequest(
        aes=pipeline.Aesthetics(y="y"), properties=parse_properties({}), chart="bar"
    )
    with pytest.raises(UsageError, match="chart 'bar'"):
        pipeline.render_table(table, request)
