"""SearchFacesByImage and SearchFaces: the collection's nearest faces, scored with CompareFaces' Similarity.

The store finds the nearest vectors (see `reko/store/memory_search.py` and the PostgreSQL backend); here are
Rekognition's rules: which face of the image is searched, the threshold, how many matches, their order.
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
        nearest = context.store.collections.search(scope, collection_id, searched.embedding, max_matches(request))
    return {
        "SearchedFaceBoundingBox": xyxy_to_ratio_box(searched.box, image.width, image.height),
        "SearchedFaceConfidence": details.percent(searched.score),
        "FaceMatches": face_matches(nearest, request),
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
        nearest = context.store.collections.search(scope, collection_id, query, max_matches(request), face_id)
    return {
        "SearchedFaceId": face_id,
        "FaceMatches": face_matches(nearest, request),
        "FaceModelVersion": FACE_MODEL_VERSION,
    }


def max_matches(request: dict[str, Any]) -> int:
    return int(request.get("MaxFaces") or DEFAULT_MAX_MATCHES)


def face_matches(nearest: list[tuple[StoredFace, float]], request: dict[str, Any]) -> list[dict[str, Any]]:
    """`FaceMatches`: the nearest faces at or over `FaceMatchThreshold`, most similar first."""
    threshold = float(request.get("FaceMatchThreshold", DEFAULT_FACE_MATCH_THRESHOLD))
    if not nearest:
        return []
    similarity = similarity_percents(np.array([cosine for _, cosine in nearest], np.float32))
    return [
        {"Similarity": float(percent), "Face": face_member(face)}
        for (face, _), percent in zip(nearest, similarity, strict=True)
        if percent >= threshold
    ]
