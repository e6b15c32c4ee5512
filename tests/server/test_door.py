"""The door holds against clients that never finish: idle and half-sent connections, giant heads, stalled uploads,
floods of connections and of requests, each refused early and cheaply with an AWS-shaped answer where one fits.

A dedicated server with small limits (conftest.LIMITED_FLAGS) keeps every test under a few seconds.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import RunningServer
from tests.server.conftest import (
    BODY_TIMEOUT_S,
    HEADER_TIMEOUT_S,
    MAX_CONNECTIONS,
    MAX_HEADER_BYTES,
    MAX_IN_FLIGHT,
    closed_within,
    connect,
    head,
    read_response,
    signed_head,
)

BODY = b'{"Image":{"S3Object":{"Bucket":"none","Name":"' + b"x" * 900 + b'.jpg"}}}'
# Fast enough that no timeout of the server could have produced it.
PROMPT_S = 1.0


@contextlib.contextmanager
def stalled_uploads(server: RunningServer, count: int) -> Iterator[list]:
    """`count` signed requests whose body stops after 10 bytes: each holds an in-flight slot."""
    sockets = [connect(server) for _ in range(count)]
    try:
        for sock in sockets:
            sock.sendall(signed_head(server, BODY) + BODY[:10])
        time.sleep(0.3)  # let the server admit them
        yield sockets
    finally:
        for sock in sockets:
            sock.close()


def test_idle_connection_is_closed_after_the_header_timeout(limited_server: RunningServer) -> None:
    with connect(limited_server) as sock:
        waited = closed_within(sock, HEADER_TIMEOUT_S + 3)
    assert waited is not None, "an idle connection stayed open"
    assert waited > HEADER_TIMEOUT_S / 2


def test_head_sent_a_byte_at_a_time_is_closed_at_the_deadline(limited_server: RunningServer) -> None:
    started = time.monotonic()
    with connect(limited_server) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\n")
        with contextlib.suppress(OSError):
            for _ in range(int(HEADER_TIMEOUT_S * 4) + 8):  # keeps trickling well past the deadline
                sock.sendall(b"X-Slow: a\r\n")
                time.sleep(0.25)
        assert closed_within(sock, 1.0) is not None
    assert time.monotonic() - started < HEADER_TIMEOUT_S + 2.5


def test_head_over_the_limit_is_refused_in_aws_shape(limited_server: RunningServer) -> None:
    with connect(limited_server) as sock:
        sock.sendall(head(limited_server, {"X-Pad": "a" * (MAX_HEADER_BYTES + 1024)}, method="GET", path="/health"))
        answer = read_response(sock)
        assert answer.status == 431
        assert answer.json()["__type"] == "RequestHeaderSectionTooLarge"
        assert answer.headers["x-amzn-requestid"]
        assert closed_within(sock, 2.0) is not None


def test_endless_head_is_cut_off_early(limited_server: RunningServer) -> None:
    started = time.monotonic()
    with connect(limited_server) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Pad: ")
        with contextlib.suppress(OSError):
            for _ in range(64):  # up to 4 MiB; the server must stop reading long before
                sock.sendall(b"a" * 65536)
        assert closed_within(sock, 2.0) is not None
    assert time.monotonic() - started < HEADER_TIMEOUT_S
    assert httpx.get(limited_server.url + "/health").status_code == 200


def test_stranger_is_refused_before_any_body_arrives(limited_server: RunningServer) -> None:
    with connect(limited_server) as sock:
        sock.sendall(head(limited_server, {"X-Amz-Target": "RekognitionService.DetectFaces",
                                           "Content-Length": str(8_000_000)}))
        started = time.monotonic()
        answer = read_response(sock)
    assert time.monotonic() - started < PROMPT_S
    assert (answer.status, answer.json()["__type"]) == (403, "MissingAuthenticationTokenException")


def test_stalled_upload_gets_a_timeout_and_is_closed(limited_server: RunningServer) -> None:
    with stalled_uploads(limited_server, 1) as (sock,):
        started = time.monotonic()
        answer = read_response(sock)
        waited = time.monotonic() - started
        assert (answer.status, answer.json()["__type"]) == (408, "RequestTimeoutException")
        assert answer.headers["connection"] == "close"
        assert closed_within(sock, 1.0) is not None
    assert BODY_TIMEOUT_S - 0.5 < waited < BODY_TIMEOUT_S + 2


def test_requests_beyond_the_in_flight_cap_are_throttled_at_the_door(limited_server: RunningServer) -> None:
    with stalled_uploads(limited_server, MAX_IN_FLIGHT), connect(limited_server) as sock:
        sock.sendall(signed_head(limited_server, BODY))  # its body never comes: the answer must not wait for it
        started = time.monotonic()
        answer = read_response(sock)
        throttled_s = time.monotonic() - started
        health = httpx.get(limited_server.url + "/health", timeout=PROMPT_S)
    assert (answer.status, answer.json()["__type"]) == (400, "ThrottlingException")
    assert throttled_s < PROMPT_S
    assert health.status_code == 200


def test_connection_flood_closes_the_longest_idle_and_health_answers(limited_server: RunningServer) -> None:
    extra = 10
    sockets = [connect(limited_server) for _ in range(MAX_CONNECTIONS + extra)]
    opened = time.monotonic()
    try:
        assert httpx.get(limited_server.url + "/health", timeout=PROMPT_S).status_code == 200
        evicted = [closed_within(sock, 0.2) for sock in sockets[:extra]]
        assert all(waited is not None for waited in evicted), "the oldest idle connections were kept"
        assert time.monotonic() - opened < HEADER_TIMEOUT_S, "too slow to tell eviction from the header timeout"
    finally:
        for sock in sockets:
            sock.close()


def test_client_gone_mid_body_is_logged_as_a_disconnect(limited_server: RunningServer) -> None:
    with connect(limited_server) as sock:
        sock.sendall(signed_head(limited_server, BODY) + BODY[:10])
        time.sleep(0.3)
    time.sleep(0.5)
    log = limited_server.log
    assert "client disconnected" in log
    assert "Traceback" not in log
    assert " 500 " not in log


@pytest.mark.parametrize("path", ["/x", "/2016-06-27/faces"])
def test_unknown_path_is_aws_shaped_404(limited_server: RunningServer, path: str) -> None:
    answer = httpx.get(limited_server.url + path)
    assert answer.status_code == 404
    assert answer.json()["__type"] == "UnknownOperationException"
    assert answer.headers["x-amzn-RequestId"]


def test_bytes_that_are_not_http_get_an_aws_shaped_400(limited_server: RunningServer) -> None:
    with connect(limited_server) as sock:
        sock.sendall(b"HELLO / THERE\r\n\r\n")
        answer = read_response(sock)
    assert answer.status == 400
    assert answer.headers["content-type"] == "application/x-amz-json-1.1"
    assert answer.json()["__type"] == "BadRequestException"
    assert answer.headers["x-amzn-requestid"]


def test_keep_alive_connection_survives_past_the_header_timeout_between_requests(
    limited_server: RunningServer,
) -> None:
    """The head deadline must not close a connection that is working: four requests on one socket, each well
    within its deadline, spanning more than the deadline in total."""
    with connect(limited_server) as sock:
        for _ in range(4):
            sock.sendall(head(limited_server, {}, method="GET", path="/health"))
            assert read_response(sock).status == 200
            time.sleep(HEADER_TIMEOUT_S / 2)
