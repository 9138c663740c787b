"""ggrs operator: renders a Tercen crosstab and uploads the images to the task.

Tercen starts the container as::

  operator --taskId <id> --serviceUri <uri> --token <token>

(each also read from TERCEN_TASK_ID, TERCEN_URI, TERCEN_TOKEN). The run reads
the task and its tables over gRPC, renders one image per page with the ggrs
pipeline and uploads them as one OperatorResult. Progress goes to stdout;
any failure ends the run with a non-zero status and one line on stderr (the
traceback too with --verbose), and nothing is uploaded. ``--health-check``
checks that the process could run (imports, fonts, aggregation backend) by
rendering a tiny plot, without contacting Tercen.

Exit status: 0 success; 1 Tercen/data error; 2 invalid property or flag;
70 internal error (a bug); 143 stopped by SIGTERM.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import numpy as np
from absl import app, flags

from ggrs import palettes, panels, pipeline, scales
from ggrs import properties as props_mod
from ggrs.errors import (
    GgrsError,
    Interrupted,
    RemoteAuthError,
    RemoteDeadlineExceeded,
    RemoteUnavailable,
    UsageError,
)
from ggrs.tercen import channel as channel_mod
from ggrs.tercen import client as client_mod
from ggrs.tercen import colours as colours_mod
from ggrs.tercen import context as context_mod
from ggrs.tercen import data as data_mod
from ggrs.tercen import result as result_mod
from ggrs.tercen.retry import Retry

_TASK_ID = flags.DEFINE_string("taskId", None, "Tercen task id (default: $TERCEN_TASK_ID).")
_URI = flags.DEFINE_string(
    "serviceUri", None, "Tercen gRPC URI, http://host:port or https://host[:port] "
    "(default: $TERCEN_URI)."
)  # fmt: skip
_TOKEN = flags.DEFINE_string("token", None, "Tercen token (default: $TERCEN_TOKEN).")
_HEALTH = flags.DEFINE_bool(
    "health-check", False, "Check imports, fonts and the aggregation backend by rendering a "
    "tiny plot; exit 0 if the operator can run, 1 if not. Contacts nobody."
)  # fmt: skip
_VERBOSE = flags.DEFINE_bool("verbose", False, "Debug logging and full tracebacks on errors.")
_RPC_TIMEOUT = flags.DEFINE_float(
    "rpc_timeout", client_mod.DEFAULT_TIMEOUT, "Deadline of each Tercen call in seconds.",
    lower_bound=0.01,
)  # fmt: skip
_RETRY_TIMEOUT = flags.DEFINE_float(
    "retry_timeout", 60.0, "Seconds to keep retrying a call that fails transiently.",
    lower_bound=0.0,
)  # fmt: skip
_CHUNK_ROWS = flags.DEFINE_integer(
    "chunk_rows", data_mod.DEFAULT_CHUNK_ROWS, "Rows per streamed chunk of the main table.",
    lower_bound=1,
)  # fmt: skip

log = logging.getLogger("ggrs")
_PROGRESS_INTERVAL = 2.0  # seconds between progress events sent to Tercen


@dataclass(frozen=True)
class Settings:
    """The run's inputs after flags and environment are combined."""

    task_id: str
    uri: str
    token: str


def settings(environ: dict[str, str] | os._Environ) -> Settings:
    """Flags win over TERCEN_TASK_ID / TERCEN_URI / TERCEN_TOKEN.

    Raises:
        UsageError: one of the three is missing.
    """
    values = Settings(
        task_id=_TASK_ID.value or environ.get("TERCEN_TASK_ID", ""),
        uri=_URI.value or environ.get("TERCEN_URI", ""),
        token=_TOKEN.value or environ.get("TERCEN_TOKEN", ""),
    )
    missing = [
        name
        for name, value in (
            ("--taskId/TERCEN_TASK_ID", values.task_id),
            ("--serviceUri/TERCEN_URI", values.uri),
            ("--token/TERCEN_TOKEN", values.token),
        )
        if not value
    ]
    if missing:
        raise UsageError(f"missing {', '.join(missing)}")
    return values


@contextmanager
def stage(name: str) -> Iterator[None]:
    """Logs how long a stage took (connect, context, stream, render, upload)."""
    started = time.perf_counter()
    yield
    log.info("stage %s: %.3fs", name, time.perf_counter() - started)


