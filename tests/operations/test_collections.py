"""Face collections through the real wire: lifecycle, pagination, account isolation, IndexFaces and searches
on real photos, DeleteFaces, durability across a restart, exact output shapes."""

from __future__ import annotations

import base64
import dataclasses
import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from botocore.exceptions import ClientError

from reko.config import DEV_ACCOUNT_ID
from reko.operations.faces.quality_filter import QUALITY_BARS, FaceMeasures, reasons_failing
from reko.validation import service_model
from tests.conftest import (
    SHARED_DATA,
    RunningServer,
    jpeg_bytes,
    make_client,
    needs_shared_data,
    start_server,
    stop_server,
    test_image,
)
from tests.shapes import output_errors
from tests.signing import signed_headers

LFW = SHARED_DATA / "faces" / "lfw" / "lfw-deepfunneled"
DEFAULT_MEMBERS = {"BoundingBox", "Landmarks", "Pose", "Quality", "Confidence"}
FACE_MEMBERS = {"FaceId", "BoundingBox", "ImageId", "ExternalImageId", "Confidence", "IndexFacesModelVersion"}
# Two accounts of a dedicated server: each key pair belongs to one of them.
ACCOUNTS = [
    {"access_key_id": "AKIAALICEEXAMPLE0001", "secret_access_key": "alice-secret", "account_id": "111111111111"},
    {"access_key_id": "AKIABOBEXAMPLE000002", "secret_access_key": "bob-secret", "account_id": "222222222222"},
]


def lfw_photo(name: str, number: int) -> bytes:
    return (LFW / name / f"{name}_{number:04d}.jpg").read_bytes()


def fresh_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def error_code(caught: pytest.ExceptionInfo[ClientError]) -> str:
    return str(caught.value.response["Error"]["Code"])


def raw_call(server: RunningServer, operation: str, body: dict) -> dict:
    """The answer as JSON on the wire, before botocore parses (and forgives) it."""
    data = json.dumps(body).encode()
    headers = signed_headers(server.url, data, f"RekognitionService.{operation}")
    answer = httpx.post(server.url + "/", content=data, headers=headers, timeout=60)
    assert answer.status_code == 200, answer.text
    result: dict = answer.json()
    assert output_errors(operation, result) == []
    return result


def image_member(image: bytes) -> dict:
    return {"Bytes": base64.b64encode(image).decode()}


@pytest.fixture
def collection(store_client) -> Iterator[str]:
    name = fresh_id("test")
    store_client.create_collection(CollectionId=name)
    yield name
    try:
        store_client.delete_collection(CollectionId=name)
    except ClientError:
        pass


def test_collection_lifecycle_with_exact_shapes(store_server: RunningServer, store_client) -> None:
    name = fresh_id("life")
    created = raw_call(store_server, "CreateCollection", {"CollectionId": name, "Tags": {"team": "door"}})
    assert created == {
        "StatusCode": 200,
        "CollectionArn": f"arn:aws:rekognition:us-east-1:{DEV_ACCOUNT_ID}:collection/{name}",
        "FaceModelVersion": "reko-sface-1",
    }
    with pytest.raises(ClientError) as caught:
        store_client.create_collection(CollectionId=name)
    assert error_code(caught) == "ResourceAlreadyExistsException"
    described = raw_call(store_server, "DescribeCollection", {"CollectionId": name})
    assert described["FaceCount"] == 0 and described["UserCount"] == 0
    assert described["CollectionARN"] == created["CollectionArn"]
    assert store_client.describe_collection(CollectionId=name)["CreationTimestamp"].year >= 2024
    listed = raw_call(store_server, "ListCollections", {"MaxResults": 4096})
    assert name in listed["CollectionIds"] and len(listed["FaceModelVersions"]) == len(listed["CollectionIds"])
    assert store_client.delete_collection(CollectionId=name)["StatusCode"] == 200
    for call in (store_client.describe_collection, store_client.delete_collection):
        with pytest.raises(ClientError) as caught:
            call(CollectionId=name)
        assert error_code(caught) == "ResourceNotFoundException"


def test_list_collections_pages_by_name(store_client) -> None:
    prefix = fresh_id("page")
    names = [f"{prefix}-{number}" for number in range(5)]
    for name in reversed(names):
        store_client.create_collection(CollectionId=name)
    seen: list[str] = []
    arguments: dict = {"MaxResults": 2}
    while True:
        page = store_client.list_collections(**arguments)
        assert len(page["CollectionIds"]) <= 2
        seen.extend(page["CollectionIds"])
        if "NextToken" not in page:
            break
        arguments["NextToken"] = page["NextToken"]
    assert [name for name in seen if name.startswith(prefix)] == names
    assert len(seen) == len(set(seen)) and seen == sorted(seen)
    with pytest.raises(ClientError) as caught:
        store_client.list_collections(NextToken="not-a-token")
    assert error_code(caught) == "InvalidPaginationTokenException"
    for name in names:
        store_client.delete_collection(CollectionId=name)


