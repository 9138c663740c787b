"""Aggregation in one compiled pass: panel, category and pixel of each point at once.

The numpy backend needs about twenty whole-block passes per point (axis arithmetic,
range tests, layer codes, the flat index, then the scatter); this kernel reads each
point once and adds it to the grid straight away: 1.3–1.7× faster on one core
(1e7 points: 12 panels × 8 colours 59 vs 76 ms, one panel 31 vs 52 ms), and it
splits large inputs over the free cores (each thread counts into its own grid).

Its arithmetic is the one of :mod:`ggrs.aggregate.binning`, in float64, written
out per point: a point is kept when ``lo[p] ≤ v ≤ hi[p]`` on both axes (and its
value is finite), its pixel is ``min(floor(v · s[p] + t[p]), n − 1)`` with the
same scale and translate tables, and value sums are added per chunk of
:attr:`~ggrs.aggregate.binning.BinPlan.outer` points in point order, so every
grid equals the numpy backend's bit for bit. numba is told neither ``fastmath``
nor anything else that would let LLVM fuse the multiply and add (an FMA rounds
once instead of twice).

numba is imported by :func:`aggregate_numba` only, never by importing ggrs: the
import and the first load of the kernels cost 0.5–0.9 s in a new process (and
~130 MB of resident memory), so small tables never pay it (see
:mod:`ggrs.aggregate.registry`). The kernels are cached on disk: a new process
loads them instead of compiling them again (~1 s each per combination of column
dtypes; :data:`compile_seconds` records what this process paid). numba keeps
the cache in ``NUMBA_CACHE_DIR`` when set, else in ``__pycache__`` beside this
file, else in the user's cache folder, else (a read-only install run without a
writable home) in a private folder of the temporary folder; when none is
writable :data:`cache_problem` says so, a warning is issued once, and every
process compiles the kernels again.
"""

from __future__ import annotations

import os
import threading
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from ggrs.aggregate.binning import BinPlan
from ggrs.aggregate.canvas import Canvas
from ggrs.aggregate.grids import Grids
from ggrs.aggregate.points import Points, check_codes
from ggrs.aggregate.threads import count_split
from ggrs.errors import BackendUnavailable

cache_problem: str | None = None
"""Why the compiled kernel is not cached on disk, or None when it is (or not built yet)."""

compile_seconds: dict[str, float] = {}
"""Seconds the first call of each kernel and column-dtype signature took in this
process: compiling it (~1 s), or loading it from the disk cache (the first load
also sets numba's compiler up: ~0.5 s; later ones take milliseconds)."""

_lock = threading.Lock()
_kernels: tuple[Any, Any] | None = None


# Points per block: the kernel first computes the flat bins of a block into a small
# buffer (a loop without stores to the grid, which the compiler can keep in
# registers), then adds them to the grid; ~15 % faster than one fused loop.
_BLOCK = 2048


def _count_kernel(
    x: np.ndarray,
    y: np.ndarray,
    panel: np.ndarray,
    category: np.ndarray,
    value: np.ndarray,
    flags: np.ndarray,
    tables: np.ndarray,
    shape: np.ndarray,
    start: int,
    stop: int,
    count: np.ndarray,
    value_sum: np.ndarray,
) -> None:
    """Add the points [start, stop) to ``count`` (and ``value_sum``).

    ``flags`` = (has panel, has category, has value); ``tables`` rows = x lo, hi,
    scale, translate, y lo, hi, scale, translate, one column per panel; ``shape`` =
    (W, H, K) with K ≥ 1. ``count`` and ``value_sum`` have 1 + W·H·P·K entries:
    dropped points go to entry 0. Unused code or value columns may be empty.
    """
    has_panel, has_category, has_value = flags[0], flags[1], flags[2]
    width, height, k = shape[0], shape[1], shape[2]
    x_lo, x_hi, x_scale, x_translate = tables[0], tables[1], tables[2], tables[3]
    y_lo, y_hi, y_scale, y_translate = tables[4], tables[5], tables[6], tables[7]
    last_x, last_y = np.float64(width - 1), np.float64(height - 1)
    flat = np.empty(_BLOCK, dtype=np.int64)
    weight = np.empty(_BLOCK if has_value else 0, dtype=np.float64)
    for a in range(start, stop, _BLOCK):
        b = min(stop, a + _BLOCK)
        for i in range(a, b):
            p = np.int64(0)
            if has_panel:
                p = np.int64(panel[i])
            vx = np.float64(x[i])
            vy = np.float64(y[i])
            # NaN fails every comparison, so it is dropped here too.
            ok = (x_lo[p] <= vx) & (vx <= x_hi[p]) & (y_lo[p] <= vy) & (vy <= y_hi[p])
            if has_value:
                w = np.float64(value[i])
                weight[i - a] = w
                ok &= np.isfinite(w)
            # u ≥ 0 for kept points, so truncation is floor; min(u, n − 1) clamps
            # u = n (the upper limit) into the last pixel as min(floor(u), n − 1) does.
            ix = np.int64(min(vx * x_scale[p] + x_translate[p], last_x)) if ok else 0
            iy = np.int64(min(vy * y_scale[p] + y_translate[p], last_y)) if ok else 0
            layer = p * k
            if has_category:
                layer += np.int64(category[i])
            flat[i - a] = ((layer * height + (height - 1 - iy)) * width + ix + 1) if ok else 0
        for j in range(b - a):
            count[flat[j]] += 1
        if has_value:
            for j in range(b - a):
                value_sum[flat[j]] += weight[j]


