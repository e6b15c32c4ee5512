"""Custom Labels model versions through the real wire, on SQLite and PostgreSQL: train (boto3's waiters), evaluate,
start, DetectCustomLabels, stop, delete; classification on mask crops and detection on hard-hat photos from
../shared/data/ppe (a few images each, so each test stays well under a minute); raw answers strictly in the model's
shape."""

from __future__ import annotations

import base64
import json

import pytest
from botocore.exceptions import ClientError

from tests.conftest import RunningServer, jpeg_bytes, needs_shared_data
from tests.operations.custom_labels_data import (
    BUCKET,
    HARD_HATS,
    classification_line,
    detection_line,
    mask_crops,
    voc_boxes,
    write_object,
)
from tests.operations.test_collections import error_code, fresh_id, raw_call

FAST_WAIT = {"Delay": 1, "MaxAttempts": 120}
OUTPUT = {"S3Bucket": BUCKET, "S3KeyPrefix": "output/"}


def write_manifest(server: RunningServer, lines: list[str]) -> dict:
    key = f"manifests/{fresh_id('m')}.manifest"
    write_object(server, key, ("\n".join(lines) + "\n").encode())
    return {"GroundTruthManifest": {"S3Object": {"Bucket": BUCKET, "Name": key}}}


def mask_project(server: RunningServer, client, per_label: int = 12) -> tuple[str, list[tuple[bytes, str]]]:
    """A project with TRAIN and TEST datasets of mask crops; the test crops as JPEG with their labels."""
    crops = mask_crops(per_label)
    folder = fresh_id("crops")
    lines = []
    images = []
    for index, (rgb, label) in enumerate(crops):
        data = jpeg_bytes(rgb)
        lines.append(classification_line(write_object(server, f"{folder}/{index}.jpg", data), label))
        images.append((data, label))
    project = client.create_project(ProjectName=fresh_id("masks"))["ProjectArn"]
    test_every = 4  # a quarter of each label held back
    train_lines = [line for index, line in enumerate(lines) if index % test_every]
    test_lines = [line for index, line in enumerate(lines) if not index % test_every]
    for kind, part in (("TRAIN", train_lines), ("TEST", test_lines)):
        client.create_dataset(ProjectArn=project, DatasetType=kind, DatasetSource=write_manifest(server, part))
    return project, [image for index, image in enumerate(images) if not index % test_every]


@needs_shared_data("ppe", "face_mask_detection")
def test_classification_lifecycle(store_server: RunningServer, store_client) -> None:
    project, held_back = mask_project(store_server, store_client)
    arn = store_client.create_project_version(ProjectArn=project, VersionName="v1", OutputConfig=OUTPUT)[
        "ProjectVersionArn"]
    assert arn.startswith(project.rsplit("/", 1)[0] + "/version/v1/")
    with pytest.raises(ClientError) as caught:
        store_client.create_project_version(ProjectArn=project, VersionName="v1", OutputConfig=OUTPUT)
    assert error_code(caught) == "ResourceInUseException"
    with pytest.raises(ClientError) as caught:  # not running yet
        store_client.detect_custom_labels(ProjectVersionArn=arn, Image={"Bytes": held_back[0][0]})
    assert error_code(caught) == "ResourceNotReadyException"
    with pytest.raises(ClientError) as caught:
        store_client.delete_project(ProjectArn=project)
    assert error_code(caught) == "ResourceInUseException"

    store_client.get_waiter("project_version_training_completed").wait(
        ProjectArn=project, VersionNames=["v1"], WaiterConfig=FAST_WAIT)
    [version] = raw_call(store_server, "DescribeProjectVersions", {"ProjectArn": project})[
        "ProjectVersionDescriptions"]
    assert version["Status"] == "TRAINING_COMPLETED", version
    assert 0 <= version["EvaluationResult"]["F1Score"] <= 1  # its value on real data: bench/custom_labels.py
    assert version["BillableTrainingTimeInSeconds"] >= 0 and version["OutputConfig"] == OUTPUT
    summary_object = version["EvaluationResult"]["Summary"]["S3Object"]
    summary = json.loads((store_server.data_dir / "s3" / summary_object["Bucket"] / summary_object["Name"])
                         .read_text())
    assert [item["Label"] for item in summary["LabelEvaluationResults"]] == ["with_mask", "without_mask"]
    assert all(0 <= item["Metrics"]["Threshold"] <= 1 for item in summary["LabelEvaluationResults"])
    testing = version["TestingDataResult"]["Output"]["Assets"][0]["GroundTruthManifest"]["S3Object"]
    assert len((store_server.data_dir / "s3" / BUCKET / testing["Name"]).read_text().splitlines()) == 6

    assert store_client.start_project_version(ProjectVersionArn=arn, MinInferenceUnits=1)["Status"] == "STARTING"
    store_client.get_waiter("project_version_running").wait(
        ProjectArn=project, VersionNames=["v1"], WaiterConfig=FAST_WAIT)
    right = 0
    for data, label in held_back:
        answer = raw_call(store_server, "DetectCustomLabels", {
            "ProjectVersionArn": arn, "Image": {"Bytes": base64.b64encode(data).decode()}})
        names = [found["Name"] for found in answer["CustomLabels"]]
        assert all("Geometry" not in found for found in answer["CustomLabels"])
        right += names[:1] == [label]
    assert right >= len(held_back) // 2
    everything = store_client.detect_custom_labels(ProjectVersionArn=arn, Image={"Bytes": held_back[0][0]},
                                                   MinConfidence=0)["CustomLabels"]
    assert sorted(found["Name"] for found in everything) == ["with_mask", "without_mask"]
    assert everything[0]["Confidence"] >= everything[1]["Confidence"]
    assert len(store_client.detect_custom_labels(ProjectVersionArn=arn, Image={"Bytes": held_back[0][0]},
                                                 MinConfidence=0, MaxResults=1)["CustomLabels"]) == 1

    with pytest.raises(ClientError) as caught:
        store_client.delete_project_version(ProjectVersionArn=arn)
    assert error_code(caught) == "ResourceInUseException"
    assert store_client.stop_project_version(ProjectVersionArn=arn)["Status"] == "STOPPING"
    with pytest.raises(ClientError) as caught:
        store_client.detect_custom_labels(ProjectVersionArn=arn, Image={"Bytes": held_back[0][0]})
    assert error_code(caught) == "ResourceNotReadyException"
    assert store_client.delete_project_version(ProjectVersionArn=arn)["Status"] == "DELETING"
    store_client.delete_project(ProjectArn=project)


