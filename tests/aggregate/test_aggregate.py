"""Aggregation: every backend against numpy.histogram2d, hand examples and each other."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ggrs.aggregate import (
    Canvas,
    Points,
    aggregate,
    available_backends,
    binning,
    choose_backend,
    native_backend,
    threads,
)
from ggrs.aggregate import registry as registry_module
from ggrs.errors import BackendUnavailable, DataError, UsageError

# Every CPU backend installed here (a Bazel build has all four).
BACKENDS = tuple(b for b in ("numpy", "native", "numba", "datashader") if b in available_backends())
COMPILED = tuple(b for b in ("native", "numba") if b in available_backends())


def histogram(x, y, x_range, y_range, width, height):
    """Counts per pixel by numpy.histogram2d, flipped so row 0 is the top."""
    counts, _, _ = np.histogram2d(y, x, bins=[height, width], range=[y_range, x_range])
    return counts[::-1].astype(np.uint32)


def reference(x, y, panel, x_ranges, y_ranges, width, height):
    """The documented arithmetic, written out panel by panel (see ggrs.aggregate.binning)."""
    grids = np.zeros((len(x_ranges), height, width), dtype=np.uint32)
    for p, ((xlo, xhi), (ylo, yhi)) in enumerate(zip(x_ranges, y_ranges, strict=True)):
        xs = x[panel == p].astype(np.float64)
        ys = y[panel == p].astype(np.float64)
        keep = (xs >= xlo) & (xs <= xhi) & (ys >= ylo) & (ys <= yhi)
        xs, ys = xs[keep], ys[keep]
        sx, sy = width / (xhi - xlo), height / (yhi - ylo)
        ix = np.minimum(np.floor(xs * sx + (-xlo * sx)), width - 1).astype(int)
        iy = np.minimum(np.floor(ys * sy + (-ylo * sy)), height - 1).astype(int)
        np.add.at(grids[p], (height - 1 - iy, ix), 1)
    return grids


def near_edges(rng, low, high, n_pixels, dtype, size):
    """Values on the pixel edges of (low, high), one ulp either side, and non-finite ones."""
    edges = np.linspace(low, high, n_pixels + 1).astype(dtype)
    up, down = np.nextafter(edges, dtype(np.inf)), np.nextafter(edges, dtype(-np.inf))
    special = np.array([np.nan, np.inf, -np.inf], dtype=dtype)
    return rng.choice(np.concatenate([edges, up, down, special]), size)


def test_every_backend_is_registered():
    # Under Bazel the compiled kernels are built with the package: a missing or
    # unloadable library fails here rather than silently leaving auto on numpy.
    assert set(BACKENDS) == {"numpy", "native", "numba", "datashader"}
    assert native_backend.load_problem is None


def test_auto_uses_the_native_kernels_at_every_size():
    one = np.array([0.5])
    canvas = Canvas(1, 1, (0, 1), (0, 1))
    assert choose_backend(Points(one, one), canvas) == "native"
    two = Canvas(1, 1, [(0, 1), (0, 1)], (0, 1))
    assert choose_backend(Points(one, one, panel=np.array([1]), value=one), two) == "native"


def test_native_without_its_library_says_what_to_do(monkeypatch):
    monkeypatch.setattr(native_backend, "_library", None)
    monkeypatch.setattr(native_backend, "load_problem", "cannot load libggrs_kernels.so: gone")
    x = np.zeros(2)
    with pytest.raises(
        BackendUnavailable,
        match=r"'native' is not available \(cannot load "
        r"libggrs_kernels.so: gone\); build ggrs with Bazel",
    ):
        native_backend.aggregate_native(Points(x, x), Canvas(2, 2, (0, 1), (0, 1)))


def _without_native(monkeypatch):
    """The choice ``auto`` makes where the kernels are not built (a source checkout)."""
    monkeypatch.delitem(registry_module._BACKENDS, "native", raising=False)


@pytest.mark.parametrize("backend", BACKENDS)
def test_two_by_two_by_hand(backend):
    x = np.array([0.5, 1.5, 1.5, 0.5, 0.5, 0.5, 2.0])
    y = np.array([0.5, 1.5, 1.9, 1.5, 1.0, 1.2, 0.0])
    grids = aggregate(Points(x, y), Canvas(2, 2, (0, 2), (0, 2)), backend)
    # Top row: y in [1, 2]; (2, 0) sits on the upper x limit, so in the last column.
    assert grids.count.dtype == np.uint32
    assert grids.count.tolist() == [[[3, 2], [1, 1]]]
    assert grids.value_sum is None
    assert grids.dropped == 0


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_random_points_equal_histogram2d(backend, dtype):
    rng = np.random.default_rng(7)
    x = rng.normal(0.3, 2.0, 5000).astype(dtype)
    y = rng.uniform(-3.0, 9.0, 5000).astype(dtype)
    for x_range, y_range, w, h in [
        ((-3.1, 4.2), (-2.5, 8.7), 17, 11),
        ((-1.0, 1.0), (0.0, 5.0), 1, 3),
        ((-10.0, 10.0), (-10.0, 10.0), 40, 30),
    ]:
        grids = aggregate(Points(x, y), Canvas(w, h, x_range, y_range), backend)
        expected = histogram(x, y, x_range, y_range, w, h)
        np.testing.assert_array_equal(grids.count[0], expected)
        assert grids.dropped == len(x) - expected.sum()


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_edges_upper_limit_and_non_finite_equal_histogram2d(backend, dtype):
    # Pixel widths of 1 and 1/2: every edge is exact, so histogram2d's edges and
    # our arithmetic must agree on every value, including ulp neighbours. (Ranges
    # avoid 0, whose float32 neighbours are subnormals that histogram2d misplaces.)
    rng = np.random.default_rng(11)
    xr, yr = (8.0, 16.0), (1.0, 5.0)
    x = near_edges(rng, *xr, 8, dtype, 4000)
    y = near_edges(rng, *yr, 8, dtype, 4000)
    x[:3] = [16.0, 16.0, 8.0]  # upper limit, corner, lower limit
    y[:3] = [5.0, 1.0, 5.0]
    grids = aggregate(Points(x, y), Canvas(8, 8, xr, yr), backend)
    finite = np.isfinite(x) & np.isfinite(y)
    expected = histogram(x[finite], y[finite], xr, yr, 8, 8)
    np.testing.assert_array_equal(grids.count[0], expected)
    # The upper limits fall into the last pixel: (16, 5) top right, (16, 1) bottom right.
    assert grids.count[0, 0, 7] >= 1 and grids.count[0, 7, 7] >= 1 and grids.count[0, 0, 0] >= 1
    assert grids.dropped == len(x) - expected.sum()
    assert grids.dropped > np.count_nonzero(~finite)  # out of range ones too


@pytest.mark.parametrize("backend", BACKENDS)
def test_twelve_panels_with_free_ranges_equal_histogram2d(backend):
    rng = np.random.default_rng(3)
    n, p = 20000, 12
    panel = rng.integers(0, p, n).astype(np.int8)
    x = rng.normal(0, 2, n)
    y = rng.normal(panel, 1 + panel / 4)
    x_ranges = np.c_[rng.uniform(-5, -1, p), rng.uniform(1, 5, p)]
    low = np.arange(p) - 3.0
    y_ranges = np.c_[low, low + rng.uniform(2, 9, p)]
    grids = aggregate(Points(x, y, panel=panel), Canvas(23, 17, x_ranges, y_ranges), backend)
    assert grids.count.shape == (p, 17, 23)
    for k in range(p):
        m = panel == k
        expected = histogram(x[m], y[m], x_ranges[k], y_ranges[k], 23, 17)
        np.testing.assert_array_equal(grids.count[k], expected)
    assert grids.dropped == n - grids.count.sum()


@pytest.mark.parametrize("shared_x", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_backends_agree_exactly_on_adversarial_edges(shared_x, dtype):
    # Non-dyadic ranges, far from zero and tiny or huge: pixel edges are not exact
    # here, so this checks both backends use the same arithmetic as `reference`.
    rng = np.random.default_rng(5 + shared_x)
    for trial in range(6):
        p = 1 if trial == 0 else int(rng.integers(2, 6))
        w, h = int(rng.integers(1, 9)), int(rng.integers(1, 9))
        offset, scale = [(0.0, 1.0), (1e9, 1.0), (-3.0, 1e-3), (0.0, 1e6), (7.7, 3.3)][trial % 5]
        x_ranges = offset + np.sort(rng.uniform(-10, 10, (p, 2)), axis=1) * scale
        y_ranges = -offset + np.sort(rng.uniform(-10, 10, (p, 2)), axis=1) * scale
        if shared_x:
            x_ranges[:] = x_ranges[0]
        panel = rng.integers(0, p, 3000)
        x, y = np.empty(3000, dtype), np.empty(3000, dtype)
        for k in range(p):
            m = panel == k
            x[m] = near_edges(rng, *x_ranges[k], w, dtype, m.sum())
            y[m] = near_edges(rng, *y_ranges[k], h, dtype, m.sum())
        points = Points(x, y, panel=panel if p > 1 else None)
        canvas = Canvas(w, h, x_ranges, y_ranges)
        expected = reference(x, y, panel, x_ranges, y_ranges, w, h)
        for backend in BACKENDS:
            grids = aggregate(points, canvas, backend)
            np.testing.assert_array_equal(grids.count, expected, err_msg=f"{backend} {trial}")
            assert grids.dropped == len(x) - expected.sum()


def test_backends_agree_on_many_blocks_and_chunks(monkeypatch):
    # Small blocks and datashader calls, so the loops and the per-chunk value sums run
    # many times.
    monkeypatch.setattr(binning, "BLOCK", 256)
    monkeypatch.setattr(binning, "OUTER", 1024)
    rng = np.random.default_rng(2)
    n, p = 10000, 12
    panel = rng.integers(0, p, n).astype(np.int16)
    x, y = rng.normal(0, 1, n), rng.normal(0, 1, n).astype(np.float32)
    value = rng.normal(0, 1, n)
    value[::97] = np.nan
    canvas = Canvas(7, 5, np.c_[np.full(p, -2.0), np.linspace(1, 3, p)], (-2.5, 2.5))
    numpy_grids, *others = (
        aggregate(Points(x, y, panel=panel, value=value), canvas, b) for b in BACKENDS
    )
    for grids in others:
        assert grids.value_sum.dtype == numpy_grids.value_sum.dtype == np.float64
        np.testing.assert_array_equal(grids.count, numpy_grids.count)
        np.testing.assert_array_equal(grids.value_sum, numpy_grids.value_sum)
        assert grids.dropped == numpy_grids.dropped


@pytest.mark.parametrize("backend", BACKENDS)
def test_count_by_category(backend):
    rng = np.random.default_rng(9)
    n, p, k = 6000, 3, 4
    panel = rng.integers(0, p, n)
    category = rng.integers(0, k - 1, n).astype(np.uint8)  # level 3 is unused
    x, y = rng.uniform(-1, 11, n), rng.uniform(-1, 5, n)
    canvas = Canvas(10, 4, (0.0, 10.0), np.array([[0.0, 4.0], [-1.0, 3.0], [1.0, 5.0]]))
    points = Points(x, y, panel=panel, category=category, n_categories=k)
    grids = aggregate(points, canvas, backend)
    assert grids.count.shape == (p, k, 4, 10)
    assert grids.n_categories == k
    for q in range(p):
        for c in range(k):
            m = (panel == q) & (category == c)
            expected = histogram(x[m], y[m], (0.0, 10.0), canvas.y_ranges[q], 10, 4)
            np.testing.assert_array_equal(grids.count[q, c], expected)
    assert grids.dropped == n - grids.count.sum()


@pytest.mark.parametrize("backend", BACKENDS)
def test_value_sums_for_the_mean(backend):
    x = np.array([0.5, 0.5, 1.5, 1.5, 1.5, 9.0])
    y = np.array([0.5, 0.5, 1.5, 1.5, 0.5, 0.5])
    value = np.array([1.0, 2.0, 10.0, np.nan, -4.0, 5.0], dtype=np.float32)
    grids = aggregate(Points(x, y, value=value), Canvas(2, 2, (0, 2), (0, 2)), backend)
    # (1.5, 1.5) with a NaN value and (9, 0.5) out of range are dropped.
    assert grids.count.tolist() == [[[0, 1], [2, 1]]]
    assert grids.value_sum.tolist() == [[[0.0, 10.0], [3.0, -4.0]]]
    assert grids.dropped == 2


@pytest.mark.parametrize("backend", BACKENDS)
def test_value_sums_match_weighted_histogram(backend):
    rng = np.random.default_rng(4)
    x, y, value = rng.uniform(0, 4, 3000), rng.uniform(0, 3, 3000), rng.normal(size=3000)
    grids = aggregate(Points(x, y, value=value), Canvas(4, 3, (0, 4), (0, 3)), backend)
    expected, _, _ = np.histogram2d(y, x, bins=[3, 4], range=[(0, 3), (0, 4)], weights=value)
    # Same values, summed in another order.
    np.testing.assert_allclose(grids.value_sum[0], expected[::-1], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("backend", BACKENDS)
def test_no_points(backend):
    empty = np.array([], dtype=np.float64)
    grids = aggregate(Points(empty, empty), Canvas(3, 2, (0, 1), (0, 1)), backend)
    assert grids.count.shape == (1, 2, 3)
    assert grids.count.sum() == 0
    assert grids.dropped == 0


def test_auto_uses_numpy_for_small_inputs(monkeypatch):
    _without_native(monkeypatch)
    one = np.array([0.5])
    canvas = Canvas(1, 1, (0, 1), (0, 1))
    assert choose_backend(Points(one, one), canvas) == "numpy"
    assert aggregate(Points(one, one), canvas).count.tolist() == [[[1]]]
    # Large single-panel inputs go to datashader (the threshold is lowered, not the data
    # raised); panels, categories and values stay on numpy, which is faster there.
    monkeypatch.setattr(registry_module, "AUTO_COLD_THRESHOLD", 1)
    monkeypatch.setattr(registry_module, "AUTO_WARM_THRESHOLD", 1)
    assert choose_backend(Points(one, one), canvas) == "datashader"
    assert choose_backend(Points(one, one, value=one), canvas) == "numpy"
    assert choose_backend(Points(one, one, category=np.array([0])), canvas) == "numpy"
    two = Canvas(1, 1, [(0, 1), (0, 1)], (0, 1))
    assert choose_backend(Points(one, one, panel=np.array([1])), two) == "numpy"


def test_errors_name_the_problem():
    x = np.array([0.5, 1.5])
    canvas = Canvas(2, 2, [(0, 2), (0, 2)], (0, 2))
    with pytest.raises(DataError, match=r"panel codes span 0\.\.2 but must lie in 0\.\.1"):
        aggregate(Points(x, x, panel=np.array([0, 2])), canvas)
    with pytest.raises(DataError, match="2 panels but the points have no panel codes"):
        aggregate(Points(x, x), canvas)
    with pytest.raises(DataError, match="category codes span"):
        aggregate(
            Points(x, x, category=np.array([0, 5]), n_categories=2), Canvas(2, 2, (0, 2), (0, 2))
        )
    with pytest.raises(UsageError, match="unknown aggregation backend 'tpu'"):
        aggregate(Points(x, x), Canvas(2, 2, (0, 2), (0, 2)), backend="tpu")
    with pytest.raises(DataError, match="dtype int64"):
        Points(np.array([1, 2]), x)
    with pytest.raises(DataError, match="differ in length"):
        Points(x, x[:1])
    with pytest.raises(UsageError, match="both a category and a value"):
        Points(x, x, category=np.array([0, 1]), value=x)
    with pytest.raises(UsageError, match=r"x_ranges\[1\] = \(3\.0, 3\.0\)"):
        Canvas(2, 2, [(0, 1), (3, 3)], (0, 1))
    with pytest.raises(UsageError, match="width must be a positive integer"):
        Canvas(0, 2, (0, 1), (0, 1))
    with pytest.raises(UsageError, match="3 x ranges but 2 y ranges"):
        Canvas(2, 2, [(0, 1)] * 3, [(0, 1)] * 2)


def test_canvas_repeats_a_shared_range():
    canvas = Canvas(4, 3, (0, 1), np.array([[0, 1], [2, 3], [4, 5]]))
    assert canvas.n_panels == 3
    assert canvas.x_ranges.tolist() == [[0, 1]] * 3


def test_count_split_covers_the_points_once_per_thread(monkeypatch):
    monkeypatch.setattr(threads, "POINTS_PER_THREAD", 1000)
    monkeypatch.setattr(threads, "usable_cpus", lambda: 3)
    ranges = []

    def count_range(start, stop, grid):
        ranges.append((start, stop))
        grid[start % 4] += stop - start

    count = threads.count_split(count_range, 10_000, 3)
    assert sorted(ranges) == [(0, 3333), (3333, 6666), (6666, 10_000)]
    assert count.tolist() == [3333, 3333, 3334, 0]  # each thread its own grid, then added
    ranges.clear()
    threads.count_split(count_range, 1999, 3)
    assert ranges == [(0, 1999)]  # fewer than 2 × POINTS_PER_THREAD points: one thread


@pytest.mark.parametrize("backend", COMPILED)
def test_compiled_threads_split_the_points_exactly(monkeypatch, backend):
    # Four threads of 2,500 points over 12 panels × 5 categories on a small grid.
    monkeypatch.setattr(threads, "POINTS_PER_THREAD", 1000)
    monkeypatch.setattr(threads, "usable_cpus", lambda: 4)
    rng = np.random.default_rng(12)
    n, p, k = 10_000, 12, 5
    panel = rng.integers(0, p, n).astype(np.int8)
    category = rng.integers(0, k, n).astype(np.uint8)  # unsigned (numba copies it to int16)
    x, y = rng.normal(0, 1, n).astype(np.float32), rng.normal(0, 1, n).astype(np.float32)
    x[::50] = np.nan
    canvas = Canvas(9, 7, (-2.0, 2.0), np.c_[np.full(p, -2.0), np.linspace(0.5, 3, p)])
    points = Points(x, y, panel=panel, category=category, n_categories=k)
    threaded = aggregate(points, canvas, backend)
    expected = aggregate(points, canvas, "numpy")
    np.testing.assert_array_equal(threaded.count, expected.count)
    assert threaded.dropped == expected.dropped > n // 50


def test_auto_imports_numba_only_once_it_pays(monkeypatch):
    pytest.importorskip("numba")
    _without_native(monkeypatch)
    one = np.zeros(3)
    canvas = Canvas(1, 1, (0, 1), (0, 1))
    monkeypatch.setattr(registry_module, "AUTO_NUMBA_WARM_THRESHOLD", 3)
    monkeypatch.setattr(registry_module, "AUTO_NUMBA_COLD_POINTS", 7)
    monkeypatch.setattr(registry_module, "_large_points", 0)
    modules = dict(registry_module.sys.modules)
    modules.pop("numba", None)
    monkeypatch.setattr(registry_module.sys, "modules", modules)
    # Without numba imported: numpy until the large inputs add up to 7 points.
    assert choose_backend(Points(one[:2], one[:2]), canvas) == "numpy"  # small
    assert choose_backend(Points(one, one), canvas) == "numpy"
    aggregate(Points(one, one), canvas)  # 3 large points so far
    aggregate(Points(one[:2], one[:2]), canvas)  # small inputs do not count
    assert choose_backend(Points(one, one), canvas) == "numpy"  # 6 < 7
    aggregate(Points(one, one), canvas)
    assert choose_backend(Points(one, one), canvas) == "numba"  # 9 ≥ 7
    # An input too large to add numba's resident libraries to stays on numpy...
    monkeypatch.setattr(registry_module, "AUTO_NUMBA_IMPORT_MAX_POINTS", 2)
    assert choose_backend(Points(one, one), canvas) == "numpy"
    # ...but once numba is imported, every large input uses it.
    monkeypatch.setattr(registry_module, "_large_points", 0)
    modules["numba"] = object()
    assert choose_backend(Points(one, one), canvas) == "numba"
    assert choose_backend(Points(one[:2], one[:2]), canvas) == "numpy"


def _run(code: str, **env: str) -> str:
    root = Path(__file__).absolute().parents[2]
    env["PYTHONPATH"] = ":".join([str(root), *sys.path])
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    return result.stdout.strip()


def test_small_inputs_never_import_numba():
    code = (
        "import sys, numpy as np\n"
        "from ggrs.aggregate import Canvas, Points, aggregate\n"
        "aggregate(Points(np.zeros(1000), np.zeros(1000)), Canvas(4, 4, (0, 1), (0, 1)))\n"
        "print(sorted(m for m in ('numba', 'datashader', 'pandas') if m in sys.modules))\n"
    )
    assert _run(code) == "[]"


def test_numba_without_a_cache_folder_warns_and_still_counts():
    pytest.importorskip("numba")
    # No locator can cache (as in a read-only install without a writable home): the
    # kernel is compiled in memory, with one warning that says what to set.
    code = (
        "import warnings, numpy as np\n"
        "from numba.core import caching\n"
        "caching.CacheImpl._locator_classes = []\n"
        "from ggrs.aggregate import Canvas, Points, aggregate, numba_backend\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    warnings.simplefilter('always')\n"
        "    x = np.array([0.25, 0.75, 0.75])\n"
        "    g = aggregate(Points(x, x), Canvas(2, 2, (0, 1), (0, 1)), 'numba')\n"
        "print(g.count.tolist(), numba_backend.cache_problem is not None,\n"
        "      [str(w.message)[:40] for w in caught])\n"
    )
    assert _run(code) == ("[[[0, 2], [1, 0]]] True ['ggrs cannot cache its compiled aggregati']")


def test_numba_caches_in_a_private_temporary_folder_when_nothing_else_is_writable(tmp_path):
    pytest.importorskip("numba")
    # Only the NUMBA_CACHE_DIR locator, and that unset: numba's own places all fail.
    code = (
        "import warnings, numpy as np\n"
        "from numba.core import caching\n"
        "caching.CacheImpl._locator_classes = [caching.UserProvidedCacheLocator]\n"
        "from ggrs.aggregate import Canvas, Points, aggregate, numba_backend\n"
        "warnings.simplefilter('error')\n"
        "x = np.array([0.25, 0.75, 0.75])\n"
        "print(aggregate(Points(x, x), Canvas(2, 2, (0, 1), (0, 1)), 'numba').count.tolist())\n"
    )
    assert _run(code, TMPDIR=str(tmp_path)) == "[[[0, 2], [1, 0]]]"
    (folder,) = tmp_path.glob("ggrs-numba-cache-*")
    assert folder.stat().st_mode & 0o777 == 0o700
    assert list(folder.glob("*/numba_backend._count_*.nbi"))


@pytest.mark.parametrize("module", ["numba_backend", "native_backend"])
def test_compiled_kernels_check_codes_themselves(module):
    backend = pytest.importorskip(f"ggrs.aggregate.{module}")
    kernel = getattr(backend, "aggregate_" + module.split("_")[0])
    canvas = Canvas(width=4, height=4, x_ranges=[(-1, 1)] * 2, y_ranges=[(-1, 1)] * 2)
    # The compiled loops do not bound their indices: a code past the canvas must stop here.
    points = Points(x=np.zeros(3), y=np.zeros(3), panel=np.array([0, 1, 7]))
    with pytest.raises(DataError, match=r"panel codes span 0\.\.7 but must lie in 0\.\.1"):
        kernel(points, canvas)
    points = Points(np.zeros(3), np.zeros(3), category=np.array([0, 1, 2]), n_categories=2)
    with pytest.raises(DataError, match="category"):
        kernel(points, Canvas(4, 4, (-1, 1), (-1, 1)))


@pytest.mark.parametrize("backend", COMPILED)
def test_compiled_threads_split_a_single_layer_exactly(monkeypatch, backend):
    # One panel, no categories, no values: the single-layer loop, over four threads.
    monkeypatch.setattr(threads, "POINTS_PER_THREAD", 1000)
    monkeypatch.setattr(threads, "usable_cpus", lambda: 4)
    rng = np.random.default_rng(21)
    x, y = rng.normal(0, 1, 9_999), rng.normal(0, 1, 9_999).astype(np.float32)
    x[::37] = np.inf
    canvas = Canvas(13, 11, (-2.0, 2.5), (-1.5, 2.0))
    threaded = aggregate(Points(x, y), canvas, backend)
    expected = aggregate(Points(x, y), canvas, "numpy")
    np.testing.assert_array_equal(threaded.count, expected.count)
    assert threaded.dropped == expected.dropped > 9_999 // 37


@pytest.mark.parametrize("backend", COMPILED)
def test_compiled_kernels_read_unsigned_codes_past_the_signed_range(backend):
    rng = np.random.default_rng(8)
    n = 20_000
    x, y = rng.uniform(0, 1, n), rng.uniform(0, 1, n)
    # 200 categories as uint8 (codes ≥ 128 would be negative read as int8) and
    # 33,000 panels as uint16 (codes ≥ 32,768 likewise).
    category = rng.integers(0, 200, n).astype(np.uint8)
    category[:100] = 199
    points = Points(x, y, category=category, n_categories=200)
    canvas = Canvas(3, 2, (0, 1), (0, 1))
    got, expected = aggregate(points, canvas, backend), aggregate(points, canvas, "numpy")
    np.testing.assert_array_equal(got.count, expected.count)
    panel = rng.integers(0, 33_000, n).astype(np.uint16)
    panel[:100] = 32_999
    points = Points(x, y, panel=panel)
    canvas = Canvas(1, 1, [(0, 1)] * 33_000, (0, 1))
    got, expected = aggregate(points, canvas, backend), aggregate(points, canvas, "numpy")
    np.testing.assert_array_equal(got.count, expected.count)
    assert got.count[32_999].sum() >= 100


@pytest.mark.parametrize("backend", COMPILED)
def test_infinite_values_on_kept_points_drop_them_as_numpy_does(backend):
    x = np.array([0.25, 0.25, 0.75, 0.75, 0.25])
    value = np.array([1.0, np.inf, -np.inf, 2.0, np.nan])
    points, canvas = Points(x, x, value=value), Canvas(2, 2, (0, 1), (0, 1))
    got, expected = aggregate(points, canvas, backend), aggregate(points, canvas, "numpy")
    np.testing.assert_array_equal(got.count, expected.count)
    np.testing.assert_array_equal(got.value_sum, expected.value_sum)
    assert got.dropped == expected.dropped == 3
    assert got.count.sum() == 2 and np.isfinite(got.value_sum).all()


@pytest.mark.parametrize("backend", COMPILED)
def test_value_sums_across_chunks_stay_quiet_about_dropped_infinities(monkeypatch, backend):
    # Dropped points add their values to the discarded entry 0, where +inf and
    # -inf from two chunks meet: no warning (the tests turn warnings into errors).
    monkeypatch.setattr(binning, "OUTER", 1 << 16)
    n = (1 << 16) + 1
    x = np.full(n, 0.5)
    x[0] = x[-1] = 5.0  # outside the canvas: dropped
    value = np.zeros(n)
    value[0], value[-1] = np.inf, -np.inf
    points, canvas = Points(x, x, value=value), Canvas(2, 2, (0, 1), (0, 1))
    got, expected = aggregate(points, canvas, backend), aggregate(points, canvas, "numpy")
    np.testing.assert_array_equal(got.value_sum, expected.value_sum)
    assert got.dropped == 2
