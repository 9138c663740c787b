"""TSON, Tercen's binary document format: decode, encode, and the two table forms.

A TSON document is a version STRING element (``"1.1.0"``) followed by one root
element. Every element is a one-byte type code and its payload; numbers are
little-endian, lengths are uint32, nothing is aligned or padded.

Typed lists decode to numpy views of the input (no copy); string lists are
decoded in one vectorised pass (NUL positions found with numpy, UTF-8 checked
once by Arrow), never character by character. Every count and length is
checked against the bytes that remain before anything is read or allocated,
so malformed input raises :class:`TsonDecodeError` instead of reading past the
end, hanging or exhausting memory.

Public API:
    decode, encode: document <-> Python values and numpy arrays.
    table_from_tson, table_to_tson: the table form ``TableSchemaService``
        streams (``cols``/``data``; ``columns``/``values`` is read too).
    operator_result_to_tson: the ``OperatorResult`` map a Tercen operator uploads.
"""

from __future__ import annotations

import math
import re
import struct
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

# ggrs.io imports this module: import the module, not its names, so that either
# may be loaded first.
from ggrs import io
from ggrs.errors import DataError, UsageError

VERSION = "1.1.0"
"""The only TSON version this codec reads and writes."""

MAX_DEPTH = 64
"""Deepest nesting of LIST/MAP elements accepted; deeper input is refused."""

# Type codes (spec section 3.2).
NULL = 0x00
STRING = 0x01
INTEGER = 0x02
DOUBLE = 0x03
BOOL = 0x04
LIST = 0x0A
MAP = 0x0B
LIST_UINT8 = 0x64
LIST_UINT16 = 0x65
LIST_UINT32 = 0x66
LIST_INT8 = 0x67
LIST_INT16 = 0x68
LIST_INT32 = 0x69
LIST_INT64 = 0x6A
LIST_UINT64 = 0x6B
LIST_FLOAT32 = 0x6E
LIST_FLOAT64 = 0x6F
LIST_STRING = 0x70

_NUMERIC_DTYPES: dict[int, np.dtype] = {
    LIST_UINT8: np.dtype("<u1"),
    LIST_UINT16: np.dtype("<u2"),
    LIST_UINT32: np.dtype("<u4"),
    LIST_INT8: np.dtype("<i1"),
    LIST_INT16: np.dtype("<i2"),
    LIST_INT32: np.dtype("<i4"),
    LIST_INT64: np.dtype("<i8"),
    LIST_UINT64: np.dtype("<u8"),
    LIST_FLOAT32: np.dtype("<f4"),
    LIST_FLOAT64: np.dtype("<f8"),
}
_CODE_FOR_DTYPE: dict[tuple[str, int], int] = {
    (dt.kind, dt.itemsize): code for code, dt in _NUMERIC_DTYPES.items()
}
_CODE_NAMES = {
    NULL: "NULL",
    STRING: "STRING",
    INTEGER: "INTEGER",
    DOUBLE: "DOUBLE",
    BOOL: "BOOL",
    LIST: "LIST",
    MAP: "MAP",
    LIST_UINT8: "LIST_UINT8",
    LIST_UINT16: "LIST_UINT16",
    LIST_UINT32: "LIST_UINT32",
    LIST_INT8: "LIST_INT8",
    LIST_INT16: "LIST_INT16",
    LIST_INT32: "LIST_INT32",
    LIST_INT64: "LIST_INT64",
    LIST_UINT64: "LIST_UINT64",
    LIST_FLOAT32: "LIST_FLOAT32",
    LIST_FLOAT64: "LIST_FLOAT64",
    LIST_STRING: "LIST_STRING",
}
# Generic LISTs of one fixed-size scalar type are read in bulk: (element stride, payload dtype).
_FIXED_SCALARS: dict[int, tuple[int, np.dtype]] = {
    INTEGER: (5, np.dtype("<i4")),
    DOUBLE: (9, np.dtype("<f8")),
    BOOL: (2, np.dtype("u1")),
}
_BULK_MIN = 8  # below this many elements the per-element loop is as fast as the bulk path

