"""Figure layout: every box of a figure as integer pixels, computed before drawing.

Space is budgeted per side from the image edge inwards, as plotnine does::

    left   : plot margin | title (left) | legend (left) | y title | y tick labels | ticks | panels
    right  : panels | row strips | legend (right) | title (right) | plot margin
    top    : plot margin | title (top) | legend (top) | column strips | panels
    bottom : panels | ticks | x tick labels | x title | legend (bottom) | title (bottom) | margin

Every text is measured first; what is left goes to the panels, split into equal
cells so the data side can aggregate all panels at once into (P, H, W). When
axes differ between panels of one row (or column), every panel gets its own
axis and the gutters between panels widen to hold it. Tick labels that would
overlap a neighbour are dropped (the kept ones are recorded per axis), and a
label that overhangs the panel area takes its room from the panels too. If
that leaves a panel smaller than :data:`MIN_PANEL_PX`, :class:`LayoutError`
says how big the image must be.

Boxes are ``(x0, y0, x1, y1)``, half-open, y down. Raster pixel (i, j) of a
panel lands at image pixel (x0 + j, y0 + i): row 0 of a raster is the top of
the panel (the high end of y).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

from ggrs.compose import text
from ggrs.compose.theme import TextElement, Theme, pt_to_px
from ggrs.compose.views import (
    AxisView,
    CategoricalLegend,
    ContinuousLegend,
    FigureView,
    Legend,
)
from ggrs.errors import LayoutError, UsageError

Box = tuple[int, int, int, int]

#: Smallest panel side, in pixels, a layout accepts.
MIN_PANEL_PX = 10
# Smallest font strips shrink to when a label is wider than its strip.
_MIN_STRIP_PT = 5.0
# Label gap for overlap culling, as a fraction of the label's text height.
_CULL_GAP = 0.25
_EPS = 1e-9


@dataclass(frozen=True)
class PlacedText:
    """One text, placed: what :func:`ggrs.compose.text.draw_text` needs, and its box."""

    text: str
    box: Box
    anchor: tuple[float, float]
    style: TextElement
    angle: float = 0.0
    hjust: float = 0.5
    vjust: float = 0.5

    def shifted(self, dx: int, dy: int) -> PlacedText:
        """The same text moved by whole pixels."""
        x0, y0, x1, y1 = self.box
        return replace(
            self,
            box=(x0 + dx, y0 + dy, x1 + dx, y1 + dy),
            anchor=(self.anchor[0] + dx, self.anchor[1] + dy),
        )


@dataclass(frozen=True)
class AxisLayout:
    """One drawn axis of one panel.

    Attributes:
        axis: ``"x"`` (below the panel) or ``"y"`` (left of the panel).
        row, col: the panel.
        ticks: pixel position along the axis (x for "x", y for "y") of every
            break inside the limits.
        tick_breaks: index into ``AxisView.breaks`` of each tick.
        kept: indices into ``AxisView.breaks`` whose labels survive overlap culling.
        labels: the placed labels, one per ``kept`` index.
    """

    axis: str
    row: int
    col: int
    ticks: tuple[float, ...]
    tick_breaks: tuple[int, ...]
    kept: tuple[int, ...]
    labels: tuple[PlacedText, ...]


@dataclass(frozen=True)
class LegendLayout:
    """The legend box and everything inside it.

    Attributes:
        box: the legend background.
        title: the legend title, or None.
        labels: break labels (colour bar) or category labels (key), placed.
        vertical: True when the bar runs vertically / keys are stacked in columns.
        bar: the colour bar (continuous legends).
        bar_ticks: pixel positions along the bar of the kept breaks.
        kept: indices of the breaks (continuous) whose labels are drawn.
        keys: one key square per category (categorical legends).
    """

    box: Box
    title: PlacedText | None
    labels: tuple[PlacedText, ...]
    vertical: bool = True
    bar: Box | None = None
    bar_ticks: tuple[float, ...] = ()
    kept: tuple[int, ...] = ()
    keys: tuple[Box, ...] = ()

    def shifted(self, dx: int, dy: int) -> LegendLayout:
        """The same legend moved by whole pixels."""
        along = dy if self.vertical else dx
        return replace(
            self,
            box=_shift(self.box, dx, dy),
            title=None if self.title is None else self.title.shifted(dx, dy),
            labels=tuple(t.shifted(dx, dy) for t in self.labels),
            bar=None if self.bar is None else _shift(self.bar, dx, dy),
            bar_ticks=tuple(p + along for p in self.bar_ticks),
            keys=tuple(_shift(k, dx, dy) for k in self.keys),
        )


@dataclass(frozen=True)
class Layout:
    """Where everything of one figure goes, in integer pixels.

    Attributes:
        width, height: image size.
        n_rows, n_cols: facet grid shape.
        panels: panel boxes, row-major (index = row * n_cols + col); all the same size.
        col_strips: one strip box per column, above the top row (empty: no column facet).
        row_strips: one strip box per row, right of the last column (empty: no row facet).
        strip_labels: strip texts, column strips first.
        axes: every drawn axis (x under the bottom row or under every panel,
            y left of the first column or of every panel).
        tick_length: tick mark length in pixels.
        title, x_title, y_title: placed titles, or None when absent or blank.
        legend: the legend, or None.
    """

    width: int
    height: int
    n_rows: int
    n_cols: int
    panels: tuple[Box, ...]
    col_strips: tuple[Box, ...] = ()
    row_strips: tuple[Box, ...] = ()
    strip_labels: tuple[PlacedText, ...] = ()
    axes: tuple[AxisLayout, ...] = ()
    tick_length: int = 0
    title: PlacedText | None = None
    x_title: PlacedText | None = None
    y_title: PlacedText | None = None
    legend: LegendLayout | None = None

    @property
    def panel_size(self) -> tuple[int, int]:
        """(width, height) of every panel, i.e. of every data raster."""
        x0, y0, x1, y1 = self.panels[0]
        return x1 - x0, y1 - y0

    def panel_box(self, row: int, col: int) -> Box:
        """The box of the panel at grid position (row, col)."""
        if not (0 <= row < self.n_rows and 0 <= col < self.n_cols):
            raise IndexError(f"panel ({row}, {col}) outside a {self.n_rows}×{self.n_cols} grid")
        return self.panels[row * self.n_cols + col]

    def axis(self, axis: str, row: int, col: int) -> AxisLayout | None:
        """The ``"x"`` or ``"y"`` axis drawn for panel (row, col), or None when it has none."""
        for a in self.axes:
            if (a.axis, a.row, a.col) == (axis, row, col):
                return a
        return None

    def texts(self) -> tuple[PlacedText, ...]:
        """Every placed text, in drawing order."""
        out: list[PlacedText] = list(self.strip_labels)
        for a in self.axes:
            out.extend(a.labels)
        out.extend(t for t in (self.x_title, self.y_title, self.title) if t is not None)
        if self.legend is not None:
            if self.legend.title is not None:
                out.append(self.legend.title)
            out.extend(self.legend.labels)
        return tuple(out)


def x_pixel(box: Box, unit: float) -> float:
    """Continuous x pixel coordinate of ``unit`` in [0, 1] across panel ``box``."""
    return box[0] + unit * (box[2] - box[0])


def y_pixel(box: Box, unit: float) -> float:
    """Continuous y pixel coordinate of ``unit`` in [0, 1] up panel ``box``."""
    return box[3] - unit * (box[3] - box[1])


def _shift(box: Box, dx: int, dy: int) -> Box:
    return box[0] + dx, box[1] + dy, box[2] + dx, box[3] + dy


def _px(points: float) -> int:
    """A theme size in whole pixels, rounded half up (5.5 pt → 7 px, as ggplot2 at 96 dpi)."""
    return math.floor(pt_to_px(points) + 0.5)


def _sign(v: float) -> int:
    return 0 if abs(v) < _EPS else (1 if v > 0 else -1)


def x_label_justification(angle: float) -> tuple[float, float]:
    """(hjust, vjust) that hang an x tick label rotated by ``angle`` below its tick.

    The label's end nearest the axis sits at the tick: 0° centres the label
    under the tick; 45° puts its top-right corner there (ggplot2's
    ``angle = 45, hjust = 1, vjust = 1``); 90° its right end; −45° its top-left.
    """
    rad = math.radians(angle)
    hjust = {1: 1.0, -1: 0.0, 0: 0.5}[_sign(math.sin(rad))]
    vjust = {1: 1.0, -1: 0.0, 0: 0.5}[_sign(math.cos(rad))]
    return hjust, vjust


def y_label_justification(angle: float) -> tuple[float, float]:
    """(hjust, vjust) that put a y tick label rotated by ``angle`` left of its tick."""
    rad = math.radians(angle)
    hjust = {1: 1.0, -1: 0.0, 0: 0.5}[_sign(math.cos(rad))]
    vjust = {1: 0.0, -1: 1.0, 0: 0.5}[_sign(math.sin(rad))]
    return hjust, vjust


@dataclass(frozen=True)
class _Label:
    """A label candidate for culling: its anchor, upright size and justification."""

    index: int
    pos: float
    placed: PlacedText
    w: int
    h: int


def _overlap(a: _Label, b: _Label, gap: float) -> bool:
    """Whether two labels of the same angle overlap (with ``gap``), as rotated rectangles.

    Both rectangles share one orientation, so they are disjoint exactly when
    they are disjoint along the text direction or across it; b's anchor is
    moved into a's text frame and the two interval pairs are compared.
    """
    angle = a.placed.angle
    rad = math.radians(angle)
    c, s = math.cos(rad), math.sin(rad)
    dx = b.placed.anchor[0] - a.placed.anchor[0]
    dy = b.placed.anchor[1] - a.placed.anchor[1]
    # Screen (y down) → text frame (y up), rotated back by -angle.
    tx = c * dx - s * dy
    ty = -s * dx - c * dy
    ha, va, hb, vb = a.placed.hjust, a.placed.vjust, b.placed.hjust, b.placed.vjust
    a0, a1 = -ha * a.w, (1 - ha) * a.w
    b0, b1 = tx - hb * b.w, tx + (1 - hb) * b.w
    along = a1 + gap > b0 and b1 + gap > a0
    a0, a1 = -va * a.h, (1 - va) * a.h
    b0, b1 = ty - vb * b.h, ty + (1 - vb) * b.h
    across = a1 + gap > b0 and b1 + gap > a0
    return along and across


def _cull_labels(labels: Sequence[_Label]) -> list[_Label]:
    """Keep labels in position order, dropping each that overlaps the last kept one."""
    kept: list[_Label] = []
    for lab in sorted(labels, key=lambda x: x.pos):
        if lab.w == 0:
            continue
        if not kept or not _overlap(kept[-1], lab, _CULL_GAP * max(kept[-1].h, lab.h)):
            kept.append(lab)
    return kept


# --------------------------------------------------------------------------- measuring


def _views_differ(views: Sequence[AxisView]) -> bool:
    return any(v != views[0] for v in views[1:])


def _validate(fig: FigureView) -> None:
    if fig.n_rows < 1 or fig.n_cols < 1:
        raise UsageError(f"facet grid must be at least 1×1, got {fig.n_rows}×{fig.n_cols}")
    if fig.width < 1 or fig.height < 1:
        raise UsageError(f"figure size must be positive, got {fig.width}×{fig.height}")
    if len(fig.panels) != fig.n_rows * fig.n_cols:
        raise UsageError(
            f"{fig.n_rows}×{fig.n_cols} facet grid needs {fig.n_rows * fig.n_cols} panels, "
            f"got {len(fig.panels)}"
        )
    for i, p in enumerate(fig.panels):
        if (p.row, p.col) != divmod(i, fig.n_cols):
            raise UsageError(f"panel {i} is at ({p.row}, {p.col}); panels must be row-major")
    if fig.col_strips and len(fig.col_strips) != fig.n_cols:
        raise UsageError(f"{len(fig.col_strips)} column strips for {fig.n_cols} columns")
    if fig.row_strips and len(fig.row_strips) != fig.n_rows:
        raise UsageError(f"{len(fig.row_strips)} row strips for {fig.n_rows} rows")


def _max_size(
    labels: Sequence[str], style: TextElement | None, angle: float = 0.0
) -> tuple[int, int]:
    if style is None:
        return 0, 0
    sizes = [text.measure(t, style.size, style.bold, angle) for t in labels]
    return max((s[0] for s in sizes), default=0), max((s[1] for s in sizes), default=0)


def _place(
    s: str,
    style: TextElement,
    anchor: tuple[float, float],
    angle: float = 0.0,
    hjust: float = 0.5,
    vjust: float = 0.5,
) -> PlacedText:
    box = text.text_box(
        s, style.size, anchor, bold=style.bold, angle=angle, hjust=hjust, vjust=vjust
    )
    return PlacedText(s, box, anchor, style, angle, hjust, vjust)


# --------------------------------------------------------------------------- legend


def _legend_plan(legend: Legend, theme: Theme, vertical: bool, max_len: int) -> LegendLayout:
    """Lay the legend out at the origin; ``max_len`` bounds its length along its direction."""
    if isinstance(legend, ContinuousLegend):
        if len(legend.breaks) != len(legend.labels):
            raise UsageError(
                f"legend has {len(legend.breaks)} breaks but {len(legend.labels)} labels"
            )
        return _colourbar_plan(legend, theme, vertical, max_len)
    if len(legend.labels) != len(legend.colors):
        raise UsageError(f"legend has {len(legend.labels)} labels but {len(legend.colors)} colours")
    return _key_plan(legend, theme, vertical, max_len)


def _legend_metrics(
    legend: Legend, theme: Theme
) -> tuple[int, int, int, tuple[int, int], TextElement | None]:
    """Margin, key size and text gap in pixels, the title's size, the label style."""
    margin, key = _px(theme.legend_margin), _px(theme.legend_key_size)
    gap = _px(theme.legend_text_margin)
    return margin, key, gap, _legend_title(legend, theme), theme.legend_text


