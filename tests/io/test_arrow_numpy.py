"""The pandas-free conversions between numpy and Arrow (ggrs.io): zero-copy where the
buffers allow, exact values, nulls, slices, bools and float16, bad input refused."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from ggrs.errors import UsageError
from ggrs.io import arrow_from_numpy, numeric_view, numpy_from_arrow

NUMBER_DTYPES = [
    np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64,
    np.float16, np.float32, np.float64,
]  # fmt: skip


def _data_address(array: pa.Array) -> int:
    return array.buffers()[1].address


@pytest.mark.parametrize("dtype", NUMBER_DTYPES)
def test_arrow_from_numpy_shares_the_values(dtype):
    values = np.array([0, 1, 5, 7], dtype=dtype)
    array = arrow_from_numpy(values)
    assert array.type == pa.from_numpy_dtype(np.dtype(dtype))
    assert array.null_count == 0 and array.buffers()[0] is None
    assert _data_address(array) == values.ctypes.data  # no copy
    assert array.to_pylist() == [0, 1, 5, 7]


def test_arrow_from_numpy_copies_strided_misaligned_and_swapped_values():
    base = np.arange(10, dtype=np.float64)
    strided = arrow_from_numpy(base[::3])
    assert strided.to_pylist() == [0.0, 3.0, 6.0, 9.0]
    raw = np.arange(4, dtype=np.int32).tobytes()
    misaligned = np.frombuffer(b"\0" + raw, dtype=np.int32, count=4, offset=1)
    assert misaligned.ctypes.data % 4 != 0
    copied = arrow_from_numpy(misaligned)
    assert copied.to_pylist() == [0, 1, 2, 3]
    assert _data_address(copied) % 4 == 0
    swapped = arrow_from_numpy(np.array([1.5, -2.0], dtype=">f8"))
    assert swapped.type == pa.float64() and swapped.to_pylist() == [1.5, -2.0]


def test_arrow_from_numpy_packs_bools_into_bits():
    values = np.array([True, False, True, True, False, False, False, False, True])
    array = arrow_from_numpy(values)
    assert array.type == pa.bool_()
    assert array.to_pylist() == values.tolist()
    assert array.buffers()[1].size == 2  # 9 bools in 2 bytes


def test_arrow_from_numpy_validity_makes_nulls():
    values = np.array([1.0, 2.0, 3.0])
    array = arrow_from_numpy(values, np.array([True, False, True]))
    assert array.null_count == 1
    assert array.to_pylist() == [1.0, None, 3.0]
    assert _data_address(array) == values.ctypes.data
    all_valid = arrow_from_numpy(values, np.ones(3, dtype=bool))
    assert all_valid.null_count == 0 and all_valid.to_pylist() == [1.0, 2.0, 3.0]


def test_arrow_from_numpy_refuses_other_input():
    with pytest.raises(UsageError, match=r"1-D array of numbers or bools; got dtype int64, shape"):
        arrow_from_numpy(np.zeros((2, 2), dtype=np.int64))
    with pytest.raises(UsageError, match="got dtype <U1"):
        arrow_from_numpy(np.array(["a", "b"]))
    with pytest.raises(UsageError, match=r"validity must be a bool array of shape \(3,\)"):
        arrow_from_numpy(np.zeros(3), np.ones(2, dtype=bool))
    with pytest.raises(UsageError, match="got dtype int64, shape"):
        arrow_from_numpy(np.zeros(3), np.ones(3, dtype=np.int64))


def test_numpy_from_arrow_views_slices_without_a_copy():
    values = np.arange(10, dtype=np.int16)
    array = arrow_from_numpy(values)
    view = numpy_from_arrow(array.slice(3, 4))
    assert view.dtype == np.int16 and view.tolist() == [3, 4, 5, 6]
    assert np.shares_memory(view, values)
    column = pa.chunked_array([array])
    assert np.shares_memory(numpy_from_arrow(column), values)
    assert numeric_view(column) is not None


def test_numpy_from_arrow_converts_the_rest():
    with_nulls = numpy_from_arrow(pa.array([1, None, 3], pa.int32()))
    assert with_nulls.dtype == np.float64
    assert np.array_equal(with_nulls, [1.0, np.nan, 3.0], equal_nan=True)
    joined = numpy_from_arrow(pa.chunked_array([[1.0], [2.0, 3.0]]))
    assert joined.tolist() == [1.0, 2.0, 3.0]
    bools = numpy_from_arrow(pa.array([True, False, True]).slice(1))
    assert bools.dtype == np.bool_ and bools.tolist() == [False, True]
    half = numpy_from_arrow(pa.array(np.array([0.5, 2.0], dtype=np.float16)))
    assert half.dtype == np.float16 and half.tolist() == [0.5, 2.0]
