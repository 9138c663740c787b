"""Task context, data loading (dequantization, facets, pages, colours) and the result table."""

from __future__ import annotations

import base64
import os
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pytest

from ggrs.errors import DataError
from ggrs.tercen import channel, client, context, data, result
from ggrs.tercen.retry import Retry
from proto import tercen_pb2
from tests import fake_tercen_helpers as fake_tercen


def connect(fake):
    return client.TercenClient(channel.create_channel(fake.uri, fake_tercen.TOKEN), timeout=5)


def load(projection, chunk_rows=data.DEFAULT_CHUNK_ROWS, **options):
    with fake_tercen.FakeTercen(projection, **options) as fake:
        tercen = connect(fake)
        ctx, schemas = context.load_context(tercen, fake_tercen.TASK_ID, environ={})
        loaded = data.load_data(tercen, ctx, schemas, chunk_rows=chunk_rows)
    return ctx, loaded, fake


def quantum(projection, values):
    """Largest dequantization error allowed: one quantum of the widest range."""
    return (values.max() - values.min()) / 65535 * 1.01 + 1e-3


@pytest.fixture(scope="module")
def crabs():
    return fake_tercen.crabs()


def test_context_follows_the_task(crabs):
    ctx, _, _ = load(crabs, properties={"theme": "bw", "plot.title": ""})
    assert ctx.task_kind == "runcomputationtask"
    assert ctx.file_result_id == fake_tercen.RESULT_FILE_ID
    assert (ctx.main.id, ctx.col_table.id, ctx.row_table.id) == ("qt-hash", "col-hash", "row-hash")
    assert ctx.y_table.id == "y-table"
    assert ctx.x_table.id == "x-table"
    assert ctx.main.n_rows == 1000
    assert ctx.colour.factor == "color"
    assert not ctx.colour.continuous
    assert ctx.colour.table.query_table_type == "color_0"
    assert ctx.chart == "point"
    assert ctx.point_size == 4.0
    assert ctx.namespace == "ggrs"
    assert ctx.properties == {"theme": "bw", "plot.title": ""}
    assert (ctx.workflow_id, ctx.step_id) == (fake_tercen.WORKFLOW_ID, fake_tercen.STEP_ID)
    assert (ctx.y_title, ctx.x_title) == ("measurement", "observation")


def test_schema_ids_from_the_parent_task(crabs):
    ctx, loaded, _ = load(crabs, schema_on_parent=True)
    assert ctx.y_table.id == "y-table"
    assert len(loaded.plot.y) == 1000


def test_missing_y_table_is_a_clear_error(crabs):
    with pytest.raises(DataError, match="Y-axis table"):
        load(crabs, faults=fake_tercen.Faults(missing_y_table=True))


def test_task_kind_is_checked():
    etask = tercen_pb2.ETask(gltask=tercen_pb2.GlTask(id="g"))
    with pytest.raises(DataError, match="task g is a gltask"):
        context._task_body(etask, "g")


def test_workflow_palette_and_transform():
    palette = tercen_pb2.EPalette(ramppalette=tercen_pb2.RampPalette(isUserDefined=False))
    palette.ramppalette.properties.add(name="name", value="Viridis")
    axis = tercen_pb2.CubeAxisQuery()
    axis.colors.add(name="value", type="double")
    axis.preprocessors.add(type="y", operatorRef=tercen_pb2.OperatorRef(name="logicle"))
    axis.preprocessors.add(type="x", operatorRef=tercen_pb2.OperatorRef(name="scale"))
    xy = tercen_pb2.XYAxis()
    xy.colors.palette.CopyFrom(palette)
    xy.colors.factors.add(name="value", type="double")
    xy.chart.chartline.pointSize = 7
    spec = context._colour(axis, xy, None)
    assert (spec.factor, spec.continuous, spec.palette) == ("value", True, "Viridis")
    assert context._transforms(axis, xy) == (None, "logicle")
    assert context._chart(axis, xy) == "line"
    assert context._point_size(axis, xy) == 7.0


def test_crabs_dequantized_facets_and_colours(crabs):
    _, loaded, _ = load(crabs)
    np.testing.assert_allclose(
        loaded.plot.y, crabs.expected_y, atol=quantum(crabs, crabs.expected_y)
    )
    np.testing.assert_allclose(
        loaded.plot.x, crabs.expected_x, atol=quantum(crabs, crabs.expected_x)
    )
    assert loaded.plot.x.dtype == np.float32
    # Tercen's table order, not sorted: the crabs file lists M before F, FL before RW.
    assert loaded.plot.rows.labels == ("M", "F")
    assert loaded.plot.cols.labels == ("FL", "RW", "CL", "CW", "BD")
    assert loaded.plot.rows.names == ("sex",)
    assert loaded.plot.color_codes.labels == ("Blue", "Orange")
    assert loaded.plot.color_title == "color"
    assert loaded.scales == "free"
    assert loaded.plot.finite.all()
    assert loaded.plot.pages.labels == ("",)


