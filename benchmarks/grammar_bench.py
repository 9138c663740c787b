"""Chart-kind benchmark of issue 4: lines and heatmaps end to end, against peers.

Cases (each from an in-memory Arrow table to an encoded PNG, warm, in this process):

* ``lines``: 1e7 points as 100 random-walk series coloured by series (one line
  per colour), series after series as a sorted table arrives; one panel. The
  ``shuffled`` row is the same table in random row order (no target: the x
  sort within each series then dominates).
  Peers in the same run: datashader's ``Canvas.line`` on the same series (NaN
  separated, aggregation + shade only, no axes) and, with ``--slow``,
  matplotlib's ``plot`` (one Line2D per series, Agg).
* ``heatmap``: 1,000 × 1,000 facet cells, one value each, ``mean`` aggregation;
  peer: matplotlib's ``pcolormesh`` of the same matrix.

Targets (issue 4, 2-core machine): each ggrs case ≤ 1 s. The svg/hsvg targets
of the same issue are in render_bench.py (methods ggrs-svg, ggrs-hsvg).

Run: ``./bazelw run //benchmarks:grammar_bench -- [--n=1e7] [--cells=1000] [--repeats=3]``.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

if importlib.util.find_spec("ggrs") is None:  # run from a checkout without Bazel
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SEED = 20261129
SERIES = 100
TARGET_SECONDS = 1.0
SIZE = ("900", "700")


def line_table(n: int, shuffled: bool = False) -> Any:
    """`n` points in SERIES random walks (float32): series after series, each in x
    order (as a table sorted by series arrives), or rows in random order."""
    import pyarrow as pa

    rng = np.random.default_rng(SEED)
    per = n // SERIES
    walk = np.cumsum(rng.standard_normal((SERIES, per), dtype=np.float32), axis=1)
    order = rng.permutation(SERIES * per) if shuffled else np.arange(SERIES * per)
    x = np.tile(np.arange(per, dtype=np.float32), SERIES)[order]
    labels = pa.array([f"s{i:03d}" for i in range(SERIES)])
    codes = np.repeat(np.arange(SERIES, dtype=np.int8), per)[order]
    series = pa.DictionaryArray.from_arrays(pa.array(codes), labels)
    return pa.table({"t": x, "signal": walk.reshape(-1)[order], "series": series})


def heatmap_table(cells: int) -> Any:
    """One value per cell of a cells × cells facet grid (integer facet columns)."""
    import pyarrow as pa

    rng = np.random.default_rng(SEED)
    r, c = np.divmod(np.arange(cells * cells, dtype=np.int32), cells)
    value = np.sin(r / 40.0) + np.cos(c / 25.0) + rng.normal(0, 0.1, cells * cells)
    return pa.table({"row": r, "col": c, "value": value})


def ggrs_lines(table: Any) -> Callable[[], int]:
    from ggrs import pipeline
    from ggrs.properties import parse_properties

    aes = pipeline.Aesthetics(x="t", y="signal", color="series")
    props = parse_properties({"plot.width": SIZE[0], "plot.height": SIZE[1]})
    request = pipeline.PlotRequest(aes=aes, properties=props, chart="line", point_size=1.0)
    return lambda: len(pipeline.render_table(table, request)[0].image)


def ggrs_heatmap(table: Any) -> Callable[[], int]:
    from ggrs import pipeline
    from ggrs.properties import parse_properties

    aes = pipeline.Aesthetics(y="value", rows=("row",), cols=("col",))
    props = parse_properties(
        {"plot.width": SIZE[0], "plot.height": SIZE[1], "heatmap.cell.aggregation": "mean"}
    )
    request = pipeline.PlotRequest(aes=aes, properties=props, chart="heatmap")
    return lambda: len(pipeline.render_table(table, request)[0].image)


def datashader_lines(table: Any) -> Callable[[], int]:
    """datashader's line aggregation of the same series: sorted, NaN-separated."""
    import datashader as ds
    import datashader.transfer_functions as tf
    import pandas as pd

    t = table.column("t").to_numpy()
    y = table.column("signal").to_numpy()
    s = table.column("series").chunk(0).indices.to_numpy()
    order = np.lexsort((t, s))
    # One NaN row between series so they are not joined.
    breaks = np.flatnonzero(np.diff(s[order])) + 1
    xs = np.insert(t[order].astype(np.float64), breaks, np.nan)
    ys = np.insert(y[order].astype(np.float64), breaks, np.nan)
    frame = pd.DataFrame({"x": xs, "y": ys})
    canvas = ds.Canvas(plot_width=int(SIZE[0]) - 150, plot_height=int(SIZE[1]) - 100)

    def run() -> int:
        image = tf.shade(canvas.line(frame, "x", "y", agg=ds.count()), how="linear")
        return len(image.to_pil().tobytes())

    return run


