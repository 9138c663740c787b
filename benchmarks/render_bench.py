"""End-to-end render benchmark (issue 3): ggrs against matplotlib and plain datashader.

Every method reads the same Parquet file of float32 points and writes a PNG. Two
cases share one 800×600 panel area: one panel, and 12 panels (4 facet columns ×
3 facet rows, 200×200 each) coloured by 8 categories. The data (8 Gaussian blobs,
one per category, rows in random order, as in perf-anchors.md) is generated once
per N from a fixed seed into a temporary folder that is removed at the end.

Methods (each gets its own processes, so peak RSS is per method):

* ggrs: ``pipeline.render_table`` in one process ("warm": 1 warm-up call, then
  ``--repeats`` timed calls, each reading the Parquet file again), and the command
  ``python -m ggrs.render`` in a new process per run ("cold").
* matplotlib: Agg, ``scatter(s=1)`` on a figure of ggrs's image size, with axes
  (one subplot per facet, coloured by category). Skipped for N ≥ 1e7 unless
  ``--slow``: it takes minutes there.
* datashader: ``Canvas.points`` + ``tf.shade`` → PNG, no axes. 12 panels: one
  canvas per panel over ``df[panel == k]`` (``by(colour)``), and one canvas with
  ``by(panel × colour)`` whose slices are shaded per panel.

Each method uses its own PNG default (ggrs: ``png.compression=fast``; datashader and
matplotlib: zlib level 6). "cold" is wall time from process start to exit.

The one-panel case also runs ggrs with ``output.format=svg`` (all vector: the data
as merged pixel runs) and ``hsvg`` (vector chrome, panels as embedded PNG); their
rows note the file size (issue 4: ≤ 2 s and ≤ 5 MB at 1e7 points).

Usage:
  bazel run //benchmarks:render_bench                   # N = 1e5, 1e6, 1e7, 5e7
  bazel run //benchmarks:render_bench -- --quick        # N = 1e5, 1e6
  bazel run //benchmarks:render_bench -- --sizes=1e7 --profile   # + per-step breakdown
  bazel run //benchmarks:render_bench -- --profile-only --sizes=1e7,5e7
  bazel run //benchmarks:render_bench -- --slow         # matplotlib at every N
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.child import ChildResult, run_child

if importlib.util.find_spec("ggrs") is None:  # run from a checkout without Bazel
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SIZES = {"1e5": 100_000, "1e6": 1_000_000, "1e7": 10_000_000, "5e7": 50_000_000}
QUICK = ("1e5", "1e6")
CASES = ("single", "facets12")
SEED = 20261129
PANEL_AREA = (800, 600)  # pixels of all panels together, both cases
FACET_ROWS, FACET_COLS = 3, 4
ROW_LABELS = tuple(f"r{i + 1}" for i in range(FACET_ROWS))
COL_LABELS = tuple(f"c{i + 1}" for i in range(FACET_COLS))
CAT_LABELS = tuple(f"blob{i + 1}" for i in range(8))
# Eight distinct colours for the peers (ggrs uses its own Palette-1).
PEER_COLOURS = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf",
)  # fmt: skip
CHUNK = 1 << 20  # rows per generated chunk and per Parquet row group (pyarrow's default)
MPL_SLOW_FROM = 10_000_000
HEAVY = ("pandas", "datashader", "numba", "xarray", "matplotlib")
DPI = 100

METHODS = {
    "single": ("ggrs", "ggrs-svg", "ggrs-hsvg", "matplotlib", "datashader"),
    "facets12": ("ggrs", "matplotlib", "datashader-panels", "datashader-by"),
}
METHOD_TITLES = {
    "ggrs": "ggrs",
    "ggrs-svg": "ggrs output.format=svg",
    "ggrs-hsvg": "ggrs output.format=hsvg",
    "matplotlib": "matplotlib scatter(s=1)",
    "datashader": "datashader points+shade",
    "datashader-panels": "datashader, canvas per panel",
    "datashader-by": "datashader, by(panel) canvas",
}


@dataclass(frozen=True)
class Target:
    """One target of issue 3."""

    text: str
    limit: float
    unit: str = "s"


TARGETS = {
    "single_1e7": Target("1e7 points, one panel, warm ≤ 0.15 s", 0.15),
    "mpl_ratio": Target("1e7 points, one panel, ≥ 40× faster than matplotlib", 40.0, "×"),
    "facets_1e7": Target("1e7 points, 12 panels, warm ≤ 0.25 s", 0.25),
    "single_5e7": Target("5e7 points, one panel, warm ≤ 0.8 s", 0.8),
    "rss_5e7": Target("5e7 points, peak RSS ≤ input bytes + 200 MB", 200.0, "MB"),
    "demo": Target("crabs demo in a new process ≤ 0.6 s", 0.6),
    "svg_1e7": Target("1e7 points, one panel, svg warm ≤ 2 s", 2.0),
    "svg_mb": Target("1e7 points, one panel, svg file ≤ 5 MB", 5.0, "MB"),
    "hsvg_1e7": Target("1e7 points, one panel, hsvg warm ≤ 2 s", 2.0),
    "hsvg_mb": Target("1e7 points, one panel, hsvg file ≤ 5 MB", 5.0, "MB"),
}
#: ggrs methods and the ``output.format`` each writes.
GGRS_FORMATS = {"ggrs": "png", "ggrs-svg": "svg", "ggrs-hsvg": "hsvg"}


# --------------------------------------------------------------------------- data


def _centres() -> tuple[np.ndarray, np.ndarray]:
    angle = np.arange(8) * (2 * np.pi / 8)
    return (2.6 * np.cos(angle)).astype(np.float32), (2.0 * np.sin(angle)).astype(np.float32)


def write_dataset(path: Path, n: int, seed: int) -> int:
    """Writes N points (x, y float32; cat, row, col dictionary strings) to Parquet.

    8 Gaussian blobs (σ 0.45 × 0.4), one per category; facet row and column are
    uniform and independent; rows in random order. Practically every point lies in
    x ∈ [-5, 5), y ∈ [-4, 4). Deterministic for (n, seed). Returns the file size.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng([seed, n])
    cx, cy = _centres()
    dictionaries = {
        "cat": pa.array(CAT_LABELS),
        "row": pa.array(ROW_LABELS),
        "col": pa.array(COL_LABELS),
    }
    dict_type = pa.dictionary(pa.int8(), pa.string())
    schema = pa.schema(
        [("x", pa.float32()), ("y", pa.float32())] + [(k, dict_type) for k in dictionaries]
    )
    with pq.ParquetWriter(path, schema) as writer:
        for start in range(0, n, CHUNK):
            m = min(CHUNK, n - start)
            cat = rng.integers(0, 8, m, dtype=np.int8)
            x = rng.standard_normal(m, dtype=np.float32)
            x *= np.float32(0.45)
            x += cx[cat]
            y = rng.standard_normal(m, dtype=np.float32)
            y *= np.float32(0.4)
            y += cy[cat]
            codes = {
                "cat": cat,
                "row": rng.integers(0, FACET_ROWS, m, dtype=np.int8),
                "col": rng.integers(0, FACET_COLS, m, dtype=np.int8),
            }
            arrays = [pa.array(x), pa.array(y)] + [
                pa.DictionaryArray.from_arrays(pa.array(codes[k]), dictionaries[k])
                for k in dictionaries
            ]
            writer.write_table(pa.Table.from_arrays(arrays, schema=schema), row_group_size=m)
    return path.stat().st_size