def test_real_projection_dequantizes_to_its_values():
    projection = fake_tercen.projection_sample()
    _, loaded, _ = load(projection, chunk_rows=1000)
    # The sample records .y next to .ys: every point must come back within about one
    # quantum (1.5: the served ranges are fitted to the sample, not Tercen's exact ones).
    # A range from the wrong facet row would be off by thousands.
    error = np.abs(loaded.plot.y - projection.expected_y)
    ranges = np.array(projection.tables["y-table"].table.column(".maxY").to_pylist())
    assert (error <= 1.5 * ranges[loaded.plot.rows.codes] / 65535).all()
    # X: bar positions per facet cell, up to 1,861 levels → one quantum is 0.028.
    np.testing.assert_allclose(loaded.plot.x, projection.expected_x, atol=1.5 * 1861 / 65535)
    assert loaded.plot.rows.labels == ("North", "East", "South", "West")
    assert loaded.plot.cols.n_levels == 4


def test_chunked_streaming_matches_one_chunk(crabs):
    _, whole, _ = load(crabs)
    _, chunked, fake = load(crabs, chunk_rows=97)
    np.testing.assert_array_equal(whole.plot.y, chunked.plot.y)
    np.testing.assert_array_equal(whole.plot.color_codes.codes, chunked.plot.color_codes.codes)
    offsets = [r.offset for r in fake.stream_calls if r.tableId == "qt-hash"]
    assert offsets == list(range(0, 1000, 97))
    assert all(r.limit <= 97 for r in fake.stream_calls if r.tableId == "qt-hash")


def test_a_cut_chunk_resumes_from_its_first_row(crabs):
    faults = fake_tercen.Faults(cut_stream_after=200, unavailable_streams=1)
    with fake_tercen.FakeTercen(crabs, faults=faults, fragment=100) as fake:
        tercen = connect(fake)
        call = Retry(initial=0.01, timeout=5)
        ctx, schemas = context.load_context(tercen, fake_tercen.TASK_ID, call=call, environ={})
        loaded = data.load_data(tercen, ctx, schemas, call=call, chunk_rows=400)
    offsets = [r.offset for r in fake.stream_calls if r.tableId == "qt-hash"]
    assert offsets == [0, 0, 400, 800]  # refused once, then streamed
    _, reference, _ = load(crabs, chunk_rows=400)
    np.testing.assert_array_equal(loaded.plot.y, reference.plot.y)


def test_malformed_payload_is_a_data_error(crabs):
    with pytest.raises(DataError, match=r"qt-hash.*unreadable table"):
        load(crabs, faults=fake_tercen.Faults(malformed_main=True))


def test_pages_from_the_row_table():
    projection = fake_tercen.crabs(rows=["variable"], cols=[], pages=["sex"])
    _, loaded, _ = load(projection)
    assert loaded.plot.pages.labels == ("M", "F")
    assert loaded.page_values == (("M",), ("F",))
    sex = np.where(loaded.plot.pages.codes == 0, "M", "F")
    expected = np.repeat(["M", "F"], 50)
    assert (sex[:100] == expected).all()  # the file lists 50 males then 50 females
    # Page factors are not part of the row strips.
    assert loaded.plot.rows.names == ("variable",)
    assert set(loaded.plot.rows.labels) == {"FL", "RW", "CL", "CW", "BD"}


def test_continuous_colour():
    table = fake_tercen.pa.table(
        {"x": np.arange(50.0), "y": np.sin(np.arange(50.0)), "v": np.linspace(0, 1, 50)}
    )
    projection = fake_tercen.build_projection(table, y="y", x="x", colour="v")
    ctx, loaded, _ = load(projection)
    assert ctx.colour.continuous
    assert ctx.colour.table.quartiles["v"] == pytest.approx((0.25, 0.5, 0.75))
    np.testing.assert_allclose(loaded.plot.color_values, np.linspace(0, 1, 50), rtol=1e-6)
    assert loaded.plot.color_codes is None
    assert loaded.scales == "free"


def test_missing_range_for_a_cell_is_refused(crabs):
    broken = fake_tercen.crabs()
    y_table = broken.tables["y-table"].table
    broken.tables["y-table"] = fake_tercen.Table(y_table.slice(0, 1), "y")  # no range for F
    with pytest.raises(DataError, match=r"no Y-axis range for facet cell \(.ri=1"):
        load(broken)


