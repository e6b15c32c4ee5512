"""Rekognition's 30 facial `Landmark` types, read off a FaceMesh.

Convention: "left" and "right" are the IMAGE's sides, not the subject's: `eyeLeft` is the eye nearer the
image's left edge (the subject's right eye in an unmirrored photo), and every "left..." landmark lies on the
image's left likewise. Coordinates are ratios of the image's width and height, origin top-left, and may
fall outside [0, 1] when a face is cut by the image edge.

Each type is the mean of a few mesh points (MediaPipe's 478-point topology). Where the mesh offers several
points on the same feature, the one nearest the matching iBUG-68 annotation on AFW was taken (see
bench/landmarks.py, which measures these against the 68-point ground truth).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np

from reko.operations.common.boxes import point_to_ratio

# Rekognition LandmarkType -> mesh point indices whose mean is the landmark.
MESH_POINTS_BY_LANDMARK: dict[str, tuple[int, ...]] = {
    "eyeLeft": (7, 159, 157, 243, 153, 145),  # centre of the image-left eye's contour
    "eyeRight": (382, 385, 387, 249, 373, 380),
    "nose": (4,),
    "mouthLeft": (61,),
    "mouthRight": (291,),
    "leftEyeBrowLeft": (46,),
    "leftEyeBrowRight": (55,),
    "leftEyeBrowUp": (52,),
    "rightEyeBrowLeft": (285,),
    "rightEyeBrowRight": (276,),
    "rightEyeBrowUp": (282,),
    "leftEyeLeft": (7,),
    "leftEyeRight": (133,),
    "leftEyeUp": (159,),
    "leftEyeDown": (145,),
    "rightEyeLeft": (362,),
    "rightEyeRight": (249,),
    "rightEyeUp": (386,),
    "rightEyeDown": (374,),
    "noseLeft": (240,),
    "noseRight": (460,),
    "mouthUp": (11,),
    "mouthDown": (17,),
    "leftPupil": (468,),  # iris centres from the iris model
    "rightPupil": (473,),
    "upperJawlineLeft": (127,),
    "midJawlineLeft": (172,),
    "chinBottom": (152,),
    "midJawlineRight": (397,),
    "upperJawlineRight": (356,),
}

LANDMARK_TYPES: tuple[str, ...] = tuple(MESH_POINTS_BY_LANDMARK)
# The five DetectFaces returns by default (Attributes DEFAULT).
DEFAULT_LANDMARK_TYPES: tuple[str, ...] = ("eyeLeft", "eyeRight", "mouthLeft", "mouthRight", "nose")


def landmark_pixels(points: np.ndarray, types: Sequence[str] = LANDMARK_TYPES) -> np.ndarray:
    """(len(types), 2) pixel positions of the named landmarks from (478, 3) mesh points."""
    unknown = [name for name in types if name not in MESH_POINTS_BY_LANDMARK]
    if unknown:
        raise ValueError(f"unknown landmark types: {unknown}")
    xy = np.asarray(points, np.float64)[:, :2]
    if not types:
        return np.zeros((0, 2))
    return _averaging_matrix(tuple(types), len(xy)) @ xy


@functools.cache
def _averaging_matrix(types: tuple[str, ...], point_count: int) -> np.ndarray:
    """(len(types), point_count) weights whose product with the mesh points is each landmark's mean point: one
    matrix product instead of 30 small means a face (0.65 ms of a 9-face ALL answer's ~1 ms a face)."""
    weights = np.zeros((len(types), point_count))
    for row, name in enumerate(types):
        indices = list(MESH_POINTS_BY_LANDMARK[name])
        np.add.at(weights[row], indices, 1.0 / len(indices))
    return weights


def landmarks_from_mesh(
    points: np.ndarray, image_width: int, image_height: int, types: Sequence[str] = LANDMARK_TYPES
) -> list[dict[str, float | str]]:
    """Rekognition `Landmarks` entries for one face.

    Args:
        points: (478, 3) mesh points in pixels (`FaceMeshResult.points`).
        image_width, image_height: size of the image the points are in, pixels.
        types: which `LandmarkType`s to return, in this order.

    Returns:
        `[{"Type": "eyeLeft", "X": 0.41, "Y": 0.37}, ...]`, X and Y as ratios of width and height.
    """
    pixels = landmark_pixels(points, types)
    entries: list[dict[str, float | str]] = []
    for name, (x, y) in zip(types, pixels, strict=True):
        ratio_x, ratio_y = point_to_ratio(x, y, image_width, image_height)
        entries.append({"Type": name, "X": ratio_x, "Y": ratio_y})
    return entries
