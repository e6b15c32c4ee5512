"""Custom Labels projects and datasets through the real wire, on SQLite and PostgreSQL: lifecycle, manifests of
both kinds, bad manifests (line number, nothing created), distribution, listings, exact output shapes."""

from __future__ import annotations

import json
import re

import pytest
from botocore.exceptions import ClientError

from tests.conftest import RunningServer
from tests.operations.custom_labels_data import BUCKET, classification_line, detection_line, write_object
from tests.operations.test_collections import error_code, fresh_id, raw_call

PROJECT_ARN = r"arn:aws:rekognition:us-east-1:000000000000:project/{}/\d+"


def manifest(server: RunningServer, lines: list[str]) -> dict:
    key = f"manifests/{fresh_id('m')}.manifest"
    write_object(server, key, ("\n".join(lines) + "\n").encode())
    return {"GroundTruthManifest": {"S3Object": {"Bucket": BUCKET, "Name": key}}}


def test_project_lifecycle_and_shapes(store_server: RunningServer, store_client) -> None:
    name = fresh_id("project")
    arn = raw_call(store_server, "CreateProject", {"ProjectName": name})["ProjectArn"]
    assert re.fullmatch(PROJECT_ARN.format(name), arn)
    with pytest.raises(ClientError) as caught:
        store_client.create_project(ProjectName=name)
    assert error_code(caught) == "ResourceInUseException"
    described = raw_call(store_server, "DescribeProjects", {"ProjectNames": [name]})
    [description] = described["ProjectDescriptions"]
    assert description["ProjectArn"] == arn and description["Status"] == "CREATED"
    assert description["Datasets"] == [] and description["Feature"] == "CUSTOM_LABELS"
    assert raw_call(store_server, "DeleteProject", {"ProjectArn": arn}) == {"Status": "DELETING"}
    assert store_client.describe_projects(ProjectNames=[name])["ProjectDescriptions"] == []
    with pytest.raises(ClientError) as caught:
        store_client.delete_project(ProjectArn=arn)
    assert error_code(caught) == "ResourceNotFoundException"


def test_describe_projects_pages(store_client) -> None:
    names = sorted(fresh_id("page") for _ in range(3))
    for name in names:
        store_client.create_project(ProjectName=name)
    seen: list[str] = []
    token = None
    while True:
        page = store_client.describe_projects(ProjectNames=names, MaxResults=2, **({"NextToken": token} if token
                                                                                   else {}))
        seen += [d["ProjectArn"].split("/")[1] for d in page["ProjectDescriptions"]]
        token = page.get("NextToken")
        if not token:
            break
    assert seen == names


def test_datasets_from_manifests(store_server: RunningServer, store_client) -> None:
    project = store_client.create_project(ProjectName=fresh_id("data"))["ProjectArn"]
    lines = [classification_line(f"s3://{BUCKET}/img{i}.jpg", "helmet" if i % 2 else "head") for i in range(10)]
    lines.append(json.dumps({"source-ref": f"s3://{BUCKET}/unlabeled.jpg"}))
    train = raw_call(store_server, "CreateDataset", {
        "ProjectArn": project, "DatasetType": "TRAIN", "DatasetSource": manifest(store_server, lines)})["DatasetArn"]
    assert train.startswith(project.rsplit("/", 1)[0] + "/dataset/train/")
    test = store_client.create_dataset(ProjectArn=project, DatasetType="TEST")["DatasetArn"]
    with pytest.raises(ClientError) as caught:
        store_client.create_dataset(ProjectArn=project, DatasetType="TEST")
    assert error_code(caught) == "ResourceAlreadyExistsException"

    described = raw_call(store_server, "DescribeDataset", {"DatasetArn": train})["DatasetDescription"]
    assert described["Status"] == "CREATE_COMPLETE"
    assert described["DatasetStats"] == {"LabeledEntries": 10, "TotalEntries": 11, "TotalLabels": 2,
                                         "ErrorEntries": 0}
    labels = raw_call(store_server, "ListDatasetLabels", {"DatasetArn": train})["DatasetLabelDescriptions"]
    assert labels == [{"LabelName": "head", "LabelStats": {"EntryCount": 5, "BoundingBoxCount": 0}},
                      {"LabelName": "helmet", "LabelStats": {"EntryCount": 5, "BoundingBoxCount": 0}}]
    helmets = raw_call(store_server, "ListDatasetEntries", {"DatasetArn": train, "ContainsLabels": ["helmet"],
                                                             "MaxResults": 3})
    assert len(helmets["DatasetEntries"]) == 3 and "NextToken" in helmets
    rest = store_client.list_dataset_entries(DatasetArn=train, ContainsLabels=["helmet"],
                                             NextToken=helmets["NextToken"])
    assert len(rest["DatasetEntries"]) == 2 and "NextToken" not in rest
    unlabeled = store_client.list_dataset_entries(DatasetArn=train, Labeled=False)["DatasetEntries"]
    assert [json.loads(line)["source-ref"] for line in unlabeled] == [f"s3://{BUCKET}/unlabeled.jpg"]

    store_client.distribute_dataset_entries(Datasets=[{"Arn": train}, {"Arn": test}])
    sizes = [store_client.describe_dataset(DatasetArn=arn)["DatasetDescription"]["DatasetStats"]["TotalEntries"]
             for arn in (train, test)]
    assert sizes == [9, 2]  # 20 % of 11, rounded
    with pytest.raises(ClientError) as caught:  # the test dataset is no longer empty
        store_client.distribute_dataset_entries(Datasets=[{"Arn": train}, {"Arn": test}])
    assert error_code(caught) == "InvalidParameterException"

    store_client.update_dataset_entries(DatasetArn=test, Changes={"GroundTruth": (
        classification_line(f"s3://{BUCKET}/new.jpg", "helmet") + "\n").encode()})
    assert store_client.describe_dataset(DatasetArn=test)["DatasetDescription"]["DatasetStats"]["TotalEntries"] == 3
    assert store_client.describe_dataset(DatasetArn=test)["DatasetDescription"]["Status"] == "UPDATE_COMPLETE"
    datasets = store_client.describe_projects(ProjectNames=[project.split("/")[1]])["ProjectDescriptions"][0][
        "Datasets"]
    assert {d["DatasetType"] for d in datasets} == {"TRAIN", "TEST"}

    copy_project = store_client.create_project(ProjectName=fresh_id("copy"))["ProjectArn"]
    copied = store_client.create_dataset(ProjectArn=copy_project, DatasetType="TRAIN",
                                         DatasetSource={"DatasetArn": train})["DatasetArn"]
    assert store_client.describe_dataset(DatasetArn=copied)["DatasetDescription"]["DatasetStats"][
        "TotalEntries"] == 9
    store_client.delete_dataset(DatasetArn=copied)
    with pytest.raises(ClientError) as caught:
        store_client.describe_dataset(DatasetArn=copied)
    assert error_code(caught) == "ResourceNotFoundException"
    store_client.delete_project(ProjectArn=project)  # datasets go with it
    with pytest.raises(ClientError) as caught:
        store_client.describe_dataset(DatasetArn=train)
    assert error_code(caught) == "ResourceNotFoundException"