def case_columns(case: str) -> list[str]:
    return ["x", "y"] if case == "single" else ["x", "y", "cat", "row", "col"]


def input_bytes(path: Path, case: str) -> int:
    """In-memory Arrow bytes of the columns a case reads."""
    import pyarrow.parquet as pq

    meta = pq.ParquetFile(path).metadata
    n = meta.num_rows
    # float32 x, y: 4 bytes each; dictionary columns: int8 indices.
    return n * 8 + (n * 3 if case != "single" else 0)


# --------------------------------------------------------------------------- child processes


def run_worker(spec: dict[str, Any], timeout: float, workdir: Path) -> tuple[dict, ChildResult]:
    """Runs this script as a worker for `spec`; returns its JSON report and the process."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", json.dumps(spec)]
    child = run_child(cmd, timeout, workdir)
    report: dict[str, Any] = {"ok": False, "error": child.error()}
    for line in reversed(child.stdout.splitlines()):
        if line.startswith("{"):
            with contextlib.suppress(json.JSONDecodeError):
                report = json.loads(line)
            break
    if child.rc != 0 and report.get("ok"):
        report = {"ok": False, "error": child.error()}
    return report, child


# --------------------------------------------------------------------------- methods (workers)


def ggrs_request(case: str, size: Sequence[int], output_format: str = "png") -> Any:
    """The ggrs PlotRequest of a case at image size (width, height)."""
    from ggrs import pipeline
    from ggrs.properties import parse_properties

    if case == "single":
        aes = pipeline.Aesthetics(x="x", y="y")
    else:
        aes = pipeline.Aesthetics(x="x", y="y", color="cat", rows=("row",), cols=("col",))
    props = parse_properties(
        {"plot.width": str(size[0]), "plot.height": str(size[1]), "output.format": output_format}
    )
    return pipeline.PlotRequest(aes=aes, properties=props)


def ggrs_cli(
    case: str, size: Sequence[int], path: str, out: str, output_format: str = "png"
) -> list[str]:
    """The `python -m ggrs.render` command of a case."""
    cmd = [sys.executable, "-m", "ggrs.render", f"--input={path}", "--x=x", "--y=y"]
    if case != "single":
        cmd += ["--color=cat", "--rows=row", "--cols=col"]
    return [
        *cmd,
        f"--plot.width={size[0]}",
        f"--plot.height={size[1]}",
        f"--output.format={output_format}",
        f"--output={out}",
        "--quiet",
    ]


def _ggrs_runner(spec: dict[str, Any]) -> Callable[[], None]:
    from ggrs import io, pipeline

    request = ggrs_request(spec["case"], spec["size"], GGRS_FORMATS[spec["method"]])
    out = Path(spec["out"])
    columns = request.aes.columns()

    def run() -> None:
        table = io.read_table(spec["path"], columns=columns)
        pages = pipeline.render_table(table, request)
        out.write_bytes(pages[0].image)

    return run


def _demo_runner(spec: dict[str, Any]) -> Callable[[], None]:
    from ggrs import io, pipeline, render
    from ggrs.properties import parse_properties

    m = render.DEMO_MAPPING
    aes = pipeline.Aesthetics(
        x=m["x"], y=m["y"], color=m["color"], rows=tuple(m["rows"]), cols=tuple(m["cols"])
    )
    request = pipeline.PlotRequest(aes=aes, properties=parse_properties({}))
    out = Path(spec["out"])
    source = render.demo_table_path()

    def run() -> None:
        table = io.read_table(source, columns=aes.columns())
        out.write_bytes(pipeline.render_table(table, request)[0].image)

    return run


def _codes(column: Any, labels: Sequence[str]) -> np.ndarray:
    """Codes of a (dictionary) string column in the order of `labels`."""
    import pyarrow as pa

    arr = column.unify_dictionaries().combine_chunks()
    if not pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_encode()
    lut = np.array([labels.index(v) for v in arr.dictionary.to_pylist()], dtype=np.int64)
    return lut[arr.indices.to_numpy(zero_copy_only=False)]


def _mpl_runner(spec: dict[str, Any]) -> Callable[[], None]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pyarrow.parquet as pq
    from matplotlib.colors import ListedColormap

    width, height = spec["size"]
    case = spec["case"]
    out = spec["out"]
    cmap = ListedColormap(PEER_COLOURS)

    def run() -> None:
        table = pq.read_table(spec["path"], columns=case_columns(case))
        x = table.column("x").to_numpy()
        y = table.column("y").to_numpy()
        fig = plt.figure(figsize=(width / DPI, height / DPI), dpi=DPI)
        if case == "single":
            ax = fig.add_subplot()
            ax.scatter(x, y, s=1)
            ax.set_xlabel("x")
            ax.set_ylabel("y")
        else:
            cat = _codes(table.column("cat"), CAT_LABELS)
            panel = _codes(table.column("row"), ROW_LABELS) * FACET_COLS
            panel += _codes(table.column("col"), COL_LABELS)
            axes = fig.subplots(FACET_ROWS, FACET_COLS, sharex=True, sharey="row", squeeze=False)
            for k, ax in enumerate(axes.flat):
                keep = panel == k
                ax.scatter(x[keep], y[keep], s=1, c=cat[keep], cmap=cmap, vmin=-0.5, vmax=7.5)
        fig.savefig(out, format="png", dpi=DPI)
        plt.close(fig)

    return run


def _ds_runner(spec: dict[str, Any]) -> Callable[[], None]:
    import datashader as ds
    import datashader.transfer_functions as tf
    import pandas as pd
    import pyarrow.parquet as pq
    from PIL import Image

    method, case, out = spec["method"], spec["case"], spec["out"]
    area_w, area_h = PANEL_AREA
    pw, ph = area_w // FACET_COLS, area_h // FACET_ROWS
    colour_key = dict(zip(CAT_LABELS, PEER_COLOURS, strict=True))
    n_cat = len(CAT_LABELS)

    def lut(series: Any, labels: Sequence[str]) -> np.ndarray:
        table = np.array([labels.index(v) for v in series.cat.categories], dtype=np.int64)
        return table[series.cat.codes.to_numpy()]

    def run() -> None:
        df = pq.read_table(spec["path"], columns=case_columns(case)).to_pandas()
        if case == "single":
            canvas = ds.Canvas(plot_width=area_w, plot_height=area_h)
            tf.shade(canvas.points(df, "x", "y", ds.count())).to_pil().save(out, format="PNG")
            return
        x_range = (float(np.nanmin(df["x"].to_numpy())), float(np.nanmax(df["x"].to_numpy())))
        y_range = (float(np.nanmin(df["y"].to_numpy())), float(np.nanmax(df["y"].to_numpy())))
        canvas = ds.Canvas(plot_width=pw, plot_height=ph, x_range=x_range, y_range=y_range)
        panel = lut(df["row"], ROW_LABELS) * FACET_COLS + lut(df["col"], COL_LABELS)
        mosaic = np.zeros((FACET_ROWS * ph, FACET_COLS * pw), dtype=np.uint32)
        if method == "datashader-panels":
            shaded = []
            for k in range(FACET_ROWS * FACET_COLS):
                agg = canvas.points(df[panel == k], "x", "y", ds.by("cat", ds.count()))
                shaded.append(tf.shade(agg, color_key=colour_key))
        else:  # one canvas, categories panel × colour
            combined = panel * n_cat + lut(df["cat"], CAT_LABELS)
            frame = pd.DataFrame(
                {
                    "x": df["x"],
                    "y": df["y"],
                    "pc": pd.Categorical.from_codes(combined, categories=range(12 * n_cat)),
                }
            )
            agg = canvas.points(frame, "x", "y", ds.by("pc", ds.count()))
            shaded = []
            for k in range(FACET_ROWS * FACET_COLS):
                part = agg[:, :, k * n_cat : (k + 1) * n_cat].assign_coords(pc=list(CAT_LABELS))
                shaded.append(tf.shade(part, color_key=colour_key))
        for k, img in enumerate(shaded):
            r, c = divmod(k, FACET_COLS)
            # datashader's row 0 is the bottom of the panel.
            mosaic[r * ph : (r + 1) * ph, c * pw : (c + 1) * pw] = np.asarray(img.data)[::-1]
        rgba = mosaic.view(np.uint8).reshape(mosaic.shape[0], mosaic.shape[1], 4)
        Image.fromarray(rgba, "RGBA").save(out, format="PNG")

    return run


RUNNERS: dict[str, Callable[[dict[str, Any]], Callable[[], None]]] = {
    "ggrs": _ggrs_runner,
    "ggrs-svg": _ggrs_runner,
    "ggrs-hsvg": _ggrs_runner,
    "demo": _demo_runner,
    "matplotlib": _mpl_runner,
    "datashader": _ds_runner,
    "datashader-panels": _ds_runner,
    "datashader-by": _ds_runner,
}


class StepTimer:
    """Exclusive wall time per pipeline step, by wrapping module functions in place.

    The wrapped names are looked up by the pipeline at call time, so the engine
    itself is unchanged; nested steps are subtracted from their parent. Names the
    engine no longer has are skipped (listed in ``missing``).
    """

    STEPS = (
        ("ggrs.io", "read_table", "read Parquet (io.read_table)"),
        ("ggrs.pipeline", "prepare", "prepare: rest (isfinite, dataclass)"),
        ("ggrs.pipeline", "_numeric", "prepare: x/y columns → numpy"),
        ("ggrs.panels", "table_factor", "factors: rows/cols/colour (panels.py)"),
        ("ggrs.pipeline", "_train_colour", "colour training + legend"),
        ("ggrs.pipeline", "_select_page", "page selection"),
        ("ggrs.pipeline", "_train_scales", "scales: ticks, axes (rest)"),
        ("ggrs.pipeline", "_group_limits", "range training (_group_limits)"),
        ("ggrs.compose.layout", "compute_layout", "layout"),
        ("ggrs.pipeline", "_page_layers", "panel codes, layers (_page_layers)"),
        ("ggrs.geoms", "aggregate", "aggregate"),
        ("ggrs.shade", "shade", "shade"),
        ("ggrs.compose.figure", "draw_figure", "compose (draw_figure)"),
        ("ggrs.compose.encode", "encode_png", "encode PNG"),
        ("ggrs.compose.svg", "draw_svg", "compose + encode SVG (draw_svg)"),
    )

    def __init__(self) -> None:
        self.totals: dict[str, float] = {}
        self.faults: dict[str, int] = {}
        self.calls: dict[str, list[tuple[tuple, dict]]] = {}
        self.missing: list[str] = []
        # (step, RSS MB at its end, peak RSS MB since the previous entry) when tracing.
        self.memory: list[tuple[str, float, float]] | None = None
        self._stack: list[tuple[float, int]] = []
        self._patches: list[tuple[Any, str, Any]] = []

    def install(self, keep_args: Sequence[str] = ()) -> StepTimer:
        for module_name, attr, label in self.STEPS:
            module = sys.modules.get(module_name) or __import__(module_name, fromlist=["_"])
            fn = getattr(module, attr, None)
            if fn is None:
                self.missing.append(f"{module_name}.{attr}")
                continue
            setattr(module, attr, self._wrap(fn, label, label in keep_args))
            self._patches.append((module, attr, fn))
        return self

    def uninstall(self) -> None:
        for module, attr, fn in reversed(self._patches):
            setattr(module, attr, fn)
        self._patches.clear()

    def _wrap(self, fn: Callable, label: str, keep: bool) -> Callable:
        def timed(*args: Any, **kwargs: Any) -> Any:
            if keep:
                self.calls.setdefault(label, []).append((args, kwargs))
            self._stack.append((0.0, 0))
            f0 = _minor_faults()
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                dt = time.perf_counter() - t0
                df = _minor_faults() - f0
                inner_t, inner_f = self._stack.pop()
                self.totals[label] = self.totals.get(label, 0.0) + dt - inner_t
                self.faults[label] = self.faults.get(label, 0) + df - inner_f
                if self._stack:
                    outer_t, outer_f = self._stack[-1]
                    self._stack[-1] = (outer_t + dt, outer_f + df)
                if self.memory is not None:
                    self.memory.append((label, *_rss_mb(reset_peak=True)))

        return timed

    def measure(self, run: Callable[[], None]) -> dict[str, tuple[float, int]]:
        """One call of `run`: (seconds, minor page faults) per step, "other" and "total"."""
        self.totals = {}
        self.faults = {}
        f0 = _minor_faults()
        t0 = time.perf_counter()
        run()
        total = time.perf_counter() - t0
        all_faults = _minor_faults() - f0
        steps = {k: (v, self.faults.get(k, 0)) for k, v in self.totals.items()}
        steps["other (write file, glue)"] = (
            total - sum(self.totals.values()),
            all_faults - sum(self.faults.values()),
        )
        steps["total"] = (total, all_faults)
        return steps


def _rss_mb(reset_peak: bool = False) -> tuple[float, float]:
    """(VmRSS, VmHWM) of this process in MB; optionally restart the peak (clear_refs 5)."""
    values = {}
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(("VmRSS:", "VmHWM:")):
                values[line[:5]] = int(line.split()[1]) / 1024
    if reset_peak:
        with contextlib.suppress(OSError):
            Path("/proc/self/clear_refs").write_text("5")
    return values.get("VmRSS", float("nan")), values.get("VmHWM", float("nan"))


def _minor_faults() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def _median_steps(runs: Sequence[dict[str, tuple[float, int]]]) -> dict[str, list[float]]:
    """Per step: [median s, best s, median minor page faults]."""
    labels = list(dict.fromkeys(k for r in runs for k in r))
    return {
        k: [
            statistics.median(r.get(k, (0.0, 0))[0] for r in runs),
            min(r.get(k, (0.0, 0))[0] for r in runs),
            statistics.median(r.get(k, (0.0, 0))[1] for r in runs),
        ]
        for k in labels
    }


def _cprofile(run: Callable[[], None], top: int) -> str:
    import cProfile
    import io as stdio
    import pstats

    profiler = cProfile.Profile()
    profiler.runcall(run)
    text = stdio.StringIO()
    stats = pstats.Stats(profiler, stream=text).strip_dirs().sort_stats("tottime")
    stats.print_stats(top)
    lines = text.getvalue().splitlines()
    start = next((i for i, ln in enumerate(lines) if "ncalls" in ln), 0)
    return "\n".join(ln for ln in lines[start:] if ln.strip())


def _time_calls(fn: Callable[[], Any], repeats: int) -> tuple[float, list[float]]:
    t0 = time.perf_counter()
    fn()
    first = time.perf_counter() - t0
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return first, times


def _backend_comparison(timer: StepTimer, repeats: int) -> dict[str, Any]:
    """The captured aggregation re-run on every registered CPU backend."""
    from ggrs.aggregate import aggregate, available_backends, choose_backend

    calls = timer.calls.get("aggregate")
    if not calls:
        return {}
    args, _ = calls[-1]
    points, canvas = args[0], args[1]
    result: dict[str, Any] = {"auto picks": choose_backend(points, canvas)}
    for backend in available_backends():
        try:
            first, times = _time_calls(
                lambda b=backend: aggregate(points, canvas, backend=b), repeats
            )
            result[backend] = {"first": first, "median": statistics.median(times)}
        except Exception as exc:  # a peer backend failing is a result, not a crash
            result[backend] = {"error": f"{type(exc).__name__}: {exc}"[:200]}
    return result


def _profile_worker(spec: dict[str, Any]) -> dict[str, Any]:
    t0 = time.perf_counter()
    run = RUNNERS[spec["method"]](spec)
    import_s = time.perf_counter() - t0
    timer = StepTimer().install(keep_args=("aggregate",))
    # The first call also records a memory timeline: RSS after each step and the
    # peak since the previous entry, from the RSS after imports.
    start = _rss_mb(reset_peak=True)
    timer.memory = []
    first = timer.measure(run)
    report_memory = {"start": start, "steps": timer.memory}
    timer.memory = None
    heavy = [m for m in HEAVY if m in sys.modules]
    runs = [timer.measure(run) for _ in range(spec["repeats"])]
    first = {k: list(v) for k, v in first.items()}
    report: dict[str, Any] = {
        "ok": True,
        "import_s": import_s,
        "first": first,
        "steps": _median_steps(runs),
        "heavy_modules_after_first_call": heavy,
        "missing_hooks": timer.missing,
    }
    report["memory"] = report_memory
    timer.uninstall()
    # Before the backend comparison: running datashader here would change what
    # backend="auto" picks in this process (see AUTO_WARM_THRESHOLD).
    report["cprofile"] = _cprofile(run, spec.get("top", 18))
    if spec.get("backends"):
        report["backends"] = _backend_comparison(timer, spec["repeats"])
    return report


def worker_main(spec_text: str) -> int:
    """Child process entry: run one method as `spec` says and print a JSON report."""
    spec = json.loads(spec_text)
    try:
        if spec["mode"] == "profile":
            report = _profile_worker(spec)
        else:
            t0 = time.perf_counter()
            run = RUNNERS[spec["method"]](spec)
            setup = time.perf_counter() - t0
            if spec["mode"] == "cold":
                run()
                report = {"ok": True}
            else:
                first, times = _time_calls(run, spec["repeats"])
                report = {"ok": True, "setup": setup, "first": first, "times": times}
    except Exception as exc:  # reported in the table; the run goes on
        traceback.print_exc()
        report = {"ok": False, "error": f"{type(exc).__name__}: {exc}".splitlines()[0][:200]}
    print(json.dumps(report), flush=True)
    return 0 if report["ok"] else 1


# --------------------------------------------------------------------------- measuring


@dataclass
class Row:
    """One line of the result table."""

    case: str
    n: int
    method: str
    warm: float | None = None
    cold: float | None = None
    warm_rss: float | None = None
    cold_rss: float | None = None
    foreign: list[float] = field(default_factory=list)
    first: float | None = None
    note: str = ""
    out_mb: float | None = None  # size of the written file (MB), ggrs formats


@contextlib.contextmanager
def _capture_canvas() -> Iterator[list]:
    """Records (width, height) of every canvas ggrs aggregates onto."""
    from ggrs import geoms

    seen: list[tuple[int, int]] = []
    original = geoms.aggregate_layer

    def spy(chart: str, layer: Any, canvas: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append((canvas.width, canvas.height))
        return original(chart, layer, canvas, *args, **kwargs)

    geoms.aggregate_layer = spy
    try:
        yield seen
    finally:
        geoms.aggregate_layer = original


def calibrate(case: str, path: Path) -> tuple[tuple[int, int], tuple[int, int]]:
    """ggrs image size whose panels fill PANEL_AREA (fitted on the first row group).

    Returns ((width, height), (panel width, panel height)).
    """
    import pyarrow.parquet as pq

    from ggrs import pipeline

    sample = pq.ParquetFile(path).read_row_group(0, columns=case_columns(case))
    cols, rows = (1, 1) if case == "single" else (FACET_COLS, FACET_ROWS)
    want = (PANEL_AREA[0] // cols, PANEL_AREA[1] // rows)
    size = [PANEL_AREA[0] + 200, PANEL_AREA[1] + 150]
    panel = (0, 0)
    for _ in range(5):
        with _capture_canvas() as seen:
            pipeline.render_table(sample, ggrs_request(case, size))
        panel = seen[-1]
        if panel == want:
            break
        size = [size[0] + (want[0] - panel[0]) * cols, size[1] + (want[1] - panel[1]) * rows]
    return (size[0], size[1]), panel


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def measure_method(
    method: str, case: str, n: int, path: Path, size: tuple[int, int], args: Any, work: Path
) -> Row:
    row = Row(case, n, method)
    if method == "matplotlib" and n >= MPL_SLOW_FROM and not args.slow:
        row.note = "skipped: takes minutes at N ≥ 1e7 (run with --slow)"
        return row
    fmt = GGRS_FORMATS.get(method, "png")
    out = str(work / f"{case}_{method}.{'png' if fmt == 'png' else 'svg'}")
    spec = {
        "method": method,
        "case": case,
        "path": str(path),
        "size": list(size),
        "out": out,
        "repeats": args.repeats,
        "mode": "warm",
    }
    _say(f"  {case} {n:.0e} {method}: warm")
    report, child = run_worker(spec, args.timeout, work)
    row.foreign.append(child.foreign)
    if report.get("ok"):
        row.warm = statistics.median(report["times"])
        row.first = report["first"]
        row.warm_rss = child.rss_mb
        if method != "ggrs" and method in GGRS_FORMATS:
            row.out_mb = Path(out).stat().st_size / 1e6
            row.note = f"file {row.out_mb:.2f} MB"
    else:
        row.note = f"warm failed: {report.get('error')}"
        return row
    if args.cold_runs <= 0:
        return row
    walls, rss = [], []
    for i in range(args.cold_runs):
        _say(f"  {case} {n:.0e} {method}: cold {i + 1}/{args.cold_runs}")
        if method in GGRS_FORMATS:
            cli = ggrs_cli(case, size, str(path), out, fmt)
            child = run_child(cli, args.timeout, work)
            ok, error = child.rc == 0, child.error()
        else:
            report, child = run_worker({**spec, "mode": "cold"}, args.timeout, work)
            ok, error = bool(report.get("ok")), str(report.get("error"))
        row.foreign.append(child.foreign)
        if not ok:
            row.note = f"cold failed: {error}"
            break
        walls.append(child.wall)
        rss.append(child.rss_mb)
    if walls:
        row.cold = statistics.median(walls)
        row.cold_rss = max(rss)
    return row


def measure_demo(args: Any, work: Path) -> tuple[float | None, float | None, str]:
    """Median wall time of `python -m ggrs.render --demo` in new processes."""
    out = str(work / "demo.png")
    cmd = [sys.executable, "-m", "ggrs.render", "--demo", f"--output={out}", "--quiet"]
    walls, rss = [], []
    for i in range(max(5, args.cold_runs)):
        _say(f"  crabs demo: cold {i + 1}")
        child = run_child(cmd, args.timeout, work)
        if child.rc != 0:
            return None, None, child.error()
        walls.append(child.wall)
        rss.append(child.rss_mb)
    return statistics.median(walls), max(rss), ""


# --------------------------------------------------------------------------- reporting


def _fmt_n(n: int) -> str:
    for label, value in SIZES.items():
        if value == n:
            return label
    return f"{n:.0e}"


def _fmt_s(v: float | None) -> str:
    return "–" if v is None else f"{v:.3f}"


def _fmt_mb(v: float | None) -> str:
    return "–" if v is None else f"{v:.0f}"


def _ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None or b <= 0:
        return "–"
    return f"{a / b:.1f}×"


HEADER = (
    f"{'case':<9} {'N':>4}  {'method':<30} {'warm s':>8} {'cold s':>8} "
    f"{'RSS MB w/c':>12} {'vs ggrs w/c':>14} {'bg':>4}  note"
)


def format_row(row: Row, ggrs: Row | None) -> str:
    rss = f"{_fmt_mb(row.warm_rss)}/{_fmt_mb(row.cold_rss)}"
    ratio = "1.0×/1.0×" if row.method == "ggrs" else (
        f"{_ratio(row.warm, ggrs.warm if ggrs else None)}/"
        f"{_ratio(row.cold, ggrs.cold if ggrs else None)}"
    )  # fmt: skip
    bg = max(row.foreign) if row.foreign else float("nan")
    return (
        f"{row.case:<9} {_fmt_n(row.n):>4}  {METHOD_TITLES[row.method]:<30} "
        f"{_fmt_s(row.warm):>8} {_fmt_s(row.cold):>8} {rss:>12} {ratio:>14} {bg:>4.1f}  {row.note}"
    )


def _source_version() -> str:
    """The checkout's commit (and whether ggrs/ has local changes), read-only git."""
    root = os.environ.get("BUILD_WORKSPACE_DIRECTORY") or str(Path(__file__).resolve().parents[1])
    try:
        head = subprocess.run(
            ["git", "-C", root, "log", "-1", "--format=%h %s"],
            capture_output=True, text=True, timeout=10, check=True,
        ).stdout.strip()  # fmt: skip
        dirty = subprocess.run(
            ["git", "-C", root, "status", "--porcelain", "--", "ggrs"],
            capture_output=True, text=True, timeout=10, check=True,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return "unknown (no git checkout)"
    return f"{head}{' + uncommitted changes in ggrs/' if dirty else ''}"


def machine_lines() -> list[str]:
    from importlib import metadata

    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem = {}
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            key, value = line.split(":", 1)
            mem[key] = int(value.split()[0]) / 1024**2
    versions = []
    for pkg in ("numpy", "pyarrow", "pillow", "datashader", "numba", "pandas", "matplotlib"):
        try:
            versions.append(f"{pkg} {metadata.version(pkg)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{pkg} (absent)")
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return [
        f"ggrs source: {_source_version()}",
        f"machine: {cores} cores usable ({os.cpu_count()} online), {model}, "
        f"{mem.get('MemTotal', 0):.1f} GiB RAM ({mem.get('MemAvailable', 0):.1f} GiB available), "
        f"load average {' '.join(Path('/proc/loadavg').read_text().split()[:3])}",
        f"python {platform.python_version()} ({sys.executable}); " + ", ".join(versions),
    ]


def _verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("PASS" if ok else "MISS")


def target_lines(
    rows: list[Row], demo: float | None, demo_note: str, inputs: dict[tuple[str, int], int]
) -> list[str]:
    """One line per target of issue 3 that this run measured, with PASS/MISS."""

    def find(case: str, n: int, method: str) -> Row | None:
        return next((r for r in rows if (r.case, r.n, r.method) == (case, n, method)), None)

    lines = []

    def add(key: str, value: float | None, shown: str, extra: str = "") -> None:
        target = TARGETS[key]
        if value is None:
            ok = None
        else:
            ok = value >= target.limit if target.unit == "×" else value <= target.limit
        lines.append(f"  {target.text:<48} {shown:>22}  {_verdict(ok):<4} {extra}")

    def seconds(key: str, row: Row | None) -> None:
        if row is not None:
            add(key, row.warm, f"{_fmt_s(row.warm)} s", row.note if row.warm is None else "")

    g1 = find("single", SIZES["1e7"], "ggrs")
    seconds("single_1e7", g1)
    if g1 is not None and g1.warm:
        mpl = find("single", SIZES["1e7"], "matplotlib")
        mpl6 = find("single", SIZES["1e6"], "matplotlib")
        if mpl is not None and mpl.warm is not None:
            add("mpl_ratio", mpl.warm / g1.warm, f"{mpl.warm / g1.warm:.0f}×")
        elif mpl6 is not None and mpl6.warm is not None:
            est = mpl6.warm * 10 / g1.warm
            note = "matplotlib 1e7 not run: estimated as its 1e6 time × 10 (--slow measures it)"
            add("mpl_ratio", est, f"≈{est:.0f}× (est.)", note)
    seconds("facets_1e7", find("facets12", SIZES["1e7"], "ggrs"))
    for fmt in ("svg", "hsvg"):
        row = find("single", SIZES["1e7"], f"ggrs-{fmt}")
        seconds(f"{fmt}_1e7", row)
        if row is not None and row.out_mb is not None:
            add(f"{fmt}_mb", row.out_mb, f"{row.out_mb:.2f} MB")
    for case in CASES:
        g5 = find(case, SIZES["5e7"], "ggrs")
        if g5 is None:
            continue
        if case == "single":
            seconds("single_5e7", g5)
        else:
            shown = f"{_fmt_s(g5.warm)} s"
            lines.append(f"  {'5e7 points, 12 panels, warm (no target)':<48} {shown:>22}")
        input_mb = inputs.get((case, SIZES["5e7"]), 0) / 1024**2
        peak = max((v for v in (g5.cold_rss, g5.warm_rss) if v is not None), default=None)
        add(
            "rss_5e7",
            None if peak is None else peak - input_mb,
            f"{_fmt_mb(peak)} MB ≤ {input_mb + TARGETS['rss_5e7'].limit:.0f}",
            f"{case}: worst of the warm process and the CLI runs; input {input_mb:.0f} MB",
        )
    add("demo", demo, f"{_fmt_s(demo)} s", demo_note)
    return lines


# --------------------------------------------------------------------------- profiling


def _print_profile(title: str, report: dict[str, Any]) -> None:
    print(f"\n### {title}")
    if not report.get("ok"):
        print(f"  failed: {report.get('error')}")
        return
    steps, first = report["steps"], report["first"]
    total = steps["total"][0]
    print(f"  imports before the first call: {report['import_s']:.3f} s; heavy modules after it: "
          f"{', '.join(report['heavy_modules_after_first_call']) or 'none'}")  # fmt: skip
    print(
        f"  {'step':<42} {'warm med s':>10} {'best s':>8} {'share':>6} {'faults k':>8} "
        f"{'1st call s':>10}"
    )

    def line(label: str, med: float, best: float, faults: float, share: str) -> None:
        first_s = first.get(label, [0.0])[0]
        print(
            f"  {label:<42} {med:>10.4f} {best:>8.4f} {share:>6} {faults / 1000:>8.1f} "
            f"{first_s:>10.4f}"
        )

    for label, (med, best, faults) in sorted(steps.items(), key=lambda kv: -kv[1][0]):
        if label != "total":
            line(label, med, best, faults, f"{med / total:.1%}")
    line("total", *steps["total"], "")
    if report.get("missing_hooks"):
        print(f"  (not hooked, absent from the engine: {', '.join(report['missing_hooks'])})")
    memory = report.get("memory")
    if memory:
        rss0, _ = memory["start"]
        print(f"  memory timeline of the first call (RSS after imports {rss0:.0f} MB):")
        print(f"    {'after step':<42} {'RSS MB':>8} {'peak MB':>8} {'peak − imports':>14}")
        for label, rss, peak in memory["steps"]:
            print(f"    {label:<42} {rss:>8.0f} {peak:>8.0f} {peak - rss0:>14.0f}")
    for backend, result in report.get("backends", {}).items():
        if isinstance(result, str):
            print(f"  aggregate backend auto picks: {result}")
        elif "error" in result:
            print(f"  aggregate backend {backend}: failed: {result['error']}")
        else:
            print(f"  aggregate backend {backend:<10}: warm median {result['median']:.4f} s "
                  f"(first call {result['first']:.3f} s)")  # fmt: skip
    print("  cProfile (one warm call, by own time):")
    for line in report["cprofile"].splitlines():
        print(f"    {line[:150]}")


def profile_size(
    case: str, n: int, path: Path, size: tuple[int, int], args: Any, work: Path
) -> None:
    spec = {
        "method": "ggrs",
        "case": case,
        "path": str(path),
        "size": list(size),
        "out": str(work / f"profile_{case}.png"),
        "repeats": args.profile_repeats,
        "mode": "profile",
        "backends": True,
    }
    _say(f"  profiling {case} {_fmt_n(n)}")
    report, child = run_worker(spec, args.timeout, work)
    _print_profile(
        f"ggrs step breakdown: {case}, N={_fmt_n(n)} (peak RSS {child.rss_mb:.0f} MB, "
        f"bg load {child.foreign:.1f} cores)",
        report,
    )


_IMPORT_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")


def profile_cold_start(args: Any, work: Path) -> None:
    """Where the crabs demo's new-process time goes: interpreter, imports, first render."""
    out = str(work / "demo_profile.png")
    demo = [sys.executable, "-m", "ggrs.render", "--demo", f"--output={out}", "--quiet"]
    probes = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "python -c 'import ggrs.render'": [sys.executable, "-c", "import ggrs.render"],
        "python -m ggrs.render --demo": demo,
    }
    print("\n### Cold start: crabs demo in a new process (median of 5)")
    for label, cmd in probes.items():
        walls = [run_child(cmd, args.timeout, work).wall for _ in range(5)]
        print(f"  {label:<40} {statistics.median(walls):.3f} s")
    # Per module: the median over 5 runs of (self µs, cumulative µs); depth from the first.
    samples: dict[str, list[tuple[int, int]]] = {}
    depths: dict[str, int] = {}
    for _ in range(5):
        child = run_child([sys.executable, "-X", "importtime", *demo[1:]], args.timeout, work)
        for line in child.stderr.splitlines():
            m = _IMPORT_LINE.match(line)
            if m:
                name = m.group(4)
                samples.setdefault(name, []).append((int(m.group(1)), int(m.group(2))))
                depths.setdefault(name, len(m.group(3)) // 2)
    entries = [
        (
            statistics.median(s for s, _ in values),
            statistics.median(c for _, c in values),
            depths[name],
            name,
        )
        for name, values in samples.items()
    ]
    total_self = sum(e[0] for e in entries) / 1e6
    print(
        f"  -X importtime (median of 5 runs per module): {len(entries)} modules, "
        f"{total_self:.3f} s of import time in all"
    )
    print("  top 10 by cumulative time, imported directly by the program (depth 0):")
    direct = sorted((e for e in entries if e[2] == 0), key=lambda e: -e[1])
    for self_us, cum_us, _, name in direct[:10]:
        print(f"    {cum_us / 1000:8.1f} ms cumulative {self_us / 1000:8.1f} ms self  {name}")
    print("  top 10 by own time (any depth):")
    for self_us, cum_us, _, name in sorted(entries, key=lambda e: -e[0])[:10]:
        print(f"    {self_us / 1000:8.1f} ms self {cum_us / 1000:8.1f} ms cumulative  {name}")
    heavy = sorted({e[3].split(".")[0] for e in entries} & {*HEAVY, "scipy"})
    print(f"  heavy packages imported: {', '.join(heavy) or 'none'}")
    spec = {
        "method": "demo",
        "case": "demo",
        "out": out,
        "repeats": args.profile_repeats,
        "mode": "profile",
    }
    report, child = run_worker(spec, args.timeout, work)
    _print_profile(f"crabs demo steps in a new process (peak RSS {child.rss_mb:.0f} MB)", report)


# --------------------------------------------------------------------------- main


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n", 1)[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("Usage:", 1)[1],
    )
    parser.add_argument("--sizes", default=",".join(SIZES), help="comma list from 1e5,1e6,1e7,5e7")
    parser.add_argument("--quick", action="store_true", help="N = 1e5 and 1e6 only")
    parser.add_argument("--slow", action="store_true", help="also matplotlib at N ≥ 1e7")
    parser.add_argument("--cases", default=",".join(CASES), help="single,facets12")
    parser.add_argument("--methods", default="", help="only these methods (comma list)")
    parser.add_argument("--repeats", type=int, default=5, help="timed warm calls (after 1 warm-up)")
    parser.add_argument("--cold-runs", type=int, default=3, help="new processes per cold cell")
    parser.add_argument("--profile", action="store_true", help="per-step ggrs breakdown too")
    parser.add_argument("--profile-only", action="store_true", help="breakdown, no table")
    parser.add_argument("--profile-repeats", type=int, default=5, help="timed calls per breakdown")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds per process")
    parser.add_argument("--tmpdir", default=None, help="where the Parquet files go")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    labels = QUICK if args.quick else tuple(s.strip() for s in args.sizes.split(",") if s.strip())
    unknown = [s for s in labels if s not in SIZES]
    if unknown:
        parser.error(f"--sizes: unknown {unknown}; choose from {', '.join(SIZES)}")
    args.size_labels = labels
    args.case_list = [c.strip() for c in args.cases.split(",") if c.strip()]
    if set(args.case_list) - set(CASES):
        parser.error(f"--cases: choose from {', '.join(CASES)}")
    args.method_list = [m.strip() for m in args.methods.split(",") if m.strip()]
    if set(args.method_list) - set(METHOD_TITLES):
        parser.error(f"--methods: choose from {', '.join(METHOD_TITLES)}")
    return args


