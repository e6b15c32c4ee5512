"""CreateUser, DeleteUser, ListUsers, AssociateFaces, DisassociateFaces, SearchUsers, SearchUsersByImage.

A user is one person of a collection: a `UserId` with up to 100 of the collection's faces associated with it,
searched as one. The Similarity of a query face to a user is the highest Similarity (CompareFaces' calibrated map
of the cosine, `similarity.similarity_percents`) between the query and any face associated with the user, so a
user matches as soon as one of its photos does; a searched user (SearchUsers by UserId) is compared through every
pair of its faces and the other user's. Users without faces never match. The search is exact (see
`UserStore.nearest_users` for its cost).

`UserStatus`: Reko writes an association in the call's own transaction, so when an answer leaves, no change of any
user is in progress and CREATING and UPDATING are never true. A user is CREATED while it has no faces ("created,
but has no FaceIDs associated") and ACTIVE once it has one ("all associations or disassociations are complete").

`ClientRequestToken` (CreateUser, DeleteUser, AssociateFaces, DisassociateFaces; boto3 fills in a fresh one when the
caller gives none): the first answer to a token is stored with the write, a retry with the same parameters gets
that answer again without doing anything, other parameters get IdempotentParameterMismatchException.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from reko.errors import (
    ConflictException,
    IdempotentParameterMismatchException,
    InvalidParameterException,
    ResourceNotFoundException,
    ServiceQuotaExceededException,
)
from reko.operations.common.context import OperationContext
from reko.operations.common.images import load_image
from reko.operations.faces import details
from reko.operations.faces.collections import FACE_MODEL_VERSION, next_token, rekognition_errors, token_position
from reko.operations.faces.detect import face_detail
from reko.operations.faces.landmarks import DEFAULT_LANDMARK_TYPES
from reko.operations.faces.quality_filter import failed_reasons
from reko.operations.faces.similarity import cosine_at_similarity, similarity_percent, similarity_percents
from reko.pipelines.faces import FaceAnalysis, Needs
from reko.store.users import (
    Refusal,
    RefusedFace,
    RequestToken,
    TokenReusedError,
    TooManyUserFacesError,
    User,
    UserExistsError,
    UserNotFoundError,
)

MAX_FACES_PER_USER = 100  # Rekognition's documented limit of faces associated with one user
DEFAULT_ASSOCIATION_THRESHOLD = 75.0  # AssociateFaces' documented default UserMatchThreshold, percent
DEFAULT_USER_MATCH_THRESHOLD = 80.0  # SearchUsers' and SearchUsersByImage's documented default, percent
# Rekognition documents no default for MaxUsers or ListUsers' MaxResults: both default to the model's maximum, so
# a search returns every user over the threshold and a listing pages as little as it may.
DEFAULT_MAX_USERS = 500
DEFAULT_USER_PAGE_SIZE = 500
DEFAULT_QUALITY_FILTER = "NONE"  # SearchUsersByImage's documented default
USERS_TOKEN = "u"  # NextToken kind of ListUsers (see collections.next_token)
REASONS = {
    Refusal.NOT_FOUND: "FACE_NOT_FOUND",
    Refusal.OTHER_USER: "ASSOCIATED_TO_A_DIFFERENT_USER",
    Refusal.LOW_MATCH: "LOW_MATCH_CONFIDENCE",
}


@contextmanager
def user_errors(collection_id: str, user_id: str) -> Iterator[None]:
    """The store's errors of users (and collections) under Rekognition's names."""
    try:
        with rekognition_errors(collection_id):
            yield
    except UserNotFoundError:
        raise ResourceNotFoundException(
            f"The user id: {user_id} does not exist in the collection id: {collection_id}"
        ) from None
    except UserExistsError:
        raise ConflictException(
            f"The user id: {user_id} already exists in the collection id: {collection_id}"
        ) from None
    except TokenReusedError:
        raise IdempotentParameterMismatchException(
            "The ClientRequestToken was already used with different parameters"
        ) from None
    except TooManyUserFacesError:
        raise ServiceQuotaExceededException(f"A user can have at most {MAX_FACES_PER_USER} faces") from None


def request_token(operation: str, request: dict[str, Any]) -> RequestToken | None:
    """The request's `ClientRequestToken` with a fingerprint (sha256) of its other members."""
    token = request.get("ClientRequestToken")
    if not token:
        return None
    others = {name: value for name, value in request.items() if name != "ClientRequestToken"}
    fingerprint = hashlib.sha256(json.dumps(others, sort_keys=True).encode()).hexdigest()
    return RequestToken(operation, token, fingerprint)


