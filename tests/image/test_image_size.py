"""The size budget of //docker:image: ≤ 150 MB compressed (what Tercen pulls).

A failure shows the table of compressed and unpacked MB per layer;
`bazel run //docker:image_sizes` prints it any time.
"""

from __future__ import annotations

from image_helpers import LAYOUT

from docker import image_sizes

BUDGET_MB = 150


def test_compressed_image_fits_the_budget() -> None:
    sizes = image_sizes.layer_sizes(LAYOUT)
    assert [s.name for s in sizes] == ["base", "site", "fonts", "app"]
    total = sum(s.compressed for s in sizes)
    assert total <= BUDGET_MB * image_sizes.MB, image_sizes.format_table(sizes)
    # The pruned and stripped site-packages dominate; a regression (a new
    # dependency, a lost exclusion or strip) shows here first.
    site = next(s for s in sizes if s.name == "site")
    assert site.unpacked < 420 * image_sizes.MB, image_sizes.format_table(sizes)
