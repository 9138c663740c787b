"""Plain values passed from the data steps to composition.

Composition (layout, drawing, encoding) sees only these views and RGBA arrays:
it never touches the input table, the aggregation backends or gRPC. The views
hold no Pillow objects, so layouts can be tested as numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

RGB = tuple[int, int, int]


@dataclass(frozen=True)
class AxisView:
    """One trained position scale as the axis drawer needs it.

    Attributes:
        limits: data values at the two panel edges (low, high), expansion included.
        breaks: major tick positions in data units, all inside ``limits``.
        labels: one text per major break (already formatted, transform inverted).
        minor_breaks: minor grid positions in data units.
        categorical: True when breaks are category centres (heatmap axes).
    """

    limits: tuple[float, float]
    breaks: tuple[float, ...] = ()
    labels: tuple[str, ...] = ()
    minor_breaks: tuple[float, ...] = ()
    categorical: bool = False

    def __post_init__(self) -> None:
        if len(self.breaks) != len(self.labels):
            raise ValueError(f"axis has {len(self.breaks)} breaks but {len(self.labels)} labels")

    def to_unit(self, values: np.ndarray | float) -> np.ndarray:
        """Map data values to [0, 1] across the panel (0 = low limit)."""
        low, high = self.limits
        span = high - low
        return (np.asarray(values, dtype=np.float64) - low) / (span if span else 1.0)


@dataclass(frozen=True)
class PanelView:
    """One facet cell: its grid position and the scales of its two axes."""

    row: int
    col: int
    x: AxisView
    y: AxisView


@dataclass(frozen=True)
class ContinuousLegend:
    """A colour bar: values from ``limits`` mapped through ``stops``.

    Attributes:
        title: legend title (the colour column's name).
        limits: data values at the two ends of the bar.
        breaks: tick positions in data units; ``labels`` one text each.
        stops: (position in [0, 1], colour) pairs, positions increasing.
    """

    title: str
    limits: tuple[float, float]
    breaks: tuple[float, ...]
    labels: tuple[str, ...]
    stops: tuple[tuple[float, RGB], ...]


#: Kinds of key glyph a categorical legend draws (see :class:`CategoricalLegend`).
KEY_KINDS = ("point", "line", "bar")


@dataclass(frozen=True)
class CategoricalLegend:
    """A key of coloured glyphs, one per category (or layer), in display order.

    Attributes:
        title: legend title.
        labels: one text per entry.
        colors: one colour per entry.
        shape: ggplot2 pch code (0-25) of every entry's symbol when ``shapes`` is empty.
        shapes: one pch code per entry, for legends whose entries differ in shape
            (layers); empty to use ``shape`` for all.
        key: what each key shows, as ggplot2 draws keys for the chart kind: one of
            :data:`KEY_KINDS`: ``point`` the entry's symbol, ``line`` a horizontal
            line, ``bar`` a filled square.
    """

    title: str
    labels: tuple[str, ...]
    colors: tuple[RGB, ...]
    shape: int = 19
    shapes: tuple[int, ...] = ()
    key: str = "point"

    def __post_init__(self) -> None:
        if self.key not in KEY_KINDS:
            raise ValueError(f"legend key must be one of {', '.join(KEY_KINDS)}; got {self.key!r}")
        if len(self.colors) != len(self.labels):
            raise ValueError(f"legend has {len(self.labels)} labels but {len(self.colors)} colours")
        if self.shapes and len(self.shapes) != len(self.labels):
            raise ValueError(f"legend has {len(self.labels)} labels but {len(self.shapes)} shapes")

    @property
    def entry_shapes(self) -> tuple[int, ...]:
        """The pch code of each entry's symbol."""
        return self.shapes or (self.shape,) * len(self.labels)


Legend = ContinuousLegend | CategoricalLegend


@dataclass(frozen=True)
class FigureView:
    """Everything composition needs to lay out and draw one page.

    Attributes:
        width, height: size of the whole image in pixels.
        n_rows, n_cols: facet grid shape; ``panels`` has one entry per cell.
        col_strips: one label per column (empty when there is no column facet).
        row_strips: one label per row (empty when there is no row facet).
        title, x_title, y_title: texts; empty strings draw nothing.
        legend: the colour legend, or None.
    """

    width: int
    height: int
    n_rows: int
    n_cols: int
    panels: tuple[PanelView, ...]
    col_strips: tuple[str, ...] = ()
    row_strips: tuple[str, ...] = ()
    title: str = ""
    x_title: str = ""
    y_title: str = ""
    legend: Legend | None = None

    def panel(self, row: int, col: int) -> PanelView:
        """The panel at grid position (row, col)."""
        return self.panels[row * self.n_cols + col]
