"""Tests of ggrs.tson: the byte format, round-trips, tables, the OperatorResult form, fuzzing."""

from __future__ import annotations

import contextlib
import struct
import time

import numpy as np
import pyarrow as pa
import pytest

from ggrs import tson
from ggrs.errors import DataError, UsageError
from ggrs.tson import TsonDecodeError, TsonEncodeError

VERSION_BYTES = bytes.fromhex("01 31 2e 31 2e 30 00")  # STRING "1.1.0"


def _doc(*parts: str) -> bytes:
    """A document from hex fragments, version element first."""
    return VERSION_BYTES + bytes.fromhex(" ".join(parts))


# ---------------------------------------------------------------------------------- format


HAND_WRITTEN = _doc(
    "0b 06 00 00 00",  # MAP, 6 pairs
    "01 69 00",  # key "i"
    "02 fe ff ff ff",  # INTEGER -2
    "01 64 00",  # key "d"
    "03 00 00 00 00 00 00 f8 3f",  # DOUBLE 1.5
    "01 6c 00",  # key "l"
    "0a 02 00 00 00 04 01 00",  # LIST of 2: BOOL true, NULL
    "01 73 00",  # key "s"
    "01 c3 a9 00",  # STRING "é"
    "01 75 00",  # key "u"
    "65 02 00 00 00 01 00 00 01",  # LIST_UINT16 [1, 256]
    "01 74 00",  # key "t"
    "70 05 00 00 00 61 62 00 63 00",  # LIST_STRING ["ab", "c"] (spec's worked example)
)


def test_encode_matches_hand_written_bytes():
    value = {
        "i": -2,
        "d": 1.5,
        "l": [True, None],
        "s": "é",
        "u": np.array([1, 256], dtype=np.uint16),
        "t": np.array(["ab", "c"]),
    }
    assert tson.encode(value) == HAND_WRITTEN


def test_decode_hand_written_bytes():
    value = tson.decode(HAND_WRITTEN)
    assert list(value) == ["i", "d", "l", "s", "u", "t"]
    assert value["i"] == -2 and value["d"] == 1.5 and value["l"] == [True, None]
    assert value["s"] == "é"
    assert value["u"].dtype == np.dtype("<u2") and value["u"].tolist() == [1, 256]
    assert value["t"].dtype == object and value["t"].tolist() == ["ab", "c"]


def test_empty_containers_are_generic_lists_of_zero():
    assert tson.encode([]) == _doc("0a 00 00 00 00")
    assert tson.encode({}) == _doc("0b 00 00 00 00")
    assert tson.encode(np.array([], dtype=str)) == _doc("70 00 00 00 00")
    assert tson.encode(np.array([""])) == _doc("70 01 00 00 00 00")


def test_bytes_encode_as_uint8_list():
    assert tson.encode(b"\x07\xff") == _doc("64 02 00 00 00 07 ff")


# ------------------------------------------------------------------------------ round-trips


@pytest.mark.parametrize(
    "value",
    [None, True, False, 0, -(2**31), 2**31 - 1, 0.0, -1e300, "", "plain", "µg/mL Zürich 😀"],
)
def test_scalar_round_trip(value):
    assert tson.decode(tson.encode(value)) == value


def test_nan_and_infinities_round_trip():
    values = tson.decode(tson.encode([float("nan"), float("inf"), -float("inf")]))
    assert np.isnan(values[0]) and values[1:] == [float("inf"), -float("inf")]


@pytest.mark.parametrize(
    "dtype", ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "f4", "f8"]
)
def test_typed_list_round_trip(dtype):
    info = np.iinfo(dtype) if np.dtype(dtype).kind in "iu" else np.finfo(dtype)
    values = np.array([info.min, 0, 1, info.max], dtype=dtype)
    decoded = tson.decode(tson.encode(values))
    assert decoded.dtype == np.dtype(dtype).newbyteorder("<")
    np.testing.assert_array_equal(decoded, values)


def test_big_endian_and_strided_arrays_encode_by_value():
    values = np.arange(10, dtype=">i4")[::3]
    np.testing.assert_array_equal(tson.decode(tson.encode(values)), [0, 3, 6, 9])


def test_nested_round_trip_keeps_key_order():
    value = {"z": {"y": [1, [2.5, "x"], {}]}, "a": [], "m": {"k": None}}
    decoded = tson.decode(tson.encode(value))
    assert decoded == value and list(decoded) == ["z", "a", "m"]


def test_tuple_encodes_as_list():
    assert tson.decode(tson.encode((1, "a"))) == [1, "a"]