def user_status(face_count: int) -> str:
    """CREATED or ACTIVE: see the module's docstring for why the other two values never apply."""
    return "ACTIVE" if face_count else "CREATED"


def create_user(request: dict[str, Any], context: OperationContext) -> dict[str, Any]:
    collection_id, user_id = request["CollectionId"], request["UserId"]
    with user_errors(collection_id, user_id):
        context.store.users.create(
            context.caller.scope, collection_id, user_id, request_token("CreateUser", request)
        )
    return {}


def delete_user(request: dict[str, Any], context: OperationContext) -> dict[str, Any]:
    """Delete a user; its faces stay in the collection, associated with no one."""
    collection_id, user_id = request["CollectionId"], request["UserId"]
    with user_errors(collection_id, user_id):
        context.store.users.delete(
            context.caller.scope, collection_id, user_id, request_token("DeleteUser", request)
        )
    return {}


def list_users(request: dict[str, Any], context: OperationContext) -> dict[str, Any]:
    """A page of the collection's users in UserId order."""
    collection_id = request["CollectionId"]
    limit = int(request.get("MaxResults") or DEFAULT_USER_PAGE_SIZE)
    after = token_position(USERS_TOKEN, request.get("NextToken"))
    with rekognition_errors(collection_id):
        found = context.store.users.list_users(context.caller.scope, collection_id, after, limit + 1)
    page = found[:limit]
    answer: dict[str, Any] = {"Users": [user_member(user) for user in page]}
    if len(found) > limit:
        answer["NextToken"] = next_token(USERS_TOKEN, page[-1].user_id)
    return answer


def associate_faces(request: dict[str, Any], context: OperationContext) -> dict[str, Any]:
    """Associate faces of the collection with a user.

    A user that has faces takes a new one only when its Similarity to at least one of them (those it had before
    this call) reaches `UserMatchThreshold`; otherwise the face is refused with LOW_MATCH_CONFIDENCE and that
    highest Similarity as `Confidence`. A user's first faces are taken as given. A call that would leave the user
    with more than 100 faces associates none: ServiceQuotaExceededException (the model has no per-face reason
    for it). `UserId` of a refusal names the user it is about: the other user for ASSOCIATED_TO_A_DIFFERENT_USER,
    this one for LOW_MATCH_CONFIDENCE.
    """
    collection_id, user_id = request["CollectionId"], request["UserId"]
    threshold = float(request.get("UserMatchThreshold", DEFAULT_ASSOCIATION_THRESHOLD))
    with user_errors(collection_id, user_id):
        change = context.store.users.associate(
            context.caller.scope, collection_id, user_id, request["FaceIds"], cosine_at_similarity(threshold),
            MAX_FACES_PER_USER, request_token("AssociateFaces", request),
        )
    return {
        "AssociatedFaces": [{"FaceId": face_id} for face_id in change.changed],
        "UnsuccessfulFaceAssociations": [
            refusal_member(face, user_id, with_confidence=True) for face in change.refused
        ],
        "UserStatus": user_status(change.face_count),
    }


def disassociate_faces(request: dict[str, Any], context: OperationContext) -> dict[str, Any]:
    """Take faces from a user; a face of no user is left out of the answer, as Rekognition documents."""
    collection_id, user_id = request["CollectionId"], request["UserId"]
    with user_errors(collection_id, user_id):
        change = context.store.users.disassociate(
            context.caller.scope, collection_id, user_id, request["FaceIds"],
            request_token("DisassociateFaces", request),
        )
    return {
        "DisassociatedFaces": [{"FaceId": face_id} for face_id in change.changed],
        "UnsuccessfulFaceDisassociations": [
            refusal_member(face, user_id, with_confidence=False) for face in change.refused
        ],
        "UserStatus": user_status(change.face_count),
    }


