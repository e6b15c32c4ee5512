"""The ASGI application: `POST /` for every operation, `GET /health` for readiness, AWS JSON for everything else.

A request goes through the door in the cheapest order: headers authenticated (all of SigV4 but the body hash),
target known, in-flight cap, then the body read under a size cap and a deadline, the signature checked over it,
the JSON decoded, and the engine asked. Every answer, 404 and 405 included, is `{"__type", "Message"}` with an
`x-amzn-RequestId`.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from reko.config import DEV_ACCOUNT_ID, Settings
from reko.engine import Engine
from reko.errors import (
    InternalServerError,
    RekognitionError,
    RequestTimeoutException,
    UnknownOperationException,
)
from reko.operations.common.context import Caller
from reko.server import admission, protocol, roles_anywhere, sigv4
from reko.server.console import Console
from reko.server.credentials import load_credentials
from reko.server.sessions import SessionIssuer, load_or_create_secret
from reko.server.x509_signing import load_trust_anchors
from reko.validation import service_model

access_log = logging.getLogger("reko.access")
log = logging.getLogger("reko.server")
ANONYMOUS = sigv4.Identity(access_key_id="anonymous", account_id=DEV_ACCOUNT_ID, region="us-east-1")


def error_response(error: RekognitionError, request_id: str, status: int | None = None) -> Response:
    response = Response(protocol.error_body(error), status or error.http_status, media_type=protocol.CONTENT_TYPE)
    response.headers["x-amzn-RequestId"] = request_id
    return response


def _received(request: Request, body: bytes) -> sigv4.SignedRequest:
    return sigv4.SignedRequest(
        method=request.method,
        path=request.scope.get("raw_path", b"/").decode("latin-1").split("?", 1)[0] or "/",
        query=request.scope.get("query_string", b"").decode("latin-1"),
        headers=_headers(request),
        body=body,
    )


def _headers(request: Request) -> list[tuple[str, str]]:
    return [(name.decode("latin-1").lower(), value.decode("latin-1")) for name, value in request.scope["headers"]]


class RekoService:
    """The edge: admission, keys, SigV4, the wire protocol; the engine computes."""

    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.settings = settings
        self.engine = engine
        self.keys = load_credentials(settings.credentials_file)
        self.roles_anywhere = _roles_anywhere_policy(settings)
        # Issued sessions are recognised only while Roles Anywhere is on: turning it off retires them.
        self.issuer = (
            SessionIssuer(load_or_create_secret(settings.session_secret_file)) if self.roles_anywhere else None
        )
        self.in_flight = admission.InFlight(settings.in_flight_limit)
        self.ready = threading.Event()
        self.models_loaded = threading.Event()
        self.startup_error: str | None = None
        self.operation_names = set(service_model().operation_names)

    def warm_up(self) -> None:
        try:
            self.engine.load_face_models()
            self.ready.set()  # the other pipelines load next; a request needing one of them waits for it
            self.engine.load_models()
            self.models_loaded.set()
            self.engine.start_jobs()  # queued Custom Labels training, this server's share of it
        except Exception as error:  # a broken install must show on /health, not kill the process
            log.exception("model warm-up failed")
            self.startup_error = f"{type(error).__name__}: {error}"

    async def handle(self, request: Request) -> Response:
        request_id = str(uuid.uuid4())
        started = time.perf_counter()
        trace = {"operation": "-"}
        try:
            response = await self._answer(request, request_id, trace)
        except ClientDisconnect:
            access_log.info("%s %s client disconnected before its body arrived", request_id, trace["operation"])
            return Response(status_code=400)  # nobody reads it; uvicorn drops it
        except RequestTimeoutException as error:
            log.info("request %s: %s", request_id, error.message)
            response = error_response(error, request_id)
            response.headers["connection"] = "close"  # the rest of a stalled body is not worth waiting for
        except RekognitionError as error:
            response = error_response(error, request_id)
        except Exception:
            log.exception("request %s (%s) failed", request_id, trace["operation"])
            response = error_response(InternalServerError("Internal server error."), request_id)
        latency_ms = (time.perf_counter() - started) * 1000
        access_log.info("%s %s %d %.1fms", request_id, trace["operation"], response.status_code, latency_ms)
        return response

    async def _answer(self, request: Request, request_id: str, trace: dict[str, str]) -> Response:
        check = self._check_headers(request)
        operation = protocol.operation_from_target(request.headers.get("x-amz-target"), self.operation_names)
        trace["operation"] = operation
        with self.in_flight.admit():
            body = await admission.read_body(request, admission.MAX_BODY_BYTES, self.settings.body_timeout_s)
            identity = ANONYMOUS if check is None else sigv4.check_signature(check, _received(request, body))
            params = protocol.decode_body(body)
            answer = await self._run(operation, params, identity, request_id)
        response = Response(protocol.encode_body(answer), 200, media_type=protocol.CONTENT_TYPE)
        response.headers["x-amzn-RequestId"] = request_id
        return response

    def _check_headers(self, request: Request) -> sigv4.HeaderCheck | None:
        """SigV4 from the headers alone (None when auth is off), before a byte of body is read."""
        if not self.settings.auth:
            return None
        return sigv4.check_headers(_headers(request), self.keys, self.settings.regions, issuer=self.issuer)

    async def create_session(self, request: Request) -> Response:
        """Roles Anywhere's CreateSession (`POST /sessions`): credentials for a certificate-signed request."""
        request_id = str(uuid.uuid4())
        try:
            if self.roles_anywhere is None or self.issuer is None:
                raise UnknownOperationException(
                    "POST /sessions (Roles Anywhere) is off: set REKO_TRUST_ANCHOR_CA to a CA certificate file."
                )
            with self.in_flight.admit():
                body = await admission.read_body(
                    request, roles_anywhere.MAX_REQUEST_BYTES, self.settings.body_timeout_s
                )
            answer = roles_anywhere.create_session(_received(request, body), self.roles_anywhere, self.issuer)
        except ClientDisconnect:
            return Response(status_code=400)
        except RekognitionError as error:
            access_log.info("%s CreateSession %d %s", request_id, error.http_status, error.code)
            response = error_response(error, request_id)
            response.headers["x-amzn-ErrorType"] = error.code  # REST-JSON SDKs read the code from here
            return response
        access_log.info("%s CreateSession 201 %s", request_id, answer["credentialSet"][0]["sourceIdentity"])
        response = JSONResponse(answer, status_code=201)
        response.headers["x-amzn-RequestId"] = request_id
        return response

    async def _run(
        self, operation: str, params: dict[str, Any], identity: sigv4.Identity, request_id: str
    ) -> dict[str, Any]:
        caller = Caller(request_id=request_id, account_id=identity.account_id, region=identity.region)
        return await asyncio.wrap_future(self.engine.submit(operation, params, caller))

    async def health(self, request: Request) -> Response:
        if self.startup_error:
            response = JSONResponse({"status": "failed", "error": self.startup_error}, status_code=503)
        elif self.ready.is_set():
            models = "loaded" if self.models_loaded.is_set() else "loading"
            response = JSONResponse({"status": "ready", "models": models})
        else:
            response = JSONResponse({"status": "starting"}, status_code=503)
        response.headers["x-amzn-RequestId"] = str(uuid.uuid4())
        return response


