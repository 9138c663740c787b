"""What is aggregated: point coordinates plus optional panel, category and value columns.

:class:`Points` only checks shapes and dtypes (cheap, no pass over the data);
code ranges are checked against the canvas by :func:`ggrs.aggregate.aggregate`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ggrs.errors import DataError, UsageError

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def _float_column(name: str, values: object) -> np.ndarray:
    arr = np.asarray(values)
    if arr.dtype not in _FLOATS:
        raise DataError(
            f"column {name!r} has dtype {arr.dtype}; aggregation needs float32 or float64 "
            "(convert it with .astype(np.float64))"
        )
    if arr.ndim != 1:
        raise DataError(f"column {name!r} must be 1-D; got shape {arr.shape}")
    # Chunked slices of a contiguous array are views; a strided input would be
    # copied chunk by chunk by every consumer instead.
    return np.ascontiguousarray(arr)


def _code_column(name: str, values: object) -> np.ndarray:
    arr = np.asarray(values)
    if arr.dtype.kind not in "iu":
        raise DataError(
            f"column {name!r} has dtype {arr.dtype}; codes must be integers 0..n-1 "
            "(factorise the column first, e.g. with np.unique(..., return_inverse=True))"
        )
    if arr.ndim != 1:
        raise DataError(f"column {name!r} must be 1-D; got shape {arr.shape}")
    if arr.dtype == np.uint64:
        # np.take refuses uint64 indices (no safe cast to intp).
        arr = arr.astype(np.int64)
    return np.ascontiguousarray(arr)


@dataclass(frozen=True, eq=False)
class Points:
    """Columns of one layer of points, all of the same length N.

    Attributes:
        x: float32 or float64 positions in data units of the point's panel.
        y: like ``x``.
        panel: integer panel codes 0..P-1, or None when there is one panel.
        category: integer category codes 0..K-1 for categorical colour, or None.
        value: float values for continuous colour (averaged per pixel), or None.
        n_categories: K, the number of category levels (unused levels included).
            0 means "max(category) + 1"; ignored when ``category`` is None.
    """

    x: np.ndarray
    y: np.ndarray
    panel: np.ndarray | None = None
    category: np.ndarray | None = None
    value: np.ndarray | None = None
    n_categories: int = 0

    def __post_init__(self) -> None:
        x = _float_column("x", self.x)
        y = _float_column("y", self.y)
        columns = {"x": x, "y": y}
        object.__setattr__(self, "x", x)
        object.__setattr__(self, "y", y)
        if self.panel is not None:
            columns["panel"] = _code_column("panel", self.panel)
        if self.category is not None:
            columns["category"] = _code_column("category", self.category)
        if self.value is not None:
            columns["value"] = _float_column("value", self.value)
        if self.category is not None and self.value is not None:
            raise UsageError(
                "points have both a category and a value column; colour is either "
                "categorical or continuous, pass only one"
            )
        lengths = {name: len(col) for name, col in columns.items()}
        if len(set(lengths.values())) != 1:
            raise DataError(f"point columns differ in length: {lengths}")
        for name in ("panel", "category", "value"):
            if name in columns:
                object.__setattr__(self, name, columns[name])
        k = self.n_categories
        if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 0:
            raise UsageError(f"n_categories must be a non-negative integer; got {k!r}")
        if self.category is not None and k == 0:
            k = int(self.category.max()) + 1 if len(self.category) else 1
        object.__setattr__(self, "n_categories", int(k) if self.category is not None else 0)

    def __len__(self) -> int:
        return len(self.x)
