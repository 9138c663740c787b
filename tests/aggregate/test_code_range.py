"""One test and message for out-of-range panel and category codes, whether the
codes are checked whole on the host or chunk by chunk where they live."""

from __future__ import annotations

import numpy as np
import pytest

from ggrs.aggregate import Canvas, Points
from ggrs.aggregate.points import check_code_range, check_codes
from ggrs.aggregate.xp_binning import check_chunk_codes
from ggrs.errors import DataError


def test_codes_inside_the_range_pass():
    check_code_range("panel", 0, 3, 4)
    check_code_range("category", 2, 2, 3)


@pytest.mark.parametrize(
    ("name", "lo", "hi", "n", "message"),
    [
        ("panel", 0, 4, 4, "panel codes span 0..4 but must lie in 0..3 (4 panels on the canvas)"),
        ("panel", -1, 0, 4, "panel codes span -1..0 but must lie in 0..3 (4 panels on the canvas)"),
        ("category", 0, 2, 2, "category codes span 0..2 but must lie in 0..1 (2 categories)"),
    ],
)
def test_codes_outside_the_range_are_refused(name, lo, hi, n, message):
    with pytest.raises(DataError) as caught:
        check_code_range(name, lo, hi, n)
    assert str(caught.value) == message


def test_host_and_chunk_checks_say_the_same():
    canvas = Canvas(2, 2, [(0, 1), (0, 1)], (0, 1))
    x = np.zeros(3)
    panel = np.array([1, 0, 2], dtype=np.int8)
    with pytest.raises(DataError) as whole:
        check_codes(Points(x, x, panel=panel), canvas)
    with pytest.raises(DataError) as chunk:
        check_chunk_codes(np, "panel", panel, canvas.n_panels)
    assert (
        str(whole.value)
        == str(chunk.value)
        == ("panel codes span 0..2 but must lie in 0..1 (2 panels on the canvas)")
    )
    check_chunk_codes(np, "category", np.zeros(0, dtype=np.int32), 0)  # empty: nothing to check
