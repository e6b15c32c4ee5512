"""A `reko serve` with small limits, and raw-socket helpers for what no HTTP client will send."""

from __future__ import annotations

import datetime as dt
import json
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest, HTTPHeaders
from botocore.credentials import Credentials

from reko.config import DEV_ACCESS_KEY_ID, DEV_SECRET_ACCESS_KEY
from tests.conftest import RunningServer, start_server, stop_server
from tests.signing import signed_headers

# Small enough that each limit is reached in well under a second of test time.
LIMITED_FLAGS = {
    "--max-header-bytes": "16384",
    "--header-timeout": "2",
    "--body-timeout": "2",
    "--max-connections": "50",
    "--max-in-flight": "2",
    "--keep-alive-timeout": "2",
}
HEADER_TIMEOUT_S = 2.0
BODY_TIMEOUT_S = 2.0
MAX_CONNECTIONS = 50
MAX_IN_FLIGHT = 2
MAX_HEADER_BYTES = 16384
DEV_KEY = (DEV_ACCESS_KEY_ID, DEV_SECRET_ACCESS_KEY)


@pytest.fixture(scope="session")
def limited_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    flags = [part for pair in LIMITED_FLAGS.items() for part in pair]
    running = start_server(tmp_path_factory.mktemp("reko-limited"), *flags)
    yield running
    stop_server(running)


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict[str, str]:
        return dict(json.loads(self.body))


def connect(server: RunningServer, timeout_s: float = 5.0) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=timeout_s)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def head(server: RunningServer, headers: dict[str, str], method: str = "POST", path: str = "/") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{server.port}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def signed_head(server: RunningServer, body: bytes, target: str = "RekognitionService.DetectFaces") -> bytes:
    """The head of a correctly signed request for `body`, with its Content-Length; the body is the caller's."""
    headers = signed_headers(server.url, body, target)
    return head(server, headers | {"Content-Length": str(len(body))})


def sign_only(
    url: str, body: bytes, headers: dict[str, str], names: list[str], key: tuple[str, str] = DEV_KEY, when: str = ""
) -> dict[str, str]:
    """Headers of a request signed by a client that signs only `names` (lower case; `host` is taken from `url`),
    at `when` (an X-Amz-Date; default now)."""
    request = AWSRequest(method="POST", url=url + "/", data=body, headers=dict(headers))
    signer = SigV4Auth(Credentials(*key), "rekognition", "us-east-1")
    request.context["timestamp"] = when or dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    request.headers["X-Amz-Date"] = request.context["timestamp"]
    chosen = HTTPHeaders()
    for name in names:
        chosen[name] = url.split("//", 1)[1] if name == "host" else request.headers[name]
    signer.headers_to_sign = lambda _request: chosen  # type: ignore[method-assign]
    signature = signer.signature(signer.string_to_sign(request, signer.canonical_request(request)), request)
    request.headers["Authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={signer.scope(request)}, SignedHeaders={';'.join(names)}, Signature={signature}"
    )
    return dict(request.headers.items())


def read_response(sock: socket.socket) -> RawResponse:
    """One HTTP/1.1 response; raises if the connection closes before a whole one arrived."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed before a response head: {data!r}")
        data += chunk
    raw_head, body = data.split(b"\r\n\r\n", 1)
    status_line, *header_lines = raw_head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, value in (line.split(":", 1) for line in header_lines)}
    while len(body) < int(headers.get("content-length", "0")):
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return RawResponse(int(status_line.split()[1]), headers, body)


def closed_within(sock: socket.socket, timeout_s: float) -> float | None:
    """Seconds until the server closed `sock` (reading and dropping anything it sent), or None if it stayed open."""
    started = time.monotonic()
    sock.settimeout(timeout_s)
    try:
        while sock.recv(65536):
            pass
    except TimeoutError:
        return None
    except ConnectionResetError:
        pass
    return time.monotonic() - started