_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1
_UINT32_MAX = 2**32 - 1
_NUL = re.compile(b"\x00")
_VERSION_ELEMENT = bytes([STRING]) + VERSION.encode("ascii") + b"\x00"
_U32 = struct.Struct("<I")
_I32 = struct.Struct("<i")
_F64 = struct.Struct("<d")
_Chunk = bytes | memoryview  # pieces of an encoded document, joined once at the end


class TsonDecodeError(DataError):
    """The bytes are not a valid TSON document (truncated, malformed or too deep)."""


class TsonEncodeError(DataError):
    """A value cannot be represented in TSON (wrong type, out of range, NUL in a string)."""


# --------------------------------------------------------------------------------------------
# Decoding


def decode(data: bytes | bytearray | memoryview) -> object:
    """Decodes one TSON document.

    Args:
        data: the whole document, version element included.

    Returns:
        The root value: MAP -> ``dict``, LIST -> ``list``, numeric typed lists -> 1-D numpy
        arrays that are views into ``data`` (read-only when ``data`` is ``bytes``; unaligned
        when the document puts them at an odd offset), LIST_STRING -> numpy object array of
        ``str``, STRING -> ``str``, INTEGER -> ``int``, DOUBLE -> ``float``, BOOL -> ``bool``,
        NULL -> ``None``.

    Raises:
        TsonDecodeError: the input is empty, truncated, malformed, of another version, nested
            deeper than ``MAX_DEPTH``, or has bytes after the root element.
        UsageError: ``data`` is not a contiguous bytes-like object.
    """
    return _Decoder(data, tables=False).document()


