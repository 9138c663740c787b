"""The result of aggregation: per-panel pixel grids, row 0 at the top of each panel."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class Grids:
    """Per-pixel reductions of one layer of points.

    Attributes:
        count: uint32 points per pixel, shape (P, H, W), or (P, K, H, W) when the
            points have K categories. Row 0 is the top of the panel.
        value_sum: float64 sum of the points' values per pixel, shape (P, H, W),
            when the points carry a continuous colour value; else None. The mean is
            ``value_sum / count``.
        dropped: number of points not counted: NaN or infinite coordinates (or
            value), or outside their panel's range.
    """

    count: np.ndarray
    value_sum: np.ndarray | None = None
    dropped: int = 0

    @classmethod
    def from_flat(
        cls,
        count: np.ndarray,
        value_sum: np.ndarray | None,
        dropped: int,
        *,
        n_panels: int,
        n_categories: int,
        height: int,
        width: int,
    ) -> Grids:
        """Wrap flat (panel[, category], row, column) counts and sums as grids."""
        layers = (n_panels, n_categories) if n_categories else (n_panels,)
        sums = None if value_sum is None else value_sum.reshape(n_panels, height, width)
        return cls(count=count.reshape(*layers, height, width), value_sum=sums, dropped=dropped)

    @property
    def n_panels(self) -> int:
        """P."""
        return int(self.count.shape[0])

    @property
    def n_categories(self) -> int:
        """K, or 0 when the counts are not split by category."""
        return int(self.count.shape[1]) if self.count.ndim == 4 else 0

    @property
    def height(self) -> int:
        """H, pixels down one panel."""
        return int(self.count.shape[-2])

    @property
    def width(self) -> int:
        """W, pixels across one panel."""
        return int(self.count.shape[-1])
