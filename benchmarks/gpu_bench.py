"""GPU against CPU aggregation + shading on the same data, in one run (issue 6).

For every N (float32 x and y, standard normal) and panel count (1 panel of
800×600, or 12 panels of 200×200 as 4 × 3 facets with uint8 panel codes):

* cpu: ``ggrs.aggregate.aggregate(backend="auto")`` + ``ggrs.shade.shade``, the
  path the pipeline takes today (median of ``--repeats`` calls after a warm-up);
* gpu: ``gpu_backend.render_rasters`` from host arrays to host RGBA, so the
  host→device copy of the columns is included (median of ``--repeats``, after a
  warm-up), split into its steps: copy (the columns alone), aggregate (copy +
  bins + counts, grids left on the device) and shade (grids → RGBA on the host);
* same: whether the GPU rasters equal the CPU rasters byte for byte.

The first GPU call of the process (CUDA context, kernel compilation or loading
from CuPy's cache) is timed on its own, as "first GPU call". The CPU runs up to
``--cpu-max`` points; the 1e9 case runs only when host and device memory allow.

Target (issue 6, one H200): 1e8 points into 12 panels ≤ 0.15 s end to end from
host arrays, and ≥ 10× faster than the CPU backend on the same machine.

Usage:
  bazel run //benchmarks:gpu_bench                       # 1e7, 1e8, 1e9
  bazel run //benchmarks:gpu_bench -- --sizes=1e7 --repeats=3 --json=/tmp/gpu.json
On a machine without a usable GPU it prints why and exits 0.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

if importlib.util.find_spec("ggrs") is None:  # run from a checkout without Bazel
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ggrs import shade
from ggrs.aggregate import Canvas, Points, aggregate, gpu_backend
from ggrs.errors import BackendUnavailable

SIZES = {"1e6": 10**6, "1e7": 10**7, "1e8": 10**8, "1e9": 10**9}
PANELS = (1, 12)
SEED = 20261129
COLOUR = shade.Constant((31, 119, 180))
TARGET_SECONDS = 0.15
TARGET_RATIO = 10.0
# Host bytes per point while a case runs: x, y (float32), panel code (uint8),
# and the generator's float64 temporaries of one block, amortised.
HOST_BYTES_PER_POINT = 9
BLOCK = 1 << 24


def canvas_for(panels: int) -> Canvas:
    """800×600 pixels of panels in all: one panel, or 4 × 3 panels of 200×200."""
    if panels == 1:
        return Canvas(800, 600, (-4.0, 4.0), (-4.0, 4.0))
    return Canvas(200, 200, np.tile([-4.0, 4.0], (panels, 1)), (-4.0, 4.0))


def make_points(n: int, panels: int, seed: int) -> Points:
    """n standard-normal float32 points (and uint8 panel codes), generated block by block."""
    rng = np.random.default_rng(seed)
    x = np.empty(n, dtype=np.float32)
    y = np.empty(n, dtype=np.float32)
    panel = np.empty(n, dtype=np.uint8) if panels > 1 else None
    for a in range(0, n, BLOCK):
        b = min(n, a + BLOCK)
        rng.standard_normal(b - a, dtype=np.float32, out=x[a:b])
        rng.standard_normal(b - a, dtype=np.float32, out=y[a:b])
        if panel is not None:
            panel[a:b] = rng.integers(0, panels, b - a, dtype=np.uint8)
    return Points(x, y, panel=panel)


def median_time(fn: Callable[[], Any], repeats: int, sync: Callable[[], None]) -> float:
    """Median seconds of ``repeats`` calls of ``fn`` after one warm-up, device synchronised."""
    fn()
    sync()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def host_memory_bytes() -> int:
    """Physical memory of this machine."""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1e7,1e8,1e9", help="comma-separated: 1e6,1e7,1e8,1e9")
    parser.add_argument("--panels", default="1,12", help="comma-separated panel counts: 1,12")
    parser.add_argument("--repeats", type=int, default=5, help="timed calls per cell")
    parser.add_argument(
        "--cpu-max", default="1e8", help="largest N the CPU backend runs (slow beyond)"
    )
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    args = parser.parse_args(argv)
    for name in [*args.sizes.split(","), args.cpu_max]:
        if name not in SIZES:
            parser.error(f"unknown size {name!r}; choose from {', '.join(SIZES)}")
    for p in args.panels.split(","):
        if p not in ("1", "12"):
            parser.error(f"--panels takes 1 and/or 12; got {p!r}")
    if args.repeats < 1:
        parser.error(f"--repeats must be at least 1; got {args.repeats}")
    return args


def run_case(cp: Any, n: int, panels: int, cpu: bool, repeats: int) -> dict[str, Any]:
    """Time one (N, panels) cell on the GPU (and the CPU when ``cpu``)."""

    def sync() -> None:
        cp.cuda.Device().synchronize()

    points = make_points(n, panels, SEED)
    canvas = canvas_for(panels)
    columns = [c for c in (points.x, points.y, points.panel) if c is not None]
    row: dict[str, Any] = {"n": n, "panels": panels}

    def copy() -> None:
        for c in columns:
            cp.asarray(c)

    def gpu() -> np.ndarray:
        return gpu_backend.render_rasters(points, canvas, COLOUR)[0]

    grids_box: list[Any] = []

    def aggregate_on_device() -> None:
        grids_box[:] = [gpu_backend.aggregate_device(points, canvas)]

    def shade_device() -> None:
        cp.asnumpy(shade.shade(grids_box[0], COLOUR, xp=cp))

    row["gpu_s"] = median_time(gpu, repeats, sync)
    row["copy_s"] = median_time(copy, repeats, sync)
    row["aggregate_s"] = median_time(aggregate_on_device, repeats, sync)
    row["shade_s"] = median_time(shade_device, repeats, sync)
    grids_box.clear()
    cp.get_default_memory_pool().free_all_blocks()
    row["copy_gb_s"] = sum(c.nbytes for c in columns) / row["copy_s"] / 1e9
    if cpu:

        def on_cpu() -> np.ndarray:
            return shade.shade(aggregate(points, canvas, "auto"), COLOUR)

        row["cpu_s"] = median_time(on_cpu, repeats, lambda: None)
        row["ratio"] = row["cpu_s"] / row["gpu_s"]
        row["same"] = bool(np.array_equal(gpu(), on_cpu()))
    return row


def fmt(v: float | None, spec: str = ".4f") -> str:
    """A number for the table, or '-' when not measured."""
    return "-" if v is None else format(v, spec)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; 0 also when no GPU is usable (it says why)."""
    args = parse_args(argv)
    print("ggrs GPU benchmark (issue 6): aggregate + shade, float32 points, host → RGBA")
    print(f"host: {platform.node()}, {os.cpu_count()} cores, {host_memory_bytes() / 2**30:.0f} GiB")
    status = gpu_backend.gpu_status()
    if not status.available:
        print(f"GPU unavailable: {status.reason}")
        print("nothing to compare; run this on a machine with an NVIDIA GPU and CuPy")
        return 0
    cp = gpu_backend.require_gpu()
    print(f"GPU: {status.reason}; CuPy {cp.__version__}")

    one = np.zeros(1, dtype=np.float32)
    t0 = time.perf_counter()
    gpu_backend.render_rasters(Points(one, one), canvas_for(1), COLOUR)
    cp.cuda.Device().synchronize()
    first = time.perf_counter() - t0
    print(f"first GPU call (context + kernels, 1 point): {first:.3f} s")

    cpu_max = SIZES[args.cpu_max]
    rows = []
    for size in args.sizes.split(","):
        n = SIZES[size]
        for panels in (int(p) for p in args.panels.split(",")):
            free, _total = cp.cuda.Device().mem_info
            host_need = n * HOST_BYTES_PER_POINT * 2
            if host_need > host_memory_bytes() * 0.7:
                print(f"skip {size} × {panels}: needs ~{host_need / 2**30:.0f} GiB of host memory")
                continue
            print(f"running {size} points × {panels} panels ...", flush=True)
            try:
                rows.append(run_case(cp, n, panels, n <= cpu_max, args.repeats))
            except BackendUnavailable as exc:
                print(f"skip {size} × {panels}: {exc} (device free: {free / 2**30:.1f} GiB)")
    print()
    head = (
        f"{'N':>6} {'panels':>6} {'cpu s':>8} {'gpu s':>8} {'copy s':>8} {'GB/s':>6} "
        f"{'agg s':>8} {'shade s':>8} {'cpu/gpu':>8} {'same':>5}"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        print(
            f"{r['n']:>6.0e} {r['panels']:>6} {fmt(r.get('cpu_s')):>8} {fmt(r['gpu_s']):>8} "
            f"{fmt(r['copy_s']):>8} {fmt(r['copy_gb_s'], '.1f'):>6} {fmt(r['aggregate_s']):>8} "
            f"{fmt(r['shade_s']):>8} {fmt(r.get('ratio'), '.1f'):>8} "
            f"{r.get('same', '-')!s:>5}"
        )
    print(
        "gpu s = host arrays → host RGBA (copy included); agg s = copy + binning, grids "
        "left on the device; shade s = device grids → host RGBA; cpu/gpu > 1: GPU faster"
    )
    target = next((r for r in rows if r["n"] == 10**8 and r["panels"] == 12), None)
    if target is not None:
        ok_time = target["gpu_s"] <= TARGET_SECONDS
        line = f"target 1e8 × 12 panels ≤ {TARGET_SECONDS} s: {target['gpu_s']:.4f} s " + (
            "PASS" if ok_time else "MISS"
        )
        if "ratio" in target:
            ok_ratio = target["ratio"] >= TARGET_RATIO
            line += f"; ≥ {TARGET_RATIO:.0f}× CPU: {target['ratio']:.1f}× " + (
                "PASS" if ok_ratio else "MISS"
            )
        print(line)
    if args.json:
        args.json.write_text(
            json.dumps({"gpu": status.reason, "first_call_s": first, "rows": rows})
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