class _Decoder:
    """One pass over one document; ``tables=True`` keeps columnar values in Arrow/numpy form."""

    def __init__(self, data: bytes | bytearray | memoryview, *, tables: bool) -> None:
        try:
            view = memoryview(data)
        except TypeError:
            raise UsageError(
                f"TSON input must be bytes, bytearray or memoryview, not {type(data).__name__}"
            ) from None
        if not view.c_contiguous:
            raise UsageError("TSON input memoryview must be C-contiguous; pass bytes(view)")
        self.buf = view.cast("B") if view.format != "B" or view.ndim != 1 else view
        self.size = len(self.buf)
        self.tables = tables

    def fail(self, offset: int, message: str) -> TsonDecodeError:
        return TsonDecodeError(f"invalid TSON at byte offset {offset}: {message}")

    def need(self, pos: int, count: int, what: str, start: int) -> None:
        if count > self.size - pos:
            left = max(self.size - pos, 0)
            raise self.fail(
                start,
                f"{what} needs {count} bytes from offset {pos} but the input ends after "
                f"{left} (total {self.size} bytes; truncated document?)",
            )

    def u32(self, pos: int, what: str, start: int) -> int:
        self.need(pos, 4, what, start)
        return _U32.unpack_from(self.buf, pos)[0]

    def document(self) -> object:
        if self.size == 0:
            raise self.fail(0, "input is empty; expected a TSON document")
        if self.buf[0] != STRING:
            raise self.fail(
                0,
                f"expected the version STRING element (type 0x01) first, found type "
                f"0x{self.buf[0]:02x}; this is not a TSON document",
            )
        version, pos = self.cstring(1, 0)
        if version != VERSION:
            raise self.fail(
                1, f"TSON version mismatch: document says {version!r}, expected {VERSION!r}"
            )
        if pos >= self.size:
            raise self.fail(pos, "expected the root element after the version, input ends")
        value, pos = self.element(pos, 1)
        if pos != self.size:
            raise self.fail(
                pos,
                f"{self.size - pos} unexpected bytes after the root element "
                "(concatenated or corrupted document?)",
            )
        return value

    def cstring(self, pos: int, start: int) -> tuple[str, int]:
        match = _NUL.search(self.buf, pos)
        if match is None:
            raise self.fail(start, f"string starting at offset {pos} has no NUL terminator")
        end = match.start()
        raw = bytes(self.buf[pos:end])
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as err:
            raise self.fail(start, f"invalid UTF-8 in string at offset {pos + err.start}") from None
        return text, end + 1

    def element(self, pos: int, depth: int) -> tuple[object, int]:
        start = pos
        code = self.buf[pos]
        pos += 1
        if code == STRING:
            return self.cstring(pos, start)
        if code == DOUBLE:
            self.need(pos, 8, "DOUBLE", start)
            return _F64.unpack_from(self.buf, pos)[0], pos + 8
        if code == INTEGER:
            self.need(pos, 4, "INTEGER", start)
            return _I32.unpack_from(self.buf, pos)[0], pos + 4
        if code == NULL:
            return None, pos
        if code == BOOL:
            self.need(pos, 1, "BOOL", start)
            return self.buf[pos] != 0, pos + 1
        if code in (MAP, LIST):
            if depth > MAX_DEPTH:
                raise self.fail(
                    start, f"{_CODE_NAMES[code]} nested deeper than {MAX_DEPTH} levels; refused"
                )
            return self.map(pos, depth, start) if code == MAP else self.list(pos, depth, start)
        if code in _NUMERIC_DTYPES:
            dtype = _NUMERIC_DTYPES[code]
            count = self.u32(pos, f"{_CODE_NAMES[code]} element count", start)
            pos += 4
            self.need(pos, count * dtype.itemsize, f"{_CODE_NAMES[code]} of {count} items", start)
            array = np.frombuffer(self.buf, dtype=dtype, count=count, offset=pos)
            return array, pos + count * dtype.itemsize
        if code == LIST_STRING:
            length = self.u32(pos, "LIST_STRING byte length", start)
            pos += 4
            self.need(pos, length, f"LIST_STRING of {length} bytes", start)
            strings = self.string_list(pos, length, start)
            if not self.tables:
                strings = strings.to_numpy(zero_copy_only=False)
            return strings, pos + length
        raise self.fail(start, f"unknown type code 0x{code:02x}")

    def map(self, pos: int, depth: int, start: int) -> tuple[dict, int]:
        count = self.u32(pos, "MAP pair count", start)
        pos += 4
        # A pair is at least 3 bytes (key type, key NUL, value type): refuse absurd counts early.
        self.need(pos, 3 * count, f"MAP of {count} pairs", start)
        out: dict[str, object] = {}
        for _ in range(count):
            if pos >= self.size:
                raise self.fail(start, f"MAP of {count} pairs is cut off at offset {pos}")
            if self.buf[pos] != STRING:
                raise self.fail(
                    pos,
                    f"map key must be a STRING element (type 0x01), found type "
                    f"0x{self.buf[pos]:02x}",
                )
            key, pos = self.cstring(pos + 1, pos)
            if pos >= self.size:
                raise self.fail(pos, f"map key {key!r} has no value: input ends")
            out[key], pos = self.element(pos, depth + 1)
        return out, pos

    def list(self, pos: int, depth: int, start: int) -> tuple[object, int]:
        count = self.u32(pos, "LIST element count", start)
        pos += 4
        self.need(pos, count, f"LIST of {count} elements", start)
        if count >= _BULK_MIN:
            bulk = self.scalar_run(pos, count)
            if bulk is not None:
                return bulk
        out = []
        for _ in range(count):
            if pos >= self.size:
                raise self.fail(start, f"LIST of {count} elements is cut off at offset {pos}")
            value, pos = self.element(pos, depth + 1)
            out.append(value)
        return out, pos

    def scalar_run(self, pos: int, count: int) -> tuple[object, int] | None:
        """Reads a generic LIST whose items all have one fixed-size scalar type in bulk.

        pytson sends numeric lists holding NaN as a generic LIST of DOUBLEs, so such lists
        can be as long as a data column; reading them element by element would be slow.
        """
        fixed = _FIXED_SCALARS.get(self.buf[pos])
        if fixed is None:
            return None
        stride, dtype = fixed
        if count * stride > self.size - pos:
            return None  # the slow path reports exactly where it is cut off
        codes = np.ndarray((count,), np.uint8, self.buf, pos, (stride,))
        if not bool((codes == self.buf[pos]).all()):
            return None
        values = np.ndarray((count,), dtype, self.buf, pos + 1, (stride,))
        if dtype.kind == "u":
            values = values != 0
        end = pos + count * stride
        # Tables keep a compact numpy array; plain decode promises a Python list.
        return (np.array(values) if self.tables else values.tolist()), end

    def string_list(self, pos: int, length: int, start: int) -> pa.Array:
        """Builds an Arrow string array from a LIST_STRING payload without a per-item loop."""
        if length == 0:
            return pa.array([], type=pa.string())
        raw = np.frombuffer(self.buf, dtype=np.uint8, count=length, offset=pos)
        if raw[-1] != 0:
            raise self.fail(
                start, f"LIST_STRING payload of {length} bytes does not end with a NUL byte"
            )
        is_nul = raw == 0
        ends = np.flatnonzero(is_nul)
        count = len(ends)
        chars = raw[~is_nul]
        # String i ends at NUL i; i NULs precede it, so its end in the NUL-free data is ends[i] - i.
        wide = chars.size > _INT32_MAX
        offsets = np.empty(count + 1, dtype=np.int64 if wide else np.int32)
        offsets[0] = 0
        offsets[1:] = ends - np.arange(count)
        array = pa.Array.from_buffers(
            pa.large_string() if wide else pa.string(),
            count,
            [None, pa.py_buffer(offsets), pa.py_buffer(chars)],
        )
        try:
            array.validate(full=True)
        except pa.ArrowInvalid:
            try:
                raw.tobytes().decode("utf-8")
            except UnicodeDecodeError as err:
                raise self.fail(
                    start, f"LIST_STRING has invalid UTF-8 at offset {pos + err.start}"
                ) from None
            raise  # pragma: no cover - Arrow and Python disagree on UTF-8 validity
        return array


