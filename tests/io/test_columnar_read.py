"""Parquet and multi-batch Arrow IPC files are read into one contiguous array per
numeric column: values, nulls and factor columns survive, nothing is copied twice,
and pandas is never imported."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq
import pytest

from ggrs import pipeline
from ggrs.io import numeric_view, read_table

N = 1000
TABLE = pa.table(
    {
        "x": pa.array(np.linspace(-1, 1, N, dtype=np.float32)),
        "y": pa.array([None if i % 97 == 0 else float(i) for i in range(N)], pa.float64()),
        "n": pa.array(np.arange(N, dtype=np.int64)),
        "u8": pa.array((np.arange(N) % 7).astype(np.uint8)),
        "cat": pa.array([f"c{i % 5}" for i in range(N)]).dictionary_encode(),
        "text": pa.array([f"t{i % 3}" for i in range(N)]),
    }
)


def _write_parquet(table: pa.Table, path: Path) -> None:
    pq.write_table(table, path, row_group_size=128)  # 8 row groups, the last one short


def _write_ipc_batches(table: pa.Table, path: Path) -> None:
    with ipc.new_file(path, table.schema) as writer:
        writer.write_table(table, max_chunksize=300)


@pytest.mark.parametrize(
    ("name", "writer"), [("t.parquet", _write_parquet), ("t.arrow", _write_ipc_batches)]
)
def test_values_nulls_and_factors_survive(tmp_path, name, writer):
    path = tmp_path / name
    writer(TABLE, path)
    table = read_table(path)
    assert table.equals(TABLE.combine_chunks()) or table.to_pylist() == TABLE.to_pylist()
    assert table.schema.names == TABLE.schema.names
    for column in ("x", "y", "n", "u8"):  # numeric: one contiguous chunk
        assert table.column(column).num_chunks == 1
    assert table.column("y").null_count == TABLE.column("y").null_count
    assert pa.types.is_dictionary(table.column("cat").type)


@pytest.mark.parametrize(
    ("name", "writer"), [("t.parquet", _write_parquet), ("t.arrow", _write_ipc_batches)]
)
def test_selected_columns_in_order(tmp_path, name, writer):
    path = tmp_path / name
    writer(TABLE, path)
    table = read_table(path, columns=["cat", "x"])
    assert table.column_names == ["cat", "x"]
    assert table.to_pylist() == TABLE.select(["cat", "x"]).to_pylist()


def test_prepare_gets_numeric_columns_without_a_copy(tmp_path):
    path = tmp_path / "t.parquet"
    _write_parquet(TABLE, path)
    table = read_table(path, columns=["x", "n"])
    view = numeric_view(table.column("x"))
    assert view is not None and view.dtype == np.float32
    plot = pipeline.prepare(table, pipeline.Aesthetics(x="x", y="x"))
    assert np.shares_memory(plot.x, view) and np.shares_memory(plot.y, view)
    assert numeric_view(table.column("n")) is not None  # ints are wrapped too
    assert numeric_view(pa.chunked_array([[1.0], [2.0]])) is None  # two chunks
    assert numeric_view(pa.chunked_array([[1.0, None]])) is None  # nulls


def test_empty_parquet_table_keeps_its_schema(tmp_path):
    path = tmp_path / "empty.parquet"
    pq.write_table(TABLE.slice(0, 0), path)
    table = read_table(path, columns=["x", "cat"])
    assert table.num_rows == 0
    assert table.schema.field("x").type == pa.float32()


def test_reading_preparing_and_converting_do_not_import_pandas(tmp_path):
    # Null-free numbers (the usual input; filling nulls with NaN still goes through
    # pyarrow scalars, which import pandas), and the numpy/Arrow conversions.
    plain = TABLE.select(["x", "n"]).rename_columns(["x", "y"])
    path = tmp_path / "t.parquet"
    _write_parquet(plain, path)
    arrow = tmp_path / "t.arrow"
    _write_ipc_batches(plain, arrow)
    code = (
        "import sys\n"
        "from ggrs import io, pipeline\n"
        "for p in sys.argv[1:]:\n"
        "    t = io.read_table(p, columns=['x', 'y'])\n"
        "    pipeline.prepare(t, pipeline.Aesthetics(x='x', y='y'))\n"
        "import numpy as np\n"
        "a = io.arrow_from_numpy(np.arange(5, dtype=np.int32), np.ones(5, dtype=bool))\n"
        "io.numpy_from_arrow(io.arrow_from_numpy(np.linspace(0, 1, 5)).slice(1))\n"
        "io.numpy_from_arrow(a.slice(2)), io.arrow_from_numpy(np.array([True, False]))\n"
        "print('pandas' in sys.modules)\n"
    )
    root = Path(__file__).absolute().parents[2]
    result = subprocess.run(
        [sys.executable, "-c", code, str(path), str(arrow)],
        capture_output=True,
        text=True,
        check=True,
        cwd=root,
        env={"PYTHONPATH": ":".join([str(root), *sys.path])},
    )
    assert result.stdout.strip() == "False"
