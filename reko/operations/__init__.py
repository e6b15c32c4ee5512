"""Rekognition semantics: one package per operation family, one snake_case function per operation.

A handler takes the validated request dict and an `OperationContext` and returns the response dict.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reko.errors import NotImplementedException
from reko.operations.common.context import OperationContext
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
    "CreateUser": create_user,
    "DeleteCollection": delete_collection,
    "DeleteFaces": delete_faces,
    "DeleteUser": delete_user,
    "DescribeCollection": describe_collection,
    "DetectFaces": detect_faces,
    "DetectLabels": detect_labels,
    "DetectProtectiveEquipment": detect_protective_equipment,
    "DisassociateFaces": disassociate_faces,
    "IndexFaces": index_faces,
    "ListCollections": list_collections,
    "ListFaces": list_faces,
    "ListTagsForResource": list_tags_for_resource,
    "ListUsers": list_users,
    "SearchFaces": search_faces,
    "SearchFacesByImage": search_faces_by_image,
    "SearchUsers": search_users,
    "SearchUsersByImage": search_users_by_image,
    "TagResource": tag_resource,
    "UntagResource": untag_resource,
}


def handler_for(operation_name: str) -> Handler:
    """The handler of an operation of the Rekognition model, or a clear error if Reko lacks it."""
    try:
        return HANDLERS[operation_name]
    except KeyError:
        raise NotImplementedException(
            f"Reko does not implement {operation_name} yet. Implemented: {', '.join(sorted(HANDLERS))}."
        ) from None