# --------------------------------------------------------------------------------------------
# Encoding


def encode(value: object) -> bytes:
    """Encodes one value as a TSON document (version element + root element).

    Mapping: ``None`` -> NULL; ``bool`` -> BOOL; ``int`` in int32 range -> INTEGER (TSON has
    no 64-bit scalar: larger ints raise, pass a numpy int64 array instead); ``float`` ->
    DOUBLE; ``str`` -> STRING; ``dict`` (``str`` keys, insertion order kept) -> MAP;
    ``list``/``tuple`` -> generic LIST (never guessed into a typed list, so an empty list is a
    LIST of 0, as Tercen wants); ``bytes``/``bytearray``/``memoryview`` -> LIST_UINT8 (TSON
    has no bytes type; it decodes back as a uint8 array); 1-D numpy arrays and Arrow arrays ->
    the typed list of their dtype (int8..uint64, float32/64; ``str``/``object`` arrays ->
    LIST_STRING). Numpy scalars behave like the matching Python scalar. Arrow nulls are
    written as 0, NaN or "" (TSON typed lists cannot hold nulls).

    Args:
        value: the root value.

    Returns:
        The document bytes; equal inputs give equal bytes.

    Raises:
        TsonEncodeError: a value has no TSON form (names the path, e.g.
            ``$["tables"][0]``, and the offending type or value).
    """
    out: list[_Chunk] = [_VERSION_ELEMENT]
    _encode_into(value, out, 1, "$")
    return b"".join(out)


