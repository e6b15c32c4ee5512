"""CreateDataset, DescribeDataset, DistributeDatasetEntries, ListDatasetEntries, ListDatasetLabels,
UpdateDatasetEntries, DeleteDataset.

Rekognition builds a dataset asynchronously and reports a bad manifest line in the dataset's status; Reko checks
the whole manifest inside the call, so a bad line answers InvalidParameterException with its number and reason
and nothing is created, and a dataset that exists is always CREATE_COMPLETE (or UPDATE_COMPLETE).
"""

from __future__ import annotations

from typing import Any

from reko.errors import InvalidParameterException
from reko.operations.common.context import OperationContext
from reko.operations.custom_labels.common import (
    DEFAULT_PAGE_SIZE,
    arn_stamp,
    custom_labels_errors,
    dataset_arn,
    parse_manifest_text,
    read_manifest,
)
from reko.operations.faces.collections import next_token, token_position
from reko.store.custom_labels import Dataset
from reko.store.manifests import DatasetEntry

ENTRIES_TOKEN = "e"  # NextToken kinds (see collections.next_token)
LABELS_TOKEN = "l"


def create_dataset(request: dict[str, Any], context: OperationContext) -> dict[str, Any]:
    scope = context.caller.scope
    store = context.store.custom_labels
    source = request.get("DatasetSource") or {}
    if "GroundTruthManifest" in source and "DatasetArn" in source:
        raise InvalidParameterException("DatasetSource takes either GroundTruthManifest or DatasetArn, not both")
    with custom_labels_errors():
        project = store.project_by_arn(scope, request["ProjectArn"])
        entries: list[DatasetEntry] = []
        if "GroundTruthManifest" in source:
            entries = read_manifest(context, source["GroundTruthManifest"].get("S3Object") or {})
        elif "DatasetArn" in source:
            copied = store.dataset_by_arn(scope, source["DatasetArn"])
            entries = store.entries(scope, copied.project_name, copied.dataset_type)
        stamp = arn_stamp()
        dataset_type = request["DatasetType"]
        arn = dataset_arn(context, project.name, dataset_type, stamp)
        dataset = Dataset(project.name, dataset_type, arn, stamp / 1000, stamp / 1000, "CREATE_COMPLETE")
        store.create_dataset(scope, dataset, entries)
    return {"DatasetArn": arn}


def describe_dataset(request: dict[str, Any], context: OperationContext) -> dict[str, Any]:
    scope = context.caller.scope
    with custom_labels_errors():
        dataset = context.store.custom_labels.dataset_by_arn(scope, request["DatasetArn"])
    stats, _ = context.store.custom_labels.stats(scope, dataset.project_name, dataset.dataset_type)
    return {
        "DatasetDescription": {
            "CreationTimestamp": dataset.created_at_s,
            "LastUpdatedTimestamp": dataset.updated_at_s,
            "Status": dataset.status,
            "StatusMessage": "The dataset was created successfully." if dataset.status == "CREATE_COMPLETE"
            else "The dataset was updated successfully.",
            "StatusMessageCode": "SUCCESS",
            "DatasetStats": {
                "LabeledEntries": stats.labeled_entries,
                "TotalEntries": stats.total_entries,
                "TotalLabels": stats.total_labels,
                "ErrorEntries": 0,  # a manifest with a bad entry is refused whole
            },
        }
    }


def distribute_dataset_entries(request: dict[str, Any], context: OperationContext) -> dict[str, Any]:
    """Moves 20 % of the training entries (a fixed choice by source-ref) into the project's empty test dataset."""
    scope = context.caller.scope
    store = context.store.custom_labels
    arns = [item["Arn"] for item in request["Datasets"]]
    with custom_labels_errors():
        datasets = [store.dataset_by_arn(scope, arn) for arn in arns]
    kinds = sorted(dataset.dataset_type for dataset in datasets)
    if kinds != ["TEST", "TRAIN"] or datasets[0].project_name != datasets[1].project_name:
        raise InvalidParameterException("Datasets must be the training and the test dataset of one project")
    train = next(dataset for dataset in datasets if dataset.dataset_type == "TRAIN")
    test = next(dataset for dataset in datasets if dataset.dataset_type == "TEST")
    with custom_labels_errors():
        store.distribute(scope, train.arn, test.arn)
    return {}


def list_dataset_entries(request: dict[str, Any], context: OperationContext) -> dict[str, Any]:
    scope = context.caller.scope
    store = context.store.custom_labels
    with custom_labels_errors():
        dataset = store.dataset_by_arn(scope, request["DatasetArn"])
    limit = int(request.get("MaxResults") or DEFAULT_PAGE_SIZE)
    after = token_position(ENTRIES_TOKEN, request.get("NextToken"))
    wanted_labels = set(request.get("ContainsLabels") or [])
    matching = [
        entry for entry in store.entries(scope, dataset.project_name, dataset.dataset_type, after)
        if _matches(entry, request, wanted_labels)
    ]
    page = matching[:limit]
    answer: dict[str, Any] = {"DatasetEntries": [entry.line for entry in page]}
    if len(matching) > limit:
        answer["NextToken"] = next_token(ENTRIES_TOKEN, page[-1].source_ref)
    return answer


def _matches(entry: DatasetEntry, request: dict[str, Any], wanted_labels: set[str]) -> bool:
    if wanted_labels and not wanted_labels.intersection(entry.labels):
        return False
    if "Labeled" in request and request["Labeled"] != entry.labeled:
        return False
    if request.get("HasErrors"):  # no stored entry has errors: a manifest with one is refused whole
        return False
    return request.get("SourceRefContains", "") in entry.source_ref


def list_dataset_labels(request: dict[str, Any], context: OperationContext) -> dict[str, Any]:
    scope = context.caller.scope
    with custom_labels_errors():
        dataset = context.store.custom_labels.dataset_by_arn(scope, request["DatasetArn"])
    _, labels = context.store.custom_labels.stats(scope, dataset.project_name, dataset.dataset_type)
    limit = int(request.get("MaxResults") or DEFAULT_PAGE_SIZE)
    after = token_position(LABELS_TOKEN, request.get("NextToken")) or ""
    remaining = [label for label in labels if label.label > after]
    page = remaining[:limit]
    answer: dict[str, Any] = {
        "DatasetLabelDescriptions": [
            {"LabelName": label.label,
             "LabelStats": {"EntryCount": label.entry_count, "BoundingBoxCount": label.box_count}}
            for label in page
        ]
    }
    if len(remaining) > limit:
        answer["NextToken"] = next_token(LABELS_TOKEN, page[-1].label)
    return answer


def update_dataset_entries(request: dict[str, Any], context: OperationContext) -> dict[str, Any]:
    """Adds the JSON lines of `Changes.GroundTruth`; a line whose source-ref the dataset has replaces that entry."""
    blob = request["Changes"]["GroundTruth"]
    entries = parse_manifest_text(blob if isinstance(blob, bytes) else str(blob).encode(), "Changes.GroundTruth")
    with custom_labels_errors():
        context.store.custom_labels.update_entries(context.caller.scope, request["DatasetArn"], entries)
    return {}


def delete_dataset(request: dict[str, Any], context: OperationContext) -> dict[str, Any]:
    with custom_labels_errors():
        context.store.custom_labels.delete_dataset(context.caller.scope, request["DatasetArn"])
    return {}

