"""Aggregation: points → per-pixel grids for every panel (datashader's canvas/reduction cut).

``Canvas`` says where (pixel size, per-panel ranges), ``Points`` what (coordinates,
panel, category or value columns, which select the reduction), and
:func:`aggregate` returns :class:`Grids`; :mod:`ggrs.shade` colours them.
:class:`Rects` (bars, tiles) go through :func:`aggregate_rects` to the same grids.
:class:`Lines` (polylines) go through :func:`aggregate_lines`; :func:`thicken` widens
their 1-pixel paths into strokes before shading.
"""

from __future__ import annotations

from ggrs.aggregate.canvas import Canvas
from ggrs.aggregate.grids import Grids
from ggrs.aggregate.lines import Lines, aggregate_lines, thicken
from ggrs.aggregate.points import Points
from ggrs.aggregate.rects import Rects, aggregate_rects
from ggrs.aggregate.registry import aggregate, available_backends, choose_backend

__all__ = [
    "Canvas",
    "Grids",
    "Lines",
    "Points",
    "Rects",
    "aggregate",
    "aggregate_lines",
    "aggregate_rects",
    "available_backends",
    "choose_backend",
    "thicken",
]
