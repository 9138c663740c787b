"""Golden images: each case renders within tolerance of its reviewed baseline.

Renew after a deliberate change in look: `./bazelw run //tests:renew_goldens`.
A failing case leaves <name>.png, <name>-expected.png and <name>-diff.png in
Bazel's undeclared outputs (.bazel/testlogs/tests/golden_test_golden/test.outputs/).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PIL import Image

from tests.golden_helpers import (
    BASELINE_DIR,
    CASES,
    TOLERANCE_RMS,
    difference_image,
    render,
    rms_difference,
)


def keep(image: Image.Image, name: str) -> Path | None:
    folder = os.environ.get("TEST_UNDECLARED_OUTPUTS_DIR")
    if not folder:
        return None
    path = Path(folder) / name
    image.save(path)
    return path


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_matches_baseline(case):
    produced = render(case)
    baseline = BASELINE_DIR / f"{case.name}.png"
    if not baseline.exists():
        kept = keep(produced, f"{case.name}.png")
        pytest.fail(f"no baseline {baseline.name}; produced image kept at {kept}; renew goldens")
    with Image.open(baseline) as stored:
        expected = stored.convert("RGB")
    assert produced.size == expected.size, f"{case.name}: size {produced.size} != {expected.size}"
    rms = rms_difference(produced, expected)
    if rms > TOLERANCE_RMS:
        keep(produced, f"{case.name}.png")
        keep(expected, f"{case.name}-expected.png")
        keep(difference_image(produced, expected), f"{case.name}-diff.png")
    assert rms <= TOLERANCE_RMS, f"{case.name}: RMS difference {rms:.2f} > {TOLERANCE_RMS}"


def test_tolerance_catches_a_one_panel_shift():
    # The comparison must be able to fail: a copy shifted by 3 px is far off.
    image = render(CASES[1])
    shifted = Image.new("RGB", image.size, "white")
    shifted.paste(image, (3, 0))
    assert rms_difference(image, shifted) > TOLERANCE_RMS