class TaskProgress:
    """Progress events to Tercen, at most one per interval; stops once refused."""

    def __init__(self, client: client_mod.TercenClient, task_id: str) -> None:
        self._client = client
        self._task_id = task_id
        self._last = 0.0
        self._enabled = True

    def __call__(self, message: str, actual: int, total: int, force: bool = False) -> None:
        now = time.monotonic()
        if not self._enabled or (not force and now - self._last < _PROGRESS_INTERVAL):
            return
        self._last = now
        self._enabled = self._client.send_progress(self._task_id, message, actual, total)


def palette_name(ctx: context_mod.OperatorContext) -> str | None:
    """The crosstab's palette if ggrs knows it; Tercen's defaults otherwise."""
    colour = ctx.colour
    if colour is None:
        return None
    default = "Spectral" if colour.continuous else "Palette-1"
    known = {name.lower() for name in palettes.palette_names()}
    if colour.palette.lower() in known:
        return colour.palette
    if colour.elements and (colour.user_defined or colour.palette.lower() == "divergent"):
        # The elements' own colours are drawn (ggrs.tercen.colours); the name is not used.
        return default
    log.warning("palette %r is not known to ggrs; using %s", colour.palette, default)
    return default


def plot_request(
    ctx: context_mod.OperatorContext, data: data_mod.TercenData, props: props_mod.Properties
) -> pipeline.PlotRequest:
    """Chart kind, facet scales, palette and its stops, point size and axis transforms
    from the task (the chart's own properties, e.g. ``heatmap.cell.aggregation``,
    travel in `props`)."""
    palette = palette_name(ctx)
    stops = None
    if ctx.colour is not None and ctx.colour.continuous and palette is not None:
        # Tercen places a continuous palette's colours itself (quartile rescale).
        stops = colours_mod.continuous_stops(ctx.colour, palette)
    return pipeline.PlotRequest(
        aes=pipeline.Aesthetics(y=data.plot.y_title or ".y"),
        properties=props,
        chart=ctx.chart,
        scales=data.scales,
        palette=palette,
        point_size=ctx.point_size or 4.0,
        x_transform=axis_transform("x", ctx.x_transform),
        y_transform=axis_transform("y", ctx.y_transform),
        # Tercen quantizes positions and computes ranges after its transforms.
        data_transformed=True,
        color_stops=stops,
        level_colours=ctx.colour.level_colours if ctx.colour is not None else (),
    )


def axis_transform(axis: str, text: str | None) -> scales.Transform | None:
    """The crosstab's transform for ticks and labels; one ggrs does not know draws
    the axis in transformed units, with a warning (the data are already transformed)."""
    if not text:
        return None
    try:
        return scales.parse_transform(text)
    except UsageError as exc:
        log.warning("axis %s: %s; ticks show transformed values", axis, exc)
        return None


def run(values: Settings) -> int:
    """One operator run: context, data, render, upload. Returns the exit status."""
    retry = Retry(timeout=_RETRY_TIMEOUT.value)
    started = time.perf_counter()
    with stage("connect"):
        chan = channel_mod.create_channel(values.uri, values.token)
    client = client_mod.TercenClient(chan, timeout=_RPC_TIMEOUT.value, secrets=[values.token])
    try:
        return _run(client, values.task_id, retry, started)
    except GgrsError as exc:
        if not isinstance(
            exc, Interrupted | RemoteAuthError | RemoteDeadlineExceeded | RemoteUnavailable
        ):
            # Tell the user in Tercen too, where the server takes task log events.
            client.send_log(values.task_id, f"ggrs operator failed: {exc}")
        raise
    finally:
        chan.close()


def _run(client: client_mod.TercenClient, task_id: str, retry: Retry, started: float) -> int:
    with stage("context"):
        ctx, schemas = context_mod.load_context(client, task_id, call=retry)
        props = props_mod.parse_properties(ctx.properties, ignore_unknown=True)
    log.info("task %s (%s): %s rows, %d x %d facets, chart %s, pages by %s", task_id,
             ctx.task_kind, f"{ctx.main.n_rows:,}", ctx.col_table.n_rows, ctx.row_table.n_rows,
             ctx.chart, list(ctx.page_factors) or "-")  # fmt: skip
    events = TaskProgress(client, task_id)
    events("reading data", 0, ctx.main.n_rows, force=True)

    with stage("stream"):
        t0 = time.perf_counter()
        data = data_mod.load_data(
            client,
            ctx,
            schemas,
            call=retry,
            chunk_rows=_CHUNK_ROWS.value,
            progress=lambda done, total: events("reading data", done, total),
        )
        elapsed = time.perf_counter() - t0
    log.info("rows per second: %s", f"{len(data.plot.x) / elapsed:,.0f}" if elapsed else "-")

    with stage("render"):
        # The pipeline logs its own aggregate and compose steps per page.
        request = plot_request(ctx, data, props)
        pages = pipeline.render_data(data.plot, request, progress=log.info)

    with stage("upload"):
        table = result_mod.result_table(
            pages,
            namespace=ctx.namespace,
            filename=str(props["filename"]),
            page_factors=ctx.page_factors,
            page_values=data.page_values if ctx.page_factors else (),
        )
        payload = result_mod.encode_result(table)
        file_id = result_mod.upload_result(client, ctx, payload, call=retry)
    events("done", ctx.main.n_rows, ctx.main.n_rows, force=True)
    log.info("uploaded %d page(s), %s bytes, into file %s; total %.3fs, peak RSS %s MB",
             len(pages), f"{len(payload):,}", file_id, time.perf_counter() - started,
             peak_rss_mb())  # fmt: skip
    return 0


