"""Panel codes of a facet grid, computed a block at a time from the row and column codes.

A whole panel-code column (row × columns + column) costs at least a byte per
point on top of the facet row and column codes it is made from: 50 MB at 5e7
points, at the peak of a render. Aggregation reads panel codes a block at a
time, so :class:`FacetCodes` computes each block when it is sliced and never
holds the column. ``numpy.asarray`` gives the whole column to a consumer that
needs it (line and bar geometry, the compiled kernel).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ggrs.errors import DataError


def _codes(name: str, values: np.ndarray) -> np.ndarray:
    arr = np.asarray(values)
    if arr.dtype.kind not in "iu" or arr.ndim != 1:
        raise DataError(
            f"facet {name} codes must be 1-D integers; got dtype {arr.dtype}, shape {arr.shape}"
        )
    return arr


@dataclass(frozen=True, eq=False)
class FacetCodes:
    """Panel code ``rows[i] · n_cols + cols[i]`` of every point, never stored whole.

    Attributes:
        rows: facet row code per point (0..R-1).
        cols: facet column code per point (0..n_cols-1).
        n_cols: C, the number of facet columns.
    """

    rows: np.ndarray
    cols: np.ndarray
    n_cols: int

    def __post_init__(self) -> None:
        rows, cols = _codes("row", self.rows), _codes("column", self.cols)
        if len(rows) != len(cols):
            raise DataError(
                f"facet row and column codes differ in length: {len(rows)} and {len(cols)}"
            )
        if isinstance(self.n_cols, bool) or not isinstance(self.n_cols, int) or self.n_cols < 1:
            raise DataError(f"n_cols must be a positive integer; got {self.n_cols!r}")
        object.__setattr__(self, "rows", rows)
        object.__setattr__(self, "cols", cols)

    @property
    def dtype(self) -> np.dtype:
        """The type of the computed codes: wide enough for every panel code."""
        top = (int(np.iinfo(self.rows.dtype).max) + 1) * self.n_cols
        return np.result_type(np.min_scalar_type(top), self.cols.dtype, np.int8)

    @property
    def ndim(self) -> int:
        """1, as for the column it stands for."""
        return 1

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index: int | slice | np.ndarray) -> int | np.ndarray | FacetCodes:
        """A slice gives the codes of those points, an integer one point's code;
        an index array gives the FacetCodes of the points it selects (still not
        computed)."""
        if isinstance(index, int | np.integer):
            return int(self.rows[index]) * self.n_cols + int(self.cols[index])
        if isinstance(index, slice):
            codes = self.rows[index].astype(self.dtype)
            codes *= self.n_cols
            codes += self.cols[index]
            return codes
        return FacetCodes(self.rows[index], self.cols[index], self.n_cols)

    def __array__(self, dtype: np.dtype | None = None, copy: bool | None = None) -> np.ndarray:
        codes = self[:]
        return codes if dtype is None else codes.astype(dtype)

    def bounds(self) -> tuple[int, int]:
        """(lowest, highest) panel code of the points, from the rows' and columns'
        extremes without computing the column (4 passes over narrow codes).

        Raises:
            DataError: a column code outside 0..n_cols-1 (its panel code would
                land in another facet row).
        """
        if len(self) == 0:
            return 0, 0
        col_low, col_high = int(self.cols.min()), int(self.cols.max())
        if col_low < 0 or col_high >= self.n_cols:
            raise DataError(
                f"facet column codes span {col_low}..{col_high} but must lie in "
                f"0..{self.n_cols - 1}"
            )
        return (
            int(self.rows.min()) * self.n_cols + col_low,
            int(self.rows.max()) * self.n_cols + col_high,
        )
