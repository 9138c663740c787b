"""What a Tercen task asks for: tables, facets, pages, colours, chart and properties.

:func:`load_context` follows Tercen's ids once, up front (protocol §1.3–1.4):
task → CubeQuery (main, column and row table ids) → schema ids (on the task or
its parent task) → the range and colour tables by ``queryTableType`` → the
workflow step's crosstab (chart kind, point size, colour palette). Every
schema is fetched once per run. The result is plain data: nothing after this
needs the protobuf messages.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from ggrs.errors import DataError
from ggrs.tercen.client import TercenClient
from proto import tercen_pb2

log = logging.getLogger("ggrs.tercen")
_T = TypeVar("_T")

TASK_KINDS = ("runcomputationtask", "computationtask", "cubequerytask")
"""Task classes an operator can be started with."""

TRANSFORMS = ("log", "ln", "log10", "log2", "asinh", "sqrt", "logicle")
"""Axis preprocessors that mean "the data arrive in transformed space"."""

_CHARTS = {
    "chartpoint": "point",
    "chartline": "line",
    "chartbar": "bar",
    "chartheatmap": "heatmap",
    "chartsize": "point",
    "chart": "point",
}


@dataclass(frozen=True)
class TableInfo:
    """One table's schema, as far as the operator needs it.

    Attributes:
        id: table id (CubeQuery hash or schema id).
        n_rows: number of rows.
        columns: column names in schema order.
        query_table_type: ``y``, ``x``, ``color_N``, ... ("" when not a cube query table).
        quartiles: column name → Q1, Q2, Q3 from the column metadata, when given.
    """

    id: str
    n_rows: int
    columns: tuple[str, ...]
    query_table_type: str = ""
    quartiles: Mapping[str, tuple[float, float, float]] = field(default_factory=dict)


@dataclass(frozen=True)
class ColourSpec:
    """The colour factor of the first layer.

    Attributes:
        factor: factor (column) name; the legend title.
        continuous: True for a numeric factor (Jet/Ramp palette), False for categories.
        palette: palette name from the crosstab (``Palette-1``, ``Spectral``, ``Jet`` ...).
        user_defined: the palette's stops were set by the user (no quartile rescale).
        table: the ``color_0`` level table (categorical labels; the colour column's
            quartiles), if Tercen made one.
        elements: a Jet/Ramp palette's colour elements as (value, (r, g, b)), in the
            crosstab's order; empty without a crosstab palette.
        level_colours: a category palette's explicit map, level label → (r, g, b)
            (``stringColorElements``); empty when levels take Palette-1's colours.
    """

    factor: str
    continuous: bool
    palette: str
    user_defined: bool = False
    table: TableInfo | None = None
    elements: tuple[tuple[float, tuple[int, int, int]], ...] = ()
    level_colours: tuple[tuple[str, tuple[int, int, int]], ...] = ()


@dataclass(frozen=True)
class OperatorContext:
    """Everything the data loader, the renderer and the uploader need to know.

    ``layer_names`` has one name per layer (``.axisIndex`` value): the layer's
    y factor as Tercen shows it.
    """

    task_id: str
    task_kind: str
    project_id: str
    file_result_id: str
    main: TableInfo
    col_table: TableInfo
    row_table: TableInfo
    y_table: TableInfo
    x_table: TableInfo | None
    namespace: str
    properties: Mapping[str, str]
    page_factors: tuple[str, ...]
    chart: str
    point_size: float | None
    colour: ColourSpec | None
    x_transform: str | None
    y_transform: str | None
    x_title: str
    y_title: str
    n_layers: int
    workflow_id: str = ""
    step_id: str = ""
    layer_names: tuple[str, ...] = ()


class SchemaCache:
    """Fetches each schema once per run (Tercen's own operator fetched some four times)."""

    def __init__(self, client: TercenClient, call: Callable[[Callable[[], _T], str], _T]) -> None:
        self._client = client
        self._call = call
        self._seen: dict[str, TableInfo] = {}

    def get(self, table_id: str) -> TableInfo:
        """The schema of `table_id` as a :class:`TableInfo`."""
        if table_id not in self._seen:
            schema = self._call(lambda: self._client.get_schema(table_id), "get schema")
            self._seen[table_id] = table_info(table_id, schema)
        return self._seen[table_id]


def table_info(table_id: str, schema: tercen_pb2.ESchema) -> TableInfo:
    """Reads rows, column names, query table type and quartiles from an ``ESchema``.

    Raises:
        DataError: the schema is empty (no known schema kind).
    """
    kind = schema.WhichOneof("object")
    if kind is None:
        raise DataError(f"table {table_id}: the server returned an empty schema")
    body = getattr(schema, kind)
    columns, quartiles = [], {}
    for entry in body.columns:
        if entry.WhichOneof("object") != "columnschema":
            continue
        column = entry.columnschema
        columns.append(column.name)
        q = _floats(column.metaData.quartiles[:3])
        if q is not None and len(q) == 3:
            quartiles[column.name] = q
    return TableInfo(
        id=table_id,
        n_rows=max(int(body.nRows), 0),
        columns=tuple(columns),
        query_table_type=getattr(body, "queryTableType", ""),
        quartiles=quartiles,
    )


def _floats(texts: object) -> tuple[float, ...] | None:
    try:
        return tuple(float(t) for t in texts)  # type: ignore[union-attr]
    except ValueError:
        return None


def _task_body(etask: tercen_pb2.ETask, task_id: str) -> tuple[str, object]:
    kind = etask.WhichOneof("object")
    if kind not in TASK_KINDS:
        raise DataError(
            f"task {task_id} is a {kind or 'empty task'}; a plot operator runs a "
            f"RunComputationTask, ComputationTask or CubeQueryTask"
        )
    return kind, getattr(etask, kind)


def load_context(
    client: TercenClient,
    task_id: str,
    call: Callable[[Callable[[], _T], str], _T] | None = None,
    environ: Mapping[str, str] | None = None,
) -> tuple[OperatorContext, SchemaCache]:
    """Reads the task and everything it points to.

    Args:
        client: the Tercen client.
        task_id: the task the operator was started for.
        call: wraps each remote call (retries); default calls directly.
        environ: process environment for the ``WORKFLOW_ID``/``STEP_ID`` fallbacks.

    Returns:
        The context and the schema cache (reused when loading data).

    Raises:
        DataError: unsupported task kind, no schema ids, no Y-axis table, a workflow
            step that is missing.
        RemoteError: a call failed (see :mod:`ggrs.tercen.client`).
    """
    call = call or (lambda fn, what: fn())
    environ = os.environ if environ is None else environ
    kind, task = _task_body(call(lambda: client.get_task(task_id), "get task"), task_id)
    if not task.HasField("query"):
        raise DataError(f"task {task_id} ({kind}) has no CubeQuery; nothing to plot")
    query = task.query
    schema_ids = list(task.schemaIds)
    parent_id = getattr(task, "parentTaskId", "")
    if not schema_ids and parent_id:
        # Tercen fills schemaIds on the parent CubeQueryTask, not on the task run.
        _, parent = _task_body(call(lambda: client.get_task(parent_id), "get task"), parent_id)
        schema_ids = list(parent.schemaIds)
    if not schema_ids:
        raise DataError(
            f"task {task_id} has no schema ids (nor its parent {parent_id or '-'}): Tercen "
            "computed no axis tables; make sure the crosstab has a Y-axis factor"
        )

    schemas = SchemaCache(client, call)
    main = schemas.get(query.qtHash)
    col_table = schemas.get(query.columnHash)
    row_table = schemas.get(query.rowHash)
    by_type: dict[str, TableInfo] = {}
    for schema_id in schema_ids:
        if schema_id in (query.qtHash, query.columnHash, query.rowHash):
            continue
        info = schemas.get(schema_id)
        by_type.setdefault(info.query_table_type, info)
    if "y" not in by_type:
        raise DataError(
            f"task {task_id}: none of its {len(schema_ids)} tables is a Y-axis table "
            "(queryTableType 'y'); make sure the crosstab has a Y-axis factor"
        )

    env = {p.key: p.value for p in task.environment}
    workflow_id = env.get("workflow.id") or environ.get("WORKFLOW_ID", "")
    step_id = env.get("step.id") or environ.get("STEP_ID", "")
    crosstab = None
    if workflow_id and step_id:
        crosstab = _crosstab(client, call, workflow_id, step_id)

    settings = query.operatorSettings
    axis = query.axisQueries[0] if query.axisQueries else tercen_pb2.CubeAxisQuery()
    xy = crosstab.axis.xyAxis[0] if crosstab is not None and crosstab.axis.xyAxis else None
    colour = _colour(axis, xy, by_type.get("color_0"))
    _warn_layer_colours(query, crosstab)
    x_transform, y_transform = _transforms(axis, xy)
    return (
        OperatorContext(
            task_id=task_id,
            task_kind=kind,
            project_id=task.projectId,
            file_result_id=getattr(task, "fileResultId", ""),
            main=main,
            col_table=col_table,
            row_table=row_table,
            y_table=by_type["y"],
            x_table=by_type.get("x"),
            namespace=settings.namespace,
            properties={p.name: p.value for p in settings.operatorRef.propertyValues},
            page_factors=_page_factors(settings.operatorRef.operatorSpec),
            chart=_chart(axis, xy),
            point_size=_point_size(axis, xy),
            colour=colour,
            x_transform=x_transform,
            y_transform=y_transform,
            x_title=axis.xAxis.name,
            y_title=axis.yAxis.name,
            n_layers=max(len(query.axisQueries), 1),
            workflow_id=workflow_id,
            step_id=step_id,
            layer_names=_layer_names(query, crosstab),
        ),
        schemas,
    )


def _crosstab(
    client: TercenClient, call: Callable, workflow_id: str, step_id: str
) -> tercen_pb2.Crosstab:
    workflow = call(lambda: client.get_workflow(workflow_id), "get workflow").workflow
    for step in workflow.steps:
        kind = step.WhichOneof("object")
        if kind in ("datastep", "crosstabstep") and getattr(step, kind).id == step_id:
            return getattr(step, kind).model
    raise DataError(f"workflow {workflow_id} has no data step {step_id}")


def _chart(axis: tercen_pb2.CubeAxisQuery, xy: tercen_pb2.XYAxis | None) -> str:
    if xy is not None and xy.HasField("chart"):
        return _CHARTS.get(xy.chart.WhichOneof("object") or "chart", "point")
    # Without a workflow the CubeQuery still says what the crosstab draws.
    return axis.chartType.lower() or "point"


def _point_size(axis: tercen_pb2.CubeAxisQuery, xy: tercen_pb2.XYAxis | None) -> float | None:
    if xy is not None and xy.HasField("chart"):
        kind = xy.chart.WhichOneof("object")
        size = getattr(getattr(xy.chart, kind), "pointSize", 0) if kind else 0
        if size > 0:
            return float(size)
    return float(axis.pointSize) if axis.pointSize > 0 else None


def _layer_names(
    query: tercen_pb2.CubeQuery, crosstab: tercen_pb2.Crosstab | None
) -> tuple[str, ...]:
    """Each layer's y factor name: the crosstab's, else the CubeQuery's, else "Layer i"."""
    xys = list(crosstab.axis.xyAxis) if crosstab is not None else []
    names = []
    for i in range(max(len(query.axisQueries), 1)):
        name = xys[i].yAxis.graphicalFactor.factor.name if i < len(xys) else ""
        if not name and i < len(query.axisQueries):
            name = query.axisQueries[i].yAxis.name
        names.append(name or f"Layer {i + 1}")
    return tuple(names)


def _warn_layer_colours(query: tercen_pb2.CubeQuery, crosstab: tercen_pb2.Crosstab | None) -> None:
    """Says so when layers colour by different factors: the plot data holds one colour
    column, so every layer takes the first layer's (Tercen draws each layer its own)."""
    xys = list(crosstab.axis.xyAxis) if crosstab is not None else []
    per_layer = []
    for i in range(max(len(query.axisQueries), 1)):
        factors = list(xys[i].colors.factors) if i < len(xys) else []
        if not factors and i < len(query.axisQueries):
            factors = list(query.axisQueries[i].colors)
        per_layer.append(tuple(f.name for f in factors if f.name))
    if len(set(per_layer)) > 1:
        log.warning(
            "layers colour by different factors %s; ggrs colours every layer by the first "
            "layer's (%s)", per_layer, ", ".join(per_layer[0]) or "none",
        )  # fmt: skip


def argb_to_rgb(color: int) -> tuple[int, int, int]:
    """Tercen's signed 32-bit ARGB colour as (r, g, b); the alpha byte is dropped."""
    value = color & 0xFFFFFFFF
    return ((value >> 16) & 0xFF, (value >> 8) & 0xFF, value & 0xFF)


def _elements(body: object, palette: str) -> tuple[tuple[float, tuple[int, int, int]], ...]:
    """A Jet/Ramp palette's ``doubleColorElements`` as (value, (r, g, b)).

    Raises:
        DataError: an element's value is not a number.
    """
    out = []
    for element in body.doubleColorElements:  # type: ignore[attr-defined]
        try:
            value = float(element.stringValue)
        except ValueError:
            value = float("nan")
        if not math.isfinite(value):
            raise DataError(
                f"palette {palette!r}: colour element value {element.stringValue!r} is not a "
                "finite number; fix the palette's values in the crosstab"
            )
        out.append((value, argb_to_rgb(element.color)))
    return tuple(out)


@dataclass(frozen=True)
class _Palette:
    """What :func:`_palette` reads from a crosstab palette (None: not said)."""

    name: str | None
    continuous: bool | None
    user_defined: bool = False
    elements: tuple[tuple[float, tuple[int, int, int]], ...] = ()
    level_colours: tuple[tuple[str, tuple[int, int, int]], ...] = ()


def _palette(palette: tercen_pb2.EPalette) -> _Palette:
    """Name, kind, user-defined flag and colour elements of a crosstab palette."""
    kind = palette.WhichOneof("object")
    if kind is None:
        return _Palette(None, None)
    body = getattr(palette, kind)
    named = {p.name: p.value for p in body.properties}.get("name")
    if kind == "categorypalette":
        # An explicit map wins over the named list (Tercen: unknown levels grey).
        level_colours = tuple(
            (e.stringValue, argb_to_rgb(e.color)) for e in body.stringColorElements
        )
        name = body.colorList.name or named or "Palette-1"
        return _Palette(name, False, level_colours=level_colours)
    if kind in ("jetpalette", "ramppalette"):
        name = "Jet" if kind == "jetpalette" else named or "Spectral"
        return _Palette(name, True, body.isUserDefined, _elements(body, name))
    return _Palette(named, None)


def _colour(
    axis: tercen_pb2.CubeAxisQuery, xy: tercen_pb2.XYAxis | None, table: TableInfo | None
) -> ColourSpec | None:
    factors = list(xy.colors.factors) if xy is not None else []
    factors = factors or list(axis.colors)
    factors = [f for f in factors if f.name]
    if not factors:
        return None
    if len(factors) > 1:
        log.warning("colour factors %s: only the first is used", [f.name for f in factors])
    first = factors[0]
    palette = _palette(xy.colors.palette) if xy is not None else _Palette(None, None)
    continuous = palette.continuous
    if continuous is None:
        # No palette in the crosstab: Tercen colours numbers on a ramp, the rest by level.
        continuous = first.type in ("double", "float", "int32", "int64", "numeric")
    name = palette.name or ("Spectral" if continuous else "Palette-1")
    return ColourSpec(
        first.name, continuous, name, palette.user_defined, table, palette.elements,
        palette.level_colours,
    )  # fmt: skip


def _transforms(
    axis: tercen_pb2.CubeAxisQuery, xy: tercen_pb2.XYAxis | None
) -> tuple[str | None, str | None]:
    found: dict[str, str] = {}
    preprocessors = list(axis.preprocessors) + (list(xy.preprocessors) if xy is not None else [])
    for pre in preprocessors:
        name = pre.operatorRef.name.lower()
        if pre.type in ("x", "y") and pre.type not in found and name:
            if name not in TRANSFORMS:
                # Other preprocessors (scaling, centring ...) change values, not the axis.
                log.info("axis %s: preprocessor %r is not a transform", pre.type, name)
                continue
            found[pre.type] = name
    return found.get("x"), found.get("y")


def _page_factors(spec: tercen_pb2.OperatorSpec) -> tuple[str, ...]:
    if not spec.inputSpecs or spec.inputSpecs[0].WhichOneof("object") != "crosstabspec":
        return ()
    for meta in spec.inputSpecs[0].crosstabspec.metaFactors:
        if meta.WhichOneof("object") == "metafactor" and meta.metafactor.name.lower() == "page":
            return tuple(f.name for f in meta.metafactor.factors if f.name)
    return ()
