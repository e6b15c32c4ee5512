"""SigV4 failures answer as AWS JSON services do (403), and the service keeps running."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from reko.config import DEV_ACCESS_KEY_ID, DEV_SECRET_ACCESS_KEY
from tests.conftest import RunningServer, make_client
from tests.server.conftest import sign_only
from tests.signing import signed_headers


def error_code(call) -> tuple[str, int]:
    with pytest.raises(ClientError) as caught:
        call()
    response = caught.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def test_wrong_secret_is_invalid_signature(server: RunningServer, astronaut_jpeg: bytes) -> None:
    client = make_client(server.url, secret="not-the-secret")
    code = error_code(lambda: client.detect_faces(Image={"Bytes": astronaut_jpeg}))
    assert code == ("InvalidSignatureException", 403)


def test_unknown_key_is_unrecognized_client(server: RunningServer, astronaut_jpeg: bytes) -> None:
    client = make_client(server.url, key_id="AKIAUNKNOWNKEY000000")
    code = error_code(lambda: client.detect_faces(Image={"Bytes": astronaut_jpeg}))
    assert code == ("UnrecognizedClientException", 403)


def test_unsigned_request_is_missing_token(server: RunningServer, astronaut_jpeg: bytes) -> None:
    import boto3

    client = boto3.client(
        "rekognition", endpoint_url=server.url, region_name="us-east-1", config=Config(signature_version=UNSIGNED)
    )
    code = error_code(lambda: client.detect_faces(Image={"Bytes": astronaut_jpeg}))
    assert code == ("MissingAuthenticationTokenException", 403)


def test_other_regions_are_accepted_by_default(server: RunningServer, astronaut_jpeg: bytes) -> None:
    client = make_client(server.url, region_name="eu-west-3")
    assert "FaceDetails" in client.detect_faces(Image={"Bytes": astronaut_jpeg})


def test_signature_from_twenty_minutes_ago_is_refused(server: RunningServer) -> None:
    body = b'{"Image":{"S3Object":{"Bucket":"none","Name":"x.jpg"}}}'
    old = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(minutes=20)
    headers = signed_headers(server.url, body, "RekognitionService.DetectFaces", when=old)
    answer = httpx.post(server.url + "/", content=body, headers=headers)
    assert answer.status_code == 403
    assert answer.json()["__type"] == "InvalidSignatureException"
    assert "Signature expired" in answer.json()["Message"]


def test_body_changed_after_signing_is_refused(server: RunningServer) -> None:
    body = b'{"Image":{"S3Object":{"Bucket":"none","Name":"x.jpg"}}}'
    headers = signed_headers(server.url, body, "RekognitionService.DetectFaces")
    answer = httpx.post(server.url + "/", content=body.replace(b"x.jpg", b"y.jpg"), headers=headers)
    assert answer.status_code == 403
    assert answer.json()["__type"] == "InvalidSignatureException"


def test_wrong_service_scope_is_refused(server: RunningServer) -> None:
    body = b"{}"
    headers = signed_headers(server.url, body, "RekognitionService.DetectFaces", service="s3")
    answer = httpx.post(server.url + "/", content=body, headers=headers)
    assert answer.status_code == 403
    assert answer.json()["__type"] == "InvalidSignatureException"


def test_lying_content_hash_is_refused(server: RunningServer) -> None:
    body = b'{"Image":{"S3Object":{"Bucket":"none","Name":"x.jpg"}}}'
    headers = signed_headers(
        server.url, body, "RekognitionService.DetectFaces", extra={"X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"}
    )
    answer = httpx.post(server.url + "/", content=body, headers=headers)
    assert answer.status_code == 403
    assert answer.json()["__type"] == "InvalidSignatureException"


def test_only_the_right_secret_is_served(server: RunningServer, rekognition, astronaut_jpeg: bytes) -> None:
    """The same key with a wrong secret is refused every time, before the engine runs, and the right secret is
    served right after: failures neither open the door nor jam it."""
    wrong = make_client(server.url, key_id=DEV_ACCESS_KEY_ID, secret=DEV_SECRET_ACCESS_KEY + "x")
    for _ in range(3):
        assert error_code(lambda: wrong.detect_faces(Image={"Bytes": astronaut_jpeg})) == (
            "InvalidSignatureException", 403)
    assert len(rekognition.detect_faces(Image={"Bytes": astronaut_jpeg})["FaceDetails"]) == 1


def test_target_outside_the_signature_cannot_be_re_aimed(server: RunningServer) -> None:
    """A signature over only host;x-amz-date stays valid whatever X-Amz-Target says: it must be refused."""
    body = b'{"CollectionId":"victims"}'
    headers = sign_only(server.url, body, {"X-Amz-Target": "RekognitionService.DetectFaces"}, ["host", "x-amz-date"])
    headers["X-Amz-Target"] = "RekognitionService.DeleteCollection"
    answer = httpx.post(server.url + "/", content=body, headers=headers)
    assert answer.status_code == 403
    assert answer.json()["__type"] == "InvalidSignatureException"
    assert "'x-amz-target' must be a 'SignedHeader'" in answer.json()["Message"]


def test_session_token_for_a_key_without_one_is_refused(server: RunningServer, astronaut_jpeg: bytes) -> None:
    client = make_client(server.url, aws_session_token="a-token-reko-never-issued")
    code = error_code(lambda: client.detect_faces(Image={"Bytes": astronaut_jpeg}))
    assert code == ("UnrecognizedClientException", 403)


def test_two_authorization_headers_are_refused(server: RunningServer) -> None:
    body = b'{"Image":{"S3Object":{"Bucket":"none","Name":"x.jpg"}}}'
    good = signed_headers(server.url, body, "RekognitionService.DetectFaces")
    other = signed_headers(server.url, body, "RekognitionService.DetectFaces", key_id="AKIAUNKNOWNKEY000000")
    headers = list(good.items()) + [("Authorization", other["Authorization"])]
    answer = httpx.post(server.url + "/", content=body, headers=headers)
    assert answer.status_code == 403
    assert answer.json()["__type"] == "IncompleteSignatureException"