def test_each_failed_cut_off_names_its_reason() -> None:
    bar = QUALITY_BARS["MEDIUM"]
    crisp = FaceMeasures(sharpness=60, brightness=55, yaw_deg=3, pitch_deg=-2, shorter_side_px=120,
                         confidence_percent=93)
    assert reasons_failing(bar, crisp) == []
    changes = {
        "EXTREME_POSE": {"pitch_deg": -35.0}, "LOW_BRIGHTNESS": {"brightness": 95.0},
        "LOW_SHARPNESS": {"sharpness": 4.0}, "LOW_CONFIDENCE": {"confidence_percent": 75.0},
        "SMALL_BOUNDING_BOX": {"shorter_side_px": 30.0},
    }
    for reason, change in changes.items():
        assert reasons_failing(bar, dataclasses.replace(crisp, **change)) == [reason]
    everything = dataclasses.replace(crisp, **{k: v for change in changes.values() for k, v in change.items()})
    enum = service_model().shape_for("Reasons").member.enum
    assert reasons_failing(bar, everything) == [reason for reason in enum if reason in changes]


def test_index_faces_records_and_reasons(store_server: RunningServer, collection: str, astronaut_rgb) -> None:
    two_faces = jpeg_bytes(np.concatenate([astronaut_rgb, astronaut_rgb[:, ::-1]], axis=1))
    answer = raw_call(store_server, "IndexFaces", {
        "CollectionId": collection, "Image": image_member(two_faces), "MaxFaces": 1, "ExternalImageId": "pair.jpg",
    })
    assert answer["FaceModelVersion"] == "reko-sface-1"
    (record,) = answer["FaceRecords"]
    assert set(record["Face"]) == FACE_MEMBERS and record["Face"]["ExternalImageId"] == "pair.jpg"
    assert set(record["FaceDetail"]) == DEFAULT_MEMBERS
    assert record["Face"]["BoundingBox"] == pytest.approx(record["FaceDetail"]["BoundingBox"])
    (unindexed,) = answer["UnindexedFaces"]
    assert unindexed["Reasons"] == ["EXCEEDS_MAX_FACES"]
    small = np.zeros((640, 640, 3), np.uint8)
    small[:128, :128] = astronaut_rgb[::4, ::4]  # the face shrinks to about 25 px: under AUTO's 40 px floor
    answer = raw_call(store_server, "IndexFaces", {"CollectionId": collection, "Image": image_member(jpeg_bytes(small)),
                                             "DetectionAttributes": ["ALL"]})
    assert answer["FaceRecords"] == []
    (unindexed,) = answer["UnindexedFaces"]
    assert "SMALL_BOUNDING_BOX" in unindexed["Reasons"] and "Gender" in unindexed["FaceDetail"]
    assert raw_call(store_server, "DescribeCollection", {"CollectionId": collection})["FaceCount"] == 1


def test_list_and_delete_faces(store_server: RunningServer, store_client, collection: str, astronaut_jpeg) -> None:
    face_ids = []
    for _ in range(3):
        (record,) = store_client.index_faces(CollectionId=collection, Image={"Bytes": astronaut_jpeg})["FaceRecords"]
        face_ids.append(record["Face"]["FaceId"])
    listed: list[str] = []
    arguments: dict = {"CollectionId": collection, "MaxResults": 2}
    while True:
        page = raw_call(store_server, "ListFaces", arguments)
        listed.extend(face["FaceId"] for face in page["Faces"])
        if "NextToken" not in page:
            break
        arguments["NextToken"] = page["NextToken"]
    assert listed == sorted(face_ids)
    only = store_client.list_faces(CollectionId=collection, FaceIds=face_ids[:1])["Faces"]
    assert [face["FaceId"] for face in only] == face_ids[:1]
    stranger = str(uuid.uuid4())
    answer = raw_call(store_server, "DeleteFaces", {"CollectionId": collection, "FaceIds": [face_ids[0], stranger]})
    assert answer == {
        "DeletedFaces": [face_ids[0]],
        "UnsuccessfulFaceDeletions": [{"FaceId": stranger, "Reasons": ["FACE_NOT_FOUND"]}],
    }
    assert store_client.describe_collection(CollectionId=collection)["FaceCount"] == 2


