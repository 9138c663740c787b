"""Tests of ggrs.io.read_table: every format, column selection, and the error messages."""

from __future__ import annotations

import gzip
from importlib import resources
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.feather as feather
import pyarrow.ipc as ipc
import pyarrow.parquet as pq
import pytest

from ggrs import tson
from ggrs.errors import DataError, UsageError
from ggrs.io import SUPPORTED_FORMATS, read_table

# Not resolve(): under Bazel the runfiles tree, not the symlink targets, holds the data files.
CRABS = Path(str(resources.files("ggrs") / "data" / "crabs_long.csv"))
PROJECTION = Path(__file__).absolute().parents[1] / "data" / "projection_sample.csv"

TABLE = pa.table(
    {
        ".ci": pa.array([0, 1, 2], pa.int64()),
        ".y": pa.array([0.5, -1.25, 3.0], pa.float64()),
        "label": pa.array(["µg/mL", "Zürich", "a,b"]),
    }
)


def _write_csv(table: pa.Table, path: Path, delimiter: str = ",") -> None:
    pacsv.write_csv(table, path, pacsv.WriteOptions(delimiter=delimiter))


def _write_ipc_file(table: pa.Table, path: Path) -> None:
    with ipc.new_file(path, table.schema) as writer:
        writer.write_table(table)


def _write_ipc_stream(table: pa.Table, path: Path) -> None:
    with ipc.new_stream(path, table.schema) as writer:
        writer.write_table(table)


WRITERS = {
    "data.csv": _write_csv,
    "data.tsv": lambda table, path: _write_csv(table, path, "\t"),
    "data.parquet": pq.write_table,
    "data.pq": pq.write_table,
    "data.arrow": _write_ipc_file,
    "data.feather": lambda table, path: feather.write_feather(table, path),
    "data.ipc": _write_ipc_file,
    "stream.arrow": _write_ipc_stream,
    "data.arrows": _write_ipc_stream,
    "data.tson": lambda table, path: path.write_bytes(tson.table_to_tson(table)),
}


@pytest.mark.parametrize("name", sorted(WRITERS))
def test_each_format_round_trips(tmp_path, name):
    path = tmp_path / name
    WRITERS[name](TABLE, path)
    assert read_table(path).equals(TABLE)


@pytest.mark.parametrize("name", sorted(WRITERS))
def test_each_format_reads_selected_columns_in_requested_order(tmp_path, name):
    path = tmp_path / name
    WRITERS[name](TABLE, path)
    assert read_table(str(path), columns=["label", ".ci"]).equals(TABLE.select(["label", ".ci"]))


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("data.txt", "csv"),
        ("data.bin", "parquet"),
        ("data.bin", "arrow"),
        ("data.bin", "arrow-stream"),
        ("data.bin", "tson"),
        ("data.dat", "TSV"),
    ],
)
def test_format_argument_overrides_the_extension(tmp_path, name, fmt):
    writer = {
        "csv": "data.csv",
        "parquet": "data.parquet",
        "arrow": "data.arrow",
        "arrow-stream": "data.arrows",
        "tson": "data.tson",
        "TSV": "data.tsv",
    }[fmt]
    path = tmp_path / name
    WRITERS[writer](TABLE, path)
    assert read_table(path, format=fmt).equals(TABLE)


def test_gzipped_csv(tmp_path):
    plain = tmp_path / "plain.csv"
    _write_csv(TABLE, plain)
    packed = tmp_path / "data.csv.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    assert read_table(packed).equals(TABLE)


def test_supported_formats_constant():
    assert SUPPORTED_FORMATS == ("csv", "tsv", "parquet", "arrow", "arrow-stream", "tson")


# ------------------------------------------------------------------------------ sample files


def test_crabs_csv():
    table = read_table(CRABS)
    assert table.num_rows == 1000
    assert table.schema == pa.schema(
        [
            ("observation", pa.int64()),
            ("color", pa.string()),
            ("sex", pa.string()),
            ("variable", pa.string()),
            ("measurement", pa.float64()),
            ("filename", pa.string()),
            (".ci", pa.int64()),
            ("filename_of_zip", pa.string()),
        ]
    )
    assert table["observation"][0].as_py() == 1 and table["color"][0].as_py() == "Blue"


def test_projection_sample_quoted_headers_and_integer_indices():
    table = read_table(PROJECTION)
    assert table.num_rows == 4772
    assert table.column_names[:2] == [".ci", ".y"] and "Facility.Name" in table.column_names
    for name in (".ci", ".ri", ".xs", ".ys"):
        assert pa.types.is_integer(table[name].type), name
    assert table["Facility.Name"][1].as_py() == "Children's Hospital Of Alabama"


