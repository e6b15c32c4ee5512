"""`RekoClient` against a real `reko serve`: the five actions' entities mirror the raw answers, every image input
kind, errors with their request ids, and the face collection operations end to end."""

from __future__ import annotations

import base64
import io
import re
import uuid
from dataclasses import fields
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from botocore.config import Config
from PIL import Image

from reko.client import (
    AwsRegion,
    Credentials,
    Face,
    InvalidImageFormatException,
    NotImplementedException,
    QualityFilter,
    RekoClient,
    RekoError,
    ResourceNotFoundException,
    S3Location,
)
from reko.config import DEV_ACCESS_KEY_ID, DEV_SECRET_ACCESS_KEY
from reko.validation import service_model, validate_request
from tests.conftest import SHARED_DATA, TEST_IMAGES, RunningServer, jpeg_bytes, needs_shared_data, test_image
from tests.operations.test_detect_faces import raw_detect_faces

ASTRONAUT = TEST_IMAGES / "astronaut.png"
COCO_BUS_PHOTO = SHARED_DATA / "objects" / "coco_val2017_first128" / "images" / "000000002006.jpg"
LFW = SHARED_DATA / "faces" / "lfw" / "lfw-deepfunneled"
ONE_ATTEMPT = Config(retries={"max_attempts": 1, "mode": "standard"})
# PNG inputs reach the server pixel for pixel; a grey copy moves the box by well under a pixel's worth of ratio.
BOX_TOLERANCE = 0.02


@pytest.fixture(scope="module")
def client(server: RunningServer) -> RekoClient:
    return RekoClient(
        server.url, AwsRegion.US_EAST_1, Credentials(DEV_ACCESS_KEY_ID, DEV_SECRET_ACCESS_KEY), config=ONE_ATTEMPT
    )


def api_name(field_name: str) -> str:
    """`eyes_open` → `EyesOpen`: the entity's field named as the answer's member."""
    return "".join(part.capitalize() for part in field_name.split("_"))


def assert_face_mirrors(face: Face, raw: dict[str, Any]) -> None:
    """Each field is None exactly when the raw answer lacks its member, and carries the member's values."""
    for field in fields(Face):
        assert (getattr(face, field.name) is None) == (api_name(field.name) not in raw), field.name
    assert face.bounding_box is not None and face.confidence == raw["Confidence"]
    for key, value in raw["BoundingBox"].items():
        assert getattr(face.bounding_box, key.lower()) == value
    assert [(mark.type, mark.x, mark.y) for mark in face.landmarks or ()] == [
        (mark["Type"], mark["X"], mark["Y"]) for mark in raw["Landmarks"]]
    assert face.pose is not None and (face.pose.roll, face.pose.yaw, face.pose.pitch) == (
        raw["Pose"]["Roll"], raw["Pose"]["Yaw"], raw["Pose"]["Pitch"])


@pytest.mark.parametrize("attributes", [["DEFAULT"], ["ALL"]])
def test_detect_faces_mirrors_the_raw_answer(
    client: RekoClient, server: RunningServer, astronaut_jpeg: bytes, attributes: list[str]
) -> None:
    (raw,) = raw_detect_faces(server, astronaut_jpeg, attributes)["FaceDetails"]
    (face,) = client.detect_faces(astronaut_jpeg, attributes=attributes).faces
    assert_face_mirrors(face, raw)
    if attributes == ["ALL"]:
        assert face.smile is not None and face.smile.value == raw["Smile"]["Value"]
        assert face.gender is not None and face.gender.value == raw["Gender"]["Value"]
        assert [(e.type, e.confidence) for e in face.emotions or ()] == [
            (e["Type"], e["Confidence"]) for e in raw["Emotions"]]
        assert face.age_range is not None and face.age_range.low <= face.age_range.high
        assert face.landmark("nose") is not None and len(face.landmarks or ()) == 30
    else:
        assert face.smile is None and face.emotions is None and len(face.landmarks or ()) == 5


def test_compare_faces_finds_the_astronaut_in_an_altered_copy(client: RekoClient) -> None:
    target = jpeg_bytes(test_image("astronaut.png"), quality=60)
    result = client.compare_faces(ASTRONAUT, target, similarity_threshold=90, quality_filter=QualityFilter.LOW)
    (match,) = result.matches
    assert match.similarity is not None and match.similarity >= 99
    assert match.face is not None and match.face.bounding_box is not None and match.face.landmarks is not None
    assert result.unmatched == ()
    source = result.source_face
    assert source is not None and source.bounding_box is not None and source.confidence is not None
    assert source.landmarks is None and source.pose is None  # ComparedSourceImageFace has box and confidence only