class Page:
    def __init__(self, label, image, width=100, height=50):
        self.label, self.image, self.width, self.height = label, image, width, height
        self.mimetype = "image/png"


def test_result_splits_content_and_names_pages():
    big = np.random.default_rng(0).bytes(900_000)  # 1,200,000 base64 characters
    pages = [Page("M", big, 800, 600), Page("F / x", b"\x89PNG small", 640, 480)]
    table = result.result_table(
        pages, namespace="ns", filename="myplot", page_factors=["sex"],
        page_values=[("M",), ("F / x",)],
    )  # fmt: skip
    assert table.column_names == [".ci", ".ri", ".content", "ns.filename", "ns.mimetype",
                                  "ns.plot_width", "ns.plot_height", "ns.sex"]  # fmt: skip
    assert table.column(".ri").to_pylist() == [0, 0, 1]
    assert [len(c) for c in table.column(".content").to_pylist()] == [1_000_000, 200_000, 16]
    assert table.column("ns.filename").to_pylist() == ["myplot_M.png"] * 2 + ["myplot_F-x.png"]
    assert table.column("ns.plot_width").to_pylist() == [800.0, 800.0, 640.0]
    assert table.column("ns.sex").to_pylist() == ["M", "M", "F / x"]
    images = fake_tercen.result_images(result.encode_result(table))
    assert images == {"myplot_M.png": big, "myplot_F-x.png": b"\x89PNG small"}
    columns = fake_tercen.decode_result(result.encode_result(table))
    assert columns[".ci"][0] == "int32" and columns[".ri"][0] == "int32"
    assert columns["ns.plot_height"][0] == "double"


def test_single_page_result_without_namespace():
    table = result.result_table([Page("", b"png")], namespace="", filename="plot")
    assert table.column_names[3:5] == [".filename", ".mimetype"]
    assert table.column(".filename").to_pylist() == ["plot.png"]
    assert base64.b64decode(table.column(".content")[0].as_py()) == b"png"
    assert table.schema.field(".ci").type == pa.int32()
    with pytest.raises(DataError, match="no page"):
        result.result_table([], namespace="", filename="plot")


def test_two_layers_become_a_layer_factor():
    projection = fake_tercen.layered(n=300)
    ctx, loaded, fake = load(projection, chunk_rows=250)
    assert ctx.n_layers == 2
    assert ctx.layer_names == ("height", "weight")
    layers = loaded.plot.layers
    assert layers.labels == ("height", "weight")
    np.testing.assert_array_equal(layers.codes, np.repeat([0, 1], 300))
    assert layers.codes.dtype == np.int8
    # Both layers dequantize on the panel's one y range.
    np.testing.assert_allclose(
        loaded.plot.y, projection.expected_y, atol=quantum(projection, projection.expected_y)
    )
    main_columns = {tuple(r.cnames) for r in fake.stream_calls if r.tableId == "qt-hash"}
    assert main_columns == {(".ri", ".ci", ".xs", ".ys", ".axisIndex")}
    assert loaded.plot.y0 is None


def test_layer_names_without_a_workflow_come_from_the_cube_query():
    ctx, loaded, _ = load(fake_tercen.layered(n=10), with_workflow=False)
    assert ctx.layer_names == ("height", "weight")
    assert loaded.plot.layers.labels == ("height", "weight")


def test_one_layer_has_no_layer_factor(crabs):
    ctx, loaded, fake = load(crabs)
    assert ctx.layer_names == ("measurement",)
    assert loaded.plot.layers is None
    assert all(".axisIndex" not in r.cnames for r in fake.stream_calls)


def test_layers_without_axis_index_or_out_of_range_are_refused():
    projection = fake_tercen.layered(n=10)
    main = projection.tables["qt-hash"].table
    projection.tables["qt-hash"] = fake_tercen.Table(main.drop_columns([".axisIndex"]))
    with pytest.raises(DataError, match=r"2 layers but the main table qt-hash has no \.axisIndex"):
        load(projection)
    projection = fake_tercen.layered(n=10)
    main = projection.tables["qt-hash"].table
    bad = pa.array(np.full(main.num_rows, 2, dtype=np.int32))
    projection.tables["qt-hash"] = fake_tercen.Table(main.set_column(4, ".axisIndex", bad))
    with pytest.raises(DataError, match=r"\.axisIndex runs from 2 to 2, but the crosstab has 2"):
        load(projection)


