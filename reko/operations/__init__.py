"""Rekognition semantics: one package per operation family, one snake_case function per operation.

A handler takes the validated request dict and an `OperationContext` and returns the response dict.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reko.errors import NotImplementedException
from reko.operations.common.context import OperationContext
from reko.operations.custom_labels.datasets import (
    create_dataset,
    delete_dataset,
    describe_dataset,
    distribute_dataset_entries,
    list_dataset_entries,
    list_dataset_labels,
    update_dataset_entries,
)
from reko.operations.custom_labels.detect import detect_custom_labels
from reko.operations.custom_labels.projects import create_project, delete_project, describe_projects
from reko.operations.custom_labels.versions import (
    create_project_version,
    delete_project_version,
    describe_project_versions,
    start_project_version,
    stop_project_version,
)
from reko.operations.faces.collections import (
    create_collection,
    delete_collection,
    describe_collection,
    list_collections,
)
from reko.operations.faces.compare import compare_faces
from reko.operations.faces.detect import detect_faces
from reko.operations.faces.index import delete_faces, index_faces, list_faces
from reko.operations.faces.search import search_faces, search_faces_by_image
from reko.operations.faces.tags import list_tags_for_resource, tag_resource, untag_resource
from reko.operations.faces.users import (
    associate_faces,
    create_user,
    delete_user,
    disassociate_faces,
    list_users,
    search_users,
    search_users_by_image,
)
from reko.operations.labels.detect import detect_labels
from reko.operations.ppe.detect import detect_protective_equipment

Handler = Callable[[dict[str, Any], OperationContext], dict[str, Any]]

HANDLERS: dict[str, Handler] = {
    "AssociateFaces": associate_faces,
    "CompareFaces": compare_faces,
    "CreateCollection": create_collection,
    "CreateDataset": create_dataset,
    "CreateProject": create_project,
    "CreateProjectVersion": create_project_version,
    "CreateUser": create_user,
    "DeleteCollection": delete_collection,
    "DeleteDataset": delete_dataset,
    "DeleteProject": delete_project,
    "DeleteProjectVersion": delete_project_version,
    "DeleteFaces": delete_faces,
    "DeleteUser": delete_user,
    "DescribeCollection": describe_collection,
    "DescribeDataset": describe_dataset,
    "DescribeProjectVersions": describe_project_versions,
    "DescribeProjects": describe_projects,
    "DetectCustomLabels": detect_custom_labels,
    "DetectFaces": detect_faces,
    "DetectLabels": detect_labels,
    "DetectProtectiveEquipment": detect_protective_equipment,
    "DisassociateFaces": disassociate_faces,
    "DistributeDatasetEntries": distribute_dataset_entries,
    "IndexFaces": index_faces,
    "ListCollections": list_collections,
    "ListDatasetEntries": list_dataset_entries,
    "ListDatasetLabels": list_dataset_labels,
    "ListFaces": list_faces,
    "ListTagsForResource": list_tags_for_resource,
    "ListUsers": list_users,
    "SearchFaces": search_faces,
    "SearchFacesByImage": search_faces_by_image,
    "SearchUsers": search_users,
    "SearchUsersByImage": search_users_by_image,
    "StartProjectVersion": start_project_version,
    "StopProjectVersion": stop_project_version,
    "TagResource": tag_resource,
    "UntagResource": untag_resource,
    "UpdateDatasetEntries": update_dataset_entries,
}


def handler_for(operation_name: str) -> Handler:
    """The handler of an operation of the Rekognition model, or a clear error if Reko lacks it."""
    try:
        return HANDLERS[operation_name]
    except KeyError:
        raise NotImplementedException(
            f"Reko does not implement {operation_name} yet. Implemented: {', '.join(sorted(HANDLERS))}."
        ) from None
