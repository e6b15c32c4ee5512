"""SigV4 failures answer as AWS JSON services do (403), and the service keeps running."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from reko.config import DEV_ACCESS_KEY_ID
from tests.conftest import RunningServer, make_client
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


def test_service_still_serves_after_auth_failures(rekognition, astronaut_jpeg: bytes) -> None:
    assert DEV_ACCESS_KEY_ID.startswith("AKIA")
    assert len(rekognition.detect_faces(Image={"Bytes": astronaut_jpeg})["FaceDetails"]) == 1