def _count_single(
    x: np.ndarray,
    y: np.ndarray,
    x_axis: np.ndarray,
    y_axis: np.ndarray,
    width: int,
    height: int,
    start: int,
    stop: int,
    count: np.ndarray,
) -> None:
    """:func:`_count_kernel` for one layer (one panel, no categories, no values).

    The axes are (lo, hi, scale, translate) held in registers: one fused loop is
    then faster than the two-phase blocks (~3 vs ~5 ns/point), as fast as datashader.
    """
    x_lo, x_hi, x_scale, x_translate = x_axis[0], x_axis[1], x_axis[2], x_axis[3]
    y_lo, y_hi, y_scale, y_translate = y_axis[0], y_axis[1], y_axis[2], y_axis[3]
    last_x, last_y = np.float64(width - 1), np.float64(height - 1)
    for i in range(start, stop):
        vx = np.float64(x[i])
        vy = np.float64(y[i])
        if x_lo <= vx and vx <= x_hi and y_lo <= vy and vy <= y_hi:
            ix = np.int64(min(vx * x_scale + x_translate, last_x))
            iy = np.int64(min(vy * y_scale + y_translate, last_y))
            count[(height - 1 - iy) * width + ix + 1] += 1
        else:
            count[0] += 1


def _compile() -> tuple[Any, Any]:
    """The jitted kernels (general, single-layer), numba imported here, cached on disk
    where numba can."""
    global _kernels, cache_problem
    with _lock:
        if _kernels is not None:
            return _kernels
        try:
            import numba
        except ImportError as exc:
            raise BackendUnavailable(
                f"aggregation backend 'numba' cannot be imported ({exc}); install numba "
                "or use backend='numpy'"
            ) from exc
        kernels = tuple(
            numba.njit(nogil=True, cache=False)(f) for f in (_count_kernel, _count_single)
        )
        for kernel in kernels:
            problem = enable_cache(numba, kernel)
            if problem is not None and cache_problem is None:
                cache_problem = problem
                warn_uncached(problem)
        _kernels = kernels
        return kernels


def warn_uncached(problem: str) -> None:
    """Say (once per kernel) that a compiled kernel cannot be cached, and what to do."""
    warnings.warn(
        f"ggrs cannot cache its compiled aggregation kernels ({problem}); every new "
        "process compiles them again (about 1 s). Set NUMBA_CACHE_DIR to a writable folder.",
        RuntimeWarning,
        stacklevel=4,
    )


