"""Pipeline steps as numbers: pages, facet grids, axis ranges, image size."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pyarrow as pa
import pytest

from ggrs import pipeline, scales
from ggrs.aggregate import native_backend, threads
from ggrs.errors import DataError, LayoutError
from ggrs.panels import Factor
from ggrs.properties import parse_properties


def data(**extra) -> pipeline.PlotData:
    x = np.array([1.0, 2.0, 3.0, 4.0])
    y = np.array([10.0, 20.0, 300.0, 400.0])
    return pipeline.PlotData(
        x=x,
        y=y,
        finite=np.isfinite(x) & np.isfinite(y),
        rows=Factor(np.array([0, 0, 1, 1], dtype=np.int32), ("a", "b"), ("r",)),
        cols=Factor(np.zeros(4, dtype=np.int32), ("",), ()),
        pages=Factor(np.array([0, 1, 0, 1], dtype=np.int32), ("p", "q"), ("page",)),
        **extra,
    )


def panel_limits(plot_data: pipeline.PlotData, page: int, mode: str = "free_y"):
    selected = pipeline._select_page(plot_data, page)
    views = pipeline._train_scales(selected, mode, plot_data)
    return [(v.x.limits, v.y.limits) for v in views]


def test_free_y_trains_each_facet_row_on_the_page():
    (row_a, row_b) = panel_limits(data(), page=0)  # rows 0 and 2 of the table
    assert row_a[1] == scales.train_axis(10.0, 10.0).limits
    assert row_b[1] == scales.train_axis(300.0, 300.0).limits
    assert row_a[0] == row_b[0] == scales.train_axis(1.0, 3.0).limits


def test_fixed_scales_share_one_range():
    (row_a, row_b) = panel_limits(data(), page=1, mode="fixed")
    assert row_a == row_b == (scales.train_axis(2, 4).limits, scales.train_axis(20, 400).limits)


def test_given_cell_limits_win_and_missing_cells_fall_back():
    y_limits = np.array([[[0.0, 100.0]], [[np.nan, np.nan]]])
    (row_a, row_b) = panel_limits(data(y_limits=y_limits), page=0)
    assert row_a[1] == scales.train_axis(0.0, 100.0).limits
    assert row_b[1] == scales.train_axis(10.0, 300.0).limits  # the page's overall range


def test_auto_size_adds_facets_and_legend_room():
    props = parse_properties({})
    assert pipeline._image_size(props, 3, "plot.width", None, "right", "left") == 1600
    legend = object()
    assert pipeline._image_size(props, 1, "plot.width", legend, "right", "left") == 950
    assert pipeline._image_size(props, 2, "plot.height", legend, "top", "bottom") == 1200
    sized = parse_properties({"plot.width": "640"})
    assert pipeline._image_size(sized, 5, "plot.width", legend, "right", "left") == 640


def test_images_past_the_pixel_limit_are_refused_before_drawing():
    square = parse_properties({"plot.width": "10000", "plot.height": "10000"})
    assert pipeline._figure_size(square, 1, 1, None) == (10_000, 10_000)
    assert pipeline.MAX_IMAGE_PIXELS == 10_000 * 10_000
    taller = parse_properties({"plot.width": "10000", "plot.height": "10001"})
    with pytest.raises(
        LayoutError, match=r"10000 × 10001 px \(100 megapixels\); .* 100 megapixels"
    ):
        pipeline._figure_size(taller, 1, 1, None)
    # The auto rule has no side limit of its own: 320 columns would be 128,400 px wide.
    auto = parse_properties({"plot.height": "100"})
    assert pipeline._figure_size(auto, 1, 319, None) == (128_000, 100)
    with pytest.raises(LayoutError, match=r"128400 × 100 px .*auto size for 320 facet columns"):
        pipeline._figure_size(auto, 1, 320, None)
    with pytest.raises(LayoutError, match="auto size for 30 facet columns and 30 facet rows"):
        pipeline._figure_size(parse_properties({}), 30, 30, None)


def test_one_image_per_page_in_label_order():
    table = pa.table({"y": [1.0, 2.0, 3.0], "p": ["b", "a", "b"]})
    request = pipeline.PlotRequest(
        aes=pipeline.Aesthetics(y="y", pages=("p",)),
        properties=parse_properties({"plot.width": "300", "plot.height": "200"}),
    )
    pages = pipeline.render_table(table, request)
    assert [(p.label, p.width, p.height) for p in pages] == [("a", 300, 200), ("b", 300, 200)]
    assert all(p.image.startswith(b"\x89PNG") for p in pages)


def _reference_limits(values, ok, codes, n):
    limits = np.full((n, 2), np.nan)
    for g in range(n):
        chosen = values[ok & (codes == g)]
        if len(chosen):
            limits[g] = (chosen.min(), chosen.max())
    return limits


def _require_native() -> None:
    """Skip where the kernels are not built (a source checkout run without Bazel).
    Under Bazel they always are: tests/aggregate's registration test fails otherwise."""
    if not native_backend.available():
        pytest.skip(f"native kernels not built: {native_backend.load_problem}")