def _legend_title(legend: Legend, theme: Theme) -> tuple[int, int]:
    if theme.legend_title is None or not legend.title:
        return 0, 0
    return text.measure(legend.title, theme.legend_title.size, theme.legend_title.bold)


def _colourbar_plan(
    legend: ContinuousLegend, theme: Theme, vertical: bool, max_len: int
) -> LegendLayout:
    m, key, gap, (tw, th), style = _legend_metrics(legend, theme)
    lw, lh = _max_size(legend.labels, style)
    low, high = legend.limits
    span = (high - low) or 1.0
    units = [(b - low) / span for b in legend.breaks]
    if vertical:
        over = math.ceil(lh / 2)
        top = m + (th + gap if th else 0) + over
        length = min(5 * key, max_len - top - over - m)
    else:
        over = math.ceil(lw / 2)
        start = m + (tw + gap if tw else 0) + over
        length = min(5 * key, max_len - start - over - m)
    if length < MIN_PANEL_PX:
        raise LayoutError(
            f"the colour bar legend needs {max_len - length + MIN_PANEL_PX} px along the "
            f"{'height' if vertical else 'width'} but {max_len} px are available"
        )
    cands: list[_Label] = []
    if vertical:
        bar = (m, top, m + key, top + length)
        for i, (u, s) in enumerate(zip(units, legend.labels, strict=True)):
            if style is None or not -_EPS <= u <= 1 + _EPS:
                continue
            pos = bar[3] - u * length
            placed = _place(s, style, (bar[2] + gap, pos), hjust=0.0, vjust=0.5)
            cands.append(_Label(i, pos, placed, *text.measure(s, style.size, style.bold)))
        width = max(m + tw + m, bar[2] + (gap + lw if lw else 0) + m)
        height = bar[3] + over + m
        title_at = (float(m), float(m))
        title_just = (0.0, 1.0)
    else:
        content = max(th, key + (gap + lh if lh else 0))
        by0 = m + (content - key - (gap + lh if lh else 0)) // 2
        bar = (start, by0, start + length, by0 + key)
        for i, (u, s) in enumerate(zip(units, legend.labels, strict=True)):
            if style is None or not -_EPS <= u <= 1 + _EPS:
                continue
            pos = bar[0] + u * length
            placed = _place(s, style, (pos, bar[3] + gap), hjust=0.5, vjust=1.0)
            cands.append(_Label(i, pos, placed, *text.measure(s, style.size, style.bold)))
        width = bar[2] + over + m
        height = m + content + m
        title_at = (float(m), m + content / 2)
        title_just = (0.0, 0.5)
    kept = _cull_labels(cands)
    title = None
    if th and theme.legend_title is not None:
        title = _place(legend.title, theme.legend_title, title_at, 0.0, *title_just)
    return LegendLayout(
        box=(0, 0, width, height),
        title=title,
        labels=tuple(k.placed for k in kept),
        vertical=vertical,
        bar=bar,
        bar_ticks=tuple(k.pos for k in kept),
        kept=tuple(k.index for k in kept),
    )


