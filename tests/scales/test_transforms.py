"""Axis transforms: exact tick positions and labels, round trips, parsing."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ggrs import scales
from ggrs.errors import UsageError


def trained(text: str, low: float, high: float) -> tuple[tuple[float, ...], tuple[str, ...]]:
    """Breaks (transformed space) and labels of an axis over the data range [low, high]."""
    transform = scales.parse_transform(text)
    ends = transform.forward(np.array([low, high]))
    view = scales.train_axis(float(ends[0]), float(ends[1]), transform=transform)
    assert all(view.limits[0] <= b <= view.limits[1] for b in view.breaks)
    return view.breaks, view.labels


def test_log10_decades():
    assert trained("log10", 1, 1000) == ((0.0, 1.0, 2.0, 3.0), ("1", "10", "100", "1000"))


def test_log10_short_range_has_2_and_5_between_decades():
    breaks, labels = trained("log10", 2, 300)
    assert labels == ("2", "5", "10", "20", "50", "100", "200")
    np.testing.assert_allclose(breaks, np.log10([2, 5, 10, 20, 50, 100, 200]))


def test_log10_many_decades_are_thinned():
    assert trained("log10", 1e-3, 1e7)[1] == ("0.01", "1", "100", "10000", "1e+06")


def test_log2_powers_of_two():
    assert trained("log2", 1, 64) == (
        (0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0),
        ("1", "2", "4", "8", "16", "32", "64"),
    )


@pytest.mark.parametrize("name", ["ln", "log"])
def test_natural_log_is_labelled_in_decades(name):
    breaks, labels = trained(name, 1, 1000)
    assert labels == ("1", "10", "100", "1000")
    np.testing.assert_allclose(breaks, [0.0, math.log(10), math.log(100), math.log(1000)])


def test_sqrt_nice_original_breaks_at_their_roots():
    breaks, labels = trained("sqrt", 0, 100)
    assert labels == ("0", "25", "50", "75", "100")
    np.testing.assert_allclose(breaks, np.sqrt([0, 25, 50, 75, 100]))


def test_asinh_with_cofactor_decades_and_zero():
    breaks, labels = trained("asinh:cofactor=5", -100, 10000)
    assert labels == ("-100", "-10", "0", "10", "100", "1000", "10000")
    values = np.array([-100, -10, 0, 10, 100, 1000, 10000], dtype=float)
    np.testing.assert_allclose(breaks, np.arcsinh(values / 5))


def test_asinh_inside_its_linear_region_uses_nice_breaks():
    breaks, labels = trained("asinh:cofactor=5", -3, 4)
    assert labels == ("-2", "0", "2", "4")
    np.testing.assert_allclose(breaks, np.arcsinh(np.array([-2, 0, 2, 4]) / 5))


def test_logicle_zero_and_negative_decades():
    transform = scales.parse_transform("logicle")
    breaks, labels = trained("logicle", -1000, 100000)
    # The linear region around 0 shows only 0 (100 would sit on top of it).
    assert labels == ("-1000", "0", "1000", "10000", "1e+05")
    assert breaks[1] == pytest.approx(0.5 / 4.5)  # 0 sits at W / (M + A)
    np.testing.assert_allclose(
        transform.inverse(np.array(breaks)), [-1000, 0, 1000, 10000, 100000], atol=1e-9
    )
    # Odd symmetry around 0.
    assert breaks[1] - breaks[0] == pytest.approx(
        float(transform.forward(np.array([1000.0]))[0]) - breaks[1]
    )


def test_logicle_linear_region_near_zero():
    assert trained("logicle:T=10000,W=1,M=4", -50, 50)[1] == ("-50", "-25", "0", "25", "50")


def test_few_decades_get_fives_and_twos_around_the_decades():
    # Only ±1 and 0 are decades here: 2 and 5 fill in, none crowding out a decade.
    assert trained("logicle:T=10,W=0.5,M=2,A=0", -4, 5)[1] == (
        "-5", "-2", "-1", "0", "1", "2", "5",
    )  # fmt: skip


def test_logicle_top_of_scale_is_one():
    transform = scales.parse_transform("logicle:T=10000,W=0.5,M=4.5,A=0.5")
    np.testing.assert_allclose(transform.forward(np.array([10000.0])), [1.0])
    np.testing.assert_allclose(transform.inverse(np.array([1.0])), [10000.0])


@pytest.mark.parametrize(
    "text",
    ["log10", "log2", "ln", "sqrt", "asinh", "asinh:cofactor=150", "logicle",
     "logicle:T=10000,W=0,M=4,A=1", "logicle:T=1000000,W=1.5,M=6"],
)  # fmt: skip
def test_round_trip(text):
    transform = scales.parse_transform(text)
    rng = np.random.default_rng(3)
    values = rng.uniform(-1, 1, 2000) * 10.0 ** rng.uniform(-3, 6, 2000)
    if text in ("log10", "log2", "ln", "sqrt"):
        values = np.abs(values)
    back = transform.inverse(transform.forward(values))
    np.testing.assert_allclose(back, values, rtol=1e-9, atol=1e-9)
    forward = transform.forward(np.sort(values))
    assert np.all(np.diff(forward) >= 0)  # monotone


def test_log_and_sqrt_have_no_position_for_out_of_domain_values():
    assert np.isnan(scales.parse_transform("log10").forward(np.array([0.0, -1.0]))).all()
    assert np.isnan(scales.parse_transform("sqrt").forward(np.array([-1.0]))).all()


def test_logicle_forward_keeps_nan_and_infinities():
    out = scales.parse_transform("logicle").forward(np.array([np.nan, np.inf, -np.inf]))
    assert np.isnan(out[0]) and out[1] == np.inf and out[2] == -np.inf


def test_parse_names_and_parameters():
    assert scales.parse_transform("") is scales.IDENTITY
    assert scales.parse_transform(" LOG10 ").name == "log10"
    assert scales.parse_transform("log").base == math.e
    assert scales.parse_transform("asinh:cofactor=5").cofactor == 5.0
    logicle = scales.parse_transform("logicle:t=10000, W=1,M=4")
    assert (logicle.T, logicle.W, logicle.M, logicle.A) == (10000.0, 1.0, 4.0, 0.0)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("log3", "unknown name 'log3'; allowed: .*log10.*asinh:cofactor=1"),
        ("asinh:cofactor=0", "cofactor must be > 0"),
        ("asinh:cofactor=abc", "cofactor='abc' is not a finite number"),
        ("asinh:scale=2", "'scale=2' is not a parameter of asinh"),
        ("log10:base=2", "not a parameter of log10"),
        ("logicle:W=-1", "W must be ≥ 0"),
        ("logicle:W=3,M=4", "2·W < M"),
    ],
)
def test_parse_errors_name_the_text_and_what_is_allowed(text, message):
    with pytest.raises(UsageError, match=message) as caught:
        scales.parse_transform(text)
    assert repr(text) in str(caught.value)