def test_projection_sample_column_selection():
    table = read_table(PROJECTION, columns=[".ys", ".xs", ".ci", ".ri"])
    assert table.column_names == [".ys", ".xs", ".ci", ".ri"]
    assert table.num_rows == 4772
    assert table[".xs"][:2].to_pylist() == [38, 115]


# ---------------------------------------------------------------------------------- errors


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match=r"nope\.csv does not exist"):
        read_table(tmp_path / "nope.csv")


def test_directory_is_not_a_file(tmp_path):
    folder = tmp_path / "dir.csv"
    folder.mkdir()
    with pytest.raises(DataError, match="not a regular file"):
        read_table(folder)


@pytest.mark.parametrize("content", [b"", b"\n"])
def test_empty_csv(tmp_path, content):
    path = tmp_path / "empty.csv"
    path.write_bytes(content)
    with pytest.raises(DataError, match=r"is empty: no header row"):
        read_table(path)


def test_empty_parquet(tmp_path):
    path = tmp_path / "empty.parquet"
    path.write_bytes(b"")
    with pytest.raises(DataError, match="is empty: not a Parquet file"):
        read_table(path)


def test_header_only_csv_is_an_empty_table(tmp_path):
    path = tmp_path / "header.csv"
    path.write_text('".ci","x"\n')
    table = read_table(path)
    assert table.column_names == [".ci", "x"] and table.num_rows == 0


def test_csv_named_parquet(tmp_path):
    path = tmp_path / "data.parquet"
    _write_csv(TABLE, path)
    with pytest.raises(DataError) as info:
        read_table(path)
    message = str(info.value)
    assert "is not a Parquet file" in message and "--format" in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("writer", "name", "words"),
    [
        ("data.parquet", "data.csv", "looks like Parquet); pass --format parquet"),
        ("data.arrow", "data.parquet", "looks like Arrow IPC); pass --format arrow"),
        ("data.parquet", "data.arrow", "is not an Arrow IPC file"),
        ("data.arrows", "data.tson", "pass --format arrow-stream"),
        ("data.tson", "data.arrows", "pass --format tson"),
    ],
)
def test_file_content_does_not_match_its_name(tmp_path, writer, name, words):
    path = tmp_path / name
    WRITERS[writer](TABLE, path)
    with pytest.raises(DataError) as info:
        read_table(path)
    assert words in str(info.value)


def test_truncated_parquet(tmp_path):
    path = tmp_path / "cut.parquet"
    pq.write_table(TABLE, path)
    path.write_bytes(path.read_bytes()[:20])
    with pytest.raises(DataError, match=r"cannot read .*cut\.parquet as Parquet"):
        read_table(path)


def test_corrupt_tson(tmp_path):
    path = tmp_path / "cut.tson"
    path.write_bytes(tson.table_to_tson(TABLE)[:-3])
    with pytest.raises(tson.TsonDecodeError, match=r"cut\.tson as TSON: invalid TSON at byte"):
        read_table(path)


def test_ragged_csv(tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text("a,b\n1,2\n3\n")
    with pytest.raises(DataError, match=r"cannot read .*ragged\.csv as CSV: .*columns"):
        read_table(path)


@pytest.mark.parametrize("name", sorted(WRITERS))
def test_missing_columns_list_available_ones(tmp_path, name):
    path = tmp_path / name
    WRITERS[name](TABLE, path)
    with pytest.raises(DataError) as info:
        read_table(path, columns=[".ci", ".ri", ".xs"])
    message = str(info.value)
    assert "no column '.ri', '.xs'" in message
    assert "available columns: '.ci', '.y', 'label'" in message


def test_a_wanted_column_named_twice_is_ambiguous(tmp_path):
    path = tmp_path / "twice.csv"
    path.write_text("a,b,a\n1,2,3\n")
    with pytest.raises(DataError, match=r"more than one column named 'a', so which one"):
        read_table(path, columns=["a", "b"])
    assert read_table(path, columns=["b"]).column("b").to_pylist() == [2]


def test_unknown_format_name(tmp_path):
    with pytest.raises(UsageError) as info:
        read_table(tmp_path / "x.csv", format="excel")
    assert "'excel'" in str(info.value)
    assert all(name in str(info.value) for name in SUPPORTED_FORMATS)


def test_unknown_extension(tmp_path):
    path = tmp_path / "data.xlsx"
    path.write_bytes(b"x")
    with pytest.raises(UsageError, match=r"'\.xlsx'.*--format"):
        read_table(path)


@pytest.mark.parametrize(
    ("columns", "words"),
    [([], "columns is empty"), (["a", "a"], "['a'] more than once"), ("a", "not the string")],
)
def test_bad_column_arguments(tmp_path, columns, words):
    path = tmp_path / "data.csv"
    _write_csv(TABLE, path)
    with pytest.raises(UsageError) as info:
        read_table(path, columns=columns)
    assert words in str(info.value)