def _encode_into(value: object, out: list[_Chunk], depth: int, path: str) -> None:
    if value is None:
        out.append(b"\x00")
    elif isinstance(value, bool | np.bool_):
        out.append(b"\x04\x01" if value else b"\x04\x00")
    elif isinstance(value, int | np.integer):
        number = int(value)
        if not _INT32_MIN <= number <= _INT32_MAX:
            raise TsonEncodeError(
                f"cannot encode {path} = {number}: TSON integers are int32 "
                f"({_INT32_MIN}..{_INT32_MAX}); send it as a float or in a numpy int64 array"
            )
        out.append(b"\x02" + _I32.pack(number))
    elif isinstance(value, float | np.floating):
        out.append(b"\x03" + _F64.pack(float(value)))
    elif isinstance(value, str):
        out.append(b"\x01" + _utf8(value, path) + b"\x00")
    elif isinstance(value, Mapping):
        _check_depth(depth, path)
        out.append(bytes([MAP]) + _count(len(value), path))
        for key, item in value.items():
            if not isinstance(key, str):
                raise TsonEncodeError(
                    f"cannot encode {path}: map key {key!r} is a {type(key).__name__}; "
                    "TSON map keys must be str"
                )
            out.append(b"\x01" + _utf8(key, f"{path} key") + b"\x00")
            _encode_into(item, out, depth + 1, f"{path}[{key!r}]")
    elif isinstance(value, list | tuple):
        _check_depth(depth, path)
        out.append(bytes([LIST]) + _count(len(value), path))
        for index, item in enumerate(value):
            _encode_into(item, out, depth + 1, f"{path}[{index}]")
    elif isinstance(value, bytes | bytearray | memoryview):
        out.extend(_typed_list(np.frombuffer(value, dtype=np.uint8), path))
    elif isinstance(value, np.ndarray | pa.Array | pa.ChunkedArray):
        out.extend(_typed_list(value, path))
    else:
        raise TsonEncodeError(
            f"cannot encode {path}: {type(value).__name__} has no TSON form "
            "(use dict, list, str, int, float, bool, None, bytes or a 1-D numpy/Arrow array)"
        )


def _check_depth(depth: int, path: str) -> None:
    if depth > MAX_DEPTH:
        raise TsonEncodeError(
            f"cannot encode {path}: nested deeper than {MAX_DEPTH} levels (a reference cycle?)"
        )


def _count(count: int, path: str) -> bytes:
    if count > _UINT32_MAX:
        raise TsonEncodeError(f"cannot encode {path}: {count} items exceed the uint32 TSON limit")
    return _U32.pack(count)


def _utf8(text: str, path: str) -> bytes:
    if "\x00" in text:
        raise TsonEncodeError(
            f"cannot encode {path}: the string contains a NUL character at index "
            f"{text.index(chr(0))}; TSON strings are NUL-terminated"
        )
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as err:
        raise TsonEncodeError(
            f"cannot encode {path}: the string is not valid Unicode at index {err.start}"
        ) from None


def _typed_list(values: np.ndarray | pa.Array | pa.ChunkedArray, path: str) -> list[_Chunk]:
    """Encodes a 1-D array as the typed list of its element type (header + payload)."""
    if isinstance(values, pa.ChunkedArray | pa.Array):
        return _typed_list_arrow(_plain_arrow(values), path)
    if values.ndim != 1:
        raise TsonEncodeError(
            f"cannot encode {path}: array has shape {values.shape}; only 1-D arrays are lists"
        )
    kind = values.dtype.kind
    if kind in "iuf":
        code = _CODE_FOR_DTYPE.get((kind, values.dtype.itemsize))
        if code is None:
            raise TsonEncodeError(
                f"cannot encode {path}: dtype {values.dtype} has no TSON list type; "
                "cast to float32/float64 or an 8..64-bit integer"
            )
        # The join in encode() is the only copy: hand it a view, not a tobytes() copy.
        payload = memoryview(
            np.ascontiguousarray(values.astype(_NUMERIC_DTYPES[code], copy=False))
        ).cast("B")
        return [bytes([code]), _count(len(values), path), payload]
    if kind in "UOT":
        try:
            strings = pa.array(values.astype(object) if kind == "T" else values, type=pa.string())
        except (pa.ArrowInvalid, pa.ArrowTypeError) as err:
            raise TsonEncodeError(
                f"cannot encode {path}: {kind!r}-kind array is not all str ({err})"
            ) from None
        return _string_list(strings, path)
    raise TsonEncodeError(
        f"cannot encode {path}: numpy dtype {values.dtype} has no TSON list type "
        "(bool arrays: cast with .astype(np.uint8))"
    )


def _typed_list_arrow(values: pa.Array, path: str) -> list[_Chunk]:
    kind = values.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return _string_list(values, path)
    if pa.types.is_integer(kind) or pa.types.is_floating(kind):
        if pa.types.is_float16(kind):
            values = values.cast(pa.float32())
        if values.null_count:
            values = values.fill_null(math.nan if pa.types.is_floating(kind) else 0)
        # Null-free and not float16 now: a view of the value buffer, no pandas.
        return _typed_list(io.numpy_from_arrow(values), path)
    raise TsonEncodeError(
        f"cannot encode {path}: Arrow type {kind} has no TSON list type; "
        "cast to a number or string column first"
    )


