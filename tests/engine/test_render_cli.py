"""The render command end to end: real processes, real files, bad input on purpose."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image

from ggrs import render as ggrs_render


def render(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ggrs.render", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def assert_clean_error(result: subprocess.CompletedProcess, status: int, *words: str) -> None:
    assert result.returncode == status, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr  # one readable line, never a traceback
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in lines[0]


def test_demo_writes_the_crabs_plot(tmp_path):
    out = tmp_path / "demo.png"
    result = render("--demo", f"--output={out}", "--quiet")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    with Image.open(out) as image:
        assert image.format == "PNG"
        # 5 facet columns (variable) × 2 rows (sex), auto size plus legend space.
        assert image.size == (800 + 4 * 400 + 150, 800 + 400)
        pixels = np.asarray(image.convert("RGB"))
    # The crabs are coloured Blue and Orange by Palette-1: both colours appear.
    colours = {tuple(c) for c in pixels.reshape(-1, 3)[::7]}
    assert (0x1F, 0x78, 0xB4) in colours
    assert (0xE3, 0x1A, 0x1C) in colours


@pytest.fixture
def table_file(tmp_path):
    rng = np.random.default_rng(3)
    n = 500
    table = pa.table(
        {
            "x": rng.normal(size=n),
            "y": rng.normal(size=n),
            "g": rng.choice(["a", "b"], n),
            "page": rng.choice(["p1", "p2"], n),
            "label": ["text"] * n,
            "nan": np.full(n, np.nan),
        }
    )
    path = tmp_path / "t.parquet"
    pq.write_table(table, path)
    return path


def test_pages_write_one_file_each(tmp_path, table_file):
    out = tmp_path / "plot.png"
    result = render(f"--input={table_file}", "--x=x", "--y=y", "--pages=page", f"--output={out}")
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in tmp_path.glob("plot_*.png")) == ["plot_p1.png", "plot_p2.png"]


def test_properties_file_and_flags(tmp_path, table_file):
    props = tmp_path / "p.json"
    props.write_text(json.dumps({"theme": "bw", "plot.width": "640", "plot.height": 480}))
    out = tmp_path / "p.png"
    result = render(
        f"--input={table_file}", "--y=y", f"--properties={props}", "--plot.height=300",
        f"--output={out}",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    with Image.open(out) as image:
        assert image.size == (640, 300)  # the flag wins over the file


@pytest.mark.parametrize(
    ("args", "status", "words"),
    [
        (["--y=nope"], 1, ["no column 'nope'", "'x', 'y', 'g'"]),
        (["--y=label"], 1, ["y=label", "not numbers"]),
        (["--y=nan"], 1, ["nothing to plot"]),
        (["--y=y", "--plot.width=0"], 2, ["plot.width", "'0'", "[100, 128000]"]),
        (["--y=y", "--theme=neon"], 2, ["theme", "'neon'", "gray, bw"]),
        (["--y=y", "--backend=gpu"], 1, ["backend=gpu", "CuPy"]),
        (["--y=y", "--cols=x", "--plot.width=100", "--plot.height=100"], 1, ["100"]),
    ],
)
def test_bad_input_is_one_clear_line(tmp_path, table_file, args, status, words):
    result = render(f"--input={table_file}", *args, f"--output={tmp_path / 'o.png'}")
    assert_clean_error(result, status, *words)
    assert not (tmp_path / "o.png").exists()


def test_empty_file(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    result = render(f"--input={empty}", "--y=y", f"--output={tmp_path / 'o.png'}")
    assert_clean_error(result, 1, "empty")


def test_file_that_is_not_what_its_extension_says(tmp_path):
    fake = tmp_path / "data.parquet"
    fake.write_text("x,y\n1,2\n")
    result = render(f"--input={fake}", "--y=y", f"--output={tmp_path / 'o.png'}")
    assert_clean_error(result, 1, "not a Parquet file")


def test_infinities_and_a_single_point_still_plot(tmp_path):
    path = tmp_path / "odd.csv"
    path.write_text("x,y\n1,inf\n2,-inf\n3,5\n")
    out = tmp_path / "odd.png"
    result = render(f"--input={path}", "--x=x", "--y=y", f"--output={out}")
    assert result.returncode == 0, result.stderr
    with Image.open(out) as image:
        assert image.size == (800, 800)


def test_many_facets_give_a_clear_layout_error(tmp_path):
    path = tmp_path / "many.parquet"
    n = 10_000
    pq.write_table(pa.table({"y": np.arange(n, dtype=float), "f": np.arange(n)}), path)
    result = render(
        f"--input={path}",
        "--y=y",
        "--cols=f",
        "--plot.width=2000",
        f"--output={tmp_path / 'o.png'}",
    )
    assert_clean_error(result, 1, "10000")


def test_many_facets_at_the_auto_size_are_refused_not_drawn(tmp_path):
    path = tmp_path / "many.parquet"
    n = 10_000
    pq.write_table(pa.table({"y": np.arange(n, dtype=float), "f": np.arange(n)}), path)
    result = render(f"--input={path}", "--y=y", "--cols=f", f"--output={tmp_path / 'o.png'}")
    assert_clean_error(result, 1, "4000400 × 800 px", "10000 facet columns", "pages")


def test_a_csv_column_of_only_nan_has_nothing_to_plot(tmp_path):
    path = tmp_path / "nan.csv"
    path.write_text("x,y\n1,nan\n2,NaN\n3,\n")
    result = render(f"--input={path}", "--x=x", "--y=y", f"--output={tmp_path / 'o.png'}")
    assert_clean_error(result, 1, "nothing to plot", "y (y)")


@pytest.mark.parametrize("ys", ["value,", ",value", "value,value"])
def test_y_columns_are_named_once_and_not_empty(tmp_path, ys):
    table = tmp_path / "t.csv"
    table.write_text("value\n1\n2\n")
    result = render(f"--input={table}", f"--y={ys}", f"--output={tmp_path / 'out.png'}")
    assert_clean_error(result, 2, "--y=", "once")


def test_help_examples_keep_their_line_breaks():
    # A lone backslash before a newline in the docstring joins two example lines.
    examples = ggrs_render.__doc__.split("Examples:\n")[1].split("\n\n")[0].splitlines()
    assert all("  " not in line.strip() for line in examples), examples
    continued = [line for line in examples if line.endswith(" \\")]
    assert len(continued) == 3
