"""Aggregation backends by name, and the choice ``backend="auto"`` makes.

A backend registers only if it can run here. datashader costs 1–2 s to import and
JIT-compile, so its presence is checked with ``importlib.util.find_spec`` (cheap)
and the import itself happens on first use; a broken install then raises
:class:`~ggrs.errors.BackendUnavailable` at that point.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable

from ggrs.aggregate.binning import check_codes
from ggrs.aggregate.canvas import Canvas
from ggrs.aggregate.grids import Grids
from ggrs.aggregate.numpy_backend import aggregate_numpy
from ggrs.aggregate.points import Points
from ggrs.errors import BackendUnavailable, UsageError

Backend = Callable[[Points, Canvas], Grids]

# datashader only beats numpy when it bins the raw columns itself: one panel,
# no categories, no values (≈3.8 vs ≈6 ns/point at 1e7 on the reference box).
# With panels, categories or values the numpy index arithmetic is needed anyway
# and np.add.at scatters faster than datashader's kernel on a tall grid, so
# ``auto`` keeps numpy there.
#
# Once datashader has run in this process, ``auto`` uses it for single-layer
# inputs from this size on (its fixed cost per call is ~1 ms).
AUTO_WARM_THRESHOLD = 300_000
# While datashader is cold, its first call pays ~0.7–1.3 s of imports plus ~1 s of
# JIT; the 2 ns/point it saves repays that only from about this size.
AUTO_COLD_THRESHOLD = 1_000_000_000

_BACKENDS: dict[str, Backend] = {"numpy": aggregate_numpy}
_warm: set[str] = set()

if importlib.util.find_spec("datashader") is not None:
    from ggrs.aggregate.datashader_backend import aggregate_datashader

    _BACKENDS["datashader"] = aggregate_datashader


def available_backends() -> tuple[str, ...]:
    """Names of the registered backends, e.g. ``("numpy", "datashader")``."""
    return tuple(_BACKENDS)


def choose_backend(points: Points, canvas: Canvas) -> str:
    """The backend ``auto`` picks for these points on this canvas (see the thresholds)."""
    if "datashader" not in _BACKENDS:
        return "numpy"
    single_layer = canvas.n_panels == 1 and points.category is None and points.value is None
    threshold = AUTO_WARM_THRESHOLD if "datashader" in _warm else AUTO_COLD_THRESHOLD
    return "datashader" if single_layer and len(points) >= threshold else "numpy"


def aggregate(points: Points, canvas: Canvas, backend: str = "auto") -> Grids:
    """Count points per pixel of every panel in one pass over the data.

    Args:
        points: coordinates plus optional panel codes, category codes or values.
        canvas: panel pixel size and per-panel data ranges.
        backend: "numpy", "datashader" or "auto" (numpy for small inputs, see
            :func:`choose_backend`). Every backend returns identical grids.

    Returns:
        The grids: counts (per category when the points have categories), value
        sums when they carry values, and the number of points dropped.

    Raises:
        UsageError: unknown backend name.
        BackendUnavailable: the backend cannot run on this machine.
        DataError: panel or category codes outside the canvas / category count.
    """
    if backend == "auto":
        backend = choose_backend(points, canvas)
    if backend not in _BACKENDS:
        if backend == "datashader":
            raise BackendUnavailable(
                "aggregation backend 'datashader' is not installed; install datashader or "
                "use backend='numpy'"
            )
        raise UsageError(
            f"unknown aggregation backend {backend!r}; choose one of "
            f"{', '.join(('auto', *_BACKENDS))}"
        )
    check_codes(points, canvas)
    grids = _BACKENDS[backend](points, canvas)
    _warm.add(backend)
    return grids
