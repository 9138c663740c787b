"""An in-process fake Tercen: real gRPC on 127.0.0.1, our generated servicers, real data.

:func:`build_projection` turns a plain table (e.g. the crabs sample) into the
tables Tercen would compute for a crosstab: the main table with quantized
``.xs``/``.ys`` and ``.ri``/``.ci``/``.colorLevels``, the column and row facet
tables, the Y/X range tables and the colour level table.
:func:`projection_sample` serves a real Tercen main table as it is.

:class:`FakeTercen` serves a projection: it checks the token, fragments
streamed tables into small pieces, records uploads, task updates and events,
supports both upload paths and schema ids on the task or on its parent task,
serves TLS when given a key and certificate, and injects the faults listed in
:class:`Faults`. :func:`layered` serves two layers (``.axisIndex``) and
:func:`projection_sample` a real bar chart projection (``.y0s``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from concurrent import futures
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from ggrs import tson
from proto import tercen_pb2, tercen_pb2_grpc

REPO = Path(__file__).resolve().parent.parent
CRABS = REPO / "ggrs" / "data" / "crabs_long.csv"
PROJECTION_SAMPLE = REPO / "tests" / "data" / "projection_sample.csv"
TOKEN = "fake-token-5f3a9c"
TASK_ID = "task-1"
PARENT_ID = "parent-task-1"
RESULT_FILE_ID = "result-file-1"
WORKFLOW_ID = "workflow-1"
STEP_ID = "step-1"


@dataclass
class Table:
    """A served table and what its schema says about it."""

    table: pa.Table
    query_table_type: str = ""
    quartiles: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class Projection:
    """Every table of one crosstab projection, by id, and how the crosstab is set up."""

    tables: dict[str, Table]
    y_name: str
    x_name: str = ""
    colour: str = ""
    colour_type: str = ""
    palette: tercen_pb2.EPalette | None = None
    page_factors: tuple[str, ...] = ()
    chart: str = "point"
    point_size: int = 4
    # One y factor name per layer (.axisIndex value); () for one layer named y_name.
    layer_names: tuple[str, ...] = ()
    # For checks: what the quantized values should dequantize to.
    expected_x: np.ndarray | None = None
    expected_y: np.ndarray | None = None


def _quantize(values: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    span = np.where(hi > lo, hi - lo, 1.0)
    return np.rint((values - lo) / span * 65535.0).astype(np.uint16)


def _levels(table: pa.Table, names: Sequence[str]) -> tuple[np.ndarray, pa.Table]:
    """Code per row and the distinct combinations of `names`, first-seen order."""
    if not names:
        return np.zeros(table.num_rows, dtype=np.int32), pa.table({})
    key = table.select(list(names))
    combos = key.group_by(list(names), use_threads=False).aggregate([])
    # Codes via a join of every row with its combination's index.
    with_index = combos.append_column("__i", pa.array(np.arange(combos.num_rows, dtype=np.int32)))
    joined = key.append_column("__row", pa.array(np.arange(key.num_rows))).join(
        with_index, list(names), use_threads=False
    )
    codes = np.empty(table.num_rows, dtype=np.int32)
    codes[joined.column("__row").to_numpy()] = joined.column("__i").to_numpy()
    return codes, combos


def build_projection(
    table: pa.Table,
    *,
    y: str,
    x: str | None = None,
    colour: str | None = None,
    rows: Sequence[str] = (),
    cols: Sequence[str] = (),
    pages: Sequence[str] = (),
    palette: tercen_pb2.EPalette | None = None,
) -> Projection:
    """The tables Tercen computes for a crosstab of `table` (free y per facet row)."""
    n = table.num_rows
    ri, row_table = _levels(table, [*pages, *rows])
    ci, col_table = _levels(table, list(cols))
    n_r, n_c = max(row_table.num_rows, 1), max(col_table.num_rows, 1)
    yv = table.column(y).to_numpy(zero_copy_only=False).astype(np.float64)
    xv = (
        table.column(x).to_numpy(zero_copy_only=False).astype(np.float64)
        if x
        else np.arange(1, n + 1, dtype=np.float64)
    )
    # Y range per facet row, X range per facet column (Tercen's free scales).
    y_lo = np.full(n_r, np.inf)
    y_hi = np.full(n_r, -np.inf)
    np.minimum.at(y_lo, ri, yv)
    np.maximum.at(y_hi, ri, yv)
    x_lo = np.full(n_c, np.inf)
    x_hi = np.full(n_c, -np.inf)
    np.minimum.at(x_lo, ci, xv)
    np.maximum.at(x_hi, ci, xv)
    main = {
        ".ci": pa.array(ci),
        ".ri": pa.array(ri),
        ".xs": pa.array(_quantize(xv, x_lo[ci], x_hi[ci])),
        ".ys": pa.array(_quantize(yv, y_lo[ri], y_hi[ri])),
    }
    tables: dict[str, Table] = {}
    colour_type = ""
    if colour:
        column = table.column(colour)
        if pa.types.is_floating(column.type):
            main[colour] = column.combine_chunks()
            colour_type = "double"
            q = np.quantile(column.to_numpy(), [0.25, 0.5, 0.75])
            tables["color-table"] = Table(
                pa.table({colour: pa.array([], pa.float64())}),
                "color_0",
                {colour: [repr(float(v)) for v in q]},
            )
        else:
            codes, levels = _levels(table, [colour])
            main[".colorLevels"] = pa.array(codes)
            colour_type = "string"
            tables["color-table"] = Table(levels, "color_0")
    tables["qt-hash"] = Table(pa.table(main))
    tables["col-hash"] = Table(col_table if col_table.num_columns else _one_row(".ci"))
    tables["row-hash"] = Table(row_table if row_table.num_columns else _one_row(".ri"))
    tables["y-table"] = Table(
        pa.table({".ri": np.arange(n_r, dtype=np.int32), ".minY": y_lo, ".maxY": y_hi}), "y"
    )
    if x:
        tables["x-table"] = Table(
            pa.table({".ci": np.arange(n_c, dtype=np.int32), ".minX": x_lo, ".maxX": x_hi}), "x"
        )
    return Projection(
        tables=tables,
        y_name=y,
        x_name=x or "",
        colour=colour or "",
        colour_type=colour_type,
        palette=palette,
        page_factors=tuple(pages),
        expected_x=xv,
        expected_y=yv,
    )


def _one_row(index: str) -> pa.Table:
    # Tercen's facet table without factors: one row and no factor column.
    return pa.table({index: pa.array([0], pa.int32())})


def crabs(**mapping: object) -> Projection:
    """The crabs sample: measurement by observation, coloured by colour, sex × variable."""
    table = pacsv.read_csv(CRABS)
    options = {"y": "measurement", "x": "observation", "colour": "color",
               "rows": ["sex"], "cols": ["variable"]}  # fmt: skip
    options.update(mapping)
    return build_projection(table, **options)  # type: ignore[arg-type]


def synthetic(n: int, n_rows: int = 4, n_cols: int = 3, seed: int = 0) -> Projection:
    """`n` random points in n_rows × n_cols panels, coloured by 5 categories."""
    rng = np.random.default_rng(seed)
    panel = rng.integers(0, n_rows * n_cols, n)
    table = pa.table(
        {
            "x": rng.normal(size=n) + panel,
            "y": rng.normal(size=n) * (1 + panel % 3),
            "group": pc.cast(pa.array(rng.integers(0, 5, n)), pa.string()),
            "row": pc.cast(pa.array(panel // n_cols), pa.string()),
            "col": pc.cast(pa.array(panel % n_cols), pa.string()),
        }
    )
    return build_projection(table, y="y", x="x", colour="group", rows=["row"], cols=["col"])


def layered(n: int = 300, seed: int = 0) -> Projection:
    """Two layers (y factors ``height`` and ``weight``) over the same x, in 2 facet columns.

    As Tercen sends them: the rows of both layers in one main table, told apart
    by ``.axisIndex`` (0 = height, 1 = weight), on one shared y range per panel.
    """
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    group = pc.cast(pa.array(rng.integers(0, 2, n)), pa.string())
    long = pa.table(
        {
            "x": np.concatenate([x, x]),
            "value": np.concatenate([x * 2 + 10, rng.normal(size=n) + 5]),
            "group": pa.concat_arrays([group, group]),
        }
    )
    projection = build_projection(long, y="value", x="x", cols=["group"])
    main = projection.tables["qt-hash"].table
    axis_index = np.repeat(np.arange(2, dtype=np.int32), n)
    projection.tables["qt-hash"] = Table(main.append_column(".axisIndex", pa.array(axis_index)))
    projection.layer_names = ("height", "weight")
    return projection


def projection_sample(chart: str = "point") -> Projection:
    """The real Tercen projection table, served as recorded (bars over facility levels).

    The facet tables hold made-up labels (the sample has only the indices);
    the Y ranges (per facet row) are those that reproduce its ``.ys`` from ``.y``,
    the X ranges (per facet cell) put ``.xLevels`` at integer positions.
    """
    raw = pacsv.read_csv(PROJECTION_SAMPLE)
    main = pa.table(
        {
            ".ci": pc.cast(raw.column(".ci"), pa.int32()),
            ".ri": pc.cast(raw.column(".ri"), pa.int32()),
            ".xs": pc.cast(raw.column(".xs"), pa.uint16()),
            ".ys": pc.cast(raw.column(".ys"), pa.uint16()),
            ".y0s": pc.cast(raw.column(".y0s"), pa.uint16()),
            ".axisIndex": pc.cast(raw.column(".axisIndex"), pa.int32()),
        }
    )
    ci = raw.column(".ci").to_numpy()
    ri = raw.column(".ri").to_numpy()
    ys = raw.column(".ys").to_numpy().astype(np.float64)
    yv = raw.column(".y").to_numpy().astype(np.float64)
    max_y = []
    for r in range(4):
        sel = (ri == r) & (ys > 0)
        max_y.append(float(np.round(np.median(yv[sel] / ys[sel]) * 65535.0)))
    # Bars over facility levels: each facet cell has its own number of x levels.
    n_x = raw.column(".nXLevels").to_numpy()
    cells = sorted({(int(c), int(r)) for c, r in zip(ci, ri, strict=True)})
    n_levels = [int(n_x[(ci == c) & (ri == r)][0]) for c, r in cells]
    tables = {
        "qt-hash": Table(main),
        "col-hash": Table(pa.table({"period": ["2019", "2020", "2021", "2022"]})),
        "row-hash": Table(pa.table({"region": ["North", "East", "South", "West"]})),
        "y-table": Table(
            pa.table({".ri": pa.array(range(4), pa.int32()), ".minY": [0.0] * 4, ".maxY": max_y}),
            "y",
        ),
        "x-table": Table(
            pa.table(
                {
                    ".ci": pa.array([c for c, _ in cells], pa.int32()),
                    ".ri": pa.array([r for _, r in cells], pa.int32()),
                    ".minX": [-0.5] * len(cells),
                    ".maxX": [n - 0.5 for n in n_levels],
                }
            ),
            "x",
        ),
    }
    return Projection(
        tables=tables,
        y_name="value",
        x_name="facility",
        chart=chart,
        expected_x=raw.column(".xLevels").to_numpy().astype(np.float64),
        expected_y=yv,
    )


@dataclass
class Faults:
    """Faults to inject.

    Attributes:
        unavailable_streams: the first N streamTable calls of the main table fail UNAVAILABLE.
        cut_stream_after: the first main-table stream stops with INTERNAL after this many bytes.
        slow_seconds: every schema ``get`` sleeps this long first (past a short deadline).
        missing_y_table: the task's schema ids lack the Y-axis table.
        malformed_main: the main table's TSON is corrupted.
    """

    unavailable_streams: int = 0
    cut_stream_after: int | None = None
    slow_seconds: float = 0.0
    missing_y_table: bool = False
    malformed_main: bool = False


@dataclass
class Upload:
    """One recorded ``FileService.upload``."""

    document: tercen_pb2.FileDocument
    payload: bytes
    messages: int


def _schema(table_id: str, served: Table) -> tercen_pb2.ESchema:
    schema = tercen_pb2.CubeQueryTableSchema(
        id=table_id, nRows=served.table.num_rows, queryTableType=served.query_table_type
    )
    for name in served.table.column_names:
        column = tercen_pb2.ColumnSchema(name=name, type=str(served.table.schema.field(name).type))
        column.metaData.quartiles.extend(served.quartiles.get(name, []))
        schema.columns.add(columnschema=column)
    return tercen_pb2.ESchema(cubequerytableschema=schema)


class FakeTercen:
    """A fake Tercen server for one projection (use as a context manager).

    Args:
        projection: the tables to serve.
        token: the token the server accepts.
        faults: faults to inject.
        fragment: bytes per streamed response message.
        file_result: the task has a ``fileResultId`` (upload path B) or not (path A).
        schema_on_parent: schema ids are on the parent task, not on the task.
        properties: operator property values of the task.
        with_workflow: the task environment names a workflow step (chart, palette).
        tls: (private key, certificate) in PEM: serve TLS at ``https://127.0.0.1:port``.
    """

    def __init__(
        self,
        projection: Projection,
        *,
        token: str = TOKEN,
        faults: Faults | None = None,
        fragment: int = 4096,
        file_result: bool = True,
        schema_on_parent: bool = False,
        properties: dict[str, str] | None = None,
        with_workflow: bool = True,
        namespace: str = "ggrs",
        tls: tuple[bytes, bytes] | None = None,
    ) -> None:
        self.projection = projection
        self.token = token
        self.faults = faults or Faults()
        self.fragment = fragment
        self.file_result = file_result
        self.schema_on_parent = schema_on_parent
        self.properties = properties or {}
        self.with_workflow = with_workflow
        self.namespace = namespace
        self.tls = tls
        self.uploads: list[Upload] = []
        self.updated_tasks: list[tercen_pb2.ETask] = []
        self.events: list[tercen_pb2.EEvent] = []
        self.stream_calls: list[tercen_pb2.ReqStreamTable] = []
        self.refused_tokens = 0
        self.schema_requests = 0
        self._lock = threading.Lock()
        self.stopping = threading.Event()
        self._server: grpc.Server | None = None
        self.uri = ""

    # -- lifecycle ----------------------------------------------------------------------

    def __enter__(self) -> FakeTercen:
        server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=8),
            options=[("grpc.max_receive_message_length", 256 * 1024 * 1024)],
        )
        tercen_pb2_grpc.add_TaskServiceServicer_to_server(_Tasks(self), server)
        tercen_pb2_grpc.add_TableSchemaServiceServicer_to_server(_Schemas(self), server)
        tercen_pb2_grpc.add_FileServiceServicer_to_server(_Files(self), server)
        tercen_pb2_grpc.add_WorkflowServiceServicer_to_server(_Workflows(self), server)
        tercen_pb2_grpc.add_EventServiceServicer_to_server(_Events(self), server)
        if self.tls is None:
            port = server.add_insecure_port("127.0.0.1:0")
        else:
            credentials = grpc.ssl_server_credentials([self.tls])
            port = server.add_secure_port("127.0.0.1:0", credentials)
        server.start()
        self._server = server
        self.uri = f"{'http' if self.tls is None else 'https'}://127.0.0.1:{port}"
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        if self._server is not None:
            self._server.stop(grace=None).wait()

    # -- shared checks --------------------------------------------------------------------

    def check_token(self, context: grpc.ServicerContext) -> None:
        metadata = dict(context.invocation_metadata())
        if metadata.get("authorization") != self.token:
            with self._lock:
                self.refused_tokens += 1
            context.abort(grpc.StatusCode.UNAUTHENTICATED, "token is not valid")

    # -- the task -------------------------------------------------------------------------

    def schema_ids(self) -> list[str]:
        ids = [i for i, t in self.projection.tables.items() if t.query_table_type]
        if self.faults.missing_y_table:
            ids = [i for i in ids if self.projection.tables[i].query_table_type != "y"]
        return ids

    def query(self) -> tercen_pb2.CubeQuery:
        p = self.projection
        axes = []
        for name in p.layer_names or (p.y_name,):
            axis = tercen_pb2.CubeAxisQuery(
                pointSize=p.point_size,
                chartType=p.chart,
                yAxis=tercen_pb2.Factor(name=name, type="double"),
                xAxis=tercen_pb2.Factor(name=p.x_name, type="double"),
            )
            if p.colour:
                axis.colors.add(name=p.colour, type=p.colour_type)
            axes.append(axis)
        query = tercen_pb2.CubeQuery(
            qtHash="qt-hash", columnHash="col-hash", rowHash="row-hash", axisQueries=axes
        )
        settings = query.operatorSettings
        settings.namespace = self.namespace
        for name, value in self.properties.items():
            settings.operatorRef.propertyValues.add(name=name, value=value)
        crosstab = settings.operatorRef.operatorSpec.inputSpecs.add().crosstabspec
        page = crosstab.metaFactors.add().metafactor
        page.name = "Page"
        for factor in p.page_factors:
            page.factors.add(name=factor, type="string")
        return query

    def task(self) -> tercen_pb2.ETask:
        body = tercen_pb2.RunComputationTask(
            id=TASK_ID, projectId="project-1", query=self.query(), owner="alice"
        )
        if self.file_result:
            body.fileResultId = RESULT_FILE_ID
        if self.schema_on_parent:
            body.parentTaskId = PARENT_ID
        else:
            body.schemaIds.extend(self.schema_ids())
        if self.with_workflow:
            body.environment.add(key="workflow.id", value=WORKFLOW_ID)
            body.environment.add(key="step.id", value=STEP_ID)
        return tercen_pb2.ETask(runcomputationtask=body)

    def workflow(self) -> tercen_pb2.EWorkflow:
        p = self.projection
        step = tercen_pb2.DataStep(id=STEP_ID, name="plot")
        for name in p.layer_names or (p.y_name,):
            xy = step.model.axis.xyAxis.add()
            xy.yAxis.graphicalFactor.factor.name = name
            chart = getattr(xy.chart, f"chart{p.chart}")
            chart.name = p.chart
            if p.chart in ("point", "line"):
                chart.pointSize = p.point_size
            if p.colour:
                xy.colors.factors.add(name=p.colour, type=p.colour_type)
                if p.palette is not None:
                    xy.colors.palette.CopyFrom(p.palette)
        workflow = tercen_pb2.Workflow(id=WORKFLOW_ID)
        workflow.steps.add(datastep=step)
        return tercen_pb2.EWorkflow(workflow=workflow)

    def stream(self, request: tercen_pb2.ReqStreamTable, context: grpc.ServicerContext) -> Iterator:
        with self._lock:
            self.stream_calls.append(request)
            main_calls = sum(1 for r in self.stream_calls if r.tableId == "qt-hash")
        served = self.projection.tables.get(request.tableId)
        if served is None:
            context.abort(grpc.StatusCode.NOT_FOUND, f"table {request.tableId} not found")
        is_main = request.tableId == "qt-hash"
        if is_main and main_calls <= self.faults.unavailable_streams:
            context.abort(grpc.StatusCode.UNAVAILABLE, "server is restarting")
        table = served.table
        if request.cnames:
            missing = [c for c in request.cnames if c not in table.column_names]
            if missing:
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"no columns {missing}")
            table = table.select(list(request.cnames))
        table = table.slice(request.offset, request.limit)
        payload = tson.table_to_tson(table)
        if is_main and self.faults.malformed_main:
            payload = payload[: len(payload) // 2] + b"\xff\x07garbage"
        cut = self.faults.cut_stream_after if is_main and main_calls == 1 else None
        sent = 0
        view = memoryview(payload)
        for start in range(0, len(payload), self.fragment):
            if cut is not None and sent >= cut:
                context.abort(grpc.StatusCode.INTERNAL, "RST_STREAM: connection reset")
            piece = bytes(view[start : start + self.fragment])
            sent += len(piece)
            yield tercen_pb2.RespStreamTable(result=piece)


class _Tasks(tercen_pb2_grpc.TaskServiceServicer):
    def __init__(self, fake: FakeTercen) -> None:
        self.fake = fake

    def get(self, request, context):
        self.fake.check_token(context)
        if request.id == TASK_ID:
            return self.fake.task()
        if request.id == PARENT_ID and self.fake.schema_on_parent:
            parent = tercen_pb2.CubeQueryTask(id=PARENT_ID, query=self.fake.query())
            parent.schemaIds.extend(self.fake.schema_ids())
            return tercen_pb2.ETask(cubequerytask=parent)
        context.abort(grpc.StatusCode.NOT_FOUND, f"task {request.id} not found")

    def update(self, request, context):
        self.fake.check_token(context)
        self.fake.updated_tasks.append(request)
        return tercen_pb2.ResponseUpdate(rev="2")


class _Schemas(tercen_pb2_grpc.TableSchemaServiceServicer):
    def __init__(self, fake: FakeTercen) -> None:
        self.fake = fake

    def get(self, request, context):
        self.fake.check_token(context)
        self.fake.schema_requests += 1
        if self.fake.faults.slow_seconds:
            # Wakes up early when the server stops, so no thread outlives the test.
            self.fake.stopping.wait(self.fake.faults.slow_seconds)
        served = self.fake.projection.tables.get(request.id)
        if served is None:
            context.abort(grpc.StatusCode.NOT_FOUND, f"schema {request.id} not found")
        return _schema(request.id, served)

    def streamTable(self, request, context):
        self.fake.check_token(context)
        yield from self.fake.stream(request, context)


class _Files(tercen_pb2_grpc.FileServiceServicer):
    def __init__(self, fake: FakeTercen) -> None:
        self.fake = fake

    def get(self, request, context):
        self.fake.check_token(context)
        if request.id != RESULT_FILE_ID or not self.fake.file_result:
            context.abort(grpc.StatusCode.NOT_FOUND, f"file {request.id} not found")
        return tercen_pb2.EFileDocument(
            filedocument=tercen_pb2.FileDocument(id=RESULT_FILE_ID, name="result", rev="1")
        )

    def upload(self, request_iterator, context):
        self.fake.check_token(context)
        document = None
        pieces = []
        for message in request_iterator:
            if document is None:
                document = message.file.filedocument
            pieces.append(message.bytes)
        document = tercen_pb2.FileDocument() if document is None else document
        if not document.id:
            document.id = f"uploaded-{len(self.fake.uploads) + 1}"
        self.fake.uploads.append(Upload(document, b"".join(pieces), len(pieces)))
        return tercen_pb2.RespUpload(result=tercen_pb2.EFileDocument(filedocument=document))


class _Workflows(tercen_pb2_grpc.WorkflowServiceServicer):
    def __init__(self, fake: FakeTercen) -> None:
        self.fake = fake

    def get(self, request, context):
        self.fake.check_token(context)
        if request.id != WORKFLOW_ID:
            context.abort(grpc.StatusCode.NOT_FOUND, f"workflow {request.id} not found")
        return self.fake.workflow()


class _Events(tercen_pb2_grpc.EventServiceServicer):
    def __init__(self, fake: FakeTercen) -> None:
        self.fake = fake

    def create(self, request, context):
        self.fake.check_token(context)
        self.fake.events.append(request)
        return request


def decode_result(payload: bytes) -> dict[str, list]:
    """The uploaded OperatorResult's single table as column name → list of values."""
    root = tson.decode(payload)
    assert root["kind"] == "OperatorResult"
    (table,) = root["tables"]
    assert table["kind"] == "Table"
    out = {}
    for column in table["columns"]:
        assert column["kind"] == "Column"
        assert column["nRows"] == table["nRows"]
        out[column["name"]] = (column["type"], list(column["values"]))
    return out


def result_images(payload: bytes) -> dict[str, bytes]:
    """Uploaded images by file name, with the .content pieces of each page joined."""
    import base64

    columns = decode_result(payload)
    name_column = next(n for n in columns if n.endswith(".filename"))
    images: dict[str, list[str]] = {}
    for name, piece in zip(columns[name_column][1], columns[".content"][1], strict=True):
        images.setdefault(name, []).append(piece)
    return {name: base64.b64decode("".join(parts)) for name, parts in images.items()}