def mpl_lines(table: Any) -> Callable[[], int]:
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = table.column("t").to_numpy()
    y = table.column("signal").to_numpy()
    s = table.column("series").chunk(0).indices.to_numpy()
    order = np.lexsort((t, s))
    bounds = np.searchsorted(s[order], np.arange(SERIES + 1))

    def run() -> int:
        fig, ax = plt.subplots(figsize=(9, 7), dpi=100)
        for k in range(SERIES):
            part = order[bounds[k] : bounds[k + 1]]
            ax.plot(t[part], y[part], linewidth=1)
        out = io.BytesIO()
        fig.savefig(out, format="png")
        plt.close(fig)
        return out.tell()

    return run


def mpl_heatmap(table: Any, cells: int) -> Callable[[], int]:
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    matrix = table.column("value").to_numpy().reshape(cells, cells)

    def run() -> int:
        fig, ax = plt.subplots(figsize=(9, 7), dpi=100)
        ax.pcolormesh(matrix)
        out = io.BytesIO()
        fig.savefig(out, format="png")
        plt.close(fig)
        return out.tell()

    return run


def timed(run: Callable[[], int], repeats: int) -> tuple[float, float]:
    """(first call, median of the warm calls) in seconds."""
    t0 = time.perf_counter()
    run()
    first = time.perf_counter() - t0
    warm = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        run()
        warm.append(time.perf_counter() - t0)
    return first, statistics.median(warm)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=float, default=1e7, help="points in the line case")
    parser.add_argument("--cells", type=int, default=1000, help="heatmap side in cells")
    parser.add_argument("--repeats", type=int, default=3, help="warm runs per method")
    parser.add_argument("--slow", action="store_true", help="also time matplotlib's lines")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    n = int(args.n)
    cases: list[tuple[str, str, Callable[[], Callable[[], int]], bool]] = []
    lines = line_table(n)
    shuffled = line_table(n, shuffled=True)
    heat = heatmap_table(args.cells)
    cases.append(("lines", "ggrs chart=line", lambda: ggrs_lines(lines), True))
    cases.append(("lines", "datashader Canvas.line", lambda: datashader_lines(lines), False))
    if args.slow:
        cases.append(("lines", "matplotlib plot", lambda: mpl_lines(lines), False))
    # Rows in random order: the x sort within each series becomes a full sort.
    cases.append(("shuffled", "ggrs chart=line", lambda: ggrs_lines(shuffled), False))
    cases.append(("heatmap", "ggrs chart=heatmap", lambda: ggrs_heatmap(heat), True))
    cases.append(("heatmap", "matplotlib pcolormesh", lambda: mpl_heatmap(heat, args.cells), False))

    print(f"lines: {n:,} points in {SERIES} series; heatmap: {args.cells}x{args.cells} cells")
    print(f"{'case':8} {'method':26} {'first s':>8} {'warm s':>8} {'vs ggrs':>8}")
    ggrs_warm: dict[str, float] = {}
    verdicts = []
    for case, method, build, is_ggrs in cases:
        first, warm = timed(build(), args.repeats)
        if is_ggrs:
            ggrs_warm[case] = warm
            ok = warm <= TARGET_SECONDS
            verdict = "PASS" if ok else "MISS"
            verdicts.append(f"{case}: ggrs {warm:.3f} s ≤ {TARGET_SECONDS} s: {verdict}")
        ratio = f"{warm / ggrs_warm[case]:.1f}×" if case in ggrs_warm and not is_ggrs else ""
        print(f"{case:8} {method:26} {first:8.3f} {warm:8.3f} {ratio:>8}")
    print("targets (issue 4):")
    for line in verdicts:
        print(f"  {line}")
    print("(peers without axes or legend do less work; datashader's line agg excludes its sort)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