def test_detection_manifest_counts_boxes(store_server: RunningServer, store_client) -> None:
    project = store_client.create_project(ProjectName=fresh_id("boxes"))["ProjectArn"]
    classes = {"helmet": 0, "head": 1}
    lines = [
        detection_line(f"s3://{BUCKET}/a.png", (416, 416), [("helmet", 10, 10, 30, 30), ("head", 50, 50, 20, 20)],
                       classes),
        detection_line(f"s3://{BUCKET}/b.png", (416, 416), [("helmet", 100, 10, 30, 30)], classes),
    ]
    train = store_client.create_dataset(ProjectArn=project, DatasetType="TRAIN",
                                        DatasetSource=manifest(store_server, lines))["DatasetArn"]
    labels = store_client.list_dataset_labels(DatasetArn=train)["DatasetLabelDescriptions"]
    assert labels == [{"LabelName": "head", "LabelStats": {"EntryCount": 1, "BoundingBoxCount": 1}},
                      {"LabelName": "helmet", "LabelStats": {"EntryCount": 2, "BoundingBoxCount": 2}}]


BAD_LINES = [
    ("{not json", 2, "not valid JSON"),
    (json.dumps({"class": 1}), 2, "missing source-ref"),
    (json.dumps({"source-ref": "https://x/y.jpg"}), 2, "not an S3 URL"),
    (json.dumps({"source-ref": "s3://b/y.jpg", "c": 1, "c-metadata": {"type": "groundtruth/video"}}), 2,
     "has type 'groundtruth/video'"),
    (detection_line("s3://b/z.png", (100, 100), [("helmet", 90, 90, 30, 30)], {"helmet": 0}), 2, "lies outside"),
    (classification_line(f"s3://{BUCKET}/img0.jpg", "head"), 2, "already appears at line 1"),
]


@pytest.mark.parametrize(("bad", "line", "reason"), BAD_LINES)
def test_bad_manifest_names_the_line_and_creates_nothing(
    store_server: RunningServer, store_client, bad: str, line: int, reason: str
) -> None:
    name = fresh_id("bad")
    project = store_client.create_project(ProjectName=name)["ProjectArn"]
    lines = [classification_line(f"s3://{BUCKET}/img0.jpg", "helmet"), bad,
             classification_line(f"s3://{BUCKET}/img9.jpg", "head")]
    with pytest.raises(ClientError) as caught:
        store_client.create_dataset(ProjectArn=project, DatasetType="TRAIN",
                                    DatasetSource=manifest(store_server, lines))
    assert error_code(caught) == "InvalidParameterException"
    message = caught.value.response["Error"]["Message"]
    assert f"at line {line}: " in message and reason in message, message
    assert store_client.describe_projects(ProjectNames=[name])["ProjectDescriptions"][0]["Datasets"] == []


def test_missing_manifest_and_unknown_arns(store_client) -> None:
    project = store_client.create_project(ProjectName=fresh_id("missing"))["ProjectArn"]
    with pytest.raises(ClientError) as caught:
        store_client.create_dataset(ProjectArn=project, DatasetType="TRAIN", DatasetSource={
            "GroundTruthManifest": {"S3Object": {"Bucket": BUCKET, "Name": "no/such.manifest"}}})
    assert error_code(caught) == "InvalidS3ObjectException"
    with pytest.raises(ClientError) as caught:
        store_client.create_dataset(ProjectArn=project.rsplit("/", 1)[0] + "/1", DatasetType="TRAIN")
    assert error_code(caught) == "ResourceNotFoundException"
    with pytest.raises(ClientError) as caught:  # another account's ARN is not found, never shown
        store_client.describe_dataset(DatasetArn=project.replace("000000000000", "111111111111").rsplit("/", 1)[0]
                                      + "/dataset/train/1")
    assert error_code(caught) == "ResourceNotFoundException"
