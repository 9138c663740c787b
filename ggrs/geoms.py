"""Data layers by chart kind: one layer's rows → RGBA rasters of every panel.

Points, lines and bars share one shape of work — aggregate the rows into
per-panel pixel grids on a :class:`~ggrs.aggregate.Canvas`, then shade the
grids — and differ only in what a row covers: a point's pixel (spread to a
symbol), the pixels of the segments joining a group's points in x order, or
the pixels of a bar's rectangle. The heatmap is not a layer over panels but a
grid of tiles; :mod:`ggrs.heatmap` draws it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

import numpy as np

from ggrs import bars, shade
from ggrs.aggregate import Canvas, Grids, Points, aggregate, gpu_backend
from ggrs.aggregate.lines import Lines, aggregate_lines, thicken
from ggrs.aggregate.rects import Rects, aggregate_rects
from ggrs.errors import UsageError

log = logging.getLogger("ggrs")

# Chart kinds drawn as layers over facet panels (the heatmap is drawn apart).
LAYER_CHARTS = ("point", "line", "bar")
CHARTS = (*LAYER_CHARTS, "heatmap")


@dataclass(frozen=True)
class Layer:
    """The rows of one layer on one page, as aggregation needs them.

    Attributes:
        x, y: positions in (transformed) data units; non-finite rows are skipped.
        panel: panel code per row (row-major facet cell), or None for one panel.
        category: colour category code per row, or None; ``n_categories`` levels.
        value: continuous colour value per row, or None.
        y0: bar baselines (None: 0), used by bar charts only.
        rects: the layer's bars when they were dodged with other layers'
            (:func:`dodged_bars`); None computes them from this layer alone.
    """

    x: np.ndarray
    y: np.ndarray
    panel: np.ndarray | None = None
    category: np.ndarray | None = None
    n_categories: int = 0
    value: np.ndarray | None = None
    y0: np.ndarray | None = None
    rects: Rects | None = None


@dataclass(frozen=True)
class Style:
    """How a layer is drawn.

    Attributes:
        colouring: the shading rule (constant, categorical or continuous).
        size: point diameter or line width in pixels (≥ 1; unused by bars).
        opacity: α of one mark.
        shape: ggplot2 pch code of the point symbol (points only).
        backend: the ``backend`` property (auto, cpu, gpu) or a CPU aggregation
            backend's name (numpy, datashader).
    """

    colouring: shade.Colouring
    size: float = 1.0
    opacity: float = 1.0
    shape: int = 19
    backend: str = "auto"


def bar_rects(layer: Layer) -> Rects:
    """The bars of a layer: dodged by colour category, from y0 (or 0) to y."""
    if layer.rects is not None:
        return layer.rects
    return bars.bar_rects(
        layer.x,
        layer.y,
        layer.y0,
        panel=layer.panel,
        category=layer.category,
        n_categories=layer.n_categories,
        value=layer.value,
    )


def dodged_bars(layers: list[Layer]) -> tuple[list[Layer], Rects]:
    """Bars of several layers side by side: each (layer, colour) pair gets its own
    sub-slot at an x, as colours do within one layer.

    Returns the layers carrying their rectangles (:attr:`Layer.rects`) and all
    rectangles together (for the scales).
    """
    if len(layers) == 1:
        rects = bar_rects(layers[0])
        return [replace(layers[0], rects=rects)], rects
    k = max(layers[0].n_categories, 1)
    coloured = layers[0].category is not None

    def joined(name: str) -> np.ndarray | None:
        parts = [getattr(layer, name) for layer in layers]
        return None if parts[0] is None else np.concatenate(parts)

    # The dodge key: layer × colours + colour, so layers never share a sub-slot.
    key = np.concatenate(
        [
            np.full(len(layer.x), index * k, dtype=np.int64) + (layer.category if coloured else 0)
            for index, layer in enumerate(layers)
        ]
    )
    y0 = None
    if any(layer.y0 is not None for layer in layers):
        y0 = np.concatenate(
            [layer.y0 if layer.y0 is not None else np.zeros(len(layer.x)) for layer in layers]
        )
    every = bars.bar_rects(
        joined("x"), joined("y"), y0, panel=joined("panel"), category=key,
        n_categories=k * len(layers), value=joined("value"),
    )  # fmt: skip
    owner = every.category // k
    out = []
    for index, layer in enumerate(layers):
        rows = np.flatnonzero(owner == index)
        part = Rects(
            x0=every.x0[rows], x1=every.x1[rows], y0=every.y0[rows], y1=every.y1[rows],
            panel=None if every.panel is None else every.panel[rows],
            category=every.category[rows] % k if coloured else None,
            n_categories=layer.n_categories,
            value=None if every.value is None else every.value[rows],
        )  # fmt: skip
        out.append(replace(layer, rects=part))
    return out, every


def draw(chart: str, layer: Layer, canvas: Canvas, style: Style) -> tuple[np.ndarray, str]:
    """RGBA rasters (P, H, W, 4) of one layer, and where and how it was drawn (for the log).

    ``style.backend`` is the ``backend`` property: points go to the GPU when it
    says so (``gpu``, or ``auto`` with a usable GPU and enough points); lines
    and bars are aggregated on the CPU, and the note says so.

    Raises:
        UsageError: an unknown chart kind, or a style shading cannot apply.
        BackendUnavailable: ``backend=gpu`` without a usable GPU.
    """
    n = len(layer.x)
    if chart == "point":
        on_gpu, reason = gpu_backend.use_gpu(style.backend, n)
        if on_gpu:
            rasters, dropped = gpu_backend.render_rasters(
                _points(layer), canvas, style.colouring, point_diameter=style.size,
                opacity=style.opacity, shape=style.shape,
            )  # fmt: skip
            return rasters, f"{n:,} points on the GPU ({reason}), {dropped:,} not drawn"
    else:
        reason = f"{chart} charts are aggregated on the CPU"
    grids = aggregate_layer(chart, layer, canvas, _cpu_backend(style.backend))
    if chart == "line" and n and grids.dropped < n and not grids.count.any():
        # As ggplot2's "each group consists of only one observation": say why the
        # panels are empty rather than leave a blank plot unexplained.
        log.warning(
            "line chart: no line has two points (one point per colour and panel); "
            "nothing is drawn — map fewer colours or facets, or use chart=point"
        )
    dropped = grids.dropped
    if chart == "point":
        if isinstance(style.colouring, shade.Categorical):
            # Reduce the K count planes to four and drop them (the local was their
            # only holder) before shading allocates its temporaries.
            grids = shade.mix(grids, style.colouring)
        rasters = shade.shade(
            grids, style.colouring, point_diameter=style.size, opacity=style.opacity,
            shape=style.shape,
        )  # fmt: skip
    elif chart == "line":
        # The stroke's width by a dilation, not a disk sum: one translucent line
        # stays as translucent across its width (see lines.thicken).
        rasters = shade.shade(thicken(grids, style.size), style.colouring, opacity=style.opacity)
    else:  # bars: the rectangles are the marks, nothing to spread
        rasters = shade.shade(grids, style.colouring, opacity=style.opacity)
    return rasters, f"{n:,} rows as {chart}s on the CPU ({reason}), {dropped:,} not drawn"


def _cpu_backend(choice: str) -> str:
    """The aggregation backend name for the ``backend`` property on the CPU."""
    return choice if choice in ("numpy", "datashader") else "auto"


def _points(layer: Layer) -> Points:
    return Points(
        x=layer.x,
        y=layer.y,
        panel=layer.panel,
        category=layer.category,
        value=layer.value,
        n_categories=layer.n_categories,
    )


def aggregate_layer(chart: str, layer: Layer, canvas: Canvas, backend: str = "auto") -> Grids:
    """The layer's per-panel grids for `chart` (see the module docstring)."""
    if chart == "point":
        return aggregate(_points(layer), canvas, backend=backend)
    if chart == "line":
        lines = Lines(
            x=layer.x,
            y=layer.y,
            panel=layer.panel,
            # One polyline per colour category in each panel (categories split lines).
            category=layer.category,
            value=layer.value,
            n_categories=layer.n_categories,
        )
        return aggregate_lines(lines, canvas)
    if chart == "bar":
        # keep_thin: a bar narrower than a pixel still shows as one pixel wide.
        return aggregate_rects(bar_rects(layer), canvas, keep_thin=True)
    raise UsageError(f"chart {chart!r} has no layer drawing; choose one of {', '.join(CHARTS)}")