@needs_shared_data("faces", "lfw", "lfw-deepfunneled")
def test_compare_faces_matches_two_photos_of_one_person(client: RekoClient) -> None:
    first, second = (LFW / "Akhmed_Zakayev" / f"Akhmed_Zakayev_{n:04d}.jpg" for n in (1, 3))
    (match,) = client.compare_faces(first, second).matches
    assert match.similarity is not None and match.similarity >= 99


def test_detect_labels_has_parents_and_image_properties_only_when_asked(client: RekoClient) -> None:
    chelsea = test_image("chelsea.png")
    plain = client.detect_labels(chelsea, max_labels=5)
    assert plain.label_model_version == "reko-labels-1" and plain.image_properties is None
    cat = next(label for label in plain.labels if label.name == "Cat")
    assert cat.parents is not None and "Animal" in cat.parents
    assert cat.confidence is not None and cat.confidence >= 55
    both = client.detect_labels(chelsea, max_labels=5, features=["GENERAL_LABELS", "IMAGE_PROPERTIES"])
    assert both.image_properties is not None and both.image_properties.quality is not None
    assert both.image_properties.dominant_colors


@needs_shared_data("objects", "coco_val2017_first128")
def test_detect_labels_instances_of_a_coco_photo(client: RekoClient) -> None:
    labels = {label.name: label for label in client.detect_labels(COCO_BUS_PHOTO).labels}
    bus = labels["Bus"]
    assert bus.parents is not None and {"Vehicle", "Transportation"} <= set(bus.parents)
    assert bus.instances and bus.instances[0].bounding_box is not None
    assert bus.categories is not None and bus.categories


def _astronaut_inputs(server: RunningServer) -> dict[str, Any]:
    bucket = server.data_dir / "s3" / "client-inputs"
    bucket.mkdir(parents=True, exist_ok=True)
    (bucket / "astronaut.png").write_bytes(ASTRONAUT.read_bytes())
    rgb = test_image("astronaut.png")
    return {
        "path str": str(ASTRONAUT), "Path": ASTRONAUT, "bytes": ASTRONAUT.read_bytes(),
        "bytearray": bytearray(ASTRONAUT.read_bytes()), "memoryview": memoryview(ASTRONAUT.read_bytes()),
        "PIL RGB": Image.open(io.BytesIO(ASTRONAUT.read_bytes())), "PIL RGBA": Image.fromarray(rgb).convert("RGBA"),
        "NumPy RGB": rgb, "NumPy grey": np.asarray(Image.fromarray(rgb).convert("L")),
        "NumPy RGBA": np.dstack([rgb, np.full(rgb.shape[:2], 255, np.uint8)]),
        "NumPy Fortran order": np.asfortranarray(rgb), "S3Location": S3Location("client-inputs", "astronaut.png"),
    }


def test_every_input_kind_finds_the_same_face(client: RekoClient, server: RunningServer) -> None:
    (reference,) = client.detect_faces(ASTRONAUT.read_bytes()).faces
    assert reference.bounding_box is not None
    for kind, image in _astronaut_inputs(server).items():
        (face,) = client.detect_faces(image).faces
        assert face.bounding_box is not None, kind
        for side in ("left", "top", "width", "height"):
            got, expected = getattr(face.bounding_box, side), getattr(reference.bounding_box, side)
            assert got == pytest.approx(expected, abs=BOX_TOLERANCE), (kind, side)


def test_an_error_carries_its_name_message_and_request_id(client: RekoClient, server: RunningServer) -> None:
    with pytest.raises(InvalidImageFormatException) as caught:
        client.detect_faces(b"these bytes are no image")
    error = caught.value
    assert isinstance(error, RekoError) and error.code == "InvalidImageFormatException"
    assert error.http_status == 400 and error.message
    assert error.request_id is not None and re.fullmatch(r"[0-9a-f-]{36}", error.request_id)
    assert error.request_id in str(error)
    assert error.request_id in server.log  # the server logged the failure under the same id


def test_a_wrong_key_is_a_reko_error_named_as_aws_names_it(server: RunningServer) -> None:
    stranger = RekoClient(server.url, "us-east-1", Credentials("AKIANOTAKEY000000000", "wrong"), config=ONE_ATTEMPT)
    with pytest.raises(RekoError) as caught:
        stranger.detect_faces(ASTRONAUT)
    assert caught.value.code == "UnrecognizedClientException" and caught.value.request_id


