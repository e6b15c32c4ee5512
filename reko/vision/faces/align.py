"""A face warped upright onto a fixed canvas from its 5 keypoints, so regions sit at known places.

The wear estimators and their training script read eye, nose-bridge, lip and chin bands at fixed
coordinates of this canvas; only the 5 detector keypoints are needed, no landmark mesh.
"""

from __future__ import annotations

import cv2
import numpy as np

CANVAS_PX = 96
# Where the 5 keypoints land on a CANVAS_PX square (ArcFace's 112 px template, scaled by 0.84 and
# moved up-left so the forehead above the brows and the chin below the mouth both stay on the canvas).
_TEMPLATE_SCALE = 0.84
# ArcFace / InsightFace's 112 px template, which SFace was trained with (`embedder`).
ARCFACE_TEMPLATE_112 = np.array(
    [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655], [70.7299, 92.2041]],
    np.float32,
)
TEMPLATE_PX = (ARCFACE_TEMPLATE_112 - [56.0, 51.6]) * _TEMPLATE_SCALE + [CANVAS_PX / 2, 30.0]


def similarity_to_canvas(keypoints: np.ndarray, canvas_px: int = CANVAS_PX) -> np.ndarray:
    """The 2x3 similarity transform (rotation, uniform scale, shift) taking 5 keypoints onto the template.

    Args:
        keypoints: (5, 2) pixels: image-left eye, image-right eye, nose, left and right mouth corners.
        canvas_px: side of the output canvas; the template scales with it.

    Returns:
        (2, 3) float32 matrix for `cv2.warpAffine`.
    """
    return similarity_transform(keypoints, TEMPLATE_PX * (canvas_px / CANVAS_PX), canvas_px)


def similarity_transform(keypoints: np.ndarray, template_px: np.ndarray, canvas_px: int) -> np.ndarray:
    """The 2x3 similarity transform taking 5 keypoints onto `template_px`, points of a `canvas_px` square.

    Returns:
        (2, 3) float32 matrix for `cv2.warpAffine`; degenerate points (all equal) are only moved to the centre.
    """
    matrix, _ = cv2.estimateAffinePartial2D(
        keypoints.astype(np.float32), template_px.astype(np.float32), method=cv2.LMEDS
    )
    if matrix is None:
        centre = keypoints.mean(axis=0)
        matrix = np.array([[1.0, 0.0, canvas_px / 2 - centre[0]], [0.0, 1.0, canvas_px / 2 - centre[1]]])
    return matrix.astype(np.float32)


def align_face(rgb: np.ndarray, keypoints: np.ndarray, canvas_px: int = CANVAS_PX) -> np.ndarray:
    """The face warped upright onto a `canvas_px` square (RGB uint8), edges replicated past the image.

    Large faces are first shrunk with area averaging: a bilinear warp straight from, say, 400 px to 96 px
    would alias, and the texture features downstream must not depend on the face's size in the photo.
    """
    matrix = similarity_to_canvas(keypoints, canvas_px)
    scale = float(np.hypot(matrix[0, 0], matrix[0, 1]))
    if scale < 0.5:
        rgb, keypoints = _shrunk_around(rgb, keypoints, scale, canvas_px)
        matrix = similarity_to_canvas(keypoints, canvas_px)
    return cv2.warpAffine(
        rgb, matrix, (canvas_px, canvas_px), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )


def _shrunk_around(
    rgb: np.ndarray, keypoints: np.ndarray, scale: float, canvas_px: int
) -> tuple[np.ndarray, np.ndarray]:
    """A crop around the face, area-shrunk so the warp that follows scales by about 1."""
    centre = keypoints.mean(axis=0)
    half_px = 0.75 * canvas_px / scale  # half the canvas seen from the image, with room for a rotation
    height, width = rgb.shape[:2]
    x0, y0 = max(int(centre[0] - half_px), 0), max(int(centre[1] - half_px), 0)
    x1, y1 = min(int(centre[0] + half_px) + 1, width), min(int(centre[1] + half_px) + 1, height)
    crop = rgb[y0:y1, x0:x1]
    size = (max(round(crop.shape[1] * scale), 1), max(round(crop.shape[0] * scale), 1))
    small = cv2.resize(crop, size, interpolation=cv2.INTER_AREA)
    factors = np.array([size[0] / crop.shape[1], size[1] / crop.shape[0]], np.float32)
    return small, (keypoints - [x0, y0]) * factors
