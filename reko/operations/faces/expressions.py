"""Smile, eyes open, mouth open: calibrated readings of mesh geometry and the expression model.

These are not separate models: each turns measured numbers (lid gap over eye width, lip gap over mouth
width, the expression model's HAPPY probability and the mouth's width) into a probability with a logistic
curve fitted on hand-labelled faces. EyesOpen reads the iris model's eye contours when the geometry has
them (`FaceGeometry.lid_gap_*`) and falls back on the coarser mesh, which misses most closed eyes.
The weights below were fitted on all faces of `bench/labels/face_expressions.csv` (LFW, AFW and WIDER
crops, labelled by eye) with `.venv/bin/python -m bench.face_expressions --fit`;
`python -m bench.face_expressions` measures their cross-validated accuracy.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from reko.vision.faces.head_pose import FaceGeometry

# logit = weights . features + bias, features as the `*_features` functions below return them.
# Iris-model lid gap over eye width, mean of both eyes: closed eyes read a median 0.10, open ones 0.17
# (5th percentile 0.13): centre ~0.105.
EYES_OPEN_WEIGHTS = (51.423,)
EYES_OPEN_BIAS = -5.382
# Mesh only (no iris model): closed eyes read 0.14-0.27 and open ones mostly above 0.18: centre ~0.15.
EYES_OPEN_MESH_WEIGHTS = (27.762,)
EYES_OPEN_MESH_BIAS = -4.118
# Lips apart from an inner-lip gap of ~0.08 of the mouth's width.
MOUTH_OPEN_WEIGHTS = (45.344,)
MOUTH_OPEN_BIAS = -3.449
# HAPPY probability, and mouth width over inter-ocular distance (a smile widens the mouth).
SMILE_WEIGHTS = (5.306, 16.793)
SMILE_BIAS = -13.245


def eyes_open_features(geometry: FaceGeometry) -> tuple[float, ...]:
    """Both eyes' mean lid gap on the iris model's contours (`eyes_open_mesh_features` without them).

    Raises:
        ValueError: the geometry was measured without eye contours.
    """
    left, right = geometry.lid_gap_image_left, geometry.lid_gap_image_right
    if left is None or right is None:
        raise ValueError("the geometry has no lid gaps: measure it with the iris model's eye contours")
    return ((left + right) / 2,)


def eyes_open_mesh_features(geometry: FaceGeometry) -> tuple[float, ...]:
    """The more open eye's mesh aspect ratio: a head turned so far that one eye hides still reads 'open'."""
    return (max(geometry.eye_openness_image_left, geometry.eye_openness_image_right),)


def mouth_open_features(geometry: FaceGeometry) -> tuple[float, ...]:
    return (geometry.mouth_openness,)


def smile_features(geometry: FaceGeometry, happy_probability: float) -> tuple[float, ...]:
    return (happy_probability, geometry.mouth_width_ratio)


def eyes_open_probability(geometry: FaceGeometry) -> float:
    """From the iris model's lid gaps when the geometry has them, else from the mesh alone."""
    if geometry.lid_gap_image_left is None or geometry.lid_gap_image_right is None:
        return _logistic(_logit(eyes_open_mesh_features(geometry), EYES_OPEN_MESH_WEIGHTS, EYES_OPEN_MESH_BIAS))
    return _logistic(_logit(eyes_open_features(geometry), EYES_OPEN_WEIGHTS, EYES_OPEN_BIAS))


def mouth_open_probability(geometry: FaceGeometry) -> float:
    return _logistic(_logit(mouth_open_features(geometry), MOUTH_OPEN_WEIGHTS, MOUTH_OPEN_BIAS))


def smile_probability(geometry: FaceGeometry, happy_probability: float) -> float:
    return _logistic(_logit(smile_features(geometry, happy_probability), SMILE_WEIGHTS, SMILE_BIAS))


def _logit(features: Sequence[float], weights: Sequence[float], bias: float) -> float:
    return sum(f * w for f, w in zip(features, weights, strict=True)) + bias


def _logistic(value: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(min(value, 60.0), -60.0)))