@needs_shared_data("faces", "lfw", "lfw-deepfunneled")
def test_search_finds_the_same_person_only(store_server: RunningServer, store_client, collection: str) -> None:
    indexed = {}
    for name in ("Akhmed_Zakayev", "Abel_Pacheco", "Afton_Smith"):
        answer = store_client.index_faces(
            CollectionId=collection, Image={"Bytes": lfw_photo(name, 1)}, ExternalImageId=f"{name}_0001.jpg",
            MaxFaces=1,
        )
        indexed[name] = answer["FaceRecords"][0]["Face"]["FaceId"]
    same = raw_call(store_server, "SearchFacesByImage", {"CollectionId": collection,
                                                   "Image": image_member(lfw_photo("Akhmed_Zakayev", 3))})
    assert [match["Face"]["FaceId"] for match in same["FaceMatches"]] == [indexed["Akhmed_Zakayev"]]
    assert same["FaceMatches"][0]["Similarity"] >= 80 and same["SearchedFaceConfidence"] > 90
    stranger = store_client.search_faces_by_image(CollectionId=collection,
                                                 Image={"Bytes": lfw_photo("Donna_Morrissey", 1)})
    assert stranger["FaceMatches"] == []
    everyone = store_client.search_faces_by_image(
        CollectionId=collection, Image={"Bytes": lfw_photo("Akhmed_Zakayev", 3)}, FaceMatchThreshold=0, MaxFaces=2
    )["FaceMatches"]
    assert len(everyone) == 2 and everyone[0]["Similarity"] >= everyone[1]["Similarity"]
    second = store_client.index_faces(CollectionId=collection, Image={"Bytes": lfw_photo("Akhmed_Zakayev", 3)})
    second_id = second["FaceRecords"][0]["Face"]["FaceId"]
    by_id = raw_call(store_server, "SearchFaces", {"CollectionId": collection, "FaceId": indexed["Akhmed_Zakayev"]})
    assert by_id["SearchedFaceId"] == indexed["Akhmed_Zakayev"]
    assert [match["Face"]["FaceId"] for match in by_id["FaceMatches"]] == [second_id]
    store_client.delete_faces(CollectionId=collection, FaceIds=[indexed["Akhmed_Zakayev"], second_id])
    after = store_client.search_faces_by_image(CollectionId=collection,
                                              Image={"Bytes": lfw_photo("Akhmed_Zakayev", 3)})
    assert after["FaceMatches"] == []


def test_search_errors(store_client, collection: str, astronaut_rgb) -> None:
    with pytest.raises(ClientError) as caught:
        store_client.search_faces_by_image(CollectionId=collection,
                                          Image={"Bytes": jpeg_bytes(np.zeros_like(astronaut_rgb))})
    assert error_code(caught) == "InvalidParameterException"
    with pytest.raises(ClientError) as caught:
        store_client.search_faces(CollectionId=collection, FaceId=str(uuid.uuid4()))
    assert error_code(caught) == "InvalidParameterException"
    with pytest.raises(ClientError) as caught:
        store_client.search_faces_by_image(CollectionId=fresh_id("absent"), Image={"Bytes": b"\xff\xd8\xff"})
    assert error_code(caught) == "ResourceNotFoundException"


def two_account_server(data_dir: Path, *flags: str) -> RunningServer:
    (data_dir / "credentials.json").write_text(json.dumps(ACCOUNTS))
    return start_server(data_dir, *flags)


def client_of(server: RunningServer, account: dict):
    return make_client(server.url, account["access_key_id"], account["secret_access_key"])


def test_accounts_are_isolated_and_faces_survive_a_restart(tmp_path: Path, backend_flags: tuple[str, ...]) -> None:
    astronaut = jpeg_bytes(test_image("astronaut.png"))
    first = two_account_server(tmp_path, *backend_flags)
    try:
        alice, bob = (client_of(first, account) for account in ACCOUNTS)
        arn = alice.create_collection(CollectionId="staff")["CollectionArn"]
        assert arn == "arn:aws:rekognition:us-east-1:111111111111:collection/staff"
        face_id = alice.index_faces(CollectionId="staff", Image={"Bytes": astronaut})["FaceRecords"][0]["Face"][
            "FaceId"]
        assert bob.list_collections()["CollectionIds"] == []
        for call in (bob.describe_collection, bob.delete_collection, bob.list_faces):
            with pytest.raises(ClientError) as caught:
                call(CollectionId="staff")
            assert error_code(caught) == "ResourceNotFoundException"
        assert bob.create_collection(CollectionId="staff")["CollectionArn"].endswith(":222222222222:collection/staff")
        assert bob.describe_collection(CollectionId="staff")["FaceCount"] == 0
    finally:
        stop_server(first)
    second = two_account_server(tmp_path, *backend_flags)
    try:
        alice = client_of(second, ACCOUNTS[0])
        assert [face["FaceId"] for face in alice.list_faces(CollectionId="staff")["Faces"]] == [face_id]
        (match,) = alice.search_faces_by_image(CollectionId="staff", Image={"Bytes": astronaut})["FaceMatches"]
        assert match["Face"]["FaceId"] == face_id and match["Similarity"] > 99
    finally:
        stop_server(second)
