"""Body points of each person: MediaPipe's BlazePose GHUM landmark model ("full", 33 points) run on a person crop.

The wheel's own pose detector is not used: persons come from the COCO detector DetectLabels runs, and each is
fed to the landmark model as a square crop around its box, enlarged as MediaPipe enlarges its own person
regions (1.25x) and not rotated (people in safety photos stand upright). Each point carries a visibility
(the model's own P(the point is visible, not occluded or out of frame), a sigmoid of its logit).
"""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass

import cv2
import numpy as np

from reko.vision.runtime import SMALL_MODEL_THREADS, Runtime

POSE_INPUT_PX = 256
POSE_POINTS = 33
PERSON_CROP_SCALE = 1.25
# BlazePose point indices, in the person's own terms (LEFT = the person's left).
LEFT_WRIST, RIGHT_WRIST = 15, 16
HEAD_POINTS = tuple(range(11))  # nose, eyes, ears, mouth corners
LEFT_SHOULDER, RIGHT_SHOULDER = 11, 12
MIN_HEAD_REFERENCE_PX = 4.0
LEFT_HAND_POINTS = (15, 17, 19, 21)  # wrist, pinky, index, thumb
RIGHT_HAND_POINTS = (16, 18, 20, 22)


@dataclass(frozen=True)
class BodyPoints:
    """Pose points of n persons.

    Attributes:
        points: (n, 33, 2) float32 pixels of the image.
        visibility: (n, 33) float32 in [0, 1], the model's own.
        presence: (n,) float32 in [0, 1], the model's P(a person is in the crop).
    """

    points: np.ndarray
    visibility: np.ndarray
    presence: np.ndarray

    def __post_init__(self) -> None:
        n = len(self.points)
        if self.points.shape != (n, POSE_POINTS, 2) or self.visibility.shape != (n, POSE_POINTS) or \
                self.presence.shape != (n,):
            raise ValueError(f"inconsistent pose arrays: {self.points.shape}, {self.visibility.shape}")


class BodyPose:
    """33 body points per person box (the `pose-landmarks` model, one single-threaded session; each person is
    one task on the shared pool, so several persons and the caller's own work overlap)."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._session = runtime.session("pose-landmarks", SMALL_MODEL_THREADS)
        self._input_name = self._session.get_inputs()[0].name

    def start(self, rgb: np.ndarray, persons: np.ndarray) -> PendingPose:
        """Submit every (n, 4) xyxy person box of the (H, W, 3) uint8 image; `result()` collects the points."""
        runs, transforms = [], []
        for box in persons:
            crop, back = person_crop(rgb, box)
            runs.append(self.runtime.submit(self._session.run, None, {self._input_name: crop[None]}))
            transforms.append(back)
        return PendingPose(runs, transforms)

    def find_points(self, rgb: np.ndarray, persons: np.ndarray) -> BodyPoints:
        return self.start(rgb, persons).result()


@dataclass(frozen=True)
class PendingPose:
    """Pose runs in flight on the pool, one per person, with the maps from their crops back to the image."""

    runs: list[Future[list[np.ndarray]]]
    transforms: list[np.ndarray]

    def result(self) -> BodyPoints:
        count = len(self.runs)
        points = np.zeros((count, POSE_POINTS, 2), np.float32)
        visibility = np.zeros((count, POSE_POINTS), np.float32)
        presence = np.zeros(count, np.float32)
        for i, (run, back) in enumerate(zip(self.runs, self.transforms, strict=True)):
            outputs = run.result()
            raw = outputs[0].reshape(-1, 5)[:POSE_POINTS]
            points[i] = raw[:, :2] @ back[:, :2].T + back[:, 2]
            visibility[i] = 1.0 / (1.0 + np.exp(-raw[:, 3]))
            presence[i] = float(outputs[1].ravel()[0])
        return BodyPoints(points, visibility, presence)


def person_crop(rgb: np.ndarray, box: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(256, 256, 3) float32 crop in [0, 1] of the square around a person, and the (2, 3) affine map from
    crop pixels back to image pixels."""
    x1, y1, x2, y2 = (float(v) for v in box)
    side = PERSON_CROP_SCALE * max(x2 - x1, y2 - y1, 1.0)
    left, top = (x1 + x2 - side) / 2, (y1 + y2 - side) / 2
    scale = POSE_INPUT_PX / side
    forward = np.array([[scale, 0, -left * scale], [0, scale, -top * scale]], np.float32)
    crop = cv2.warpAffine(rgb, forward, (POSE_INPUT_PX, POSE_INPUT_PX), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0))
    back = np.array([[1 / scale, 0, left], [0, 1 / scale, top]], np.float32)
    return crop.astype(np.float32) / 255.0, back


def head_references(body: BodyPoints) -> tuple[np.ndarray, np.ndarray]:
    """Where the pose puts each head: a square centred on the visibility-weighted head points, one shoulder
    width on a side (`parts.Placement` turns it into a head box), and a score, the head points' mean
    visibility times the person presence (the curve that makes it a probability is fitted on data).

    Returns:
        (n, 4) float32 xyxy reference boxes and (n,) float32 scores in [0, 1].
    """
    head = list(HEAD_POINTS)
    weights = body.visibility[:, head] + 1e-6
    centres = (body.points[:, head] * weights[:, :, None]).sum(axis=1) / weights.sum(axis=1)[:, None]
    shoulders = np.linalg.norm(body.points[:, LEFT_SHOULDER] - body.points[:, RIGHT_SHOULDER], axis=1)
    half = np.maximum(shoulders, MIN_HEAD_REFERENCE_PX)[:, None] / 2
    boxes = np.concatenate([centres - half, centres + half], axis=1).astype(np.float32)
    return boxes, (body.visibility[:, head].mean(axis=1) * body.presence).astype(np.float32)
