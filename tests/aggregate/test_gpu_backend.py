"""GPU backend: the array-module binning on numpy, chunking, the probe and its messages.

Most tests run everywhere: the array-module code with numpy as ``xp`` against the
numpy backend, and :mod:`ggrs.aggregate.gpu_backend` driven through a fake
``cupy`` module (numpy underneath, with a scripted device) injected via
``sys.modules``. The tests marked ``needs_gpu`` run only where CuPy sees a
device (tools/gpu_check.sh runs them on a GPU machine).
"""

from __future__ import annotations

import importlib.util
import logging
import re
import sys
import types

import numpy as np
import pytest

from ggrs import shade
from ggrs.aggregate import Canvas, Points, aggregate, binning, gpu_backend
from ggrs.aggregate.xp_binning import aggregate_xp, chunks
from ggrs.errors import BackendUnavailable, DataError, UsageError


def _why_no_gpu() -> str | None:
    """None when CuPy sees a usable device, else why not."""
    # find_spec first: on CPU-only machines this imports nothing.
    if importlib.util.find_spec("cupy") is None:
        return "CuPy is not installed"
    status = gpu_backend.gpu_status()
    gpu_backend.gpu_status.cache_clear()
    return None if status.available else status.reason


_NO_GPU = _why_no_gpu()
needs_gpu = pytest.mark.skipif(
    _NO_GPU is not None,
    reason=f"needs a usable GPU: {_NO_GPU} (tools/gpu_check.sh runs these on a GPU machine)",
)


def random_case(rng, n, *, panels=1, free=True, kind="count", dtype=np.float64):
    """Points on a canvas with NaN, ±inf, out-of-range and exact-edge values mixed in."""
    x_ranges = np.sort(rng.uniform(-3, 3, (panels, 2)), axis=1) + np.array([0.0, 0.5])
    y_ranges = np.sort(rng.uniform(-3, 3, (panels, 2)), axis=1) + np.array([0.0, 0.5])
    if not free:
        x_ranges[:] = x_ranges[0]
    x = rng.normal(0, 2, n).astype(dtype)
    y = rng.normal(0, 2, n).astype(dtype)
    panel = rng.integers(0, panels, n).astype(np.uint8) if panels > 1 else None
    codes = panel if panel is not None else np.zeros(n, dtype=np.uint8)
    # Exact limits, the last pixel's upper edge and non-finite values.
    x[::7] = x_ranges[codes[::7], 1]
    y[::11] = y_ranges[codes[::11], 0]
    x[::13], y[::17], x[::19] = np.nan, np.inf, -np.inf
    extra = {}
    if kind == "category":
        extra = {"category": rng.integers(0, 3, n).astype(np.int16), "n_categories": 4}
    elif kind == "value":
        value = rng.normal(0, 1, n)
        value[::23] = np.nan
        extra = {"value": value}
    points = Points(x, y, panel=panel, **extra)
    return points, Canvas(13, 9, x_ranges, y_ranges)


def assert_same_grids(got, want, *, exact_sums=True):
    np.testing.assert_array_equal(got.count, want.count)
    assert got.count.dtype == np.uint32
    assert got.dropped == want.dropped
    if want.value_sum is None:
        assert got.value_sum is None
    elif exact_sums:
        np.testing.assert_array_equal(got.value_sum, want.value_sum)
    else:
        np.testing.assert_allclose(got.value_sum, want.value_sum, rtol=1e-12, atol=1e-12)


# --- the array-module code with numpy as xp -------------------------------------------------