def _mem_available_gib() -> float:
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) / 1024**2
    return float("inf")


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker:
        return worker_main(args.worker)
    print("ggrs render benchmark (issue 3): Parquet → PNG, float32 points")
    for line in machine_lines():
        print(line)
    print(
        f"seed {args.seed}; warm = median of {args.repeats} calls in one process after 1 warm-up; "
        f"cold = median wall of {args.cold_runs} new processes; panel area "
        f"{PANEL_AREA[0]}×{PANEL_AREA[1]}; 12 panels = {FACET_COLS}×{FACET_ROWS} facets, 8 colours"
    )
    print(
        "RSS = peak resident set of the warm process / the largest cold process; "
        "'vs ggrs' = method time ÷ ggrs time (> 1: ggrs is faster); "
        "bg = other load on the machine during the cell (cores, max)"
    )
    if not args.slow:
        print("matplotlib is skipped for N ≥ 1e7 (minutes per call); --slow runs it")
    sys.stdout.flush()

    work = Path(tempfile.mkdtemp(prefix="ggrs-bench-", dir=args.tmpdir))
    rows: list[Row] = []
    inputs: dict[tuple[str, int], int] = {}
    table_started = False
    try:
        for label in args.size_labels:
            n = SIZES[label]
            need = n * 150 / 1024**3 + 1.0  # the biggest peer process, roughly
            if _mem_available_gib() < need:
                print(
                    f"\nN={label}: skipped, {_mem_available_gib():.1f} GiB available < {need:.1f}"
                )
                continue
            path = work / f"points_{label}.parquet"
            t0 = time.perf_counter()
            file_bytes = write_dataset(path, n, args.seed)
            took = time.perf_counter() - t0
            _say(f"N={label}: wrote {file_bytes / 1024**2:.0f} MB in {took:.1f} s")
            for case in args.case_list:
                inputs[(case, n)] = input_bytes(path, case)
                try:
                    size, panel = calibrate(case, path)
                except Exception as exc:
                    size, panel = (1000, 760), (0, 0)
                    print(f"(calibration failed: {type(exc).__name__}: {exc}; using 1000×760)")
                if not args.profile_only:
                    if not table_started:
                        print()
                        print(HEADER)
                        table_started = True
                    ggrs_row = None
                    for method in METHODS[case]:
                        if args.method_list and method not in args.method_list:
                            continue
                        row = measure_method(method, case, n, path, size, args, work)
                        if method == "ggrs":
                            ggrs_row = row
                            row.note = (row.note + f" image {size[0]}×{size[1]}, panel "
                                        f"{panel[0]}×{panel[1]}").strip()  # fmt: skip
                        rows.append(row)
                        print(format_row(row, ggrs_row), flush=True)
                if args.profile or args.profile_only:
                    profile_size(case, n, path, size, args, work)
                    sys.stdout.flush()
            path.unlink()
        demo, demo_note = None, ""
        if not args.profile_only:
            demo, demo_rss, demo_note = measure_demo(args, work)
            print(f"\ncrabs demo, new process (`python -m ggrs.render --demo`): median "
                  f"{_fmt_s(demo)} s, peak RSS {_fmt_mb(demo_rss)} MB {demo_note}")  # fmt: skip
            print("\nTargets (issue 3):")
            for line in target_lines(rows, demo, demo_note, inputs):
                print(line)
        if args.profile or args.profile_only:
            profile_cold_start(args, work)
        print(
            "\nload average at the end: " + " ".join(Path("/proc/loadavg").read_text().split()[:3])
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
