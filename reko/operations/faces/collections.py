"""CreateCollection, DeleteCollection, DescribeCollection, ListCollections, on the caller's account and region.

Helpers shared by the face operations of collections (IndexFaces, ListFaces, DeleteFaces, the searches) live
here too: the face model version, store errors as Rekognition errors, `NextToken` pages and the `Face` shape.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from reko.errors import (
    InvalidPaginationTokenException,
    ResourceAlreadyExistsException,
    ResourceNotFoundException,
    ServiceQuotaExceededException,
)
from reko.operations.common.context import OperationContext
from reko.store.collections import CollectionExistsError, CollectionNotFoundError, StoredFace

# What FaceModelVersion and IndexFacesModelVersion answer: the face detector and SFace embedder Reko ships.
# A vector is only comparable with vectors of the same version; the number goes up when the embedder changes.
FACE_MODEL_VERSION = "reko-sface-1"
# AWS's limit of user tags on one resource (CreateCollection's and, merged, TagResource's).
MAX_TAGS_PER_RESOURCE = 50
DEFAULT_PAGE_SIZE = 1000  # MaxResults when absent or 0, as Rekognition's ListCollections / ListFaces
HTTP_OK = 200
# NextToken kinds: a token of one listing is refused by another. A token must fit the model's 255 characters, so
# collection ids over 189 characters cannot be paged past (base64 grows 4/3).
COLLECTIONS_TOKEN = "c"
FACES_TOKEN = "f"


def collection_arn(context: OperationContext, collection_id: str) -> str:
    caller = context.caller
    return f"arn:aws:rekognition:{caller.region}:{caller.account_id}:collection/{collection_id}"


@contextmanager
def rekognition_errors(collection_id: str) -> Iterator[None]:
    """The store's errors under Rekognition's names and messages."""
    try:
        yield
    except CollectionNotFoundError:
        raise ResourceNotFoundException(f"The collection id: {collection_id} does not exist") from None
    except CollectionExistsError:
        raise ResourceAlreadyExistsException(f"The collection id: {collection_id} already exists") from None


def page_size(request: dict[str, Any]) -> int:
    return int(request.get("MaxResults") or DEFAULT_PAGE_SIZE)


def next_token(kind: str, last_name: str) -> str:
    """An opaque token: resume after `last_name` in a `kind` listing (the name itself, base64url-encoded)."""
    return base64.urlsafe_b64encode(f"{kind}:{last_name}".encode()).decode()


def token_position(kind: str, token: str | None) -> str | None:
    """The name a `NextToken` resumes after; `InvalidPaginationTokenException` for one not made for `kind`."""
    if not token:
        return None
    try:
        decoded = base64.urlsafe_b64decode(token.encode()).decode()
    except (binascii.Error, UnicodeError, ValueError):
        decoded = ""
    prefix, _, name = decoded.partition(":")
    if prefix != kind or not name:
        raise InvalidPaginationTokenException("Invalid pagination token")
    return name


def face_member(face: StoredFace) -> dict[str, Any]:
    """The `Face` shape of a stored face, in botocore's member order (ExternalImageId and UserId only when set)."""
    left, top, width, height = face.box
    member: dict[str, Any] = {
        "FaceId": face.face_id,
        "BoundingBox": {"Width": width, "Height": height, "Left": left, "Top": top},
        "ImageId": face.image_id,
    }
    if face.external_image_id is not None:
        member["ExternalImageId"] = face.external_image_id
    member["Confidence"] = face.confidence
    member["IndexFacesModelVersion"] = FACE_MODEL_VERSION
    if face.user_id is not None:
        member["UserId"] = face.user_id
    return member


def create_collection(request: dict[str, Any], context: OperationContext) -> dict[str, Any]:
    collection_id = request["CollectionId"]
    arn = collection_arn(context, collection_id)
    tags = request.get("Tags") or {}
    if len(tags) > MAX_TAGS_PER_RESOURCE:  # the same cap TagResource keeps, so such a collection stays taggable
        raise ServiceQuotaExceededException(f"A resource can have at most {MAX_TAGS_PER_RESOURCE} tags")
    with rekognition_errors(collection_id):
        context.store.collections.create(context.caller.scope, collection_id, arn, FACE_MODEL_VERSION, tags)
    return {"StatusCode": HTTP_OK, "CollectionArn": arn, "FaceModelVersion": FACE_MODEL_VERSION}


def delete_collection(request: dict[str, Any], context: OperationContext) -> dict[str, Any]:
    collection_id = request["CollectionId"]
    with rekognition_errors(collection_id):
        context.store.collections.delete(context.caller.scope, collection_id)
    return {"StatusCode": HTTP_OK}


def describe_collection(request: dict[str, Any], context: OperationContext) -> dict[str, Any]:
    collection_id = request["CollectionId"]
    with rekognition_errors(collection_id):
        collection, face_count = context.store.collections.describe(context.caller.scope, collection_id)
        user_count = context.store.users.count(context.caller.scope, collection_id)
    return {
        "FaceCount": face_count,
        "FaceModelVersion": collection.face_model_version,
        "CollectionARN": collection.arn,
        "CreationTimestamp": collection.created_at_s,
        "UserCount": user_count,
    }


def list_collections(request: dict[str, Any], context: OperationContext) -> dict[str, Any]:
    limit = page_size(request)
    after = token_position(COLLECTIONS_TOKEN, request.get("NextToken"))
    found = context.store.collections.list_collections(context.caller.scope, after, limit + 1)
    page = found[:limit]
    answer: dict[str, Any] = {
        "CollectionIds": [collection.collection_id for collection in page],
        "FaceModelVersions": [collection.face_model_version for collection in page],
    }
    if len(found) > limit:
        answer["NextToken"] = next_token(COLLECTIONS_TOKEN, page[-1].collection_id)
    return answer
