"""Hand boxes from body points: where the wrist, knuckles and thumb of each hand are, when the pose model sees them.

BlazePose's hand points are the wrist and the first knuckles of pinky, index and thumb, so the fingers reach
about one wrist-to-knuckle length past the knuckles: a hand's box is the square centred at the knuckles
with a side of `HAND_SIDE_PER_PALM` palm lengths, widened to hold all four points. No hand ground truth exists in
../shared/data, so neither this geometry nor the confidence (the pose model's own visibility of the four points
times its person presence) is measured by Reko: README states it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reko.vision.ppe.pose import LEFT_HAND_POINTS, RIGHT_HAND_POINTS, BodyPoints

HAND_SIDE_PER_PALM = 2.2
MIN_HAND_SIDE_PX = 4.0


@dataclass(frozen=True)
class Hands:
    """The left and right hands (the person's own) of n persons; a hand not seen has confidence 0.

    Attributes:
        left, right: (n, 4) float32 xyxy pixels.
        left_confidence, right_confidence: (n,) float32 in [0, 1].
    """

    left: np.ndarray
    right: np.ndarray
    left_confidence: np.ndarray
    right_confidence: np.ndarray


def find_hands(body: BodyPoints) -> Hands:
    """Both hands of every person in `body`."""
    left, left_confidence = _hand(body, LEFT_HAND_POINTS)
    right, right_confidence = _hand(body, RIGHT_HAND_POINTS)
    return Hands(left, right, left_confidence, right_confidence)


def _hand(body: BodyPoints, indices: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    points = body.points[:, list(indices)]  # (n, 4, 2): wrist, pinky, index, thumb
    wrist, knuckles = points[:, 0], points[:, 1:3].mean(axis=1)
    palm = np.linalg.norm(knuckles - wrist, axis=1)
    half = np.maximum(HAND_SIDE_PER_PALM * palm, MIN_HAND_SIDE_PX) / 2
    boxes = np.concatenate([knuckles - half[:, None], knuckles + half[:, None]], axis=1)
    boxes[:, :2] = np.minimum(boxes[:, :2], points.min(axis=1))
    boxes[:, 2:] = np.maximum(boxes[:, 2:], points.max(axis=1))
    confidence = body.visibility[:, list(indices)].mean(axis=1) * body.presence
    return boxes.astype(np.float32), confidence.astype(np.float32)