def _plain_arrow(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """One Array with dictionaries decoded and string views cast to plain strings."""
    if isinstance(values, pa.ChunkedArray):
        values = values.chunk(0) if values.num_chunks == 1 else values.combine_chunks()
    if pa.types.is_dictionary(values.type):
        values = values.dictionary_decode()
    if pa.types.is_string_view(values.type):
        values = values.cast(pa.large_string())
    return values


def _string_list(strings: pa.Array, path: str) -> list[_Chunk]:
    """LIST_STRING from an Arrow (large_)string array: each string then NUL, built in bulk."""
    if strings.null_count:
        strings = strings.fill_null("")
    count = len(strings)
    offset_type = np.int64 if pa.types.is_large_string(strings.type) else np.int32
    buffers = strings.buffers()
    offsets = np.frombuffer(buffers[1], dtype=offset_type)[
        strings.offset : strings.offset + count + 1
    ].astype(np.int64)
    data = np.frombuffer(buffers[2] if buffers[2] is not None else b"", dtype=np.uint8)
    chars = data[offsets[0] : offsets[-1]] if count else data[:0]
    nuls = np.flatnonzero(chars == 0)
    if nuls.size:
        index = int(np.searchsorted(offsets, nuls[0] + offsets[0], side="right")) - 1
        raise TsonEncodeError(
            f"cannot encode {path}: string {index} contains a NUL character; "
            "TSON strings are NUL-terminated"
        )
    payload = np.zeros(chars.size + count, dtype=np.uint8)
    # String i moves right by i (the NULs before it); its NUL lands at its shifted end.
    keep = np.ones(payload.size, dtype=bool)
    keep[offsets[1:] - offsets[0] + np.arange(count)] = False
    payload[keep] = chars
    return [bytes([LIST_STRING]), _count(payload.size, path), memoryview(payload)]


# --------------------------------------------------------------------------------------------
# Tables

_TYPE_NAMES = {
    pa.int8(): "int8",
    pa.int16(): "int16",
    pa.int32(): "int32",
    pa.int64(): "int64",
    pa.uint8(): "uint8",
    pa.uint16(): "uint16",
    pa.uint32(): "uint32",
    pa.uint64(): "uint64",
    pa.float16(): "float32",
    pa.float32(): "float32",
    pa.float64(): "double",
    pa.string(): "string",
    pa.large_string(): "string",
}
_ARROW_FOR_NAME = {
    "double": pa.float64(),
    "float32": pa.float32(),
    "string": pa.string(),
    "int8": pa.int8(),
    "int16": pa.int16(),
    "int32": pa.int32(),
    "int64": pa.int64(),
    "uint8": pa.uint8(),
    "uint16": pa.uint16(),
    "uint32": pa.uint32(),
    "uint64": pa.uint64(),
}


def table_from_tson(data: bytes | bytearray | memoryview) -> pa.Table:
    """Reads a table in the form Tercen streams it.

    Accepted roots: ``MAP{"cols": LIST[MAP{"name", "type", "data"}]}`` (gRPC
    ``streamTable``) and ``MAP{"columns": LIST[MAP{"name", "type", "values"}]}`` (HTTP
    ``selectStream`` / Table model); other top-level keys are ignored. An empty payload or
    an empty column list gives a table with no columns.

    Column types follow the TSON element: each typed list keeps its dtype (LIST_UINT16 ->
    uint16, LIST_INT32 -> int32, ...), LIST_STRING -> string, a generic LIST of scalars is
    converted by Arrow's inference (NULL -> null; an empty one takes its type from the
    column's ``"type"`` name when known, else null type). Numeric columns share memory with
    ``data`` when their offset is aligned to the item size; unaligned ones are copied once,
    because Arrow's compute engine warns about and re-copies unaligned buffers anyway.
    A column map without a string ``"name"`` is skipped, as Tercen's own reader does.

    Args:
        data: the concatenated stream payload (one TSON document).

    Returns:
        The table, columns in document order.

    Raises:
        TsonDecodeError: the bytes are not valid TSON.
        DataError: the document is not a table (no ``cols``/``columns`` list, a named column
            without data, duplicate names, nested values), or columns differ in length.
    """
    decoder = _Decoder(data, tables=True)
    if decoder.size == 0:
        return pa.table({})
    root = decoder.document()
    if not isinstance(root, dict):
        raise DataError(f"TSON table: the root is a {_kind(root)}, expected a MAP with 'cols'")
    key, data_key = ("cols", "data") if "cols" in root else ("columns", "values")
    entries = root.get(key)
    if not isinstance(entries, list):
        raise DataError(
            f"TSON table: the root MAP has no 'cols' or 'columns' LIST "
            f"(keys: {sorted(root)}; {key!r} is {_kind(entries)})"
        )
    names: list[str] = []
    arrays: list[pa.Array] = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise DataError(f"TSON table: {key}[{index}] is a {_kind(entry)}, expected a MAP")
        name = entry.get("name")
        if not isinstance(name, str):
            continue
        if data_key not in entry:
            raise DataError(
                f"TSON table: column {name!r} ({key}[{index}]) has no {data_key!r} entry"
            )
        if name in names:
            raise DataError(f"TSON table: column name {name!r} appears twice ({key}[{index}])")
        names.append(name)
        arrays.append(_column_from_tson(name, entry[data_key], entry.get("type")))
    lengths = {name: len(array) for name, array in zip(names, arrays, strict=True)}
    if len(set(lengths.values())) > 1:
        raise DataError(
            f"TSON table: columns have different lengths: {lengths}; the stream is corrupt"
        )
    return pa.Table.from_arrays(arrays, names=names)


def _column_from_tson(name: str, values: object, type_name: object) -> pa.Array:
    if isinstance(values, pa.Array):
        return values
    if isinstance(values, np.ndarray):
        if values.dtype.kind in "iuf":
            # A view of the input where it is aligned (typed lists need not be).
            return io.arrow_from_numpy(values)
        return pa.array(values)
    if isinstance(values, list):
        arrow_type = _ARROW_FOR_NAME.get(type_name) if not values else None
        try:
            return pa.array(values, type=arrow_type)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as err:
            raise DataError(
                f"TSON table: column {name!r} is a generic LIST that is not one scalar type ({err})"
            ) from None
    raise DataError(f"TSON table: column {name!r} data is a {_kind(values)}, expected a list")


def _kind(value: object) -> str:
    if isinstance(value, dict):
        return "MAP"
    if isinstance(value, list):
        return "LIST"
    if isinstance(value, np.ndarray | pa.Array):
        return "typed list"
    return "missing" if value is None else type(value).__name__


def table_to_tson(table: pa.Table) -> bytes:
    """Writes a table in the form ``TableSchemaService.streamTable`` sends it.

    Layout: ``MAP{"cols": LIST[MAP{"name": STRING, "type": STRING, "data": <typed list>}]}``.
    ``"type"`` is a type name (``double``, ``float32``, ``string``, ``int8`` ... ``uint64``).
    Each column is the typed list of its Arrow type (float16 widens to float32; dictionary
    columns are decoded); nulls become 0 (integers), NaN (floats) or "" (strings).

    Args:
        table: the table; its column names must be str without NUL.

    Returns:
        The TSON document; :func:`table_from_tson` reads it back unchanged.

    Raises:
        TsonEncodeError: a column has a type with no TSON list (bool, dates, nested ...).
    """
    cols = []
    for name, column in zip(table.column_names, table.columns, strict=True):
        values = _plain_arrow(column)
        type_name = _TYPE_NAMES.get(values.type)
        if type_name is None:
            raise TsonEncodeError(
                f"cannot encode column {name!r}: Arrow type {values.type} has no TSON list "
                "type; cast it to a number or string column first"
            )
        cols.append({"name": name, "type": type_name, "data": values})
    return encode({"cols": cols})


@dataclass(frozen=True)
class ResultTable:
    """One table of an operator result.

    Attributes:
        table: the frame to upload. Column types map to Tercen's: strings -> ``string``,
            floats -> ``double``, int8/16/32 and uint8/16 -> ``int32``, int64/uint32/uint64
            -> ``int64``; ``.ci`` and ``.ri`` are always sent as ``int32``.
        name: ``TableProperties.name``; ``None`` draws a random UUID4 as Tercen's SDK does.
    """

    table: pa.Table
    name: str | None = None


def operator_result_to_tson(tables: Sequence[ResultTable | pa.Table]) -> bytes:
    """Encodes the ``OperatorResult`` map a Tercen operator uploads (protocol §1.14).

    Layout (key order as written here)::

        MAP{kind: "OperatorResult",
            tables: LIST[MAP{kind: "Table", nRows: INTEGER,
                             properties: MAP{kind: "TableProperties", name: STRING,
                                             sortOrder: LIST[], ascending: BOOL(false)},
                             columns: LIST[MAP{kind: "Column", name, type, nRows: INTEGER,
                                               size: INTEGER, values: <typed list>}]}],
            joinOperators: LIST[]}

    ``values`` is LIST_STRING / LIST_FLOAT64 / LIST_INT32 / LIST_INT64 for the type names
    ``string`` / ``double`` / ``int32`` / ``int64``; nulls become "" / NaN / 0.

    Args:
        tables: the result tables; a bare ``pyarrow.Table`` means ``ResultTable(table)``.

    Returns:
        The upload payload.

    Raises:
        TsonEncodeError: a column type has no Tercen equivalent, ``.ci``/``.ri`` are not
            integers that fit int32, a uint64 value exceeds int64, or a table has more than
            2**31-1 rows.
    """
    encoded = []
    for item in tables:
        result = item if isinstance(item, ResultTable) else ResultTable(item)
        table = result.table
        if table.num_rows > _INT32_MAX:
            raise TsonEncodeError(
                f"cannot encode result table: {table.num_rows} rows exceed Tercen's int32 nRows"
            )
        columns = []
        for name, column in zip(table.column_names, table.columns, strict=True):
            type_name, values = _result_column(name, column)
            columns.append(
                {
                    "kind": "Column",
                    "name": name,
                    "type": type_name,
                    "nRows": table.num_rows,
                    "size": table.num_rows,
                    "values": values,
                }
            )
        encoded.append(
            {
                "kind": "Table",
                "nRows": table.num_rows,
                "properties": {
                    "kind": "TableProperties",
                    "name": result.name if result.name is not None else str(uuid.uuid4()),
                    "sortOrder": [],
                    "ascending": False,
                },
                "columns": columns,
            }
        )
    return encode({"kind": "OperatorResult", "tables": encoded, "joinOperators": []})


def _result_column(name: str, column: pa.ChunkedArray) -> tuple[str, pa.Array]:
    """Tercen type name and values for one result column (see :class:`ResultTable`)."""
    values = _plain_arrow(column)
    kind = values.type
    try:
        if name in (".ci", ".ri"):
            # The server rejects .ci/.ri sent as int64 (tercen-rs history).
            if not pa.types.is_integer(kind):
                raise TsonEncodeError(
                    f"cannot encode result column {name!r}: it must hold integers, not {kind}"
                )
            return "int32", values.cast(pa.int32())
        if pa.types.is_string(kind) or pa.types.is_large_string(kind):
            return "string", values
        if pa.types.is_floating(kind):
            return "double", values.cast(pa.float64())
        if kind in (pa.int8(), pa.int16(), pa.int32(), pa.uint8(), pa.uint16()):
            return "int32", values.cast(pa.int32())
        if kind in (pa.int64(), pa.uint32(), pa.uint64()):
            return "int64", values.cast(pa.int64())
    except pa.ArrowInvalid as err:
        raise TsonEncodeError(
            f"cannot encode result column {name!r}: its values do not fit the Tercen type ({err})"
        ) from None
    raise TsonEncodeError(
        f"cannot encode result column {name!r}: Arrow type {kind} has no Tercen column type "
        "(string, double, int32, int64); cast it first"
    )
