"""Aggregation backends by name, and the choice ``backend="auto"`` makes.

A backend registers only if it can run here. datashader and numba cost 0.3–2 s to
import (and datashader 1 s more to JIT-compile in every new process), so their
presence is checked with ``importlib.util.find_spec`` (cheap) and the import
itself happens on first use; a broken install then raises
:class:`~ggrs.errors.BackendUnavailable` at that point.

``auto`` picks the compiled C kernels (:mod:`ggrs.aggregate.native_backend`) when
they are built, as they are wherever Bazel built ggrs (the command line, the
operator, the image): they cost nothing to load and are the fastest CPU path at
every size. Without them (a source checkout run without Bazel), ``auto`` picks
numpy for small inputs (no heavy import: a small table renders in
a new process in a fraction of a second) and the compiled numba kernel for large
ones once it pays: numba's import and kernel load (0.5–0.9 s; the kernels come
from numba's disk cache) are paid when the large inputs this process has
aggregated reach :data:`AUTO_NUMBA_COLD_POINTS` (one-off plots stay on numpy, a
long session of large plots switches), and from then on, or whenever numba is
loaded already, every input of :data:`AUTO_NUMBA_WARM_THRESHOLD` points or more
uses it. numba's ~130 MB of resident libraries are not added to a plot larger
than :data:`AUTO_NUMBA_IMPORT_MAX_POINTS`: such a plot stays on numpy unless numba
is loaded already.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable

from ggrs.aggregate import native_backend
from ggrs.aggregate.canvas import Canvas
from ggrs.aggregate.grids import Grids
from ggrs.aggregate.numpy_backend import aggregate_numpy
from ggrs.aggregate.points import Points, check_codes
from ggrs.errors import BackendUnavailable, UsageError

Backend = Callable[[Points, Canvas], Grids]

# datashader only beats numpy when it bins the raw columns itself: one panel,
# no categories, no values (≈3.8 vs ≈6 ns/point at 1e7 on the reference box).
# With panels, categories or values the numpy index arithmetic is needed anyway
# and np.add.at scatters faster than datashader's kernel on a tall grid. Without
# numba ``auto`` uses datashader for single-layer inputs from this size on, once
# datashader has run in this process (its fixed cost per call is ~1 ms).
AUTO_WARM_THRESHOLD = 300_000
# While datashader is cold, its first call pays ~0.7–1.3 s of imports plus ~1 s of
# JIT; the 2 ns/point it saves repays that only from about this size.
AUTO_COLD_THRESHOLD = 1_000_000_000

# Inputs from this size on use the numba kernel once numba is imported (a call
# costs ~0.1 ms; at 1e7 points in 12 panels × 8 colours it took 51–67 ms against
# numpy's 76–94 ms, one panel 31 ms against 52 ms, on the 2-core reference box).
AUTO_NUMBA_WARM_THRESHOLD = 200_000
# numba is imported once this many points of inputs of at least the warm threshold
# have been (or, counting the current call, would be) aggregated in this process:
# importing numba and loading the cached kernels costs 0.5–0.9 s in a new process
# (compiling them, when the disk cache is empty, ~1 s more each), and numba saves
# ~2.5 ns per point, so only a long session of large plots repays it.
AUTO_NUMBA_COLD_POINTS = 100_000_000
# ...and not for an input larger than this: numba's libraries and JIT runtime stay
# resident (~130 MB), most of the memory budget of a large plot (input + 200 MB),
# while the numpy loop needs < 20 MB of scratch. A process that has numba loaded
# already uses it at every size.
AUTO_NUMBA_IMPORT_MAX_POINTS = 20_000_000

_BACKENDS: dict[str, Backend] = {"numpy": aggregate_numpy}
if native_backend.available():
    _BACKENDS["native"] = native_backend.aggregate_native
_warm: set[str] = set()
# The compiled backends check the codes themselves (their loops do not bound
# their indices, and they can be called directly); one check is enough.
_CHECK_THEMSELVES = {"native", "numba"}
# Points of large inputs aggregated by ``auto`` in this process (see the docstring).
_large_points = 0

if importlib.util.find_spec("numba") is not None:
    from ggrs.aggregate.numba_backend import aggregate_numba

    _BACKENDS["numba"] = aggregate_numba

if importlib.util.find_spec("datashader") is not None:
    from ggrs.aggregate.datashader_backend import aggregate_datashader

    _BACKENDS["datashader"] = aggregate_datashader


def available_backends() -> tuple[str, ...]:
    """Names of the registered backends, e.g. ``("numpy", "datashader")``."""
    return tuple(_BACKENDS)


def choose_backend(points: Points, canvas: Canvas) -> str:
    """The backend ``auto`` picks for these points on this canvas (see the thresholds)."""
    if "native" in _BACKENDS:
        return "native"
    n = len(points)
    if "numba" in _BACKENDS and n >= AUTO_NUMBA_WARM_THRESHOLD:
        # numba imported by anyone (datashader imports it too) costs nothing more.
        if "numba" in sys.modules:
            return "numba"
        pays = _large_points + n >= AUTO_NUMBA_COLD_POINTS
        return "numba" if pays and n <= AUTO_NUMBA_IMPORT_MAX_POINTS else "numpy"
    if "datashader" not in _BACKENDS:
        return "numpy"
    single_layer = canvas.n_panels == 1 and points.category is None and points.value is None
    threshold = AUTO_WARM_THRESHOLD if "datashader" in _warm else AUTO_COLD_THRESHOLD
    return "datashader" if single_layer and n >= threshold else "numpy"


def aggregate(points: Points, canvas: Canvas, backend: str = "auto") -> Grids:
    """Count points per pixel of every panel in one pass over the data.

    Args:
        points: coordinates plus optional panel codes, category codes or values.
        canvas: panel pixel size and per-panel data ranges.
        backend: "native", "numpy", "numba", "datashader", "gpu" (CuPy; the grids
            come back to host memory) or "auto" (CPU backends only: the native
            kernels when built, see :func:`choose_backend`). Every backend returns identical counts.

    Returns:
        The grids: counts (per category when the points have categories), value
        sums when they carry values, and the number of points dropped.

    Raises:
        UsageError: unknown backend name.
        BackendUnavailable: the backend cannot run on this machine.
        DataError: panel or category codes outside the canvas / category count.
    """
    global _large_points
    if backend == "gpu":
        # Imported here: the GPU module imports this package. It raises
        # BackendUnavailable naming what is missing (CuPy, a device, a driver).
        from ggrs.aggregate import gpu_backend

        return gpu_backend.aggregate_gpu(points, canvas)
    if backend == "auto":
        backend = choose_backend(points, canvas)
        if len(points) >= AUTO_NUMBA_WARM_THRESHOLD:
            _large_points += len(points)
    if backend not in _BACKENDS:
        if backend in ("datashader", "numba"):
            raise BackendUnavailable(
                f"aggregation backend {backend!r} is not installed; install {backend} or "
                "use backend='numpy'"
            )
        if backend == "native":
            raise BackendUnavailable(
                f"aggregation backend 'native' is not available "
                f"({native_backend.load_problem}); build ggrs with Bazel (it compiles the "
                "kernels) or use backend='numpy'"
            )
        raise UsageError(
            f"unknown aggregation backend {backend!r}; choose one of "
            f"{', '.join(('auto', *_BACKENDS))}"
        )
    if backend not in _CHECK_THEMSELVES:
        check_codes(points, canvas)
    grids = _BACKENDS[backend](points, canvas)
    _warm.add(backend)
    return grids
