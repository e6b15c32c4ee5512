"""Validation against botocore's service model: every constraint kind, AWS's message style."""

from __future__ import annotations

import base64

import pytest

from reko.errors import ImageTooLargeException, InvalidParameterException
from reko.validation import service_model, validate_request

IMAGE = {"Bytes": base64.b64encode(b"\xff\xd8\xff data").decode()}


def validate(operation: str, body: dict) -> dict:
    return validate_request(service_model().operation_model(operation), body)


def test_blobs_are_decoded() -> None:
    assert validate("DetectFaces", {"Image": IMAGE})["Image"]["Bytes"] == b"\xff\xd8\xff data"


@pytest.mark.parametrize(
    ("operation", "body", "expected"),
    [
        ("DetectFaces", {}, "Value null at 'image' failed to satisfy constraint: Member must not be null"),
        ("DetectFaces", {"Image": IMAGE, "Attributes": ["X"]}, "Value 'X' at 'attributes.1.member'"),
        ("DetectFaces", {"Image": {"Bytes": "%%%"}}, "at 'image.bytes'"),
        ("DetectFaces", {"Image": IMAGE, "Attributes": "ALL"}, "Member must be a list"),
        ("CompareFaces", {"SourceImage": IMAGE, "TargetImage": IMAGE, "SimilarityThreshold": 101},
         "Member must have value less than or equal to 100"),
        ("CompareFaces", {"SourceImage": IMAGE, "TargetImage": IMAGE, "SimilarityThreshold": "80"},
         "Member must be a number"),
        ("DetectFaces", {"Image": {"S3Object": {"Bucket": "bad bucket!", "Name": "a"}}},
         "Member must satisfy regular expression pattern"),
        ("SearchFaces", {"CollectionId": "c", "FaceId": "f", "MaxFaces": True}, "Member must be an integer"),
        ("DetectFaces", {"Image": {"S3Object": {"Bucket": "photos", "Name": "a\ud800.jpg"}}},
         "Value 'a\\ud800.jpg' at 'image.s3Object.name' failed to satisfy constraint: Member must be valid Unicode"),
        ("DetectFaces", {"Image": IMAGE, "Attributes": ["\udcff"]}, "(no lone surrogates)"),
    ],
)
def test_constraint_violations_name_the_field(operation: str, body: dict, expected: str) -> None:
    with pytest.raises(InvalidParameterException) as caught:
        validate(operation, body)
    assert caught.value.message.startswith("1 validation error detected: ") or "errors detected" in caught.value.message
    assert expected in caught.value.message


def test_several_errors_are_counted() -> None:
    with pytest.raises(InvalidParameterException, match="^2 validation errors detected"):
        validate("DetectFaces", {"Image": {"S3Object": {"Bucket": "b", "Name": ""}}})


def test_image_bytes_over_five_mib_is_too_large() -> None:
    big = base64.b64encode(b"\xff" * (5 * 1024 * 1024 + 1)).decode()
    with pytest.raises(ImageTooLargeException):
        validate("DetectFaces", {"Image": {"Bytes": big}})


def test_unknown_members_are_ignored() -> None:
    assert "Extra" not in validate("DetectFaces", {"Image": IMAGE, "Extra": 1})


@pytest.mark.parametrize(
    ("tags", "valid"),
    [
        ({"team": "vision", "Équipe ünï": "café 42"}, True),  # \p{L}, \p{Z} and \p{N} in the model's pattern
        ({"aws:owner": "x"}, False),  # reserved prefix, refused by the key's negative lookahead
        ({"team": "semi;colon"}, False),
    ],
)
def test_tag_patterns_with_unicode_classes_are_checked(tags: dict[str, str], valid: bool) -> None:
    body = {"CollectionId": "faces", "Tags": tags}
    if valid:
        assert validate("CreateCollection", body)["Tags"] == tags
    else:
        with pytest.raises(InvalidParameterException, match="regular expression pattern"):
            validate("CreateCollection", body)