@pytest.fixture(params=["native", "numpy"])
def limits_path(request, monkeypatch):
    """Group limits by the compiled kernel (where built) and by numpy."""
    if request.param == "numpy":
        monkeypatch.setattr(native_backend, "_library", None)
    else:
        _require_native()
    return request.param


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_groups", [1, 3, 7])
def test_group_limits_are_exact_over_blocks_and_skip_non_finite_rows(dtype, n_groups, limits_path):
    rng = np.random.default_rng(n_groups)
    size = 200_001  # several blocks, the last one short
    values = rng.standard_normal(size).astype(dtype)
    values[rng.integers(0, size, 500)] = np.nan
    values[rng.integers(0, size, 50)] = np.inf
    values[rng.integers(0, size, 50)] = -np.inf
    # Group n-1 is left empty: its limits are NaN.
    codes = rng.integers(0, max(n_groups - 1, 1), size).astype(np.int32)
    ok = np.isfinite(values)
    got = pipeline._group_limits(values, ok, codes, n_groups)
    np.testing.assert_array_equal(got, _reference_limits(values, ok, codes, n_groups))


def test_group_limits_take_a_zero_stride_all_true_mask(limits_path):
    values = np.array([3.0, -1.0, 5.0, 2.0], dtype=np.float32)
    codes = np.array([0, 1, 0, 1], dtype=np.int32)
    ok = np.broadcast_to(np.True_, values.shape)
    np.testing.assert_array_equal(
        pipeline._group_limits(values, ok, codes, 3), [[3, 5], [-1, 2], [np.nan, np.nan]]
    )
    np.testing.assert_array_equal(pipeline._group_limits(values, ok, codes, 1), [[-1, 5]])
    empty = np.empty(0, dtype=np.float64)
    assert np.isnan(pipeline._group_limits(empty, empty > 0, empty.astype(np.int32), 2)).all()


def test_native_group_limits_refuse_codes_outside_the_groups():
    _require_native()
    values = np.array([1.0, 2.0, 3.0])
    with pytest.raises(DataError, match=r"1 group codes lie outside 0\.\.1"):
        native_backend.group_limits(values, np.array([0, 1, 2], np.int8), 2)
    # A code outside the groups on a row left out is never read.
    ok = np.array([True, True, False])
    limits = native_backend.group_limits(values, np.array([0, 1, 5], np.int8), 2, ok)
    np.testing.assert_array_equal(limits, [[1, 1], [2, 2]])
    # Values the kernel does not read go to numpy.
    assert native_backend.group_limits(values.astype(np.float16), None, 1) is None
    # Negative codes are outside the groups too.
    with pytest.raises(DataError, match=r"1 group codes lie outside 0\.\.1"):
        native_backend.group_limits(values, np.array([0, -1, 1], np.int8), 2)
    # Columns of other lengths or shapes are refused before the kernel reads them.
    with pytest.raises(DataError, match=r"group codes of shape \(1,\) for 3 values"):
        native_backend.group_limits(values, np.zeros(1, np.int8), 2)
    with pytest.raises(DataError, match=r"row mask of shape \(2,\) for 3 values"):
        native_backend.group_limits(values, None, 1, np.ones(2, bool))
    with pytest.raises(DataError, match=r"values of shape \(3, 2\)"):
        native_backend.group_limits(np.zeros((3, 2)), None, 1)


