"""Factors: table columns turned into integer codes and level labels.

Facet rows, facet columns, pages and categorical colours are all factors: one
or more columns whose value combinations become levels 0..k-1, with one code
per table row. Levels are sorted (text alphabetically, numbers numerically),
missing values form a last level ``NA``, and several columns combine into one
label joined by a separator (", " for strips, "_" for page names).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ggrs.errors import DataError
from ggrs.io import arrow_from_numpy, numpy_from_arrow

MISSING_LABEL = "NA"


@dataclass(frozen=True)
class Factor:
    """Integer codes per row and a label per level.

    Attributes:
        codes: one integer per table row, values in [0, len(labels)), in the
            narrowest type that holds them (:func:`code_dtype`): at 5e7 rows an
            int8 factor takes 50 MB where int32 would take 200 MB. A dictionary
            column whose sorted dictionary is the levels lends its own indices
            instead (no memory at all), in their signed type.
        labels: level labels in display order.
        names: the column names the factor was built from.
    """

    codes: np.ndarray
    labels: tuple[str, ...]
    names: tuple[str, ...] = ()

    @property
    def n_levels(self) -> int:
        """Number of levels (at least 1)."""
        return len(self.labels)


def constant_factor(n_rows: int) -> Factor:
    """A factor with one level covering every row (no facet, one page)."""
    return Factor(np.zeros(n_rows, dtype=np.int8), ("",), ())


def code_dtype(n_levels: int) -> np.dtype:
    """The narrowest signed integer type for codes 0..n_levels-1."""
    for kind in (np.int8, np.int16, np.int32):
        if n_levels <= np.iinfo(kind).max:
            return np.dtype(kind)
    return np.dtype(np.int64)


def _format_level(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def column_factor(column: pa.ChunkedArray | pa.Array, name: str = "") -> Factor:
    """Encodes one column as a factor with sorted levels.

    Args:
        column: any column whose values can be compared (text, numbers, booleans),
            plain or dictionary-encoded.
        name: the column's name, kept for titles.

    Returns:
        The factor; nulls (and NaN) become the last level ``NA``.
    """
    if isinstance(column, pa.ChunkedArray):
        if pa.types.is_dictionary(column.type) and column.num_chunks == 1:
            column = column.chunk(0)  # combine_chunks would copy it
        else:
            if pa.types.is_dictionary(column.type):
                column = column.unify_dictionaries()
            column = column.combine_chunks()
    if pa.types.is_dictionary(column.type):
        fast = _dictionary_factor(column, name)
        if fast is not None:
            return fast
        if pa.types.is_floating(column.type.value_type) or column.dictionary.null_count:
            # NaN values, and nulls inside the dictionary itself, become NA below.
            column = column.dictionary_decode()
    if pa.types.is_integer(column.type) and column.null_count == 0 and len(column):
        small = _small_integer_factor(numpy_from_arrow(column), name)
        if small is not None:
            return small
    if pa.types.is_floating(column.type) and pc.any(pc.is_nan(column)).as_py():
        column = pc.if_else(pc.is_nan(column), pa.scalar(None, column.type), column)
    if pa.types.is_dictionary(column.type):
        # Reuse the stored encoding: only the (small) dictionary is re-encoded,
        # in case it holds a value twice.
        unique = column.dictionary.dictionary_encode()
        dictionary, entry_code, row_indices = unique.dictionary, unique.indices, column.indices
    else:
        encoded = column.dictionary_encode()
        dictionary, entry_code, row_indices = encoded.dictionary, None, encoded.indices
    # Sort the levels: the dictionary holds them in first-seen order.
    sorted_order = pc.array_sort_indices(dictionary)
    order = numpy_from_arrow(sorted_order)
    rank = np.empty(len(order), dtype=np.int32)
    rank[order] = np.arange(len(order), dtype=np.int32)
    levels = [_format_level(v) for v in dictionary.take(sorted_order).to_pylist()]
    used = None
    if entry_code is not None:
        rank = rank[numpy_from_arrow(entry_code)]
        # Levels the rows use: a dictionary may hold spare entries.
        used = np.unique(rank[numpy_from_arrow(pc.unique(row_indices).drop_null())])
    if not levels:  # an empty table still needs one level to draw an empty panel
        return Factor(np.zeros(len(column), dtype=np.int8), ("",), (name,))
    # The lookup table's type is the codes' type: narrow codes with no extra pass.
    n_codes = len(levels) + (1 if row_indices.null_count else 0)
    codes = pc.take(arrow_from_numpy(rank.astype(code_dtype(n_codes))), row_indices)
    missing = codes.null_count > 0
    if missing:
        codes = codes.fill_null(len(levels))
        levels.append(MISSING_LABEL)
    factor = Factor(numpy_from_arrow(codes), tuple(levels), (name,))
    if used is not None and len(used) < len(levels) - missing:
        factor = _keep_levels(factor, np.append(used, len(levels) - 1) if missing else used)
    return factor


def _dictionary_factor(column: pa.DictionaryArray, name: str) -> Factor | None:
    """The factor of a null-free dictionary column whose dictionary holds distinct,
    non-missing values, or None for the general path.

    The levels are the dictionary's values that rows use, sorted. When those are the
    whole dictionary, already in order, the indices are the codes: no pass over the
    rows at all beyond checking which entries occur (usually settled by the first
    block). Otherwise the indices go through a small lookup table.
    """
    dictionary = column.dictionary
    if column.null_count or dictionary.null_count or not len(column):
        return None
    if pa.types.is_floating(dictionary.type) and pc.any(pc.is_nan(dictionary)).as_py():
        return None  # NaN is a missing value: the general path makes it NA
    if len(pc.unique(dictionary)) != len(dictionary):
        return None
    indices = numpy_from_arrow(column.indices)
    used = _used_entries(indices, len(dictionary), name)
    order = numpy_from_arrow(pc.array_sort_indices(dictionary))
    order = order[used[order]]  # the used entries, in level order
    levels = tuple(_format_level(v) for v in dictionary.take(arrow_from_numpy(order)).to_pylist())
    kind = code_dtype(len(levels))
    identity = len(order) == len(dictionary) and bool((order == np.arange(len(order))).all())
    if identity and indices.dtype.kind == "i":
        return Factor(indices, levels, (name,))  # shares the table's indices
    lut = np.zeros(len(dictionary), dtype=kind)
    lut[order] = np.arange(len(order), dtype=kind)
    return Factor(_gather(lut, indices), levels, (name,))


# Rows per block when looking for the dictionary entries that rows use: the search
# stops at the first block after which every entry has been seen.
_PRESENCE_BLOCK = 1 << 16


def _used_entries(indices: np.ndarray, n_entries: int, name: str) -> np.ndarray:
    """Which of the `n_entries` dictionary entries the `indices` use (bool per entry).

    Raises:
        DataError: an index lies outside the dictionary.
    """
    low, high = int(indices.min()), int(indices.max())
    if low < 0 or high >= n_entries:
        raise DataError(
            f"column {name!r} is dictionary-encoded with {n_entries} entries but its "
            f"indices span {low}..{high}; the file is corrupt, write it again"
        )
    used = np.zeros(n_entries, dtype=bool)
    for start in range(0, len(indices), _PRESENCE_BLOCK):
        block = indices[start : start + _PRESENCE_BLOCK]
        # (bincount converts each block to intp anyway; uint64 needs it said.)
        used |= np.bincount(block.astype(np.intp, copy=False), minlength=n_entries) > 0
        if used.all():
            break
    return used


def _gather(table: np.ndarray, index: np.ndarray) -> np.ndarray:
    """``table[index]`` through Arrow's take: numpy would first widen a narrow
    index array to 8 bytes per row."""
    return numpy_from_arrow(pc.take(arrow_from_numpy(table), arrow_from_numpy(index)))


def _keep_levels(factor: Factor, keep: np.ndarray) -> Factor:
    """The factor with only the levels `keep` (sorted codes every row uses); facets
    and legends show only what the data holds."""
    remap = np.zeros(factor.n_levels, dtype=code_dtype(len(keep)))
    remap[keep] = np.arange(len(keep))
    labels = tuple(factor.labels[i] for i in keep)
    return Factor(_gather(remap, factor.codes), labels, factor.names)


# Integer columns spanning at most this many values are encoded by counting,
# without hashing: facet and colour codes (Tercen's .ri/.ci/.colorLevels) are.
_MAX_COUNTED_SPAN = 1 << 20


def _small_integer_factor(values: np.ndarray, name: str) -> Factor | None:
    """Sorted levels of an integer array with a small span, or None if the span is large."""
    low, high = int(values.min()), int(values.max())
    if high - low >= _MAX_COUNTED_SPAN:
        return None
    # int64 arithmetic: subtracting a negative low could overflow a narrow type.
    shifted = values if low == 0 else np.subtract(values, low, dtype=np.int64)
    counts = np.bincount(shifted, minlength=high - low + 1)
    present = np.flatnonzero(counts)
    remap = (np.cumsum(counts > 0) - 1).astype(code_dtype(len(present)))
    labels = tuple(str(int(v) + low) for v in present)
    return Factor(_gather(remap, shifted), labels, (name,))


def combine(factors: Sequence[Factor], separator: str = ", ") -> Factor:
    """Crosses factors into one whose levels are the combinations that occur.

    Levels are ordered by the first factor, then the second, ...; only
    combinations present in the data become levels.
    """
    if not factors:
        raise ValueError("combine() needs at least one factor")
    if len(factors) == 1:
        return factors[0]
    n_rows = len(factors[0].codes)
    sizes = [f.n_levels for f in factors]
    if math_prod(sizes) > 2**62:
        raise DataError(
            f"facet factors {[n for f in factors for n in f.names]} have too many combinations"
        )
    key = np.zeros(n_rows, dtype=np.int64)
    for factor in factors:
        key *= factor.n_levels
        key += factor.codes
    present, compact = _compact(key, math_prod(sizes))
    labels = []
    for combo in present.tolist():
        parts = []
        for factor in reversed(factors):
            combo, level = divmod(combo, factor.n_levels)
            parts.append(factor.labels[level])
        labels.append(separator.join(reversed(parts)))
    names = tuple(n for f in factors for n in f.names)
    return Factor(compact.astype(code_dtype(len(labels))).reshape(-1), tuple(labels), names)


def _compact(key: np.ndarray, n_keys: int) -> tuple[np.ndarray, np.ndarray]:
    """The distinct keys (sorted) and each row's index among them."""
    if n_keys <= 4 * len(key) + 4096:
        # O(n) with no sort: mark the keys that occur, then number them in order.
        counts = np.bincount(key, minlength=n_keys)
        present = np.flatnonzero(counts)
        remap = np.cumsum(counts > 0, dtype=np.int64) - 1
        return present, remap[key]
    present, compact = np.unique(key, return_inverse=True)
    return present, compact


def math_prod(values: Sequence[int]) -> int:
    """Product of integers without overflow (Python ints)."""
    result = 1
    for v in values:
        result *= int(v)
    return result


def table_factor(table: pa.Table, names: Sequence[str], separator: str = ", ") -> Factor:
    """The factor of one or more columns of `table`; no columns → one level."""
    if not names:
        return constant_factor(table.num_rows)
    return combine([column_factor(table.column(n), n) for n in names], separator)
