"""Parsing answers into `reko.client`'s entities, without a server: hand-written answers shaped per botocore's
service model (checked against it), absent members, broken answers, errors, image inputs, enums."""

from __future__ import annotations

import datetime as dt
from typing import Any

import boto3
import numpy as np
import pytest

from reko.client import (
    AwsRegion,
    BoundingBox,
    CoversBodyPart,
    DescribeCollectionResult,
    DetectCustomLabelsResult,
    DetectFacesResult,
    DetectProtectiveEquipmentResult,
    Face,
    InvalidParameterException,
    NotImplementedException,
    Point,
    QualityFilter,
    RekoError,
    ResponseParseError,
    S3Location,
    Smile,
)
from reko.client.errors import ERRORS_BY_CODE, error_from_response
from reko.client.images import image_member
from reko.validation import service_model
from tests.shapes import output_errors


def box(left: float, top: float, width: float, height: float) -> dict[str, float]:
    return {"Width": width, "Height": height, "Left": left, "Top": top}


# Two persons: the first wears a helmet that covers the head and a mask below the nose (found, not covering);
# the second shows only a head with nothing on it. Shaped as DetectProtectiveEquipmentResponse.
PPE_ANSWER: dict[str, Any] = {
    "ProtectiveEquipmentModelVersion": "1.0",
    "Persons": [
        {
            "Id": 0, "Confidence": 99.1, "BoundingBox": box(0.1, 0.1, 0.4, 0.8),
            "BodyParts": [
                {
                    "Name": "HEAD", "Confidence": 98.0,
                    "EquipmentDetections": [{
                        "Type": "HEAD_COVER", "Confidence": 97.5, "BoundingBox": box(0.2, 0.1, 0.2, 0.1),
                        "CoversBodyPart": {"Value": True, "Confidence": 96.0},
                    }],
                },
                {
                    "Name": "FACE", "Confidence": 95.0,
                    "EquipmentDetections": [{
                        "Type": "FACE_COVER", "Confidence": 90.0, "BoundingBox": box(0.22, 0.3, 0.16, 0.08),
                        "CoversBodyPart": {"Value": False, "Confidence": 88.0},
                    }],
                },
                {"Name": "LEFT_HAND", "Confidence": 70.0, "EquipmentDetections": []},
            ],
        },
        {
            "Id": 1, "Confidence": 93.0, "BoundingBox": box(0.6, 0.2, 0.3, 0.7),
            "BodyParts": [{"Name": "HEAD", "Confidence": 91.0, "EquipmentDetections": []}],
        },
    ],
    "Summary": {
        "PersonsWithRequiredEquipment": [0], "PersonsWithoutRequiredEquipment": [1], "PersonsIndeterminate": [],
    },
}

# An object-detection model's answer (box and polygon) and an image-classification model's (no geometry).
CUSTOM_LABELS_ANSWER: dict[str, Any] = {
    "CustomLabels": [
        {
            "Name": "scratch", "Confidence": 87.25,
            "Geometry": {
                "BoundingBox": box(0.3, 0.4, 0.2, 0.1),
                "Polygon": [{"X": 0.3, "Y": 0.4}, {"X": 0.5, "Y": 0.4}, {"X": 0.5, "Y": 0.5}, {"X": 0.3, "Y": 0.5}],
            },
        },
        {"Name": "defective", "Confidence": 64.0},
    ],
}


def test_the_hand_written_answers_are_shaped_as_the_service_model_says() -> None:
    assert output_errors("DetectProtectiveEquipment", PPE_ANSWER) == []
    assert output_errors("DetectCustomLabels", CUSTOM_LABELS_ANSWER) == []


def test_a_ppe_answer_parses_into_persons_body_parts_and_equipment() -> None:
    result = DetectProtectiveEquipmentResult.from_api(PPE_ANSWER)
    assert result.model_version == "1.0"
    first, second = result.persons
    assert (first.id, first.confidence, first.bounding_box) == (0, 99.1, BoundingBox(0.4, 0.8, 0.1, 0.1))
    assert [part.name for part in first.body_parts or ()] == ["HEAD", "FACE", "LEFT_HAND"]
    head, face, hand = first.body_parts or ()
    (helmet,) = head.equipment_detections or ()
    assert helmet.type == "HEAD_COVER" and helmet.confidence == 97.5
    assert helmet.covers_body_part == CoversBodyPart(value=True, confidence=96.0)
    (mask,) = face.equipment_detections or ()
    assert mask.covers_body_part is not None and mask.covers_body_part.value is False
    assert hand.equipment_detections == ()
    assert second.id == 1 and [part.name for part in second.body_parts or ()] == ["HEAD"]
    assert result.summary is not None
    assert result.summary.persons_with_required_equipment == (0,)
    assert result.summary.persons_without_required_equipment == (1,)
    assert result.summary.persons_indeterminate == ()


def test_a_ppe_answer_without_a_summary_has_none() -> None:
    result = DetectProtectiveEquipmentResult.from_api({**PPE_ANSWER, "Summary": None})
    assert result.summary is None and len(result.persons) == 2


