"""Brightness and sharpness of each face, Rekognition's `Quality`, measured on the face's own pixels.

Brightness: mean luma (BT.601 Y, 0-255) of the face box shrunk to its central 80 %, so hair and
background weigh little, scaled linearly to 0-100 (a black face 0, a white one 100).

Sharpness: variance of the Laplacian of the face box's luma, after the box is resized to
FOCUS_SIDE_PX square so the measure does not depend on the face's size in the photo, mapped to 0-100
by v / (v + SHARPNESS_HALF_VARIANCE): 50 at the half variance, rising toward 100 for crisp faces and
falling toward 0 for blurred ones. The half variance is the median (4,930, rounded) over the 473 LFW faces of
`bench/labels/face_wear.csv`, so a typical press photo scores about 50.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

FOCUS_SIDE_PX = 64
SHARPNESS_HALF_VARIANCE = 5000.0  # Laplacian variance (luma 0-255) that scores 50
_CENTRAL_FRACTION = 0.8


@dataclass(frozen=True)
class FaceQuality:
    """Brightness and sharpness of one face, each in [0, 100] (higher is brighter / sharper)."""

    brightness: float
    sharpness: float

    def __post_init__(self) -> None:
        for name in ("brightness", "sharpness"):
            value = getattr(self, name)
            if not 0.0 <= value <= 100.0:
                raise ValueError(f"{name} {value} is outside [0, 100]")


def assess_quality(rgb: np.ndarray, boxes: np.ndarray) -> list[FaceQuality]:
    """Brightness and sharpness of each face box.

    Args:
        rgb: (h, w, 3) uint8 image.
        boxes: (n, 4) xyxy pixels; clipped to the image.

    Returns:
        One `FaceQuality` per box, in input order.
    """
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"expected an (h, w, 3) uint8 image, got {rgb.shape} {rgb.dtype}")
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        raise ValueError(f"expected (n, 4) boxes, got {boxes.shape}")
    return [_quality(rgb, box) for box in boxes]


def _quality(rgb: np.ndarray, box: np.ndarray) -> FaceQuality:
    # Only the box is turned grey (a per-pixel conversion, so the numbers are the whole image's): converting the
    # whole 512 px photo cost 0.8 ms of a 15 ms DetectFaces.
    x0, y0, x1, y1 = _bounds(rgb.shape[:2], box, 1.0)
    if x1 <= x0 or y1 <= y0:
        return FaceQuality(brightness=0.0, sharpness=0.0)
    face = cv2.cvtColor(np.ascontiguousarray(rgb[y0:y1, x0:x1]), cv2.COLOR_RGB2GRAY)
    cx0, cy0, cx1, cy1 = _bounds(rgb.shape[:2], box, _CENTRAL_FRACTION)
    central = face[cy0 - y0 : cy1 - y0, cx0 - x0 : cx1 - x0] if cx1 > cx0 and cy1 > cy0 else face[0:0, 0:0]
    if face.size == 0 or central.size == 0:
        return FaceQuality(brightness=0.0, sharpness=0.0)
    brightness = 100.0 * float(central.mean()) / 255.0
    square = cv2.resize(face, (FOCUS_SIDE_PX, FOCUS_SIDE_PX), interpolation=cv2.INTER_AREA)
    variance = float(cv2.Laplacian(square.astype(np.float32), cv2.CV_32F, ksize=3).var())
    sharpness = 100.0 * variance / (variance + SHARPNESS_HALF_VARIANCE)
    return FaceQuality(brightness=min(max(brightness, 0.0), 100.0), sharpness=min(max(sharpness, 0.0), 100.0))


def _bounds(shape: tuple[int, ...], box: np.ndarray, fraction: float) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) pixels of the box scaled by `fraction` about its centre, clipped to an image of `shape`."""
    centre_x, centre_y = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    half_w, half_h = (box[2] - box[0]) * fraction / 2, (box[3] - box[1]) * fraction / 2
    height, width = shape
    x0, x1 = int(max(centre_x - half_w, 0)), int(min(centre_x + half_w, width))
    y0, y1 = int(max(centre_y - half_h, 0)), int(min(centre_y + half_h, height))
    return x0, y0, x1, y1
