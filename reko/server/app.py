"""The ASGI application: `POST /` for every operation, `GET /health` for readiness."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import uuid
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from reko.config import DEV_ACCOUNT_ID, Settings
from reko.engine import Engine
from reko.errors import (
    ImageTooLargeException,
    InternalServerError,
    RekognitionError,
    ThrottlingException,
)
from reko.operations.common.context import Caller
from reko.server import protocol, sigv4
from reko.server.credentials import load_credentials
from reko.validation import service_model

# 5 MiB of image is 6.99 MB of base64; the rest of any request is small.
MAX_BODY_BYTES = 8 * 1024 * 1024
access_log = logging.getLogger("reko.access")
log = logging.getLogger("reko.server")


class _BodyTooLarge(Exception):
    pass


async def _read_body(request: Request, limit: int) -> bytes:
    """The body, refused as soon as it passes `limit` (or at once when Content-Length says so)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise _BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


class RekoService:
    """The edge: admission, keys, SigV4, the wire protocol; the engine computes."""

    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.settings = settings
        self.engine = engine
        self.keys = load_credentials(settings.credentials_file)
        self.slots = threading.BoundedSemaphore(settings.max_queued_requests)
        self.ready = threading.Event()
        self.startup_error: str | None = None
        self.operation_names = set(service_model().operation_names)

    def warm_up(self) -> None:
        try:
            self.engine.load_models()
            self.ready.set()
        except Exception as error:  # a broken install must show on /health, not kill the process
            log.exception("model warm-up failed")
            self.startup_error = f"{type(error).__name__}: {error}"

    async def handle(self, request: Request) -> Response:
        request_id = str(uuid.uuid4())
        started = time.perf_counter()
        operation = "-"
        try:
            body = await _read_body(request, MAX_BODY_BYTES)
            identity = self._authenticate(request, body)
            operation = protocol.operation_from_target(request.headers.get("x-amz-target"), self.operation_names)
            params = protocol.decode_body(body)
            answer = await self._run(operation, params, identity, request_id)
            response = Response(protocol.encode_body(answer), 200, media_type=protocol.CONTENT_TYPE)
        except _BodyTooLarge:
            error = ImageTooLargeException(f"Request body exceeds the {MAX_BODY_BYTES} byte limit.")
            response = self._error_response(error)
        except RekognitionError as error:
            response = self._error_response(error)
        except Exception:
            log.exception("request %s (%s) failed", request_id, operation)
            response = self._error_response(InternalServerError("Internal server error."))
        response.headers["x-amzn-RequestId"] = request_id
        latency_ms = (time.perf_counter() - started) * 1000
        access_log.info("%s %s %d %.1fms", request_id, operation, response.status_code, latency_ms)
        return response

    def _authenticate(self, request: Request, body: bytes) -> sigv4.Identity:
        if not self.settings.auth:
            return sigv4.Identity(access_key_id="anonymous", account_id=DEV_ACCOUNT_ID, region="us-east-1")
        signed = sigv4.SignedRequest(
            method=request.method,
            path=request.scope.get("raw_path", b"/").decode("latin-1").split("?", 1)[0] or "/",
            query=request.scope.get("query_string", b"").decode("latin-1"),
            headers=[(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in request.scope["headers"]],
            body=body,
        )
        return sigv4.verify(signed, self.keys, self.settings.regions)

    async def _run(
        self, operation: str, params: dict[str, Any], identity: sigv4.Identity, request_id: str
    ) -> dict[str, Any]:
        caller = Caller(request_id=request_id, account_id=identity.account_id, region=identity.region)
        if not self.slots.acquire(blocking=False):
            raise ThrottlingException("Too many requests in flight; retry with backoff.")
        try:
            return await asyncio.wrap_future(self.engine.submit(operation, params, caller))
        finally:
            self.slots.release()

    @staticmethod
    def _error_response(error: RekognitionError) -> Response:
        return Response(protocol.error_body(error), error.http_status, media_type=protocol.CONTENT_TYPE)

    async def health(self, request: Request) -> Response:
        if self.ready.is_set():
            return JSONResponse({"status": "ready"})
        if self.startup_error:
            return JSONResponse({"status": "failed", "error": self.startup_error}, status_code=503)
        return JSONResponse({"status": "starting"}, status_code=503)


def create_app(settings: Settings, warm_up_in_background: bool = True) -> Starlette:
    """The Reko ASGI app; model loading starts at once and `/health` says when it is done."""
    service = RekoService(settings, Engine(settings))
    if warm_up_in_background:
        threading.Thread(target=service.warm_up, name="reko-warm-up", daemon=True).start()
    else:
        service.warm_up()
    app = Starlette(
        routes=[
            Route("/", service.handle, methods=["POST"]),
            Route("/health", service.health, methods=["GET"]),
        ]
    )
    app.state.service = service
    return app
