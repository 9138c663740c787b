"""Tests for proto/tercen.proto, the Tercen gRPC API subset used by ggrs.

The generated modules are imported as ``proto.tercen_pb2`` / ``proto.tercen_pb2_grpc``.
Field numbers and names are checked against the wire facts of the operator protocol
notes; the hand-encoded byte strings below are written out by hand on purpose, so that a
wrong number in the .proto file cannot be hidden by encoding and decoding with the same
(wrong) schema.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent import futures
from typing import Any

import grpc
import pytest
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from proto import tercen_pb2, tercen_pb2_grpc

FILE = tercen_pb2.DESCRIPTOR
MESSAGES: dict[str, Descriptor] = dict(FILE.message_types_by_name)

# ---------------------------------------------------------------------------------------
# 1. Generic round trip of every message
# ---------------------------------------------------------------------------------------

# Nested messages deeper than this are only marked present (SetInParent), which keeps the
# generated instances small while still exercising every field of every message type.
MAX_DEPTH = 3

_SCALAR_TYPE_NAMES = {
    FieldDescriptor.TYPE_STRING: "string",
    FieldDescriptor.TYPE_BYTES: "bytes",
    FieldDescriptor.TYPE_BOOL: "bool",
    FieldDescriptor.TYPE_INT32: "int32",
    FieldDescriptor.TYPE_INT64: "int64",
    FieldDescriptor.TYPE_DOUBLE: "double",
}


def _scalar(field: FieldDescriptor, index: int) -> Any:
    """Returns a non-default value for a scalar field.

    Args:
        field: The field to produce a value for.
        index: Distinguishes the elements of a repeated field.

    Returns:
        A value that differs from the proto3 default of the field's type. Integers are
        negative on purpose (Tercen colours are signed int32 ARGB).

    Raises:
        AssertionError: For a scalar type this test does not know (a new type in the
            .proto file must be added here deliberately).
    """
    kind = field.type
    if kind == FieldDescriptor.TYPE_STRING:
        return f"{field.name}-{index}-\u00e9"
    if kind == FieldDescriptor.TYPE_BYTES:
        return bytes([0, 255, index]) + field.name.encode()
    if kind == FieldDescriptor.TYPE_BOOL:
        return True
    if kind == FieldDescriptor.TYPE_INT32:
        return -(field.number % 100_000) - index - 1
    if kind == FieldDescriptor.TYPE_INT64:
        return -(2**40) - field.number - index
    if kind == FieldDescriptor.TYPE_DOUBLE:
        return field.number + index + 0.25
    raise AssertionError(f"unexpected field type {kind} for {field.full_name}")


def _selected(field: FieldDescriptor, member: str | None) -> bool:
    """Tells whether ``_fill`` sets ``field``.

    Outside a oneof every field is set. In a oneof, only ``member`` is set when given,
    otherwise the first member of the oneof.
    """
    oneof = field.containing_oneof
    if oneof is None:
        return True
    if member is not None and member in {f.name for f in oneof.fields}:
        return field.name == member
    return field is oneof.fields[0]


def _fill(message: Message, depth: int = 0, member: str | None = None) -> Message:
    """Sets every field of ``message`` (one member per oneof) to a non-default value.

    Args:
        message: The message to fill in place.
        depth: Nesting depth of ``message``; nested messages at ``MAX_DEPTH`` are only
            marked present.
        member: The oneof member to set at this level (default: the first one).

    Returns:
        ``message``, for chaining.
    """
    for field in message.DESCRIPTOR.fields:
        if not _selected(field, member):
            continue
        value = getattr(message, field.name)
        if field.type == FieldDescriptor.TYPE_MESSAGE:
            items = [value.add(), value.add()] if field.is_repeated else [value]
            for item in items:
                if depth + 1 < MAX_DEPTH:
                    _fill(item, depth + 1)
                item.SetInParent()  # present even when the nested type has no fields
        elif field.is_repeated:
            value.extend([_scalar(field, 0), _scalar(field, 1)])
        else:
            setattr(message, field.name, _scalar(field, 0))
    return message


def _round_trip_cases() -> Iterator[Any]:
    for name, descriptor in sorted(MESSAGES.items()):
        members = [field.name for oneof in descriptor.oneofs for field in oneof.fields]
        if not members:
            yield pytest.param(name, None, id=name)
        for member in members:
            yield pytest.param(name, member, id=f"{name}.{member}")


@pytest.mark.parametrize(("name", "member"), list(_round_trip_cases()))
def test_round_trip_every_message(name: str, member: str | None) -> None:
    cls = getattr(tercen_pb2, name)
    original = _fill(cls(), member=member)
    expected_fields = {f.name for f in cls.DESCRIPTOR.fields if _selected(f, member)}

    data = original.SerializeToString()
    parsed = cls.FromString(data)

    assert parsed == original
    assert {field.name for field, _ in parsed.ListFields()} == expected_fields
    assert parsed.SerializeToString() == data
    if member is not None:
        oneof = cls.DESCRIPTOR.fields_by_name[member].containing_oneof
        assert parsed.WhichOneof(oneof.name) == member


WRAPPERS = {
    "ETask",
    "EState",
    "EOperatorInputSpec",
    "EMetaFactor",
    "EOperatorModel",
    "ERelation",
    "ESchema",
    "EColumnSchema",
    "ECValues",
    "EFileDocument",
    "EFileMetadata",
    "EPalette",
    "EWorkflow",
    "EStep",
    "EChart",
    "EEvent",
    "EProject",
    "EUser",
}


def test_polymorphic_wrappers_follow_tercen_convention() -> None:
    """Every ``E<Name>`` wrapper is one ``oneof object`` of lower-cased class names."""
    wrappers = [d for d in MESSAGES.values() if d.oneofs]
    assert {d.name for d in wrappers} == WRAPPERS
    for descriptor in wrappers:
        assert descriptor.name.startswith("E"), descriptor.name
        assert [oneof.name for oneof in descriptor.oneofs] == ["object"], descriptor.name
        oneof = descriptor.oneofs[0]
        assert list(oneof.fields) == list(descriptor.fields), descriptor.name
        for field in oneof.fields:
            assert field.message_type is not None, field.full_name
            assert field.name == field.message_type.name.lower(), field.full_name
        assert descriptor.name[1:].lower() in {f.name for f in oneof.fields}, descriptor.name


def test_file_identity() -> None:
    assert FILE.package == "tercen"
    assert FILE.name == "proto/tercen.proto"
    assert not FILE.enum_types_by_name, "Tercen's model uses no enums"


# ---------------------------------------------------------------------------------------
# 2. Field names, numbers and types from the spec
# ---------------------------------------------------------------------------------------

# (message, field, number, type, repeated). type is a scalar type name or a message name.
FIELD_TABLE = [
    ("GetRequest", "id", 1, "string", False),
    ("GetRequest", "use_factory", 2, "bool", False),
    ("ResponseUpdate", "rev", 1, "string", False),
    ("DeleteRequest", "rev", 2, "string", False),
    ("ReqStreamTable", "tableId", 1, "string", False),
    ("ReqStreamTable", "cnames", 2, "string", True),
    ("ReqStreamTable", "offset", 3, "int64", False),
    ("ReqStreamTable", "limit", 4, "int64", False),
    ("ReqStreamTable", "binaryFormat", 5, "string", False),
    ("RespStreamTable", "result", 1, "bytes", False),
    ("ReqUpload", "file", 1, "EFileDocument", False),
    ("ReqUpload", "bytes", 2, "bytes", False),
    ("RespUpload", "result", 1, "EFileDocument", False),
    ("ReqDownload", "fileDocumentId", 1, "string", False),
    ("ReqWaitDone", "taskId", 1, "string", False),
    ("RespWaitDone", "result", 1, "ETask", False),
    ("ReqGetCubeQuery", "workflowId", 1, "string", False),
    ("ReqGetCubeQuery", "stepId", 2, "string", False),
    ("RespGetCubeQuery", "result", 1, "CubeQuery", False),
    ("ETask", "runcomputationtask", 216, "RunComputationTask", False),
    ("ETask", "computationtask", 215, "ComputationTask", False),
    ("ETask", "cubequerytask", 214, "CubeQueryTask", False),
    ("ETask", "gltask", 218, "GlTask", False),
    ("ETask", "csvtask", 212, "CSVTask", False),
    ("ETask", "task", 2199, "Task", False),
    ("Task", "id", 53001, "string", False),
    ("Task", "isDeleted", 74001, "bool", False),
    ("Task", "rev", 74002, "string", False),
    ("Task", "environment", 2199001, "Pair", True),
    ("Task", "state", 2199002, "EState", False),
    ("Task", "duration", 2199007, "double", False),
    ("Task", "aclContext", 2199008, "AclContext", False),
    ("Task", "meta", 2199013, "Pair", True),
    ("RunComputationTask", "state", 2199002, "EState", False),
    ("RunComputationTask", "projectId", 204001, "string", False),
    ("RunComputationTask", "query", 214001, "CubeQuery", False),
    ("RunComputationTask", "removeOnGC", 214002, "bool", False),
    ("RunComputationTask", "schemaIds", 214003, "string", True),
    ("RunComputationTask", "parentTaskId", 215001, "string", False),
    ("RunComputationTask", "fileResultId", 215002, "string", False),
    ("RunComputationTask", "computedRelation", 215003, "ERelation", False),
    ("ComputationTask", "fileResultId", 215002, "string", False),
    ("CubeQueryTask", "schemaIds", 214003, "string", True),
    ("GlTask", "cubeQueryTask", 218001, "CubeQueryTask", False),
    ("GlTask", "palettes", 218002, "EPalette", True),
    ("GlTask", "range", 218006, "Rectangle", False),
    ("EState", "failedstate", 2194, "FailedState", False),
    ("EState", "donestate", 2193, "DoneState", False),
    ("EState", "initstate", 189, "InitState", False),
    ("FailedState", "error", 2194001, "string", False),
    ("FailedState", "reason", 2194002, "string", False),
    ("Pair", "key", 68001, "string", False),
    ("Pair", "value", 68002, "string", False),
    ("Date", "value", 25001, "string", False),
    ("Acl", "owner", 2001, "string", False),
    ("Principal", "principalId", 78001, "string", False),
    ("Url", "uri", 221001, "string", False),
    ("CubeQuery", "relation", 22001, "ERelation", False),
    ("CubeQuery", "axisQueries", 22004, "CubeAxisQuery", True),
    ("CubeQuery", "operatorSettings", 22006, "OperatorSettings", False),
    ("CubeQuery", "qtHash", 22007, "string", False),
    ("CubeQuery", "columnHash", 22008, "string", False),
    ("CubeQuery", "rowHash", 22009, "string", False),
    ("CubeAxisQuery", "pointSize", 23001, "int32", False),
    ("CubeAxisQuery", "chartType", 23002, "string", False),
    ("CubeAxisQuery", "preprocessors", 23010, "PreProcessor", True),
    ("Factor", "name", 41001, "string", False),
    ("Factor", "type", 41002, "string", False),
    ("PreProcessor", "type", 237001, "string", False),
    ("PreProcessor", "operatorRef", 237002, "OperatorRef", False),
    ("AxisSettings", "meta", 5001, "Pair", True),
    ("OperatorSettings", "namespace", 151001, "string", False),
    ("OperatorSettings", "operatorRef", 151002, "OperatorRef", False),
    ("OperatorSettings", "operatorModel", 151004, "EOperatorModel", False),
    ("OperatorRef", "name", 58001, "string", False),
    ("OperatorRef", "propertyValues", 58005, "PropertyValue", True),
    ("OperatorRef", "operatorSpec", 58007, "OperatorSpec", False),
    ("PropertyValue", "name", 97001, "string", False),
    ("PropertyValue", "value", 97002, "string", False),
    ("OperatorSpec", "inputSpecs", 133003, "EOperatorInputSpec", True),
    ("EOperatorInputSpec", "crosstabspec", 136, "CrosstabSpec", False),
    ("CrosstabSpec", "metaFactors", 136001, "EMetaFactor", True),
    ("EMetaFactor", "metafactor", 139, "MetaFactor", False),
    ("EMetaFactor", "mappingfactor", 138, "MappingFactor", False),
    ("MetaFactor", "name", 41001, "string", False),
    ("MetaFactor", "factors", 139005, "Factor", True),
    ("ESchema", "cubequerytableschema", 169, "CubeQueryTableSchema", False),
    ("ESchema", "tableschema", 168, "TableSchema", False),
    ("ESchema", "computedtableschema", 170, "ComputedTableSchema", False),
    ("CubeQueryTableSchema", "id", 53001, "string", False),
    ("CubeQueryTableSchema", "nRows", 167001, "int32", False),
    ("CubeQueryTableSchema", "columns", 167002, "EColumnSchema", True),
    ("CubeQueryTableSchema", "queryHash", 169001, "string", False),
    ("CubeQueryTableSchema", "queryTableType", 169002, "string", False),
    ("CubeQueryTableSchema", "query", 169003, "CubeQuery", False),
    ("ComputedTableSchema", "query", 170001, "CubeQuery", False),
    ("EColumnSchema", "columnschema", 165, "ColumnSchema", False),
    ("ColumnSchema", "name", 165001, "string", False),
    ("ColumnSchema", "metaData", 165005, "ColumnSchemaMetaData", False),
    ("ColumnSchemaMetaData", "quartiles", 166003, "string", True),
    ("Column", "values", 160002, "bytes", False),
    ("Column", "cValues", 160001, "ECValues", False),
    ("OperatorResult", "tables", 65001, "Table", True),
    ("Table", "properties", 158002, "TableProperties", False),
    ("TableProperties", "sortOrder", 159002, "string", True),
    ("F64Values", "values", 164001, "double", True),
    ("EFileDocument", "filedocument", 42, "FileDocument", False),
    ("FileDocument", "name", 26002, "string", False),
    ("FileDocument", "acl", 26003, "Acl", False),
    ("FileDocument", "projectId", 27001, "string", False),
    ("FileDocument", "dataUri", 42001, "string", False),
    ("FileDocument", "metadata", 42002, "EFileMetadata", False),
    ("FileDocument", "size", 42003, "int32", False),
    ("EFileMetadata", "filemetadata", 43, "FileMetadata", False),
    ("FileMetadata", "contentType", 43001, "string", False),
    ("EPalette", "categorypalette", 72, "CategoryPalette", False),
    ("EPalette", "jetpalette", 71, "JetPalette", False),
    ("EPalette", "ramppalette", 70, "RampPalette", False),
    ("JetPalette", "isUserDefined", 70001, "bool", False),
    ("RampPalette", "doubleColorElements", 70002, "DoubleColorElement", True),
    ("CategoryPalette", "colorList", 72001, "ColorList", False),
    ("CategoryPalette", "stringColorElements", 72002, "StringColorElement", True),
    ("ColorList", "name", 14001, "string", False),
    ("DoubleColorElement", "color", 13001, "int32", False),
    ("DoubleColorElement", "stringValue", 30001, "string", False),
    ("StringColorElement", "stringValue", 157001, "string", False),
    ("EWorkflow", "workflow", 235, "Workflow", False),
    ("Workflow", "steps", 235002, "EStep", True),
    ("EStep", "datastep", 147, "DataStep", False),
    ("EStep", "crosstabstep", 155, "CrossTabStep", False),
    ("DataStep", "model", 155001, "Crosstab", False),
    ("Crosstab", "axis", 156001, "XYAxisList", False),
    ("Crosstab", "columnTable", 156002, "CrosstabTable", False),
    ("Crosstab", "rowTable", 156005, "CrosstabTable", False),
    ("Crosstab", "taskId", 156006, "string", False),
    ("CrosstabTable", "cellSize", 21001, "double", False),
    ("CrosstabTable", "nRows", 21005, "int32", False),
    ("XYAxisList", "xyAxis", 238002, "XYAxis", True),
    ("XYAxis", "chart", 236001, "EChart", False),
    ("XYAxis", "colors", 236002, "Colors", False),
    ("XYAxis", "yAxis", 236006, "Axis", False),
    ("Axis", "graphicalFactor", 6003, "GraphicalFactor", False),
    ("GraphicalFactor", "factor", 51001, "Factor", False),
    ("Colors", "factors", 15001, "Factor", True),
    ("Colors", "palette", 15002, "EPalette", False),
    ("EChart", "chartpoint", 12, "ChartPoint", False),
    ("EChart", "chartheatmap", 9, "ChartHeatmap", False),
    ("EChart", "chartline", 11, "ChartLine", False),
    ("EChart", "chartbar", 8, "ChartBar", False),
    ("ChartPoint", "pointSize", 10001, "int32", False),
    ("StepState", "taskState", 121002, "EState", False),
    ("Point", "x", 75001, "double", False),
    ("EEvent", "tasklogevent", 39, "TaskLogEvent", False),
    ("EEvent", "taskprogressevent", 40, "TaskProgressEvent", False),
    ("TaskLogEvent", "taskId", 36001, "string", False),
    ("TaskLogEvent", "message", 39001, "string", False),
    ("TaskProgressEvent", "total", 40002, "int32", False),
    ("TaskProgressEvent", "actual", 40003, "int32", False),
]


def _type_name(field: FieldDescriptor) -> str:
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        return field.message_type.name
    return _SCALAR_TYPE_NAMES[field.type]


@pytest.mark.parametrize(
    ("message", "name", "number", "type_name", "repeated"),
    FIELD_TABLE,
    ids=[f"{row[0]}.{row[1]}" for row in FIELD_TABLE],
)
def test_field_number_name_and_type(
    message: str, name: str, number: int, type_name: str, repeated: bool
) -> None:
    field = MESSAGES[message].fields_by_name[name]
    assert field.number == number
    assert _type_name(field) == type_name
    assert field.is_repeated is repeated


def test_inherited_fields_keep_base_numbers() -> None:
    """Base-class fields have the same number and type in every subclass."""
    document_kinds = ["Schema", "CubeQueryTableSchema", "FileDocument", "Workflow"]
    relation_kinds = [f.message_type.name for f in MESSAGES["ERelation"].fields]
    families = {
        # Project declares exactly the Document base fields shared by all documents.
        "Project": document_kinds,
        "Relation": relation_kinds,
        "ColorElement": ["DoubleColorElement", "StringColorElement"],
        "Task": ["RunComputationTask", "ComputationTask", "CubeQueryTask", "GlTask"],
        "Schema": ["TableSchema", "ComputedTableSchema", "CubeQueryTableSchema"],
        "Step": ["DataStep", "CrossTabStep"],
        "Event": ["TaskLogEvent", "TaskProgressEvent"],
        "ColumnSchema": ["Column"],
        "MetaFactor": ["MappingFactor"],
        "FileMetadata": ["CSVFileMetadata"],
        "Palette": ["JetPalette", "RampPalette", "CategoryPalette"],
        "Chart": ["ChartPoint", "ChartLine", "ChartBar", "ChartHeatmap", "ChartSize"],
    }
    for base, subclasses in families.items():
        base_fields = MESSAGES[base].fields
        for sub in subclasses:
            sub_fields = MESSAGES[sub].fields_by_name
            for field in base_fields:
                assert field.name in sub_fields, f"{sub}.{field.name}"
                assert sub_fields[field.name].number == field.number, f"{sub}.{field.name}"
                assert _type_name(sub_fields[field.name]) == _type_name(field)


# ---------------------------------------------------------------------------------------
# 3. Hand-encoded wire bytes
# ---------------------------------------------------------------------------------------

# Each case: message name, hand-written bytes (fields in ascending number order), the
# message it must decode to.
WIRE_CASES = [
    pytest.param(
        "GetRequest",
        # field 1 (LEN): tag 0x0a, len 2, "t1"; field 2 (VARINT): tag 0x10, value 1
        b"\x0a\x02t1" + b"\x10\x01",
        tercen_pb2.GetRequest(id="t1", use_factory=True),
        id="GetRequest",
    ),
    pytest.param(
        "Factor",
        # field 41001 (LEN): tag 41001 << 3 | 2 = 328010 = varint ca 82 14; len 1, "x"
        b"\xca\x82\x14\x01x",
        tercen_pb2.Factor(name="x"),
        id="Factor",
    ),
    pytest.param(
        "ReqStreamTable",
        # 1: "q"; 2: ".ci"; 2: ".ri"; 3: offset 10000 (varint 90 4e); 4: limit 300 (ac 02)
        b"\x0a\x01q" + b"\x12\x03.ci" + b"\x12\x03.ri" + b"\x18\x90\x4e" + b"\x20\xac\x02",
        tercen_pb2.ReqStreamTable(tableId="q", cnames=[".ci", ".ri"], offset=10000, limit=300),
        id="ReqStreamTable",
    ),
    pytest.param(
        "ETask",
        # runcomputationtask 216 (tag c2 0d), len 5:
        #   fileResultId 215002 (tag d2 fd 68), len 1, "f"
        b"\xc2\x0d\x05" + b"\xd2\xfd\x68\x01f",
        tercen_pb2.ETask(runcomputationtask=tercen_pb2.RunComputationTask(fileResultId="f")),
        id="ETask.runcomputationtask",
    ),
    pytest.param(
        "ESchema",
        # cubequerytableschema 169 (tag ca 0a), len 9:
        #   nRows 167001 VARINT (tag c8 c5 51) = 12; queryTableType 169002 (tag d2 c2 52) "y"
        b"\xca\x0a\x09" + b"\xc8\xc5\x51\x0c" + b"\xd2\xc2\x52\x01y",
        tercen_pb2.ESchema(
            cubequerytableschema=tercen_pb2.CubeQueryTableSchema(nRows=12, queryTableType="y")
        ),
        id="ESchema.cubequerytableschema",
    ),
    pytest.param(
        "DoubleColorElement",
        # color 13001 VARINT (tag c8 ac 06) = -1 (ten-byte varint, opaque white);
        # stringValue 30001 (tag 8a d3 0e), len 3, "0.5"
        b"\xc8\xac\x06" + b"\xff" * 9 + b"\x01" + b"\x8a\xd3\x0e\x030.5",
        tercen_pb2.DoubleColorElement(color=-1, stringValue="0.5"),
        id="DoubleColorElement",
    ),
    pytest.param(
        "RunComputationTask",
        # state 2199002 (tag d2 dd b1 08), len 10:
        #   failedstate 2194 (tag 92 89 01), len 6:
        #     error 2194001 (tag 8a a5 af 08), len 1, "e"
        b"\xd2\xdd\xb1\x08\x0a" + b"\x92\x89\x01\x06" + b"\x8a\xa5\xaf\x08\x01e",
        tercen_pb2.RunComputationTask(
            state=tercen_pb2.EState(failedstate=tercen_pb2.FailedState(error="e"))
        ),
        id="RunComputationTask.state.failedstate",
    ),
]


@pytest.mark.parametrize(("name", "data", "expected"), WIRE_CASES)
def test_hand_encoded_bytes_decode(name: str, data: bytes, expected: Message) -> None:
    parsed = getattr(tercen_pb2, name).FromString(data)
    assert parsed == expected
    assert expected.SerializeToString() == data


def test_unknown_fields_survive_a_round_trip() -> None:
    """Fields omitted from the subset are kept, so an edited message loses nothing."""
    # Factor{name: "x"} followed by an undeclared field 41999 (LEN, tag fa c0 14), "zz"
    data = b"\xca\x82\x14\x01x" + b"\xfa\xc0\x14\x02zz"
    factor = tercen_pb2.Factor.FromString(data)
    assert factor.name == "x"
    assert factor.SerializeToString() == data
    factor.type = "string"
    assert tercen_pb2.Factor.FromString(factor.SerializeToString()).type == "string"
    assert b"\xfa\xc0\x14\x02zz" in factor.SerializeToString()


def test_subclass_decodes_as_base_class() -> None:
    task = tercen_pb2.RunComputationTask(
        id="task-1",
        owner="alice",
        environment=[tercen_pb2.Pair(key="workflow.id", value="wf")],
        fileResultId="file-1",
    )
    base = tercen_pb2.Task.FromString(task.SerializeToString())
    assert (base.id, base.owner) == ("task-1", "alice")
    assert [(p.key, p.value) for p in base.environment] == [("workflow.id", "wf")]


# ---------------------------------------------------------------------------------------
# 4. Services: method paths and streaming shapes
# ---------------------------------------------------------------------------------------

UNARY, SERVER_STREAM, CLIENT_STREAM = "unary_unary", "unary_stream", "stream_unary"

# (service, method, request, response, shape); the complete list of RPCs in the file.
RPC_TABLE = [
    ("TaskService", "get", "GetRequest", "ETask", UNARY),
    ("TaskService", "update", "ETask", "ResponseUpdate", UNARY),
    ("TaskService", "create", "ETask", "ETask", UNARY),
    ("TaskService", "delete", "DeleteRequest", "ResponseDelete", UNARY),
    ("TaskService", "runTask", "ReqRunTask", "RespRunTask", UNARY),
    ("TaskService", "cancelTask", "ReqCancelTask", "RespCancelTask", UNARY),
    ("TaskService", "waitDone", "ReqWaitDone", "RespWaitDone", UNARY),
    ("TableSchemaService", "get", "GetRequest", "ESchema", UNARY),
    ("TableSchemaService", "streamTable", "ReqStreamTable", "RespStreamTable", SERVER_STREAM),
    ("TableSchemaService", "uploadTable", "ReqUploadTable", "RespUploadTable", CLIENT_STREAM),
    ("FileService", "get", "GetRequest", "EFileDocument", UNARY),
    ("FileService", "upload", "ReqUpload", "RespUpload", CLIENT_STREAM),
    ("FileService", "download", "ReqDownload", "RespDownload", SERVER_STREAM),
    ("WorkflowService", "get", "GetRequest", "EWorkflow", UNARY),
    ("WorkflowService", "update", "EWorkflow", "ResponseUpdate", UNARY),
    ("WorkflowService", "getCubeQuery", "ReqGetCubeQuery", "RespGetCubeQuery", UNARY),
    ("EventService", "create", "EEvent", "EEvent", UNARY),
    ("ProjectService", "get", "GetRequest", "EProject", UNARY),
    ("ProjectService", "update", "EProject", "ResponseUpdate", UNARY),
    ("UserService", "connect", "ReqConnect", "RespConnect", UNARY),
    ("UserService", "createToken", "ReqCreateToken", "RespCreateToken", UNARY),
]

_SHAPE_FLAGS = {UNARY: (False, False), SERVER_STREAM: (False, True), CLIENT_STREAM: (True, False)}


class _RecordingChannel:
    """Stands in for a grpc.Channel and records which path each stub method uses."""

    def __init__(self) -> None:
        self.paths: dict[str, str] = {}

    def _record(self, shape: str, path: str) -> object:
        self.paths[path] = shape
        return object()

    def unary_unary(self, path: str, *_args: Any, **_kwargs: Any) -> object:
        return self._record(UNARY, path)

    def unary_stream(self, path: str, *_args: Any, **_kwargs: Any) -> object:
        return self._record(SERVER_STREAM, path)

    def stream_unary(self, path: str, *_args: Any, **_kwargs: Any) -> object:
        return self._record(CLIENT_STREAM, path)

    def stream_stream(self, path: str, *_args: Any, **_kwargs: Any) -> object:
        return self._record("stream_stream", path)


def test_rpc_table_is_complete() -> None:
    declared = {
        (service.name, method.name)
        for service in FILE.services_by_name.values()
        for method in service.methods
    }
    assert declared == {(row[0], row[1]) for row in RPC_TABLE}


@pytest.mark.parametrize(
    ("service", "method", "request_type", "response_type", "shape"),
    RPC_TABLE,
    ids=[f"{row[0]}.{row[1]}" for row in RPC_TABLE],
)
def test_rpc_path_types_and_shape(
    service: str, method: str, request_type: str, response_type: str, shape: str
) -> None:
    service_descriptor = FILE.services_by_name[service]
    method_descriptor = service_descriptor.methods_by_name[method]
    path = f"/{service_descriptor.full_name}/{method_descriptor.name}"
    assert path == f"/tercen.{service}/{method}"
    assert method_descriptor.input_type.name == request_type
    assert method_descriptor.output_type.name == response_type
    flags = (method_descriptor.client_streaming, method_descriptor.server_streaming)
    assert flags == _SHAPE_FLAGS[shape]

    channel = _RecordingChannel()
    stub = getattr(tercen_pb2_grpc, f"{service}Stub")(channel)
    assert hasattr(stub, method)
    assert channel.paths[path] == shape


# ---------------------------------------------------------------------------------------
# 5. A real in-process gRPC server
# ---------------------------------------------------------------------------------------

TIMEOUT_S = 5.0


class _TaskService(tercen_pb2_grpc.TaskServiceServicer):
    def get(self, request: tercen_pb2.GetRequest, context: grpc.ServicerContext) -> Any:
        metadata = dict(context.invocation_metadata())
        task = tercen_pb2.RunComputationTask(
            id=request.id,
            owner=metadata.get("authorization", ""),
            fileResultId="file-1",
            query=tercen_pb2.CubeQuery(qtHash="qt", columnHash="col", rowHash="row"),
            schemaIds=["s1", "s2"],
        )
        return tercen_pb2.ETask(runcomputationtask=task)


def _table_payload(request: tercen_pb2.ReqStreamTable) -> bytes:
    """A payload derived from every request field, so the test sees what arrived."""
    text = "|".join(
        [
            request.tableId,
            ",".join(request.cnames),
            str(request.offset),
            str(request.limit),
            request.binaryFormat,
        ]
    )
    return text.encode()


class _TableSchemaService(tercen_pb2_grpc.TableSchemaServiceServicer):
    def streamTable(
        self, request: tercen_pb2.ReqStreamTable, context: grpc.ServicerContext
    ) -> Iterator[tercen_pb2.RespStreamTable]:
        payload = _table_payload(request)
        for start in range(0, len(payload), 4):
            yield tercen_pb2.RespStreamTable(result=payload[start : start + 4])


@pytest.fixture
def channel() -> Iterator[grpc.Channel]:
    """Serves TaskService and TableSchemaService on 127.0.0.1 and yields a client channel."""
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    try:
        tercen_pb2_grpc.add_TaskServiceServicer_to_server(_TaskService(), server)
        tercen_pb2_grpc.add_TableSchemaServiceServicer_to_server(_TableSchemaService(), server)
        port = server.add_insecure_port("127.0.0.1:0")
        assert port > 0
        server.start()
        with grpc.insecure_channel(f"127.0.0.1:{port}") as client_channel:
            yield client_channel
    finally:
        server.stop(grace=None).wait(TIMEOUT_S)


def test_unary_call_through_generated_stub(channel: grpc.Channel) -> None:
    stub = tercen_pb2_grpc.TaskServiceStub(channel)
    response = stub.get(
        tercen_pb2.GetRequest(id="task-42"),
        timeout=TIMEOUT_S,
        metadata=[("authorization", "raw-token")],
    )
    assert response.WhichOneof("object") == "runcomputationtask"
    task = response.runcomputationtask
    assert (task.id, task.owner, task.fileResultId) == ("task-42", "raw-token", "file-1")
    assert (task.query.qtHash, task.query.columnHash, task.query.rowHash) == ("qt", "col", "row")
    assert list(task.schemaIds) == ["s1", "s2"]


def test_server_streaming_call_through_generated_stub(channel: grpc.Channel) -> None:
    stub = tercen_pb2_grpc.TableSchemaServiceStub(channel)
    request = tercen_pb2.ReqStreamTable(
        tableId="qt-hash", cnames=[".ci", ".ri", ".ys"], offset=20000, limit=10000
    )
    chunks = [chunk.result for chunk in stub.streamTable(request, timeout=TIMEOUT_S)]
    assert len(chunks) > 1
    assert b"".join(chunks) == b"qt-hash|.ci,.ri,.ys|20000|10000|"
    assert b"".join(chunks) == _table_payload(request)


def test_unimplemented_method_reports_unimplemented(channel: grpc.Channel) -> None:
    stub = tercen_pb2_grpc.TaskServiceStub(channel)
    with pytest.raises(grpc.RpcError) as error:
        stub.update(tercen_pb2.ETask(), timeout=TIMEOUT_S)
    assert error.value.code() == grpc.StatusCode.UNIMPLEMENTED