def _key_plan(
    legend: CategoricalLegend, theme: Theme, vertical: bool, max_len: int
) -> LegendLayout:
    m, key, gap, (tw, th), style = _legend_metrics(legend, theme)
    n = len(legend.labels)
    sizes = [
        text.measure(s, style.size, style.bold) if style is not None else (0, 0)
        for s in legend.labels
    ]
    cell_h = max([key] + [h for _, h in sizes])

    def item_w(i: int) -> int:
        return key + (gap + sizes[i][0] if sizes[i][0] else 0)

    if vertical:
        top = m + (th + gap if th else 0)
        per_col = (max_len - top - m) // cell_h
        if per_col < 1 and n:
            raise LayoutError(
                f"the legend needs {top + cell_h + m} px of height but {max_len} px are available"
            )
        n_cols = math.ceil(n / per_col) if n else 0
        n_rows = math.ceil(n / n_cols) if n else 0
        cells = [(i % n_rows, i // n_rows) for i in range(n)]  # column-major, like ggplot2
        left = m
    else:
        top = m
        left = m + (tw + gap if tw else 0)
        n_rows = 1
        while True:
            n_cols = math.ceil(n / n_rows) if n else 0
            widths = [max(item_w(i) for i in range(c, n, n_cols)) for c in range(n_cols)]
            total = left + sum(widths) + gap * max(n_cols - 1, 0) + m
            if total <= max_len or n_rows >= n:
                break
            n_rows += 1
        if total > max_len:
            raise LayoutError(
                f"the legend needs {total} px of width but {max_len} px are available"
            )
        cells = [(i // n_cols, i % n_cols) for i in range(n)]  # row-major
    col_w = [0] * n_cols
    for i, (_, c) in enumerate(cells):
        col_w[c] = max(col_w[c], item_w(i))
    col_x = [left]
    for w in col_w[:-1]:
        col_x.append(col_x[-1] + w + gap)
    keys: list[Box] = []
    labels: list[PlacedText] = []
    for i, (r, c) in enumerate(cells):
        x = col_x[c]
        y = top + r * cell_h + (cell_h - key) // 2
        keys.append((x, y, x + key, y + key))
        if style is not None and sizes[i][0]:
            labels.append(
                _place(legend.labels[i], style, (x + key + gap, y + key / 2), 0.0, 0.0, 0.5)
            )
    keys_right = (col_x[-1] + col_w[-1]) if n else left
    block_h = n_rows * cell_h
    if vertical:
        width = max(m + tw + m, keys_right + m)
        height = top + block_h + m
        title_at, title_just = (float(m), float(m)), (0.0, 1.0)
    else:
        content = max(th, block_h)
        shift = (content - block_h) // 2
        keys = [_shift(k, 0, shift) for k in keys]
        labels = [t.shifted(0, shift) for t in labels]
        width = keys_right + m
        height = m + content + m
        title_at, title_just = (float(m), m + content / 2), (0.0, 0.5)
    title = None
    if th and theme.legend_title is not None:
        title = _place(legend.title, theme.legend_title, title_at, 0.0, *title_just)
    return LegendLayout(
        box=(0, 0, width, height),
        title=title,
        labels=tuple(labels),
        vertical=vertical,
        keys=tuple(keys),
    )


# --------------------------------------------------------------------------- the layout


@dataclass
class _Sides:
    """Space taken on each side of the panel grid, from the edge inwards."""

    left: int = 0
    right: int = 0
    top: int = 0
    bottom: int = 0


def compute_layout(fig: FigureView, theme: Theme) -> Layout:
    """Lay out ``fig`` with ``theme``: every box, in integer pixels.

    Args:
        fig: the figure's size, facets, scales, texts and legend.
        theme: the resolved theme (overrides already applied).

    Returns:
        The layout; all panels have the same size (:attr:`Layout.panel_size`).

    Raises:
        LayoutError: the image is too small for its panels, legend or titles;
            the message says the size needed.
        UsageError: the figure view is inconsistent (panel count, strip count).
    """
    _validate(fig)
    nr, nc = fig.n_rows, fig.n_cols
    width, height = fig.width, fig.height
    margin = _px(theme.plot_margin)
    spacing = _px(theme.panel_spacing)

    # Which panels draw axes: one per row / column unless scales differ inside it.
    y_every = any(_views_differ([fig.panel(r, c).y for c in range(nc)]) for r in range(nr))
    x_every = any(_views_differ([fig.panel(r, c).x for r in range(nr)]) for c in range(nc))
    y_cells = [(r, c) for r in range(nr) for c in (range(nc) if y_every else (0,))]
    x_cells = [(r, c) for r in (range(nr) if x_every else (nr - 1,)) for c in range(nc)]

    # Axis bands: tick length, label margin, widest (tallest) rotated label.
    has_axes = theme.axis_text is not None or theme.axis_ticks is not None
    tick = _px(theme.tick_length) if has_axes else 0
    label_gap = _px(theme.tick_label_margin)
    xa, ya = theme.x_tick_angle, theme.y_tick_angle
    x_lab_h = max((_max_size(fig.panel(r, c).x.labels, theme.axis_text, xa)[1] for r, c in x_cells))
    y_lab_w = max((_max_size(fig.panel(r, c).y.labels, theme.axis_text, ya)[0] for r, c in y_cells))
    x_band = tick + (label_gap + x_lab_h if x_lab_h else 0)
    y_band = tick + (label_gap + y_lab_w if y_lab_w else 0)

    # Axis titles.
    title_gap = _px(theme.axis_title_margin)
    at = theme.axis_title
    x_title_h = _max_size([fig.x_title], at)[1]
    y_title_w = _max_size([fig.y_title], at, 90.0)[0]
    x_title_band = x_title_h + title_gap if x_title_h else 0
    y_title_band = y_title_w + title_gap if y_title_w else 0

    # Plot title: a band on its side.
    tpos = theme.title_position
    _, title_h = _max_size([fig.title], theme.title)
    title_band = title_h + _px(theme.title_margin) if title_h else 0
    t = _Sides(**{tpos: title_band})

    # Legend: sized within the space the title and margins leave.
    lpos = theme.legend_position if fig.legend is not None else "none"
    legend_plan: LegendLayout | None = None
    lg = _Sides()
    if lpos != "none":
        vertical = lpos in ("left", "right", "inside")
        if vertical:
            max_len = height - 2 * margin - t.top - t.bottom
        else:
            max_len = width - 2 * margin - t.left - t.right
        legend_plan = _legend_plan(fig.legend, theme, vertical, max_len)
        lw, lh = legend_plan.box[2], legend_plan.box[3]
        if lpos in ("left", "right"):
            setattr(lg, lpos, lw + _px(theme.legend_spacing))
        elif lpos in ("top", "bottom"):
            setattr(lg, lpos, lh + _px(theme.legend_spacing))

    # Text must stay inside these limits (inside the margin, title and legend bands).
    x_lo, x_hi = margin + t.left + lg.left, width - margin - t.right - lg.right
    y_lo, y_hi = margin + t.top + lg.top, height - margin - t.bottom - lg.bottom

    strip = theme.strip_text
    pad = _px(theme.strip_padding)
    col_pt = row_pt = strip.size if strip is not None else 0.0
    extra = _Sides()
    for _ in range(64):
        col_strip_h = _strip_thickness(fig.col_strips, strip, col_pt, pad, 0.0)
        row_strip_w = _strip_thickness(fig.row_strips, strip, row_pt, pad, -90.0)
        left = x_lo + y_title_band + y_band + extra.left
        right = width - x_hi + row_strip_w + extra.right
        top = y_lo + col_strip_h + extra.top
        bottom = height - y_hi + x_title_band + x_band + extra.bottom
        hgap = spacing + (y_band if y_every else 0)
        vgap = spacing + (x_band if x_every else 0)
        pw = (width - left - right - (nc - 1) * hgap) // nc
        ph = (height - top - bottom - (nr - 1) * vgap) // nr
        if pw < MIN_PANEL_PX or ph < MIN_PANEL_PX:
            need_w = width - nc * pw + nc * MIN_PANEL_PX if pw < MIN_PANEL_PX else width
            need_h = height - nr * ph + nr * MIN_PANEL_PX if ph < MIN_PANEL_PX else height
            raise LayoutError(
                f"a {width}×{height} px image with {nr}×{nc} facets ({nr * nc} panels) leaves "
                f"{max(pw, 0)}×{max(ph, 0)} px per panel; panels need at least "
                f"{MIN_PANEL_PX}×{MIN_PANEL_PX} px, so the image must be at least "
                f"{need_w}×{need_h} px"
            )
        panels = tuple(
            (x, y, x + pw, y + ph)
            for r in range(nr)
            for c in range(nc)
            for x, y in [(left + c * (pw + hgap), top + r * (ph + vgap))]
        )
        axes = _axes(fig, theme, panels, x_cells, y_cells, tick, label_gap)
        # Shrink strip text that is wider than its strip, rather than clip it.
        new_col_pt = _fit_strip(fig.col_strips, strip, col_pt, pw - 2 * pad, 0.0)
        new_row_pt = _fit_strip(fig.row_strips, strip, row_pt, ph - 2 * pad, -90.0)
        # Labels that overhang the panel area past the limits take space from the panels.
        grow = _Sides()
        for a in axes:
            for lab in a.labels:
                x0, y0, x1, y1 = lab.box
                if a.axis == "x":
                    grow.left = max(grow.left, x_lo - x0)
                    grow.right = max(grow.right, x1 - x_hi)
                else:
                    grow.top = max(grow.top, y_lo - y0)
                    grow.bottom = max(grow.bottom, y1 - y_hi)
        if not (grow.left or grow.right or grow.top or grow.bottom) and (
            (new_col_pt, new_row_pt) == (col_pt, row_pt)
        ):
            break
        extra.left += grow.left
        extra.right += grow.right
        extra.top += grow.top
        extra.bottom += grow.bottom
        col_pt, row_pt = new_col_pt, new_row_pt

    grid = (panels[0][0], panels[0][1], panels[-1][2], panels[-1][3])

    # Strips, adjacent to their panels.
    col_strips: tuple[Box, ...] = ()
    row_strips: tuple[Box, ...] = ()
    strip_labels: list[PlacedText] = []
    if col_strip_h:
        col_strips = tuple((p[0], grid[1] - col_strip_h, p[2], grid[1]) for p in panels[:nc])
        style = replace(strip, size=col_pt)
        for s, b in zip(fig.col_strips, col_strips, strict=True):
            strip_labels.append(_place(s, style, ((b[0] + b[2]) / 2, (b[1] + b[3]) / 2)))
    if row_strip_w:
        row_strips = tuple(
            (grid[2], panels[r * nc][1], grid[2] + row_strip_w, panels[r * nc][3])
            for r in range(nr)
        )
        style = replace(strip, size=row_pt)
        for s, b in zip(fig.row_strips, row_strips, strict=True):
            strip_labels.append(_place(s, style, ((b[0] + b[2]) / 2, (b[1] + b[3]) / 2), -90.0))

    # Axis titles, centred on the panel grid, outside the tick labels.
    x_title = y_title = None
    if x_title_h:
        y = grid[3] + x_band + title_gap
        x_title = _place(fig.x_title, at, ((grid[0] + grid[2]) / 2, y), 0.0, 0.5, 1.0)
        x_title = _clamp_text(x_title, x_lo, x_hi, "x", "x axis title")
    if y_title_w:
        x = x_lo + extra.left
        y_title = _place(fig.y_title, at, (x, (grid[1] + grid[3]) / 2), 90.0, 0.5, 1.0)
        y_title = _clamp_text(y_title, y_lo, y_hi, "y", "y axis title")

    # Plot title, justified along the panel grid on its side.
    title = None
    if title_h:
        jx, jy = theme.title_justification
        style = theme.title
        if tpos in ("top", "bottom"):
            y = margin if tpos == "top" else height - margin
            anchor = (grid[0] + jx * (grid[2] - grid[0]), float(y))
            title = _place(fig.title, style, anchor, 0.0, jx, 1.0 if tpos == "top" else 0.0)
            title = _clamp_text(title, margin, width - margin, "x", "title")
        else:
            # Left titles read upwards, right titles downwards; both face the panels.
            x = margin if tpos == "left" else width - margin
            anchor = (float(x), grid[3] - jy * (grid[3] - grid[1]))
            angle, hj = (90.0, jy) if tpos == "left" else (-90.0, 1.0 - jy)
            title = _place(fig.title, style, anchor, angle, hj, 1.0)
            title = _clamp_text(title, margin, height - margin, "y", "title")

    legend = None
    if legend_plan is not None:
        legend = _place_legend(
            legend_plan, theme, lpos, grid, col_strip_h, row_strip_w, width, height, t, margin
        )

    return Layout(
        width=width,
        height=height,
        n_rows=nr,
        n_cols=nc,
        panels=panels,
        col_strips=col_strips,
        row_strips=row_strips,
        strip_labels=tuple(strip_labels),
        axes=axes,
        tick_length=tick,
        title=title,
        x_title=x_title,
        y_title=y_title,
        legend=legend,
    )


def _strip_thickness(
    labels: Sequence[str], style: TextElement | None, size: float, pad: int, angle: float
) -> int:
    if not labels or style is None:
        return 0
    sized = replace(style, size=size)
    w, h = _max_size(labels, sized, angle)
    thickness = w if angle else h
    # An all-blank facet still gets its strip, one text line tall.
    if thickness == 0:
        thickness = text.measure("Hg", size, style.bold)[1]
    return thickness + 2 * pad


def _fit_strip(
    labels: Sequence[str], style: TextElement | None, size: float, room: int, angle: float
) -> float:
    if not labels or style is None or size <= _MIN_STRIP_PT:
        return size
    w, h = _max_size(labels, replace(style, size=size), angle)
    length = h if angle else w
    if length <= room:
        return size
    # Quarter points keep the font cache small; shrinking is monotone so the loop ends.
    fitted = math.floor(size * max(room, 1) / length * 4) / 4
    return max(_MIN_STRIP_PT, min(fitted, size - 0.25))


def _clamp_text(placed: PlacedText, lo: int, hi: int, axis: str, what: str) -> PlacedText:
    """Slide ``placed`` along ``axis`` into [lo, hi]; LayoutError if it is longer than that."""
    x0, y0, x1, y1 = placed.box
    a0, a1 = (x0, x1) if axis == "x" else (y0, y1)
    if a1 - a0 > hi - lo:
        dim = "width" if axis == "x" else "height"
        raise LayoutError(
            f"the {what} {placed.text!r} needs {a1 - a0} px of {dim} but only {hi - lo} px "
            f"are available; enlarge the image or shorten the text"
        )
    d = lo - a0 if a0 < lo else (hi - a1 if a1 > hi else 0)
    return placed.shifted(d, 0) if axis == "x" else placed.shifted(0, d)


def _axes(
    fig: FigureView,
    theme: Theme,
    panels: tuple[Box, ...],
    x_cells: list[tuple[int, int]],
    y_cells: list[tuple[int, int]],
    tick: int,
    label_gap: int,
) -> tuple[AxisLayout, ...]:
    """Ticks and culled labels of every drawn axis.

    Labels are culled along each line of axes together (the bottom row of x
    axes, the first column of y axes, or each row / column when every panel
    has its own axis), so the last label of one panel cannot collide with the
    first of its neighbour either.
    """
    nc = fig.n_cols
    style = theme.axis_text
    result: dict[tuple[str, int, int], tuple[list[float], list[int], list[_Label]]] = {}

    def collect(axis: str, cells: list[tuple[int, int]]) -> None:
        angle = theme.x_tick_angle if axis == "x" else theme.y_tick_angle
        hj, vj = x_label_justification(angle) if axis == "x" else y_label_justification(angle)
        for r, c in cells:
            box = panels[r * nc + c]
            view = fig.panel(r, c).x if axis == "x" else fig.panel(r, c).y
            ticks: list[float] = []
            idx: list[int] = []
            cands: list[_Label] = []
            units = view.to_unit(list(view.breaks)) if view.breaks else ()
            for i, (u, s) in enumerate(zip(units, view.labels, strict=True)):
                if not -_EPS <= u <= 1 + _EPS:
                    continue
                u = min(max(float(u), 0.0), 1.0)
                pos = x_pixel(box, u) if axis == "x" else y_pixel(box, u)
                ticks.append(pos)
                idx.append(i)
                if style is None or not s:
                    continue
                if axis == "x":
                    anchor = (pos, float(box[3] + tick + label_gap))
                else:
                    anchor = (float(box[0] - tick - label_gap), pos)
                placed = _place(s, style, anchor, angle, hj, vj)
                w, h = text.measure(s, style.size, style.bold)
                cands.append(_Label(i, pos, placed, w, h))
            result[(axis, r, c)] = (ticks, idx, cands)

    collect("x", x_cells)
    collect("y", y_cells)

    # Cull along each line of axes.
    lines: dict[tuple[str, int], list[tuple[int, int]]] = {}
    for axis, r, c in result:
        key = (axis, r) if axis == "x" else (axis, c)
        lines.setdefault(key, []).append((r, c))
    kept_by_cell: dict[tuple[str, int, int], list[_Label]] = {k: [] for k in result}
    for (axis, _), cells in lines.items():
        tagged: list[_Label] = []
        owner: dict[int, tuple[int, int]] = {}
        for r, c in cells:
            for cand in result[(axis, r, c)][2]:
                owner[id(cand)] = (r, c)
                tagged.append(cand)
        for cand in _cull_labels(tagged):
            r, c = owner[id(cand)]
            kept_by_cell[(axis, r, c)].append(cand)

    out: list[AxisLayout] = []
    for (axis, r, c), (ticks, idx, _) in result.items():
        kept = sorted(kept_by_cell[(axis, r, c)], key=lambda k: k.index)
        out.append(
            AxisLayout(
                axis=axis,
                row=r,
                col=c,
                ticks=tuple(ticks),
                tick_breaks=tuple(idx),
                kept=tuple(k.index for k in kept),
                labels=tuple(k.placed for k in kept),
            )
        )
    return tuple(out)


def _place_legend(
    plan: LegendLayout,
    theme: Theme,
    position: str,
    grid: Box,
    col_strip_h: int,
    row_strip_w: int,
    width: int,
    height: int,
    t: _Sides,
    margin: int,
) -> LegendLayout:
    """Move the legend plan to its side of the figure, justified along the panel area."""
    lw, lh = plan.box[2], plan.box[3]
    area = (grid[0], grid[1] - col_strip_h, grid[2] + row_strip_w, grid[3])
    just = theme.legend_justification

    def clamp(v: float, lo: int, hi: int) -> int:
        return min(max(math.floor(v + 0.5), lo), max(hi, lo))

    if position == "inside":
        ix, iy = theme.legend_position_inside
        jx, jy = just if just is not None else (ix, iy)
        px = grid[0] + ix * (grid[2] - grid[0])
        py = grid[3] - iy * (grid[3] - grid[1])
        x0 = clamp(px - jx * lw, 0, width - lw)
        y0 = clamp(py - (1 - jy) * lh, 0, height - lh)
        return plan.shifted(x0, y0)
    jx, jy = just if just is not None else (0.5, 0.5)
    if position in ("left", "right"):
        x0 = margin + t.left if position == "left" else width - margin - t.right - lw
        y = area[1] + (1 - jy) * (area[3] - area[1] - lh)
        y0 = clamp(y, margin + t.top, height - margin - t.bottom - lh)
    else:
        y0 = margin + t.top if position == "top" else height - margin - t.bottom - lh
        x = area[0] + jx * (area[2] - area[0] - lw)
        x0 = clamp(x, margin + t.left, width - margin - t.right - lw)
    return plan.shifted(x0, y0)
