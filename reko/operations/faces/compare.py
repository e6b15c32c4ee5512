"""CompareFaces: the largest face of the source image against the 100 largest faces of the target image."""

from __future__ import annotations

from typing import Any

import numpy as np

from reko.errors import InvalidParameterException
from reko.images import DecodedImage
from reko.operations.common.boxes import xyxy_to_ratio_box
from reko.operations.common.context import OperationContext
from reko.operations.common.images import load_image
from reko.operations.faces import details
from reko.operations.faces.detect import face_detail
from reko.operations.faces.landmarks import DEFAULT_LANDMARK_TYPES
from reko.operations.faces.quality_filter import passing_faces
from reko.operations.faces.similarity import similarity_percent
from reko.pipelines.faces import MAX_FACES, FaceAnalysis, FacePipeline, Needs

DEFAULT_SIMILARITY_THRESHOLD = 80.0
DEFAULT_QUALITY_FILTER = "NONE"
# Rekognition's own message when the source image holds no (usable) face.
NO_SOURCE_FACE_MESSAGE = "Request has invalid parameters"
# `ComparedFace` in botocore's member order: DetectFaces' default members plus Emotions and Smile.
COMPARED_FACE_ORDER = ("BoundingBox", "Confidence", "Landmarks", "Pose", "Quality", "Emotions", "Smile")
COMPARED_FACE_MEMBERS = frozenset(COMPARED_FACE_ORDER)
SOURCE_NEEDS = Needs(embedding=True)  # the source face is answered with its box and confidence only
TARGET_NEEDS = Needs(embedding=True, emotions=True)


def compare_faces(request: dict[str, Any], context: OperationContext) -> dict[str, Any]:
    """Each target face with its Similarity to the source's largest face, split at `SimilarityThreshold`.

    `SourceImageOrientationCorrection` and `TargetImageOrientationCorrection` are left out: Rekognition
    documents both as always null (images are turned upright by their EXIF orientation before detection).
    """
    threshold = float(request.get("SimilarityThreshold", DEFAULT_SIMILARITY_THRESHOLD))
    level = request.get("QualityFilter") or DEFAULT_QUALITY_FILTER
    source_image = load_image(request["SourceImage"], context)
    target_image = load_image(request["TargetImage"], context)
    # With a filter the source face is the largest that passes it, so then every face must be measured.
    # The two analyses run one after the other: overlapping them does not pay on 2 cores, where each already
    # keeps both busy (astronaut vs its recompressed copy, 120 requests interleaved in-process: p50 89.3 ms
    # with the source on a thread of its own, 88.0 ms in turn at load average ~4; 54.8 vs 55.8 ms when
    # quieter), and a source without a face then costs no target analysis.
    source_max_faces = 1 if level == "NONE" else MAX_FACES
    usable_sources = passing_faces(context.faces.analyze(source_image.rgb, SOURCE_NEEDS, source_max_faces), level)
    if not usable_sources:
        raise InvalidParameterException(NO_SOURCE_FACE_MESSAGE)
    source = usable_sources[0]
    targets = passing_faces(context.faces.analyze(target_image.rgb, TARGET_NEEDS), level)
    matches: list[dict[str, Any]] = []
    unmatched: list[dict[str, Any]] = []
    for face, similarity in zip(targets, similarities(source, targets), strict=True):
        compared = compared_face(face, target_image, context.faces)
        if similarity >= threshold:
            matches.append({"Similarity": similarity, "Face": compared})
        else:
            unmatched.append(compared)
    matches.sort(key=lambda match: -match["Similarity"])
    return {
        "SourceImageFace": {
            "BoundingBox": xyxy_to_ratio_box(source.box, source_image.width, source_image.height),
            "Confidence": details.percent(source.score),
        },
        "FaceMatches": matches,
        "UnmatchedFaces": unmatched,
    }


def similarities(source: FaceAnalysis, targets: list[FaceAnalysis]) -> list[float]:
    """Calibrated Similarity (0-100) of each target face to the source face."""
    if not targets:
        return []
    assert source.embedding is not None
    vectors = np.stack([face.embedding for face in targets if face.embedding is not None])
    return [similarity_percent(float(cosine)) for cosine in vectors @ source.embedding]


def compared_face(face: FaceAnalysis, image: DecodedImage, faces: FacePipeline) -> dict[str, Any]:
    """A `ComparedFace`: the very values DetectFaces gives this face, through its `face_detail`."""
    size = (image.width, image.height)
    return face_detail(
        face, COMPARED_FACE_MEMBERS, DEFAULT_LANDMARK_TYPES, size, faces.expression_curves, COMPARED_FACE_ORDER
    )