def search_users(request: dict[str, Any], context: OperationContext) -> dict[str, Any]:
    """The users most like one face of the collection (FaceId) or one user (UserId, that user left out)."""
    collection_id = request["CollectionId"]
    user_id, face_id = request.get("UserId"), request.get("FaceId")
    if (user_id is None) == (face_id is None):
        raise InvalidParameterException("Either UserId or FaceId must be given, not both")
    scope = context.caller.scope
    with user_errors(collection_id, user_id or ""):
        if face_id is not None:
            vector = context.store.collections.face_vector(scope, collection_id, face_id)
            if vector is None:
                raise InvalidParameterException(f"faceId {face_id} was not found in the collection")
            queries = vector[None]
            searched: dict[str, Any] = {"SearchedFace": {"FaceId": face_id}}
        else:
            queries = context.store.users.user_vectors(scope, collection_id, str(user_id))
            searched = {"SearchedUser": {"UserId": user_id}}
        nearest = context.store.users.nearest_users(scope, collection_id, queries, max_users(request), user_id)
    return {"UserMatches": user_matches(nearest, request), "FaceModelVersion": FACE_MODEL_VERSION, **searched}


def search_users_by_image(request: dict[str, Any], context: OperationContext) -> dict[str, Any]:
    """The users most like the largest face of the image that passes `QualityFilter`.

    Every other face comes back in `UnsearchedFaces` with its `FaceDetail` and reasons: FACE_NOT_LARGEST for a face
    smaller than the searched one, the quality reasons of `QualityFilter` for a face it drops (a face may carry
    both). With no face that passes, the answer has no `SearchedFace` and no matches, as Rekognition documents.
    """
    collection_id = request["CollectionId"]
    scope = context.caller.scope
    with rekognition_errors(collection_id):
        context.store.collections.require(scope, collection_id)  # before the models run
    image = load_image(request["Image"], context)
    level = request.get("QualityFilter") or DEFAULT_QUALITY_FILTER
    faces = context.faces.analyze(image.rgb, Needs())  # largest first
    searched = next((index for index, face in enumerate(faces) if not failed_reasons(face, level)), None)

    def detail(face: FaceAnalysis) -> dict[str, Any]:
        size = (image.width, image.height)
        return face_detail(face, details.DEFAULT_MEMBERS, DEFAULT_LANDMARK_TYPES, size, context.faces.expression_curves)

    unsearched = [
        {
            "FaceDetails": detail(face),
            "Reasons": (["FACE_NOT_LARGEST"] if searched is not None and index > searched else [])
            + failed_reasons(face, level),
        }
        for index, face in enumerate(faces)
        if index != searched
    ]
    answer: dict[str, Any] = {"UserMatches": [], "FaceModelVersion": FACE_MODEL_VERSION}
    if searched is not None:
        embedded = context.faces.embed(image.rgb, faces[searched])
        assert embedded.embedding is not None
        with rekognition_errors(collection_id):
            nearest = context.store.users.nearest_users(
                scope, collection_id, embedded.embedding[None], max_users(request)
            )
        answer["UserMatches"] = user_matches(nearest, request)
        answer["SearchedFace"] = {"FaceDetail": detail(faces[searched])}
    answer["UnsearchedFaces"] = unsearched
    return answer


def max_users(request: dict[str, Any]) -> int:
    return int(request.get("MaxUsers") or DEFAULT_MAX_USERS)


def user_member(user: User) -> dict[str, Any]:
    """The `User` (and `MatchedUser`) shape."""
    return {"UserId": user.user_id, "UserStatus": user_status(user.face_count)}


def user_matches(nearest: list[tuple[User, float]], request: dict[str, Any]) -> list[dict[str, Any]]:
    """`UserMatches`: the nearest users at or over `UserMatchThreshold`, most similar first."""
    threshold = float(request.get("UserMatchThreshold", DEFAULT_USER_MATCH_THRESHOLD))
    if not nearest:
        return []
    similarity = similarity_percents(np.array([cosine for _, cosine in nearest]))
    return [
        {"Similarity": float(percent), "User": user_member(user)}
        for (user, _), percent in zip(nearest, similarity, strict=True)
        if percent >= threshold
    ]


def refusal_member(face: RefusedFace, user_id: str, with_confidence: bool) -> dict[str, Any]:
    """`UnsuccessfulFaceAssociation` (with `Confidence`) or `UnsuccessfulFaceDisassociation`, in member order."""
    member: dict[str, Any] = {"FaceId": face.face_id}
    if face.refusal is Refusal.OTHER_USER:
        member["UserId"] = face.user_id
    elif face.refusal is Refusal.LOW_MATCH:
        member["UserId"] = user_id
    if with_confidence and face.cosine is not None:
        member["Confidence"] = similarity_percent(face.cosine)
    member["Reasons"] = [REASONS[face.refusal]]
    return member
