"""DetectProtectiveEquipment through the real wire on the CC0 PPE photos: persons, parts, covers, Summary, limits."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import cv2
import httpx
import numpy as np
import pytest
from botocore.exceptions import ClientError

from bench.ppe_sets import hard_hat_images
from reko.operations.ppe.detect import summary
from reko.pipelines.ppe import PersonEquipment
from reko.vision.boxes import iou_matrix
from tests.conftest import SHARED_DATA, RunningServer, jpeg_bytes, needs_shared_data, test_image
from tests.shapes import output_errors
from tests.signing import signed_headers

HARD_HATS = Path("ppe") / "hard_hat_workers" / "images"
MASKS = Path("ppe") / "face_mask_detection" / "images"
HELMETED_PHOTO = HARD_HATS / "hard_hat_workers15.png"
BARE_HEAD_PHOTO = HARD_HATS / "hard_hat_workers271.png"
MASK_PHOTO = MASKS / "maksssksksss264.png"
# Hands labelled glove / bare in bench/labels/hand_cover.csv (training half: the glove head was fitted on them,
# so these check the wiring, not the accuracy; the held-out figures are bench/ppe.py's).
GLOVED_PHOTO = HARD_HATS / "hard_hat_workers120.png"  # two workers, one gloved hand each in view
BARE_HANDS_PHOTO = HARD_HATS / "hard_hat_workers0.png"  # worker 1's right hand is bare (the pose sees it at 61 %)
# A worker neither the person detector nor the face detector finds; the head detector does (at 98 %). A training-half
# photo: this checks the wiring; bench/ppe.py gives the held-out figures.
HEAD_ONLY_PHOTO = HARD_HATS / "hard_hat_workers28.png"


def raw_detect_ppe(server: RunningServer, image: bytes, **members: object) -> dict:
    """The answer as JSON on the wire, before botocore parses (and forgives) it."""
    body = json.dumps({"Image": {"Bytes": base64.b64encode(image).decode()}, **members}).encode()
    headers = signed_headers(server.url, body, "RekognitionService.DetectProtectiveEquipment")
    answer = httpx.post(server.url + "/", content=body, headers=headers, timeout=60)
    assert answer.status_code == 200, answer.text
    return answer.json()


def shared_bytes(relative: Path) -> bytes:
    return (SHARED_DATA / relative).read_bytes()


def parts(person: dict) -> dict[str, dict]:
    return {part["Name"]: part for part in person["BodyParts"]}


@needs_shared_data("ppe")
def test_hard_hats_cover_heads_and_the_answer_has_the_model_shape(server: RunningServer) -> None:
    answer = raw_detect_ppe(server, shared_bytes(HELMETED_PHOTO))
    assert output_errors("DetectProtectiveEquipment", answer) == []
    assert answer["ProtectiveEquipmentModelVersion"] == "reko-ppe-1"
    persons = answer["Persons"]
    assert persons and [person["Id"] for person in persons] == list(range(len(persons)))
    areas = [person["BoundingBox"]["Width"] * person["BoundingBox"]["Height"] for person in persons]
    assert areas == sorted(areas, reverse=True)
    heads = [parts(person)["HEAD"] for person in persons if "HEAD" in parts(person)]
    assert heads
    covered = [detection for head in heads for detection in head["EquipmentDetections"]]
    assert covered and all(detection["Type"] == "HEAD_COVER" for detection in covered)
    assert all(detection["CoversBodyPart"]["Value"] and detection["Confidence"] >= 50 for detection in covered)
    assert all(50 <= person["Confidence"] <= 100 for person in persons)
    hands = [part for person in persons for part in person["BodyParts"] if part["Name"].endswith("_HAND")]
    assert hands and all(d["Type"] == "HAND_COVER" for hand in hands for d in hand["EquipmentDetections"])
    for person in persons:
        names = [part["Name"] for part in person["BodyParts"]]
        assert names == [name for name in ("FACE", "LEFT_HAND", "RIGHT_HAND", "HEAD") if name in names]


@needs_shared_data("ppe")
def test_a_worker_seen_only_by_the_head_detector_is_a_person_with_a_covered_head(rekognition) -> None:
    answer = rekognition.detect_protective_equipment(Image={"Bytes": shared_bytes(HEAD_ONLY_PHOTO)})
    image = next(image for image in hard_hat_images(SHARED_DATA) if image.path.name == HEAD_ONLY_PHOTO.name)
    height, width = cv2.imread(str(image.path)).shape[:2]
    # a person seen as a head alone: no face, no hands (no pose ran), its box the head's (as tight as a real head)
    head_only = [person for person in answer["Persons"] if list(parts(person)) == ["HEAD"]]
    boxes = np.array([[box["Left"] * width, box["Top"] * height, (box["Left"] + box["Width"]) * width,
                       (box["Top"] + box["Height"]) * height] for box in (p["BoundingBox"] for p in head_only)])
    overlaps = iou_matrix(boxes.reshape(-1, 4), image.boxes).max(axis=1)
    head_only = [person for person, overlap in zip(head_only, overlaps, strict=True) if overlap >= 0.5]
    assert head_only
    covers = [d for person in head_only for d in parts(person)["HEAD"]["EquipmentDetections"]]
    assert covers and all(d["Type"] == "HEAD_COVER" and d["CoversBodyPart"]["Value"] for d in covers)


@needs_shared_data("ppe")
def test_a_bare_head_is_not_covered(rekognition) -> None:
    answer = rekognition.detect_protective_equipment(Image={"Bytes": shared_bytes(BARE_HEAD_PHOTO)})
    heads = [parts(person)["HEAD"] for person in answer["Persons"] if "HEAD" in parts(person)]
    assert any(not head["EquipmentDetections"] for head in heads)


@needs_shared_data("ppe")
def test_a_mask_is_a_face_cover_and_the_summary_follows_the_required_types(rekognition) -> None:
    answer = rekognition.detect_protective_equipment(
        Image={"Bytes": shared_bytes(MASK_PHOTO)},
        SummarizationAttributes={"MinConfidence": 60, "RequiredEquipmentTypes": ["FACE_COVER"]},
    )
    faces = [parts(person)["FACE"] for person in answer["Persons"] if "FACE" in parts(person)]
    masks = [d for face in faces for d in face["EquipmentDetections"] if d["Type"] == "FACE_COVER"]
    assert masks and all(d["CoversBodyPart"]["Value"] for d in masks)
    result = answer["Summary"]
    ids = result["PersonsWithRequiredEquipment"] + result["PersonsWithoutRequiredEquipment"]
    assert sorted(ids + result["PersonsIndeterminate"]) == list(range(len(answer["Persons"])))
    assert result["PersonsWithRequiredEquipment"]


@needs_shared_data("ppe")
def test_gloved_hands_list_a_hand_cover_in_the_model_shape(server: RunningServer) -> None:
    answer = raw_detect_ppe(server, shared_bytes(GLOVED_PHOTO))
    assert output_errors("DetectProtectiveEquipment", answer) == []
    gloves = [
        (part, detection) for person in answer["Persons"] for part in person["BodyParts"]
        for detection in part["EquipmentDetections"] if part["Name"].endswith("_HAND")
    ]
    assert gloves
    for part, detection in gloves:
        assert detection["Type"] == "HAND_COVER" and detection["CoversBodyPart"]["Value"] is True
        assert 50 <= detection["Confidence"] == detection["CoversBodyPart"]["Confidence"] <= 100
        assert set(detection["BoundingBox"]) == {"Width", "Height", "Left", "Top"}
        assert 50 <= part["Confidence"] <= 100


@needs_shared_data("ppe")
def test_a_bare_hand_lists_no_cover_and_makes_its_person_without_hand_cover(rekognition) -> None:
    answer = rekognition.detect_protective_equipment(
        Image={"Bytes": shared_bytes(BARE_HANDS_PHOTO)},
        SummarizationAttributes={"MinConfidence": 55, "RequiredEquipmentTypes": ["HAND_COVER"]},
    )
    assert parts(answer["Persons"][1])["RIGHT_HAND"]["EquipmentDetections"] == []
    assert 1 in answer["Summary"]["PersonsWithoutRequiredEquipment"]


def test_a_photo_of_nobody_has_no_persons(server: RunningServer) -> None:
    answer = raw_detect_ppe(
        server, jpeg_bytes(test_image("coffee.png")),
        SummarizationAttributes={"MinConfidence": 80, "RequiredEquipmentTypes": ["HEAD_COVER"]},
    )
    assert output_errors("DetectProtectiveEquipment", answer) == []
    assert answer["Persons"] == []
    assert answer["Summary"] == {
        "PersonsWithRequiredEquipment": [], "PersonsWithoutRequiredEquipment": [], "PersonsIndeterminate": []
    }


@pytest.mark.parametrize(
    ("size", "code"),
    [((63, 200), "InvalidParameterException"), ((4097, 64), "ImageTooLargeException")],
)
def test_image_limits_are_this_operations(rekognition, size: tuple[int, int], code: str) -> None:
    width, height = size
    image = jpeg_bytes(np.full((height, width, 3), 128, np.uint8))
    with pytest.raises(ClientError) as error:
        rekognition.detect_protective_equipment(Image={"Bytes": image})
    assert error.value.response["Error"]["Code"] == code


def test_64_px_is_enough(rekognition) -> None:
    image = jpeg_bytes(np.full((64, 64, 3), 128, np.uint8))
    assert rekognition.detect_protective_equipment(Image={"Bytes": image})["Persons"] == []


def _person(
    confidence: float = 0.9, head: float | None = None, face: float | None = None, left: float | None = None,
    right: float | None = None,
) -> PersonEquipment:
    box = np.array([0, 0, 10, 10], np.float32)
    return PersonEquipment(
        box=box, confidence=confidence,
        head_box=None if head is None else box, head_confidence=0.9, head_covered=head or 0.0,
        face_box=None if face is None else box, face_confidence=0.9, face_covered=face or 0.0,
        left_hand_box=None if left is None else box, left_hand_confidence=0.9, left_hand_covered=left or 0.0,
        right_hand_box=None if right is None else box, right_hand_confidence=0.9, right_hand_covered=right or 0.0,
    )


@pytest.mark.parametrize(
    ("person", "required", "min_confidence", "verdict"),
    [
        (_person(head=0.95), ["HEAD_COVER"], 80, "with"),
        (_person(head=0.05), ["HEAD_COVER"], 80, "without"),
        (_person(head=0.3), ["HEAD_COVER"], 80, "indeterminate"),  # bare at 70 %: under the floor
        (_person(head=0.3), ["HEAD_COVER"], 0, "without"),  # MinConfidence under 50 acts as 50
        (_person(), ["HEAD_COVER"], 50, "indeterminate"),  # head not seen
        (_person(head=0.95, face=0.02), ["HEAD_COVER", "FACE_COVER"], 80, "without"),
        (_person(head=0.95), ["HEAD_COVER", "FACE_COVER"], 80, "indeterminate"),
        (_person(confidence=0.6, head=0.99), ["HEAD_COVER"], 70, "indeterminate"),  # the person is unsure
        (_person(head=0.99), ["HEAD_COVER", "HEAD_COVER"], 90, "with"),
        (_person(head=0.99), [], 50, "indeterminate"),
        (_person(left=0.9, right=0.95), ["HAND_COVER"], 80, "with"),
        (_person(left=0.9), ["HAND_COVER"], 80, "indeterminate"),  # the right hand not seen
        (_person(left=0.9, right=0.1), ["HAND_COVER"], 80, "without"),
        (_person(right=0.1), ["HAND_COVER"], 80, "without"),  # one bare hand seen is enough
        (_person(left=0.6, right=0.6), ["HAND_COVER"], 80, "indeterminate"),
    ],
)
def test_summary_rules(person: PersonEquipment, required: list[str], min_confidence: float, verdict: str) -> None:
    result = summary([person], required, min_confidence)
    key = {"with": "PersonsWithRequiredEquipment", "without": "PersonsWithoutRequiredEquipment",
           "indeterminate": "PersonsIndeterminate"}[verdict]
    assert result[key] == [0]
