"""What is aggregated: point coordinates plus optional panel, category and value columns.

:class:`Points` only checks shapes and dtypes (cheap, no pass over the data);
code ranges are checked against the canvas by :func:`ggrs.aggregate.aggregate`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ggrs.aggregate.facets import FacetCodes
from ggrs.errors import DataError, UsageError

if TYPE_CHECKING:
    from ggrs.aggregate.canvas import Canvas

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


def _code_column(name: str, values: object) -> np.ndarray | FacetCodes:
    if isinstance(values, FacetCodes):
        return values  # computed per block; never stored whole (see facets.py)
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


def init_columns(marks: object, noun: str, floats: tuple[str, ...], codes: tuple[str, ...]) -> None:
    """The shared ``__post_init__`` of :class:`Points`, ``Lines`` and ``Rects``.

    Checks and normalises, in place on the frozen dataclass ``marks``: the float
    columns named in ``floats`` (required), the optional integer columns in
    ``codes``, the optional ``value`` column, that colour is categorical or
    continuous but not both, that all columns have one length, and
    ``n_categories`` (0 becomes max(category) + 1).

    Raises:
        DataError: a wrong dtype or shape, or columns of different lengths.
        UsageError: both category and value, or a bad ``n_categories``.
    """
    columns = {name: _float_column(name, getattr(marks, name)) for name in floats}
    for name in codes:
        if getattr(marks, name) is not None:
            columns[name] = _code_column(name, getattr(marks, name))
    category, value = getattr(marks, "category", None), getattr(marks, "value", None)
    if value is not None:
        columns["value"] = _float_column("value", value)
    if category is not None and value is not None:
        raise UsageError(
            f"{noun} have both a category and a value column; colour is either "
            "categorical or continuous, pass only one"
        )
    lengths = {name: len(col) for name, col in columns.items()}
    if len(set(lengths.values())) != 1:
        raise DataError(f"{noun} columns differ in length: {lengths}")
    for name, col in columns.items():
        object.__setattr__(marks, name, col)
    k = getattr(marks, "n_categories", 0)
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 0:
        raise UsageError(f"n_categories must be a non-negative integer; got {k!r}")
    category = getattr(marks, "category", None)
    if category is not None and k == 0:
        k = int(category.max()) + 1 if len(category) else 1
    object.__setattr__(marks, "n_categories", int(k) if category is not None else 0)


def check_code_range(name: str, lo: int, hi: int, n: int) -> None:
    """Raise DataError when codes whose smallest is ``lo`` and largest ``hi`` fall
    outside 0..n-1.

    The one test and message for panel and category codes; the caller finds ``lo``
    and ``hi`` where the codes live (the GPU backend: on the device, per chunk).

    Args:
        name: ``"panel"`` or ``"category"``.
        lo: the smallest code.
        hi: the largest code.
        n: the number of panels on the canvas, or of categories.
    """
    if lo < 0 or hi >= n:
        what = "panels on the canvas" if name == "panel" else "categories"
        raise DataError(f"{name} codes span {lo}..{hi} but must lie in 0..{n - 1} ({n} {what})")


def check_codes(marks: object, canvas: Canvas, noun: str = "points") -> None:
    """Raise DataError when panel or category codes fall outside 0..P-1 / 0..K-1,
    or when a canvas of several panels gets ``marks`` without panel codes."""
    panel = getattr(marks, "panel", None)
    for name, codes, n in (
        ("panel", panel, canvas.n_panels),
        ("category", getattr(marks, "category", None), getattr(marks, "n_categories", 0)),
    ):
        if isinstance(codes, FacetCodes):
            check_code_range(name, *codes.bounds(), n)
        elif codes is not None and len(codes):
            check_code_range(name, int(codes.min()), int(codes.max()), n)
    if panel is None and canvas.n_panels != 1:
        raise DataError(
            f"the canvas has {canvas.n_panels} panels but the {noun} have no panel codes"
        )


@dataclass(frozen=True, eq=False)
class Points:
    """Columns of one layer of points, all of the same length N.

    Attributes:
        x: float32 or float64 positions in data units of the point's panel.
        y: like ``x``.
        panel: integer panel codes 0..P-1 (an array, or :class:`FacetCodes` that
            compute them per block from facet row and column codes), or None
            when there is one panel.
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
        init_columns(self, "points", ("x", "y"), ("panel", "category"))

    def __len__(self) -> int:
        return len(self.x)