def test_native_group_limits_split_over_threads_equal_numpy(monkeypatch):
    _require_native()
    monkeypatch.setattr(threads, "POINTS_PER_THREAD", 1000)
    monkeypatch.setattr(threads, "usable_cpus", lambda: 4)
    rng = np.random.default_rng(30)
    values = rng.normal(0, 1, 10_000).astype(np.float32)
    codes = rng.integers(0, 5, 10_000).astype(np.int16)
    ok = rng.random(10_000) > 0.1
    expected = _reference_limits(values, ok, codes, 6)
    np.testing.assert_array_equal(native_backend.group_limits(values, codes, 6, ok), expected)


def test_group_limits_never_say_minus_zero(limits_path):
    values = np.array([0.0, -0.0, -0.0, 0.0])
    ok = np.broadcast_to(np.True_, values.shape)
    limits = pipeline._group_limits(values, ok, np.zeros(4, np.int8), 2)
    np.testing.assert_array_equal(limits[0], [0.0, 0.0])
    assert not np.signbit(limits[0]).any()


def test_prepare_marks_finite_rows_without_a_full_mask_when_all_are():
    clean = pa.table({"x": [1.0, 2.0], "y": pa.array([3.0, 4.0], pa.float32())})
    plot = pipeline.prepare(clean, pipeline.Aesthetics(x="x", y="y"))
    assert plot.finite.strides == (0,) and plot.finite.all() and len(plot.finite) == 2
    dirty = pa.table({"x": [1.0, np.inf, 3.0], "y": [None, 5.0, 6.0]})
    plot = pipeline.prepare(dirty, pipeline.Aesthetics(x="x", y="y"))
    np.testing.assert_array_equal(plot.finite, [False, False, True])
    np.testing.assert_array_equal(plot.y, [np.nan, 5.0, 6.0])
    assert plot.ranges is None  # a non-finite row: the scales reduce the finite ones


def test_prepare_keeps_the_ranges_of_its_finiteness_check_for_the_scales():
    table = pa.table({"x": [3.0, 1.0, 2.0], "y": pa.array([-4.0, 8.0, 5.0], pa.float32())})
    plot = pipeline.prepare(table, pipeline.Aesthetics(x="x", y="y"))
    np.testing.assert_array_equal(plot.ranges, [[1.0, 3.0], [-4.0, 8.0]])
    # The scales take them as they are (wider ones here, to show they are used)...
    wide = replace(plot, ranges=np.array([[0.0, 10.0], [-20.0, 20.0]]))
    views = pipeline._train_scales(pipeline._select_page(wide, 0), "fixed", wide)
    assert views[0].x.limits == scales.train_axis(0.0, 10.0).limits
    assert views[0].y.limits == scales.train_axis(-20.0, 20.0).limits
    # ...but only for a page of every row, and not after a transform moved the data.
    paged = data(ranges=np.array([[0.0, 10.0], [-20.0, 20.0]]))
    assert pipeline._select_page(paged, 0).ranges is None
    request = pipeline.PlotRequest(
        aes=pipeline.Aesthetics(x="x", y="y"),
        properties=parse_properties({"axis.y.transform": "log10"}),
    )
    moved, _ = pipeline._transform_axes(plot, request, lambda message: None)
    assert moved.ranges is None


def test_prepare_with_nan_still_trains_ranges_on_finite_rows():
    table = pa.table({"x": [1.0, 2.0, np.nan, 4.0], "y": [5.0, np.nan, 7.0, 9.0]})
    plot = pipeline.prepare(table, pipeline.Aesthetics(x="x", y="y"))
    views = pipeline._train_scales(pipeline._select_page(plot, 0), "fixed", plot)
    assert views[0].x.limits == scales.train_axis(1.0, 4.0).limits
    assert views[0].y.limits == scales.train_axis(5.0, 9.0).limits
