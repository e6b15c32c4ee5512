"""The console's endpoints over plain HTTP: its page, sign-in against the key store, the cookie's flags, CSRF and
Origin checks, refusal when signed out, sign-out that kills the cookie, and answers that are the operation's own."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator

import httpx
import pytest

from reko.config import DEV_ACCESS_KEY_ID, DEV_SECRET_ACCESS_KEY
from reko.server.console import STATIC_TYPES
from reko.server.sign_in_limits import ADDRESS_POLICY, KEY_POLICY
from reko.validation import service_model
from tests.conftest import REPO_ROOT, RunningServer, make_client, share_model_cache, start_server, stop_server
from tests.shapes import shape_errors


def console(server: RunningServer) -> httpx.Client:
    """A client that behaves as the console's page does: same Origin on every request."""
    return httpx.Client(base_url=server.url, headers={"origin": server.url}, timeout=60)


def sign_in(
    client: httpx.Client, secret: str = DEV_SECRET_ACCESS_KEY, key_id: str = DEV_ACCESS_KEY_ID
) -> httpx.Response:
    return client.post("/console/api/session", json={"AccessKeyId": key_id, "SecretAccessKey": secret})


@pytest.fixture
def signed_in(server: RunningServer) -> tuple[httpx.Client, str]:
    client = console(server)
    answer = sign_in(client)
    assert answer.status_code == 200
    return client, answer.json()["csrfToken"]


def test_every_file_of_the_console_package_is_served_and_nothing_else() -> None:
    shipped = {path.name for path in (REPO_ROOT / "reko" / "console").iterdir() if path.is_file()}
    assert shipped - {"__init__.py"} == set(STATIC_TYPES)


