"""SearchFacesByImage and SearchFaces: exact search of a collection's vectors with CompareFaces' Similarity.

The search is a NumPy matrix-vector product over every face of the collection (exact: nothing is missed), on the
vectors the store keeps in memory until the collection changes (2026-11-30, 2 busy cores, random unit vectors:
~1 ms at 10k faces, ~14 ms at 100k; IndexFaces appends to them, while the first search after a DeleteFaces or
another process's write reloads them: ~0.08 s at 10k, ~1.2 s at 100k). An ANN index for larger collections is
issue 7's next step.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from reko.errors import InvalidParameterException
from reko.operations.common.boxes import xyxy_to_ratio_box
from reko.operations.common.context import OperationContext
from reko.operations.common.images import load_image
from reko.operations.faces import details
from reko.operations.faces.collections import FACE_MODEL_VERSION, face_member, rekognition_errors
from reko.operations.faces.quality_filter import passing_faces
from reko.operations.faces.similarity import similarity_percents
from reko.pipelines.faces import MAX_FACES, Needs
from reko.store.collections import StoredFace

DEFAULT_FACE_MATCH_THRESHOLD = 80.0  # percent, Rekognition's documented default
DEFAULT_MAX_MATCHES = 80  # Rekognition's documented default MaxFaces for both searches
DEFAULT_QUALITY_FILTER = "NONE"  # SearchFacesByImage's documented default
NO_FACE_MESSAGE = "There are no faces in the image. Should be at least 1."
SEARCH_NEEDS = Needs(embedding=True)


def search_faces_by_image(request: dict[str, Any], context: OperationContext) -> dict[str, Any]:
    """The collection's faces most like the largest face of the image (the largest that passes the filter)."""
    collection_id = request["CollectionId"]
    scope = context.caller.scope
    with rekognition_errors(collection_id):
        context.store.collections.require(scope, collection_id)  # before the models run
    image = load_image(request["Image"], context)
    level = request.get("QualityFilter") or DEFAULT_QUALITY_FILTER
    analyzed = context.faces.analyze(image.rgb, SEARCH_NEEDS, 1 if level == "NONE" else MAX_FACES)
    usable = passing_faces(analyzed, level)
    if not usable:
        raise InvalidParameterException(NO_FACE_MESSAGE)
    searched = usable[0]
    assert searched.embedding is not None
    with rekognition_errors(collection_id):
        faces, vectors = context.store.collections.vectors(scope, collection_id)
    return {
        "SearchedFaceBoundingBox": xyxy_to_ratio_box(searched.box, image.width, image.height),
        "SearchedFaceConfidence": details.percent(searched.score),
        "FaceMatches": face_matches(faces, vectors, searched.embedding, request),
        "FaceModelVersion": FACE_MODEL_VERSION,
    }


def search_faces(request: dict[str, Any], context: OperationContext) -> dict[str, Any]:
    """The collection's faces most like one of its faces (that face itself left out)."""
    collection_id = request["CollectionId"]
    face_id = request["FaceId"]
    scope = context.caller.scope
    with rekognition_errors(collection_id):
        query = context.store.collections.face_vector(scope, collection_id, face_id)
        if query is None:
            raise InvalidParameterException(f"faceId {face_id} was not found in the collection")
        faces, vectors = context.store.collections.vectors(scope, collection_id)
    keep = [index for index, face in enumerate(faces) if face.face_id != face_id]
    return {
        "SearchedFaceId": face_id,
        "FaceMatches": face_matches([faces[index] for index in keep], vectors[keep], query, request),
        "FaceModelVersion": FACE_MODEL_VERSION,
    }


def face_matches(
    faces: list[StoredFace], vectors: np.ndarray, query: np.ndarray, request: dict[str, Any]
) -> list[dict[str, Any]]:
    """`FaceMatches`: faces at or over `FaceMatchThreshold`, the `MaxFaces` most similar, most similar first."""
    threshold = float(request.get("FaceMatchThreshold", DEFAULT_FACE_MATCH_THRESHOLD))
    max_matches = int(request.get("MaxFaces") or DEFAULT_MAX_MATCHES)
    if not faces:
        return []
    similarity = similarity_percents(vectors @ np.asarray(query, np.float32))
    order = np.argsort(-similarity, kind="stable")[:max_matches]
    return [
        {"Similarity": float(similarity[index]), "Face": face_member(faces[index])}
        for index in order
        if similarity[index] >= threshold
    ]