def test_numpy_scalars_encode_like_python_scalars():
    assert tson.encode(np.int64(5)) == tson.encode(5)
    assert tson.encode(np.float32(0.5)) == tson.encode(0.5)
    assert tson.encode(np.bool_(True)) == tson.encode(True)


def test_utf8_strings_survive_in_both_string_forms():
    texts = ["µg/mL", "Zürich", "😀", "", "日本語", "a"]
    assert tson.decode(tson.encode(texts)) == texts
    assert tson.decode(tson.encode(np.array(texts))).tolist() == texts
    assert tson.decode(tson.encode(np.array(texts, dtype=object))).tolist() == texts


def test_generic_list_of_doubles_is_read_in_bulk_as_list():
    values = [float(v) for v in np.linspace(-1, 1, 50)] + [float("nan")]
    decoded = tson.decode(tson.encode(values))
    assert isinstance(decoded, list) and len(decoded) == 51
    np.testing.assert_array_equal(decoded, values)
    assert tson.decode(tson.encode(list(range(20)))) == list(range(20))
    flags = [bool(i % 3) for i in range(20)]
    assert tson.decode(tson.encode(flags)) == flags


def test_deterministic_output():
    value = {"b": np.arange(5), "a": ["x", 1.0]}
    assert tson.encode(value) == tson.encode(value)


# ---------------------------------------------------------------------------------- zero-copy


def test_typed_lists_are_views_into_the_input():
    data = tson.encode({"x": np.arange(1000.0), "n": np.arange(7, dtype=np.int32)})
    decoded = tson.decode(data)
    base = np.frombuffer(data, dtype=np.uint8)
    assert np.shares_memory(decoded["x"], base) and np.shares_memory(decoded["n"], base)
    assert not decoded["x"].flags.writeable  # bytes input is immutable


def test_memoryview_and_bytearray_inputs_are_viewed_not_copied():
    data = bytearray(tson.encode(np.arange(16, dtype=np.int64)))
    view = memoryview(data)
    decoded = tson.decode(view)
    assert np.shares_memory(decoded, np.frombuffer(data, dtype=np.uint8))
    np.testing.assert_array_equal(decoded, np.arange(16))


def test_non_bytes_input_is_a_usage_error():
    with pytest.raises(UsageError, match="bytes"):
        tson.decode("not bytes")  # type: ignore[arg-type]


# ------------------------------------------------------------------------------ decode errors


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "empty"),
        (b"\x0b\x00\x00\x00\x00", "version"),
        (b"\x011.0.0\x00\x00", "version mismatch"),
        (VERSION_BYTES, "root element"),
        (_doc("0b 00 00 00 00 00"), "1 unexpected bytes"),
        (_doc("6f 02 00 00 00 00 00 00 00 00 00 f0 3f"), "LIST_FLOAT64 of 2 items needs 16"),
        (_doc("0a ff ff ff ff"), "LIST of 4294967295 elements"),
        (_doc("0b 01 00 00 00 02 00 00 00 00"), "map key must be a STRING"),
        (_doc("01 61 62"), "no NUL terminator"),
        (_doc("01 ff 00"), "invalid UTF-8"),
        (_doc("70 03 00 00 00 61 ff 00"), "invalid UTF-8 at offset 13"),
        (_doc("70 02 00 00 00 61 62"), "does not end with a NUL"),
        (_doc("0c"), "unknown type code 0x0c"),
        (_doc("03 00 00"), "DOUBLE needs 8 bytes"),
    ],
)
def test_malformed_documents_raise_with_offset(data, words):
    with pytest.raises(TsonDecodeError, match="byte offset") as info:
        tson.decode(data)
    assert words in str(info.value)
    assert isinstance(info.value, DataError)


def test_nesting_limit():
    ok = b"\x0a\x01\x00\x00\x00" * tson.MAX_DEPTH + b"\x00"
    value = tson.decode(VERSION_BYTES + ok)
    for _ in range(tson.MAX_DEPTH):
        value = value[0]
    assert value is None
    too_deep = b"\x0a\x01\x00\x00\x00" * (tson.MAX_DEPTH + 1) + b"\x00"
    with pytest.raises(TsonDecodeError, match="nested deeper than 64"):
        tson.decode(VERSION_BYTES + too_deep)
    bomb = b"\x0b\x01\x00\x00\x00\x01k\x00" * 100_000 + b"\x00"
    with pytest.raises(TsonDecodeError, match="nested deeper"):
        tson.decode(VERSION_BYTES + bomb)


