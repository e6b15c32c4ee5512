"""The HTTP/1.1 connection layer: uvicorn's httptools protocol with the limits it lacks.

uvicorn 0.54 with httptools has no header size limit (`h11_max_incomplete_event_size` applies to h11 only), no
timer on a connection until its first response (an idle or half-sent connection stays open for ever) and only
`limit_concurrency`, which still accepts every connection and answers 503 in plain text. This subclass keeps
httptools' C parser and adds: a cap on the bytes of a request head, a deadline for a whole head, a cap on open
connections that closes the longest-idle one to make room (so `/health` and real clients get in while thousands
of idle sockets are open), and AWS-shaped JSON for the errors it answers itself.
"""

from __future__ import annotations

import asyncio
import logging
import resource
import time
import uuid
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, ClassVar

from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from reko.errors import BadRequestException, RekognitionError, RequestHeaderSectionTooLarge
from reko.server import protocol

log = logging.getLogger("reko.server")
# Descriptors kept free of connections: model files, the database, logs, the worker threads' pipes.
RESERVED_FILE_DESCRIPTORS = 128
CAP_WARNING_INTERVAL_S = 10.0


@dataclass(frozen=True)
class ConnectionLimits:
    max_connections: int
    max_header_bytes: int
    header_timeout_s: float


def error_headers(close: bool) -> list[tuple[bytes, bytes]]:
    headers = [(b"content-type", protocol.CONTENT_TYPE.encode()), (b"x-amzn-requestid", str(uuid.uuid4()).encode())]
    return headers + [(b"connection", b"close")] if close else headers


def raw_error_response(error: RekognitionError) -> bytes:
    """A whole HTTP/1.1 error answer for a connection that never reached the ASGI app; the connection closes."""
    body = protocol.error_body(error)
    lines = [f"HTTP/1.1 {error.http_status} {HTTPStatus(error.http_status).phrase}".encode()]
    lines += [name + b": " + value for name, value in error_headers(close=True)]
    lines.append(b"content-length: " + str(len(body)).encode())
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def refusing_app(error: RekognitionError) -> ASGIApp:
    """An ASGI app that answers `error` and closes the connection, whatever the request."""

    async def refuse(scope: Scope, receive: Receive, send: Send) -> None:
        body = protocol.error_body(error)
        headers = error_headers(close=True) + [(b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": error.http_status, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})

    return refuse


class LimitedHttpToolsProtocol(HttpToolsProtocol):
    """One client connection; `protocol_class` binds the limits and the registry of open connections."""

    limits: ClassVar[ConnectionLimits]
    open_connections: ClassVar[dict[LimitedHttpToolsProtocol, None]]  # insertion order: oldest first
    last_cap_warning: ClassVar[float] = 0.0

    def __init__(self, config: Config, server_state: ServerState, app_state: dict[str, Any], _loop: Any = None) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.head_timer: asyncio.TimerHandle | None = None
        self.in_head = True  # bytes arriving now belong to a request line or headers
        self.head_bytes = 0  # bytes received while in_head: bounds a head that never completes
        self.exact_head_bytes = 0  # request line + headers as parsed: bounds a head that completed in one read

    # Connection lifetime: deadline, cap.
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.open_connections[self] = None
        self._arm_head_timer()
        if len(self.open_connections) > self.limits.max_connections:
            self._make_room()

    def connection_lost(self, exc: Exception | None) -> None:
        self.open_connections.pop(self, None)
        self._cancel_head_timer()
        super().connection_lost(exc)

    def shutdown(self) -> None:
        """Server stopping: an idle TLS connection is dropped at once. close() would wait for the client's TLS
        close_notify, which an idle pooled client (urllib3, boto3) never sends, so one such connection held
        `reko serve --tls-cert` past SIGTERM for the TLS shutdown timeout (over 20 s measured; 30 s by default)."""
        idle = self.cycle is None or self.cycle.response_complete
        tls = self.transport.get_extra_info("sslcontext") is not None
        if idle and tls and self.transport.get_write_buffer_size() == 0:
            self.transport.abort()
            return
        super().shutdown()

    def busy(self) -> bool:
        """Whether a request of this connection is in the app (reading its body, queued or computing)."""
        return self.cycle is not None and not self.cycle.response_complete

    def _make_room(self) -> None:
        """Close the longest-idle connection (possibly this new one, when every other is busy)."""
        victim = next(connection for connection in self.open_connections if not connection.busy())
        self.open_connections.pop(victim)
        victim.transport.close()
        now = time.monotonic()
        if now - self.last_cap_warning > CAP_WARNING_INTERVAL_S:
            type(self).last_cap_warning = now
            log.warning(
                "connection cap of %d reached: closing the longest-idle connections", self.limits.max_connections
            )

    def _arm_head_timer(self) -> None:
        self._cancel_head_timer()
        self.head_timer = self.loop.call_later(self.limits.header_timeout_s, self._head_timed_out)

    def _cancel_head_timer(self) -> None:
        if self.head_timer is not None:
            self.head_timer.cancel()
            self.head_timer = None

    def _head_timed_out(self) -> None:
        """Nothing, or only part of a request head, arrived in time: close (a request in the app has its own)."""
        self.head_timer = None
        if not self.busy() and not self.transport.is_closing():
            self.transport.close()

    # Head size.
    def data_received(self, data: bytes) -> None:
        if self.in_head:
            self.head_bytes += len(data)
        super().data_received(data)
        if self.in_head and self.head_bytes > self.limits.max_header_bytes and not self.transport.is_closing():
            log.warning("refused a request head of over %d bytes from %s", self.head_bytes, self.client)
            self._refuse(self._head_too_large())

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.exact_head_bytes = 0
        self._arm_head_timer()

    def on_url(self, url: bytes) -> None:
        super().on_url(url)
        self.exact_head_bytes += len(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        super().on_header(name, value)
        self.exact_head_bytes += len(name) + len(value) + 4  # ": " and CRLF

    def on_headers_complete(self) -> None:
        self._cancel_head_timer()
        self.in_head = False
        if self.exact_head_bytes <= self.limits.max_header_bytes:
            super().on_headers_complete()
            return
        log.warning("refused a request head of %d bytes from %s", self.exact_head_bytes, self.client)
        app, self.app = self.app, refusing_app(self._head_too_large())
        try:
            super().on_headers_complete()
        finally:
            self.app = app

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self.in_head, self.head_bytes = True, 0

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm_head_timer()

    # Errors answered below the app.
    def _head_too_large(self) -> RekognitionError:
        return RequestHeaderSectionTooLarge(
            f"Your request header section exceeds the maximum allowed size of {self.limits.max_header_bytes} bytes."
        )

    def _refuse(self, error: RekognitionError) -> None:
        self.transport.write(raw_error_response(error))
        self.transport.close()

    def send_400_response(self, msg: str) -> None:
        self._refuse(BadRequestException(msg))


def protocol_class(limits: ConnectionLimits) -> type[LimitedHttpToolsProtocol]:
    """The protocol class to hand uvicorn (`http=`): one per server, with its own registry of connections."""
    return type("RekoHttpProtocol", (LimitedHttpToolsProtocol,), {"limits": limits, "open_connections": {}})


def raise_file_limit(wanted_connections: int) -> int:
    """Raise the soft open-file limit towards the hard one and return how many connections fit under it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = wanted_connections + RESERVED_FILE_DESCRIPTORS
    if soft != resource.RLIM_INFINITY and soft < wanted:
        target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    if soft == resource.RLIM_INFINITY:
        return wanted_connections
    return max(1, min(wanted_connections, soft - RESERVED_FILE_DESCRIPTORS))
