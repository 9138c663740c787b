"""The input of the render pipeline: columns as arrays, facets and pages as factors.

Kept apart from :mod:`ggrs.pipeline` so that data sources (a table file, the
Tercen client) can build it without importing composition or aggregation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ggrs import panels


@dataclass(frozen=True)
class PlotData:
    """The table as the steps need it: float positions, colour, facet and page factors.

    Built from a table file by :func:`prepare`; the Tercen operator builds it
    from the crosstab projection. Row arrays have one entry per input row.
    ``x_limits``/``y_limits``, when given, are each facet cell's data range,
    shape (row levels, column levels, 2), e.g. Tercen's range tables: they
    replace the ranges trained from the data (pages then share their axes).
    ``layers`` splits the rows into layers drawn over one another in the same
    panels (Tercen's ``.axisIndex``: several y factors), each with its own
    colour, shape and legend entry; its labels name the layers. ``y0`` is the
    baseline of each bar (Tercen's ``.y0s``; 0 when absent). ``ranges``, when
    given, is ((x min, x max), (y min, y max)) over every row, all of them finite
    (``prepare`` has it from its finiteness check; the scales then need no pass).
    """

    x: np.ndarray
    y: np.ndarray
    finite: np.ndarray
    rows: panels.Factor
    cols: panels.Factor
    pages: panels.Factor
    color_codes: panels.Factor | None = None
    color_values: np.ndarray | None = None
    x_title: str = ""
    y_title: str = ""
    color_title: str = ""
    x_limits: np.ndarray | None = None
    y_limits: np.ndarray | None = None
    layers: panels.Factor | None = None
    y0: np.ndarray | None = None
    ranges: np.ndarray | None = None