@pytest.mark.parametrize("kind", ["count", "category", "value"])
@pytest.mark.parametrize("panels,free", [(1, False), (6, False), (6, True)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_numpy_xp_equals_the_numpy_backend_exactly(kind, panels, free, dtype):
    rng = np.random.default_rng(panels * 10 + free)
    points, canvas = random_case(rng, 20_000, panels=panels, free=free, kind=kind, dtype=dtype)
    want = aggregate(points, canvas, "numpy")
    assert want.dropped > 20_000 // 7  # the non-finite and out-of-range ones
    assert_same_grids(aggregate_xp(points, canvas, np), want)


def test_numpy_xp_equals_the_numpy_backend_over_many_chunks(monkeypatch):
    # Small numpy-backend chunks: both sides then sum values per 1024 points.
    monkeypatch.setattr(binning, "BLOCK", 256)
    monkeypatch.setattr(binning, "OUTER", 1024)
    rng = np.random.default_rng(4)
    points, canvas = random_case(rng, 10_000, panels=12, kind="value")
    assert_same_grids(aggregate_xp(points, canvas, np), aggregate(points, canvas, "numpy"))


@pytest.mark.parametrize("chunk", [1, 7, 1000, 10**6])
def test_any_chunk_size_gives_identical_grids(chunk):
    rng = np.random.default_rng(chunk)
    points, canvas = random_case(rng, 3000, panels=4, free=True, kind="category")
    assert_same_grids(aggregate_xp(points, canvas, np, chunk=chunk), aggregate_xp(points, canvas))
    # Values that are multiples of 1/8 sum exactly in any order and association.
    value = rng.integers(-40, 40, 3000) / 8
    value[::5] = np.nan
    points = Points(points.x, points.y, panel=points.panel, value=value)
    assert_same_grids(
        aggregate_xp(points, canvas, np, chunk=chunk), aggregate(points, canvas, "numpy")
    )


def test_no_points_and_bad_codes():
    canvas = Canvas(3, 2, [(0, 1), (0, 1)], (0, 1))
    empty = np.zeros(0)
    grids = aggregate_xp(Points(empty, empty, panel=np.zeros(0, np.int8)), canvas)
    assert grids.count.shape == (2, 2, 3) and grids.count.sum() == 0 and grids.dropped == 0
    x = np.array([0.5, 0.5])
    with pytest.raises(DataError, match=r"panel codes span 0\.\.2 but must lie in 0\.\.1"):
        aggregate_xp(Points(x, x, panel=np.array([0, 2])), canvas)
    with pytest.raises(DataError, match="2 panels but the points have no panel codes"):
        aggregate_xp(Points(x, x), canvas)
    with pytest.raises(DataError, match=r"category codes span 0\.\.5 but must lie in 0\.\.1"):
        aggregate_xp(
            Points(x, x, category=np.array([0, 5]), n_categories=2), Canvas(2, 2, (0, 1), (0, 1))
        )
    with pytest.raises(ValueError, match="chunk size must be at least 1; got 0"):
        list(chunks(10, 0))


# --- a fake cupy ---------------------------------------------------------------------------


class FakeCudaError(RuntimeError):
    """Stands in for cupy.cuda.runtime.CUDARuntimeError (it has a ``status``)."""

    def __init__(self, status: int) -> None:
        super().__init__(f"cudaError {status}")
        self.status = status


class DeviceArray(np.ndarray):
    """An array "on the fake device": numpy's operations keep the subclass."""


def _on_device(function):
    """``function`` with its array results marked as device arrays."""

    def wrapped(*args, **kwargs):
        result = function(*args, **kwargs)
        return result.view(DeviceArray) if type(result) is np.ndarray else result

    return wrapped


def fake_cupy(
    *,
    devices=1,
    count_error=None,
    driver=12080,
    built=12080,
    kernel_error=None,
    free=8 << 30,
):
    """A module named cupy: numpy's functions plus a scripted runtime and device.

    ``module.sent`` records the size of every array given to ``asarray`` (host →
    device) and ``module.fetched`` the shape of every array given to ``asnumpy``.
    "Device" arrays are :class:`DeviceArray` (made by the module's functions and
    kept by numpy's operations on them); ``asnumpy`` refuses anything else, so
    work that slipped back to the host (numpy's ``asarray`` drops the subclass)
    fails the test instead of passing unseen.
    """
    mod = types.ModuleType("cupy")
    for name in dir(np):
        if name.startswith("_"):
            continue
        value = getattr(np, name)
        if callable(value) and not isinstance(value, type | np.ufunc):
            value = _on_device(value)
        setattr(mod, name, value)
    mod.sent, mod.fetched = [], []

    def asarray(a, *args, **kwargs):
        mod.sent.append(np.asarray(a).nbytes)
        return np.asarray(a, *args, **kwargs).view(DeviceArray)

    def asnumpy(a):
        assert isinstance(a, DeviceArray), "asnumpy of a host array: the work left the device"
        mod.fetched.append(a.shape)
        return np.array(a).view(np.ndarray)

    def device_count():
        if count_error is not None:
            raise FakeCudaError(count_error)
        return devices

    def arange(*args, **kwargs):
        if kernel_error:
            raise RuntimeError(kernel_error)
        return np.arange(*args, **kwargs)

    mod.asarray, mod.asnumpy, mod.arange = asarray, asnumpy, arange
    runtime = types.SimpleNamespace(
        CUDARuntimeError=FakeCudaError,
        getDeviceCount=device_count,
        driverGetVersion=lambda: driver,
        runtimeGetVersion=lambda: built,
        getDeviceProperties=lambda i: {"name": b"Fake GPU"},
    )
    device = types.SimpleNamespace(mem_info=(free, 2 * free))
    mod.cuda = types.SimpleNamespace(runtime=runtime, Device=lambda i=0: device)
    mod.get_default_memory_pool = lambda: types.SimpleNamespace(free_bytes=lambda: 0)
    return mod


@pytest.fixture
def with_cupy(monkeypatch):
    """Install a fake cupy (or None: not installed) and clear the cached probe around the test."""

    def install(module):
        monkeypatch.setitem(sys.modules, "cupy", module)
        gpu_backend.gpu_status.cache_clear()
        return module

    monkeypatch.setattr(gpu_backend, "_warm", False)
    yield install
    gpu_backend.gpu_status.cache_clear()


@pytest.mark.parametrize(
    "module,message",
    [
        (None, r"CuPy is not installed \(.*\); use the GPU image \(//docker:image_gpu\)"),
        (fake_cupy(devices=0), r"no CUDA device is visible \(0 devices\)"),
        (fake_cupy(count_error=100), r"no CUDA device is visible \(cudaErrorNoDevice\)"),
        (
            fake_cupy(count_error=35, driver=11040, built=12080),
            r"the NVIDIA driver is too old: it supports CUDA 11\.4 but CuPy needs CUDA 12\.8; "
            r".*cupy-cuda11x",
        ),
        (
            fake_cupy(count_error=3, driver=0),
            r"no NVIDIA driver is loaded \(CUDA said: cudaError 3\)",
        ),
        (fake_cupy(count_error=999), r"the CUDA runtime failed to list devices: cudaError 999"),
        (
            fake_cupy(kernel_error="libnvrtc.so.12: cannot open"),
            r"CuPy sees 1 device\(s\) but cannot run a kernel \(RuntimeError: libnvrtc.so.12: "
            r"cannot open\); .*nvidia-cuda-nvrtc-cu12",
        ),
    ],
)
def test_unusable_gpu_is_an_error_naming_the_reason(with_cupy, module, message):
    with_cupy(module)
    status = gpu_backend.gpu_status()
    assert not status.available
    assert re.match(message, status.reason)
    one = np.array([0.5])
    with pytest.raises(BackendUnavailable, match="backend=gpu cannot run: " + message):
        gpu_backend.aggregate_gpu(Points(one, one), Canvas(1, 1, (0, 1), (0, 1)))
    # The same through the registry's name for it.
    with pytest.raises(BackendUnavailable, match="backend=gpu cannot run: " + message):
        aggregate(Points(one, one), Canvas(1, 1, (0, 1), (0, 1)), backend="gpu")
    with pytest.raises(BackendUnavailable, match=message):
        gpu_backend.use_gpu("gpu", 10)
    # auto never fails for want of a GPU: it says why it stays on the CPU.
    decision, reason = gpu_backend.use_gpu("auto", 10**9)
    assert not decision and "no usable GPU: " in reason


def test_usable_gpu_status_names_the_device(with_cupy):
    with_cupy(fake_cupy(devices=2, free=3 << 30))
    status = gpu_backend.gpu_status()
    assert status.available
    assert status.reason == "device 0 of 2: Fake GPU, 3.0 of 6.0 GiB free"


@pytest.mark.parametrize("kind", ["count", "category", "value"])
def test_device_grids_equal_the_numpy_backend(with_cupy, kind):
    cp = with_cupy(fake_cupy())
    rng = np.random.default_rng(8)
    points, canvas = random_case(rng, 5000, panels=12, free=True, kind=kind, dtype=np.float32)
    assert_same_grids(aggregate(points, canvas, "gpu"), aggregate(points, canvas, "numpy"))
    # Every column crossed once, plus the few-hundred-byte range tables.
    columns = gpu_backend.input_bytes_per_point(points) * len(points)
    assert columns <= sum(cp.sent) <= columns + 1024


def test_chunks_are_sized_from_free_device_memory(with_cupy, monkeypatch):
    monkeypatch.setattr(gpu_backend, "MIN_CHUNK", 1)
    rng = np.random.default_rng(6)
    points, canvas = random_case(rng, 10_000, panels=3, kind="category")
    per_point = gpu_backend.input_bytes_per_point(points) + gpu_backend.TEMP_BYTES_PER_POINT
    reserved = gpu_backend.grid_bytes(binning.BinPlan(points, canvas), with_values=False)
    # Room for exactly 1000 points at MEMORY_FRACTION = 0.5.
    cp = with_cupy(fake_cupy(free=2 * (reserved + 1000 * per_point)))
    grids = gpu_backend.aggregate_gpu(points, canvas)
    assert_same_grids(grids, aggregate(points, canvas, "numpy"))
    x_bytes = points.x.dtype.itemsize
    assert cp.sent.count(1000 * x_bytes) == 2 * 10  # x and y, 10 chunks


def test_chunk_points_arithmetic_and_refusal(monkeypatch):
    monkeypatch.setattr(gpu_backend, "MIN_CHUNK", 100)
    assert gpu_backend.chunk_points(10**9, 2 * (4000 + 50 * 10**6), 50, 4000) == 10**6
    assert gpu_backend.chunk_points(10, 10**9, 50, 0) == 10
    assert gpu_backend.chunk_points(0, 10**9, 50, 0) == 1
    # Fewer points than MIN_CHUNK need room for themselves only.
    assert gpu_backend.chunk_points(5, 2 * (5 * 50), 50, 0) == 5
    with pytest.raises(
        BackendUnavailable,
        match=r"the GPU has 1 MiB free but aggregating needs 10 MiB \(grids 5 MiB \+ 100 points "
        r"× 50 B, using at most 50% of free memory\); free GPU memory, make the plot smaller",
    ):
        gpu_backend.chunk_points(10**6, 1 << 20, 50, 5 << 20)


@pytest.mark.parametrize(
    "colouring,kind",
    [
        (shade.Constant((10, 20, 30)), "count"),
        (shade.Categorical(((255, 0, 0), (0, 255, 0), (0, 0, 255), (9, 9, 9))), "category"),
        (shade.Continuous(np.arange(30, dtype=np.uint8).reshape(10, 3) * 8, (-1.0, 1.0)), "value"),
    ],
)
def test_rasters_equal_cpu_shading_and_only_they_come_back(with_cupy, colouring, kind):
    cp = with_cupy(fake_cupy())
    rng = np.random.default_rng(3)
    points, canvas = random_case(rng, 4000, panels=4, kind=kind)
    style = {"point_diameter": 5, "opacity": 0.4, "shape": 15 if kind == "count" else 19}
    got, dropped = gpu_backend.render_rasters(points, canvas, colouring, **style)
    grids = aggregate(points, canvas, "numpy")
    want = shade.shade(grids, colouring, **style)
    assert isinstance(got, np.ndarray) and got.dtype == np.uint8
    np.testing.assert_array_equal(got, want)
    assert dropped == grids.dropped > 0
    assert cp.fetched == [(4, 9, 13, 4)]


def test_auto_policy_and_its_log(with_cupy, caplog):
    with_cupy(fake_cupy())
    cold, warm = gpu_backend.AUTO_MIN_POINTS_COLD, gpu_backend.AUTO_MIN_POINTS_WARM
    caplog.set_level(logging.DEBUG, logger="ggrs.gpu")
    assert gpu_backend.use_gpu("cpu", 10**9) == (False, "backend=cpu")
    decision, reason = gpu_backend.use_gpu("auto", cold - 1)
    assert not decision and f"{cold - 1:,} points < {cold:,}" in reason
    decision, reason = gpu_backend.use_gpu("auto", cold)
    assert decision and reason.startswith(f"backend=auto: {cold:,} points ≥ {cold:,}; device 0")
    assert gpu_backend.use_gpu("gpu", 1)[0]
    # Once the GPU has run in this process, the warm threshold applies.
    one = np.array([0.5])
    gpu_backend.aggregate_gpu(Points(one, one), Canvas(1, 1, (0, 1), (0, 1)))
    assert gpu_backend.use_gpu("auto", warm)[0]
    assert not gpu_backend.use_gpu("auto", warm - 1)[0]
    assert caplog.messages[0] == "aggregating on the CPU (backend=cpu)"
    assert caplog.messages[2].startswith("aggregating on the GPU (backend=auto: ")
    with pytest.raises(UsageError, match="backend must be auto, cpu or gpu; got 'cuda'"):
        gpu_backend.use_gpu("cuda", 1)


def test_auto_below_the_threshold_does_not_probe(with_cupy):
    with_cupy(fake_cupy(kernel_error="must not be called"))
    assert gpu_backend.use_gpu("auto", 10)[0] is False
    assert gpu_backend.gpu_status.cache_info().currsize == 0


# --- on a real GPU ---------------------------------------------------------------------------


@needs_gpu
@pytest.mark.parametrize("kind", ["count", "category", "value"])
@pytest.mark.parametrize("panels", [1, 12])
def test_gpu_grids_equal_cpu_grids(kind, panels):
    gpu_backend.gpu_status.cache_clear()
    rng = np.random.default_rng(panels)
    points, canvas = random_case(rng, 200_000, panels=panels, kind=kind, dtype=np.float32)
    want = aggregate(points, canvas, "numpy")
    # Sums differ in the order of additions only (see ggrs.aggregate.xp_binning).
    assert_same_grids(gpu_backend.aggregate_gpu(points, canvas), want, exact_sums=False)


@needs_gpu
def test_gpu_tiny_chunks_and_rasters():
    gpu_backend.gpu_status.cache_clear()
    import cupy

    rng = np.random.default_rng(1)
    points, canvas = random_case(rng, 50_000, panels=4, kind="category")
    grids = gpu_backend.aggregate_device(points, canvas, chunk=999)
    assert isinstance(grids.count, cupy.ndarray)
    want = aggregate(points, canvas, "numpy")
    np.testing.assert_array_equal(cupy.asnumpy(grids.count), want.count)
    colouring = shade.Categorical(((255, 0, 0), (0, 255, 0), (0, 0, 255), (9, 9, 9)))
    got, dropped = gpu_backend.render_rasters(
        points, canvas, colouring, point_diameter=3, opacity=0.4
    )
    np.testing.assert_array_equal(got, shade.shade(want, colouring, point_diameter=3, opacity=0.4))
    assert dropped == want.dropped