# ------------------------------------------------------------------------------ encode errors


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (2**31, "int32"),
        ({"a": [-(2**31) - 1]}, "$['a'][0]"),
        ("a\x00b", "NUL"),
        (np.array(["ok", "a\x00b"], dtype=object), "string 1 contains a NUL"),
        ({1: "x"}, "map key 1"),
        ({"k": {1, 2}}, "set has no TSON form"),
        (np.zeros(3, dtype=np.float16), "float16"),
        (np.zeros(3, dtype=bool), "astype(np.uint8)"),
        (np.zeros((2, 2)), "only 1-D"),
        (np.array([1, "a"], dtype=object), "not all str"),
        ("\ud800", "not valid Unicode"),
        (pa.array([True]), "Arrow type bool"),
    ],
)
def test_unencodable_values_raise(value, words):
    with pytest.raises(TsonEncodeError) as info:
        tson.encode(value)
    assert words in str(info.value)


def test_encode_refuses_deep_nesting_and_cycles():
    cycle: list = []
    cycle.append(cycle)
    with pytest.raises(TsonEncodeError, match="nested deeper than 64"):
        tson.encode(cycle)


# ---------------------------------------------------------------------------------- tables


def _sample_table() -> pa.Table:
    return pa.table(
        {
            ".ci": pa.array([0, 1, 2], pa.int32()),
            ".xs": pa.array([0, 65535, 7], pa.uint16()),
            ".y": pa.array([0.5, -1.0, 1e10], pa.float64()),
            "f32": pa.array([1.5, 2.5, 3.5], pa.float32()),
            "big": pa.array([-(2**62), 0, 2**62], pa.int64()),
            "u64": pa.array([0, 2**64 - 1, 1], pa.uint64()),
            "i8": pa.array([-128, 0, 127], pa.int8()),
            "label": pa.array(["µg/mL", "Zürich", "😀"]),
        }
    )


def test_table_round_trip():
    table = _sample_table()
    assert tson.table_from_tson(tson.table_to_tson(table)).equals(table)


def test_table_to_tson_layout():
    table = pa.table({"v": pa.array([1.0]), "s": pa.array(["a"])})
    root = tson.decode(tson.table_to_tson(table))
    assert list(root) == ["cols"]
    v, s = root["cols"]
    assert list(v) == ["name", "type", "data"]
    assert (v["name"], v["type"], v["data"].dtype) == ("v", "double", "<f8")
    assert (s["name"], s["type"], s["data"].dtype) == ("s", "string", "O")
    assert v["data"].tolist() == [1.0] and s["data"].tolist() == ["a"]


def test_table_nulls_dictionaries_and_chunks_are_written_as_values():
    table = pa.table(
        {
            "f": pa.chunked_array([[1.0, None], [3.0]]),
            "i": pa.array([None, 2, 3], pa.int32()),
            "s": pa.array(["a", None, "c"]),
            "d": pa.array(["x", "y", "x"]).dictionary_encode(),
        }
    )
    back = tson.table_from_tson(tson.table_to_tson(table))
    assert np.isnan(back["f"][1].as_py())
    assert back["i"].to_pylist() == [0, 2, 3]
    assert back["s"].to_pylist() == ["a", "", "c"]
    assert back["d"].to_pylist() == ["x", "y", "x"] and back["d"].type == pa.string()


def test_table_to_tson_refuses_unsupported_column_types():
    with pytest.raises(TsonEncodeError, match=r"'flag'.*bool"):
        tson.table_to_tson(pa.table({"flag": [True]}))


def test_sliced_string_column_round_trips():
    table = pa.table({"s": ["aa", "bbb", "µ", "d"]}).slice(1, 2)
    assert tson.table_from_tson(tson.table_to_tson(table))["s"].to_pylist() == ["bbb", "µ"]


def test_table_columns_values_form():
    data = tson.encode(
        {
            "columns": [
                {"name": "x", "type": "double", "values": np.array([1.0, 2.0])},
                {"name": "n", "type": "string", "values": np.array(["a", "b"])},
            ]
        }
    )
    table = tson.table_from_tson(data)
    assert table.column_names == ["x", "n"]
    assert table["x"].to_pylist() == [1.0, 2.0] and table["n"].to_pylist() == ["a", "b"]


def test_table_generic_list_columns():
    data = tson.encode(
        {
            "cols": [
                {"name": "d", "data": [float(i) for i in range(10)] + [float("nan")]},
                {"name": "m", "data": [1.0, None] + [2.0] * 9},
                {"name": "s", "data": ["a"] * 11},
            ]
        }
    )
    table = tson.table_from_tson(data)
    assert table["d"].type == pa.float64() and np.isnan(table["d"][10].as_py())
    assert table["m"].null_count == 1
    assert table["s"].to_pylist() == ["a"] * 11


