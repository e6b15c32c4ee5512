"""The web console's edge: its static page, sign-in and sign-out, and `POST /console/api/<Operation>`.

A browser cannot sign SigV4, so the console signs in once with an access key and secret checked against the same
key store, and then carries a signed HttpOnly, SameSite=Strict cookie (`reko_console`). Every console call is
the operation itself, through `Engine.submit` like `POST /`: the answer is exactly the operation's JSON, and its
time is in `Server-Timing`. State-changing calls need the CSRF header and a same-origin `Origin`.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import re
import time
import uuid
from collections.abc import Callable
from importlib import resources
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from reko.errors import (
    AccessDeniedException,
    InternalServerError,
    InvalidImageFormatException,
    InvalidParameterException,
    InvalidS3ObjectException,
    MissingAuthenticationTokenException,
    RekognitionError,
    ResourceNotFoundException,
    TooManyRequestsException,
    UnknownOperationException,
    UnrecognizedClientException,
)
from reko.operations.common.context import Caller
from reko.server import admission, protocol
from reko.server.console_session import (
    COOKIE_NAME,
    CSRF_HEADER,
    SESSION_LIFETIME_S,
    ConsoleSession,
    SessionSigner,
    check_secret,
)
from reko.server.credentials import Credential
from reko.server.sign_in_limits import SignInLimits

if TYPE_CHECKING:
    from reko.server.app import RekoService

access_log = logging.getLogger("reko.access")
log = logging.getLogger("reko.server")

# Every file the page needs, and nothing else of the package (no directory listing, no __init__.py).
STATIC_TYPES = {
    "index.html": "text/html; charset=utf-8",
    "console.css": "text/css; charset=utf-8",
    "console.js": "text/javascript; charset=utf-8",
    "api.js": "text/javascript; charset=utf-8",
    "draw.js": "text/javascript; charset=utf-8",
    "collections.js": "text/javascript; charset=utf-8",
    "custom.js": "text/javascript; charset=utf-8",
    "buckets.js": "text/javascript; charset=utf-8",
    "favicon.svg": "image/svg+xml",
}
# Images are shown from data: and blob: URLs the page makes from the user's own files; nothing else leaves 'self'.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
# A bucket's image, shown in an <img>: nothing in it may run, even opened on its own.
IMAGE_POLICY = "default-src 'none'; sandbox"
# Operations the page offers and asks about (GET /console/api/operations), so it can show "not built yet".
PAGE_OPERATIONS = (
    "DetectFaces", "CompareFaces", "DetectLabels", "DetectProtectiveEquipment", "DetectCustomLabels",
    "ListCollections", "CreateCollection", "DeleteCollection", "DescribeCollection", "IndexFaces", "ListFaces",
    "DeleteFaces", "SearchFacesByImage", "DescribeProjects", "DescribeProjectVersions",
)
MAX_LISTED_OBJECTS = 200  # a page of the bucket picker: enough to scroll, small enough to answer at once
# What the console shows of an evaluation summary file (Rekognition's format, written by reko/jobs/training.py).
EVALUATION_MEMBERS = ("AggregatedEvaluationResults", "LabelEvaluationResults")
MAX_SIGN_IN_BYTES = 16 * 1024  # a key id, a secret, a region and perhaps a session token
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")


def _static_headers() -> dict[str, str]:
    return {
        "content-security-policy": CONTENT_SECURITY_POLICY,
        "x-content-type-options": "nosniff",
        "referrer-policy": "no-referrer",
        "cache-control": "no-cache",
    }


def _error(error: RekognitionError, request_id: str) -> Response:
    response = Response(protocol.error_body(error), error.http_status, media_type="application/json")
    response.headers["x-amzn-RequestId"] = request_id
    return response


class SignInLockedOut(TooManyRequestsException):
    """Answered as TooManyRequestsException, with the seconds to wait (also sent as Retry-After)."""

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(
            f"Too many wrong sign-ins from this address or for this access key: try again in {retry_after_s} s."
        )
        self.retry_after_s = retry_after_s

    @property
    def code(self) -> str:
        return "TooManyRequestsException"


def same_origin(request: Request) -> bool:
    """Whether the `Origin` header names this very server (scheme-agnostic, so a TLS proxy in front still works).
    Browsers send it on every POST from a page; its absence means a non-browser client or a forgery."""
    origin = request.headers.get("origin")
    host = request.headers.get("host")
    return bool(origin and host) and urlsplit(origin).netloc == host


class Console:
    """The console's routes, bound to the server's key store, admission and engine."""

    def __init__(self, service: RekoService) -> None:
        self.service = service
        self.signer = SessionSigner(service.keys)
        self.limits = SignInLimits()

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/console", self.redirect, methods=["GET"]),
            Route("/console/", self.page, methods=["GET"]),
            Route("/console/api/session", self.whoami, methods=["GET"]),
            Route("/console/api/session", self.sign_in, methods=["POST"]),
            Route("/console/api/session/sign-out", self.sign_out, methods=["POST"]),
            Route("/console/api/operations", self.operations, methods=["GET"]),
            Route("/console/api/buckets", self.buckets, methods=["GET"]),
            Route("/console/api/buckets/{bucket}/images", self.bucket_images, methods=["GET"]),
            Route("/console/api/buckets/{bucket}/image", self.bucket_image, methods=["GET"]),
            Route("/console/api/evaluation", self.evaluation, methods=["GET"]),
            Route("/console/api/{operation}", self.call, methods=["POST"]),
            Route("/console/{name}", self.static, methods=["GET"]),
        ]

    async def redirect(self, request: Request) -> Response:
        return RedirectResponse("/console/", status_code=307)

    async def page(self, request: Request) -> Response:
        return self._file("index.html")

    async def static(self, request: Request) -> Response:
        name = request.path_params["name"]
        if name not in STATIC_TYPES:
            return Response("Not found", 404, media_type="text/plain")
        return self._file(name)

    def _file(self, name: str) -> Response:
        return Response(_package_file(name), 200, media_type=STATIC_TYPES[name], headers=_static_headers())

    def _session(self, request: Request) -> ConsoleSession | None:
        return self.signer.check(request.cookies.get(COOKIE_NAME))

    def _state(self, session: ConsoleSession) -> dict[str, Any]:
        return {
            "signedIn": True,
            "accessKeyId": session.access_key_id,
            "accountId": session.account_id,
            "region": session.region,
            "expiresAt": int(session.expires_at_s),
            "csrfToken": self.signer.csrf_token(session),
        }

    async def whoami(self, request: Request) -> Response:
        """Signed in or not, answered 200 either way so a signed-out page load logs no failed request."""
        session = self._session(request)
        state = self._state(session) if session else {"signedIn": False}
        return JSONResponse(state, headers={"cache-control": "no-store"})

    async def sign_in(self, request: Request) -> Response:
        request_id = str(uuid.uuid4())
        try:
            if not same_origin(request):
                raise AccessDeniedException("Sign-in must come from the console's own page (Origin mismatch).")
            body = await admission.read_body(request, MAX_SIGN_IN_BYTES, self.service.settings.body_timeout_s)
            form = protocol.decode_body(body)
            key = self._checked_key(form, request.client.host if request.client else "unknown")
            region = self._region(form.get("Region", "us-east-1"))
        except RekognitionError as error:
            access_log.info("%s console sign-in %d", request_id, error.http_status)
            response = _error(error, request_id)
            if isinstance(error, SignInLockedOut):
                response.headers["retry-after"] = str(error.retry_after_s)
            return response
        cookie, session = self.signer.issue(key, region)
        response = JSONResponse(self._state(session), headers={"cache-control": "no-store"})
        response.set_cookie(
            COOKIE_NAME, cookie, max_age=SESSION_LIFETIME_S, path="/console", httponly=True, samesite="strict",
            secure=request.url.scheme == "https",
        )
        access_log.info("%s console sign-in 200 %s", request_id, key.access_key_id)
        return response

    def _checked_key(self, form: dict[str, Any], address: str) -> Credential:
        """The key the form's secret proves; wrong secrets count against the address and the key (SignInLimits)."""
        access_key_id, secret = form.get("AccessKeyId"), form.get("SecretAccessKey")
        token = form.get("SessionToken") or None
        if not isinstance(access_key_id, str) or not isinstance(secret, str):
            raise InvalidParameterException("Sign-in needs AccessKeyId and SecretAccessKey.")
        retry_after_s = self.limits.retry_after_s(address, access_key_id)
        if retry_after_s:
            raise SignInLockedOut(retry_after_s)
        try:
            return check_secret(self.service.keys, access_key_id, secret, token if isinstance(token, str) else None)
        except LookupError as error:
            self.limits.failed(address, access_key_id if access_key_id in self.service.keys else None)
            raise UnrecognizedClientException(str(error)) from None

    def _region(self, region: Any) -> str:
        allowed = self.service.settings.regions
        if not isinstance(region, str) or not _REGION.match(region) or (allowed and region not in allowed):
            raise InvalidParameterException(
                f"Region '{region}' is not one this server answers for{': ' + ', '.join(allowed) if allowed else ''}."
            )
        return region

    async def sign_out(self, request: Request) -> Response:
        request_id = str(uuid.uuid4())
        try:
            session = self._guard(request)
        except RekognitionError as error:
            return _error(error, request_id)
        self.signer.revoke(session)
        response = JSONResponse({"signedIn": False})
        response.delete_cookie(COOKIE_NAME, path="/console", httponly=True, samesite="strict")
        return response

    def _guard(self, request: Request) -> ConsoleSession:
        """The caller's session for a state-changing call: signed in, same origin, and the CSRF token."""
        session = self._session(request)
        if session is None:
            raise MissingAuthenticationTokenException("Sign in to the console first (no valid session cookie).")
        if not same_origin(request):
            raise AccessDeniedException("Console calls must come from the console's own page (Origin mismatch).")
        if not self.signer.csrf_ok(session, request.headers.get(CSRF_HEADER)):
            raise AccessDeniedException(f"Missing or wrong {CSRF_HEADER} header (CSRF protection).")
        return session

    async def operations(self, request: Request) -> Response:
        """Which of the page's operations this server implements: the page shows the others as not built yet."""
        if self._session(request) is None:
            return _error(MissingAuthenticationTokenException("Sign in to the console first."), str(uuid.uuid4()))
        return JSONResponse({name: self.service.engine.implements(name) for name in PAGE_OPERATIONS})

    async def buckets(self, request: Request) -> Response:
        """The buckets the signed-in caller can name in an `S3Object` (every folder bucket of this server)."""
        return await self._read_only(request, lambda: {"Buckets": self.service.engine.buckets()})

    async def bucket_images(self, request: Request) -> Response:
        """A page of a bucket's images (`?StartAfter=<key>` for the next): names only, never their bytes."""
        bucket = request.path_params["bucket"]
        start_after = request.query_params.get("StartAfter") or None

        def page() -> dict[str, Any]:
            found = self.service.engine.bucket_images(bucket, start_after, MAX_LISTED_OBJECTS)
            objects = [{"Name": name, "Size": size} for name, size in zip(found.names, found.sizes_bytes, strict=True)]
            return {"Bucket": bucket, "Objects": objects} | (
                {"NextStartAfter": found.next_start_after} if found.next_start_after else {}
            )

        return await self._read_only(request, page)

    async def evaluation(self, request: Request) -> Response:
        """A trained version's evaluation per label (`?ProjectArn=…&VersionName=…`): the summary file training wrote
        to its output bucket, read only for a version DescribeProjectVersions shows the signed-in account."""
        project_arn = request.query_params.get("ProjectArn", "")
        version_name = request.query_params.get("VersionName", "")
        caller = self._caller(request)

        def summary() -> dict[str, Any]:
            if caller is None:
                raise MissingAuthenticationTokenException("Sign in to the console first.")
            params = {"ProjectArn": project_arn, "VersionNames": [version_name]}
            described = self.service.engine.dispatch("DescribeProjectVersions", params, caller)
            versions = described["ProjectVersionDescriptions"]
            where = versions[0].get("EvaluationResult", {}).get("Summary", {}).get("S3Object") if versions else None
            if where is None:
                raise ResourceNotFoundException(f"Version '{version_name}' has no evaluation (yet).")
            try:
                found = json.loads(self.service.engine.bucket_object(where["Bucket"], where["Name"]))
            except ValueError:
                raise InvalidS3ObjectException("The version's evaluation summary is not JSON.") from None
            return {name: found[name] for name in EVALUATION_MEMBERS if name in found}

        return await self._read_only(request, summary)

    def _caller(self, request: Request) -> Caller | None:
        session = self._session(request)
        if session is None:
            return None
        return Caller(request_id=str(uuid.uuid4()), account_id=session.account_id, region=session.region)

    async def bucket_image(self, request: Request) -> Response:
        """An image of a bucket (`?Name=<key>`), for the page to draw on: the operation itself reads it through
        `S3Object`, so the bytes never travel back up from the page."""
        bucket, name = request.path_params["bucket"], request.query_params.get("Name", "")
        request_id = str(uuid.uuid4())
        if self._session(request) is None:
            return _error(MissingAuthenticationTokenException("Sign in to the console first."), request_id)
        try:
            data = await asyncio.to_thread(self.service.engine.bucket_object, bucket, name)
        except RekognitionError as error:
            return _error(error, request_id)
        kind = image_type(data)
        if kind is None:
            return _error(InvalidImageFormatException(f"'{name}' is neither a JPEG nor a PNG."), request_id)
        headers = _static_headers() | {"cache-control": "private, no-cache", "content-security-policy": IMAGE_POLICY}
        return Response(data, 200, media_type=kind, headers=headers)

    async def _read_only(self, request: Request, answer: Callable[[], dict[str, Any]]) -> Response:
        """A GET of the console's own (no operation): signed in, answered off the event loop."""
        request_id = str(uuid.uuid4())
        try:
            if self._session(request) is None:
                raise MissingAuthenticationTokenException("Sign in to the console first.")
            response: Response = JSONResponse(
                await asyncio.to_thread(answer), headers={"cache-control": "no-store", "x-amzn-RequestId": request_id}
            )
        except RekognitionError as error:
            response = _error(error, request_id)
        except Exception:
            log.exception("console request %s (%s) failed", request_id, request.url.path)
            response = _error(InternalServerError("Internal server error."), request_id)
        access_log.info("%s console GET %s %d", request_id, request.url.path, response.status_code)
        return response

    async def call(self, request: Request) -> Response:
        """One operation, exactly as `POST /` runs it, for the signed-in key's account and region."""
        request_id = str(uuid.uuid4())
        started = time.perf_counter()
        operation = request.path_params["operation"]
        try:
            session = self._guard(request)
            if operation not in self.service.operation_names:
                raise UnknownOperationException(f"Unknown operation {operation}.")
            with self.service.in_flight.admit():
                timeout_s = self.service.settings.body_timeout_s
                body = await admission.read_body(request, admission.MAX_BODY_BYTES, timeout_s)
                params = protocol.decode_body(body)
                caller = Caller(request_id=request_id, account_id=session.account_id, region=session.region)
                answer = await asyncio.wrap_future(self.service.engine.submit(operation, params, caller))
            response = Response(protocol.encode_body(answer), 200, media_type="application/json")
            response.headers["x-amzn-RequestId"] = request_id
        except RekognitionError as error:
            response = _error(error, request_id)
        except ClientDisconnect:
            access_log.info("%s console %s client disconnected before its body arrived", request_id, operation)
            return Response(status_code=400)
        except Exception:
            log.exception("console request %s (%s) failed", request_id, operation)
            response = _error(InternalServerError("Internal server error."), request_id)
        elapsed_ms = (time.perf_counter() - started) * 1000
        response.headers["server-timing"] = f"reko;dur={elapsed_ms:.1f}"
        access_log.info("%s console %s %d %.1fms", request_id, operation, response.status_code, elapsed_ms)
        return response


def image_type(data: bytes) -> str | None:
    """The media type of JPEG or PNG bytes by their signature (never by the key's suffix); None for anything else."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    return None


@functools.cache
def _package_file(name: str) -> bytes:
    return resources.files("reko.console").joinpath(name).read_bytes()

