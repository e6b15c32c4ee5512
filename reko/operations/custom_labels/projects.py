"""CreateProject, DescribeProjects, DeleteProject, on the caller's account and region."""

from __future__ import annotations

from typing import Any

from reko.errors import InvalidParameterException
from reko.operations.common.context import OperationContext
from reko.operations.custom_labels.common import (
    DEFAULT_PAGE_SIZE,
    arn_stamp,
    custom_labels_errors,
    project_arn,
)
from reko.operations.faces.collections import next_token, token_position
from reko.store.custom_labels import Project

CUSTOM_LABELS = "CUSTOM_LABELS"
PROJECTS_TOKEN = "p"  # NextToken kind of DescribeProjects (see collections.next_token)


def create_project(request: dict[str, Any], context: OperationContext) -> dict[str, Any]:
    feature = request.get("Feature", CUSTOM_LABELS)
    if feature != CUSTOM_LABELS:
        raise InvalidParameterException(f"Reko trains only {CUSTOM_LABELS} projects, not {feature}")
    name = request["ProjectName"]
    stamp = arn_stamp()
    project = Project(name, project_arn(context, name, stamp), stamp / 1000, feature, request.get("AutoUpdate"))
    with custom_labels_errors():
        context.store.custom_labels.create_project(context.caller.scope, project)
    return {"ProjectArn": project.arn}


def describe_projects(request: dict[str, Any], context: OperationContext) -> dict[str, Any]:
    limit = int(request.get("MaxResults") or DEFAULT_PAGE_SIZE)
    features = request.get("Features") or [CUSTOM_LABELS]
    after = token_position(PROJECTS_TOKEN, request.get("NextToken"))
    scope = context.caller.scope
    store = context.store.custom_labels
    found = store.projects(scope, after, limit + 1, request.get("ProjectNames"))
    page = found[:limit]
    descriptions = [project_description(project, context) for project in page if project.feature in features]
    answer: dict[str, Any] = {"ProjectDescriptions": descriptions}
    if len(found) > limit:
        answer["NextToken"] = next_token(PROJECTS_TOKEN, page[-1].name)
    return answer


def project_description(project: Project, context: OperationContext) -> dict[str, Any]:
    datasets = context.store.custom_labels.datasets(context.caller.scope, project.name)
    description: dict[str, Any] = {
        "ProjectArn": project.arn,
        "CreationTimestamp": project.created_at_s,
        "Status": "CREATED",
        "Datasets": [
            {
                "CreationTimestamp": dataset.created_at_s,
                "DatasetType": dataset.dataset_type,
                "DatasetArn": dataset.arn,
                "Status": dataset.status,
                "StatusMessage": "The dataset was created successfully.",
                "StatusMessageCode": "SUCCESS",
            }
            for dataset in datasets
        ],
        "Feature": project.feature,
    }
    if project.auto_update is not None:
        description["AutoUpdate"] = project.auto_update
    return description


def delete_project(request: dict[str, Any], context: OperationContext) -> dict[str, Any]:
    """Deletes the project with its datasets; refused while it has model versions, as Rekognition refuses."""
    with custom_labels_errors():
        context.store.custom_labels.delete_project(context.caller.scope, request["ProjectArn"])
    return {"Status": "DELETING"}