def test_empty_tables():
    assert tson.table_from_tson(b"").num_columns == 0
    assert tson.table_from_tson(tson.encode({"cols": []})).num_columns == 0
    empty = tson.encode({"cols": [{"name": "x", "type": "double", "data": []}]})
    table = tson.table_from_tson(empty)
    assert table.num_rows == 0 and table["x"].type == pa.float64()
    no_rows = pa.table({"f": pa.array([], pa.float64()), "s": pa.array([], pa.string())})
    assert tson.table_from_tson(tson.table_to_tson(no_rows)).equals(no_rows)


def test_integer_type_codes_and_extra_keys_are_ignored():
    data = tson.encode(
        {
            "cols": [{"name": ".ci", "type": 105, "data": np.arange(3, dtype=np.int32)}],
            "meta_data": {"nRows": 3},
        }
    )
    table = tson.table_from_tson(data)
    assert table[".ci"].type == pa.int32() and table[".ci"].to_pylist() == [0, 1, 2]


def test_nameless_column_is_skipped_like_tercens_reader():
    data = tson.encode({"cols": [{"data": np.arange(2.0)}, {"name": "y", "data": np.arange(2)}]})
    assert tson.table_from_tson(data).column_names == ["y"]


@pytest.mark.parametrize(
    ("root", "words"),
    [
        ([1], "root is a LIST"),
        ({"rows": []}, "no 'cols' or 'columns'"),
        ({"cols": [{"name": "x"}]}, "'x' (cols[0]) has no 'data'"),
        ({"cols": [1]}, "cols[0] is a int"),
        ({"cols": [{"name": "x", "data": 1.0}]}, "'x' data is a float"),
        ({"cols": [{"name": "x", "data": [1, "a"]}]}, "not one scalar type"),
        (
            {"cols": [{"name": "x", "data": np.arange(2)}, {"name": "x", "data": np.arange(2)}]},
            "'x' appears twice",
        ),
        (
            {"cols": [{"name": "a", "data": np.arange(3)}, {"name": "b", "data": np.arange(2)}]},
            "different lengths: {'a': 3, 'b': 2}",
        ),
    ],
)
def test_table_shape_errors(root, words):
    with pytest.raises(DataError) as info:
        tson.table_from_tson(tson.encode(root))
    assert words in str(info.value)


def _placed(document: bytes, data_offset: int, misalign: int) -> memoryview:
    """``document`` copied into aligned memory so that ``data_offset`` is 8-aligned + misalign."""
    store = np.zeros(len(document) + 16, dtype=np.uint8)
    shift = (-(store.ctypes.data + data_offset) + misalign) % 8
    store[shift : shift + len(document)] = np.frombuffer(document, dtype=np.uint8)
    return memoryview(store[shift : shift + len(document)])


def test_table_columns_share_aligned_input_and_copy_unaligned():
    document = tson.table_to_tson(pa.table({"v": np.arange(100.0)}))
    data_offset = len(document) - 800  # the float64 payload is the document's tail
    aligned = _placed(document, data_offset, 0)
    column = tson.table_from_tson(aligned)["v"].chunk(0)
    address = column.buffers()[1].address
    start = np.frombuffer(aligned, dtype=np.uint8).ctypes.data
    assert start <= address < start + len(document)
    unaligned = _placed(document, data_offset, 3)
    column = tson.table_from_tson(unaligned)["v"].chunk(0)
    assert column.buffers()[1].address % 8 == 0
    assert column.to_pylist() == np.arange(100.0).tolist()


# ------------------------------------------------------------------------- OperatorResult


