"""Aggregation and shading on an NVIDIA GPU with CuPy; optional, never imported for the CPU path.

The GPU runs the array-module code of :mod:`ggrs.aggregate.xp_binning` (the
same pixel arithmetic as the CPU backends, so count grids are identical) and
shades with :func:`ggrs.shade.shade` (``xp=cupy``). Each chunk of the host
columns crosses to the device once; the grids stay there, and only the RGBA
rasters come back (:func:`render_rasters`).

Usable only when ``import cupy`` works, a device is visible and CuPy can compile
a kernel; :func:`gpu_status` says which of these failed, and ``backend=gpu``
without a usable GPU raises :class:`~ggrs.errors.BackendUnavailable` with that
reason. ``auto`` picks the GPU only for inputs large enough to repay the
transfer and start-up (:func:`use_gpu`), and logs the choice and why.

Memory: points are processed in chunks sized from the device's free memory
(:func:`chunk_points`), so 1e9 points never need to be resident at once.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np

from ggrs.aggregate.binning import BinPlan
from ggrs.aggregate.canvas import Canvas
from ggrs.aggregate.grids import Grids
from ggrs.aggregate.points import Points
from ggrs.aggregate.xp_binning import aggregate_xp
from ggrs.errors import BackendUnavailable, UsageError

if TYPE_CHECKING:
    from ggrs.shade import Colouring

log = logging.getLogger("ggrs.gpu")

# ``auto`` threshold, from a cost model per point: the CPU (numpy backend)
# spends ~6 ns; the GPU spends the host→device copy of ~9 bytes (two float32
# coordinates and a uint8 panel code) at ~20 GB/s, ~0.45 ns, plus ~0.1 ns of
# device work, so it saves ~5.4 ns per point. Against that stand fixed costs:
# in a process that has already used the GPU, ~5 ms per page (kernel launches,
# grid allocation, the copy back of the rasters) → break-even ≈ 1e6 points; in a
# fresh process, CUDA context creation and loading the cached kernels, ~0.3 s
# → ≈ 5e7 points. Estimates to be confirmed by benchmarks/gpu_bench.py, which
# prints cold and warm times on the machine at hand.
AUTO_MIN_POINTS_COLD = 50_000_000
AUTO_MIN_POINTS_WARM = 1_000_000

# Device bytes per point besides its input columns: the float64/int64
# temporaries of xp_binning.flat_bins that can be alive at once (position, u,
# gathered scale, translate, lo and hi, pixel, row, flat index), rounded up.
TEMP_BYTES_PER_POINT = 96
# Share of the free device memory a chunk may use: the rest absorbs the memory
# pool's rounding and fragmentation, and other users of the device.
MEMORY_FRACTION = 0.5
# Below this many points per chunk the per-chunk fixed cost (~30 kernel launches,
# a bincount over the whole grid) dominates: refuse rather than crawl.
MIN_CHUNK = 1 << 20

# cudaError_t values the messages distinguish.
_CUDA_ERROR_INSUFFICIENT_DRIVER = 35
_CUDA_ERROR_NO_DEVICE = 100

_warm = False


@dataclass(frozen=True)
class GpuStatus:
    """Whether the GPU backend can run here.

    Attributes:
        available: True when CuPy imports, sees a device and compiles a kernel.
        reason: when available, the device used; otherwise what is missing and
            what to do about it.
    """

    available: bool
    reason: str


def _cuda_version(v: int) -> str:
    """CUDA's integer version (12020) as text ("12.2")."""
    return f"{v // 1000}.{v % 1000 // 10}"


