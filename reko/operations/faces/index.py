"""IndexFaces, ListFaces, DeleteFaces: putting faces into a collection, reading them back, taking them out."""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

from reko.images import DecodedImage
from reko.operations.common.context import OperationContext
from reko.operations.common.images import load_image
from reko.operations.faces import details
from reko.operations.faces.collections import (
    FACE_MODEL_VERSION,
    FACES_TOKEN,
    face_member,
    next_token,
    page_size,
    rekognition_errors,
    token_position,
)
from reko.operations.faces.detect import attribute_needs, face_detail
from reko.operations.faces.landmarks import DEFAULT_LANDMARK_TYPES, LANDMARK_TYPES
from reko.operations.faces.quality_filter import failed_reasons
from reko.pipelines.faces import MAX_FACES, FaceAnalysis
from reko.store.collections import NewFace, StoredFace

DEFAULT_QUALITY_FILTER = "AUTO"  # IndexFaces' documented default


def index_faces(request: dict[str, Any], context: OperationContext) -> dict[str, Any]:
    """Store the image's faces that pass `QualityFilter`, the `MaxFaces` largest; say why each other one was not.

    All faces of one call are written in one transaction, committed before the answer: a 200 is on disk.
    `OrientationCorrection` is left out: Rekognition documents it as null for images turned upright by EXIF.
    """
    collection_id = request["CollectionId"]
    scope = context.caller.scope
    with rekognition_errors(collection_id):
        context.store.collections.require(scope, collection_id)  # before the models run
    image = load_image(request["Image"], context)
    attributes = request.get("DetectionAttributes") or ["DEFAULT"]
    members = details.requested_members(attributes)
    needs = dataclasses.replace(attribute_needs(attributes, members), embedding=True)
    landmark_types = LANDMARK_TYPES if details.wants_all_landmarks(attributes) else DEFAULT_LANDMARK_TYPES
    level = request.get("QualityFilter") or DEFAULT_QUALITY_FILTER
    max_faces = int(request.get("MaxFaces") or MAX_FACES)
    image_id = str(uuid.uuid4())
    records: list[dict[str, Any]] = []
    unindexed: list[dict[str, Any]] = []
    new_faces: list[NewFace] = []
    for face in context.faces.analyze(image.rgb, needs):  # largest first
        detail = face_detail(
            face, members, landmark_types, (image.width, image.height), context.faces.expression_curves
        )
        reasons = failed_reasons(face, level) or (["EXCEEDS_MAX_FACES"] if len(new_faces) >= max_faces else [])
        if reasons:
            unindexed.append({"Reasons": reasons, "FaceDetail": detail})
            continue
        new = new_face(face, image, image_id, request.get("ExternalImageId"))
        new_faces.append(new)
        records.append({"Face": face_member(new.face), "FaceDetail": detail})
    with rekognition_errors(collection_id):
        context.store.collections.add_faces(scope, collection_id, new_faces)
    return {"FaceRecords": records, "FaceModelVersion": FACE_MODEL_VERSION, "UnindexedFaces": unindexed}


def new_face(face: FaceAnalysis, image: DecodedImage, image_id: str, external_image_id: str | None) -> NewFace:
    """A face to store: a fresh FaceId, its box as ratios of the image, its unit vector."""
    assert face.embedding is not None
    x1, y1, x2, y2 = (float(value) for value in face.box)
    box = (x1 / image.width, y1 / image.height, (x2 - x1) / image.width, (y2 - y1) / image.height)
    stored = StoredFace(str(uuid.uuid4()), image_id, external_image_id, box, details.percent(face.score))
    return NewFace(stored, face.embedding)


def list_faces(request: dict[str, Any], context: OperationContext) -> dict[str, Any]:
    """A page of the collection's faces in FaceId order; `FaceIds` keeps only those, `UserId` only the faces
    associated with that user (none for a user the collection lacks: a filter, not a lookup)."""
    collection_id = request["CollectionId"]
    limit = page_size(request)
    after = token_position(FACES_TOKEN, request.get("NextToken"))
    with rekognition_errors(collection_id):
        found = context.store.collections.list_faces(
            context.caller.scope, collection_id, after, limit + 1, request.get("FaceIds") or (), request.get("UserId")
        )
    page = found[:limit]
    answer: dict[str, Any] = {"Faces": [face_member(face) for face in page]}
    if len(found) > limit:
        answer["NextToken"] = next_token(FACES_TOKEN, page[-1].face_id)
    answer["FaceModelVersion"] = FACE_MODEL_VERSION
    return answer


def delete_faces(request: dict[str, Any], context: OperationContext) -> dict[str, Any]:
    """Delete the faces; those the collection does not hold come back with the reason FACE_NOT_FOUND."""
    collection_id = request["CollectionId"]
    face_ids: list[str] = list(request["FaceIds"])
    with rekognition_errors(collection_id):
        deleted = context.store.collections.delete_faces(context.caller.scope, collection_id, face_ids)
    gone = set(deleted)
    missing = [face_id for face_id in dict.fromkeys(face_ids) if face_id not in gone]
    return {
        "DeletedFaces": deleted,
        "UnsuccessfulFaceDeletions": [{"FaceId": face_id, "Reasons": ["FACE_NOT_FOUND"]} for face_id in missing],
    }
