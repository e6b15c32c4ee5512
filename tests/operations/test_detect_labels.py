"""DetectLabels through the real wire on real photos: labels, parents, instances, filters, limits, exact shapes."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import httpx
import numpy as np
import pytest
from botocore.exceptions import ClientError

from reko.operations.labels.taxonomy import load_taxonomy
from reko.vision.boxes import iou_matrix
from tests.conftest import SHARED_DATA, RunningServer, jpeg_bytes, needs_shared_data, test_image
from tests.shapes import output_errors
from tests.signing import signed_headers

COCO_IMAGES = Path("objects") / "coco_val2017_first128"
# 000000002006.jpg: a bus filling the middle of the frame, a person at its door and one at the left edge
# (COCO boxes, ratios left/top/width/height from the subset's YOLO labels).
BUS_PHOTO = "000000002006"


def raw_detect_labels(server: RunningServer, image: bytes, **members: object) -> dict:
    """The answer as JSON on the wire, before botocore parses (and forgives) it."""
    body = json.dumps({"Image": {"Bytes": base64.b64encode(image).decode()}, **members}).encode()
    headers = signed_headers(server.url, body, "RekognitionService.DetectLabels")
    answer = httpx.post(server.url + "/", content=body, headers=headers, timeout=60)
    assert answer.status_code == 200, answer.text
    return answer.json()


@pytest.fixture(scope="module")
def chelsea_jpeg() -> bytes:
    return jpeg_bytes(test_image("chelsea.png"))


@pytest.fixture(scope="module")
def coffee_jpeg() -> bytes:
    return jpeg_bytes(test_image("coffee.png"))


def names(answer: dict) -> list[str]:
    return [label["Name"] for label in answer["Labels"]]


def test_cat_photo_answer_is_in_the_model_shape_and_the_taxonomy(server: RunningServer, chelsea_jpeg) -> None:
    answer = raw_detect_labels(server, chelsea_jpeg)
    assert output_errors("DetectLabels", answer) == []
    assert answer["LabelModelVersion"] == "reko-labels-1"
    assert {"Cat", "Pet", "Mammal", "Animal"} <= set(names(answer))
    confidences = [label["Confidence"] for label in answer["Labels"]]
    assert confidences == sorted(confidences, reverse=True) and min(confidences) >= 55
    taxonomy = load_taxonomy()
    for label in answer["Labels"]:
        info = taxonomy.labels[label["Name"]]
        assert [parent["Name"] for parent in label["Parents"]] == list(info.parents)
        assert [category["Name"] for category in label["Categories"]] == list(info.categories)
        assert [alias["Name"] for alias in label["Aliases"]] == list(info.aliases)
        # ancestors are labels too, at least as confident as their descendants
        by_name = {other["Name"]: other["Confidence"] for other in answer["Labels"]}
        assert all(by_name[parent] >= label["Confidence"] for parent in info.parents)
    (cat,) = [label for label in answer["Labels"] if label["Name"] == "Cat"]
    assert cat["Categories"] == [{"Name": "Animals and Pets"}]
    (instance,) = cat["Instances"]
    assert cat["Confidence"] >= instance["Confidence"]
    assert instance["BoundingBox"]["Width"] > 0.5  # the cat fills the photo


def test_coffee_photo_names_the_drink(rekognition, coffee_jpeg: bytes) -> None:
    labels = {label["Name"]: label for label in rekognition.detect_labels(Image={"Bytes": coffee_jpeg})["Labels"]}
    assert {"Espresso", "Cup", "Beverage", "Food"} <= set(labels)
    assert labels["Espresso"]["Categories"] == [{"Name": "Food and Beverage"}]
    assert labels["Cup"]["Instances"]


def test_max_labels_keeps_the_most_confident(server: RunningServer, chelsea_jpeg: bytes) -> None:
    every = raw_detect_labels(server, chelsea_jpeg, MinConfidence=0)
    two = raw_detect_labels(server, chelsea_jpeg, MinConfidence=0, MaxLabels=2)
    assert names(two) == names(every)[:2]
    assert raw_detect_labels(server, chelsea_jpeg, MaxLabels=0)["Labels"] == []


def test_min_confidence_sets_the_floor(server: RunningServer, chelsea_jpeg: bytes) -> None:
    strict = raw_detect_labels(server, chelsea_jpeg, MinConfidence=90)
    loose = raw_detect_labels(server, chelsea_jpeg, MinConfidence=5)
    assert all(label["Confidence"] >= 90 for label in strict["Labels"])
    assert set(names(strict)) < set(names(loose))
    assert all(i["Confidence"] >= 5 for label in loose["Labels"] for i in label["Instances"])


@pytest.mark.parametrize(
    ("filters", "check"),
    [
        ({"LabelInclusionFilters": ["Cat"]}, lambda found: found == ["Cat"]),
        ({"LabelExclusionFilters": ["Cat", "Pet"]},
         lambda found: "Animal" in found and not {"Cat", "Pet"} & set(found)),
        ({"LabelCategoryInclusionFilters": ["Animals and Pets"]}, lambda found: "Cat" in found),
        ({"LabelCategoryExclusionFilters": ["Animals and Pets"]}, lambda found: "Cat" not in found),
        ({"LabelInclusionFilters": ["Cat", "Animal"], "LabelExclusionFilters": ["Animal"]},
         lambda found: found == ["Cat"]),
    ],
)
def test_general_labels_filters(rekognition, chelsea_jpeg: bytes, filters: dict, check) -> None:
    answer = rekognition.detect_labels(
        Image={"Bytes": chelsea_jpeg}, MinConfidence=5, Settings={"GeneralLabels": filters}
    )
    found = names(answer)
    assert check(found), found
    taxonomy = load_taxonomy()
    for category in filters.get("LabelCategoryInclusionFilters", []):
        assert all(category in taxonomy.labels[name].categories for name in found)


def test_image_properties_alone_answers_no_general_labels(server: RunningServer, chelsea_jpeg: bytes) -> None:
    answer = raw_detect_labels(server, chelsea_jpeg, Features=["IMAGE_PROPERTIES"])
    assert answer["Labels"] == []
    assert set(answer["ImageProperties"]) >= {"Quality", "DominantColors", "Foreground", "Background"}
    assert output_errors("DetectLabels", answer) == []


def test_image_properties_of_a_red_and_blue_image(rekognition) -> None:
    """Left 3/4 pure red, right 1/4 pure blue: those two colours, in those shares, biggest first."""
    rgb = np.zeros((200, 400, 3), np.uint8)
    rgb[:, :300] = (255, 0, 0)
    rgb[:, 300:] = (0, 0, 255)
    answer = rekognition.detect_labels(
        Image={"Bytes": jpeg_bytes(rgb, quality=100)}, Features=["IMAGE_PROPERTIES"],
        Settings={"ImageProperties": {"MaxDominantColors": 2}},
    )
    red, blue = answer["ImageProperties"]["DominantColors"]
    assert (red["CSSColor"], red["SimplifiedColor"], red["HexCode"]) == ("red", "red", "#ff0000")
    assert (blue["CSSColor"], blue["SimplifiedColor"]) == ("blue", "blue")
    assert red["PixelPercent"] == pytest.approx(75, abs=2) and blue["PixelPercent"] == pytest.approx(25, abs=2)


def test_both_features_give_instances_their_colours(server: RunningServer, chelsea_jpeg: bytes) -> None:
    answer = raw_detect_labels(server, chelsea_jpeg, Features=["GENERAL_LABELS", "IMAGE_PROPERTIES"])
    instances = [instance for label in answer["Labels"] for instance in label["Instances"]]
    assert instances and all(instance["DominantColors"] for instance in instances)
    assert output_errors("DetectLabels", answer) == []


def test_s3_object_image(rekognition, server: RunningServer, coffee_jpeg: bytes) -> None:
    bucket = server.data_dir / "s3" / "label-photos"
    bucket.mkdir(parents=True, exist_ok=True)
    (bucket / "coffee.jpg").write_bytes(coffee_jpeg)
    answer = rekognition.detect_labels(Image={"S3Object": {"Bucket": "label-photos", "Name": "coffee.jpg"}})
    assert "Espresso" in names(answer)


def test_a_tiny_image_is_refused(rekognition) -> None:
    with pytest.raises(ClientError) as caught:
        rekognition.detect_labels(Image={"Bytes": jpeg_bytes(np.zeros((60, 60, 3), np.uint8))})
    assert caught.value.response["Error"]["Code"] == "InvalidParameterException"


def _yolo_boxes(stem: str, cls: int) -> np.ndarray:
    rows = np.loadtxt(SHARED_DATA / COCO_IMAGES / "labels_yolo" / f"{stem}.txt", ndmin=2)
    rows = rows[rows[:, 0] == cls]
    return np.concatenate([rows[:, 1:3] - rows[:, 3:5] / 2, rows[:, 1:3] + rows[:, 3:5] / 2], axis=1)


def _ratio_xyxy(instances: list[dict]) -> np.ndarray:
    boxes = [i["BoundingBox"] for i in instances]
    return np.array([[b["Left"], b["Top"], b["Left"] + b["Width"], b["Top"] + b["Height"]] for b in boxes])


@needs_shared_data(str(COCO_IMAGES))
def test_bus_photo_gets_bus_and_person_with_instances_in_place(rekognition) -> None:
    photo = (SHARED_DATA / COCO_IMAGES / "images" / f"{BUS_PHOTO}.jpg").read_bytes()
    labels = {label["Name"]: label for label in rekognition.detect_labels(Image={"Bytes": photo})["Labels"]}
    assert {"Bus", "Person", "Vehicle", "Transportation"} <= set(labels)
    bus = _ratio_xyxy(labels["Bus"]["Instances"])
    assert iou_matrix(bus[:1], _yolo_boxes(BUS_PHOTO, 5)).max() > 0.7
    people = _ratio_xyxy(labels["Person"]["Instances"])
    assert len(people) >= 1 and iou_matrix(people, _yolo_boxes(BUS_PHOTO, 0)).max(axis=1).min() > 0.5
    instance_confidences = [i["Confidence"] for i in labels["Person"]["Instances"]]
    assert instance_confidences == sorted(instance_confidences, reverse=True)
    assert labels["Person"]["Confidence"] >= instance_confidences[0]


def test_faces_are_face_instances_where_detect_faces_finds_them(rekognition) -> None:
    """The astronaut's face: a `Face` instance on DetectFaces' box, and Person at least as confident."""
    photo = jpeg_bytes(test_image("astronaut.png"))
    labels = {label["Name"]: label for label in rekognition.detect_labels(Image={"Bytes": photo})["Labels"]}
    face_box = rekognition.detect_faces(Image={"Bytes": photo})["FaceDetails"][0]["BoundingBox"]
    faces = labels["Face"]["Instances"]
    assert len(faces) == 1 and labels["Face"]["Parents"] == [{"Name": "Person"}]
    assert iou_matrix(_ratio_xyxy(faces), _ratio_xyxy([{"BoundingBox": face_box}]))[0, 0] > 0.95
    assert labels["Person"]["Confidence"] >= faces[0]["Confidence"] > 90