def peak_rss_mb() -> str:
    """Peak resident memory of this process (VmHWM), for the log."""
    try:
        with Path("/proc/self/status").open(encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return f"{int(line.split()[1]) / 1024:.0f}"
    except OSError:
        pass
    return "?"


def health_check() -> int:
    """Renders a tiny faceted, coloured plot end to end; 0 if it works."""
    n = 64
    rng = np.random.default_rng(0)
    codes = (np.arange(n) % 2).astype(np.int32)
    data = pipeline.PlotData(
        x=rng.random(n, dtype=np.float32),
        y=rng.random(n, dtype=np.float32),
        finite=np.ones(n, dtype=bool),
        rows=panels.constant_factor(n),
        cols=panels.Factor(codes, ("a", "b"), ("f",)),
        pages=panels.constant_factor(n),
        color_codes=panels.Factor(codes, ("a", "b"), ("f",)),
    )
    request = pipeline.PlotRequest(
        aes=pipeline.Aesthetics(y="y"),
        properties=props_mod.parse_properties({"plot.width": "300", "plot.height": "200"}),
    )
    pages = pipeline.render_data(data, request)
    if not pages or not pages[0].image.startswith(b"\x89PNG"):
        raise GgrsError("health check: the pipeline produced no PNG")
    print(f"ggrs operator: healthy ({len(pages[0].image):,} byte test image)")
    return 0


def _on_signal(signum: int, frame: FrameType | None) -> None:
    del frame  # Unused.
    raise Interrupted(f"stopped by {signal.Signals(signum).name}; nothing was uploaded")


def _configure_logging(verbose: bool) -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("ggrs %(asctime)s %(levelname)s %(message)s"))
    for name in ("ggrs",):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(logging.DEBUG if verbose else logging.INFO)
        logger.propagate = False


def _redact(text: str, secrets: Sequence[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def main(argv: Sequence[str]) -> None:
    """absl entry point: one readable line on stderr and a non-zero status on any error."""
    _configure_logging(_VERBOSE.value)
    if len(argv) > 1:
        log.warning("ignoring unexpected arguments: %d", len(argv) - 1)
    secrets = [_TOKEN.value or "", os.environ.get("TERCEN_TOKEN", "")]
    signal.signal(signal.SIGTERM, _on_signal)
    try:
        status = health_check() if _HEALTH.value else run(settings(os.environ))
    except (GgrsError, KeyboardInterrupt) as exc:
        if _VERBOSE.value:
            log.exception("failed")
        code = exc.exit_code if isinstance(exc, GgrsError) else 130
        print(f"ggrs operator: error: {_redact(str(exc), secrets)}", file=sys.stderr)
        sys.exit(code)
    except Exception as exc:
        if _VERBOSE.value:
            log.exception("internal error")
        print(
            f"ggrs operator: internal error: {type(exc).__name__}: {_redact(str(exc), secrets)} "
            "(this is a bug; rerun with --verbose for the traceback and report it)",
            file=sys.stderr,
        )
        sys.exit(70)
    sys.exit(status)


def _parse_flags(argv: list[str]) -> list[str]:
    """Parses known flags; unknown ones are kept (Tercen may add arguments in future)."""
    try:
        return flags.FLAGS(argv, known_only=True)
    except flags.Error as exc:
        print(f"ggrs operator: error: {exc}", file=sys.stderr)
        sys.exit(2)


def entry(run_main: Callable[[Sequence[str]], None] = main) -> None:
    """Console entry point."""
    app.run(run_main, flags_parser=_parse_flags)


if __name__ == "__main__":
    entry()
