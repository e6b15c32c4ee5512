"""Configured temporary credentials (key, secret, session token, expiration) through boto3: served until they
expire, refused after, and only with their own token."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

import pytest
from botocore.exceptions import ClientError

from reko.server.credentials import format_expiration
from tests.conftest import RunningServer, make_client, share_model_cache, start_server, stop_server

VALID = {"access_key_id": "ASIAREKOTEMPVALID001", "secret_access_key": "valid-secret", "session_token": "token-1"}
EXPIRED = {"access_key_id": "ASIAREKOTEMPEXPIRED1", "secret_access_key": "old-secret", "session_token": "token-2"}


@pytest.fixture(scope="module")
def temporary_server(server: RunningServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    data_dir = tmp_path_factory.mktemp("reko-temporary")
    share_model_cache(server, data_dir)
    now = dt.datetime.now(dt.UTC)
    keys = [
        VALID | {"account_id": "111122223333", "expiration": format_expiration(now + dt.timedelta(hours=1))},
        EXPIRED | {"account_id": "111122223333", "expiration": format_expiration(now - dt.timedelta(seconds=1))},
    ]
    (data_dir / "credentials.json").write_text(json.dumps(keys))
    running = start_server(data_dir)
    yield running
    stop_server(running)


def client_of(server: RunningServer, key: dict[str, str], token: str | None = None):  # type: ignore[no-untyped-def]
    return make_client(server.url, key["access_key_id"], key["secret_access_key"],
                       aws_session_token=token or key["session_token"])


def error_of(call) -> tuple[str, int, str]:  # type: ignore[no-untyped-def]
    with pytest.raises(ClientError) as caught:
        call()
    response = caught.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Message"]


def test_temporary_credentials_are_served_before_expiry(temporary_server: RunningServer, astronaut_jpeg: bytes) -> None:
    client = client_of(temporary_server, VALID)
    assert len(client.detect_faces(Image={"Bytes": astronaut_jpeg})["FaceDetails"]) == 1
    arn = client.create_collection(CollectionId="temporary")["CollectionArn"]
    assert ":111122223333:" in arn


def test_expired_temporary_credentials_are_refused(temporary_server: RunningServer, astronaut_jpeg: bytes) -> None:
    client = client_of(temporary_server, EXPIRED)
    assert error_of(lambda: client.detect_faces(Image={"Bytes": astronaut_jpeg})) == (
        "ExpiredTokenException", 403, "The security token included in the request is expired")


@pytest.mark.parametrize("token", ["token-2", "token-1x"])
def test_a_token_not_of_the_key_is_refused(temporary_server: RunningServer, astronaut_jpeg: bytes, token: str) -> None:
    client = client_of(temporary_server, VALID, token=token)
    code, status, _ = error_of(lambda: client.detect_faces(Image={"Bytes": astronaut_jpeg}))
    assert (code, status) == ("UnrecognizedClientException", 403)


def test_temporary_credentials_without_their_token_are_refused(temporary_server: RunningServer) -> None:
    client = make_client(temporary_server.url, VALID["access_key_id"], VALID["secret_access_key"])
    code, status, _ = error_of(lambda: client.list_collections())
    assert (code, status) == ("UnrecognizedClientException", 403)
