"""Factors for facets, pages and categories: codes and sorted labels."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from ggrs import panels
from ggrs.errors import DataError
from ggrs.panels import code_dtype, column_factor, combine, table_factor


def test_text_levels_sorted_and_missing_last():
    factor = column_factor(pa.array(["b", "a", None, "b"]), "k")
    assert factor.labels == ("a", "b", "NA")
    np.testing.assert_array_equal(factor.codes, [1, 0, 2, 1])
    assert factor.codes.dtype == np.int8  # the narrowest type for 3 levels
    assert factor.names == ("k",)


def test_numbers_sort_numerically_and_nan_is_missing():
    factor = column_factor(pa.array([10.0, 2.0, float("nan"), 2.5]))
    assert factor.labels == ("2", "2.5", "10", "NA")
    np.testing.assert_array_equal(factor.codes, [2, 0, 3, 1])


def test_dictionary_column_reuses_its_encoding():
    plain = pa.array(["z", "x", "y", "x", None])
    encoded = column_factor(plain.dictionary_encode())
    direct = column_factor(plain)
    assert encoded.labels == direct.labels == ("x", "y", "z", "NA")
    np.testing.assert_array_equal(encoded.codes, direct.codes)


def test_chunked_dictionaries_with_different_dictionaries():
    chunks = pa.chunked_array(
        [pa.array(["b", "a"]).dictionary_encode(), pa.array(["c", "b"]).dictionary_encode()]
    )
    factor = column_factor(chunks)
    assert factor.labels == ("a", "b", "c")
    np.testing.assert_array_equal(factor.codes, [1, 0, 2, 1])


def test_combine_keeps_present_combinations_in_order():
    table = pa.table({"sex": ["M", "F", "M", "F"], "v": ["FL", "CW", "CW", "CW"]})
    factor = table_factor(table, ["sex", "v"])
    assert factor.labels == ("F, CW", "M, CW", "M, FL")
    np.testing.assert_array_equal(factor.codes, [2, 0, 1, 0])
    pages = table_factor(table, ["sex", "v"], separator="_")
    assert pages.labels == ("F_CW", "M_CW", "M_FL")


def test_combine_matches_numpy_unique_on_random_data():
    rng = np.random.default_rng(7)
    a, b = rng.integers(0, 5, 1000), rng.integers(0, 3, 1000)
    factor = table_factor(pa.table({"a": a, "b": b}), ["a", "b"])
    expected_keys, expected_codes = np.unique(a * 3 + b, return_inverse=True)
    np.testing.assert_array_equal(factor.codes, expected_codes)
    assert len(factor.labels) == len(expected_keys)


def test_no_columns_is_one_level():
    factor = table_factor(pa.table({"a": [1, 2, 3]}), [])
    assert factor.labels == ("",)
    np.testing.assert_array_equal(factor.codes, [0, 0, 0])


def test_empty_column_still_has_a_level():
    assert column_factor(pa.array([], pa.string())).labels == ("",)


def test_combine_needs_factors():
    with pytest.raises(ValueError):
        combine([])


@pytest.mark.parametrize("dtype", ["int8", "uint16", "int32", "int64"])
def test_counted_integer_levels_match_hashed_levels(dtype):
    rng = np.random.default_rng(1)
    info = np.iinfo(dtype)
    values = rng.integers(max(info.min, -100), min(info.max, 100), 500).astype(dtype)
    values[:2] = (info.min, info.max) if dtype != "int64" else (-5, 7)
    counted = column_factor(pa.array(values))
    hashed = column_factor(pa.array(values.astype(float)))  # floats take the hashing path
    assert counted.labels == hashed.labels
    np.testing.assert_array_equal(counted.codes, hashed.codes)


def test_wide_integer_span_still_encodes():
    factor = column_factor(pa.array([10**12, 3, 10**12]))
    assert factor.labels == ("3", "1000000000000")
    np.testing.assert_array_equal(factor.codes, [1, 0, 1])


def test_unused_dictionary_entries_are_not_levels():
    column = pa.DictionaryArray.from_arrays(
        pa.array([2, 0, 2, None], pa.int8()), pa.array(["z", "unused", "a"])
    )
    factor = column_factor(column)
    assert factor.labels == ("a", "z", "NA")
    np.testing.assert_array_equal(factor.codes, [0, 1, 0, 2])
    assert factor.codes.dtype == np.int8


def test_codes_use_the_narrowest_type_that_holds_them():
    assert [code_dtype(n) for n in (1, 127, 128, 32767, 32768)] == [
        np.int8, np.int8, np.int16, np.int16, np.int32,
    ]  # fmt: skip
    many = column_factor(pa.array([f"level {i:03d}" for i in range(300)]))
    assert many.codes.dtype == np.int16
    np.testing.assert_array_equal(many.codes, np.arange(300))
    combined = table_factor(
        pa.table({"a": np.arange(200) % 20, "b": np.arange(200) % 10}), ["a", "b"]
    )
    assert combined.codes.dtype == np.int8 and combined.n_levels == 20


def test_sorted_dictionary_lends_its_indices_as_codes():
    indices = pa.array(np.array([2, 0, 1, 2, 0], dtype=np.int8))
    column = pa.chunked_array([pa.DictionaryArray.from_arrays(indices, pa.array(["a", "b", "c"]))])
    factor = column_factor(column, "k")
    assert factor.labels == ("a", "b", "c") and factor.names == ("k",)
    np.testing.assert_array_equal(factor.codes, [2, 0, 1, 2, 0])
    assert np.shares_memory(factor.codes, np.frombuffer(indices.buffers()[1], np.int8))


def test_unsorted_dictionary_is_remapped_into_narrow_codes():
    column = pa.DictionaryArray.from_arrays(
        pa.array([0, 1, 2, 1], pa.int32()), pa.array(["pear", "apple", "fig"])
    )
    factor = column_factor(column)
    assert factor.labels == ("apple", "fig", "pear")
    np.testing.assert_array_equal(factor.codes, [2, 0, 1, 0])
    assert factor.codes.dtype == np.int8


def test_dictionary_entry_first_used_after_many_blocks(monkeypatch):
    monkeypatch.setattr(panels, "_PRESENCE_BLOCK", 16)
    indices = np.zeros(1000, dtype=np.int16)
    indices[997] = 2  # "c" appears only in the last block; "b" never
    column = pa.DictionaryArray.from_arrays(pa.array(indices), pa.array(["a", "b", "c"]))
    factor = column_factor(column)
    assert factor.labels == ("a", "c")
    assert factor.codes.tolist() == [0] * 997 + [1, 0, 0]


def test_dictionary_with_repeated_or_nan_values_takes_the_general_path():
    repeated = pa.DictionaryArray.from_arrays(pa.array([0, 1, 2], pa.int8()), ["b", "a", "b"])
    factor = column_factor(repeated)
    assert factor.labels == ("a", "b")
    assert factor.codes.tolist() == [1, 0, 1]
    nan = pa.DictionaryArray.from_arrays(pa.array([0, 1], pa.int8()), [2.5, float("nan")])
    assert column_factor(nan).labels == ("2.5", "NA")


def test_dictionary_indices_outside_the_dictionary_are_an_error():
    column = pa.DictionaryArray.from_arrays(
        pa.array([0, 5], pa.int8()), pa.array(["a", "b"]), safe=False
    )
    with pytest.raises(DataError, match=r"'bad' is dictionary-encoded with 2 entries but its "):
        column_factor(column, "bad")
