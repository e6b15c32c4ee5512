"""The AWS JSON 1.1 wire, through a real `reko serve` and boto3: targets, bodies, errors, request ids."""

from __future__ import annotations

import json

import httpx
import pytest
from botocore.exceptions import ClientError

from tests.conftest import RunningServer
from tests.signing import signed_headers


def post(server: RunningServer, body: bytes, target: str, **kwargs: object) -> httpx.Response:
    headers = signed_headers(server.url, body, target, **kwargs)  # type: ignore[arg-type]
    return httpx.post(server.url + "/", content=body, headers=headers, timeout=30)


def test_health_reports_ready(server: RunningServer) -> None:
    answer = httpx.get(server.url + "/health")
    assert answer.status_code == 200
    assert answer.json()["status"] == "ready"
    assert answer.json()["models"] in ("loading", "loaded")  # face models are in; the rest may still load


def test_unknown_target_is_unknown_operation(server: RunningServer) -> None:
    answer = post(server, b"{}", "RekognitionService.MakeCoffee")
    assert answer.status_code == 400
    assert answer.json()["__type"] == "UnknownOperationException"
    assert answer.headers["x-amzn-RequestId"]


def test_model_operation_not_built_yet_says_so(rekognition) -> None:
    with pytest.raises(ClientError) as caught:
        rekognition.detect_text(Image={"Bytes": b"\xff\xd8\xff"})
    error = caught.value.response
    assert error["Error"]["Code"] == "NotImplementedException"
    assert "does not implement DetectText" in error["Error"]["Message"]
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 501


def test_malformed_json_is_serialization_error(server: RunningServer) -> None:
    answer = post(server, b"{not json", "RekognitionService.DetectFaces")
    assert answer.status_code == 400
    assert answer.json()["__type"] == "SerializationException"


def test_every_answer_carries_a_request_id(rekognition, astronaut_jpeg: bytes) -> None:
    answer = rekognition.detect_faces(Image={"Bytes": astronaut_jpeg})
    assert answer["ResponseMetadata"]["RequestId"]
    assert answer["ResponseMetadata"]["HTTPHeaders"]["content-type"] == "application/x-amz-json-1.1"


def test_enum_violation_names_the_field(rekognition, astronaut_jpeg: bytes) -> None:
    with pytest.raises(rekognition.exceptions.InvalidParameterException) as caught:
        rekognition.detect_faces(Image={"Bytes": astronaut_jpeg}, Attributes=["EVERYTHING"])
    message = caught.value.response["Error"]["Message"]
    assert "Value 'EVERYTHING' at 'attributes.1.member' failed to satisfy constraint" in message


def test_missing_image_is_invalid_parameter(server: RunningServer) -> None:
    answer = post(server, json.dumps({"Attributes": ["ALL"]}).encode(), "RekognitionService.DetectFaces")
    assert answer.status_code == 400
    assert answer.json()["__type"] == "InvalidParameterException"
    assert "at 'image' failed to satisfy constraint: Member must not be null" in answer.json()["Message"]


def test_body_over_limit_is_refused_before_reading(server: RunningServer) -> None:
    body = b'{"Image":{"Bytes":"' + b"A" * (9 * 1024 * 1024) + b'"}}'
    answer = post(server, body, "RekognitionService.DetectFaces")
    assert answer.status_code == 400
    assert answer.json()["__type"] == "ImageTooLargeException"
    assert httpx.get(server.url + "/health").status_code == 200


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"\xff\xfe not utf-8", "SerializationException"),
        (b"[1, 2, 3]", "SerializationException"),
        (b'{"Image": "not a structure"}', "InvalidParameterException"),
        (b'{"Image": {"Bytes": 12}}', "InvalidParameterException"),
        (b'{"Image": {}}', "InvalidParameterException"),
    ],
    ids=["not utf-8", "json array", "image as string", "bytes as number", "empty image"],
)
def test_malformed_requests_get_client_errors(server: RunningServer, body: bytes, code: str) -> None:
    answer = post(server, body, "RekognitionService.DetectFaces")
    assert answer.status_code == 400
    assert answer.json()["__type"] == code


def test_missing_target_is_unknown_operation(server: RunningServer) -> None:
    answer = post(server, b"{}", "")
    assert answer.json()["__type"] == "UnknownOperationException"


def test_get_on_the_api_path_is_not_allowed_in_aws_shape(server: RunningServer) -> None:
    answer = httpx.get(server.url + "/")
    assert answer.status_code == 405
    assert answer.headers["allow"] == "POST"
    assert answer.headers["content-type"] == "application/x-amz-json-1.1"
    assert answer.json()["__type"] == "UnknownOperationException"
    assert answer.headers["x-amzn-RequestId"]


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000 + b"]" * 100_000,
        b'{"Image": ' + b'{"a": ' * 50_000 + b"1" + b"}" * 50_001,
        b'{"MaxFaces": ' + b"7" * 5_000 + b"}",
        b'{"Image": {"Bytes": "AAAA"}, "Attributes": [' + b"1" * 4_000 + b"]}",
        b'{"SimilarityThreshold": NaN}',
    ],
    ids=["array 100k deep", "object 50k deep", "5000-digit integer", "4000-digit integer", "NaN"],
)
def test_bodies_no_member_can_hold_are_serialization_errors(server: RunningServer, body: bytes) -> None:
    answer = post(server, body, "RekognitionService.DetectFaces")
    assert answer.status_code == 400
    assert answer.json()["__type"] == "SerializationException"
