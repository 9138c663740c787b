"""Golden-image cases: small plots whose PNGs are kept in tests/baseline_images/.

Shared by tests/golden/test_golden.py (compares) and tests/renew_goldens.py
(rewrites the baselines after a deliberate change in look).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
from PIL import Image

from ggrs import pipeline
from ggrs.properties import parse_properties

BASELINE_DIR = Path(__file__).resolve().parent / "baseline_images"

# Largest root-mean-square difference (0-255 per channel) that still matches,
# as in plotnine: small enough to catch a moved tick or a wrong colour.
TOLERANCE_RMS = 2.0


@dataclass(frozen=True)
class Case:
    """One golden plot: which data, mapping, properties and chart options."""

    name: str
    data: str  # a key of TABLES
    aes: pipeline.Aesthetics
    properties: dict[str, str] = field(default_factory=dict)
    point_size: float = 3.0
    chart: str = "point"


def crabs() -> pa.Table:
    path = resources.files("ggrs") / "data" / "crabs_long.csv"
    return pacsv.read_csv(io.BytesIO(path.read_bytes()))


def blobs() -> pa.Table:
    """20,000 seeded points in two Gaussian blobs with a continuous value."""
    rng = np.random.default_rng(11)
    n = 20_000
    centre = rng.integers(0, 2, n)
    x = rng.normal(centre * 3.0, 1.0, n)
    y = rng.normal(centre * -2.0, 0.7, n)
    return pa.table({"x": x, "y": y, "value": x + y})


def series() -> pa.Table:
    """Three seeded random walks of 300 steps each, rows shuffled (lines sort by x)."""
    rng = np.random.default_rng(5)
    n = 300
    walk = np.cumsum(rng.normal(0, 1, (3, n)), axis=1) + np.array([[0.0], [8.0], [-8.0]])
    order = rng.permutation(3 * n)
    return pa.table(
        {
            "time": np.tile(np.arange(n, dtype=np.float64), 3)[order],
            "signal": walk.reshape(-1)[order],
            "well": np.repeat(np.array(["A1", "B2", "C3"]), n)[order],
        }
    )


def counts() -> pa.Table:
    """Bars: 4 doses × 3 treatments, one treatment missing at one dose, one negative."""
    dose = np.array([1, 1, 1, 2, 2, 2, 3, 3, 4, 4, 4], dtype=np.float64)
    treatment = ["a", "b", "c", "a", "b", "c", "a", "c", "a", "b", "c"]
    value = np.array([3, 5, 2, 6, 4, -1.5, 7, 3, 4, 6, 5], dtype=np.float64)
    return pa.table({"dose": dose, "treatment": treatment, "value": value})


TABLES = {"crabs": crabs, "blobs": blobs, "series": series, "counts": counts}


SMALL = {"plot.width": "480", "plot.height": "360"}
CRABS_2X2 = pipeline.Aesthetics(
    y="measurement", x="observation", color="color", rows=("sex",), cols=("variable",)
)
CRABS_SIMPLE = pipeline.Aesthetics(y="measurement", x="observation", color="sex")

CASES = (
    Case("crabs_facets", "crabs", CRABS_2X2, {"plot.width": "900", "plot.height": "420"}),
    *(
        Case(f"theme_{name}", "crabs", CRABS_SIMPLE, {**SMALL, "theme": name})
        for name in ("gray", "bw", "linedraw", "light", "dark", "minimal", "classic", "void",
                     "publish")
    ),
    Case("continuous_legend", "blobs", pipeline.Aesthetics(y="y", x="x", color="value"), SMALL, 1),
    Case(
        "categorical_bottom_title",
        "crabs",
        CRABS_SIMPLE,
        {**SMALL, "legend.position": "bottom", "plot.title": "Crab measurements",
         "axis.x.tick.rotation": "45", "opacity": "0.5"},
    ),
    Case("log10_axes", "crabs", CRABS_SIMPLE,
         {**SMALL, "axis.x.transform": "log10", "axis.y.transform": "log10"}),
    Case("asinh_logicle_axes", "blobs", pipeline.Aesthetics(y="y", x="value"),
         {**SMALL, "axis.x.transform": "asinh:cofactor=0.5",
          "axis.y.transform": "logicle:T=10,W=0.5,M=2,A=0"}, 1),
    Case("line_chart", "series", pipeline.Aesthetics(y="signal", x="time", color="well"),
         SMALL, 2, "line"),
    Case("bar_dodge", "counts", pipeline.Aesthetics(y="value", x="dose", color="treatment"),
         SMALL, chart="bar"),
    Case("heatmap_mean", "crabs",
         pipeline.Aesthetics(y="measurement", rows=("sex", "color"), cols=("variable",)),
         {**SMALL, "heatmap.cell.aggregation": "mean"}, chart="heatmap"),
    Case("layers_shapes", "blobs", pipeline.Aesthetics(y=("y", "value"), x="x"),
         {**SMALL, "point.shapes": "1;17", "opacity": "0.3"}, 3),
)  # fmt: skip


def render(case: Case) -> Image.Image:
    """Renders a case to an RGB image."""
    table = TABLES[case.data]()
    request = pipeline.PlotRequest(
        aes=case.aes,
        properties=parse_properties(case.properties),
        point_size=case.point_size,
        chart=case.chart,
    )
    (page,) = pipeline.render_table(table, request)
    with Image.open(io.BytesIO(page.image)) as image:
        return image.convert("RGB")


def rms_difference(a: Image.Image, b: Image.Image) -> float:
    """Root-mean-square difference of two same-size RGB images (0-255)."""
    diff = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    return float(np.sqrt(np.mean(diff * diff)))


def difference_image(a: Image.Image, b: Image.Image) -> Image.Image:
    """Absolute difference, amplified so small changes are visible."""
    diff = np.abs(np.asarray(a, dtype=np.int16) - np.asarray(b, dtype=np.int16))
    return Image.fromarray(np.clip(diff * 8, 0, 255).astype(np.uint8))