def test_the_page_and_its_files_are_served_with_a_strict_policy(server: RunningServer) -> None:
    assert httpx.get(f"{server.url}/console").headers["location"] == "/console/"
    page = httpx.get(f"{server.url}/console/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    for name, kind in [("console.js", "text/javascript"), ("console.css", "text/css"), ("favicon.svg", "image/svg")]:
        assert httpx.get(f"{server.url}/console/{name}").headers["content-type"].startswith(kind)
    for name in ["__init__.py", "..%2Fserver%2Fapp.py", "nothing.js"]:
        assert httpx.get(f"{server.url}/console/{name}").status_code == 404


def test_signed_out_nothing_of_the_api_answers(server: RunningServer, astronaut_jpeg: bytes) -> None:
    client = console(server)
    assert client.get("/console/api/session").json() == {"signedIn": False}
    body = {"Image": {"Bytes": base64.b64encode(astronaut_jpeg).decode()}}
    for answer in [client.post("/console/api/DetectFaces", json=body), client.get("/console/api/operations"),
                   client.post("/console/api/ListCollections", json={}), client.post("/console/api/session/sign-out")]:
        assert answer.status_code == 403
        assert answer.json()["__type"] == "MissingAuthenticationTokenException"


@pytest.mark.parametrize(
    ("key_id", "secret"),
    [(DEV_ACCESS_KEY_ID, "not-the-secret"), ("AKIANOSUCHKEY0000000", DEV_SECRET_ACCESS_KEY), (DEV_ACCESS_KEY_ID, "")],
)
def test_a_wrong_key_is_refused_with_no_cookie(server: RunningServer, key_id: str, secret: str) -> None:
    answer = sign_in(console(server), secret, key_id)
    assert answer.status_code == 403
    assert answer.json() == {
        "__type": "UnrecognizedClientException",
        "Message": "The access key and secret do not match a key of this server.",
    }
    assert "set-cookie" not in answer.headers


def test_sign_in_from_another_origin_is_refused(server: RunningServer) -> None:
    for headers in [{}, {"origin": "http://evil.example"}]:
        answer = httpx.post(f"{server.url}/console/api/session", headers=headers,
                            json={"AccessKeyId": DEV_ACCESS_KEY_ID, "SecretAccessKey": DEV_SECRET_ACCESS_KEY})
        assert answer.status_code == 403 and answer.json()["__type"] == "AccessDeniedException"
        assert "set-cookie" not in answer.headers


def test_the_session_cookie_is_signed_httponly_samesite_strict_and_expires(server: RunningServer) -> None:
    answer = sign_in(console(server))
    cookie = answer.headers["set-cookie"]
    flags = {part.strip().split("=")[0].lower(): part.strip() for part in cookie.split(";")[1:]}
    assert cookie.startswith("reko_console=")
    assert "httponly" in flags and flags["samesite"].lower() == "samesite=strict"
    assert flags["path"] == "Path=/console" and flags["max-age"] == "Max-Age=43200"
    assert DEV_SECRET_ACCESS_KEY not in cookie
    state = answer.json()
    assert state["signedIn"] and state["accountId"] == "000000000000" and state["region"] == "us-east-1"


def test_a_call_needs_the_csrf_token_and_the_same_origin(signed_in: tuple[httpx.Client, str]) -> None:
    client, token = signed_in
    refusals = [
        client.post("/console/api/ListCollections", json={}),
        client.post("/console/api/ListCollections", json={}, headers={"x-reko-csrf": token[:-1] + "x"}),
        client.post("/console/api/ListCollections", json={}, headers={"x-reko-csrf": token, "origin": "http://evil"}),
    ]
    for answer in refusals:
        assert answer.status_code == 403 and answer.json()["__type"] == "AccessDeniedException"
    assert client.post("/console/api/ListCollections", json={}, headers={"x-reko-csrf": token}).status_code == 200


def test_a_tampered_cookie_is_refused(signed_in: tuple[httpx.Client, str]) -> None:
    client, token = signed_in
    value = client.cookies["reko_console"]
    client.cookies.clear()
    client.cookies.set("reko_console", value[:-3] + "abc", path="/console")
    answer = client.post("/console/api/ListCollections", json={}, headers={"x-reko-csrf": token})
    assert answer.json()["__type"] == "MissingAuthenticationTokenException"


def test_the_answer_is_the_operations_own_with_its_time(
    server: RunningServer, signed_in: tuple[httpx.Client, str], astronaut_jpeg: bytes
) -> None:
    client, token = signed_in
    params = {"Image": {"Bytes": base64.b64encode(astronaut_jpeg).decode()}, "Attributes": ["ALL"]}
    answer = client.post("/console/api/DetectFaces", json=params, headers={"x-reko-csrf": token})
    assert answer.status_code == 200
    assert answer.headers["server-timing"].startswith("reko;dur=")
    raw = answer.json()
    assert shape_errors(service_model().operation_model("DetectFaces").output_shape, raw) == []
    through_the_api = make_client(server.url).detect_faces(Image={"Bytes": astronaut_jpeg}, Attributes=["ALL"])
    assert [face["BoundingBox"] for face in raw["FaceDetails"]] == [
        face["BoundingBox"] for face in through_the_api["FaceDetails"]
    ]


def test_errors_and_unbuilt_operations_answer_as_the_api_does(signed_in: tuple[httpx.Client, str]) -> None:
    client, token = signed_in
    headers = {"x-reko-csrf": token}
    bad = client.post("/console/api/DetectFaces", json={"Image": {"Bytes": "aGVsbG8="}}, headers=headers)
    assert bad.status_code == 400 and bad.json()["__type"] == "InvalidImageFormatException"
    unknown = client.post("/console/api/NoSuchOperation", json={}, headers=headers)
    assert unknown.status_code == 400 and unknown.json()["__type"] == "UnknownOperationException"
    unbuilt = client.post("/console/api/DetectText", json={}, headers=headers)
    assert unbuilt.status_code == 501 and unbuilt.json()["__type"] == "NotImplementedException"
    built = client.get("/console/api/operations").json()
    assert built["DetectFaces"] and built["ListCollections"] and built["SearchFacesByImage"]


def test_the_api_itself_still_needs_sigv4(server: RunningServer, signed_in: tuple[httpx.Client, str]) -> None:
    client, _ = signed_in
    answer = httpx.post(
        f"{server.url}/", content=b"{}", cookies={"reko_console": client.cookies["reko_console"]},
        headers={"x-amz-target": "RekognitionService.ListCollections", "content-type": "application/x-amz-json-1.1"},
    )
    assert answer.status_code == 403 and answer.json()["__type"] == "MissingAuthenticationTokenException"


def test_sign_out_kills_the_cookie_even_when_replayed(signed_in: tuple[httpx.Client, str]) -> None:
    client, token = signed_in
    value = client.cookies["reko_console"]
    assert client.post("/console/api/session/sign-out").status_code == 403  # CSRF guards sign-out too
    out = client.post("/console/api/session/sign-out", headers={"x-reko-csrf": token})
    assert out.status_code == 200 and "max-age=0" in out.headers["set-cookie"].lower()
    client.cookies.set("reko_console", value, path="/console")
    replayed = client.post("/console/api/ListCollections", json={}, headers={"x-reko-csrf": token})
    assert replayed.status_code == 403 and replayed.json()["__type"] == "MissingAuthenticationTokenException"
    assert json.loads(client.get("/console/api/session").content) == {"signedIn": False}


@pytest.fixture
def own_server(server: RunningServer, tmp_path) -> Iterator[RunningServer]:
    """A server of this test alone: a lockout of 127.0.0.1 must not reach the other tests' server."""
    share_model_cache(server, tmp_path)
    running = start_server(tmp_path)
    yield running
    stop_server(running)


def test_wrong_secrets_lock_out_the_key_and_then_the_address_with_429(own_server: RunningServer) -> None:
    client = console(own_server)
    for _ in range(KEY_POLICY.burst):
        assert sign_in(client, "guess").status_code == 403
    locked = sign_in(client)  # now even the right secret is refused, or guessing would go on
    assert locked.status_code == 429 and "set-cookie" not in locked.headers
    assert locked.json() == {
        "__type": "TooManyRequestsException",
        "Message": f"Too many wrong sign-ins from this address or for this access key: try again in "
                   f"{KEY_POLICY.lockout_s:.0f} s.",
    }
    assert int(locked.headers["retry-after"]) == KEY_POLICY.lockout_s
    for number in range(ADDRESS_POLICY.burst - KEY_POLICY.burst):  # unknown key ids count against the address
        assert sign_in(client, "guess", f"AKIANOSUCHKEY{number:07d}").status_code == 403
    other_key = sign_in(client, "guess", "AKIANOSUCHKEYATALL00")
    assert other_key.status_code == 429 and 0 < int(other_key.headers["retry-after"]) <= ADDRESS_POLICY.lockout_s
    assert make_client(own_server.url).list_collections()["CollectionIds"] == []  # the API itself is not locked
