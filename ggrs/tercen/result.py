"""The operator result: rendered pages as an ``OperatorResult`` table, and its upload.

Layout (protocol §1.14): one row per piece of base64 image content, pieces of
at most 1,000,000 characters, with ``.ci = 0``, ``.ri = page index`` (int32),
``.content``, ``<ns>.filename`` (extension from the page's mimetype),
``<ns>.mimetype`` (the page's: ``image/png`` or ``image/svg+xml``), ``<ns>.plot_width`` and
``<ns>.plot_height`` (the real image size, as doubles) and one ``<ns>.<factor>``
text column per page factor. The whole result is one document, uploaded in one
``FileService.upload`` call: either every page arrives or none does.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np
import pyarrow as pa

from ggrs import io, tson
from ggrs.errors import DataError
from ggrs.tercen.client import TercenClient
from ggrs.tercen.context import OperatorContext
from proto import tercen_pb2

CONTENT_PIECE_CHARS = 1_000_000
"""Longest ``.content`` string per row; longer images continue on the next rows."""

_EXTENSIONS = {"image/png": "png", "image/svg+xml": "svg"}

Call = Callable[[Callable[[], object], str], object]


class Page(Protocol):
    """One rendered image (``ggrs.pipeline.RenderedPage`` fits)."""

    label: str
    image: bytes
    width: int
    height: int
    mimetype: str


def page_filename(stem: str, label: str, mimetype: str, multi_page: bool) -> str:
    """``<stem>.<ext>``, or ``<stem>_<page>.<ext>`` with pages (as ``filename`` documents).

    The extension follows the image's mimetype: ``png`` for ``image/png``, ``svg``
    for ``image/svg+xml`` (both svg and hsvg output). The page label is made safe
    for file systems: runs of characters other than letters, digits, ``.``,
    ``+`` and ``-`` become one ``-``.

    Raises:
        ValueError: a mimetype the operator does not upload (a renderer bug).
    """
    ext = _EXTENSIONS.get(mimetype)
    if ext is None:
        raise ValueError(
            f"page {label!r} has mimetype {mimetype!r}; the operator uploads "
            f"{' or '.join(_EXTENSIONS)}"
        )
    if not multi_page:
        return f"{stem}.{ext}"
    safe = re.sub(r"[^\w.+-]+", "-", label).strip("-") or "page"
    return f"{stem}_{safe}.{ext}"


def result_table(
    pages: Sequence[Page],
    *,
    namespace: str,
    filename: str,
    page_factors: Sequence[str] = (),
    page_values: Sequence[Sequence[str]] = (),
) -> pa.Table:
    """The result frame for `pages` (see the module docstring).

    Args:
        pages: the rendered pages, in page order.
        namespace: the operator's namespace (prefix of the output columns).
        filename: the ``filename`` property (file name stem).
        page_factors: names of the page factors ("" columns when none).
        page_values: per page, the value of each page factor.

    Raises:
        DataError: there is no page, or page values do not match the factors.
    """
    if not pages:
        raise DataError("nothing to upload: the plot has no page")
    prefix = f"{namespace}." if namespace else "."
    multi = bool(page_factors)
    pieces: list[str] = []
    page_of_piece: list[int] = []
    for index, page in enumerate(pages):
        text = base64.b64encode(page.image).decode("ascii")
        chunks = [
            text[i : i + CONTENT_PIECE_CHARS] for i in range(0, len(text), CONTENT_PIECE_CHARS)
        ]
        pieces.extend(chunks or [""])
        page_of_piece.extend([index] * max(len(chunks), 1))
    which = np.asarray(page_of_piece, dtype=np.int32)
    names = [page_filename(filename, p.label, p.mimetype, multi) for p in pages]
    widths = np.asarray([p.width for p in pages], np.float64)
    heights = np.asarray([p.height for p in pages], np.float64)
    columns: dict[str, pa.Array] = {
        ".ci": io.arrow_from_numpy(np.zeros(len(which), dtype=np.int32)),
        ".ri": io.arrow_from_numpy(which),
        ".content": _strings(pieces),
        f"{prefix}filename": _strings([names[i] for i in which]),
        f"{prefix}mimetype": _strings([pages[i].mimetype for i in which]),
        f"{prefix}plot_width": io.arrow_from_numpy(widths[which]),
        f"{prefix}plot_height": io.arrow_from_numpy(heights[which]),
    }
    if page_factors:
        if len(page_values) != len(pages) or any(len(v) != len(page_factors) for v in page_values):
            raise DataError(
                f"{len(pages)} pages but page values {list(page_values)} for factors "
                f"{list(page_factors)}"
            )
        for k, factor in enumerate(page_factors):
            columns[f"{prefix}{factor}"] = _strings([page_values[i][k] for i in which])
    return pa.Table.from_arrays(list(columns.values()), names=list(columns))


# Built from its buffers, as io.arrow_from_numpy builds the number columns: pa.array
# and pa.table import pandas (to check for pandas inputs), 0.1-0.4 s of a cold start.
def _strings(values: Sequence[str]) -> pa.Array:
    encoded = [v.encode("utf-8") for v in values]  # one per page or content piece
    offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum([len(e) for e in encoded], out=offsets[1:])
    large = offsets[-1] > np.iinfo(np.int32).max
    return pa.Array.from_buffers(
        pa.large_string() if large else pa.string(),
        len(encoded),
        [None, pa.py_buffer(offsets if large else offsets.astype(np.int32)),
         pa.py_buffer(b"".join(encoded))],
    )  # fmt: skip


def encode_result(table: pa.Table) -> bytes:
    """The upload payload: the result frame as a TSON ``OperatorResult``."""
    return tson.operator_result_to_tson([table])


def upload_result(
    client: TercenClient, ctx: OperatorContext, payload: bytes, call: Call | None = None
) -> str:
    """Uploads the result so that Tercen attaches it to the task; returns the file id.

    Two paths (protocol §1.15): a task with ``fileResultId`` gets the payload
    uploaded into that file; a task without one gets a new file, and the task is
    updated to point at it.

    Raises:
        DataError: the task cannot hold a result (a CubeQueryTask).
        RemoteError: a call failed for good.
    """
    call = call or (lambda fn, what: fn())
    if ctx.file_result_id:
        document = call(lambda: client.get_file(ctx.file_result_id), "get result file")
        if document.WhichOneof("object") != "filedocument":
            raise DataError(f"result file {ctx.file_result_id} is not a file document")
        call(lambda: client.upload_file(document, payload), "upload result")
        return ctx.file_result_id
    if ctx.task_kind not in ("runcomputationtask", "computationtask"):
        raise DataError(
            f"task {ctx.task_id} is a {ctx.task_kind}: it has no fileResultId to attach a result to"
        )
    document = tercen_pb2.EFileDocument(
        filedocument=tercen_pb2.FileDocument(
            name="result",
            projectId=ctx.project_id,
            size=len(payload),
            metadata=tercen_pb2.EFileMetadata(
                filemetadata=tercen_pb2.FileMetadata(contentType="application/octet-stream")
            ),
        )
    )
    uploaded = call(lambda: client.upload_file(document, payload), "upload result")
    file_id = uploaded.filedocument.id
    if not file_id:
        raise DataError("FileService.upload returned a file without an id")
    # Fetched again so that the update carries the task's latest revision.
    etask = call(lambda: client.get_task(ctx.task_id), "get task")
    kind = etask.WhichOneof("object")
    if kind not in ("runcomputationtask", "computationtask"):
        raise DataError(f"task {ctx.task_id} changed kind to {kind} during the run")
    getattr(etask, kind).fileResultId = file_id
    call(lambda: client.update_task(etask), "update task")
    return file_id