def test_bar_chart_reads_its_baselines():
    projection = fake_tercen.projection_sample(chart="bar")
    ctx, loaded, fake = load(projection, chunk_rows=1000)
    assert ctx.chart == "bar"
    assert loaded.plot.y0 is not None
    assert loaded.plot.y0.dtype == np.float32
    # The sample's bars all start at .y0s = 0, i.e. at each facet row's .minY (0).
    np.testing.assert_array_equal(loaded.plot.y0, np.zeros(len(loaded.plot.y), np.float32))
    assert all(".y0s" in r.cnames for r in fake.stream_calls if r.tableId == "qt-hash")


def test_bar_baselines_dequantize_on_the_y_range():
    projection = fake_tercen.crabs()
    projection.chart = "bar"
    main = projection.tables["qt-hash"].table
    y0s = np.full(main.num_rows, 65535 // 5, dtype=np.uint16)  # a fifth up each y range
    projection.tables["qt-hash"] = fake_tercen.Table(main.append_column(".y0s", pa.array(y0s)))
    _, loaded, _ = load(projection)
    y_table = projection.tables["y-table"].table
    lo = np.array(y_table.column(".minY").to_pylist())[loaded.plot.rows.codes]
    hi = np.array(y_table.column(".maxY").to_pylist())[loaded.plot.rows.codes]
    expected = lo + (65535 // 5) / 65535 * (hi - lo)
    np.testing.assert_allclose(loaded.plot.y0, expected, rtol=1e-6)


def test_point_chart_does_not_fetch_baselines():
    _, loaded, fake = load(fake_tercen.projection_sample(), chunk_rows=5000)
    assert loaded.plot.y0 is None
    assert all(".y0s" not in r.cnames for r in fake.stream_calls)


def test_svg_pages_are_named_and_typed_by_their_mimetype():
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"/>'
    pages = [Page("M", svg), Page("F", svg)]
    for page in pages:
        page.mimetype = "image/svg+xml"  # what the pipeline sets for svg and hsvg
    table = result.result_table(
        pages, namespace="ns", filename="plot", page_factors=["sex"], page_values=[("M",), ("F",)]
    )
    assert table.column("ns.filename").to_pylist() == ["plot_M.svg", "plot_F.svg"]
    assert table.column("ns.mimetype").to_pylist() == ["image/svg+xml"] * 2
    assert fake_tercen.result_images(result.encode_result(table))["plot_F.svg"] == svg
    single = result.result_table([pages[0]], namespace="", filename="plot")
    assert single.column(".filename").to_pylist() == ["plot.svg"]


def test_an_unknown_mimetype_is_refused():
    page = Page("", b"%PDF")
    page.mimetype = "application/pdf"
    with pytest.raises(ValueError, match="mimetype 'application/pdf'"):
        result.result_table([page], namespace="", filename="plot")


def test_layers_colouring_by_different_factors_are_named_in_a_warning(caplog):
    query = tercen_pb2.CubeQuery()
    query.axisQueries.add().colors.add(name="sample")
    query.axisQueries.add()
    with caplog.at_level("WARNING", logger="ggrs.tercen"):
        context._warn_layer_colours(query, None)
    assert "colours every layer by the first layer's (sample)" in caplog.text
    caplog.clear()
    query.axisQueries[1].colors.add(name="sample")
    with caplog.at_level("WARNING", logger="ggrs.tercen"):
        context._warn_layer_colours(query, None)
    assert caplog.text == ""


@pytest.mark.parametrize(
    "projection", [fake_tercen.crabs, fake_tercen.layered], ids=["crabs", "layers"]
)
def test_the_operator_never_imports_pandas(projection):
    # Loading, rendering and the result table convert between numpy and Arrow
    # through ggrs.io only; pa.array/to_numpy would import pandas (0.1-0.4 s cold).
    code = (
        "import runpy, sys\n"
        "try:\n"
        "    runpy.run_module('ggrs.operator', run_name='__main__', alter_sys=True)\n"
        "finally:\n"
        "    print('pandas imported:', 'pandas' in sys.modules)\n"
    )
    properties = {"plot.width": "300", "plot.height": "200"}
    with fake_tercen.FakeTercen(projection(), properties=properties) as fake:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TERCEN_")}
        env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
        flags = ["--taskId", fake_tercen.TASK_ID, "--serviceUri", fake.uri,
                 "--token", fake_tercen.TOKEN]  # fmt: skip
        run = subprocess.run(
            [sys.executable, "-c", code, *flags], capture_output=True, text=True, env=env,
            timeout=120,
        )  # fmt: skip
        assert len(fake.uploads) == 1, run.stderr
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().splitlines()[-1] == "pandas imported: False"
