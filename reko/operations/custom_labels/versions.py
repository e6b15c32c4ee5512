"""CreateProjectVersion, DescribeProjectVersions, StartProjectVersion, StopProjectVersion, DeleteProjectVersion.

CreateProjectVersion checks the data, snapshots it and queues the training (`reko.jobs`); the answer comes at once
and DescribeProjectVersions shows TRAINING_IN_PROGRESS with the percentage done in StatusMessage, then
TRAINING_COMPLETED (or TRAINING_FAILED with the reason). Starting a model loads a few kB of heads in the same
call, so StartProjectVersion answers STARTING and the version is RUNNING by the next DescribeProjectVersions;
StopProjectVersion answers STOPPING and leaves it STOPPED.
"""

from __future__ import annotations

from typing import Any

from reko.errors import InvalidParameterException, ResourceInUseException
from reko.jobs.training import TrainingFailed, check_training_data
from reko.operations.common.context import OperationContext
from reko.operations.custom_labels.common import (
    DEFAULT_PAGE_SIZE,
    arn_stamp,
    custom_labels_errors,
    read_manifest,
    version_arn,
)
from reko.operations.faces.collections import next_token, token_position
from reko.store.custom_labels import split_for_test
from reko.store.manifests import DatasetEntry
from reko.store.model_versions import ProjectVersion, VersionStateError

VERSIONS_TOKEN = "v"  # NextToken kind of DescribeProjectVersions
STARTABLE = ("TRAINING_COMPLETED", "STOPPED")
STOPPABLE = ("RUNNING", "STARTING")
DELETABLE = ("TRAINING_COMPLETED", "TRAINING_FAILED", "STOPPED", "FAILED")


def create_project_version(request: dict[str, Any], context: OperationContext) -> dict[str, Any]:
    scope = context.caller.scope
    with custom_labels_errors():
        project = context.store.custom_labels.project_by_arn(scope, request["ProjectArn"])
    train, test = _training_data(request, context, project.name)
    try:
        check_training_data(train, test)
    except TrainingFailed as error:
        raise InvalidParameterException(str(error)) from None
    stamp = arn_stamp()
    arn = version_arn(context, project.name, request["VersionName"], stamp)
    kept_keys = ("OutputConfig", "VersionDescription", "TrainingData", "TestingData")
    kept: dict[str, Any] = {key: request[key] for key in kept_keys if key in request}
    version = ProjectVersion(project.name, request["VersionName"], arn, stamp / 1000, "TRAINING_IN_PROGRESS",
                             "The model is being trained.", kept, {}, 0.0, None)
    entries = {"TRAIN": [entry.line for entry in train], "TEST": [entry.line for entry in test]}
    with custom_labels_errors():
        context.store.model_versions.create(scope, version, entries)
    return {"ProjectVersionArn": arn}


def _training_data(
    request: dict[str, Any], context: OperationContext, project_name: str
) -> tuple[list[DatasetEntry], list[DatasetEntry]]:
    """The training and test entries: the manifests of TrainingData / TestingData when given (Rekognition's older
    way), else the project's datasets."""
    training_assets = (request.get("TrainingData") or {}).get("Assets") or []
    testing = request.get("TestingData") or {}
    if training_assets:
        train = [entry for asset in training_assets
                 for entry in read_manifest(context, asset.get("GroundTruthManifest", {}).get("S3Object") or {})]
        if testing.get("AutoCreate"):
            return split_for_test(train)
        test = [entry for asset in testing.get("Assets") or []
                for entry in read_manifest(context, asset.get("GroundTruthManifest", {}).get("S3Object") or {})]
        if not test:
            raise InvalidParameterException("TestingData needs Assets or AutoCreate when TrainingData has Assets")
        return train, test
    scope = context.caller.scope
    store = context.store.custom_labels
    kinds = {dataset.dataset_type for dataset in store.datasets(scope, project_name)}
    for kind in ("TRAIN", "TEST"):
        if kind not in kinds:
            raise InvalidParameterException(
                f"The project has no {kind.lower()} dataset (CreateDataset), and TrainingData gives no manifest")
    return store.entries(scope, project_name, "TRAIN"), store.entries(scope, project_name, "TEST")


