"""Aggregation: points → per-pixel grids for every panel (datashader's canvas/reduction cut).

``Canvas`` says where (pixel size, per-panel ranges), ``Points`` what (coordinates,
panel, category or value columns, which select the reduction), and
:func:`aggregate` returns :class:`Grids`; :mod:`ggrs.shade` colours them.
"""

from __future__ import annotations

from ggrs.aggregate.canvas import Canvas
from ggrs.aggregate.grids import Grids
from ggrs.aggregate.points import Points
from ggrs.aggregate.registry import aggregate, available_backends, choose_backend

__all__ = ["Canvas", "Grids", "Points", "aggregate", "available_backends", "choose_backend"]
