"""The one gRPC channel to Tercen: TLS or plaintext by URI scheme, token on every call.

Tercen expects the raw token (no ``Bearer`` prefix) in the ``authorization``
metadata of every RPC. It is added by a client interceptor rather than by call
credentials because gRPC refuses call credentials on plaintext channels, and
Tercen's own local setups serve plain ``http://``: one mechanism covers both.
"""

from __future__ import annotations

import os
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

import grpc

from ggrs.errors import UsageError

# Where Debian, RHEL and Alpine keep the system CA bundle (checked in this order).
_SYSTEM_CA_BUNDLES = (
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/cert.pem",
)
# Results of many pages and big tables travel in one message each way; the
# 4 MiB gRPC default is too small for a multi-page PNG set.
MAX_MESSAGE_BYTES = 256 * 1024 * 1024


class _Details(NamedTuple):
    method: str
    timeout: float | None
    metadata: Any
    credentials: Any
    wait_for_ready: Any
    compression: Any


class _ClientCallDetails(_Details, grpc.ClientCallDetails):
    """A concrete ClientCallDetails (gRPC only ships the abstract interface)."""


class TokenInterceptor(
    grpc.UnaryUnaryClientInterceptor,
    grpc.UnaryStreamClientInterceptor,
    grpc.StreamUnaryClientInterceptor,
    grpc.StreamStreamClientInterceptor,
):
    """Adds ``authorization: <token>`` to the metadata of every call."""

    def __init__(self, token: str) -> None:
        self._entry = ("authorization", token)

    def _with_token(self, details: grpc.ClientCallDetails) -> grpc.ClientCallDetails:
        metadata = [m for m in (details.metadata or ()) if m[0] != "authorization"]
        metadata.append(self._entry)
        return _ClientCallDetails(
            details.method,
            details.timeout,
            metadata,
            details.credentials,
            getattr(details, "wait_for_ready", None),
            getattr(details, "compression", None),
        )

    def intercept_unary_unary(self, continuation: Callable, details: Any, request: Any) -> Any:
        return continuation(self._with_token(details), request)

    def intercept_unary_stream(self, continuation: Callable, details: Any, request: Any) -> Any:
        return continuation(self._with_token(details), request)

    def intercept_stream_unary(
        self, continuation: Callable, details: Any, requests: Iterator[Any]
    ) -> Any:
        return continuation(self._with_token(details), requests)

    def intercept_stream_stream(
        self, continuation: Callable, details: Any, requests: Iterator[Any]
    ) -> Any:
        return continuation(self._with_token(details), requests)


def parse_uri(uri: str) -> tuple[str, bool]:
    """``host:port`` and whether to use TLS, from an ``http://`` or ``https://`` URI.

    Raises:
        UsageError: the URI has another scheme or no host.
    """
    parsed = urllib.parse.urlsplit(uri.strip())
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise UsageError(
            f"service URI {uri!r} is not valid: expected http://host:port or https://host[:port]"
        )
    secure = parsed.scheme == "https"
    try:
        port = parsed.port or (443 if secure else 80)
    except ValueError:
        raise UsageError(f"service URI {uri!r} has an invalid port") from None
    host = parsed.hostname
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    return f"{host}:{port}", secure


def root_certificates() -> bytes | None:
    """PEM roots: ``SSL_CERT_FILE`` if set, else the system bundle, else gRPC's own.

    Raises:
        UsageError: ``SSL_CERT_FILE`` names a file that cannot be read.
    """
    named = os.environ.get("SSL_CERT_FILE")
    if named:
        try:
            return Path(named).read_bytes()
        except OSError as exc:
            raise UsageError(f"SSL_CERT_FILE={named}: cannot read it ({exc.strerror})") from None
    for candidate in _SYSTEM_CA_BUNDLES:
        path = Path(candidate)
        if path.is_file():
            return path.read_bytes()
    return None  # gRPC falls back to the roots it bundles


def create_channel(uri: str, token: str) -> grpc.Channel:
    """Opens the channel to Tercen at `uri`, sending `token` with every call.

    The channel connects lazily; the first RPC (with its deadline) reports an
    unreachable server.

    Args:
        uri: ``http://host:port`` (plaintext HTTP/2) or ``https://host[:port]`` (TLS).
        token: Tercen's token, sent verbatim as ``authorization`` metadata.

    Raises:
        UsageError: the URI is not http(s), or the token is empty.
    """
    if not token:
        raise UsageError("no token: pass --token or set TERCEN_TOKEN")
    target, secure = parse_uri(uri)
    options = [
        ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
        ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
    ]
    if secure:
        credentials = grpc.ssl_channel_credentials(root_certificates=root_certificates())
        channel = grpc.secure_channel(target, credentials, options=options)
    else:
        channel = grpc.insecure_channel(target, options=options)
    return grpc.intercept_channel(channel, TokenInterceptor(token))