def describe_project_versions(request: dict[str, Any], context: OperationContext) -> dict[str, Any]:
    scope = context.caller.scope
    with custom_labels_errors():
        project = context.store.custom_labels.project_by_arn(scope, request["ProjectArn"])
    limit = int(request.get("MaxResults") or DEFAULT_PAGE_SIZE)
    after = token_position(VERSIONS_TOKEN, request.get("NextToken"))
    found = context.store.model_versions.versions(scope, project.name, after, limit + 1, request.get("VersionNames"))
    page = found[:limit]
    answer: dict[str, Any] = {"ProjectVersionDescriptions": [version_description(v) for v in page]}
    if len(found) > limit:
        answer["NextToken"] = next_token(VERSIONS_TOKEN, page[-1].version_name)
    return answer


def version_description(version: ProjectVersion) -> dict[str, Any]:
    """The ProjectVersionDescription shape: members training has not produced yet are left out."""
    message = version.status_message
    if version.status == "TRAINING_IN_PROGRESS":
        message = f"The model is being trained: {version.progress_percent:.0f} % done."
    description: dict[str, Any] = {
        "ProjectVersionArn": version.arn,
        "CreationTimestamp": version.created_at_s,
    }
    if version.min_inference_units is not None:
        description["MinInferenceUnits"] = version.min_inference_units
    description |= {"Status": version.status, "StatusMessage": message}
    trained = version.description
    for key in ("BillableTrainingTimeInSeconds", "TrainingEndTimestamp"):
        if key in trained:
            description[key] = trained[key]
    description["OutputConfig"] = version.request["OutputConfig"]
    for key in ("TrainingDataResult", "TestingDataResult", "EvaluationResult"):
        if key in trained:
            description[key] = {name: value for name, value in trained[key].items() if value}
    if "VersionDescription" in version.request:
        description["VersionDescription"] = version.request["VersionDescription"]
    return description


def start_project_version(request: dict[str, Any], context: OperationContext) -> dict[str, Any]:
    scope = context.caller.scope
    arn = request["ProjectVersionArn"]
    with custom_labels_errors():
        version = context.store.model_versions.by_arn(scope, arn)
        if version.status in STARTABLE:  # load before RUNNING shows, so a broken artefact is an error here
            context.custom_labels.model(arn, lambda: context.store.model_versions.artefact(scope, arn))
        try:
            context.store.model_versions.change_status(scope, arn, STARTABLE, "RUNNING",
                                                       int(request["MinInferenceUnits"]))
        except VersionStateError as error:
            raise ResourceInUseException(
                f"The model version is {error.status}; only a version in {' or '.join(STARTABLE)} can start"
            ) from None
    return {"Status": "STARTING"}


def stop_project_version(request: dict[str, Any], context: OperationContext) -> dict[str, Any]:
    arn = request["ProjectVersionArn"]
    with custom_labels_errors():
        try:
            context.store.model_versions.change_status(context.caller.scope, arn, STOPPABLE, "STOPPED")
        except VersionStateError as error:
            raise ResourceInUseException(f"The model version is {error.status}, not RUNNING") from None
    context.custom_labels.forget(arn)
    return {"Status": "STOPPING"}


def delete_project_version(request: dict[str, Any], context: OperationContext) -> dict[str, Any]:
    """Refused while the version trains or runs, as Rekognition refuses."""
    arn = request["ProjectVersionArn"]
    with custom_labels_errors():
        try:
            context.store.model_versions.delete(context.caller.scope, arn, DELETABLE)
        except VersionStateError as error:
            raise ResourceInUseException(
                f"The model version is {error.status}; stop it (or let training end) before deleting it"
            ) from None
    context.custom_labels.forget(arn)
    return {"Status": "DELETING"}