def _roles_anywhere_policy(settings: Settings) -> roles_anywhere.RolesAnywherePolicy | None:
    if settings.trust_anchor_file is None:
        return None
    return roles_anywhere.RolesAnywherePolicy(
        anchors=tuple(load_trust_anchors(settings.trust_anchor_file)),
        trust_anchor_arns=settings.trust_anchor_arns,
        profile_arns=settings.profile_arns,
        role_arns=settings.role_arns,
        account_id=settings.session_account_id,
    )


async def _no_route(request: Request, exc: Exception) -> Response:
    """Starlette's 404 and 405, in the AWS JSON shape instead of plain text."""
    status = exc.status_code if isinstance(exc, HTTPException) else 404
    error = UnknownOperationException(
        f"{request.method} {request.url.path} is not an operation: the API takes POST / with an X-Amz-Target header."
    )
    response = error_response(error, str(uuid.uuid4()), status)
    if status == 405:
        response.headers["allow"] = "POST" if request.url.path in ("/", "/sessions") else "GET"
    return response


async def _internal_error(request: Request, exc: Exception) -> Response:
    return error_response(InternalServerError("Internal server error."), str(uuid.uuid4()))


def _closing(engine: Engine) -> Callable[[Starlette], AbstractAsyncContextManager[None]]:
    """The app's lifespan: on a clean stop the engine closes (models, pools, database connections)."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await asyncio.to_thread(engine.close)

    return lifespan


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
            Route("/sessions", service.create_session, methods=["POST"]),
            *Console(service).routes(),
        ],
        exception_handlers={HTTPException: _no_route, Exception: _internal_error},
        lifespan=_closing(service.engine),
    )
    app.state.service = service
    return app
