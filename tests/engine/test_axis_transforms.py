"""Axis transforms and manual ranges through the pipeline: limits, dropping, clipping."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pytest

from ggrs import geoms, pipeline, scales
from ggrs.errors import DataError, UsageError
from ggrs.properties import parse_properties

TABLE = pa.table({"x": [1.0, 10.0, 100.0, 1000.0], "y": [-5.0, 0.0, 2.0, 50.0]})


def request(**props: str) -> pipeline.PlotRequest:
    return pipeline.PlotRequest(
        aes=pipeline.Aesthetics(y="y", x="x"),
        properties=parse_properties({"plot.width": "200", "plot.height": "150", **props}),
    )


def trained(req: pipeline.PlotRequest, table: pa.Table = TABLE):
    """(data in transformed space, the single panel's view, progress messages)."""
    messages: list[str] = []
    data, settings = pipeline._transform_axes(
        pipeline.prepare(table, req.aes), req, messages.append
    )
    page = pipeline._select_page(data, 0)
    (view,) = pipeline._train_scales(page, req.scales, data, settings)
    return data, page, view, messages


def counted(page, view) -> int:
    """Points the canvas keeps for the panel (outside its limits = clipped)."""
    (layer,) = pipeline._page_layers(page)
    grids = geoms.aggregate_layer("point", layer, pipeline._canvas((50, 40), (view,)))
    return int(grids.count.sum())


def test_log10_axis_trains_on_the_transformed_range_and_labels_originals():
    _, _, view, _ = trained(request(**{"axis.x.transform": "log10"}))
    assert view.x.limits == scales.train_axis(0.0, 3.0).limits  # 5 % of 3 decades each side
    assert view.x.breaks == (0.0, 1.0, 2.0, 3.0)
    assert view.x.labels == ("1", "10", "100", "1000")


def test_log_axis_drops_and_counts_non_positive_values():
    data, page, view, messages = trained(request(**{"axis.y.transform": "log10"}))
    assert np.isnan(data.y[:2]).all() and not data.finite[:2].any()
    assert messages == [
        "y (y): 2 values have no position on the log10 axis (≤ 0 on log, < 0 on sqrt) "
        "and are left out"
    ]
    low, high = math.log10(2.0), math.log10(50.0)
    assert view.y.limits == scales.train_axis(low, high).limits
    assert counted(page, view) == 2


def test_log_axis_with_only_non_positive_values_says_nothing_to_plot():
    table = pa.table({"x": [1.0, 2.0], "y": [-1.0, 0.0]})
    with pytest.raises(DataError, match="nothing to plot"):
        pipeline.render_table(table, request(**{"axis.y.transform": "log"}))


def test_manual_range_is_the_axis_exactly_and_clips_points_outside():
    _, page, view, _ = trained(request(**{"axis.y.range": "0,10", "axis.x.range": "5,500"}))
    assert view.y.limits == (0.0, 10.0)
    assert view.x.limits == (5.0, 500.0)
    assert view.y.breaks == (0.0, 2.5, 5.0, 7.5, 10.0)
    # (10, 0) and (100, 2) are inside; x = 1 and the y = 50 point are clipped, not rescaled.
    assert counted(page, view) == 2


def test_manual_range_is_given_in_original_units_on_a_transformed_axis():
    _, page, view, _ = trained(request(**{"axis.x.transform": "log10", "axis.x.range": "10,1000"}))
    assert view.x.limits == (1.0, 3.0)
    assert view.x.labels == ("10", "20", "50", "100", "200", "500", "1000")
    assert counted(page, view) == 3  # x = 1 is left of the range


def test_manual_range_without_a_position_on_the_axis_is_refused():
    with pytest.raises(UsageError, match=r"axis.x.range=0,10 .*log10 axis"):
        pipeline.render_table(
            TABLE, request(**{"axis.x.transform": "log10", "axis.x.range": "0,10"})
        )


@pytest.mark.parametrize("value", ["5,1", "1,1", "a,b", "1", "1,2,3", "nan,1"])
def test_bad_ranges_name_the_property(value):
    with pytest.raises(UsageError, match=rf"property axis.y.range={value!r} is not valid"):
        parse_properties({"axis.y.range": value})


def test_already_transformed_data_only_gets_ticks_and_labels():
    # As Tercen sends it: x already log10, the transform comes from the data source.
    table = pa.table({"x": [0.0, 1.0, 2.0, 3.0], "y": [1.0, 2.0, 3.0, 4.0]})
    req = pipeline.PlotRequest(
        aes=pipeline.Aesthetics(y="y", x="x"),
        properties=parse_properties({}),
        x_transform=scales.parse_transform("log10"),
        data_transformed=True,
    )
    data, _, view, messages = trained(req, table)
    np.testing.assert_array_equal(data.x, [0.0, 1.0, 2.0, 3.0])
    assert view.x.breaks == (0.0, 1.0, 2.0, 3.0)
    assert view.x.labels == ("1", "10", "100", "1000")
    assert messages == []


def test_property_transform_wins_over_the_data_source():
    req = pipeline.PlotRequest(
        aes=pipeline.Aesthetics(y="y", x="x"),
        properties=parse_properties({"axis.x.transform": "log10"}),
        x_transform=scales.parse_transform("sqrt"),
    )
    _, _, view, _ = trained(req)
    assert view.x.labels == ("1", "10", "100", "1000")


def test_render_table_with_transforms_and_ranges_makes_an_image():
    props = {"axis.x.transform": "log10", "axis.y.transform": "asinh:cofactor=5",
             "axis.y.range": "-10,100"}  # fmt: skip
    (page,) = pipeline.render_table(TABLE, request(**props))
    assert page.image.startswith(b"\x89PNG") and (page.width, page.height) == (200, 150)