def _runtime_failure(runtime: ModuleType, exc: Exception) -> str:
    """Why ``getDeviceCount`` failed: no driver, a driver too old, no device, or other."""
    status = getattr(exc, "status", None)
    try:
        driver = int(runtime.driverGetVersion())
    except Exception:
        # Without libcuda even the version query fails; that is itself the finding.
        driver = 0
    try:
        built = int(runtime.runtimeGetVersion())
    except Exception:
        built = 0
    if driver == 0:
        return (
            f"no NVIDIA driver is loaded (CUDA said: {exc}); install the NVIDIA driver, or "
            "start the container with GPU access (--gpus all / NVIDIA_VISIBLE_DEVICES)"
        )
    if status == _CUDA_ERROR_INSUFFICIENT_DRIVER or (built and driver // 1000 < built // 1000):
        needed = _cuda_version(built) if built else "a newer CUDA"
        return (
            f"the NVIDIA driver is too old: it supports CUDA {_cuda_version(driver)} but CuPy "
            f"needs CUDA {needed}; update the driver or install the CuPy wheel for CUDA "
            f"{driver // 1000} (cupy-cuda{driver // 1000}x)"
        )
    if status == _CUDA_ERROR_NO_DEVICE:
        return (
            "no CUDA device is visible (cudaErrorNoDevice); start the container with GPU "
            "access (--gpus all / NVIDIA_VISIBLE_DEVICES) or check CUDA_VISIBLE_DEVICES"
        )
    return f"the CUDA runtime failed to list devices: {exc}"


@functools.cache
def gpu_status() -> GpuStatus:
    """Probe CuPy and the device once per process (cached; tests call ``cache_clear``)."""
    try:
        import cupy
    except (ImportError, OSError) as exc:
        return GpuStatus(
            False,
            f"CuPy is not installed ({exc}); use the GPU image (//docker:image_gpu) or "
            "pip install the gpu lock (third_party/pip/requirements_gpu_lock.txt)",
        )
    runtime = cupy.cuda.runtime
    try:
        n_devices = int(runtime.getDeviceCount())
    except runtime.CUDARuntimeError as exc:
        return GpuStatus(False, _runtime_failure(runtime, exc))
    if n_devices < 1:
        return GpuStatus(
            False,
            "no CUDA device is visible (0 devices); start the container with GPU access "
            "(--gpus all / NVIDIA_VISIBLE_DEVICES) or check CUDA_VISIBLE_DEVICES",
        )
    try:
        # CuPy compiles its kernels at first use with NVRTC; a missing or broken
        # NVRTC shows up here instead of in the middle of a render.
        check = int((cupy.arange(4, dtype=cupy.float64) * 2.0).sum())
    except Exception as exc:
        return GpuStatus(
            False,
            f"CuPy sees {n_devices} device(s) but cannot run a kernel "
            f"({type(exc).__name__}: {exc}); the CUDA runtime compiler may be missing "
            "(install nvidia-cuda-nvrtc-cu12 from the gpu lock)",
        )
    if check != 12:
        return GpuStatus(False, f"a test kernel on the GPU computed {check} instead of 12")
    props = runtime.getDeviceProperties(0)
    name = props.get("name", b"?")
    name = name.decode(errors="replace") if isinstance(name, bytes) else str(name)
    free, total = cupy.cuda.Device(0).mem_info
    return GpuStatus(
        True,
        f"device 0 of {n_devices}: {name}, {free / 2**30:.1f} of {total / 2**30:.1f} GiB free",
    )


def require_gpu() -> ModuleType:
    """The cupy module, or BackendUnavailable naming what is missing."""
    status = gpu_status()
    if not status.available:
        raise BackendUnavailable(
            f"backend=gpu cannot run: {status.reason}; or use backend=cpu or auto"
        )
    import cupy

    return cupy


def input_bytes_per_point(points: Points) -> int:
    """Bytes one point's host columns occupy (what crosses to the device)."""
    columns = (points.x, points.y, points.panel, points.category, points.value)
    return sum(c.dtype.itemsize for c in columns if c is not None)


def grid_bytes(plan: BinPlan, with_values: bool) -> int:
    """Device bytes of the accumulating grids: int64 counts (+ float64 sums), each with
    room for one more chunk's bincount output."""
    return (plan.n_bins + 1) * 8 * (4 if with_values else 2)


def chunk_points(n: int, free_bytes: int, bytes_per_point: int, reserved_bytes: int) -> int:
    """Points per chunk so that one chunk fits in :data:`MEMORY_FRACTION` of free memory.

    Args:
        n: points in all.
        free_bytes: free device memory (the driver's free plus the memory pool's).
        bytes_per_point: input columns plus :data:`TEMP_BYTES_PER_POINT`.
        reserved_bytes: memory the grids hold for the whole run.

    Returns:
        A chunk size in 1..n (n when everything fits at once; 1 for n = 0).

    Raises:
        BackendUnavailable: not even :data:`MIN_CHUNK` points (or all n, if fewer)
            fit next to the grids.
    """
    usable = int(free_bytes * MEMORY_FRACTION) - reserved_bytes
    size = usable // bytes_per_point if usable > 0 else 0
    need = min(n, MIN_CHUNK)
    if size < max(need, 1):
        mib = 2**20
        raise BackendUnavailable(
            f"the GPU has {free_bytes / mib:.0f} MiB free but aggregating needs "
            f"{(reserved_bytes + need * bytes_per_point) / MEMORY_FRACTION / mib:.0f} MiB "
            f"(grids {reserved_bytes / mib:.0f} MiB + {need:,} points × {bytes_per_point} B, "
            f"using at most {MEMORY_FRACTION:.0%} of free memory); free GPU memory, make "
            "the plot smaller or use backend=cpu"
        )
    return max(1, min(n, size))


def aggregate_device(points: Points, canvas: Canvas, chunk: int | None = None) -> Grids:
    """Aggregate host ``points`` on the GPU; the grids' arrays stay on the device.

    Args:
        points: host columns (numpy).
        canvas: panel size and ranges.
        chunk: points per chunk; default from the free device memory.

    Raises:
        BackendUnavailable: no usable GPU, or too little free device memory.
        DataError: panel or category codes outside the canvas / category count.
    """
    global _warm
    cp = require_gpu()
    if chunk is None:
        plan = BinPlan(points, canvas)
        free, _total = cp.cuda.Device().mem_info
        free += cp.get_default_memory_pool().free_bytes()
        chunk = chunk_points(
            len(points),
            free,
            input_bytes_per_point(points) + TEMP_BYTES_PER_POINT,
            grid_bytes(plan, points.value is not None),
        )
    log.debug("GPU aggregation of %d points in chunks of %d", len(points), chunk)
    grids = aggregate_xp(points, canvas, cp, chunk)
    _warm = True
    return grids


def aggregate_gpu(points: Points, canvas: Canvas) -> Grids:
    """Aggregate on the GPU and copy the grids back: the registry's backend signature."""
    cp = require_gpu()
    grids = aggregate_device(points, canvas)
    return Grids(
        count=cp.asnumpy(grids.count),
        value_sum=None if grids.value_sum is None else cp.asnumpy(grids.value_sum),
        dropped=grids.dropped,
    )


def render_rasters(
    points: Points,
    canvas: Canvas,
    colouring: Colouring,
    *,
    point_diameter: float = 1.0,
    opacity: float = 1.0,
    shape: int = 19,
) -> tuple[np.ndarray, int]:
    """Aggregate and shade on the GPU; only the RGBA rasters come back.

    The arguments are those of :func:`ggrs.shade.shade` on the grids
    :func:`ggrs.aggregate.aggregate` would return.

    Returns:
        The (P, H, W, 4) uint8 rasters in host memory, and the number of points
        dropped (as :attr:`Grids.dropped`).

    Raises:
        BackendUnavailable: no usable GPU, or too little free device memory.
        DataError, UsageError: as :func:`~ggrs.aggregate.aggregate` and
            :func:`~ggrs.shade.shade`.
    """
    # ggrs.shade imports ggrs.aggregate, whose registry may import this module.
    from ggrs import shade

    cp = require_gpu()
    grids = aggregate_device(points, canvas)
    rasters = shade.shade(
        grids,
        colouring,
        point_diameter=point_diameter,
        opacity=opacity,
        shape=shape,
        xp=cp,
    )
    return cp.asnumpy(rasters), grids.dropped


def use_gpu(choice: str, n_points: int) -> tuple[bool, str]:
    """Whether the ``backend`` property sends ``n_points`` to the GPU, and why (also logged).

    ``cpu`` never does; ``gpu`` always does and raises when it cannot; ``auto``
    does when a GPU is usable and there are at least :data:`AUTO_MIN_POINTS_WARM`
    points once this process has used the GPU, :data:`AUTO_MIN_POINTS_COLD`
    before (see the cost model above them).

    Raises:
        UsageError: ``choice`` is not auto, cpu or gpu.
        BackendUnavailable: ``gpu`` without a usable GPU.
    """
    if choice == "cpu":
        decision, reason = False, "backend=cpu"
    elif choice == "gpu":
        require_gpu()
        decision, reason = True, f"backend=gpu on {gpu_status().reason}"
    elif choice == "auto":
        threshold = AUTO_MIN_POINTS_WARM if _warm else AUTO_MIN_POINTS_COLD
        if n_points < threshold:
            decision, reason = (
                False,
                f"backend=auto: {n_points:,} points < {threshold:,}, too few to repay the "
                "GPU's transfer and start-up",
            )
        else:
            status = gpu_status()
            decision = status.available
            reason = f"backend=auto: {n_points:,} points ≥ {threshold:,}; " + (
                status.reason if decision else f"no usable GPU: {status.reason}"
            )
    else:
        raise UsageError(f"backend must be auto, cpu or gpu; got {choice!r}")
    # The pipeline reports the reason in its progress lines; this is for library users.
    log.debug("aggregating on the %s (%s)", "GPU" if decision else "CPU", reason)
    return decision, reason
