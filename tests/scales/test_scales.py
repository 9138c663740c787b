"""Position scales: breaks, labels, expansion, minor breaks and trained axes."""

from __future__ import annotations

import numpy as np
import pytest

from ggrs import scales
from ggrs.compose.views import AxisView
from ggrs.errors import DataError, UsageError


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [
        (0, 1, [0, 0.25, 0.5, 0.75, 1]),
        (0, 97, [0, 25, 50, 75]),
        (-3.2, 7.9, [-2.5, 0, 2.5, 5, 7.5]),
        (0, 1e6, [0, 2.5e5, 5e5, 7.5e5, 1e6]),
        (1e6, 2.5e6, [1e6, 1.5e6, 2e6, 2.5e6]),
        (0, 1e-5, [0, 2.5e-6, 5e-6, 7.5e-6, 1e-5]),
        (0.1, 0.7, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]),
        (-4.85, 101.85, [0, 25, 50, 75, 100]),
        (1e9, 1e9 + 1, [1e9, 1e9 + 0.25, 1e9 + 0.5, 1e9 + 0.75, 1e9 + 1]),
    ],
)
def test_nice_breaks_examples(low, high, expected):
    breaks = scales.nice_breaks(low, high)
    assert breaks.tolist() == expected
    assert ((breaks >= low) & (breaks <= high)).all()


def test_breaks_are_short_decimals():
    for low, high in [(0.1, 0.7), (-0.33, 0.91), (1.2345, 1.2346), (0, 3e-7), (17, 18.3)]:
        for b in scales.nice_breaks(low, high):
            assert len(repr(float(b))) <= 12, (low, high, b)  # never 0.30000000000000004


def test_extreme_ranges_get_breaks_not_overflow():
    # Squares of gaps near 1e200 overflow a Python float; a tenth of 1e-323 is 0.
    assert scales.nice_breaks(-1e200, 1e200).tolist() == pytest.approx([-5e199, 0.0, 5e199])
    assert scales.nice_breaks(-1e307, 1e307).tolist() == [-1e307, -5e306, 0.0, 5e306, 1e307]
    assert scales.nice_breaks(-5e-324, 5e-324).tolist() == [-5e-324]


def test_degenerate_breaks_and_bad_input():
    assert scales.nice_breaks(3.0, 3.0).tolist() == [3.0]
    with pytest.raises(UsageError, match="need finite low ≤ high"):
        scales.nice_breaks(2.0, 1.0)
    with pytest.raises(UsageError, match="need finite low ≤ high"):
        scales.nice_breaks(0.0, np.inf)


@pytest.mark.parametrize(
    ("breaks", "expected"),
    [
        ([0, 0.25, 0.5, 0.75, 1], ("0.00", "0.25", "0.50", "0.75", "1.00")),
        ([-2.5, 0, 2.5, 5, 7.5], ("-2.5", "0.0", "2.5", "5.0", "7.5")),
        ([0, 25, 50, 75], ("0", "25", "50", "75")),
        ([0, 1e6, 2e6, 3e6], ("0e+00", "1e+06", "2e+06", "3e+06")),
        ([0, 2.5e5, 5e5, 7.5e5, 1e6], ("0", "250000", "500000", "750000", "1000000")),
        ([0, 2.5e-6, 5e-6], ("0.0e+00", "2.5e-06", "5.0e-06")),
        ([1e9, 1e9 + 0.5, 1e9 + 1], ("1000000000.0", "1000000000.5", "1000000001.0")),
        ([-0.0, 1.0], ("0", "1")),
        ([0.1 + 0.2, 0.6], ("0.3", "0.6")),
        ([-5e7, 0.0, 5e7], ("-5e+07", "0e+00", "5e+07")),
    ],
)
def test_format_labels(breaks, expected):
    assert scales.format_labels(np.array(breaks)) == expected


