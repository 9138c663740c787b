"""How the operator turns the crosstab's axis preprocessors into tick transforms."""

from __future__ import annotations

import logging

import numpy as np

from ggrs import operator, scales


def test_known_transforms_label_ticks_in_original_units():
    transform = operator.axis_transform("y", "log10")
    assert isinstance(transform, scales.LogTransform)
    np.testing.assert_allclose(transform.inverse(np.array([0.0, 2.0])), [1.0, 100.0])
    assert isinstance(operator.axis_transform("x", "asinh:cofactor=5"), scales.AsinhTransform)


def test_no_transform_and_unknown_transforms(caplog):
    assert operator.axis_transform("x", "") is None
    assert operator.axis_transform("x", None) is None
    with caplog.at_level(logging.WARNING):
        assert operator.axis_transform("y", "boxcox") is None
    assert "axis y" in caplog.text
    assert "boxcox" in caplog.text
