"""How the operator turns the crosstab's axis preprocessors into tick transforms."""

from __future__ import annotations

import logging

import numpy as np

from ggrs import operator, scales


def test_known_transforms_label_ticks_in_original_units():
    transform = operator.axis_transform("y", "log10")
    assert isinstance(transform, scales.LogTransform)
    np.testing.assert_allclose(transform.inverse(np.array([0.0, 2.0])), [1.0, 100.0])
    assert isinstance(operator.axis_transform("x", "asinh:cofactor=5"), scales.AsinhTransform)


def test_no_transform_and_unknown_transforms(caplog):
    assert operator.axis_transform("x", "") is None
    assert operator.axis_transform("x", None) is None
    with caplog.at_level(logging.WARNING):
        assert operator.axis_transform("y", "boxcox") is None
    assert "axis y" in caplog.text
    assert "boxcox" in caplog.text


def _request(projection, **options):
    from ggrs import properties
    from ggrs.tercen import channel, client, context, data
    from tests import fake_tercen_helpers as fake_tercen

    with fake_tercen.FakeTercen(projection, **options) as fake:
        tercen = client.TercenClient(channel.create_channel(fake.uri, fake_tercen.TOKEN))
        ctx, schemas = context.load_context(tercen, fake_tercen.TASK_ID, environ={})
        loaded = data.load_data(tercen, ctx, schemas)
    props = properties.parse_properties(ctx.properties, ignore_unknown=True)
    return operator.plot_request(ctx, loaded, props)


def _continuous(palette=None):
    import pyarrow as pa

    from tests import fake_tercen_helpers as fake_tercen

    v = np.arange(101, dtype=np.float64)  # quartiles 25, 50, 75
    table = pa.table({"x": v, "y": v, "v": v})
    return fake_tercen.build_projection(table, y="y", x="x", colour="v", palette=palette)


def test_chart_kind_and_its_properties_reach_the_request():
    from tests import fake_tercen_helpers as fake_tercen

    for chart in ("line", "bar", "heatmap"):
        projection = fake_tercen.crabs()
        projection.chart = chart
        request = _request(projection, properties={"heatmap.cell.aggregation": "median"})
        assert request.chart == chart
        assert request.properties["heatmap.cell.aggregation"] == "median"


def test_continuous_colour_without_a_crosstab_palette_has_no_stops():
    request = _request(_continuous())
    assert request.palette == "Spectral"
    assert getattr(request, "color_stops", None) is None


def test_continuous_palette_stops_are_rescaled_to_the_quartiles():
    from proto import tercen_pb2

    ramp = tercen_pb2.RampPalette(isUserDefined=False)
    ramp.properties.add(name="name", value="RdBu")
    ramp.doubleColorElements.add(color=-1, stringValue="0")
    ramp.doubleColorElements.add(color=-1, stringValue="1")
    request = _request(_continuous(tercen_pb2.EPalette(ramppalette=ramp)))
    # Q1=25, Q2=50, Q3=75: RdBu's three colours at 50 ∓ 75.
    assert request.color_stops == (
        (-25.0, (0xEF, 0x8A, 0x62)),
        (50.0, (0xF7, 0xF7, 0xF7)),
        (125.0, (0x67, 0xA9, 0xCF)),
    )


def test_explicit_category_colours_reach_the_request_and_colour_the_levels():
    import pyarrow as pa

    from ggrs import pipeline
    from proto import tercen_pb2
    from tests import fake_tercen_helpers as fake_tercen

    category = tercen_pb2.CategoryPalette()
    category.stringColorElements.add(color=-65536, stringValue="a")  # opaque red (ARGB)
    category.stringColorElements.add(color=-16711936, stringValue="b")  # opaque green
    table = pa.table({"x": [1.0, 2.0, 3.0], "y": [1.0, 2.0, 3.0], "g": ["a", "b", "c"]})
    projection = fake_tercen.build_projection(
        table, y="y", x="x", colour="g", palette=tercen_pb2.EPalette(categorypalette=category)
    )
    request = _request(projection)
    assert request.level_colours == (("a", (255, 0, 0)), ("b", (0, 255, 0)))
    data = pipeline.prepare(table, pipeline.Aesthetics(y="y", x="x", color="g"))
    legend, _ = pipeline._train_colour(data, request, request.properties)
    # "c" is not in the map: grey, as Tercen draws it.
    assert legend.colors == ((255, 0, 0), (0, 255, 0), (128, 128, 128))
