"""Parquet dictionary columns: one contiguous chunk of indices when the row groups
share their dictionary (so factors can use the indices as codes), chunks otherwise;
values and nulls survive either way."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ggrs import io, memory
from ggrs.errors import DataError
from ggrs.io import read_table
from ggrs.panels import column_factor

LEVELS = pa.array(["a", "b", "c"])
DICT = pa.dictionary(pa.int8(), pa.string())


def _write(path, groups):
    schema = pa.schema([("x", pa.float32()), ("k", DICT)])
    with pq.ParquetWriter(path, schema) as writer:
        for indices, dictionary in groups:
            column = pa.DictionaryArray.from_arrays(pa.array(indices, pa.int8()), dictionary)
            x = pa.array(np.arange(len(indices), dtype=np.float32))
            writer.write_table(pa.Table.from_arrays([x, column], schema=schema))


@pytest.mark.parametrize("release_every", [1, 4])
def test_shared_dictionary_becomes_one_chunk_of_indices(tmp_path, monkeypatch, release_every):
    # As a large table (one decoded column at a time, freed memory released as
    # the read goes) and as a small one.
    monkeypatch.setattr(io, "_RELEASE_EVERY", release_every)
    monkeypatch.setattr(memory, "RELEASE_FROM_BYTES", 0 if release_every == 1 else 1 << 40)
    monkeypatch.setattr(io, "_PARALLEL_BELOW_BYTES", 0 if release_every == 1 else 1 << 40)
    path = tmp_path / "t.parquet"
    groups = [([0, 1, None], LEVELS), ([2, 2], LEVELS), ([1], LEVELS), ([0, 2], LEVELS)]
    _write(path, groups)
    column = read_table(path, columns=["k"]).column("k")
    assert column.type == DICT and column.num_chunks == 1
    assert column.to_pylist() == ["a", "b", None, "c", "c", "b", "a", "c"]
    assert column.null_count == 1
    factor = column_factor(column)
    assert factor.labels == ("a", "b", "c", "NA")
    assert factor.codes.tolist() == [0, 1, 3, 2, 2, 1, 0, 2]


def test_null_free_shared_dictionary_codes_are_the_file_indices(tmp_path):
    path = tmp_path / "t.parquet"
    _write(path, [([0, 1, 1], LEVELS), ([2, 0], LEVELS)])
    column = read_table(path).column("k")
    factor = column_factor(column)
    indices = column.chunk(0).indices
    assert np.shares_memory(factor.codes, np.frombuffer(indices.buffers()[1], np.int8))
    assert factor.codes.tolist() == [0, 1, 1, 2, 0]


def test_row_groups_with_different_dictionaries_stay_chunked(tmp_path):
    path = tmp_path / "t.parquet"
    other = pa.array(["c", "z"])
    _write(path, [([0, 1, None], LEVELS), ([1, 0], other), ([0], LEVELS)])
    table = read_table(path)
    column = table.column("k")
    assert column.to_pylist() == ["a", "b", None, "z", "c", "a"]
    assert column.num_chunks >= 2
    assert table.column("x").num_chunks == 1
    factor = column_factor(column)
    assert factor.labels == ("a", "b", "c", "z", "NA")
    assert factor.codes.tolist() == [0, 1, 4, 3, 2, 0]


def test_unreadable_row_group_is_a_data_error(tmp_path):
    path = tmp_path / "t.parquet"
    _write(path, [([0, 1], LEVELS), ([2], LEVELS), ([1], LEVELS)])
    data = bytearray(path.read_bytes())
    # Scribble over the middle of the file (the column chunks), keep the footer.
    middle = len(data) // 3
    data[middle : middle + 40] = b"\xff" * 40
    path.write_bytes(bytes(data))
    with pytest.raises(Exception) as caught:
        read_table(path)
    assert type(caught.value).__name__ == "DataError"
    assert str(caught.value).startswith(f"cannot read {path} as Parquet")


def test_a_first_dictionary_too_long_for_its_index_type_still_reads(tmp_path):
    # int8 indices but 200 dictionary entries: the shared-dictionary path cannot
    # start, so the column keeps its chunks (it used to raise a bare KeyError).
    words = pa.array([f"v{i:03d}" for i in range(200)])
    column = pa.DictionaryArray.from_arrays(pa.array([0, 127], pa.int8()), words)
    schema = pa.schema([("x", pa.float32()), ("k", pa.dictionary(pa.int8(), pa.string()))])
    table = pa.Table.from_arrays([pa.array(np.zeros(2, np.float32)), column], schema=schema)
    path = tmp_path / "big_first.parquet"
    pq.write_table(table, path)
    assert read_table(path).column("k").to_pylist() == ["v000", "v127"]


def test_nulls_inside_a_dictionary_become_the_na_level():
    column = pa.DictionaryArray.from_arrays(pa.array([0, 1, 0], pa.int32()), pa.array(["a", None]))
    factor = column_factor(column, "c")
    assert factor.labels == ("a", "NA")
    assert factor.codes.tolist() == [0, 1, 0]


def test_row_groups_decoded_in_parallel_or_one_at_a_time_give_the_same_table(tmp_path, monkeypatch):
    path = tmp_path / "t.parquet"
    rng = np.random.default_rng(7)
    groups = [(rng.integers(0, 3, int(rng.integers(1, 50))).tolist(), LEVELS) for _ in range(9)]
    _write(path, groups)
    decoded = []
    original = io._row_groups

    def spy(*args):
        decoded.append(args[-1])  # the parallel flag
        return original(*args)

    monkeypatch.setattr(io, "_row_groups", spy)
    parallel = read_table(path)
    monkeypatch.setattr(io, "_PARALLEL_BELOW_BYTES", 0)
    sequential = read_table(path)
    assert decoded == [True, False]
    assert parallel.equals(sequential)
    assert parallel.column("k").to_pylist() == [LEVELS[i].as_py() for g, _ in groups for i in g]
    assert parallel.column("x").to_pylist() == [float(i) for g, _ in groups for i in range(len(g))]


def test_a_damaged_row_group_read_on_a_worker_thread_is_a_data_error(tmp_path, monkeypatch):
    path = tmp_path / "t.parquet"
    _write(path, [([0, 1], LEVELS)] * 4)

    def broken(self, i, columns=None, **kwargs):
        if i == 2:
            raise pa.ArrowInvalid("Corrupt snappy compressed data.")
        return original(self, i, columns=columns, **kwargs)

    original = pq.ParquetFile.read_row_group
    monkeypatch.setattr(pq.ParquetFile, "read_row_group", broken)
    with pytest.raises(DataError, match=r"t.parquet.*Corrupt snappy"):
        read_table(path)


def test_large_tables_decode_one_column_at_a_time_on_the_calling_thread(tmp_path, monkeypatch):
    # The peak of a large read: one decoded column alive, in this thread's
    # allocator cache (see io._RowGroup).
    path = tmp_path / "t.parquet"
    _write(path, [([0, 1], LEVELS), ([2], LEVELS)])
    monkeypatch.setattr(io, "_PARALLEL_BELOW_BYTES", 0)
    calls = []
    original = pq.ParquetFile.read_row_group

    def spy(self, i, columns=None, use_threads=True, **kwargs):
        calls.append((i, tuple(columns), use_threads))
        return original(self, i, columns=columns, use_threads=use_threads, **kwargs)

    monkeypatch.setattr(pq.ParquetFile, "read_row_group", spy)
    table = read_table(path, columns=["k", "x"])
    assert sorted(calls) == [
        (0, ("k",), False),
        (0, ("x",), False),
        (1, ("k",), False),
        (1, ("x",), False),
    ]
    assert table.column("k").to_pylist() == ["a", "b", "c"]
