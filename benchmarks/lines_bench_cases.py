"""Line-chart aggregation benchmark cases (issue 4): ``aggregate_lines`` on 1e7 points.

:func:`bench_lines` times :func:`ggrs.aggregate.lines.aggregate_lines` (and,
apart, :func:`~ggrs.aggregate.lines.thicken`; no shading, no PNG) on 100
random-walk series of equal length, drawn on one 800×600 panel and on 12 panels
of 200×200 (series s in panel s mod 12), for three row orders of one table:

* ``sorted``: series after series, each in x order (a table sorted by series):
  no sort is needed.
* ``interleaved``: row i of every series, then row i + 1, ... (a wide table
  melted, or series streamed side by side): a sort of the narrow series key.
* ``shuffled``: rows in random order: the full (series, x) sort (a radix
  lexsort of 16-bit digits).

Each series is a random walk scaled to fill the panel height, so a segment
spans about one pixel, as in a dense time-series plot; the cost grows with the
total segment length in pixels, so jagged noise would cost more.

Run as a script: ``python benchmarks/lines_bench_cases.py [--n=1e7] [--repeats=3]``.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

if importlib.util.find_spec("ggrs") is None:  # run from a checkout without Bazel
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ggrs.aggregate.canvas import Canvas
from ggrs.aggregate.lines import Lines, aggregate_lines, thicken

SEED = 20261129
WIDTH = 3.0  # stroke width in pixels for the thicken timing
SERIES = 100
PANELS = 12
ORDERS = ("sorted", "interleaved", "shuffled")


def make_series(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """x (float32 time index), y (float32 walk in [0, 1]), series codes; sorted by series."""
    per = n // SERIES
    x = np.tile(np.arange(per, dtype=np.float32), SERIES)
    steps = rng.standard_normal((SERIES, per), dtype=np.float32)
    y = np.cumsum(steps, axis=1)
    y -= y.min(axis=1, keepdims=True)
    y /= y.max(axis=1, keepdims=True)
    series = np.repeat(np.arange(SERIES, dtype=np.int16), per)
    return x, y.reshape(-1), series


def _timed(lines: Lines, canvas: Canvas, repeats: int) -> tuple[float, float, float, int]:
    """Median wall and CPU seconds of ``repeats`` aggregations, median wall seconds of
    thickening their grids to :data:`WIDTH`, and the total count of the last grids.

    CPU time (this process) is reported too because the reference machine is
    shared: under load the wall time measures the neighbours as well.
    """
    walls, cpus, thick = [], [], []
    total = 0
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        grids = aggregate_lines(lines, canvas)
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
        t0 = time.perf_counter()
        thicken(grids, WIDTH)
        thick.append(time.perf_counter() - t0)
        total = int(grids.count.sum(dtype=np.uint64))
    return statistics.median(walls), statistics.median(cpus), statistics.median(thick), total


def bench_lines(n: int = 10_000_000, repeats: int = 3) -> list[dict[str, object]]:
    """Time aggregate_lines on every (panels, order) case; one result dict per case.

    Each dict has ``case`` ("single" or "facets12"), ``order``, ``n``,
    ``seconds`` and ``cpu_seconds`` (medians of ``repeats`` warm calls),
    ``thicken_seconds`` (:func:`thicken` of the grids to ``WIDTH``) and
    ``pixels`` (the sum of the count grids, a check that the orders draw the
    same lines).
    """
    rng = np.random.default_rng(SEED)
    x, y, series = make_series(n, rng)
    n = len(x)
    per = n // SERIES
    orders = {
        "sorted": None,
        "interleaved": np.arange(n).reshape(SERIES, per).T.reshape(-1),
        "shuffled": rng.permutation(n),
    }
    x_range = (0.0, float(per - 1))
    cases = {
        "single": (Canvas(800, 600, x_range, (0.0, 1.0)), None),
        "facets12": (
            Canvas(200, 200, [x_range] * PANELS, [(0.0, 1.0)] * PANELS),
            (series % PANELS).astype(np.int8),
        ),
    }
    results = []
    for case, (canvas, panel) in cases.items():
        for name in ORDERS:
            idx = orders[name]
            cols = (x, y, series, panel) if idx is None else tuple(
                None if c is None else c[idx] for c in (x, y, series, panel)
            )  # fmt: skip
            lines = Lines(cols[0], cols[1], panel=cols[3], group=cols[2])
            seconds, cpu, thick, pixels = _timed(lines, canvas, repeats)
            results.append(
                {
                    "case": case,
                    "order": name,
                    "n": n,
                    "seconds": seconds,
                    "cpu_seconds": cpu,
                    "thicken_seconds": thick,
                    "pixels": pixels,
                }
            )
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", default="1e7", help="points in all (default 1e7)")
    parser.add_argument("--repeats", type=int, default=3, help="timed calls per case")
    args = parser.parse_args(argv)
    for r in bench_lines(int(float(args.n)), args.repeats):
        print(
            f"{r['case']:9s} {r['order']:12s} n={r['n']:.0e}  {r['seconds']:.3f} s "
            f"(cpu {r['cpu_seconds']:.3f} s)  thicken {r['thicken_seconds']:.3f} s  "
            f"pixels={r['pixels']}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