def test_a_custom_labels_answer_parses_with_and_without_geometry() -> None:
    scratch, defective = DetectCustomLabelsResult.from_api(CUSTOM_LABELS_ANSWER).custom_labels
    assert (scratch.name, scratch.confidence) == ("scratch", 87.25)
    assert scratch.geometry is not None and scratch.geometry.bounding_box == BoundingBox(0.2, 0.1, 0.3, 0.4)
    assert scratch.geometry.polygon is not None
    assert scratch.geometry.polygon.points[2] == Point(0.5, 0.5)
    assert scratch.geometry.polygon.to_pixels(100, 200) == [(30, 80), (50, 80), (50, 100), (30, 100)]
    assert (defective.name, defective.geometry) == ("defective", None)


def test_members_absent_from_an_answer_are_none_never_invented() -> None:
    face = Face.from_api({"BoundingBox": box(0.1, 0.2, 0.3, 0.4), "Confidence": 99.0})
    assert face.smile is None and face.emotions is None and face.landmarks is None and face.age_range is None
    assert Face.from_api({"Smile": {"Value": False, "Confidence": 80.0}}).smile == Smile(False, 80.0)
    assert DetectFacesResult.from_api({}).faces == ()  # an operation's main list reads as empty, not None


@pytest.mark.parametrize(
    ("answer", "complaint"),
    [
        ({"BoundingBox": {"Width": 0.1, "Height": 0.1, "Left": 0.1}}, "Top: missing"),
        ({"BoundingBox": box(0.1, 0.1, "wide", 0.1)}, "Width: expected a number"),  # type: ignore[arg-type]
        ({"Smile": {"Value": "yes", "Confidence": 80.0}}, "Value: expected true or false"),
        ({"Landmarks": {"Type": "nose"}}, "Landmarks: expected a list"),
        ({"Emotions": ["HAPPY"]}, "Emotions: expected a list of objects"),
    ],
)
def test_a_broken_answer_is_a_parse_error_naming_the_member(answer: dict[str, Any], complaint: str) -> None:
    with pytest.raises(ResponseParseError, match=complaint):
        Face.from_api(answer)


def test_a_timestamp_reads_from_botocore_or_from_raw_json() -> None:
    when = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    assert DescribeCollectionResult.from_api({"CreationTimestamp": when}).creation_timestamp == when
    parsed = DescribeCollectionResult.from_api({"CreationTimestamp": when.timestamp()}).creation_timestamp
    assert parsed == when


def test_bounding_box_to_pixels_rounds_and_keeps_ratios_outside_the_image() -> None:
    assert BoundingBox(width=0.25, height=0.5, left=0.5, top=0.25).to_pixels(640, 480) == (320, 120, 480, 360)
    assert BoundingBox(width=0.2, height=0.2, left=-0.05, top=0.9).to_pixels(100, 100) == (-5, 90, 15, 110)


def test_an_error_answer_becomes_the_exception_of_its_name_with_the_request_id() -> None:
    error = error_from_response({
        "Error": {"Code": "InvalidParameterException", "Message": "Request has invalid parameters"},
        "ResponseMetadata": {"RequestId": "abc-123", "HTTPStatusCode": 400},
    })
    assert isinstance(error, InvalidParameterException) and isinstance(error, RekoError)
    assert (error.code, error.message, error.request_id, error.http_status) == (
        "InvalidParameterException", "Request has invalid parameters", "abc-123", 400)
    assert "abc-123" in str(error)
    unknown = error_from_response({"Error": {"Code": "UnrecognizedClientException", "Message": "bad key"}})
    assert type(unknown) is RekoError and unknown.code == "UnrecognizedClientException"
    assert unknown.request_id is None
    assert isinstance(error_from_response({"Error": {"Code": "NotImplementedException"}}), NotImplementedException)


def test_every_exception_of_the_service_model_has_its_class() -> None:
    shapes = service_model().shape_names
    modelled = {name for name in shapes if service_model().shape_for(name).metadata.get("exception")}
    assert modelled <= set(ERRORS_BY_CODE)


def test_the_regions_are_fourteen_rekognition_regions_boto3_knows() -> None:
    assert len(AwsRegion) == 14
    known = set(boto3.session.Session().get_available_regions("rekognition"))
    assert {region.value for region in AwsRegion} <= known
    assert AwsRegion("eu-west-2").display_name == "Europe (London)"


def test_quality_filter_values_are_the_api_enum() -> None:
    enum = service_model().shape_for("QualityFilter").enum
    assert [member.value for member in QualityFilter] == enum


def test_s3_location_and_refused_inputs() -> None:
    expected = {"S3Object": {"Bucket": "b", "Name": "k.jpg", "Version": "v1"}}
    assert image_member(S3Location("b", "k.jpg", "v1")) == expected
    with pytest.raises(TypeError, match="an image is a path"):
        image_member(42)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="uint8"):
        image_member(np.zeros((100, 100, 3), np.float32))
    with pytest.raises(ValueError, match=r"\(H, W, 3\)"):
        image_member(np.zeros((100, 100, 2), np.uint8))


def test_entities_are_immutable_and_hashable() -> None:
    import dataclasses

    result = DetectProtectiveEquipmentResult.from_api(PPE_ANSWER)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.persons[0].id = 7  # type: ignore[misc]
    assert hash(result) == hash(DetectProtectiveEquipmentResult.from_api(PPE_ANSWER))
