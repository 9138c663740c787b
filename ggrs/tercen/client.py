"""Typed calls to Tercen's gRPC services, each with a deadline and translated errors.

:class:`TercenClient` is the only place in ggrs that touches generated stubs
or catches :class:`grpc.RpcError`: every failure leaves it as a
:class:`~ggrs.errors.RemoteError` subclass whose message names the call and
the ids involved (never the token). Retrying is the caller's choice
(:mod:`ggrs.tercen.retry`); the client makes one attempt per call.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Sequence

import grpc

from ggrs.errors import (
    RemoteAuthError,
    RemoteDeadlineExceeded,
    RemoteError,
    RemoteNotFound,
    RemoteUnavailable,
)
from proto import tercen_pb2, tercen_pb2_grpc

log = logging.getLogger("ggrs.tercen")

DEFAULT_TIMEOUT = 60.0
"""Seconds each unary call may take; streams get this per chunk."""

UPLOAD_PIECE_BYTES = 1024 * 1024
"""Upload payloads above this travel as several ``ReqUpload`` messages."""

_ERROR_CLASSES: dict[grpc.StatusCode, type[RemoteError]] = {
    grpc.StatusCode.UNAVAILABLE: RemoteUnavailable,
    grpc.StatusCode.RESOURCE_EXHAUSTED: RemoteUnavailable,
    grpc.StatusCode.DEADLINE_EXCEEDED: RemoteDeadlineExceeded,
    grpc.StatusCode.UNAUTHENTICATED: RemoteAuthError,
    grpc.StatusCode.PERMISSION_DENIED: RemoteAuthError,
    grpc.StatusCode.NOT_FOUND: RemoteNotFound,
}
# A stream that breaks after data arrived surfaces as one of these; it is a cut
# connection, as transient as UNAVAILABLE.
_CUT_STREAM_CODES = (
    grpc.StatusCode.INTERNAL,
    grpc.StatusCode.UNKNOWN,
    grpc.StatusCode.CANCELLED,
)


def _tls_advice(details: str) -> str:
    """One line on a failed TLS handshake: gRPC's reason and what to do about it."""
    at = details.lower().find("handshake failed")
    reason = details[max(details.rfind(":", 0, at) + 1, 0) if at > 0 else 0 :].strip()
    if "CERTIFICATE_VERIFY_FAILED" in details:
        return (
            f"the server's TLS certificate is not trusted ({reason}); set SSL_CERT_FILE to "
            "the CA certificate (PEM) that signed it, or install that CA in the system bundle"
        )
    return (
        f"the TLS handshake failed ({reason}); check that the server speaks TLS at this "
        "address (use http:// for a plaintext server)"
    )


