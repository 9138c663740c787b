"""ggrs render: plots a table file (CSV, Parquet, Arrow, TSON) to PNG or SVG.

Examples:
  render --demo --output=demo.png
  render --input=cells.parquet --x=CD4 --y=CD8 --color=sample --output=cells.png
  render --input=long.csv --y=measurement --rows=sex --cols=variable \\
      --color=color --theme=bw --plot.title="Crabs" --output=crabs.png
  render --input=runs.arrow --y=value --pages=plate --output=plate.png
      (one file per page: plate_<page>.png)
  render --input=series.parquet --x=time --y=signal --color=well --chart=line \\
      --output=series.png
  render --input=scan.csv --x=time --y=ch1,ch2 --point.shapes="19;2" --output=layers.png
      (two layers: ch1 and ch2 over one another, one legend entry each)
  render --input=plate.csv --y=value --rows=row --cols=column --chart=heatmap \\
      --heatmap.cell.aggregation=mean --output=plate.png

Every operator property is a flag of the same name (--theme, --plot.width,
--legend.position, ...); --properties=FILE.json sets many at once and flags
given on the command line win over it. Without --x, x is the row number, as in
Tercen. Invalid values stop the run before any work, with exit status 2.

--output.format=svg (all vector) or hsvg (vector text, the data panels as
embedded PNG) writes SVG: name the file .svg (an --output ending in .png is
refused rather than renamed; other names are written as given).
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

from absl import app, flags

from ggrs import io, pipeline
from ggrs import properties as props_mod
from ggrs.compose import encode
from ggrs.errors import GgrsError, UsageError

_INPUT = flags.DEFINE_string("input", None, "Table file to plot (.csv, .parquet, .arrow, .tson).")
_FORMAT = flags.DEFINE_string(
    "format", None, "Input format when the extension does not say it: csv, tsv, parquet, "
    "arrow, arrow-stream, tson."
)  # fmt: skip
_OUTPUT = flags.DEFINE_string(
    "output", None, "Image file to write: .png, or .svg with --output.format=svg or hsvg; "
    "with --pages, files are named <stem>_<page><extension>."
)  # fmt: skip
_X = flags.DEFINE_string("x", None, "Column on the x axis; default: the row number (1..N).")
_Y = flags.DEFINE_list(
    "y", [], "Column on the y axis (numeric); several columns draw one layer each, over one "
    "another in the same panels, each with its own colour, shape and legend entry."
)  # fmt: skip
_COLOR = flags.DEFINE_string(
    "color", None, "Colour column: numbers → continuous palette; text or integers → categories."
)
_ROWS = flags.DEFINE_list("rows", [], "Facet row columns (several combine into one strip).")
_COLS = flags.DEFINE_list("cols", [], "Facet column columns.")
_PAGES = flags.DEFINE_list("pages", [], "Page columns: one output file per value.")
_CHART = flags.DEFINE_enum(
    "chart", "point", ["point", "line", "bar", "heatmap"],
    "Chart kind: point; line (one line per colour, in x order); bar (from 0, or dodged by "
    "colour); heatmap (one tile per facet cell, coloured by --color or y).",
)  # fmt: skip
_SCALES = flags.DEFINE_enum(
    "scales", "free_y", ["fixed", "free_x", "free_y", "free"],
    "Facet scales: free_y gives each facet row its own y range (Tercen's default), free_x "
    "each facet column its own x range.",
)  # fmt: skip
_PALETTE = flags.DEFINE_string(
    "palette", None, "Colour palette name (palettes.json); default Palette-1 for categories, "
    "Viridis for numbers."
)  # fmt: skip
_POINT_SIZE = flags.DEFINE_float(
    "point.size", 4.0, "Point size as Tercen's crosstab gives it (1-10); times "
    "point.size.multiplier.", lower_bound=1.0, upper_bound=10.0
)  # fmt: skip
_PROPERTIES = flags.DEFINE_string(
    "properties", None, "JSON file of operator properties {name: value}."
)
_DEMO = flags.DEFINE_bool(
    "demo", False, "Plot the bundled crabs sample: measurement by observation, coloured by "
    "colour, faceted by sex x variable."
)  # fmt: skip
_QUIET = flags.DEFINE_bool("quiet", False, "Report no progress on stderr.")
_VERBOSE = flags.DEFINE_bool("verbose", False, "Show a full traceback on internal errors.")

_PROPERTY_FLAGS = {
    name: flags.DEFINE_string(name, None, f"{prop.description} Default: {prop.default!r}.")
    for name, prop in props_mod.PROPERTIES.items()
}

DEMO_MAPPING = {
    "y": "measurement",
    "x": "observation",
    "color": "color",
    "rows": ["sex"],
    "cols": ["variable"],
}


def user_path(value: str) -> Path:
    """A path as the user meant it: `bazel run` starts us in another folder, so
    relative paths are taken from the folder the command was typed in."""
    path = Path(value).expanduser()
    base = os.environ.get("BUILD_WORKING_DIRECTORY")
    return path if path.is_absolute() or not base else Path(base) / path


def demo_table_path() -> Path:
    """The crabs sample shipped with ggrs."""
    return Path(str(resources.files("ggrs") / "data" / "crabs_long.csv"))


def check_output_extension(output: Path, output_format: str) -> None:
    """Refuse an ``--output`` whose extension names another image format than the one written.

    ``plot.png`` with ``output.format=svg`` would hold SVG text behind a PNG name,
    and renaming the file behind the user's back would hide the mix-up, so it is
    an error. Names with any other extension (or none) are written as given.

    Raises:
        UsageError: the extension is that of another output format.
    """
    fmt = encode.output_format_name(output_format)
    want = encode.EXTENSIONS[fmt]
    suffix = output.suffix.lower()
    if suffix != want and suffix in set(encode.EXTENSIONS.values()):
        raise UsageError(
            f"--output {output.name} ends in {output.suffix} but output.format={fmt} writes "
            f"{want} files; name the file {output.stem}{want} or set --output.format to match"
        )


def page_filename(output: Path, page: str) -> Path:
    """`<stem>_<page><suffix>` with the page label made safe for file systems."""
    safe = re.sub(r"[^\w.+-]+", "-", page).strip("-") or "page"
    return output.with_name(f"{output.stem}_{safe}{output.suffix}")


class Progress:
    """Progress lines on stderr, shown only once a run has taken about a second."""

    def __init__(self, quiet: bool) -> None:
        self._quiet = quiet
        self._start = time.perf_counter()
        self._pending: list[str] = []

    def __call__(self, message: str) -> None:
        if self._quiet:
            return
        elapsed = time.perf_counter() - self._start
        line = f"ggrs: {elapsed:6.2f}s {message}"
        if elapsed < 1.0:
            self._pending.append(line)
            return
        for pending in self._pending:
            print(pending, file=sys.stderr)
        self._pending.clear()
        print(line, file=sys.stderr)


def collect_properties() -> props_mod.Properties:
    """Properties file first, then any property flag given on the command line."""
    raw: dict[str, props_mod.RawValue] = {}
    if _PROPERTIES.value:
        raw.update(props_mod.read_properties_file(user_path(_PROPERTIES.value)))
    for name, holder in _PROPERTY_FLAGS.items():
        if holder.present:
            raw[name] = holder.value
    return props_mod.parse_properties(raw)


def build_request(properties: props_mod.Properties) -> pipeline.PlotRequest:
    """Validates the mapping flags into a plot request."""
    mapping = dict(DEMO_MAPPING) if _DEMO.value else {}
    explicit = {
        "x": _X.value,
        "y": _Y.value,
        "color": _COLOR.value,
        "rows": _ROWS.value,
        "cols": _COLS.value,
        "pages": _PAGES.value,
    }
    for key, value in explicit.items():
        if value:
            mapping[key] = value
    if not mapping.get("y"):
        raise UsageError("--y is required: name the column to plot on the y axis (or use --demo)")
    ys = [mapping["y"]] if isinstance(mapping["y"], str) else list(mapping["y"])
    if any(not name.strip() for name in ys) or len(set(ys)) != len(ys):
        raise UsageError(
            f"--y={','.join(ys)}: name each y column once, separated by commas, without "
            "empty names (several columns draw one layer each)"
        )
    return pipeline.PlotRequest(
        aes=pipeline.Aesthetics(
            x=mapping.get("x"),
            y=tuple(mapping["y"]) if isinstance(mapping["y"], list) else mapping["y"],
            color=mapping.get("color"),
            rows=tuple(mapping.get("rows", ())),
            cols=tuple(mapping.get("cols", ())),
            pages=tuple(mapping.get("pages", ())),
        ),
        chart=_CHART.value,
        scales=_SCALES.value,
        palette=_PALETTE.value,
        point_size=_POINT_SIZE.value,
        properties=properties,
    )


def run(argv: Sequence[str]) -> int:
    """The command: validate everything, read, render, write. Returns the exit status."""
    if len(argv) > 1:
        raise UsageError(f"unexpected arguments {list(argv[1:])}; flags look like --name=value")
    properties = collect_properties()
    if not _OUTPUT.value:
        raise UsageError("--output is required: the image file to write")
    if not (_INPUT.value or _DEMO.value):
        raise UsageError("--input is required (or --demo for the bundled sample)")
    request = build_request(properties)
    output = user_path(_OUTPUT.value)
    if not output.parent.is_dir():
        raise UsageError(f"--output {output}: folder {output.parent} does not exist")
    check_output_extension(output, properties["output.format"])

    progress = Progress(_QUIET.value)
    source = demo_table_path() if _DEMO.value and not _INPUT.value else user_path(_INPUT.value)
    table = io.read_table(source, format=_FORMAT.value, columns=request.aes.columns())
    progress(f"read {table.num_rows:,} rows from {source.name}")
    pages = pipeline.render_table(table, request, progress=progress)
    for page in pages:
        path = (
            output
            if len(pages) == 1 and not request.aes.pages
            else page_filename(output, page.label)
        )
        path.write_bytes(page.image)
        progress(f"wrote {path} ({page.width}x{page.height})")
    return 0


def main(argv: Sequence[str]) -> None:
    """absl entry point: one readable line and a non-zero status on any error."""
    try:
        status = run(argv)
    except GgrsError as exc:
        print(f"ggrs render: error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except Exception as exc:
        if _VERBOSE.value:
            raise
        print(
            f"ggrs render: internal error: {type(exc).__name__}: {exc} "
            "(this is a bug; rerun with --verbose for the traceback and report it)",
            file=sys.stderr,
        )
        sys.exit(70)
    sys.exit(status)


def entry() -> None:
    """Console entry point."""
    app.run(main)


if __name__ == "__main__":
    entry()
