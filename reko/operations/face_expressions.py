"""Smile, eyes open, mouth open: calibrated readings of mesh geometry and the expression model.

These are not separate models: each turns measured numbers (lid gap over eye width, lip gap over mouth
width, the expression model's HAPPY probability and the mouth corners' raise) into a probability with a
logistic curve. The curves' centres and widths are set on hand-labelled faces; bench/face_expressions.py
measures their accuracy.
"""

from __future__ import annotations

import math

from reko.vision.head_pose import FaceGeometry

# Eye aspect ratio: ~0.25-0.35 open, below ~0.15 closed.
EYES_OPEN_CENTRE = 0.17
EYES_OPEN_WIDTH = 0.025
# Inner-lip gap over mouth width: 0 closed, above ~0.1 visibly open.
MOUTH_OPEN_CENTRE = 0.08
MOUTH_OPEN_WIDTH = 0.025
# Smile: the expression model's HAPPY probability, nudged by how far the mouth corners rise.
SMILE_HAPPY_WEIGHT = 6.0
SMILE_CORNER_WEIGHT = 20.0
SMILE_BIAS = -3.0


def _logistic(value: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(min(value, 60.0), -60.0)))


def eyes_open_probability(geometry: FaceGeometry) -> float:
    """Both eyes judged together, from the more open eye (one eye hidden by a turned head stays 'open')."""
    openness = max(geometry.eye_openness_image_left, geometry.eye_openness_image_right)
    return _logistic((openness - EYES_OPEN_CENTRE) / EYES_OPEN_WIDTH)


def mouth_open_probability(geometry: FaceGeometry) -> float:
    return _logistic((geometry.mouth_openness - MOUTH_OPEN_CENTRE) / MOUTH_OPEN_WIDTH)


def smile_probability(geometry: FaceGeometry, happy_probability: float) -> float:
    score = SMILE_HAPPY_WEIGHT * happy_probability + SMILE_CORNER_WEIGHT * geometry.smile_corner_raise
    return _logistic(score + SMILE_BIAS)