class TercenClient:
    """Tercen's task, schema, table, workflow, file and event calls over one channel.

    Args:
        channel: from :func:`ggrs.tercen.channel.create_channel` (it adds the token).
        timeout: deadline of each call in seconds (each table chunk for streams).
        secrets: strings that must never appear in an error message (the token), in
            case a server echoes them back.
    """

    def __init__(
        self,
        channel: grpc.Channel,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        secrets: Sequence[str] = (),
    ) -> None:
        self._tasks = tercen_pb2_grpc.TaskServiceStub(channel)
        self._schemas = tercen_pb2_grpc.TableSchemaServiceStub(channel)
        self._files = tercen_pb2_grpc.FileServiceStub(channel)
        self._workflows = tercen_pb2_grpc.WorkflowServiceStub(channel)
        self._events = tercen_pb2_grpc.EventServiceStub(channel)
        self.timeout = timeout
        self._secrets = tuple(s for s in secrets if s)

    @contextlib.contextmanager
    def _translate(self, call: str, **ids: object) -> Iterator[dict]:
        """Turns a :class:`grpc.RpcError` raised inside into a named RemoteError.

        Yields a dict the body may fill with ``received`` (bytes so far), which
        turns a mid-stream failure into a transient "stream cut" error.
        """
        state: dict = {"received": 0}
        try:
            yield state
        except grpc.RpcError as exc:
            raise self._error(call, ids, exc, state["received"]) from None

    def _error(self, call: str, ids: dict, exc: grpc.RpcError, received: int) -> RemoteError:
        code = exc.code() if hasattr(exc, "code") else grpc.StatusCode.UNKNOWN
        details = (exc.details() if hasattr(exc, "details") else str(exc)) or ""
        for secret in self._secrets:
            details = details.replace(secret, "***")
        named = ", ".join(f"{k}={v!r}" for k, v in ids.items())
        where = f"{call}({named})"
        if code == grpc.StatusCode.DEADLINE_EXCEEDED:
            return RemoteDeadlineExceeded(
                f"{where}: no answer within the {self.timeout:g}s deadline; the server is "
                "slow or unreachable"
            )
        if code == grpc.StatusCode.UNAUTHENTICATED or code == grpc.StatusCode.PERMISSION_DENIED:
            return RemoteAuthError(
                f"{where}: the server refused the token ({code.name}: {details}); check "
                "--token / TERCEN_TOKEN"
            )
        if code == grpc.StatusCode.UNAVAILABLE and "handshake failed" in details.lower():
            # Not transient: the same certificate fails the same way on every retry.
            return RemoteError(f"{where}: {_tls_advice(details)}")
        if received and code in _CUT_STREAM_CODES:
            return RemoteUnavailable(
                f"{where}: the stream was cut after {received:,} bytes ({code.name}: {details})"
            )
        cls = _ERROR_CLASSES.get(code, RemoteError)
        return cls(f"{where} failed: {code.name}: {details}")

    # -- tasks ---------------------------------------------------------------------------

    def get_task(self, task_id: str) -> tercen_pb2.ETask:
        """``TaskService.get``: the task wrapped in its ``ETask`` oneof."""
        with self._translate("TaskService.get", id=task_id):
            return self._tasks.get(tercen_pb2.GetRequest(id=task_id), timeout=self.timeout)

    def update_task(self, task: tercen_pb2.ETask) -> str:
        """``TaskService.update``; returns the new revision."""
        kind = task.WhichOneof("object")
        task_id = getattr(task, kind).id if kind else ""
        with self._translate("TaskService.update", id=task_id):
            return self._tasks.update(task, timeout=self.timeout).rev

    # -- tables --------------------------------------------------------------------------

    def get_schema(self, schema_id: str) -> tercen_pb2.ESchema:
        """``TableSchemaService.get``: a table's schema (rows, columns, query table type)."""
        with self._translate("TableSchemaService.get", id=schema_id):
            return self._schemas.get(tercen_pb2.GetRequest(id=schema_id), timeout=self.timeout)

    def stream_table(self, table_id: str, columns: Sequence[str], offset: int, limit: int) -> bytes:
        """``TableSchemaService.streamTable``: rows ``[offset, offset + limit)`` as TSON.

        The server sends fragments of one TSON document; they are joined here.

        Args:
            table_id: the table (a CubeQuery hash or a schema id).
            columns: column names to fetch; empty means all.
            offset: first row.
            limit: number of rows.

        Returns:
            The whole TSON document (empty bytes for an empty table).
        """
        request = tercen_pb2.ReqStreamTable(
            tableId=table_id, cnames=list(columns), offset=offset, limit=limit, binaryFormat=""
        )
        pieces: list[bytes] = []
        with self._translate(
            "TableSchemaService.streamTable", tableId=table_id, offset=offset, limit=limit
        ) as state:
            for response in self._schemas.streamTable(request, timeout=self.timeout):
                pieces.append(response.result)
                state["received"] += len(response.result)
        return b"".join(pieces)

    # -- workflows and files -------------------------------------------------------------

    def get_workflow(self, workflow_id: str) -> tercen_pb2.EWorkflow:
        """``WorkflowService.get``."""
        with self._translate("WorkflowService.get", id=workflow_id):
            return self._workflows.get(tercen_pb2.GetRequest(id=workflow_id), timeout=self.timeout)

    def get_file(self, file_id: str) -> tercen_pb2.EFileDocument:
        """``FileService.get``."""
        with self._translate("FileService.get", id=file_id):
            return self._files.get(tercen_pb2.GetRequest(id=file_id), timeout=self.timeout)

    def upload_file(
        self, document: tercen_pb2.EFileDocument, payload: bytes
    ) -> tercen_pb2.EFileDocument:
        """``FileService.upload``: `payload` into `document` (new or existing).

        Small payloads go as one message holding both, as Tercen's own operators
        send them; larger ones continue in 1 MiB pieces so that no message nears
        the server's inbound limit.
        """
        file_id = document.filedocument.id

        def requests() -> Iterator[tercen_pb2.ReqUpload]:
            yield tercen_pb2.ReqUpload(file=document, bytes=payload[:UPLOAD_PIECE_BYTES])
            for start in range(UPLOAD_PIECE_BYTES, len(payload), UPLOAD_PIECE_BYTES):
                yield tercen_pb2.ReqUpload(bytes=payload[start : start + UPLOAD_PIECE_BYTES])

        # A large upload legitimately takes longer than one small call.
        timeout = self.timeout + len(payload) / (1024 * 1024)
        with self._translate("FileService.upload", id=file_id, bytes=len(payload)):
            return self._files.upload(requests(), timeout=timeout).result

    # -- events --------------------------------------------------------------------------

    def send_progress(self, task_id: str, message: str, actual: int, total: int) -> bool:
        """Best effort ``EventService.create(TaskProgressEvent)``; False if refused.

        Progress is a courtesy: servers that do not implement events must not
        fail the run, so every error is logged and swallowed here.
        """
        event = tercen_pb2.EEvent(
            taskprogressevent=tercen_pb2.TaskProgressEvent(
                taskId=task_id, message=message, actual=actual, total=total
            )
        )
        return self._best_effort_event(event, task_id)

    def send_log(self, task_id: str, message: str) -> bool:
        """Best effort ``EventService.create(TaskLogEvent)``; False if refused."""
        event = tercen_pb2.EEvent(
            tasklogevent=tercen_pb2.TaskLogEvent(taskId=task_id, message=message)
        )
        return self._best_effort_event(event, task_id)

    def _best_effort_event(self, event: tercen_pb2.EEvent, task_id: str) -> bool:
        try:
            with self._translate("EventService.create", taskId=task_id):
                self._events.create(event, timeout=min(self.timeout, 5.0))
        except RemoteError as exc:
            log.debug("event not sent: %s", exc)
            return False
        return True