def test_no_negative_zero_label():
    labels = scales.format_labels(np.array([-0.5, -1e-17, 0.5]))
    assert labels == ("-0.5", "0.0", "0.5")
    assert scales.format_labels(np.array([])) == ()


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [
        (0.0, 10.0, (-0.5, 10.5)),
        (0.0, 0.0, (-0.5, 0.5)),
        (100.0, 100.0, (95.0, 105.0)),
        (-4.0, -4.0, (-4.2, -3.8)),
    ],
)
def test_expand_range(low, high, expected):
    assert scales.expand_range(low, high) == pytest.approx(expected, rel=1e-15)


def test_expand_range_add_and_errors():
    assert scales.expand_range(0, 10, mult=0.0, add=1.0) == (-1.0, 11.0)
    with pytest.raises(UsageError, match=r"cannot expand the range \(2\.0, 1\.0\)"):
        scales.expand_range(2, 1)
    with pytest.raises(UsageError, match="need finite"):
        scales.expand_range(np.nan, 1)


def test_minor_breaks_between_majors_and_to_the_limits():
    assert scales.minor_breaks(np.array([0, 25, 50, 75, 100]), (-4.85, 101.85)).tolist() == [
        12.5,
        37.5,
        62.5,
        87.5,
    ]
    # Extended by one major step on each side, then cut to the limits.
    assert scales.minor_breaks(np.array([0.0, 1.0, 2.0]), (-0.7, 2.2)).tolist() == [-0.5, 0.5, 1.5]
    assert scales.minor_breaks(np.array([0.1, 0.2, 0.3]), (0.05, 0.35)).tolist() == [
        0.05,
        0.15,
        0.25,
        0.35,
    ]
    assert scales.minor_breaks(np.array([3.0]), (2.0, 4.0)).tolist() == []


def test_finite_range_ignores_nan_and_inf():
    values = np.array([np.nan, 3.0, -np.inf, -2.5, np.inf, 7.0], dtype=np.float32)
    assert scales.finite_range(values, "y") == (-2.5, 7.0)
    assert scales.finite_range(np.arange(5), "x") == (0.0, 4.0)


def test_finite_range_without_data_names_the_column():
    with pytest.raises(DataError, match=r"column 'weight' has no finite values \(3 rows"):
        scales.finite_range(np.array([np.nan, np.inf, np.nan]), "weight")
    with pytest.raises(DataError, match="column 'x' has no finite values"):
        scales.finite_range(np.array([]), "x")


def test_train_axis():
    axis = scales.train_axis(0, 97)
    assert isinstance(axis, AxisView)
    assert axis.limits == pytest.approx((-4.85, 101.85))
    assert axis.breaks == (0.0, 25.0, 50.0, 75.0, 100.0)
    assert axis.labels == ("0", "25", "50", "75", "100")
    assert axis.minor_breaks == (12.5, 37.5, 62.5, 87.5)
    assert all(axis.limits[0] <= b <= axis.limits[1] for b in axis.breaks + axis.minor_breaks)


def test_train_axis_without_expansion_and_degenerate():
    assert scales.train_axis(0, 1, expand=False).limits == (0.0, 1.0)
    single = scales.train_axis(5, 5)
    assert single.limits == pytest.approx((4.75, 5.25))
    assert single.labels == ("4.8", "4.9", "5.0", "5.1", "5.2")


class _Log10:
    """A test transform: positions are log10 of the data, labels show the data."""

    name = "log10"

    def forward(self, values):
        return np.log10(values)

    def inverse(self, values):
        return 10.0 ** np.asarray(values)

    def breaks(self, low, high, target):
        return np.arange(np.ceil(low), np.floor(high) + 1)

    def minor_breaks(self, breaks, limits):
        return np.array([])

    def labels(self, breaks):
        return scales.format_labels(self.inverse(breaks))


def test_train_axis_uses_the_transform_for_breaks_and_labels():
    axis = scales.train_axis(0.0, 3.0, expand=False, transform=_Log10())
    assert axis.breaks == (0.0, 1.0, 2.0, 3.0)
    assert axis.labels == ("1", "10", "100", "1000")
    identity = scales.IDENTITY
    assert identity.inverse(identity.forward(np.array([1.5]))).tolist() == [1.5]