def test_the_collection_operations_end_to_end(client: RekoClient, tmp_path: Path) -> None:
    collection = f"client-{uuid.uuid4().hex[:8]}"
    created = client.create_collection(collection, tags={"team": "vision"})
    assert created.status_code == 200 and created.collection_arn and collection in created.collection_arn
    assert collection in client.list_collections().collection_ids
    indexed = client.index_faces(collection, ASTRONAUT, external_image_id="astronaut",
                                 detection_attributes=["ALL"], quality_filter=QualityFilter.NONE)
    (record,) = indexed.face_records
    assert record.face is not None and record.face.external_image_id == "astronaut" and record.face.face_id
    assert record.face_detail is not None and record.face_detail.smile is not None
    face_id = record.face.face_id
    described = client.describe_collection(collection)
    assert described.face_count == 1 and described.creation_timestamp is not None
    assert [face.face_id for face in client.iter_faces(collection, page_size=1)] == [face_id]
    found = client.search_faces_by_image(collection, jpeg_bytes(test_image("astronaut.png"), quality=70))
    assert found.searched_face_bounding_box is not None
    assert [match.face.face_id for match in found.face_matches if match.face] == [face_id]
    assert client.search_faces(collection, face_id).face_matches == ()  # the face itself is excluded
    deleted = client.delete_faces(collection, [face_id, "11111111-2222-3333-4444-555555555555"])
    assert deleted.deleted_face_ids == (face_id,)
    (kept,) = deleted.unsuccessful_deletions
    assert kept.reasons == ("FACE_NOT_FOUND",)
    assert client.delete_collection(collection) == 200
    with pytest.raises(ResourceNotFoundException) as caught:
        client.describe_collection(collection)
    assert caught.value.request_id


@pytest.mark.parametrize(
    ("operation", "call"),
    [
        ("DetectProtectiveEquipment", lambda client: client.detect_protective_equipment(
            ASTRONAUT, required_equipment=["FACE_COVER", "HEAD_COVER"], min_confidence=70)),
        ("DetectCustomLabels", lambda client: client.detect_custom_labels(
            ASTRONAUT, "arn:aws:rekognition:us-east-1:000000000000:project/parts/version/parts.1/1",
            max_results=5, min_confidence=60)),
    ],
)
def test_ppe_and_custom_labels_send_model_valid_requests(client: RekoClient, operation: str, call: Any) -> None:
    """The request as it leaves boto3 passes Reko's full check against the service model (maximums, enums,
    patterns, which boto3 leaves unchecked). Reko may not implement the operation yet; if it does, the answer parses."""
    sent: list[dict[str, Any]] = []
    event = f"provide-client-params.rekognition.{operation}"
    client.boto3_client.meta.events.register(event, lambda params, **_: sent.append(dict(params)))
    try:
        try:
            call(client)
        except NotImplementedException as error:
            assert operation in error.message and error.request_id
        except ResourceNotFoundException:  # Custom Labels built, but no such model version
            assert operation == "DetectCustomLabels"
    finally:
        client.boto3_client.meta.events.unregister(event)
    (request,) = sent
    wire = {**request, "Image": {"Bytes": base64.b64encode(request["Image"]["Bytes"]).decode()}}  # as JSON sends it
    validate_request(service_model().operation_model(operation), wire)


def test_the_usual_aws_environment_configures_the_client(server: RunningServer, monkeypatch) -> None:
    """No arguments: endpoint, region and keys come from the variables every AWS SDK reads."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL_REKOGNITION", server.url)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", DEV_ACCESS_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", DEV_SECRET_ACCESS_KEY)
    client = RekoClient(config=ONE_ATTEMPT)
    assert client.boto3_client.meta.region_name == "eu-west-1"
    assert len(client.detect_faces(ASTRONAUT).faces) == 1


def test_a_profile_configures_the_client(server: RunningServer, tmp_path: Path, monkeypatch) -> None:
    """`profile=`: endpoint and region from ~/.aws/config's profile, keys from the credentials file."""
    config, credentials = tmp_path / "config", tmp_path / "credentials"
    config.write_text(f"[profile reko]\nregion = ap-south-1\nendpoint_url = {server.url}\n")
    credentials.write_text(
        f"[reko]\naws_access_key_id = {DEV_ACCESS_KEY_ID}\naws_secret_access_key = {DEV_SECRET_ACCESS_KEY}\n"
    )
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_DEFAULT_REGION",
                 "AWS_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_REKOGNITION", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    client = RekoClient(profile="reko", config=ONE_ATTEMPT)
    assert client.boto3_client.meta.region_name == AwsRegion.AP_SOUTH_1.value
    assert len(client.detect_faces(ASTRONAUT).faces) == 1