def test_operator_result_layout():
    frame = pa.table(
        {
            ".ci": pa.array([0], pa.int64()),
            ".ri": pa.array([0], pa.int64()),
            ".content": ["iVBORw0KGgo="],
            "ns.filename": ["plot.png"],
            "ns.plot_width": pa.array([800], pa.int32()),
            "ns.plot_height": pa.array([600.0], pa.float32()),
            "count": pa.array([7], pa.uint32()),
        }
    )
    data = tson.operator_result_to_tson([tson.ResultTable(frame, name="result-name")])
    root = tson.decode(data)
    assert list(root) == ["kind", "tables", "joinOperators"]
    assert root["kind"] == "OperatorResult" and root["joinOperators"] == []
    (table,) = root["tables"]
    assert list(table) == ["kind", "nRows", "properties", "columns"]
    assert table["kind"] == "Table" and table["nRows"] == 1
    assert table["properties"] == {
        "kind": "TableProperties",
        "name": "result-name",
        "sortOrder": [],
        "ascending": False,
    }
    expected = [
        (".ci", "int32", "<i4"),
        (".ri", "int32", "<i4"),
        (".content", "string", "O"),
        ("ns.filename", "string", "O"),
        ("ns.plot_width", "int32", "<i4"),
        ("ns.plot_height", "double", "<f8"),
        ("count", "int64", "<i8"),
    ]
    for column, (name, type_name, dtype) in zip(table["columns"], expected, strict=True):
        assert list(column) == ["kind", "name", "type", "nRows", "size", "values"]
        assert column["kind"] == "Column" and column["name"] == name
        assert column["type"] == type_name and column["nRows"] == column["size"] == 1
        assert column["values"].dtype == np.dtype(dtype)
    assert table["columns"][2]["values"].tolist() == ["iVBORw0KGgo="]
    assert table["columns"][5]["values"].tolist() == [600.0]
    # Empty sortOrder/joinOperators are generic LISTs of 0, and .ci values a LIST_INT32.
    assert b"\x01sortOrder\x00\x0a\x00\x00\x00\x00" in data
    assert b"\x01joinOperators\x00\x0a\x00\x00\x00\x00" in data
    assert b"\x01values\x00\x69\x01\x00\x00\x00\x00\x00\x00\x00" in data


def test_operator_result_accepts_bare_tables_and_draws_uuid_names():
    data = tson.operator_result_to_tson([pa.table({"x": [1.0]}), pa.table({"y": ["a"]})])
    names = [t["properties"]["name"] for t in tson.decode(data)["tables"]]
    assert len(names) == 2 and all(len(name) == 36 for name in names) and names[0] != names[1]


@pytest.mark.parametrize(
    ("frame", "words"),
    [
        (pa.table({".ci": [0.5]}), "'.ci': it must hold integers"),
        (pa.table({".ri": pa.array([2**40], pa.int64())}), "'.ri': its values do not fit"),
        (pa.table({"u": pa.array([2**64 - 1], pa.uint64())}), "'u': its values do not fit"),
        (pa.table({"b": [True]}), "'b': Arrow type bool has no Tercen column type"),
    ],
)
def test_operator_result_type_errors(frame, words):
    with pytest.raises(TsonEncodeError) as info:
        tson.operator_result_to_tson([frame])
    assert words in str(info.value)


# ---------------------------------------------------------------------------------- fuzzing


def _fuzz_seed_document() -> bytes:
    return tson.encode(
        {
            "cols": [
                {"name": ".y", "type": "double", "data": np.linspace(0, 1, 5)},
                {"name": ".ci", "type": "int32", "data": np.arange(5, dtype=np.int32)},
                {"name": ".xs", "type": "uint16", "data": np.arange(5, dtype=np.uint16)},
                {"name": "s", "type": "string", "data": np.array(["µg", "a", "", "Zü", "😀"])},
                {"name": "g", "data": [1.5, None, True, "x", 3] + [2.0] * 10},
            ],
            "meta": {"n": 5, "nested": [[{}], []]},
        }
    )


def _decode_or_refuse(data: bytes) -> None:
    with contextlib.suppress(TsonDecodeError):
        tson.decode(data)
    with contextlib.suppress(DataError):
        tson.table_from_tson(data)


def test_fuzz_random_and_mutated_input_only_raises_decode_errors():
    rng = np.random.default_rng(20260311)
    seed = _fuzz_seed_document()
    started = time.perf_counter()
    for case in range(2000):
        size = int(rng.integers(0, 96))
        noise = rng.integers(0, 256, size, dtype=np.uint8).tobytes()
        # Half start with a valid version so the fuzz reaches the element parser.
        _decode_or_refuse(VERSION_BYTES + noise if case % 2 else noise)
    for case in range(2000):
        data = bytearray(seed)
        if case % 3 == 0:
            data = data[: int(rng.integers(0, len(seed)))]
        else:
            data[int(rng.integers(0, len(seed)))] = int(rng.integers(0, 256))
        _decode_or_refuse(bytes(data))
    # Count fields set to huge values must be refused up front, not looped over.
    for position in range(len(VERSION_BYTES), len(seed) - 4):
        data = bytearray(seed)
        data[position : position + 4] = struct.pack("<I", 0xFFFFFFF0)
        _decode_or_refuse(bytes(data))
    assert time.perf_counter() - started < 10.0
