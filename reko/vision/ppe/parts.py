"""Locating a person's FACE and HEAD from the person detector's box and the face detector's faces.

No registry package ships a head detector, so a head is placed from what was seen: from the person's face
when the face detector found one inside the person's box, else from the pose model's head points
(`pose.head_references`). The placement ratios are fitted by `scripts/train_ppe_covers.py` on the hard-hat
training half (median of the ground-truth head box against the face box / pose reference it holds) and stored in
the `ppe-covers` model file with the rest of what that script fits. (Placing the head at the top of the person's
box instead matched a real head 9 times in 23 on that half: too unsure to report.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# A face belongs to a person when its centre lies in the top part of the person's box (the rest is body).
FACE_CENTRE_MAX_DEPTH_FRACTION = 0.6
HEAD_FROM_FACE = 0
HEAD_FROM_POSE = 1
HEAD_FROM_DETECTOR = 2  # the head detector's own box (`heads.py`)


@dataclass(frozen=True)
class Placement:
    """A head box from a reference box (xyxy, width w, height h, centre x cx, top y0):
    centre x = cx + dx * w, width = width * w, top = y0 + top * w, height = height * w."""

    dx: float
    width: float
    top: float
    height: float

    def place(self, boxes: np.ndarray) -> np.ndarray:
        """(n, 4) float32 xyxy head boxes from (n, 4) xyxy reference boxes, pixels."""
        widths = boxes[:, 2] - boxes[:, 0]
        centres = (boxes[:, 0] + boxes[:, 2]) / 2 + self.dx * widths
        tops = boxes[:, 1] + self.top * widths
        half = self.width * widths / 2
        return np.stack([centres - half, tops, centres + half, tops + self.height * widths], axis=1).astype(np.float32)

    def to_array(self) -> np.ndarray:
        return np.array([self.dx, self.width, self.top, self.height], np.float32)

    @classmethod
    def from_array(cls, values: np.ndarray) -> Placement:
        dx, width, top, height = (float(v) for v in values)
        return cls(dx, width, top, height)


def fit_placement(references: np.ndarray, heads: np.ndarray) -> Placement:
    """The median placement taking each (n, 4) xyxy reference box to its (n, 4) xyxy ground-truth head box."""
    widths = references[:, 2] - references[:, 0]
    head_centres = (heads[:, 0] + heads[:, 2]) / 2
    reference_centres = (references[:, 0] + references[:, 2]) / 2
    return Placement(
        dx=float(np.median((head_centres - reference_centres) / widths)),
        width=float(np.median((heads[:, 2] - heads[:, 0]) / widths)),
        top=float(np.median((heads[:, 1] - references[:, 1]) / widths)),
        height=float(np.median((heads[:, 3] - heads[:, 1]) / widths)),
    )


def assign_faces(persons: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Which face (index, or -1) is each person's: its centre in the top of the box, each face used once.

    Args:
        persons: (n, 4) xyxy person boxes, in the order they claim faces (largest first).
        faces: (m, 4) xyxy face boxes.

    Returns:
        (n,) int64 face index per person; a person claims the largest free face in its head region.
    """
    owner = np.full(len(persons), -1, np.int64)
    if not len(faces):
        return owner
    centres = (faces[:, :2] + faces[:, 2:]) / 2
    sides = faces[:, 2] - faces[:, 0]
    free = np.ones(len(faces), bool)
    for index, (x1, y1, x2, y2) in enumerate(persons):
        depth = y1 + FACE_CENTRE_MAX_DEPTH_FRACTION * (y2 - y1)
        inside = free & (centres[:, 0] >= x1) & (centres[:, 0] <= x2) & (centres[:, 1] >= y1) & (centres[:, 1] <= depth)
        inside &= sides <= (x2 - x1)
        if inside.any():
            chosen = int(np.flatnonzero(inside)[np.argmax(sides[inside])])
            owner[index] = chosen
            free[chosen] = False
    return owner


def clip_boxes(boxes: np.ndarray, width: int, height: int) -> np.ndarray:
    """Boxes cut to the image (a head placed above the top edge is only its visible part)."""
    return np.clip(boxes, 0, np.array([width, height, width, height], np.float32)).astype(np.float32)
