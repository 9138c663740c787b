"""Reading input table files (CSV/TSV, Parquet, Arrow IPC, TSON) into Arrow tables.

The format comes from the file name unless ``format=`` names it. Each file's
leading bytes are checked against the format's magic number before parsing, so
a file whose name lies gets one clear error that names what it looks like
instead of a parser traceback. Only requested columns are parsed where the
format allows it (CSV, Parquet); Arrow IPC files are memory-mapped, so unused
columns cost nothing there either.

Parquet files and Arrow IPC files of several record batches are read one row
group (batch) at a time: each numeric column is copied into one preallocated
numpy array and the table holds a zero-copy, single-chunk wrap of it. A numeric
column therefore exists once in memory, and :func:`numeric_view` hands it to
numpy without another copy. So do the indices of a dictionary column whose row
groups share one dictionary (factors then use them as codes as they are). None
of this imports pandas (pyarrow's ``pa.array(ndarray)``, ``to_numpy`` and
``pq.read_table`` do, 0.1 s on a cold start).

The conversions between numpy and Arrow that the rest of ggrs uses live here too,
for the same reason: :func:`numeric_view`, :func:`numpy_from_arrow` and
:func:`arrow_from_numpy` go through the arrays' buffers, without pandas.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.ipc as ipc

from ggrs import memory, tson
from ggrs.errors import DataError, UsageError

if TYPE_CHECKING:
    # Imported where a Parquet file is read: with pyarrow's file systems it costs
    # ~15 ms of every start, and the demo (CSV) and the operator (TSON) never use it.
    import pyarrow.parquet as pq

SUPPORTED_FORMATS = ("csv", "tsv", "parquet", "arrow", "arrow-stream", "tson")
"""Names accepted by ``read_table(format=...)``."""

_EXTENSIONS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".arrow": "arrow",
    ".feather": "arrow",
    ".ipc": "arrow",
    ".arrows": "arrow-stream",
    ".tson": "tson",
}
# pyarrow.csv decompresses these itself, chosen by the file name.
_COMPRESSED = (".gz", ".bz2", ".zst", ".lz4")

_TITLES = {
    "csv": "CSV",
    "tsv": "TSV",
    "parquet": "Parquet",
    "arrow": "Arrow IPC",
    "arrow-stream": "Arrow IPC stream",
    "tson": "TSON",
}
_PARQUET_MAGIC = b"PAR1"
_ARROW_FILE_MAGIC = b"ARROW1"
_FEATHER_V1_MAGIC = b"FEA1"
_STREAM_CONTINUATION = b"\xff\xff\xff\xff"
_TSON_MAGIC = b"\x011.1.0\x00"

_T = TypeVar("_T")

# Fixed-width numeric Arrow types read into contiguous numpy arrays, and their dtypes.
_NUMPY_TYPES = {
    pa.int8(): np.int8,
    pa.int16(): np.int16,
    pa.int32(): np.int32,
    pa.int64(): np.int64,
    pa.uint8(): np.uint8,
    pa.uint16(): np.uint16,
    pa.uint32(): np.uint32,
    pa.uint64(): np.uint64,
    pa.float32(): np.float32,
    pa.float64(): np.float64,
}


def read_table(
    path: str | Path,
    *,
    format: str | None = None,
    columns: Sequence[str] | None = None,
) -> pa.Table:
    """Reads a table file.

    Formats (from the extension, or ``format=``): ``csv`` (``.csv``, also ``.csv.gz`` etc.),
    ``tsv`` (``.tsv``, ``.tab``), ``parquet`` (``.parquet``, ``.pq``), ``arrow`` (``.arrow``,
    ``.feather``, ``.ipc``; an IPC file, or an IPC stream or Feather v1 file, told apart by
    their magic bytes), ``arrow-stream`` (``.arrows``), ``tson`` (``.tson``, a table in the
    form Tercen streams it). CSV/TSV column types are inferred (``".ci"``-style quoted
    headers are unquoted; integer columns become int64).

    Args:
        path: the file.
        format: one of :data:`SUPPORTED_FORMATS`; overrides the extension.
        columns: names to read, in the order wanted; ``None`` reads all.

    Returns:
        The table (only ``columns`` when given, in that order).

    Raises:
        UsageError: ``format`` is not a supported name, the extension names no format and
            ``format`` is not given, or ``columns`` is empty or repeats a name.
        DataError: the file is missing, empty, not in the format named, unparsable, or lacks
            a requested column (the message lists the available ones).
    """
    path = Path(path)
    fmt = _resolve_format(path, format)
    wanted = _check_columns(columns)
    if not path.exists():
        raise DataError(f"input file {path} does not exist")
    if not path.is_file():
        raise DataError(f"input path {path} is not a regular file")
    if path.stat().st_size == 0:
        what = "no header row" if fmt in ("csv", "tsv") else f"not {_a(_TITLES[fmt])} file"
        raise DataError(f"input file {path} is empty: {what}")
    with path.open("rb") as handle:
        head = handle.read(8)
    _check_magic(path, fmt, head)
    if fmt in ("csv", "tsv"):
        return _read_csv(path, fmt, wanted)
    if fmt == "parquet":
        return _read_parquet(path, wanted)
    if fmt == "tson":
        table = _read_tson(path)
    elif fmt == "arrow" and head.startswith(_FEATHER_V1_MAGIC):
        import pyarrow.feather as feather  # only Feather v1 files need it

        table = _wrap(path, fmt, lambda: feather.read_table(path, memory_map=True))
    elif fmt == "arrow" and head.startswith(_ARROW_FILE_MAGIC):
        return _read_arrow_file(path, wanted)
    else:
        table = _wrap(path, fmt, lambda: ipc.open_stream(pa.memory_map(str(path))).read_all())
    return _select(path, table, wanted)


def _resolve_format(path: Path, fmt: str | None) -> str:
    if fmt is not None:
        name = fmt.lower()
        if name not in SUPPORTED_FORMATS:
            raise UsageError(
                f"unknown table format {fmt!r}; use one of: {', '.join(SUPPORTED_FORMATS)}"
            )
        return name
    suffixes = [s.lower() for s in path.suffixes]
    if len(suffixes) >= 2 and suffixes[-1] in _COMPRESSED and suffixes[-2] in (".csv", ".tsv"):
        return _EXTENSIONS[suffixes[-2]]
    suffix = path.suffix.lower()
    if suffix not in _EXTENSIONS:
        raise UsageError(
            f"cannot tell the format of {path} from its extension {suffix or '(none)'!r}; "
            f"pass --format (one of: {', '.join(SUPPORTED_FORMATS)})"
        )
    return _EXTENSIONS[suffix]


def _check_columns(columns: Sequence[str] | None) -> list[str] | None:
    if columns is None:
        return None
    if isinstance(columns, str):
        raise UsageError(f"columns must be a list of names, not the string {columns!r}")
    wanted = list(columns)
    if not wanted:
        raise UsageError("columns is empty; pass None to read every column")
    repeated = sorted({name for name in wanted if wanted.count(name) > 1})
    if repeated:
        raise UsageError(f"columns names {repeated} more than once; name each column once")
    return wanted


def _sniff(head: bytes) -> str | None:
    """The binary format ``head`` starts with, if any (used to suggest --format)."""
    if head.startswith(_PARQUET_MAGIC):
        return "parquet"
    if head.startswith((_ARROW_FILE_MAGIC, _FEATHER_V1_MAGIC)):
        return "arrow"
    if head.startswith(_STREAM_CONTINUATION):
        return "arrow-stream"
    if head.startswith(_TSON_MAGIC):
        return "tson"
    return None


def _check_magic(path: Path, fmt: str, head: bytes) -> None:
    seen = _sniff(head)
    if fmt == "arrow" and seen in ("arrow", "arrow-stream"):
        return  # .arrow/.feather/.ipc hold either IPC flavour
    if seen == fmt or (seen is None and fmt in ("csv", "tsv")):
        return
    if fmt == "tson" and head[:1] == b"\x01":
        return  # a TSON header with another version: the decoder names the version
    looks = f"it looks like {_TITLES[seen]}" if seen else f"it starts with {head!r}"
    hint = f"pass --format {seen}" if seen else "pass --format to name its real format"
    raise DataError(f"{path} is not {_a(_TITLES[fmt])} file ({looks}); {hint}")


def _a(title: str) -> str:
    return f"an {title}" if title[0] in "AEIOU" else f"a {title}"


def _wrap(path: Path, fmt: str, read: Callable[[], _T]) -> _T:
    """Runs a pyarrow reader, turning its errors into one-line DataErrors."""
    try:
        return read()
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, OSError) as err:
        text = str(err).strip()
        if fmt in ("csv", "tsv") and "Empty CSV file" in text:
            raise DataError(f"input file {path} is empty: no header row") from None
        message = text.splitlines()[0] if text else type(err).__name__
        raise DataError(f"cannot read {path} as {_TITLES[fmt]}: {message}") from None


def _select(path: Path, table: pa.Table, wanted: list[str] | None) -> pa.Table:
    if wanted is None:
        return table
    _require(path, wanted, table.column_names)
    return table.select(wanted)


def _require(path: Path, wanted: list[str], available: list[str]) -> None:
    missing = [name for name in wanted if name not in available]
    if missing:
        raise DataError(
            f"{path} has no column {', '.join(map(repr, missing))}; "
            f"available columns: {', '.join(map(repr, available))}"
        )
    repeated = sorted({name for name in wanted if available.count(name) > 1})
    if repeated:
        raise DataError(
            f"{path} has more than one column named {', '.join(map(repr, repeated))}, so "
            "which one to plot is ambiguous; give the columns distinct names"
        )


def _read_csv(path: Path, fmt: str, wanted: list[str] | None) -> pa.Table:
    parse = pacsv.ParseOptions(delimiter="\t" if fmt == "tsv" else ",")
    read = pacsv.ReadOptions(use_threads=True)
    if wanted is not None:
        # pyarrow reports a missing include_column without listing the others: check first.
        header = _wrap(path, fmt, lambda: pacsv.open_csv(path, read, parse).schema)
        _require(path, wanted, header.names)
    convert = pacsv.ConvertOptions(include_columns=wanted)
    return _wrap(path, fmt, lambda: pacsv.read_csv(path, read, parse, convert))


def _read_parquet(path: Path, wanted: list[str] | None) -> pa.Table:
    parquet = _open_parquet(path, None, [])
    names = parquet.schema_arrow.names
    if wanted is not None:
        _require(path, wanted, names)
    columns = wanted if wanted is not None else names
    schema = pa.schema([parquet.schema_arrow.field(name) for name in columns])
    # Columns stored as Arrow dictionaries: naming them decodes the Parquet
    # dictionary pages straight into indices (about 3x faster than letting pyarrow
    # decode the values and then encode them again to match the schema).
    dictionaries = [f.name for f in schema if pa.types.is_dictionary(f.type)]
    n_rows = parquet.metadata.num_rows
    parallel = n_rows * _row_bytes(schema) < _PARALLEL_BELOW_BYTES
    pieces = _row_groups(path, parquet.metadata, columns, dictionaries, parallel)
    return _assemble(path, schema, n_rows, pieces)


# Tables smaller than this decode two row groups at once (~15 % faster on two
# cores, for one more decoded row group in memory); larger ones, whose peak is
# what matters, one at a time. The same line as ggrs.memory's between small and
# large tables.
_PARALLEL_BELOW_BYTES = memory.RELEASE_FROM_BYTES


def _row_bytes(schema: pa.Schema) -> int:
    """Bytes per row of the columns as read (dictionary columns: their indices;
    text and other variable-width columns: a rough 16)."""
    total = 0
    for field in schema:
        kind = field.type.index_type if pa.types.is_dictionary(field.type) else field.type
        total += np.dtype(_NUMPY_TYPES[kind]).itemsize if kind in _NUMPY_TYPES else 16
    return total


# Row groups between two returns of freed memory to the system (see _assemble).
_RELEASE_EVERY = 4


def _open_parquet(
    path: Path, metadata: pq.FileMetaData | None, dictionaries: list[str]
) -> pq.ParquetFile:
    import pyarrow.parquet as pq  # see the import at the top

    # memory_map=False: mapped pages would count in the resident set on top of the
    # decoded columns.
    return _wrap(
        path,
        "parquet",
        lambda: pq.ParquetFile(
            path, memory_map=False, metadata=metadata, read_dictionary=dictionaries or None
        ),
    )


def _row_groups(
    path: Path,
    metadata: pq.FileMetaData,
    columns: list[str],
    dictionaries: list[str],
    parallel: bool = False,
) -> Iterator[pa.Table | _RowGroup]:
    """The row groups of a Parquet file in order, one at a time.

    ``parallel`` (small tables, where time matters): whole, the next two decoded
    on two threads while the caller copies this one. Otherwise (large tables,
    where the peak memory matters): column by column as the caller asks, on its
    thread (:class:`_RowGroup`).
    """
    n = metadata.num_row_groups
    if not parallel:
        parquet = _open_parquet(path, metadata, dictionaries)
        for i in range(n):
            yield _RowGroup(path, parquet, i, metadata.row_group(i).num_rows)
        return
    if n < 2:
        parquet = _open_parquet(path, metadata, dictionaries)
        for i in range(n):
            yield _wrap(path, "parquet", lambda i=i: parquet.read_row_group(i, columns=columns))
        return

    from collections import deque  # here: a cold start reading CSV should not pay for them
    from concurrent.futures import ThreadPoolExecutor

    def read(i: int) -> pa.Table:
        # A handle per call: a ParquetFile must not be read from two threads.
        return _open_parquet(path, metadata, dictionaries).read_row_group(i, columns=columns)

    with ThreadPoolExecutor(2) as pool:
        pending = deque(pool.submit(read, i) for i in range(2))
        for i in range(n):
            piece = _wrap(path, "parquet", pending.popleft().result)
            if i + 2 < n:
                pending.append(pool.submit(read, i + 2))
            yield piece


class _RowGroup:
    """One row group of a Parquet file, each column decoded when it is asked for,
    on the calling thread.

    For large tables, where the peak is what matters: the caller copies a column
    and drops it before asking for the next, so one decoded column is alive at a
    time, not the whole row group; and decoding on this thread keeps the decoded
    buffers in this thread's allocator cache, which :func:`ggrs.memory.release_freed`
    empties (Arrow's worker threads keep caches of their own, ~40 MB at 5e7 rows
    that no release reaches). Together 40–50 MB off the peak of a 5e7-row read,
    for a slower decode (one core instead of two).
    """

    def __init__(self, path: Path, parquet: pq.ParquetFile, index: int, num_rows: int) -> None:
        self._path = path
        self._parquet = parquet
        self._index = index
        self.num_rows = num_rows

    def column(self, name: str) -> pa.ChunkedArray:
        """The decoded column ``name`` of this row group."""
        return _wrap(
            self._path,
            "parquet",
            lambda: self._parquet.read_row_group(
                self._index, columns=[name], use_threads=False
            ).column(0),
        )


def _read_arrow_file(path: Path, wanted: list[str] | None) -> pa.Table:
    source = pa.memory_map(str(path))
    reader = _wrap(path, "arrow", lambda: ipc.open_file(source))
    if wanted is not None:
        _require(path, wanted, reader.schema.names)
    if reader.num_record_batches == 1:
        # One batch: its (mapped) columns are contiguous already, nothing to copy.
        return _select(path, _wrap(path, "arrow", reader.read_all), wanted)
    # Several batches would be combined later (a second copy): read them one at a
    # time from an ordinary file into preallocated arrays instead, so that the
    # mapped pages do not add to the resident set either.
    source.close()
    reader = _wrap(path, "arrow", lambda: ipc.open_file(pa.OSFile(str(path))))
    columns = wanted if wanted is not None else reader.schema.names
    schema = pa.schema([reader.schema.field(name) for name in columns])
    batches = (
        pa.Table.from_batches([_wrap(path, "arrow", lambda i=i: reader.get_batch(i))]).select(
            columns
        )
        for i in range(reader.num_record_batches)
    )
    # count_rows reads only the batches' metadata.
    return _assemble(path, schema, _wrap(path, "arrow", reader.count_rows), batches)


def _assemble(
    path: Path, schema: pa.Schema, n_rows: int, pieces: Iterable[pa.Table | _RowGroup]
) -> pa.Table:
    """One table from consecutive row ranges.

    Each fixed-width numeric column is copied into one preallocated array (zero-copy
    wrapped, a single chunk). So are the indices of a dictionary column whose pieces
    all carry the same dictionary (the usual case: Parquet and IPC writers repeat it),
    which then becomes one dictionary array; factors use those indices as codes
    without another pass. Other columns keep the pieces' chunks.
    """
    dense = {
        field.name: np.empty(n_rows, dtype=_NUMPY_TYPES[field.type])
        for field in schema
        if field.type in _NUMPY_TYPES
    }
    # Dictionary columns: their indices go to `dense` while the dictionaries agree.
    shared: dict[str, pa.Array] = {}
    index_types = {
        f.name: f.type.index_type
        for f in schema
        if pa.types.is_dictionary(f.type) and f.type.index_type in _NUMPY_TYPES
    }
    for name, kind in index_types.items():
        dense[name] = np.empty(n_rows, dtype=_NUMPY_TYPES[kind])
    valid: dict[str, np.ndarray] = {}  # only for columns with nulls
    chunks: dict[str, list[pa.Array]] = {f.name: [] for f in schema if f.name not in dense}
    # Large tables hand freed memory back as they go (see ggrs.memory).
    large = sum(column.nbytes for column in dense.values()) >= memory.RELEASE_FROM_BYTES
    start = pieces_done = 0
    for piece in pieces:
        for name in list(dense):
            column = piece.column(name)
            if name in index_types and not _same_dictionary(shared, name, column, dense[name]):
                # Dictionaries differ: this column keeps chunks from here on (this
                # piece's are added below).
                chunks[name] = _dictionary_chunks(
                    dense.pop(name), valid.pop(name, None), shared.pop(name, None), start
                )
                continue
            at = start
            for chunk in column.chunks:
                stop = at + len(chunk)
                values = chunk.indices if name in index_types else chunk
                dense[name][at:stop] = _values(values)
                if chunk.null_count:
                    if name not in valid:
                        valid[name] = np.ones(n_rows, dtype=bool)
                    valid[name][at:stop] = _validity(values)
                at = stop
            # Drop the decoded column before the next one is decoded (see _RowGroup).
            column = chunk = values = None
        for name, parts in chunks.items():
            if name not in dense:
                # (Parquet's dictionary reader returns int32 indices whatever the
                # schema says: cast them back to the schema's type.)
                kind = schema.field(name).type
                parts.extend(
                    c if c.type == kind else c.cast(kind) for c in piece.column(name).chunks
                )
        start += piece.num_rows
        del piece  # free the piece's decoded columns before the next one is read
        pieces_done += 1
        if large and pieces_done % _RELEASE_EVERY == 0:
            # Now and then, not after every piece: each call costs ~2 ms. Arrow's
            # allocator would keep the freed pages resident next to the growing columns.
            pa.default_memory_pool().release_unused()
    if start != n_rows:
        raise DataError(f"cannot read {path}: its footer promises {n_rows} rows, it holds {start}")
    if large:
        # The decoded pieces are garbage: their pages go back before the caller's
        # next steps allocate on top of them (12 MB lower peak at 5e7 rows).
        memory.release_freed()
    arrays = []
    for field in schema:
        name = field.name
        if name in index_types and name in dense:
            indices = arrow_from_numpy(dense[name], valid.get(name))
            dictionary = shared.get(name, pa.array([], type=field.type.value_type))
            # safe=False: the reader produced valid indices into this very dictionary;
            # checking again would cost a pass over the rows.
            arrays.append(
                pa.chunked_array(
                    [pa.DictionaryArray.from_arrays(indices, dictionary, safe=False)],
                    type=field.type,
                )
            )
        elif name in dense:
            arrays.append(arrow_from_numpy(dense[name], valid.get(name)))
        else:
            arrays.append(pa.chunked_array(chunks[name], type=field.type))
    return pa.Table.from_arrays(arrays, schema=schema)


def _same_dictionary(
    shared: dict[str, pa.Array], name: str, column: pa.ChunkedArray, indices: np.ndarray
) -> bool:
    """Whether every chunk of `column` has the dictionary seen so far (the first one seen
    becomes it), and that dictionary's indices fit the schema's index type."""
    for chunk in column.chunks:
        if len(chunk.dictionary) > np.iinfo(indices.dtype).max + 1:
            return False
        if name not in shared:
            shared[name] = chunk.dictionary
        elif chunk.dictionary is not shared[name] and not chunk.dictionary.equals(shared[name]):
            return False
    return True


def _dictionary_chunks(
    indices: np.ndarray, valid: np.ndarray | None, dictionary: pa.Array | None, n_rows: int
) -> list[pa.Array]:
    """The first `n_rows` rows of a dictionary column as one chunk (their indices are
    copied: the preallocated array is dropped)."""
    if n_rows == 0:
        return []
    part = arrow_from_numpy(indices[:n_rows].copy(), None if valid is None else valid[:n_rows])
    return [pa.DictionaryArray.from_arrays(part, dictionary, safe=False)]


def _values(chunk: pa.Array) -> np.ndarray:
    """The value buffer of a fixed-width numeric array as numpy (no copy, no pandas);
    slots under nulls hold whatever the buffer holds."""
    dtype = np.dtype(_NUMPY_TYPES[chunk.type])
    data = chunk.buffers()[1]
    if data is None:  # all-null arrays may have no value buffer
        return np.zeros(len(chunk), dtype=dtype)
    return np.frombuffer(data, dtype=dtype, count=len(chunk), offset=chunk.offset * dtype.itemsize)


def _validity(chunk: pa.Array) -> np.ndarray:
    """Which entries of `chunk` are not null, as a bool array."""
    bitmap = chunk.buffers()[0]
    if bitmap is None:
        return np.zeros(len(chunk), dtype=bool) if chunk.null_count else np.ones(len(chunk), bool)
    bits = np.unpackbits(np.frombuffer(bitmap, dtype=np.uint8), bitorder="little")
    return bits[chunk.offset : chunk.offset + len(chunk)].astype(bool)


def numeric_view(array: pa.Array | pa.ChunkedArray) -> np.ndarray | None:
    """A numpy view of a null-free, single-chunk, fixed-width numeric column, or None
    when the column is not one (it then needs converting). Never imports pandas.

    The view starts at the array's offset, so a slice gives its own values. Columns
    of other types (bool, whose values are bit-packed; float16; text; dictionaries)
    and columns with nulls or several chunks give None.

    Args:
        array: an Arrow array or chunked array.

    Returns:
        The values without a copy (shares memory with `array`), or None.
    """
    if isinstance(array, pa.ChunkedArray):
        if array.num_chunks != 1:
            return None
        array = array.chunk(0)
    if array.type not in _NUMPY_TYPES or array.null_count:
        return None
    return _values(array)


def numpy_from_arrow(array: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """An Arrow array or column as numpy, without a copy where :func:`numeric_view`
    gives one (a null-free, single-chunk, fixed-width numeric column, sliced or not).

    pyarrow's ``to_numpy`` imports pandas (0.1-0.4 s of a cold start) and copies
    even columns whose buffer numpy could use as it is, so it runs only for the
    rest: columns with nulls (floats then hold NaN there; integers become float64
    with NaN; bools become an object array with None), several chunks (joined,
    a copy), bools (unpacked from their bits), float16, text and dictionaries.
    Callers that must stay pandas-free hand over null-free numbers only.

    Args:
        array: an Arrow array or chunked array.

    Returns:
        The values; shares memory with `array` when it is a numeric view.
    """
    view = numeric_view(array)
    return view if view is not None else array.to_numpy(zero_copy_only=False)


def arrow_from_numpy(values: np.ndarray, validity: np.ndarray | None = None) -> pa.Array:
    """An Arrow array over a 1-D numpy array of numbers or bools, without pandas.

    pyarrow's ``pa.array(ndarray)`` imports pandas (to check for pandas inputs):
    0.1-0.4 s of a cold start. This builds the array from its buffers instead, and
    shares `values`' memory (no copy) when it can: a contiguous, aligned,
    native-byte-order array of a fixed-width number type (float16 included). A
    strided, misaligned or byte-swapped array is copied first (Arrow expects
    dense, aligned values), and a bool array is packed into bits (Arrow's bool
    layout; 1/8 of its size). The Arrow type is the dtype's
    (``pa.from_numpy_dtype``).

    Args:
        values: the values, 1-D, of kind bool, int, uint or float.
        validity: None for no nulls, or one bool per value, False where the value
            is null (the value's slot is kept, Arrow ignores it). It is packed into
            Arrow's validity bitmap (a copy of 1/8 of its size).

    Returns:
        The Arrow array, len(values) long.

    Raises:
        UsageError: `values` is not 1-D or not numbers or bools, or `validity` is
            not a bool array of the same length.
    """
    if values.ndim != 1 or values.dtype.kind not in "biuf":
        raise UsageError(
            f"arrow_from_numpy takes a 1-D array of numbers or bools; got dtype "
            f"{values.dtype}, shape {values.shape}"
        )
    bitmap, nulls = None, 0
    if validity is not None:
        if validity.dtype != np.bool_ or validity.shape != values.shape:
            raise UsageError(
                f"validity must be a bool array of shape {values.shape} (one per value); "
                f"got dtype {validity.dtype}, shape {validity.shape}"
            )
        nulls = len(validity) - int(np.count_nonzero(validity))
        bitmap = pa.py_buffer(np.packbits(validity, bitorder="little"))
    if not values.dtype.isnative:
        values = values.astype(values.dtype.newbyteorder("="))
    if values.dtype.kind == "b":
        data = np.packbits(values, bitorder="little")
    elif values.ctypes.data % values.dtype.itemsize:
        data = values.copy()  # numpy allocates aligned memory
    else:
        data = np.ascontiguousarray(values)
    kind = pa.from_numpy_dtype(values.dtype)
    return pa.Array.from_buffers(kind, len(values), [bitmap, pa.py_buffer(data)], nulls)


def _read_tson(path: Path) -> pa.Table:
    try:
        return tson.table_from_tson(path.read_bytes())
    except DataError as err:
        raise type(err)(f"cannot read {path} as TSON: {err}") from None