def test_training_refuses_data_it_cannot_learn(store_server: RunningServer, store_client) -> None:
    project = store_client.create_project(ProjectName=fresh_id("one-label"))["ProjectArn"]
    with pytest.raises(ClientError) as caught:  # no datasets
        store_client.create_project_version(ProjectArn=project, VersionName="v1", OutputConfig=OUTPUT)
    assert error_code(caught) == "InvalidParameterException"
    lines = [classification_line(f"s3://{BUCKET}/x{i}.jpg", "logo") for i in range(4)]
    for kind in ("TRAIN", "TEST"):
        store_client.create_dataset(ProjectArn=project, DatasetType=kind,
                                    DatasetSource=write_manifest(store_server, lines))
    with pytest.raises(ClientError) as caught:
        store_client.create_project_version(ProjectArn=project, VersionName="v1", OutputConfig=OUTPUT)
    assert error_code(caught) == "InvalidParameterException"
    assert "images without it" in caught.value.response["Error"]["Message"]


def test_unreadable_image_fails_training_with_a_message(store_server: RunningServer, store_client) -> None:
    project = store_client.create_project(ProjectName=fresh_id("missing-images"))["ProjectArn"]
    lines = [classification_line(f"s3://{BUCKET}/nowhere/{i}.jpg", "a" if i % 2 else "b") for i in range(6)]
    arn = store_client.create_project_version(
        ProjectArn=project, VersionName="v1", OutputConfig=OUTPUT,
        TrainingData={"Assets": [write_manifest(store_server, lines)]}, TestingData={"AutoCreate": True},
    )["ProjectVersionArn"]
    with pytest.raises(Exception, match="TRAINING_FAILED"):
        store_client.get_waiter("project_version_training_completed").wait(
            ProjectArn=project, WaiterConfig=FAST_WAIT)
    [version] = store_client.describe_project_versions(ProjectArn=project)["ProjectVersionDescriptions"]
    assert version["Status"] == "TRAINING_FAILED" and "nowhere/" in version["StatusMessage"]
    store_client.delete_project_version(ProjectVersionArn=arn)


def hard_hat_lines(server: RunningServer, count: int, start: int = 0) -> list[str]:
    lines = []
    files = sorted((HARD_HATS / "annotations").glob("*.xml"), key=lambda path: int(path.stem.split("workers")[1]))
    for xml_path in files[start : start + count]:
        size, boxes = voc_boxes(xml_path)
        image = (HARD_HATS / "images" / f"{xml_path.stem}.png").read_bytes()
        source = write_object(server, f"hardhats/{xml_path.stem}.png", image)
        lines.append(detection_line(source, size, [box for box in boxes if box[0] in ("helmet", "head")],
                                    {"helmet": 0, "head": 1}))
    return lines


@needs_shared_data("ppe", "hard_hat_workers")
def test_detection_boxes(store_server: RunningServer, store_client) -> None:
    project = store_client.create_project(ProjectName=fresh_id("hardhats"))["ProjectArn"]
    store_client.create_dataset(ProjectArn=project, DatasetType="TRAIN",
                                DatasetSource=write_manifest(store_server, hard_hat_lines(store_server, 9)))
    store_client.create_dataset(ProjectArn=project, DatasetType="TEST",
                                DatasetSource=write_manifest(store_server, hard_hat_lines(store_server, 2, 9)))
    arn = store_client.create_project_version(ProjectArn=project, VersionName="boxes", OutputConfig=OUTPUT)[
        "ProjectVersionArn"]
    store_client.get_waiter("project_version_training_completed").wait(ProjectArn=project, WaiterConfig=FAST_WAIT)
    store_client.start_project_version(ProjectVersionArn=arn, MinInferenceUnits=1)
    store_client.get_waiter("project_version_running").wait(ProjectArn=project, WaiterConfig=FAST_WAIT)
    image = (HARD_HATS / "images" / "hard_hat_workers0.png").read_bytes()  # a training image: boxes expected
    answer = raw_call(store_server, "DetectCustomLabels", {
        "ProjectVersionArn": arn, "Image": {"Bytes": base64.b64encode(image).decode()},
        "MinConfidence": 0})
    labels = answer["CustomLabels"]
    assert labels and all(found["Name"] in ("helmet", "head") for found in labels)
    for found in labels:
        box = found["Geometry"]["BoundingBox"]
        assert 0 <= box["Left"] <= 1 and 0 <= box["Top"] <= 1 and 0 < box["Width"] <= 1 and 0 < box["Height"] <= 1
    store_client.stop_project_version(ProjectVersionArn=arn)
    store_client.delete_project_version(ProjectVersionArn=arn)
