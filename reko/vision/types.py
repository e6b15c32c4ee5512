"""Result types shared by the vision modules: NumPy arrays in pixel units, validated on creation."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class FaceBoxes:
    """Faces found in one image.

    Attributes:
        boxes: (n, 4) float32 xyxy in pixels of the image that was searched.
        scores: (n,) float32 detector confidence in [0, 1].
        keypoints: (n, 5, 2) float32 pixels, in image terms: eye on the image's left, eye on the
            image's right, nose tip, mouth corner on the image's left, mouth corner on the image's right.
    """

    boxes: np.ndarray
    scores: np.ndarray
    keypoints: np.ndarray

    def __post_init__(self) -> None:
        n = len(self.boxes)
        if self.boxes.shape != (n, 4) or self.scores.shape != (n,) or self.keypoints.shape != (n, 5, 2):
            raise ValueError(
                f"inconsistent face arrays: boxes {self.boxes.shape}, scores {self.scores.shape}, "
                f"keypoints {self.keypoints.shape}"
            )

    def __len__(self) -> int:
        return len(self.boxes)

    def take(self, indices: np.ndarray) -> FaceBoxes:
        """The faces at `indices`, in that order."""
        return FaceBoxes(boxes=self.boxes[indices], scores=self.scores[indices], keypoints=self.keypoints[indices])

    @classmethod
    def empty(cls) -> FaceBoxes:
        return cls(
            boxes=np.zeros((0, 4), np.float32),
            scores=np.zeros((0,), np.float32),
            keypoints=np.zeros((0, 5, 2), np.float32),
        )