def enable_cache(numba: Any, kernel: Any) -> str | None:
    """Turn on the disk cache of ``kernel``; return why it cannot be, or None.

    numba's own places come first (``NUMBA_CACHE_DIR``, ``__pycache__`` beside this
    file, the user's cache folder). A read-only install run by a user without a
    writable home (a container, a Bazel sandbox) has none of them, so then a
    folder of this user's own in the temporary folder is used: created with mode
    0700, and only if it is owned by this user and writable by no one else (numba
    unpickles what it finds there).
    """
    try:
        kernel.enable_caching()
        return None
    except RuntimeError as exc:  # no locator found a writable folder
        problem = str(exc)
    import tempfile  # here: a cold start that never compiles should not pay for it

    folder = Path(tempfile.gettempdir()) / f"ggrs-numba-cache-{os.getuid()}"
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        info = folder.stat()
    except OSError as exc:
        return f"{problem}; {folder}: {exc.strerror}"
    if info.st_uid != os.getuid() or info.st_mode & 0o022:
        return f"{problem}; {folder} belongs to someone else or is writable by others"
    saved = numba.config.CACHE_DIR
    numba.config.CACHE_DIR = str(folder)
    try:
        kernel.enable_caching()  # the locator keeps its path; the setting is restored
    except RuntimeError as exc:
        return f"{problem}; {folder}: {exc}"
    finally:
        numba.config.CACHE_DIR = saved
    return None


def _first_call(kernel: Any, *args: Any) -> None:
    """Call ``kernel`` on no points; the first call of a signature compiles it (or loads
    it from the disk cache), and its time goes to :data:`compile_seconds`."""
    key = f"{kernel.py_func.__name__}:" + "/".join(
        str(a.dtype) for a in args if isinstance(a, np.ndarray)
    )
    if key not in compile_seconds:
        t0 = time.perf_counter()
        kernel(*args)
        compile_seconds[key] = time.perf_counter() - t0


def _signed(codes: np.ndarray) -> np.ndarray:
    """Codes as a signed integer array (unsigned ones are copied one size up), so the
    compiled variants stay few."""
    if codes.dtype.kind == "i":
        return codes
    wider = {1: np.int16, 2: np.int32}.get(codes.dtype.itemsize, np.int64)
    return codes.astype(wider)


def aggregate_numba(points: Points, canvas: Canvas) -> Grids:
    """Aggregate ``points`` on ``canvas`` in one compiled pass.

    See :func:`ggrs.aggregate.aggregate` for the arguments and the result.

    Raises:
        BackendUnavailable: numba cannot be imported.
        DataError: panel or category codes outside the canvas (the compiled loop
            does not check its indices, so they are checked here first).
    """
    check_codes(points, canvas)
    kernel, single = _compile()
    plan = BinPlan(points, canvas)
    n = len(points)
    x, y = points.x, points.y
    if x.dtype != y.dtype:  # one compiled variant per dtype combination: keep them few
        x, y = x.astype(np.float64), y.astype(np.float64)
    nb = plan.n_bins
    if plan.n_layers == 1 and points.value is None:
        x_axis, y_axis = plan.axis_tables().reshape(2, 4)
        _first_call(
            single, x, y, x_axis, y_axis, plan.width, plan.height, 0, 0, np.zeros(1, np.uint32)
        )

        def count_single(start: int, stop: int, grid: np.ndarray) -> None:
            single(x, y, x_axis, y_axis, plan.width, plan.height, start, stop, grid)

        count = count_split(count_single, n, nb)
        return plan.grids(count[1:], None, int(count[0]))
    empty = np.zeros(0, dtype=np.int8)
    # The compiled loop reads the whole column (FacetCodes are computed here).
    panel = (
        _signed(np.asarray(points.panel))
        if points.panel is not None and plan.n_panels > 1
        else empty
    )
    category = _signed(points.category) if points.category is not None else empty
    value = points.value if points.value is not None else np.zeros(0)
    flags = np.array([len(panel) > 0, points.category is not None, points.value is not None])
    tables = plan.axis_tables()
    shape = np.array([plan.width, plan.height, max(plan.n_categories, 1)], dtype=np.int64)
    columns = (x, y, panel, category, value)
    no_sums = np.zeros(1)
    _first_call(kernel, *columns, flags, tables, shape, 0, 0, np.zeros(1, np.uint32), no_sums)
    if points.value is None:

        def count_layers(start: int, stop: int, grid: np.ndarray) -> None:
            kernel(*columns, flags, tables, shape, start, stop, grid, no_sums)

        count = count_split(count_layers, n, nb)
        return plan.grids(count[1:], None, int(count[0]))

    def add(start: int, stop: int, count: np.ndarray, sums: np.ndarray) -> None:
        kernel(*columns, flags, tables, shape, start, stop, count, sums)

    return plan.summed(n, add)
