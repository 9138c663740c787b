"""Hand-built figure views for the composition tests (no data side involved)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from ggrs.compose.views import (
    AxisView,
    CategoricalLegend,
    ContinuousLegend,
    FigureView,
    Legend,
    PanelView,
)

VIRIDIS = (
    (0.0, (68, 1, 84)),
    (0.5, (33, 144, 140)),
    (1.0, (253, 231, 37)),
)


def axis(low: float, high: float, step: float, fmt: str = "{:g}") -> AxisView:
    """Breaks every ``step`` inside [low, high], minor breaks halfway."""
    breaks = np.arange(np.ceil(low / step) * step, high + 1e-9, step) + 0.0
    minor = breaks[:-1] + step / 2
    return AxisView((low, high), tuple(breaks), tuple(fmt.format(b) for b in breaks), tuple(minor))


def continuous_legend() -> ContinuousLegend:
    return ContinuousLegend("value", (0.0, 1.0), (0.0, 0.5, 1.0), ("0", "0.5", "1"), VIRIDIS)


def categorical_legend(shape: int = 19) -> CategoricalLegend:
    return CategoricalLegend(
        "group", ("a", "bb", "ccc"), ((230, 0, 0), (0, 160, 0), (0, 0, 230)), shape
    )


def figure(
    width: int = 900,
    height: int = 600,
    n_rows: int = 2,
    n_cols: int = 3,
    *,
    x: AxisView | None = None,
    y_per_row: bool = True,
    y_per_panel: bool = False,
    strips: bool = True,
    legend: Legend | None = None,
    title: str = "",
    x_title: str = "x value",
    y_title: str = "y value",
) -> FigureView:
    """An n_rows × n_cols facet grid; y scales differ per row (or per panel) on request."""
    x = x if x is not None else axis(-5.5, 5.5, 2.5)
    panels = []
    for r in range(n_rows):
        for c in range(n_cols):
            k = r * n_cols + c if y_per_panel else (r if y_per_row else 0)
            y = axis(-1.1 * 10**k, 1.1 * 10**k, 0.5 * 10**k)
            panels.append(PanelView(r, c, x, y))
    return FigureView(
        width,
        height,
        n_rows,
        n_cols,
        tuple(panels),
        col_strips=tuple(f"column {c}" for c in range(n_cols)) if strips else (),
        row_strips=tuple(f"row {r}" for r in range(n_rows)) if strips else (),
        title=title,
        x_title=x_title,
        y_title=y_title,
        legend=legend,
    )


@pytest.fixture
def make_figure() -> Callable[..., FigureView]:
    return figure


@pytest.fixture
def make_axis() -> Callable[..., AxisView]:
    return axis


@pytest.fixture
def legends() -> dict[str, Callable[..., Legend]]:
    return {"continuous": continuous_legend, "categorical": categorical_legend}
